"""A slayer CUBA Dense block as one autograd node (lava_fptt.neurons.cuba_dense) against slayer's own block."""
from __future__ import annotations

import pytest
import torch

from lava.lib.dl import slayer

from lava_fptt.neurons import cuba_dense, cuba_fast
from lava_fptt.online import wrap

pytestmark = pytest.mark.skipif(not cuba_fast.available(), reason="numba is not installed: no compiled path to test")

PARAMS = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03, "tau_grad": 0.03, "scale_grad": 3}


def make_block(inputs: int = 12, outputs: int = 9, weight_scale: float = 2.0) -> torch.nn.Module:
    block = slayer.block.cuba.Dense(PARAMS, inputs, outputs, weight_scale=weight_scale, delay_shift=False)
    block.neuron(block.synapse(torch.zeros(1, inputs, 1)))  # slayer shapes its neuron on the first call
    return block


def close(a: torch.Tensor, b: torch.Tensor) -> None:
    """Equal to float32 rounding of sums taken in another order, relative to the gradient's scale."""
    assert a.shape == b.shape and a.dtype == b.dtype
    assert bool(((a - b).abs() <= 1e-5 * b.abs() + 1e-6 * b.abs().max()).all()), float((a - b).abs().max())


def slayers_run(block: torch.nn.Module, chunks: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """slayer's own block (its own loops), called chunk by chunk with its persistent state."""
    neuron = block.neuron
    neuron.persistent_state = True
    neuron.current_state, neuron.voltage_state = torch.zeros(1), torch.zeros(1)
    spikes, states = [], []
    try:
        with cuba_fast.disabled():
            for chunk in chunks:
                spikes.append(block(chunk))
                states += [neuron.current_state.clone(), neuron.voltage_state.clone()]
    finally:
        neuron.persistent_state = False
    return spikes, states


def ours(block: torch.nn.Module, chunks: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    assert cuba_fast.install() and cuba_dense.applies(block)
    step, state = cuba_dense.DenseBlock(block), None
    spikes, states = [], []
    for chunk in chunks:
        done = step(chunk, state)
        assert done is not None
        out, state = done
        spikes.append(out)
        states += [state[0].clone(), state[1].clone()]
    return spikes, states


@pytest.mark.parametrize("batch_change", [False, True])
def test_one_node_block_equals_slayers_block_step_by_step(batch_change):
    """Spikes and carried states bit for bit, chunk by chunk (one of a single step), from rest and across a
    batch change; input and weight gradients equal to rounding."""
    torch.manual_seed(11)
    block = make_block()
    with torch.no_grad():  # some weights past the quantization's clamp, whose gradient is zero there
        block.synapse.weight[:2] *= 40
    x = (torch.rand(6, 12, 40) < 0.4).float()
    lengths = [15, 1, 24] if not batch_change else [15, 1]
    results = []
    for run in (slayers_run, ours):
        block.zero_grad()
        parts, start = [], 0
        for index, length in enumerate(lengths):
            part = x[: 4 if batch_change and index else 6, :, start:start + length].clone().requires_grad_(True)
            parts.append(part)
            start += length
        spikes, states = run(block, parts)
        loss = sum((s * torch.linspace(-1, 2, s.shape[-1])).sum() for s in spikes)
        loss.backward()
        results.append((spikes, states, [p.grad for p in parts], block.synapse.weight.grad.clone()))
    (own_spikes, own_states, own_input, own_weight), (fast_spikes, fast_states, fast_input, fast_weight) = results
    assert sum(float(s.detach().sum()) for s in own_spikes) > 0
    for a, b in zip(fast_spikes + fast_states, own_spikes + own_states):
        assert a.shape == b.shape and torch.equal(a, b)
    assert own_weight.abs().sum() > 0 and (own_weight[:2] == 0).any()  # clamped weights get no gradient
    for a, b in zip(fast_input + [fast_weight], own_input + [own_weight]):
        close(a, b)


def test_quantized_weight_is_slayers():
    """slayer's quantize_8bit values (ties rounded to even as torch.round), and the clamp's gradient mask,
    for weights inside and past the clamp."""
    torch.manual_seed(2)
    block = make_block()
    weight = block.synapse.weight
    with torch.no_grad():
        weight[:3] *= 60
        weight[3, :6, 0, 0, 0] = torch.tensor([0.5, 1.5, -2.5, 2.5, -0.5, 7.5]) * 2 / block.neuron.w_scale  # ties
    value, mask = cuba_dense.quantized_weight(weight, block.neuron.w_scale)
    hooked = block.neuron.quantize_8bit(weight)
    assert torch.equal(value, hooked.detach().reshape(value.shape))
    hooked.sum().backward()
    assert torch.equal(mask, weight.grad.reshape(mask.shape) == 1) and not mask.all()


def test_left_to_slayer_where_it_does_not_apply():
    block = make_block()
    assert cuba_fast.install() and cuba_dense.applies(block)
    block.neuron.graded_spike = True
    assert not cuba_dense.applies(block)
    block.neuron.graded_spike = False
    block.synapse.pre_hook_fx = lambda w: w  # another quantization: slayer's own path computes it
    assert not cuba_dense.applies(block)
    block = make_block()
    handle = block.synapse.register_forward_pre_hook(lambda module, args: None)
    assert not cuba_dense.applies(block)
    handle.remove()
    assert cuba_dense.applies(block)
    step = cuba_dense.DenseBlock(block)
    assert step(torch.zeros(2, 5, 3), None) is None  # another input width: slayer's own error path
    assert step(torch.zeros(2, 12, 3, dtype=torch.int64), None) is None
    assert step(torch.zeros(2, 12, 3, dtype=torch.float64), None) is None  # not the weight's type


def test_adapter_runs_dense_blocks_as_one_node_and_leaves_them_as_found():
    """Through the adapter: the same spikes as slayer's own whole-sequence forward (delay moved to the input),
    with the block's neuron never touched (its state, flags and methods as before)."""
    torch.manual_seed(4)
    net = torch.nn.Sequential(make_block(12, 16), make_block(16, 5))
    for block in net:
        block.delay_shift = True
    x = (torch.rand(3, 12, 30) < 0.4).float()
    with torch.no_grad(), cuba_fast.disabled():
        expected = net(x)
    model = wrap(net)
    before = [(b.neuron.persistent_state, b.neuron.current_state.clone()) for b in net]
    calls = []
    original = cuba_dense.DenseStep.apply

    def counted(*args):
        calls.append(1)
        return original(*args)

    cuba_dense.DenseStep.apply = counted
    try:
        model.reset_state()
        out = torch.cat([model(x[..., :10]), model(x[..., 10:11]), model(x[..., 11:])], dim=-1)
    finally:
        cuba_dense.DenseStep.apply = original
    assert len(calls) == 6 and expected.sum() > 0
    assert torch.equal(out, expected)
    for block, (persistent, state) in zip(net, before):
        assert block.neuron.persistent_state == persistent and torch.equal(block.neuron.current_state, state)
        assert "forward" not in block.__dict__ and "forward" not in block.neuron.__dict__
