"""The compiled CUBA dynamics (lava_fptt.neurons.cuba_fast) against slayer's own loops, bit for bit."""
from __future__ import annotations

import pytest
import torch

from lava.lib.dl import slayer
from lava.lib.dl.slayer.neuron.dynamics import leaky_integrator

from lava_fptt.neurons import cuba_fast

pytestmark = pytest.mark.skipif(not cuba_fast.available(), reason="numba is not installed: no compiled path to test")


def slayer_own(function: str):
    """slayer's original loop, whatever is installed."""
    return cuba_fast._original(function)


def random_input(shape: tuple[int, ...], quantized: bool, dtype: torch.dtype, generator: torch.Generator
                 ) -> torch.Tensor:
    """Synaptic input: multiples of 1/64 (slayer's quantized weights times spikes) or arbitrary reals."""
    x = torch.randn(shape, generator=generator, dtype=torch.float64) * 3
    if quantized:
        x = torch.round(x * 64) / 64
    return x.to(dtype)


@torch.no_grad()  # as inside slayer's autograd function
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("quantized", [True, False])
@pytest.mark.parametrize("shape", [(4, 7, 50), (3, 2, 3, 5, 40), (1, 1, 1)])
def test_forward_and_backward_loops_equal_slayers(shape, quantized, dtype):
    g = torch.Generator().manual_seed(hash((shape, quantized, str(dtype))) % 2**31)
    x = random_input(shape, quantized, dtype, g)
    per_neuron = shape[-2]  # slayer's decays broadcast against the last dimension of a step
    for decay, state, threshold in [
        (torch.randint(0, 4097, (per_neuron,), generator=g).float(), torch.randn(shape[:-1], generator=g), -1),
        (torch.tensor([1024.0]), torch.zeros(shape[:-1]), 1.25 + 0.01),
        (torch.randint(0, 4097, (1,), generator=g).float(), torch.rand(shape[:-1], generator=g), 0.5),
        (torch.tensor([0.0]), torch.zeros(shape[:-1]), 1e-3),  # no leak, tiny threshold: spikes nearly always
    ]:
        for w_scale in (64, 1 << 12):
            ours = cuba_fast.forward(x, decay, state.to(dtype), threshold, w_scale, dtype=torch.int64)
            theirs = slayer_own("_li_dynamics_fwd")(x, decay, state.to(dtype), threshold, w_scale,
                                                    dtype=torch.int64)
            assert ours.dtype == theirs.dtype
            assert torch.equal(ours, theirs), (decay, threshold, w_scale)
            grad = random_input(shape, False, dtype, g)
            for learn in (False, True):
                d = decay.clone().requires_grad_(learn)
                ours_in, ours_decay = cuba_fast.backward(grad, theirs, d)
                theirs_in, theirs_decay = slayer_own("_li_dynamics_bwd")(grad, theirs, d)
                assert torch.equal(ours_in, theirs_in)
                if learn:
                    assert torch.equal(ours_decay, theirs_decay)
                else:
                    assert ours_decay is None


@torch.no_grad()
def test_spike_comparison_rounds_as_slayers_float32():
    """Near 2**24 an int64 state compares with the threshold in float32, as torch does in slayer's loop."""
    x = torch.full((1, 2, 3), float(1 << 24), dtype=torch.float64)
    x[0, 1] = (1 << 24) + 1
    args = (torch.tensor([4096.0]), torch.zeros(1, 2), (1 << 24) + 0.5, 1)
    assert torch.equal(cuba_fast.forward(x, *args, dtype=torch.int64),
                       slayer_own("_li_dynamics_fwd")(x, *args, dtype=torch.int64))


def make_block(recurrent: bool, learn_decays: bool) -> torch.nn.Module:
    params = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03, "tau_grad": 0.03,
              "scale_grad": 3, "requires_grad": learn_decays, "shared_param": not learn_decays}
    block = (slayer.block.cuba.Recurrent if recurrent else slayer.block.cuba.Dense)(params, 12, 9, weight_scale=2, delay_shift=False)
    return block


@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("learn_decays", [False, True])
def test_slayer_blocks_forward_and_backward_are_bit_identical(recurrent, learn_decays):
    """Whole slayer blocks (quantized weights, spikes every step, carried state): states, spikes, gradients."""
    torch.manual_seed(3)
    block = make_block(recurrent, learn_decays)
    x = (torch.rand(5, 12, 60) < 0.3).float()

    def run() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        block.zero_grad()
        block.neuron.persistent_state = True
        block.neuron.current_state = torch.zeros(1)
        block.neuron.voltage_state = torch.zeros(1)
        first = block(x[..., :25])  # two calls: the state carried between them
        second = block(x[..., 25:])
        out = torch.cat([first, second], dim=-1)
        synapse = block.input_synapse if recurrent else block.synapse
        current, voltage = block.neuron.dynamics(synapse(x))
        (out * torch.linspace(-1, 2, out.shape[-1])).sum().backward()
        grads = [p.grad.clone() for p in block.parameters() if p.grad is not None]
        return [out, current, voltage, block.neuron.current_state, block.neuron.voltage_state], grads

    assert cuba_fast.install()
    fast, fast_grads = run()
    with cuba_fast.disabled():
        assert not cuba_fast.installed()
        own, own_grads = run()
    assert cuba_fast.installed()
    assert fast[0].sum() > 0
    for a, b in zip(fast, own):
        assert torch.equal(a, b)
    assert len(fast_grads) == len(own_grads) >= 1 + learn_decays * 2
    for a, b in zip(fast_grads, own_grads):
        assert torch.equal(a, b)


def test_installed_by_wrapping_a_network_and_reversible():
    from lava_fptt.online import wrap

    cuba_fast.uninstall()
    wrap(make_block(False, False))
    assert cuba_fast.installed()
    cuba_fast.uninstall()
    assert leaky_integrator._li_dynamics_fwd is slayer_own("_li_dynamics_fwd")
    assert cuba_fast.install() and cuba_fast.installed()


@pytest.mark.parametrize("recurrent", [False, True])
def test_fused_neuron_dynamics_equal_slayers_two_integrators(recurrent):
    """The adapter's one-node CUBA dynamics: same currents, voltages, spikes, carried state and gradients."""
    torch.manual_seed(5)
    block = make_block(recurrent, learn_decays=False)
    synapse = block.input_synapse if recurrent else block.synapse
    block.neuron(synapse(torch.zeros(1, 12, 1)))  # slayer shapes its neuron on the first call
    x = (torch.rand(6, 12, 40) < 0.4).float()

    def run(fused: bool) -> list[torch.Tensor]:
        neuron = block.neuron
        block.zero_grad()
        neuron.persistent_state = True
        neuron.current_state, neuron.voltage_state = torch.zeros(1), torch.zeros(1)
        if fused:
            neuron.dynamics = cuba_fast.fused_dynamics(neuron)
            assert neuron.dynamics is not None
        try:
            z = synapse(x)
            z.retain_grad()
            outputs = []
            for part in (z[..., :15], z[..., 15:16], z[..., 16:]):  # chunks, one of a single step
                current, voltage = neuron.dynamics(part)
                outputs += [current, voltage, neuron.spike(voltage)]
            states = [neuron.current_state.clone(), neuron.voltage_state.clone()]
            loss = sum((o * torch.linspace(-1, 1, o.shape[-1])).sum() for o in outputs[1::3] + outputs[2::3])
            loss.backward()
        finally:
            neuron.__dict__.pop("dynamics", None)
        return outputs + states + [z.grad, synapse.weight.grad]

    fused, own = run(True), run(False)
    assert fused[2].sum() > 0
    for a, b in zip(fused, own):
        assert torch.equal(a, b)


@pytest.mark.parametrize("batch_change", [False, True])
def test_whole_neuron_in_one_node_equals_slayers_dynamics_and_spike(batch_change):
    """fused_neuron: spikes, carried states, input and weight gradients equal slayer's neuron forward, chunk by chunk."""
    assert cuba_fast.install()
    torch.manual_seed(7)
    block = make_block(False, learn_decays=False)
    block.neuron(block.synapse(torch.zeros(1, 12, 1)))  # slayer shapes its neuron on the first call
    x = (torch.rand(6, 12, 40) < 0.4).float()

    def run(fused: bool) -> list[torch.Tensor]:
        neuron = block.neuron
        block.zero_grad()
        neuron.persistent_state = True
        start = torch.zeros(1) if not batch_change else torch.full((2, 9), 0.5)  # another batch: slayer restarts
        neuron.current_state, neuron.voltage_state = start, start.clone()
        if fused:
            neuron.forward = cuba_fast.fused_neuron(neuron)
            assert neuron.forward is not None
        try:
            z = block.synapse(x)
            z.retain_grad()
            spikes, states = [], []
            for part in (z[..., :15], z[..., 15:16], z[..., 16:]):  # chunks, one of a single step
                spikes.append(neuron(part))
                states += [neuron.current_state.clone(), neuron.voltage_state.clone()]
            out = torch.cat(spikes, dim=-1)
            (out * torch.linspace(-1, 2, out.shape[-1])).sum().backward()
        finally:
            neuron.__dict__.pop("forward", None)
        return [out, *states, z.grad, block.synapse.weight.grad]

    fused, own = run(True), run(False)
    assert fused[0].sum() > 0 and fused[-2].abs().sum() > 0
    for a, b in zip(fused, own):
        assert a.shape == b.shape and torch.equal(a, b)


def test_whole_neuron_in_one_node_is_left_to_slayer_for_graded_spikes_and_dropout():
    assert cuba_fast.install()
    block = make_block(False, learn_decays=False)
    block.neuron(block.synapse(torch.zeros(1, 12, 1)))
    block.neuron.persistent_state = True
    assert cuba_fast.fused_neuron(block.neuron) is not None
    block.neuron.graded_spike = True
    assert cuba_fast.fused_neuron(block.neuron) is None
    block.neuron.graded_spike, block.neuron.drop = False, torch.nn.Dropout(0.1)
    assert cuba_fast.fused_neuron(block.neuron) is None
