"""LTC networks end to end: model interface, training, netx export, Lava runs equal to torch.

Every Lava comparison runs samples back to back in one Lava run with the per-sample
reset of :func:`netx_export.inference.run_in_lava`, so the reset scheme and the time
alignment are under test too, not only the arithmetic.
"""
from __future__ import annotations

import json
import pathlib

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.data import Encoding
from lava_fptt.models.ltc import LTCNetwork
from lava_fptt.models.network import NetworkConfig, SpikingNetwork, predict
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import NetworkFileError, describe, export_network, load_network
from netx_export.inference import run_in_lava, spike_match


def lively(config: NetworkConfig, seed: int = 0) -> LTCNetwork:
    """An untrained LTC network with weights large enough that every layer is active."""
    torch.manual_seed(seed)
    net = SpikingNetwork(config)
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.mul_(3.0)
            layer.bias.add_(0.3)  # spontaneous spikes, also in the steps between samples
    return net


def random_spikes(n: int, channels: int, steps: int, p: float, seed: int) -> torch.Tensor:
    return (torch.rand(n, channels, steps, generator=torch.Generator().manual_seed(seed)) < p).float()


def test_an_ltc_config_builds_ltc_layers_ending_in_a_readout() -> None:
    config = NetworkConfig(sizes=(16, 12, 8, 10), model="ltc", recurrent=True)
    net = SpikingNetwork(config)
    assert isinstance(net, LTCNetwork) and isinstance(net, SpikingNetwork)
    assert [type(layer).__name__ for layer in net.layers] == ["LTCRecurrent", "LTCRecurrent", "LTCReadout"]
    assert [type(layer).__name__ for layer in SpikingNetwork(NetworkConfig((16, 12, 10), "ltc")).layers] == \
        ["LTCDense", "LTCReadout"]
    assert NetworkConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert type(SpikingNetwork(NetworkConfig(sizes=(16, 8, 10)))) is SpikingNetwork
    with pytest.raises(ValueError, match=r"recurrent=True needs a hidden layer .* sizes \(16, 10\) has none"):
        NetworkConfig(sizes=(16, 10), model="ltc", recurrent=True)


def test_chunks_of_any_length_give_the_whole_sequence_output() -> None:
    net = lively(NetworkConfig(sizes=(16, 12, 5), model="ltc", recurrent=True))
    x = random_spikes(3, 16, 20, 0.3, seed=1)
    whole = net.run(x)
    for chunk in (1, 7):
        net.reset_state()
        pieces = torch.cat([net(x[..., t:t + chunk]) for t in range(0, 20, chunk)], dim=-1)
        assert torch.equal(pieces, whole)
    assert whole.abs().sum() > 0 and not torch.equal(whole, whole.round())  # graded, not spikes


def test_one_step_chunks_carry_gradient_to_every_parameter() -> None:
    net = lively(NetworkConfig(sizes=(16, 12, 5), model="ltc", recurrent=True))
    x = random_spikes(4, 16, 6, 0.4, seed=2)
    net.reset_state()
    for t in range(6):
        out = net(x[..., t:t + 1])
        torch.nn.functional.cross_entropy(8 * out.mean(-1), torch.arange(4) % 5).backward()
        net.detach_state()
    grads = {name: float(p.grad.abs().sum()) for name, p in net.named_parameters()}
    assert all(g > 0 for g in grads.values()), grads


def test_prediction_rules_spike_counts_and_the_last_readout_value() -> None:
    """Readout values are 24-bit integers / 4096; ``predict`` compares them exactly (float64), so
    it picks what Lava's integers give, also between values 1 LSB apart."""
    rng = np.random.default_rng(0)
    ints = rng.integers(-(2**23 - 1), 2**23 - 1, size=(200, 10, 64))
    ints[:100, :, -1] = ints[:100, :1, -1]  # ten equal last values ...
    winners = rng.integers(0, 10, size=100)
    ints[np.arange(100), winners, -1] = np.minimum(ints[np.arange(100), winners, -1] + 1, 2**23 - 1)  # ... one ahead
    u = torch.from_numpy(ints / 4096.0).to(torch.float32)
    assert torch.equal(u.double() * 4096, torch.from_numpy(ints).double())  # float32 holds them exactly
    np.testing.assert_array_equal(predict(u, "readout").numpy(), ints[..., -1].argmax(-1))
    net = SpikingNetwork(NetworkConfig(sizes=(16, 4, 10), model="ltc"))
    assert net.output_kind == "readout" and torch.equal(net.predict(u), predict(u, "readout"))
    spikes = torch.tensor([[[1, 0, 1], [1, 1, 1]], [[1, 1, 0], [0, 0, 1]]], dtype=torch.bool)
    assert predict(spikes).tolist() == [1, 0] and predict(spikes, "spikes").tolist() == [1, 0]
    with pytest.raises(ValueError, match="output kind"):
        predict(spikes, "rates")


def test_the_readout_loss_is_the_cross_entropy_of_the_chunks_last_readout() -> None:
    from lava_fptt.training import LastStepCrossEntropy, RateCrossEntropy, sequence_loss

    out = torch.randn(4, 10, 6)
    target = torch.tensor([1, 2, 3, 4])
    loss = sequence_loss("readout", 2.0)
    assert isinstance(loss, LastStepCrossEntropy) and isinstance(sequence_loss("spikes"), RateCrossEntropy)
    expected = torch.nn.functional.cross_entropy(2.0 * out[..., -1], target)
    assert torch.allclose(loss(out, target, 0, 6), expected)
    late = sequence_loss("readout", 2.0, late_weighting=True)
    assert torch.allclose(late(out[..., :3], target, 0, 6),
                          0.5 * torch.nn.functional.cross_entropy(2.0 * out[..., 2], target))


def test_export_writes_the_documented_layers(tmp_path: pathlib.Path) -> None:
    net = lively(NetworkConfig(sizes=(16, 12, 8, 5), model="ltc", recurrent=True))
    path = export_network(net, tmp_path / "ltc.net", {"dataset": "digits"})
    with h5py.File(path, "r") as f:
        first, readout = f["layer/0"], f["layer/2"]
        assert first["type"][0] == b"dense_rec" and readout["type"][0] == b"dense"
        assert first["neuron/type"][0] == b"LTC" and readout["neuron/type"][0] == b"LTC_READOUT"
        w, w_rec = net.layers[0].integer_weights()
        np.testing.assert_array_equal(first["weight"][()], w)
        np.testing.assert_array_equal(first["weight_rec"][()], w_rec)
        assert int(first["weightExp"][()]) == 0 and int(readout["neuron/messageBits"][()]) == 24
        for name, value in net.layers[2].integer_params()._asdict().items():
            np.testing.assert_array_equal(readout[f"neuron/{name}"][()], value)
        assert sorted(readout["neuron"]) == sorted(
            ["type", "gradedSpike", "messageBits", "mem_gate_i", "mem_gate_u", "mem_gate_bias", "bias"])
    summary = describe(path)
    assert summary.layer_types == ("dense_rec", "dense_rec", "dense")
    assert summary.neuron_types == ("LTC", "LTC", "LTC_READOUT") and summary.graded_output
    assert (summary.num_inputs, summary.num_outputs) == (16, 5)


@pytest.mark.parametrize("reset_frac", [1.0, 0.0])
def test_lava_fixed_point_reproduces_readout_and_hidden_spikes_sample_after_sample(
        tmp_path: pathlib.Path, reset_frac: float) -> None:
    net = lively(NetworkConfig(sizes=(16, 12, 8, 5), model="ltc", recurrent=True, reset_frac=reset_frac), seed=3)
    assert int(net.layers[0].integer_params().reset_frac[0]) == round(4096 * reset_frac)
    path = export_network(net, tmp_path / "ltc.net")
    x = random_spikes(5, 16, 24, 0.3, seed=4)
    readout = net.run(x).numpy().astype(np.float64)
    hidden = [h.numpy() for h in net.hidden_spikes(x)]
    lava = run_in_lava(path, x.numpy(), "fixed")
    assert lava.graded and lava.output.shape == (5, 5, 24)
    np.testing.assert_array_equal(lava.output, readout)
    assert len(lava.hidden) == 2
    for got, want in zip(lava.hidden, hidden):
        assert want.sum() > 20  # not two silent layers
        np.testing.assert_array_equal(got, want)
    # the reset matters: each sample alone from rest gives what the back-to-back run gave
    np.testing.assert_array_equal(net.run(x[3:4]).numpy(), readout[3:4])


def test_lava_float_models_follow_the_float_form_closely(tmp_path: pathlib.Path) -> None:
    config = NetworkConfig(sizes=(16, 12, 5), model="ltc", recurrent=True)
    net = lively(config, seed=5)
    path = export_network(net, tmp_path / "ltc.net")
    float_net = SpikingNetwork(NetworkConfig(sizes=(16, 12, 5), model="ltc", recurrent=True, quantized=False))
    float_net.load_state_dict(net.state_dict())
    with torch.no_grad():  # the float model with exactly the parameters the integers stand for
        for fl, q in zip(float_net.layers, net.layers):
            w, w_rec = q.integer_weights()
            fl.weight.copy_(torch.from_numpy(w / 64.0))
            if w_rec is not None:
                fl.rec_weight.copy_(torch.from_numpy(w_rec / 64.0))
            for name, value in q.integer_params()._asdict().items():
                from lava_fptt.neurons.ltc import PARAM_SCALES

                getattr(fl, name).copy_(torch.from_numpy(value / PARAM_SCALES[name]))
    x = random_spikes(2, 16, 16, 0.3, seed=6)
    want = float_net.run(x.double()).numpy()
    lava = run_in_lava(path, x.numpy(), "float")
    assert np.abs(lava.output - want).max() < 1e-9
    assert spike_match(lava.hidden[0], float_net.hidden_spikes(x.double())[0].numpy()) == 1.0


def test_a_file_mixing_a_cuba_layer_and_ltc_layers_runs_as_torch_does(tmp_path: pathlib.Path) -> None:
    """slayer CUBA layer (written by slayer itself) -> LTC recurrent layer -> LTC readout."""
    from lava.lib.dl import slayer

    torch.manual_seed(7)
    cuba = slayer.block.cuba.Dense({"threshold": 1.0, "current_decay": 0.25, "voltage_decay": 0.03,
                                    "requires_grad": False}, 16, 12, weight_scale=2, delay_shift=False)
    ltc = lively(NetworkConfig(sizes=(12, 10, 4), model="ltc", recurrent=True), seed=8)
    x = random_spikes(3, 16, 20, 0.4, seed=9)
    with torch.no_grad():
        cuba_out = torch.cat([cuba(x[i:i + 1]) for i in range(3)])  # each sample from rest
        readout = ltc.run(cuba_out).numpy().astype(np.float64)
        hidden = [cuba_out.numpy()] + [h.numpy() for h in ltc.hidden_spikes(cuba_out)]
    path = tmp_path / "mixed.net"
    with h5py.File(path, "w") as f:
        layers = f.create_group("layer")
        cuba.export_hdf5(layers.create_group("0"))
        for i, layer in enumerate(ltc.layers):
            layer.export_hdf5(layers.create_group(str(i + 1)))
    assert describe(path).neuron_types == ("CUBA", "LTC", "LTC_READOUT")
    lava = run_in_lava(path, x.numpy(), "fixed")
    assert hidden[0].sum() > 20 and hidden[1].sum() > 20
    for got, want in zip(lava.hidden, hidden):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(lava.output, readout)


def test_bad_ltc_layers_are_refused_naming_file_layer_and_value(tmp_path: pathlib.Path) -> None:
    net = lively(NetworkConfig(sizes=(16, 6, 3), model="ltc"))
    path = export_network(net, tmp_path / "bad.net")
    with h5py.File(path, "a") as f:
        del f["layer/0/neuron/mem_gate_u"]
        f["layer/0/neuron/mem_gate_u"] = np.full(6, 5000, dtype=np.int32)
    with pytest.raises(NetworkFileError, match=r"bad.net: layer 0: .*'mem_gate_u'.*12-bit signed"):
        load_network(path)
    with h5py.File(path, "a") as f:
        f["layer/0/neuron/mem_gate_u"][...] = 0
        del f["layer/1/neuron/bias"]
    with pytest.raises(NetworkFileError, match=r"bad.net: layer 1: LTC layer lacks neuron/bias"):
        load_network(path)


@pytest.fixture(scope="module")
def trained_ltc_run(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A small recurrent LTC network trained for one epoch on part of digits, one pixel per step."""
    run_dir = tmp_path_factory.mktemp("ltc_run")
    config = TrainConfig(encoding=Encoding("pixel"), network=NetworkConfig(sizes=(16, 16, 10), model="ltc",
                                                                           recurrent=True),
                         epochs=1, train_limit=96, lr=1e-2)
    train(config, run_dir, progress=False)
    return run_dir


def test_training_an_ltc_network_writes_a_run_that_loads_and_resumes(trained_ltc_run: pathlib.Path) -> None:
    config, model, state = load_run(trained_ltc_run)
    assert isinstance(model, LTCNetwork) and config.network.model == "ltc" and state["epoch"] == 1
    metrics = json.loads((trained_ltc_run / "metrics.json").read_text())
    assert 0.0 <= metrics[0]["test_accuracy"] <= 1.0 and np.isfinite(metrics[0]["train_loss"])


def test_cli_run_reports_exact_agreement_for_an_ltc_run(trained_ltc_run: pathlib.Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from lava_fptt.cli import main

    assert main(["export", str(trained_ltc_run), "--json"]) == 0
    network = json.loads(capsys.readouterr().out)["network"]
    assert main(["run", network, "--dataset", "digits", "--samples", "12", "--reference", str(trained_ltc_run),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["spike_match"] == 1.0 and result["readout_match"] == 1.0
    assert result["readout_max_abs_diff"] == 0.0 and result["identical_samples"] == 12
    assert result["accuracy"] == result["reference_accuracy"]


@pytest.mark.parametrize("algo", ["bptt", "tbptt", "sltt", "sltt-k", "fptt"])
def test_every_training_method_trains_an_ltc_network(tmp_path: pathlib.Path, algo: str) -> None:
    from lava_fptt.training import METHODS

    if algo not in METHODS:
        pytest.skip(f"method {algo} not in this tree")
    torch.manual_seed(0)
    config = TrainConfig(encoding=Encoding("pixel"), network=NetworkConfig(sizes=(16, 8, 10), model="ltc",
                                                                           recurrent=True),
                         algo=algo, epochs=1, train_limit=32, batch_size=16, lr=1e-3)
    torch.manual_seed(config.seed)
    before = SpikingNetwork(config.network).state_dict()
    result = train(config, tmp_path / algo, progress=False)
    _, model, _ = load_run(tmp_path / algo)
    assert isinstance(model, LTCNetwork) and 0.0 <= result["test_accuracy"] <= 1.0
    moved = [name for name, value in model.state_dict().items() if not torch.equal(value, before[name])]
    assert "net.blocks.0.weight" in moved and "net.blocks.1.mem_gate_bias" in moved


def test_cosine_schedule_is_a_function_of_the_epoch_and_unknown_schedules_are_refused() -> None:
    from lava_fptt.training.config import epoch_lr

    config = TrainConfig(lr=1e-2, epochs=4, lr_schedule="cosine")
    assert [round(epoch_lr(config, e), 6) for e in range(4)] == [0.01, 0.008536, 0.005, 0.001464]
    assert epoch_lr(TrainConfig(lr=1e-2, epochs=4), 3) == 1e-2
    assert TrainConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainConfig(lr_schedule="step")
