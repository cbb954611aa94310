"""The LTC network's chunk without an autograd graph (``forward_backward``) against autograd through it."""
from __future__ import annotations

import copy

import pytest
import torch

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from lava_fptt.training.config import make_optimizer
from lava_fptt.training.engine import LastStepCrossEntropy, RateCrossEntropy, sequence_loss
from lava_fptt.training.methods import make_method


def network(sizes: tuple[int, ...], recurrent: bool, seed: int = 0) -> SpikingNetwork:
    torch.manual_seed(seed)
    net = SpikingNetwork(NetworkConfig(sizes=sizes, model="ltc", recurrent=recurrent))
    with torch.no_grad():  # livelier than the initialization: spikes in every layer, some saturations
        for block in net.layers:
            block.weight.mul_(4.0)
    return net


def batch(sizes: tuple[int, ...], steps: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(6, sizes[0], steps, generator=gen) < 0.4).float()
    return x, torch.randint(0, sizes[-1], (6,), generator=gen)


class Autograd(torch.nn.Module):
    """The network without its ``forward_backward``: the engine takes the autograd path."""

    def __init__(self, net: SpikingNetwork) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def reset_state(self) -> None:
        self.net.reset_state()

    def detach_state(self) -> None:
        self.net.detach_state()


@pytest.mark.parametrize("late_weighting", [False, True])
def test_the_last_step_loss_and_its_gradient_without_autograd_are_autograds(late_weighting) -> None:
    loss_fn = LastStepCrossEntropy(8.0, late_weighting=late_weighting)
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        output = torch.randn(7, 10, 3, generator=gen) * 3
        target = torch.randint(0, 10, (7,), generator=gen)
        leaf = output.clone().requires_grad_()
        loss = loss_fn(leaf, target, 5, 41)
        (grad,) = torch.autograd.grad(loss, leaf)
        value, fast = loss_fn.value_and_grad(output, target, 5, 41)
        assert torch.equal(value, loss.detach()) and torch.equal(fast, grad)


@pytest.mark.parametrize("sizes, recurrent", [((5, 12, 4), True), ((5, 12, 9, 4), False), ((5, 12, 9, 4), True)])
@pytest.mark.parametrize("chunk", [1, 3])
@pytest.mark.parametrize("loss_fn", [LastStepCrossEntropy(8.0, late_weighting=True), RateCrossEntropy(4.0)],
                         ids=["last-step", "autograd-loss"])
def test_one_chunk_gives_autograds_output_loss_gradients_and_state(sizes, recurrent, chunk, loss_fn) -> None:
    """Bit for bit; a loss without ``value_and_grad`` (here the rate loss) through autograd on the output."""
    net = network(sizes, recurrent)
    x, y = batch(sizes, 7)
    twin = copy.deepcopy(net)
    for model in (net, twin):  # a first chunk through autograd, to start the second from a carried state
        model.reset_state()
        model(x[..., :2])
        model.detach_state()
    out_a = net(x[..., 2:2 + chunk])
    loss_a = loss_fn(out_a, y, 2, 7)
    loss_a.backward()
    out_f, loss_f = twin.forward_backward(x[..., 2:2 + chunk], y, loss_fn, 2, 7)
    assert torch.equal(out_f, out_a.detach()) and torch.equal(loss_f, loss_a.detach())
    assert not out_f.requires_grad and not loss_f.requires_grad
    grads = {n: p.grad for n, p in net.named_parameters()}
    for name, p in twin.named_parameters():
        assert torch.equal(p.grad, grads[name]), name
    assert any(float(g.abs().sum()) > 0 for g in grads.values())
    for block_a, block_f in zip(net.layers, twin.layers):
        for value_a, value_f in zip(block_a._state, block_f._state):
            assert torch.equal(value_a, value_f) and value_a.dtype == value_f.dtype and not value_f.requires_grad
    assert torch.equal(net(x[..., 2 + chunk:]), twin(x[..., 2 + chunk:]))  # and the next chunk goes on alike


@pytest.mark.parametrize("algo, options", [("fptt", {"chunk": 1}), ("fptt", {"chunk": 8}), ("tbptt", {"chunk": 5})])
def test_training_with_it_is_training_through_autograd(algo, options) -> None:
    """The engine's dispatch: a batch of updates gives the same spikes, losses and weights either way."""
    sizes = (5, 12, 4)
    net = network(sizes, recurrent=True)
    twin = Autograd(copy.deepcopy(net))
    x, y = batch(sizes, 12)
    results = []
    for model in (net, twin):
        method = make_method(algo, **options)
        optimizer = make_optimizer("adam", model.parameters(), 1e-2)
        loss_fn = sequence_loss("readout", late_weighting=method.late_weighting)
        results.append([method.train_batch(model, x, y, loss_fn, optimizer) for _ in range(2)])
    for (loss_f, out_f), (loss_a, out_a) in zip(*results):
        assert loss_f == loss_a and torch.equal(out_f, out_a)
    for (name, p), q in zip(net.named_parameters(), twin.net.parameters()):
        assert torch.equal(p, q), name


def test_frozen_parameters_get_no_gradient() -> None:
    sizes = (5, 12, 4)
    net = network(sizes, recurrent=True)
    net.layers[0].mem_gate_i.requires_grad_(False)
    net.layers[1].weight.requires_grad_(False)
    x, y = batch(sizes, 3)
    net.forward_backward(x, y, sequence_loss("readout"), 0, 3)
    assert net.layers[0].mem_gate_i.grad is None and net.layers[1].weight.grad is None
    assert net.layers[0].weight.grad is not None and net.layers[1].bias.grad is not None


def test_it_declines_what_it_does_not_compute() -> None:
    """Float blocks and gradients switched off: nothing run, None (the engine then uses autograd)."""
    sizes = (5, 12, 4)
    x, y = batch(sizes, 3)
    loss_fn = sequence_loss("readout")
    float_net = SpikingNetwork(NetworkConfig(sizes=sizes, model="ltc", recurrent=True, quantized=False))
    assert float_net.forward_backward(x, y, loss_fn, 0, 3) is None
    net = network(sizes, recurrent=True)
    with torch.no_grad():
        assert net.forward_backward(x, y, loss_fn, 0, 3) is None
    assert all(block._state is None for block in net.layers)


def test_a_changed_batch_size_is_refused_as_by_forward() -> None:
    sizes = (5, 12, 4)
    net = network(sizes, recurrent=True)
    x, y = batch(sizes, 3)
    loss_fn = sequence_loss("readout")
    net.forward_backward(x, y, loss_fn, 0, 3)
    with pytest.raises(ValueError, match="batch size changed"):
        net.forward_backward(x[:3], y[:3], loss_fn, 0, 3)
