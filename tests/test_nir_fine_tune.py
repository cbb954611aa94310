"""Fine-tuning imported networks online: a convolutional NIR graph (untrained for the task, as one from another
framework would be) imported to netx, trained on digits with SLTT through the CLI and with FPTT through the Python
API, exported, and run in Lava spike for spike (and readout value for value) as the fine-tuned torch model."""
from __future__ import annotations

import json
import pathlib

import nir
import numpy as np
import pytest
import torch

from lava_fptt.cli import main
from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.netx_file import INITIAL_FILE
from lava_fptt.online import wrap
from netx_export import export_network
from netx_export.inference import run_in_lava
from netx_export.nir import import_nir
from netx_export.nir.trainable import fine_tune, slayer_network

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "nir"
ENCODING = Encoding("rate", steps=8, layout="image")


def cuba_lif(shape: tuple[int, ...], threshold: float = 1.0) -> nir.CubaLIF:
    f = np.ones(shape)
    return nir.CubaLIF(tau_syn=f * 2e-3, tau_mem=f * 4e-3, r=f, v_leak=0 * f, v_threshold=f * threshold, v_reset=0 * f)


def conv_graph(readout: bool, seed: int = 0) -> nir.NIRGraph:
    """1x8x8 images: Conv2d(8, 3x3) -> CubaLIF -> SumPool2d(2) -> Conv2d(16, 3x3) -> CubaLIF -> Flatten -> Affine(10)
    -> CubaLIF (threshold 0.3) or a CubaLI readout; random weights (dt = 1e-3: tau_syn 2 steps, tau_mem 4)."""
    rng = np.random.default_rng(seed)

    def conv(out: int, inp: int, size: int, mean: float, std: float) -> nir.Conv2d:
        return nir.Conv2d(input_shape=np.array([size, size]), weight=rng.normal(mean, std, (out, inp, 3, 3)),
                          stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(out))

    last = (nir.CubaLI(tau_syn=np.full(10, 2e-3), tau_mem=np.full(10, 8e-3), r=np.ones(10), v_leak=np.zeros(10))
            if readout else cuba_lif((10,), threshold=0.3))
    nodes = {"input": nir.Input(input_type={"input": np.array([1, 8, 8])}), "conv1": conv(8, 1, 8, 0.5, 1.0),
             "lif1": cuba_lif((8, 8, 8)), "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                                              padding=np.array([0, 0])),
             "conv2": conv(16, 8, 4, 0.2, 0.6), "lif2": cuba_lif((16, 4, 4)),
             "flat": nir.Flatten(input_type={"input": np.array([16, 4, 4])}, start_dim=0),
             "fc": nir.Affine(weight=rng.normal(0.0, 0.3 if readout else 0.15, (10, 256)), bias=np.zeros(10)),
             "out": last, "output": nir.Output(output_type={"output": np.array([10])})}
    order = ["input", "conv1", "lif1", "pool", "conv2", "lif2", "flat", "fc", "out", "output"]
    return nir.NIRGraph(nodes=nodes, edges=list(zip(order[:-1], order[1:])))


def test_accuracy(model: torch.nn.Module) -> float:
    """Accuracy of a wrapped network on the digits test split (whole sequences, its own prediction rule)."""
    data = load_dataset("digits", "test", encoding=ENCODING)
    x = torch.from_numpy(data.spikes(np.arange(len(data))))
    return float((model.predict(model.run(x)).numpy() == data.labels).mean())


test_accuracy.__test__ = False  # a helper, not a test


@pytest.mark.slow
def test_an_imported_conv_graph_is_fine_tuned_with_sltt_on_the_cli_and_runs_in_lava_spike_for_spike(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    nir.write(str(tmp_path / "foreign.nir"), conv_graph(readout=False))
    net = tmp_path / "foreign.net"

    def cli(*args: str) -> dict:
        code = main([*args, "--json"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return json.loads(captured.out)

    layers = cli("nir", "import", str(tmp_path / "foreign.nir"), "--out", str(net), "--dt", "1e-3")["layers"]
    assert [layer["netx_type"] for layer in layers] == ["conv", "conv", "dense"]  # the pooling folded into conv2
    before = test_accuracy(wrap(slayer_network(net)))
    run = tmp_path / "run"
    common = ["train", "--init", str(net), "--encoding", "rate", "--steps", "8", "--algo", "sltt", "--lr", "0.03",
              "--train-limit", "640", "--out", str(run), "--no-progress"]
    cli(*common, "--epochs", "2")
    result = cli(*common, "--epochs", "3")  # resumes from the run's copy of the file
    metrics = json.loads((run / "metrics.json").read_text())
    assert (run / INITIAL_FILE).read_bytes() == net.read_bytes() and len(metrics) == 3
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    assert result["test_accuracy"] > before + 0.25  # measured: 0.07 before, 0.62 after 3 epochs
    exported = cli("export", str(run))["network"]
    lava = cli("run", exported, "--reference", str(run), "--samples", "24")
    assert lava["spike_match"] == 1.0 and lava["identical_samples"] == 24
    assert lava["accuracy"] == lava["reference_accuracy"]


@pytest.mark.slow
def test_an_imported_conv_graph_with_a_readout_is_fine_tuned_with_fptt_in_python_and_lava_gives_its_readout(
        tmp_path: pathlib.Path) -> None:
    net = import_nir(conv_graph(readout=True), tmp_path / "foreign.net", dt=1e-3).network
    before = test_accuracy(wrap(slayer_network(net)))
    data = load_dataset("digits", "train", encoding=ENCODING)
    model, losses = fine_tune(net, data.spikes(np.arange(640)), data.labels[:640], algo="fptt", epochs=3, lr=3e-3,
                              loss_gain=0.5)
    assert model.output_kind == "readout" and losses[-1] < losses[0]
    assert test_accuracy(model) > before + 0.25  # measured: 0.08 before, 0.56 after 3 epochs
    exported = export_network(model, tmp_path / "tuned.net")
    x = load_dataset("digits", "test", encoding=ENCODING).spikes(np.arange(16))
    reference = model.run(torch.from_numpy(x)).numpy()
    lava = run_in_lava(exported, x)
    assert lava.graded and np.abs(reference).max() > 1
    np.testing.assert_array_equal(lava.output, reference)  # every readout value of every step


def test_train_init_refuses_what_it_cannot_fine_tune_in_one_line(tmp_path: pathlib.Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    cnn = import_nir(FIXTURES / "cnn_sinabs.nir", tmp_path / "cnn.net", dt=1.0).network
    cases = [(["--init", str(tmp_path / "missing.net")], "--init"),
             (["--init", str(cnn), "--hidden", "32"], "--init describes the whole network"),
             (["--init", str(cnn)], "the network cannot take samples of shape (1, 8, 8)")]
    for args, message in cases:
        code = main(["train", *args, "--out", str(tmp_path / "run"), "--epochs", "1", "--json"])
        captured = capsys.readouterr()
        assert code == 2 and message in json.loads(captured.out)["error"]
        assert len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
