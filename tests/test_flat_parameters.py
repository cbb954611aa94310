"""Parameters laid out in one flat vector: the model computes, learns and checkpoints as before."""
from __future__ import annotations

import pytest
import torch

from lava_fptt.training.config import make_optimizer
from lava_fptt.training.engine import RateCrossEntropy, trainable
from lava_fptt.training.flat import FlatParameters, flat_parameters
from lava_fptt.training.methods.fptt import FPTT
from lava_fptt.training.methods.fptt_kernels import supports


def model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))


def test_parameters_keep_their_values_and_backward_fills_the_gradient_vector() -> None:
    net, twin = model(), model()
    flat = FlatParameters(net.parameters())
    for a, b in zip(net.parameters(), twin.parameters()):
        assert torch.equal(a, b)
    x = torch.randn(4, 5)
    net(x).square().sum().backward()
    twin(x).square().sum().backward()
    expected = torch.cat([p.grad.reshape(-1) for p in twin.parameters()])
    assert torch.equal(flat.grad, expected)
    flat.zero_grad()
    assert not flat.grad.any() and all(not p.grad.any() for p in net.parameters())
    next(net.parameters()).grad = None  # e.g. a zero_grad(set_to_none=True) elsewhere: the view comes back
    flat.zero_grad()
    net(x).sum().backward()
    assert torch.equal(flat.grad[:35], next(net.parameters()).grad.reshape(-1))


def step_each(pairs: tuple[tuple[torch.nn.Module, torch.optim.Optimizer], ...], x: torch.Tensor) -> None:
    """One optimizer step of every (network, optimizer) pair on the same loss of ``x``."""
    for m, opt in pairs:
        opt.zero_grad()
        m(x).square().mean().backward()
        opt.step()


def assert_same_parameters(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, reference", [("adam", torch.optim.Adam), ("adamax", torch.optim.Adamax)])
def test_a_flat_optimizer_takes_the_steps_of_the_separate_one(name: str, reference: type) -> None:
    net, twin = model(), model()
    optimizer, twin_optimizer = make_optimizer(name, net.parameters(), 0.05), reference(twin.parameters(), lr=0.05)
    for step in range(5):
        x = torch.randn(4, 5, generator=torch.Generator().manual_seed(step))
        step_each(((net, optimizer), (twin, twin_optimizer)), x)
    assert_same_parameters(net, twin)
    # a state saved over the separate parameters (runs written before) continues the same run
    resumed = model(seed=3)
    resumed.load_state_dict(twin.state_dict())
    flat_opt = make_optimizer(name, resumed.parameters(), 0.05)
    flat_opt.load_state_dict(twin_optimizer.state_dict())
    step_each(((resumed, flat_opt), (twin, twin_optimizer)), torch.randn(4, 5))
    assert_same_parameters(resumed, twin)


def test_a_parameter_given_new_storage_is_refused_at_the_next_step() -> None:
    net = model()
    optimizer = make_optimizer("adam", net.parameters(), 0.1)
    net[2].bias.data = torch.zeros(3)
    with pytest.raises(RuntimeError, match=r"parameter 3 \(shape \(3,\)\) was given new storage"):
        optimizer.step()


@pytest.mark.parametrize("name, reference", [("adam", torch.optim.Adam), ("adamax", torch.optim.Adamax)])
def test_fptt_over_a_flat_optimizer_equals_fptt_over_the_separate_parameters(name: str, reference: type) -> None:
    """The same updates (regularizer, clip, optimizer, duals) on one vector, as one compiled call,
    as torch's on the list, and the same per-parameter and optimizer state to checkpoint."""
    torch.manual_seed(1)
    x, y = torch.rand(6, 5, 12), torch.randint(0, 3, (6,))

    class Steps(torch.nn.Module):  # a tiny network the engine can walk in chunks
        def __init__(self) -> None:
            super().__init__()
            self.net = model()

        def forward(self, chunk: torch.Tensor) -> torch.Tensor:
            return self.net(chunk.transpose(1, 2)).transpose(1, 2)

        def reset_state(self) -> None: ...

        def detach_state(self) -> None: ...

    loss_fn = RateCrossEntropy(2.0, late_weighting=True)
    results = []
    for flat in (True, False):
        net = Steps()
        params = list(net.parameters())
        optimizer = make_optimizer(name, params, 0.02) if flat else reference(params, lr=0.02)
        assert (flat_parameters(optimizer, trainable(net).values()) is not None) == flat
        assert supports(optimizer) == flat  # the flat vector takes the compiled update
        method = FPTT(chunk=3, alpha=0.2, clip=0.5)
        for _ in range(3):
            method.train_batch(net, x, y, loss_fn, optimizer)
        moments = [torch.cat([v.reshape(-1) for v in moment]) for moment in
                   zip(*([s[k] for k in sorted(s) if k != "step"] for s in optimizer.state.values()))]
        steps = {float(s["step"]) for s in optimizer.state.values()}
        results.append((list(net.parameters()), method.state_dict(), moments, steps))
    (p_flat, s_flat, m_flat, step_flat), (p_list, s_list, m_list, step_list) = results
    assert step_flat == step_list == {12.0}  # 3 batches of 4 chunks
    for a, b in zip(m_flat, m_list, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(p_flat, p_list):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for key in ("w_bar", "lam"):
        assert s_flat[key].keys() == s_list[key].keys()
        for name in s_flat[key]:
            torch.testing.assert_close(s_flat[key][name], s_list[key][name], rtol=1e-5, atol=1e-6)
