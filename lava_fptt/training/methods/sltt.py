"""SLTT and SLTT-K: Spatial Learning Through Time.

Source: Meng et al., "Towards Memory- and Time-Efficient Backpropagation for Training
Spiking Neural Networks", ICCV 2023 (arXiv 2302.14311). Gradients that flow backward
through time (through a neuron's leak and reset) contribute little; SLTT drops all of
them: the gradient of step t's loss flows only along step t's spatial path, from a
state carried into step t as a constant. Gradients accumulate over the sequence and
the optimizer steps once per batch.

Chunks. The paper runs a backward right after every step's forward. Since no gradient
crosses a step, the per-step backward passes of ``chunk`` consecutive steps can as well
run as one: the sequence is walked in chunks, each chunk is one call of the network
in its spatial-gradient mode (:meth:`OnlineNetwork.spatial_gradients
<lava_fptt.online.adapter.OnlineNetwork.spatial_gradients>`) followed by one backward
of the sum of its steps' losses, and the carried state is detached between chunks.
The gradient is the sum of the per-step gradients, exactly (up to float summation
order); the forward is the ordinary one. A network without that mode (LTC) runs one
step per call, where the detached carried state alone gives the spatial-only gradient.
:func:`spatial_chunking` is the one place that decides.

Per-step loss. The paper trains on the mean over steps of a per-step loss,
``l_t = (1 - lam) CE(o_t, y) + lam MSE(o_t, onehot(y))``, ``L = (1/T) sum_t l_t``, with
lam = 0.05. Our sequence loss is a cross-entropy of the output *rate* over the whole
sequence, which is not known until the last step. We use its value on a one-step
chunk, ``CE(gain * s_t, y)`` with s_t the output spikes of step t (times (t+1)/T when
``late_weighting``), as the CE term, and the MSE between s_t and the one-hot label as
the MSE term. Since cross-entropy is convex in the logits, the mean per-step CE bounds
the rate CE from above (Jensen), so lowering it lowers the rate loss. A chunk's loss is
the sum of its steps' l_t, each scaled as in the per-step form.

Cost: memory of one chunk's graph whatever T is (constant in T, growing with the
chunk); compute of one forward per step, one network call and one backward per chunk
(SLTT) or per chunk holding a chosen step (SLTT-K), one optimizer step.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Collection, ContextManager, Optional, cast

import torch

from ..engine import Method, SequenceLoss, SpikeRecord, chunks, gradient_sync, unwrap

DEFAULT_CHUNK = 4
"""Steps per network call and backward. Measured side by side with SpikingJelly and the code before
issue 15 (``docs/speed.md``, ``benchmarks/memory.py --sltt-chunk 4``): with 4 steps SLTT takes 0.88
and 0.76 of SpikingJelly's CPU time at T = 512 and 2048 and peaks at 15 to 16 MB, 0.75 of the old
code's; 8 steps were about as fast once the neuron loops were compiled, but peaked at 24 MB, above
the old code's 21 MB at T = 512."""


def step_loss(output: torch.Tensor, target: torch.Tensor, step: int, num_steps: int,
              loss_fn: SequenceLoss, mse_weight: float) -> torch.Tensor:
    """SLTT's per-step loss l_t of the one-step output ``output`` [B, K, 1] (see module doc)."""
    loss = loss_fn(output, target, step, num_steps)
    if mse_weight:
        onehot = torch.nn.functional.one_hot(target, output.shape[1]).to(output.dtype)
        loss = (1 - mse_weight) * loss + mse_weight * torch.nn.functional.mse_loss(output.mean(-1), onehot)
    return loss


def step_losses(output: torch.Tensor, target: torch.Tensor, start: int, num_steps: int, loss_fn: SequenceLoss,
                mse_weight: float, grad_steps: Optional[Collection[int]] = None) -> list[torch.Tensor]:
    """l_t of every step of the chunk ``output`` [B, K, t] that starts at step ``start``.

    Only the steps in ``grad_steps`` (positions in the chunk; None: all) are computed with
    a graph; the others from the detached output, so nothing is built that no backward frees.
    """
    steps = [output[..., i: i + 1] for i in range(output.shape[-1])]
    return [step_loss(s if grad_steps is None or i in grad_steps else s.detach(), target, start + i, num_steps,
                      loss_fn, mse_weight) for i, s in enumerate(steps)]


def spatial_chunking(net: Any, chunk: int) -> tuple[int, Callable[[], ContextManager[Any]]]:
    """How SLTT walks a sequence on ``net``: steps per call and the context each call runs in.

    A network with a spatial-gradient mode (``spatial_chunks``) takes ``chunk`` steps per
    call inside ``net.spatial_gradients()``; any other takes one step per call as it is
    (a one-step call from the detached carried state has only spatial gradients).
    """
    if getattr(net, "spatial_chunks", False):
        return chunk, net.spatial_gradients
    return 1, contextlib.nullcontext


def _check(chunk: int, mse_weight: float) -> None:
    """Refuse hyperparameters SLTT and SLTT-K share, at construction rather than mid-training."""
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if not 0 <= mse_weight <= 1:
        raise ValueError(f"mse_weight must be in [0, 1], got {mse_weight}")


class SLTT(Method):
    """SLTT: the spatial-only gradient of (1/T) sum_t l_t, one optimizer step per batch.

    One network call and one backward per chunk of ``chunk`` steps (see the module doc).
    Under DDP all backward passes but the last run in ``no_sync()``: one all-reduce per
    batch, of the accumulated gradient. Returns the mean per-step loss.
    """

    name = "sltt"

    def __init__(self, chunk: int = DEFAULT_CHUNK, mse_weight: float = 0.05, late_weighting: bool = False) -> None:
        super().__init__(late_weighting)
        _check(chunk, mse_weight)
        self.chunk = chunk
        self.mse_weight = mse_weight

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        net = unwrap(model)
        net.reset_state()
        num_steps = x.shape[-1]
        length, spatial = spatial_chunking(net, self.chunk)
        record = SpikeRecord(num_steps)
        optimizer.zero_grad()
        total = 0.0
        for start, stop in chunks(num_steps, length):
            with gradient_sync(model, sync=stop == num_steps), spatial():
                output = model(x[..., start:stop])
                loss = cast(torch.Tensor, sum(step_losses(output, target, start, num_steps, loss_fn,
                                                          self.mse_weight))) / num_steps
                loss.backward()
            net.detach_state()
            record.add(output, start)
            total += loss.item()
        optimizer.step()
        return total, record.spikes


class SLTTK(Method):
    """SLTT-K: only ``k`` steps drawn at random per batch contribute a gradient.

    The chosen steps' losses are scaled by 1/k instead of 1/T, so the accumulated
    gradient is an unbiased estimate of SLTT's (the mean of l_t over the chosen steps
    estimates the mean over all steps). Chunks of ``chunk`` steps as in :class:`SLTT`: a
    chunk holding chosen steps runs in the spatial-gradient mode and backpropagates the
    sum of its chosen steps' losses (as no gradient crosses a step, the other steps of
    the chunk contribute nothing: the same gradient as a backward per chosen step); a
    chunk without one runs forward only. Steps are drawn without replacement from the
    method's own generator (seeded, checkpointed), so all DDP ranks choose the same
    steps; all backward passes but the last run in ``no_sync()``. Returns the mean
    per-step loss over all T steps.
    """

    name = "sltt-k"

    def __init__(self, k: int = 4, chunk: int = DEFAULT_CHUNK, mse_weight: float = 0.05, seed: int = 0,
                 late_weighting: bool = False) -> None:
        super().__init__(late_weighting)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        _check(chunk, mse_weight)
        self.k = k
        self.chunk = chunk
        self.mse_weight = mse_weight
        self.generator = torch.Generator().manual_seed(seed)

    def choose_steps(self, num_steps: int) -> list[int]:
        """The steps of the next batch that get a backward pass, in order."""
        k = min(self.k, num_steps)
        return sorted(torch.randperm(num_steps, generator=self.generator)[:k].tolist())

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        net = unwrap(model)
        net.reset_state()
        num_steps = x.shape[-1]
        length, spatial = spatial_chunking(net, self.chunk)
        chosen = self.choose_steps(num_steps)
        record = SpikeRecord(num_steps)
        optimizer.zero_grad()
        total = 0.0
        for start, stop in chunks(num_steps, length):
            picked = [step - start for step in chosen if start <= step < stop]
            if picked:
                with gradient_sync(model, sync=stop > chosen[-1]), spatial():
                    output = model(x[..., start:stop])
                    losses = step_losses(output, target, start, num_steps, loss_fn, self.mse_weight, picked)
                    (cast(torch.Tensor, sum(losses[i] for i in picked)) / len(chosen)).backward()
                net.detach_state()
            else:
                with torch.no_grad():
                    output = model(x[..., start:stop])
                    losses = step_losses(output, target, start, num_steps, loss_fn, self.mse_weight)
            record.add(output, start)
            total += torch.stack(losses).sum().item() / num_steps
        optimizer.step()
        return total, record.spikes

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
