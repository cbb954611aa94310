"""Recurrent CUBA networks: chunk-wise training, netx ``dense_rec`` export, Lava runs equal to torch.

Lava comparisons run samples back to back in one Lava run with the per-sample reset of
:func:`netx_export.inference.run_in_lava`, so the reset of the recurrent ``Dense`` is
under test, not only the arithmetic.
"""
from __future__ import annotations

import copy
import json
import pathlib

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import describe, export_network, load_network
from netx_export import inference
from netx_export.inference import recurrent_clears, run_in_lava, spike_match

torch.set_num_threads(1)
SIZES = (16, 32, 10)


def network(seed: int = 0, sizes: tuple[int, ...] = SIZES) -> SpikingNetwork:
    """An untrained recurrent CUBA network (slayer's initialization is active enough)."""
    torch.manual_seed(seed)
    net = SpikingNetwork(NetworkConfig(sizes=sizes, recurrent=True))
    net.run(torch.zeros(1, sizes[0], 1))  # slayer shapes its neurons on the first call
    return net


def random_spikes(n: int, steps: int, seed: int, p: float = 0.3) -> torch.Tensor:
    return (torch.rand(n, SIZES[0], steps, generator=torch.Generator().manual_seed(seed)) < p).float()


def test_a_recurrent_cuba_config_builds_recurrent_hidden_layers_and_a_dense_output() -> None:
    from lava.lib.dl import slayer

    config = NetworkConfig(sizes=(16, 12, 8, 10), recurrent=True)
    net = SpikingNetwork(config)
    assert type(net) is SpikingNetwork
    assert [type(layer) for layer in net.layers] == [slayer.block.cuba.Recurrent] * 2 + [slayer.block.cuba.Dense]
    assert all(layer.delay_shift for layer in net.layers) and net.delay == 3  # lava-dl's defaults, moved to the input
    assert NetworkConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match=r"recurrent=True needs a hidden layer .* sizes \(16, 10\) has none"):
        NetworkConfig(sizes=(16, 10), recurrent=True)


def test_the_wrapped_network_computes_what_slayers_own_recurrent_block_computes() -> None:
    """slayer's own forward (custom_recurrent, delay_shift) on a fresh copy, from rest, against the adapter's loop."""
    net = network()
    x = random_spikes(4, 30, seed=1)
    plain = copy.deepcopy(net.net)  # untouched lava-dl blocks: their neurons are at rest
    with torch.no_grad():
        theirs = plain(x)
    ours = net.run(x)
    assert torch.equal(ours, theirs) and ours.sum() > 0


def test_chunks_of_any_length_give_the_whole_sequence_output() -> None:
    net = network()
    x = random_spikes(3, 30, seed=2)
    whole = net.run(x)
    for chunk in (1, 4, 7):
        net.reset_state()
        with torch.no_grad():
            pieces = torch.cat([net(x[..., t:t + chunk]) for t in range(0, 30, chunk)], dim=-1)
        assert torch.equal(pieces, whole), f"chunk {chunk}"
    assert whole.sum() > 0


def test_reset_state_forgets_neuron_state_and_last_spikes() -> None:
    net = network()
    x = random_spikes(3, 20, seed=3)
    first = net.run(x)
    with torch.no_grad():
        net(random_spikes(3, 20, seed=4, p=0.6))  # leaves current, voltage and spikes behind
        net.reset_state()
        again = net(x)
    assert torch.equal(again, first)


def test_gradients_flow_through_the_recurrence_within_a_chunk_and_stop_at_detach() -> None:
    from lava_fptt.online import wrap

    layer = wrap(network().layers[0])  # one Recurrent block: its delay_shift delays the input one step
    x = random_spikes(4, 12, seed=5).requires_grad_()
    layer.reset_state()
    (grad,) = torch.autograd.grad(layer(x)[..., -1].sum(), x)
    # slayer cuts the membrane's temporal gradient at every step: x[0] reaches s[11] only through R s[t-1]
    assert grad[..., 0].abs().sum() > 0
    layer.reset_state()
    layer(x[..., :6])
    layer.detach_state()
    (grad,) = torch.autograd.grad(layer(x[..., 6:])[..., -1].sum(), x)
    assert grad[..., :6].abs().sum() == 0 and grad[..., 6:].abs().sum() > 0


@pytest.mark.parametrize("algo", ["bptt", "tbptt", "sltt", "sltt-k", "fptt"])
def test_every_training_method_trains_a_recurrent_cuba_network(tmp_path: pathlib.Path, algo: str) -> None:
    config = TrainConfig(encoding=Encoding("pixel"), network=NetworkConfig(sizes=(16, 8, 10), recurrent=True),
                         algo=algo, epochs=1, train_limit=32, batch_size=16, lr=1e-2)
    torch.manual_seed(config.seed)
    before = SpikingNetwork(config.network).state_dict()
    result = train(config, tmp_path / algo, progress=False)
    _, model, _ = load_run(tmp_path / algo)
    assert 0.0 <= result["test_accuracy"] <= 1.0
    moved = {name for name, value in model.state_dict().items() if not torch.equal(value, before[name])}
    assert {"net.blocks.0.input_synapse.weight", "net.blocks.0.recurrent_synapse.weight"} <= moved


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A small recurrent CUBA network trained through the CLI for one epoch on part of digits, pixel by pixel."""
    from lava_fptt.cli import main

    run_dir = tmp_path_factory.mktemp("cuba_rec_run")
    assert main(["train", "--model", "cuba", "--recurrent", "--hidden", "24", "--encoding", "pixel", "--epochs", "1",
                 "--train-limit", "96", "--lr", "1e-2", "--out", str(run_dir), "--no-progress", "--json"]) == 0
    return run_dir


@pytest.fixture(scope="module")
def exported(trained_run: pathlib.Path) -> pathlib.Path:
    _, model, _ = load_run(trained_run)
    return export_network(model, trained_run / "network.net", {"dataset": "digits"})


def test_export_is_slayers_dense_rec_layer_and_plain_netx_loads_it(trained_run: pathlib.Path,
                                                                   exported: pathlib.Path) -> None:
    from lava.lib.dl import netx, slayer

    _, model, _ = load_run(trained_run)
    ours = model.layers[0]
    reference = slayer.block.cuba.Recurrent(model.config.cuba.to_slayer(), 16, 24)
    reference.load_state_dict(ours.state_dict())
    reference(torch.zeros(1, 16, 1))  # slayer sets the neuron shape on the first call
    expected = exported.parent / "slayer.net"
    with h5py.File(expected, "w") as f:
        reference.export_hdf5(f.create_group("layer/0"))
    with h5py.File(exported, "r") as a, h5py.File(expected, "r") as b:
        names = _names(b["layer/0"])
        assert sorted(names) == sorted(_names(a["layer/0"]))
        assert {"type", "weight", "weight_rec", "neuron/iDecay", "neuron/vThMant"} <= set(names)
        for name in names:
            if isinstance(b["layer/0"][name], h5py.Dataset):
                np.testing.assert_array_equal(a["layer/0"][name][()], b["layer/0"][name][()], err_msg=name)
    assert describe(exported).layer_types == ("dense_rec", "dense")
    plain = netx.hdf5.Network(net_config=str(exported))
    assert [type(layer).__name__ for layer in plain.layers] == ["RecurrentDense", "Dense"]
    assert [type(layer).__name__ for layer in load_network(exported).layers] == ["RecurrentDense", "Dense"]


def _names(group: h5py.Group) -> list[str]:
    """Every dataset and group name under ``group``."""
    names: list[str] = []
    group.visit(names.append)
    return names


def test_recurrent_clears_names_the_step_before_each_reset(tmp_path: pathlib.Path) -> None:
    path = export_network(network(), tmp_path / "rec.net")
    window, offset = 22, (1 - 2) % 22  # 20 steps + 2 layers, as run_in_lava chooses for CUBA
    layers = load_network(path, reset_interval=window, reset_offset=offset).layers
    clears = recurrent_clears(layers, window, offset, 5 * window)
    assert sorted(clears) == [21, 43, 65, 87, 109]  # layer 0 resets at 22, 44, ...: its torch step 0
    assert all(synapses == [layers[0].synapse_rec] for synapses in clears.values())


def test_lava_runs_samples_back_to_back_spike_for_spike(tmp_path: pathlib.Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Five samples in one run equal torch; without clearing the recurrent Dense, samples 2+ do not."""
    net = network()
    x = random_spikes(5, 20, seed=6)
    reference = net.run(x).numpy()
    path = export_network(net, tmp_path / "rec.net")
    result = run_in_lava(path, x.numpy(), "fixed")
    assert reference.sum() > 50
    np.testing.assert_array_equal(result.spikes, reference)
    monkeypatch.setattr(inference, "recurrent_clears", lambda *args: {})
    unclear = run_in_lava(path, x.numpy(), "fixed").spikes
    assert spike_match(unclear[0], reference[0]) == 1.0
    assert spike_match(unclear[1:], reference[1:]) < 1.0


def test_cli_export_and_run_match_the_trained_network_spike_for_spike(trained_run: pathlib.Path,
                                                                     export_and_run) -> None:
    result = export_and_run(trained_run, 4)
    assert result["spike_match"] == 1.0 and result["identical_samples"] == 4
    assert result["accuracy"] == result["reference_accuracy"]
    _, model, _ = load_run(trained_run)
    inputs = load_dataset("digits", "test", encoding=Encoding("pixel")).spikes(range(4))
    assert model.run(torch.from_numpy(inputs)).sum() > 0  # the comparison is not between silent networks


@pytest.mark.parametrize("algo", ["sltt", "sltt-k"])
def test_sltt_in_chunks_of_a_recurrent_network_equals_one_step_per_call(algo: str) -> None:
    """A recurrent block's spatial mode feeds its spikes back detached: each step's gradient, and so the
    chunk's, is the one-step call's (where the carried spikes are detached between calls)."""
    from lava_fptt.training import RateCrossEntropy, make_method

    x = random_spikes(8, 16, seed=7, p=0.5)
    y = torch.randint(0, SIZES[-1], (8,), generator=torch.Generator().manual_seed(8))
    results = []
    for chunk, spatial in ((4, False), (4, True), (16, True)):
        net = network()
        net.spatial_chunks = spatial  # False: SLTT's reference path, one plain call per step
        params = {"k": 6, "seed": 1} if algo == "sltt-k" else {}
        loss, spikes = make_method(algo, chunk=chunk, **params).train_batch(
            net, x, y, RateCrossEntropy(8.0), torch.optim.SGD(net.parameters(), lr=0.0))
        results.append((loss, spikes, [p.grad.clone() for p in net.parameters() if p.requires_grad]))
    (loss_ref, spikes_ref, grads_ref), *chunked = results
    assert all(g.abs().sum() > 0 for g in grads_ref) and spikes_ref.sum() > 0
    for loss, spikes, grads in chunked:
        assert loss == pytest.approx(loss_ref, rel=1e-6) and torch.equal(spikes, spikes_ref)
        for a, b in zip(grads, grads_ref):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
