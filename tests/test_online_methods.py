"""Each training method against an independent computation of what it should do."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from lava_fptt.neurons import cuba_fast
from lava_fptt.training import make_method
from lava_fptt.training.engine import RateCrossEntropy, trainable
from lava_fptt.training.methods import FPTT, SLTTK

torch.set_num_threads(1)
SIZES = (16, 32, 10)
STEPS = 12
GAIN = 8.0


def network(seed: int = 0) -> SpikingNetwork:
    torch.manual_seed(seed)
    model = SpikingNetwork(NetworkConfig(sizes=SIZES))
    model.run(torch.zeros(1, SIZES[0], 1))
    return model


def batch(seed: int = 1, steps: int = STEPS, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(size, SIZES[0], steps, generator=g) < 0.5).float()
    return x, torch.randint(0, SIZES[-1], (size,), generator=g)


def weights(model: SpikingNetwork) -> list[torch.Tensor]:
    return list(trainable(model).values())


def grads(model: SpikingNetwork) -> list[torch.Tensor]:
    return [p.grad.clone() for p in weights(model)]


def state_before(model: SpikingNetwork, x: torch.Tensor, step: int) -> None:
    """Run steps [0, step) without gradients: the carried state SLTT sees at ``step``."""
    model.reset_state()
    with torch.no_grad():
        for s in range(step):
            model(x[..., s: s + 1])


def sltt_step_gradient(model: SpikingNetwork, x: torch.Tensor, y: torch.Tensor, step: int,
                       mse_weight: float) -> list[torch.Tensor]:
    """Gradient of SLTT's per-step loss at ``step`` on its own, written out from the paper's formula."""
    model = copy.deepcopy(model)
    state_before(model, x, step)
    s_t = model(x[..., step: step + 1])[..., 0]
    onehot = F.one_hot(y, SIZES[-1]).float()
    loss = (1 - mse_weight) * F.cross_entropy(GAIN * s_t, y) + mse_weight * F.mse_loss(s_t, onehot)
    return list(torch.autograd.grad(loss, weights(model)))


def frozen_sgd(model: SpikingNetwork) -> torch.optim.Optimizer:
    """lr 0: the method's step leaves the weights (and its accumulated .grad) for inspection."""
    return torch.optim.SGD(model.parameters(), lr=0.0)


# ---------------------------------------------------------------- BPTT / TBPTT

def test_tbptt_with_one_chunk_is_bptt() -> None:
    x, y = batch()
    results = []
    for name, params in (("bptt", {}), ("tbptt", {"chunk": STEPS})):
        model = network()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        loss, out = make_method(name, **params).train_batch(model, x, y, RateCrossEntropy(GAIN), optimizer)
        results.append((loss, out, [w.detach().clone() for w in weights(model)]))
    (loss_a, out_a, w_a), (loss_b, out_b, w_b) = results
    assert loss_a == loss_b and torch.equal(out_a.float(), out_b.float())
    assert all(torch.equal(a, b) for a, b in zip(w_a, w_b))


def test_tbptt_steps_once_per_chunk_on_the_chunk_loss() -> None:
    x, y = batch()
    model, reference = network(), network()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = RateCrossEntropy(GAIN)
    make_method("tbptt", chunk=5).train_batch(model, x, y, loss_fn, optimizer)
    # by hand: chunks [0,5) [5,10) [10,12), each a gradient step from the carried, detached state
    reference.reset_state()
    for start, stop in ((0, 5), (5, 10), (10, 12)):
        loss = loss_fn(reference(x[..., start:stop]), y, start, STEPS)
        for w, g in zip(weights(reference), torch.autograd.grad(loss, weights(reference))):
            w.data -= 0.5 * g
        reference.detach_state()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(weights(model), weights(reference)))
    assert not all(torch.equal(a, b) for a, b in zip(weights(model), weights(network())))


# ---------------------------------------------------------------- SLTT

@pytest.mark.parametrize("chunk", [1, 5, STEPS])
@pytest.mark.parametrize("mse_weight", [0.0, 0.05])
def test_sltt_gradient_is_the_sum_of_independent_per_step_gradients(mse_weight: float, chunk: int) -> None:
    """Whatever the chunk (5: chunks of 5, 5, 2 steps), the gradient is the sum of one-step gradients."""
    x, y = batch()
    model = network()
    initial = copy.deepcopy(model)
    method = make_method("sltt", chunk=chunk, mse_weight=mse_weight)
    _, spikes = method.train_batch(model, x, y, RateCrossEntropy(GAIN), frozen_sgd(model))
    expected = [torch.zeros_like(w) for w in weights(initial)]
    for step in range(STEPS):
        for total, g in zip(expected, sltt_step_gradient(initial, x, y, step, mse_weight)):
            total += g / STEPS
    assert all(e.abs().sum() > 0 for e in expected)
    for got, want in zip(grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    assert torch.equal(spikes.float(), initial.run(x))  # the forward is the ordinary one


def per_step_network(seed: int = 0) -> SpikingNetwork:
    """The network with its spatial-gradient mode hidden: SLTT falls back to one plain call per step."""
    model = network(seed)
    model.spatial_chunks = False
    return model


@pytest.mark.parametrize("name,params", [("sltt", {"mse_weight": 0.05}), ("sltt", {"late_weighting": True}),
                                         ("sltt-k", {"k": 5, "seed": 3})])
def test_chunked_sltt_equals_the_per_step_method(name: str, params: dict) -> None:
    """Chunks in the spatial-gradient mode against the per-step path: same loss, spikes, gradient."""
    x, y = batch(size=16)
    results = []
    for model, chunk in ((per_step_network(), 4), (network(), 4), (network(), STEPS)):
        method = make_method(name, chunk=chunk, **params)
        loss_fn = RateCrossEntropy(GAIN, late_weighting=method.late_weighting)
        loss, spikes = method.train_batch(model, x, y, loss_fn, frozen_sgd(model))
        results.append((loss, spikes, grads(model)))
    (loss_ref, spikes_ref, grads_ref) = results[0]
    assert all(g.abs().sum() > 0 for g in grads_ref)
    for loss, spikes, got in results[1:]:
        assert loss == pytest.approx(loss_ref, rel=1e-6)
        assert torch.equal(spikes, spikes_ref)
        for a, b in zip(got, grads_ref):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_spatial_mode_changes_no_forward_value_and_no_carried_state() -> None:
    x, _ = batch()
    plain, spatial = network(), network()
    plain.reset_state()
    spatial.reset_state()
    for start, stop in ((0, 5), (5, STEPS)):
        want = plain(x[..., start:stop])
        with spatial.spatial_gradients():
            got = spatial(x[..., start:stop])
        assert torch.equal(got, want) and got.requires_grad
    for a, b in zip(plain.blocks, spatial.blocks):  # the carried (current, voltage) of every block
        assert all(torch.equal(u, v) for u, v in zip(a._state, b._state))
    assert not spatial._spatial and "dynamics" not in spatial.layers[0].neuron.__dict__  # the mode ends with it


def test_spatial_gradient_of_a_step_ignores_earlier_steps_of_the_chunk() -> None:
    """Within a chunk, step t's output has no gradient with respect to the input of steps before t."""
    x, _ = batch()
    model = network()
    model.reset_state()
    x = x.clone().requires_grad_(True)
    with model.spatial_gradients():
        out = model(x)
    last = STEPS - 1
    (grad,) = torch.autograd.grad(out[..., last].sum(), x)
    delay = len(SIZES) - 1  # the output at step t answers the input at step t - delay
    assert grad[..., last - delay].abs().sum() > 0
    assert grad[..., : last - delay].abs().sum() == 0 and grad[..., last - delay + 1:].abs().sum() == 0


def test_sltt_on_a_network_without_spatial_mode_runs_one_step_per_call() -> None:
    from lava_fptt.models.network import NetworkConfig as Config
    from lava_fptt.training.methods.sltt import spatial_chunking

    ltc = SpikingNetwork(Config(sizes=(4, 6, 3), model="ltc"))
    length, context = spatial_chunking(ltc, 16)
    assert length == 1 and not ltc.spatial_chunks
    with context():
        pass
    with pytest.raises(NotImplementedError):
        ltc.spatial_gradients()
    assert spatial_chunking(network(), 16)[0] == 16


def test_sltt_drops_the_temporal_route_that_bptt_keeps() -> None:
    """Same loss summed over steps: with temporal routes (BPTT over the sequence) the gradient differs."""
    x, y = batch()
    model = network()
    make_method("sltt", mse_weight=0.0).train_batch(model, x, y, RateCrossEntropy(GAIN), frozen_sgd(model))
    full = network()
    full.reset_state()
    out = full(x)
    loss = sum(F.cross_entropy(GAIN * out[..., t], y) for t in range(STEPS)) / STEPS
    with_time = torch.autograd.grad(loss, weights(full))
    assert not all(torch.allclose(a, b) for a, b in zip(grads(model), with_time))


@pytest.mark.parametrize("chunk", [1, 4, STEPS])
def test_sltt_k_backpropagates_only_chunks_with_chosen_steps_and_estimates_sltt(chunk: int) -> None:
    x, y = batch()
    model = network()
    initial = copy.deepcopy(model)
    method = make_method("sltt-k", k=3, chunk=chunk, mse_weight=0.05, seed=7)
    assert isinstance(method, SLTTK)
    chosen = SLTTK(k=3, seed=7).choose_steps(STEPS)  # the same generator draws the same steps
    calls = []
    handles = [w.register_hook(lambda g, n=n: calls.append(n)) for n, w in trainable(model).items()]
    method.train_batch(model, x, y, RateCrossEntropy(GAIN), frozen_sgd(model))
    for h in handles:
        h.remove()
    backward_passes = len({step // chunk for step in chosen})  # one per chunk holding a chosen step
    assert len(chosen) == 3 and len(calls) == backward_passes * len(weights(model))
    expected = [torch.zeros_like(w) for w in weights(initial)]
    for step in chosen:
        for total, g in zip(expected, sltt_step_gradient(initial, x, y, step, 0.05)):
            total += g / 3
    for got, want in zip(grads(model), expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_sltt_k_draws_new_steps_each_batch_and_resumes_its_draws() -> None:
    method = SLTTK(k=4, seed=3)
    first = method.choose_steps(64)
    saved = method.state_dict()
    second = method.choose_steps(64)
    assert first != second and len(set(second)) == 4
    restored = SLTTK(k=4, seed=99)
    restored.load_state_dict(saved)
    assert restored.choose_steps(64) == second


# ---------------------------------------------------------------- FPTT

def test_fptt_regularizer_gradient_is_the_closed_form() -> None:
    torch.manual_seed(0)
    params = {"a": torch.nn.Parameter(torch.randn(3, 4)), "b": torch.nn.Parameter(torch.randn(5))}
    method = FPTT(alpha=0.3)
    method._ensure_state(params)
    for name in params:
        method.w_bar[name] = torch.randn_like(params[name])
        method.lam[name] = torch.randn_like(params[name])
    value = method.regularizer(params)
    expected = sum(0.15 * (p - method.w_bar[n] - method.lam[n] / 0.6).pow(2).sum() for n, p in params.items())
    torch.testing.assert_close(value, expected)
    autograd = torch.autograd.grad(value, list(params.values()))
    method.add_regularizer_grad(params)
    for p, g in zip(params.values(), autograd):
        torch.testing.assert_close(p.grad, g)


def test_fptt_dual_updates_follow_the_equations() -> None:
    params = {"w": torch.nn.Parameter(torch.tensor([2.0, -1.0]))}
    method = FPTT(alpha=0.5)
    method.w_bar = {"w": torch.tensor([1.0, 0.0])}
    method.lam = {"w": torch.tensor([0.3, 0.0])}
    method.update_duals(params)
    # lam <- 0.3 - 0.5 (2 - 1) = -0.2 ;  w_bar <- (1 + 2)/2 - (-0.2)/(2 * 0.5) = 1.7
    # lam <- 0 - 0.5 (-1 - 0) = 0.5   ;  w_bar <- (0 - 1)/2 - 0.5/1 = -1.0
    torch.testing.assert_close(method.lam["w"], torch.tensor([-0.2, 0.5]))
    torch.testing.assert_close(method.w_bar["w"], torch.tensor([1.7, -1.0]))


@pytest.mark.parametrize("clip", [None, 0.05])
def test_fptt_batch_matches_a_hand_written_run_of_the_equations(clip: float | None) -> None:
    """Two chunks with plain SGD: every update written out from the equations."""
    x, y = batch(steps=8)
    alpha, lr = 0.2, 0.5
    model = network()
    method = FPTT(chunk=4, alpha=alpha, clip=clip, late_weighting=True)
    loss_fn = RateCrossEntropy(GAIN, late_weighting=True)
    method.train_batch(model, x, y, loss_fn, torch.optim.SGD(model.parameters(), lr=lr))

    reference = network()
    w = [p.detach().clone() for p in weights(reference)]
    w_bar, lam = [t.clone() for t in w], [torch.zeros_like(t) for t in w]
    reference.reset_state()
    for start, stop in ((0, 4), (4, 8)):
        for p, value in zip(weights(reference), w):
            p.data.copy_(value)
        out = reference(x[..., start:stop])
        loss = F.cross_entropy(GAIN * out.mean(-1), y) * stop / 8
        g = [gl + alpha * (wi - wb) - li / 2
             for gl, wi, wb, li in zip(torch.autograd.grad(loss, weights(reference)), w, w_bar, lam)]
        if clip is not None:
            norm = math.sqrt(sum(float(gi.pow(2).sum()) for gi in g))
            g = [gi * min(1.0, clip / (norm + 1e-6)) for gi in g]
        w = [wi - lr * gi for wi, gi in zip(w, g)]
        lam = [li - alpha * (wi - wb) for li, wi, wb in zip(lam, w, w_bar)]
        w_bar = [(wb + wi) / 2 - li / (2 * alpha) for wb, wi, li in zip(w_bar, w, lam)]
        reference.detach_state()
    for got, want in zip(weights(model), w):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-6)
    for name, want_bar, want_lam in zip(trainable(model), w_bar, lam):
        torch.testing.assert_close(method.w_bar[name], want_bar, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(method.lam[name], want_lam, rtol=1e-5, atol=1e-6)


def test_fptt_resumes_from_its_state_dict() -> None:
    """Two batches in one go equal one batch, a checkpoint of everything, and the second batch."""
    batches = [batch(seed=1), batch(seed=2)]
    loss_fn = RateCrossEntropy(GAIN, late_weighting=True)
    straight = network()
    method = FPTT(chunk=3)
    optimizer = torch.optim.Adam(straight.parameters(), lr=1e-2)
    for x, y in batches:
        method.train_batch(straight, x, y, loss_fn, optimizer)

    first = network()
    method = FPTT(chunk=3)
    optimizer = torch.optim.Adam(first.parameters(), lr=1e-2)
    method.train_batch(first, *batches[0], loss_fn, optimizer)
    checkpoint = copy.deepcopy({"model": first.state_dict(), "optimizer": optimizer.state_dict(),
                                "method": method.state_dict()})
    resumed = network(seed=5)
    resumed.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.Adam(resumed.parameters(), lr=1e-2)
    optimizer.load_state_dict(checkpoint["optimizer"])
    method = FPTT(chunk=3)
    method.load_state_dict(checkpoint["method"])
    method.train_batch(resumed, *batches[1], loss_fn, optimizer)
    for a, b in zip(weights(straight), weights(resumed)):
        assert torch.equal(a, b)


# ---------------------------------------------------------------- all methods

class SavedTensors:
    """Counts the elements autograd holds for backward, and their peak, while active."""

    def __init__(self) -> None:
        self.live = self.peak = 0

    def pack(self, tensor: torch.Tensor) -> Held:
        return Held(tensor, self)

    @staticmethod
    def unpack(held: Held) -> torch.Tensor:
        return held.tensor


class Held:
    def __init__(self, tensor: torch.Tensor, counter: SavedTensors) -> None:
        self.tensor, self.counter = tensor, counter
        counter.live += tensor.numel()
        counter.peak = max(counter.peak, counter.live)

    def __del__(self) -> None:
        self.counter.live -= self.tensor.numel()


def peak_saved(name: str, params: dict, steps: int) -> int:
    model = network()
    x, y = batch(steps=steps)
    counter = SavedTensors()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with torch.autograd.graph.saved_tensors_hooks(counter.pack, counter.unpack):
        make_method(name, **params).train_batch(model, x, y, RateCrossEntropy(GAIN), optimizer)
    assert counter.live == 0  # every graph was freed
    return counter.peak


@pytest.mark.parametrize("name,params", [("tbptt", {"chunk": 4}), ("sltt", {"chunk": 1}), ("sltt", {"chunk": 4}),
                                         ("sltt-k", {"k": 3, "chunk": 1}), ("fptt", {}), ("fptt", {"chunk": 4})])
def test_what_autograd_holds_does_not_grow_with_sequence_length(name: str, params: dict) -> None:
    assert peak_saved(name, params, 32) == peak_saved(name, params, 8) > 0


def test_what_chunked_sltt_k_holds_is_bounded_by_sltt_over_one_chunk() -> None:
    """SLTT-K's peak depends on how many chosen steps share a chunk, never on T: at most SLTT's."""
    bound = peak_saved("sltt", {"chunk": 4}, 8)
    assert all(0 < peak_saved("sltt-k", {"k": 3, "chunk": 4}, steps) <= bound for steps in (8, 32, 64))


def test_what_sltt_holds_grows_with_its_chunk_and_stays_below_bptt_over_as_many_steps() -> None:
    one, four, eight = (peak_saved("sltt", {"chunk": chunk}, 8) for chunk in (1, 4, 8))
    # BPTT as slayer runs it: its two integrators keep their outputs for the backward (the
    # compiled neuron of lava_fptt.neurons.cuba_fast keeps none, so BPTT holds less there)
    with cuba_fast.disabled():
        assert one < four < eight < peak_saved("bptt", {}, 8)


def test_bptt_holds_what_grows_with_sequence_length() -> None:
    assert peak_saved("bptt", {}, 32) > 3 * peak_saved("bptt", {}, 8)


@pytest.mark.parametrize("name", ["bptt", "tbptt", "sltt", "sltt-k", "fptt"])
def test_every_method_learns_a_fixed_batch(name: str) -> None:
    x, y = batch(steps=10, size=16)
    model = network()
    method = make_method(name, **({"k": 5} if name == "sltt-k" else {}))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = RateCrossEntropy(GAIN, late_weighting=method.late_weighting)
    losses = [method.train_batch(model, x, y, loss_fn, optimizer)[0] for _ in range(15)]
    assert min(losses[-3:]) < 0.8 * losses[0]


def test_unknown_method_parameters_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="takes no parameter clip"):
        make_method("sltt", clip=1.0)
    with pytest.raises(ValueError, match="unknown training method"):
        make_method("rtrl")
