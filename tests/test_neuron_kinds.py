"""Conformance suite over the neuron registry: every kind whose layers this library builds gets these checks.

A new neuron kind registered in :mod:`lava_fptt.kinds` (``docs/adding_a_neuron.md``) is
picked up here without a line of its own: its parameter specification matches its tuples,
its integer step is the same on numpy and torch, its float form follows its integer form,
its training block equals its Lava ``fixed_pt`` process bit for bit, its layers survive
export and loading, and values beyond its registers are refused with their name.
"""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.blocks.netx_format import NetxLayer, read_layer, write_layer
from lava_fptt.kinds import KINDS, NeuronKind
from lava_fptt.models.chain import BlockChain
from lava_fptt.models.network import NetworkConfig, SpikingNetwork, models
from lava_fptt.training import make_method, sequence_loss
from netx_export import NetworkFileError, export_network, load_network
from netx_export.inference import run_in_lava
from netx_export.resources import resource_report

OURS = [kind for kind in KINDS.values() if kind.built_here]
"""The kinds whose dynamics, blocks, processes and file format are this library's."""
STACK_MODELS = ("ltc", "lif")
"""Dense-stack models trained, exported and run end to end below (a new model: one more name here)."""


def ids(kind: NeuronKind) -> str:
    return kind.name


def random_params(kind: NeuronKind, n: int, seed: int) -> tuple:
    """Integer parameters near the declared initial values (within their registers), one per neuron."""
    rng = np.random.default_rng(seed)
    values = []
    for p in kind.params.params:
        mean, std = p.init if isinstance(p.init, tuple) else (p.init, 0.05)
        v = np.round((mean + std * rng.standard_normal(n)) * p.scale)
        values.append(np.clip(v, max(p.width.lo, -p.width.hi), p.width.hi).astype(np.int64))
    return kind.int_params(*values)


def zero_state(kind: NeuronKind, n: int, batch: int = 3) -> tuple:
    return kind.state(*(np.zeros((batch, n), np.int64) for _ in kind.state._fields))


def drive(steps: int, batch: int, n: int, seed: int) -> np.ndarray:
    """Synaptic input in weight units (64 per unit), as a Dense delivers it."""
    return np.random.default_rng(seed).integers(-96, 160, size=(steps, batch, n)).astype(np.int64)


@pytest.mark.parametrize("kind", OURS, ids=ids)
def test_the_specification_names_the_tuples_fields_and_widths(kind: NeuronKind) -> None:
    assert kind.int_params._fields == kind.float_params._fields == kind.params.names
    assert set(kind.state_widths) == set(kind.state._fields)
    assert kind.neuron_bits == sum(w.bits for w in kind.state_widths.values()) + kind.params.bits
    defaults = kind.float_params._field_defaults
    assert all(kind.int_params._field_defaults[name] == round(value * kind.params[name].scale)
               for name, value in defaults.items())


@pytest.mark.parametrize("kind", OURS, ids=ids)
def test_the_integer_step_is_the_same_on_numpy_and_torch(kind: NeuronKind) -> None:
    n = 7
    params = random_params(kind, n, seed=1)
    state_np = zero_state(kind, n)
    state_t = kind.state(*(torch.from_numpy(v) for v in state_np))
    params_t = kind.int_params(*(torch.from_numpy(v) for v in params))
    for x in drive(30, 3, n, seed=2):
        out_np, state_np = kind.int_step(x, state_np, params)
        out_t, state_t = kind.int_step(torch.from_numpy(x), state_t, params_t)
        np.testing.assert_array_equal(out_np, out_t.numpy())
        for a, b in zip(state_np, state_t):
            np.testing.assert_array_equal(a, b.numpy())


@pytest.mark.parametrize("kind", OURS, ids=ids)
def test_the_float_form_follows_the_integer_form(kind: NeuronKind) -> None:
    """Over 30 steps from rest the two forms differ by rounding only: graded outputs within 1 %
    of a unit, spikes identical at 97 % of (neuron, step) pairs or more (a spike near threshold may move)."""
    n = 16
    params = random_params(kind, n, seed=3)
    fparams = kind.float_params(**kind.params.dequantize(params._asdict()))
    state_i, state_f = zero_state(kind, n), kind.state(*(np.zeros((3, n)) for _ in kind.state._fields))
    outs_i, outs_f = [], []
    for x in drive(30, 3, n, seed=4):
        out_i, state_i = kind.int_step(x, state_i, params)
        out_f, state_f = kind.float_step(x / 64.0, state_f, fparams)
        outs_i.append(out_i / kind.graded_unit)
        outs_f.append(out_f)
    ints, floats = np.array(outs_i), np.array(outs_f)
    if kind.output == "graded":
        assert np.abs(ints - floats).max() < 0.01
    else:
        assert ints.sum() > 0 and (ints == floats).mean() >= 0.97


def one_block(kind: NeuronKind, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    block = kind.blocks[0](6, 5)
    with torch.no_grad():
        block.weight.mul_(3.0)  # livelier than the default start, so the comparison is not vacuous
    return block


@pytest.mark.parametrize("kind", OURS, ids=ids)
def test_the_exported_layer_reads_back_as_the_same_integers(kind: NeuronKind, tmp_path) -> None:
    block = kind.blocks[-1](6, 5) if len(kind.blocks) > 1 else kind.blocks[0](6, 5)
    weight, weight_rec = block.integer_weights()
    with h5py.File(tmp_path / "layer.h5", "w") as f:
        block.export_hdf5(f.create_group("0"))
    with h5py.File(tmp_path / "layer.h5", "r") as f:
        layer = read_layer(f["0"], kind.params, kind.int_params)
    np.testing.assert_array_equal(layer.weight, weight)
    assert (layer.weight_rec is None) == (weight_rec is None)
    if weight_rec is not None:
        np.testing.assert_array_equal(layer.weight_rec, weight_rec)
    for a, b in zip(layer.params, block.integer_params()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", OURS, ids=ids)
def test_the_block_and_the_lava_fixed_pt_process_agree_bit_for_bit(kind: NeuronKind, tmp_path) -> None:
    block = one_block(kind, seed=5)
    x = (torch.rand(3, 6, 16, generator=torch.Generator().manual_seed(6)) < 0.4).float()
    with torch.no_grad():
        block.reset_state()
        expected = block(x).numpy()
    path = tmp_path / "one.net"
    export_network(BlockChain([block]), path)
    result = run_in_lava(path, x.numpy(), "fixed")
    assert expected.any()
    np.testing.assert_array_equal(result.output, expected)


@pytest.mark.parametrize("kind", OURS, ids=ids)
def test_values_beyond_a_register_are_refused_with_their_name(kind: NeuronKind, tmp_path) -> None:
    params = random_params(kind, 5, seed=7)
    for index, p in enumerate(kind.params.params):
        bad = params._replace(**{p.name: np.full(5, p.width.hi + 1)})
        with pytest.raises(ValueError, match=p.name):
            kind.params.check(bad._asdict())
        with pytest.raises(ValueError, match=p.name):
            kind.process(shape=(5,), params=bad)
        path = tmp_path / f"bad{index}.net"
        with h5py.File(path, "w") as f:
            write_layer(f.create_group("layer").create_group("0"), kind.netx_type, kind.message_bits,
                        NetxLayer(np.zeros((5, 4), np.int64), None, 0, bad))
        with pytest.raises(NetworkFileError, match=f"layer 0: .*{p.name}"):
            load_network(path)


@pytest.mark.slow
@pytest.mark.parametrize("model", STACK_MODELS)
def test_a_stack_trains_with_every_method_exports_and_runs_in_lava(model: str, tmp_path) -> None:
    """Every training method updates the network; the exported file runs in Lava's fixed point exactly
    as the trained torch network and close to it in float; the resource report sizes it."""
    assert model in models()
    torch.manual_seed(0)
    x = (torch.rand(4, 12, 10, generator=torch.Generator().manual_seed(8)) < 0.5).float()
    y = torch.tensor([0, 1, 2, 1])
    for algo in ("bptt", "tbptt", "sltt", "sltt-k", "fptt"):
        net = SpikingNetwork(NetworkConfig(sizes=(12, 9, 3), model=model, recurrent=True))
        with torch.no_grad():
            for block in net.layers:
                block.weight.mul_(3.0)
        before = [p.detach().clone() for p in net.parameters()]
        method = make_method(algo)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
        loss, _ = method.train_batch(net, x, y, sequence_loss(net.output_kind), optimizer)
        assert np.isfinite(loss), algo
        assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters())), algo
    path = export_network(net, tmp_path / f"{model}.net")
    expected = net.run(x).numpy()
    fixed = run_in_lava(path, x.numpy(), "fixed")
    np.testing.assert_array_equal(fixed.output, expected)
    floating = run_in_lava(path, x.numpy(), "float")
    assert floating.output.shape == expected.shape
    report = resource_report(path)
    assert report.neurons == 9 + 3 and report.layers[0].neuron == KINDS[model].netx_type
