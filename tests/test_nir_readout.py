"""Non-spiking readouts (NIR's LI, CubaLI, I): written as lava-dl writes its cuba.Affine readout, built by our
loader as a CubaLI process that sends its voltage, run in Lava against the float graph, slayer and the float graph
of Lava's own integers, exported back to NIR, and refused where Lava cannot hold them."""
from __future__ import annotations

import json
import pathlib

import h5py
import nir
import numpy as np
import pytest
import torch

from lava_fptt.cli import main
from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.chain import BlockChain
from netx_export import describe, export_network
from netx_export.errors import NetworkFileError
from netx_export.inference import run_in_lava
from netx_export.nir import NIRGraphError, import_nir, simulate
from netx_export.nir.compare import classes, compare_in_lava, lava_layers
from netx_export.nir.export import export_nir
from netx_export.nir.importer import readout_scale
from netx_export.nir.trainable import slayer_network
from netx_export.readout import NEVER


def cuba_lif(n: int, tau_syn: float = 2e-4, tau_mem: float = 5e-4, threshold: float = 0.1) -> nir.CubaLIF:
    f = np.ones(n)
    return nir.CubaLIF(tau_syn=f * tau_syn, tau_mem=f * tau_mem, r=f, v_leak=0 * f, v_threshold=f * threshold,
                       v_reset=0 * f)


def readout_graph(readout: object, inputs: int = 6, hidden: int = 8, outputs: int = 3, bias: float = 0.0,
                  seed: int = 0) -> nir.NIRGraph:
    """Input -> Linear -> CubaLIF -> Affine -> ``readout`` (a non-spiking node) -> Output."""
    rng = np.random.default_rng(seed)
    return nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([inputs])}),
               "fc1": nir.Linear(weight=rng.normal(0.3, 0.5, (hidden, inputs))), "lif": cuba_lif(hidden),
               "fc2": nir.Affine(weight=rng.normal(0.0, 0.5, (outputs, hidden)), bias=np.full(outputs, bias)),
               "li": readout, "output": nir.Output(output_type={"output": np.array([outputs])})},
        edges=[("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"), ("li", "output")])


def cuba_li(n: int = 3) -> nir.CubaLI:
    return nir.CubaLI(tau_syn=np.full(n, 3e-4), tau_mem=np.full(n, 8e-4), r=np.ones(n), v_leak=np.zeros(n))


def spikes(n: int, channels: int, steps: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, channels, steps)) < 0.3).astype(np.float64)


def test_a_graded_readout_is_written_as_lava_dl_writes_its_affine_block(tmp_path: pathlib.Path) -> None:
    """Same datasets as slayer's cuba.Affine export, the unreachable threshold 2**18 - 1, and plain netx loads it."""
    from lava.lib.dl import netx, slayer

    report = import_nir(readout_graph(cuba_li()), tmp_path / "li.net", dt=1e-4)
    readout = report.layers[-1]
    # dt / tau_syn = 1/3, dt / tau_mem = 1/8: round(4096 / 3) and 4096 / 8
    assert (readout.netx_type, readout.neuron, readout.i_decay, readout.v_decay) == ("dense", "CubaLI", 1365, 512)
    assert readout.v_th == NEVER == 2 ** 18 - 1 and readout.scale > 64
    block = slayer.block.cuba.Affine({"threshold": 1.0, "current_decay": 0.5, "voltage_decay": 0.1}, 8, 3)
    block(torch.zeros(1, 8, 1))
    with h5py.File(report.network) as f, h5py.File(tmp_path / "affine.h5", "w") as g:
        block.export_hdf5(g.create_group("affine"))
        ours, theirs = f["layer/1"], g["affine"]
        assert sorted(ours.keys()) == sorted(theirs.keys()) and sorted(ours["neuron"]) == sorted(theirs["neuron"])
        assert ours["neuron/vThMant"][()] == theirs["neuron/vThMant"][()] == NEVER
        weights = ours["weight"][()]
        assert np.all(weights % 2 == 0) and np.abs(weights).max() >= 250  # the scale fills the 8-bit mantissa
    summary = describe(report.network)
    assert summary.graded_output and summary.cuba_readout and readout_scale(report.network) == 64 / readout.scale
    assert netx.hdf5.Network(net_config=str(report.network)).out.shape == (3,)  # plain lava-dl builds it too


def test_the_float_simulation_follows_nirs_li_equations() -> None:
    """One LI neuron, dt / tau = 1/4, r = 2, v_leak = 0.5, input 1 then 0: worked by hand."""
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([1])}),
                                "w": nir.Linear(weight=np.array([[1.0]])),
                                "n": nir.LI(tau=np.array([4.0]), r=np.array([2.0]), v_leak=np.array([0.5])),
                                "output": nir.Output(output_type={"output": np.array([1])})},
                         edges=[("input", "w"), ("w", "n"), ("n", "output")])
    v = simulate(graph, np.array([[[1.0, 0.0]]]), dt=1.0)["n"][0, 0]
    # v = 0 + (0.5 - 0 + 2) / 4 = 0.625; then 0.625 + (0.5 - 0.625) / 4 = 0.59375
    np.testing.assert_allclose(v, [0.625, 0.59375], rtol=0, atol=1e-15)


@pytest.mark.slow
def test_lava_computes_the_float_graph_of_its_own_integers_and_follows_the_original(tmp_path: pathlib.Path) -> None:
    """I (no decay, biased): Lava equals the float graph of its integers exactly. CubaLI (decays): within the
    truncation of Lava's integer decays; against the original float graph within the weights' 8-bit rounding."""
    x = spikes(5, 6, 24)
    integrator = readout_graph(nir.I(r=np.full(3, 1e4)), bias=0.1)
    net = import_nir(integrator, tmp_path / "i.net", dt=1e-4).network
    back = simulate(nir.read(str(export_nir(net, tmp_path / "i.nir"))), x, 1e-4)
    hidden, readout = lava_layers(net, x)
    assert hidden.sum() > 50 and np.abs(readout).max() > 1
    np.testing.assert_array_equal(hidden, back["layer0.neuron"])
    # Lava's voltage in slayer's units (integer / 4096) against the float graph of the same integers
    np.testing.assert_allclose(readout / readout_scale(net), back["layer1.neuron"], rtol=1e-12, atol=1e-9)

    leaky = readout_graph(cuba_li())
    net = import_nir(leaky, tmp_path / "li.net", dt=1e-4).network
    back = simulate(nir.read(str(export_nir(net, tmp_path / "li.nir"))), x, 1e-4)
    hidden, readout = lava_layers(net, x)
    in_slayer_units = readout / readout_scale(net)
    assert np.abs(in_slayer_units - back["layer1.neuron"]).max() < 1e-4 * np.abs(back["layer1.neuron"]).max()
    comparison = compare_in_lava(net, x, simulate(leaky, x, 1e-4), ["lif", "li"])
    assert comparison.layers[0].spike_match > 0.95  # 8-bit weights move a few hidden spikes (measured 0.99)
    # the readout layer alone (the original graph's fc2 -> li, fed Lava's own hidden spikes): its quantization
    readout_only = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([8])}),
                                       "fc2": leaky.nodes["fc2"], "li": leaky.nodes["li"],
                                       "output": nir.Output(output_type={"output": np.array([3])})},
                                edges=[("input", "fc2"), ("fc2", "li"), ("li", "output")])
    expected = simulate(readout_only, hidden, 1e-4)["li"]
    # each weight is off by at most 1/254 of the largest (8-bit mantissa), over 8 inputs: measured 1.2 %
    assert np.abs(readout - expected).max() < 0.02 * np.abs(expected).max()


@pytest.mark.slow
def test_slayers_affine_block_computes_what_lava_computes_and_lava_fptt_run_classifies_by_the_readout(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    encoding = Encoding("rate", steps=12)
    data = load_dataset("digits", "test", encoding=encoding)
    x = data.spikes(np.arange(12))
    graph = readout_graph(cuba_li(10), inputs=64, hidden=24, outputs=10)
    net = import_nir(graph, tmp_path / "digits_li.net", dt=1e-4).network
    network = slayer_network(net)
    assert network.output_kind == "readout" and type(network.blocks[-1]).__name__ == "Affine"
    with torch.no_grad():
        torch_readout = network(torch.as_tensor(x, dtype=torch.float32)).numpy()
    lava = run_in_lava(net, x)
    assert lava.graded and np.abs(torch_readout).max() > 1
    np.testing.assert_array_equal(lava.output, torch_readout)  # bit for bit, every step
    assert main(["run", str(net), "--samples", "12", "--steps", "12", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == float((classes(torch_readout, graded=True) == data.labels[:12]).mean())


@pytest.mark.slow
def test_our_network_with_an_affine_readout_comes_back_from_nir_with_its_integers(tmp_path: pathlib.Path) -> None:
    """slayer's cuba.Dense + cuba.Affine -> netx -> NIR (CubaLIF, CubaLI) -> our importer -> the same file."""
    from lava.lib.dl import slayer

    torch.manual_seed(0)
    params = {"threshold": 1.0, "current_decay": 0.25, "voltage_decay": 0.1}
    chain = BlockChain([slayer.block.cuba.Dense(params, 12, 16, weight_scale=3),
                        slayer.block.cuba.Affine(params, 16, 4, weight_scale=3)], output_kind="readout")
    x = spikes(4, 12, 20)
    with torch.no_grad():
        reference = chain(torch.as_tensor(x, dtype=torch.float32)).numpy()
    original = export_network(chain, tmp_path / "original.net")
    graph = nir.read(str(export_nir(original, tmp_path / "model.nir")))
    assert [type(n).__name__ for n in graph.nodes.values()].count("CubaLI") == 1
    back = import_nir(graph, tmp_path / "back.net", dt=1e-4).network
    with h5py.File(original) as a, h5py.File(back) as b:
        for i in ("0", "1"):
            for key in ("weight", "neuron/iDecay", "neuron/vDecay", "neuron/vThMant"):
                np.testing.assert_array_equal(a["layer"][i][key][()], b["layer"][i][key][()])
    lava = run_in_lava(back, x)
    assert np.abs(reference).max() > 1
    np.testing.assert_array_equal(lava.output, reference)


@pytest.mark.parametrize("edit, message", [
    ("feeds", "node 'li' (CubaLI): a non-spiking neuron (its output is a voltage) feeding another layer"),
    ("recurrent", "node 'li' (CubaLI): a non-spiking readout needs a dense, feed-forward synapse"),
])
def test_a_readout_that_is_not_the_last_dense_layer_is_refused(edit: str, message: str,
                                                               tmp_path: pathlib.Path) -> None:
    graph = readout_graph(cuba_li())
    nodes, edges = dict(graph.nodes), [e for e in graph.edges if e != ("li", "output")]
    if edit == "feeds":
        nodes.update({"fc3": nir.Linear(weight=np.ones((2, 3))), "lif3": cuba_lif(2),
                      "output": nir.Output(output_type={"output": np.array([2])})})
        edges += [("li", "fc3"), ("fc3", "lif3"), ("lif3", "output")]
    else:
        nodes["rec"] = nir.Linear(weight=np.eye(3))
        edges += [("li", "rec"), ("rec", "li"), ("li", "output")]
    with pytest.raises(NIRGraphError) as err:
        import_nir(nir.NIRGraph(nodes=nodes, edges=edges), tmp_path / "net.net", dt=1e-4)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_our_loader_refuses_a_graded_layer_before_other_layers(tmp_path: pathlib.Path) -> None:
    from netx_export import load_network

    net = import_nir(readout_graph(cuba_li()), tmp_path / "li.net", dt=1e-4).network
    with h5py.File(net, "a") as f:
        f["layer/0/neuron/vThMant"][...] = NEVER
    with pytest.raises(NetworkFileError, match=r"layer 0 is a graded readout \(CUBA neurons that never spike"):
        load_network(net)
