"""NIR in and out: real graphs trained elsewhere become netx files plain lava-dl loads, Lava runs them
as the graph's float simulation predicts, our networks survive NIR -> import exactly, and the peers
(snnTorch, Norse) agree with our float simulation of the same graphs."""
from __future__ import annotations

import json
import pathlib

import h5py
import nir
import numpy as np
import pytest
import torch

from lava_fptt.cli import main
from lava_fptt.data.events import saccade_events, tactile_events
from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from netx_export import export_network
from netx_export.inference import run_in_lava, spike_match
from netx_export.nir import NIRGraphError, import_nir, simulate
from netx_export.nir.compare import lava_layers
from netx_export.nir.export import export_nir
from netx_export.nir.graph import apply_linear, lower
from netx_export.nir.peers import run_norse, run_snntorch

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "nir"
CNN = FIXTURES / "cnn_sinabs.nir"
BRAILLE = FIXTURES / "braille_noDelay_noBias_subtract.nir"


@pytest.fixture(scope="module")
def cnn_net(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return import_nir(CNN, tmp_path_factory.mktemp("cnn") / "cnn.net", dt=1.0).network


@pytest.fixture(scope="module")
def braille_net(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return import_nir(BRAILLE, tmp_path_factory.mktemp("braille") / "braille.net", dt=1e-4).network


def test_the_sinabs_cnn_becomes_conv_and_dense_layers_plain_netx_loads(cnn_net: pathlib.Path) -> None:
    from lava.lib.dl import netx

    with h5py.File(cnn_net) as f:
        types = [f["layer"][str(i)]["type"][0].decode() for i in range(len(f["layer"]))]
        second_conv = f["layer"]["3"]
        kernel, stride, padding = second_conv["weight"].shape, second_conv["stride"][()], second_conv["padding"][()]
        assert [f["layer"][str(i)]["neuron"]["iDecay"][()] for i in (1, 2, 3, 5, 6)] == [4096] * 5
    # SumPool2d(2) -> Conv2d(3x3, pad 1) is one 6x6 convolution with stride 2 and padding 2: no pool layer
    assert types == ["input", "conv", "conv", "conv", "flatten", "dense", "dense"]
    assert kernel == (8, 16, 6, 6) and list(stride) == [2, 2] and list(padding) == [2, 2]
    net = netx.hdf5.Network(net_config=str(cnn_net))
    assert len(net) == 5 and net.inp.shape == (34, 34, 2) and net.out.shape == (10,)


def test_pooling_folded_into_the_next_layer_is_the_same_linear_map() -> None:
    graph = nir.read(str(CNN))
    chain = lower(graph)
    x = torch.rand(3, 16, 16, 16, dtype=torch.float64)
    pooled_conv = apply_linear("5", graph.nodes["5"], apply_linear("4", graph.nodes["4"], x))
    fused = chain.layers[2]
    direct = torch.nn.functional.conv2d(x, torch.as_tensor(fused.weight), stride=fused.stride, padding=fused.padding)
    np.testing.assert_allclose(direct.numpy(), pooled_conv.numpy(), rtol=1e-12, atol=1e-12)
    y = torch.rand(3, 8, 8, 8, dtype=torch.float64)
    through = y
    for name in ("7", "8", "9"):
        through = apply_linear(name, graph.nodes[name], through)
    dense = chain.layers[3]
    np.testing.assert_allclose(y.reshape(3, -1).numpy() @ dense.weight.T + dense.bias, through.numpy(),
                               rtol=1e-12, atol=1e-12)


def test_braille_becomes_a_recurrent_dense_layer_with_euler_decays(braille_net: pathlib.Path) -> None:
    from lava.lib.dl import netx

    with h5py.File(braille_net) as f:
        first, second = f["layer"]["0"], f["layer"]["1"]
        assert first["type"][0] == b"dense_rec" and second["type"][0] == b"dense"
        # dt / tau_syn = 1e-4 / 4e-4, dt / tau_mem = 0.15 -> 1024 and round(614.4) of 4096
        assert (first["neuron/iDecay"][()], first["neuron/vDecay"][()]) == (1024, 614)
        assert (second["neuron/iDecay"][()], second["neuron/vDecay"][()]) == (2253, 1229)
        weights = np.concatenate([first["weight"][()].ravel(), first["weight_rec"][()].ravel()])
        assert weights.max() <= 254 and weights.min() >= -256 and np.all(weights % 2 == 0)
        assert np.abs(weights).max() >= 250  # the scale uses the whole 8-bit mantissa
    net = netx.hdf5.Network(net_config=str(braille_net))
    assert len(net) == 2 and net.inp.shape == (12,) and net.out.shape == (7,)


@pytest.mark.slow
def test_lava_runs_the_cnn_exactly_as_the_float_graph_of_its_integers(cnn_net: pathlib.Path,
                                                                     tmp_path: pathlib.Path) -> None:
    """IF layers with integer weights have no rounding in Lava: every layer, every step, equal."""
    x, _ = saccade_events(2, steps=8, gain=3.0)
    back = nir.read(str(export_nir(cnn_net, tmp_path / "integers.nir", dt=1.0)))
    reference = simulate(back, x, 1.0)
    lava = lava_layers(cnn_net, x)
    neurons = [n for n in reference if n.endswith(".neuron")]
    assert len(lava) == len(neurons) == 5
    for layer, name in zip(lava, neurons):
        np.testing.assert_array_equal(layer, reference[name].reshape(layer.shape))
    assert lava[-2].sum() > 20  # the comparison is not between silent networks


def test_lava_follows_the_float_braille_graph_within_quantization(braille_net: pathlib.Path) -> None:
    x = tactile_events(6, steps=40)
    reference = simulate(nir.read(str(BRAILLE)), x, 1e-4)
    hidden, output = lava_layers(braille_net, x)
    assert reference["lif1.lif"].sum() > 100 and reference["lif2"].sum() > 50
    assert spike_match(hidden, reference["lif1.lif"]) > 0.5  # measured 0.69 on 100 samples (docs/nir.md)
    assert abs(hidden.sum() - reference["lif1.lif"].sum()) < 0.1 * reference["lif1.lif"].sum()


@pytest.mark.parametrize("recurrent", [False, True])
def test_our_cuba_network_comes_back_from_nir_with_its_integers_and_spikes(recurrent: bool,
                                                                            tmp_path: pathlib.Path) -> None:
    torch.manual_seed(1)
    model = SpikingNetwork(NetworkConfig(sizes=(20, 24, 6), recurrent=recurrent, weight_scale=4.0))
    x = (torch.rand(8, 20, 24) < 0.3).float()
    reference = model.run(x).numpy()
    original = export_network(model, tmp_path / "original.net")
    export_nir(original, tmp_path / "model.nir")
    graph = nir.read(str(tmp_path / "model.nir"))
    assert graph.metadata["dt"] == 1e-4 and {type(n).__name__ for n in graph.nodes.values()} >= {"CubaLIF", "Affine"}
    back = import_nir(tmp_path / "model.nir", tmp_path / "back.net", dt=1e-4).network
    with h5py.File(original) as a, h5py.File(back) as b:
        for i in a["layer"]:
            for key in ("weight", "weight_rec", "neuron/iDecay", "neuron/vDecay", "neuron/vThMant"):
                if key in a["layer"][i]:
                    np.testing.assert_array_equal(a["layer"][i][key][()], b["layer"][i][key][()])
    lava = run_in_lava(back, x.numpy())
    assert reference.sum() > 30 and spike_match(lava.output, reference) == 1.0


def test_the_float_simulation_follows_nirs_cubalif_equations() -> None:
    """One CubaLIF neuron, dt/tau_syn = 1/2, dt/tau_mem = 1/4, w_in = r = 1, threshold 0.14, worked by hand."""
    graph = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([1])}),
                                "w": nir.Linear(weight=np.array([[2.0]])),
                                "n": nir.CubaLIF(tau_syn=np.array([2.0]), tau_mem=np.array([4.0]), r=np.array([1.0]),
                                                 v_leak=np.array([0.0]), v_threshold=np.array([0.14]),
                                                 v_reset=np.array([0.0])),
                                "output": nir.Output(output_type={"output": np.array([1])})},
                         edges=[("input", "w"), ("w", "n"), ("n", "output")])
    spikes = simulate(graph, np.array([[[1.0, 0.0, 0.0]]]), dt=1.0)["n"][0, 0]
    # I = 1, 0.5, 0.25; v = 0.25 (spike, reset to 0), 0.125, 0.125 + (0.25 - 0.125) / 4 = 0.15625 (spike)
    np.testing.assert_array_equal(spikes, [1.0, 0.0, 1.0])


def test_norse_runs_the_braille_graph_as_our_float_simulation() -> None:
    graph = nir.read(str(BRAILLE))
    x = tactile_events(5, steps=50)
    ours = simulate(graph, x, 1e-4)
    norse = run_norse(graph, x, 1e-4, record=("lif1.lif",))
    assert ours["lif2"].sum() > 50
    assert spike_match(norse["lif1.lif"], ours["lif1.lif"]) == 1.0 and spike_match(norse["output"], ours["lif2"]) == 1.0


def test_snntorch_runs_the_cnn_as_our_float_simulation_after_its_two_repairs() -> None:
    graph = nir.read(str(CNN))
    x, _ = saccade_events(3, steps=10, gain=3.0)
    ours = simulate(graph, x, 1.0)
    peer = run_snntorch(graph, x, record=("1", "10"))
    assert ours["10"].sum() > 20
    for name in ("1", "10"):
        assert spike_match(peer[name], ours[name]) == 1.0
    assert spike_match(peer["output"], ours["12"]) == 1.0


def test_snntorch_builds_our_export_and_simulates_it_as_our_float_simulation(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(0)
    model = SpikingNetwork(NetworkConfig(sizes=(20, 24, 6), weight_scale=4.0))
    model.run(torch.zeros(1, 20, 1))
    graph = nir.read(str(export_nir(export_network(model, tmp_path / "n.net"), tmp_path / "n.nir")))
    x = (np.random.default_rng(0).random((8, 20, 30)) < 0.3).astype(np.float64)
    ours = simulate(graph, x, 1e-4)["output"]
    peer = run_snntorch(graph, x)["output"]
    assert ours.sum() > 20 and spike_match(peer, ours) >= 0.99  # float32 (snnTorch) against float64


def bad_graph(neuron: object, extra: dict | None = None) -> nir.NIRGraph:
    nodes = {"input": nir.Input(input_type={"input": np.array([3])}), "fc": nir.Linear(weight=np.ones((2, 3))),
             "neuron": neuron, "output": nir.Output(output_type={"output": np.array([2])})}
    return nir.NIRGraph(nodes={**nodes, **(extra or {})}, edges=[("input", "fc"), ("fc", "neuron"),
                                                                 ("neuron", "output")])


@pytest.mark.parametrize("graph, message", [
    (bad_graph(nir.Threshold(threshold=np.ones(2))),
     "node 'neuron' (Threshold): a bare threshold has no membrane"),
    (bad_graph(nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.array([0.5, 0.5]))),
     "node 'neuron' (IF): reset potential v_reset = 0.5: Lava's LIF resets the voltage to 0 only"),
    (bad_graph(nir.LIF(tau=np.array([1e-3, 2e-3]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))),
     "node 'neuron' (LIF): tau differs between neurons"),
    (bad_graph(nir.LIF(tau=np.array([1e-5, 1e-5]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))),
     "node 'neuron' (LIF): tau = 1e-05 is shorter than dt = 0.0001"),
    (bad_graph(nir.Delay(delay=np.ones(2))), "node 'neuron' (Delay): per-synapse delays are not written"),
])
def test_what_lava_cannot_represent_is_refused_naming_the_node(graph: nir.NIRGraph, message: str,
                                                              tmp_path: pathlib.Path) -> None:
    with pytest.raises(NIRGraphError) as err:
        import_nir(graph, tmp_path / "net.net", dt=1e-4)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_a_branching_graph_and_a_bias_into_a_filtered_current_are_refused(tmp_path: pathlib.Path) -> None:
    nodes = bad_graph(nir.IF(r=np.ones(2), v_threshold=np.ones(2))).nodes
    branch = nir.NIRGraph(nodes={**nodes, "fc2": nir.Linear(weight=np.ones((2, 3)))},
                          edges=[("input", "fc"), ("input", "fc2"), ("fc", "neuron"), ("fc2", "neuron"),
                                 ("neuron", "output")])
    with pytest.raises(NIRGraphError, match=r"node 'input' \(Input\): has 2 outputs"):
        import_nir(branch, tmp_path / "a.net", dt=1.0)
    graph = nir.read(str(BRAILLE))
    graph.nodes["fc2"] = nir.Affine(weight=graph.nodes["fc2"].weight, bias=np.full(7, 0.1))
    with pytest.raises(NIRGraphError, match=r"node 'lif2' \(CubaLIF\): a bias into a synaptic current with memory"):
        import_nir(graph, tmp_path / "b.net", dt=1e-4)


def test_cli_imports_and_exports_with_one_json_object_and_refuses_in_one_line(
        tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["nir", "import", str(BRAILLE), "--out", str(tmp_path / "b.net"), "--dt", "1e-4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [layer["netx_type"] for layer in report["layers"]] == ["dense_rec", "dense"]
    assert 0 < report["layers"][0]["error"]["weight"] < 0.005 and report["layers"][0]["v_th"] == 68
    assert main(["nir", "export", str(tmp_path / "b.net"), "--out", str(tmp_path / "b.nir"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nir"] == str(tmp_path / "b.nir")
    code = main(["nir", "import", str(BRAILLE), "--out", str(tmp_path / "c.net"), "--dt", "1e-4",
                 "--reset", "subtract", "--json"])
    captured = capsys.readouterr()
    assert code == 2 and "node 'lif1.lif' (CubaLIF): reset by subtraction" in json.loads(captured.out)["error"]
    assert len(captured.err.strip().splitlines()) == 1 and not (tmp_path / "c.net").exists()


def test_ltc_networks_are_refused_by_the_exporter(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(0)
    model = SpikingNetwork(NetworkConfig(sizes=(8, 6, 3), model="ltc"))
    path = export_network(model, tmp_path / "ltc.net")
    with pytest.raises(ValueError, match="layer 0: LTC neuron; only CUBA layers have a NIR form"):
        export_nir(path, tmp_path / "ltc.nir")
    assert not (tmp_path / "ltc.nir").exists()


def test_event_streams_have_the_data_sets_shapes_and_are_reproducible() -> None:
    x, labels = saccade_events(4, steps=12, seed=3)
    again, _ = saccade_events(4, steps=12, seed=3)
    assert x.shape == (4, 2, 34, 34, 12) and set(np.unique(x)) <= {0.0, 1.0} and np.array_equal(x, again)
    assert x.sum() > 100 and labels.shape == (4,)
    t = tactile_events(3, steps=20)
    assert t.shape == (3, 12, 20) and 0 < t.mean() < 0.5


@pytest.mark.slow
def test_an_imported_graph_becomes_a_slayer_network_that_runs_as_lava_and_trains_with_fptt(
        braille_net: pathlib.Path, tmp_path: pathlib.Path) -> None:
    from lava_fptt.training import make_method, sequence_loss
    from netx_export.nir.trainable import trainable_network

    network = trainable_network(braille_net)
    x = tactile_events(6, steps=40)
    reference = network.run(torch.as_tensor(x, dtype=torch.float32)).numpy()
    assert reference.sum() > 30 and spike_match(run_in_lava(braille_net, x).output, reference) == 1.0
    before = network.layers[0].recurrent_synapse.weight.detach().clone()
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    make_method("fptt", chunk=8).train_batch(network, torch.as_tensor(x, dtype=torch.float32),
                                             torch.arange(6) % 7, sequence_loss("spikes"), optimizer)
    assert not torch.equal(network.layers[0].recurrent_synapse.weight, before)
    tuned = export_network(network, tmp_path / "tuned.net")
    with h5py.File(tuned) as f, h5py.File(braille_net) as g:
        assert f["layer/0/neuron/vThMant"][()] == g["layer/0/neuron/vThMant"][()] == 68
        assert not np.array_equal(f["layer/0/weight_rec"][()], g["layer/0/weight_rec"][()])


@pytest.mark.slow
def test_every_imported_file_becomes_slayer_blocks_that_compute_what_lava_computes(
        cnn_net: pathlib.Path, braille_net: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """slayer's own Conv / Flatten / Dense / Recurrent blocks (delay_shift on) against Lava, spike for spike."""
    from lava.lib.dl import netx

    from netx_export.nir.trainable import slayer_network

    cnn_inputs, _ = saccade_events(2, steps=24, gain=3.0)
    for path, x in ((cnn_net, cnn_inputs), (braille_net, tactile_events(3, steps=40))):
        network = slayer_network(path)
        with torch.no_grad():
            spikes = network(torch.as_tensor(x, dtype=torch.float32)).numpy()
        lava = run_in_lava(path, x).output
        assert lava.sum() >= 8 and np.array_equal(spikes.reshape(lava.shape), lava)
    network.export_hdf5(tmp_path / "again.net")  # the Braille network, through slayer's own writers
    with h5py.File(tmp_path / "again.net") as f, h5py.File(braille_net) as g:
        np.testing.assert_array_equal(f["layer/0/weight_rec"][()], g["layer/0/weight_rec"][()])
    assert len(netx.hdf5.Network(net_config=str(tmp_path / "again.net"))) == 2


def test_convolutional_files_are_refused_as_trainable_networks(cnn_net: pathlib.Path) -> None:
    from netx_export.nir.trainable import trainable_network

    with pytest.raises(ValueError, match="only networks of CUBA dense layers become trainable here"):
        trainable_network(cnn_net)


def test_pooling_that_feeds_neurons_is_a_pool_layer_in_slayers_own_format(tmp_path: pathlib.Path) -> None:
    from lava.lib.dl import slayer

    def if_node(shape: tuple) -> nir.IF:
        return nir.IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape))

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
               "conv": nir.Conv2d(input_shape=np.array([8, 8]), weight=np.full((4, 2, 3, 3), 0.2), stride=1,
                                  padding=1, dilation=1, groups=1, bias=np.zeros(4)),
               "if1": if_node((4, 8, 8)), "pool": nir.SumPool2d(kernel_size=np.array([2, 2]),
                                                               stride=np.array([2, 2]), padding=np.array([0, 0])),
               "if2": if_node((4, 4, 4)), "flat": nir.Flatten(input_type={"input": np.array([4, 4, 4])}, start_dim=0),
               "fc": nir.Affine(weight=np.full((3, 64), 0.1), bias=np.zeros(3)), "if3": if_node((3,)),
               "output": nir.Output(output_type={"output": np.array([3])})},
        edges=[("input", "conv"), ("conv", "if1"), ("if1", "pool"), ("pool", "if2"), ("if2", "flat"),
               ("flat", "fc"), ("fc", "if3"), ("if3", "output")])
    net = import_nir(graph, tmp_path / "pool.net", dt=1.0).network
    block = slayer.block.cuba.Pool({"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.0}, 2,
                                   delay_shift=False)
    block(torch.zeros(1, 4, 8, 8, 1))
    with h5py.File(net) as f, h5py.File(tmp_path / "slayer.h5", "w") as g:
        block.export_hdf5(g.create_group("pool"))
        ours, theirs = f["layer/2"], g["pool"]
        assert [f[f"layer/{i}/type"][0] for i in range(5)] == [b"input", b"conv", b"pool", b"flatten", b"dense"]
        def keys(group: h5py.Group) -> list[str]:
            return sorted(k for k in group.keys() if k != "neuron")

        assert keys(ours) == keys(theirs) and sorted(ours["neuron"]) == sorted(theirs["neuron"])
        for key in ("shape", "kernelSize", "stride", "padding", "dilation"):
            np.testing.assert_array_equal(ours[key][()], theirs[key][()])
        assert ours["weight"].shape == theirs["weight"].shape == (1, 1, 2, 2)
        # one pooled spike is worth one threshold: the layer's scale
        assert np.all(ours["weight"][()] == 254) and ours["neuron/vThMant"][()] == 254


@pytest.mark.slow
def test_our_loader_builds_pool_layers_and_lava_runs_them_as_the_float_graph(tmp_path: pathlib.Path) -> None:
    """lava-dl 0.6's netx cannot build pool layers; ours does (netx_export.pool.create_pool)."""
    rng = np.random.default_rng(0)

    def if_node(shape: tuple, r: float = 1.0) -> nir.IF:
        return nir.IF(r=np.full(shape, r), v_threshold=np.ones(shape), v_reset=np.zeros(shape))

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
               "conv": nir.Conv2d(input_shape=np.array([8, 8]), weight=rng.normal(0.3, 0.3, (4, 2, 3, 3)),
                                  stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(4)),
               "if1": if_node((4, 8, 8)), "pool": nir.SumPool2d(kernel_size=np.array([2, 2]),
                                                               stride=np.array([2, 2]), padding=np.array([0, 0])),
               "if2": if_node((4, 4, 4), r=0.4), "flat": nir.Flatten(input_type={"input": np.array([4, 4, 4])},
                                                                      start_dim=0),
               "fc": nir.Affine(weight=rng.normal(0.1, 0.3, (3, 64)), bias=np.zeros(3)), "if3": if_node((3,)),
               "output": nir.Output(output_type={"output": np.array([3])})},
        edges=[("input", "conv"), ("conv", "if1"), ("if1", "pool"), ("pool", "if2"), ("if2", "flat"),
               ("flat", "fc"), ("fc", "if3"), ("if3", "output")])
    net = import_nir(graph, tmp_path / "pool.net", dt=1.0).network
    x = (rng.random((3, 2, 8, 8, 10)) < 0.3).astype(np.float64)
    back = simulate(nir.read(str(export_nir(net, tmp_path / "integers.nir", dt=1.0))), x, 1.0)
    lava = lava_layers(net, x)
    neurons = [n for n in back if n.endswith(".neuron")]
    assert [type(n).__name__ for n in nir.read(str(tmp_path / "integers.nir")).nodes.values()].count("SumPool2d") == 1
    for layer, name in zip(lava, neurons):
        np.testing.assert_array_equal(layer, back[name].reshape(layer.shape))
    assert lava[1].sum() > 100 and lava[2].sum() > 10
