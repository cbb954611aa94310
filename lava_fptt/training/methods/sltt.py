"""SLTT and SLTT-K: Spatial Learning Through Time.

Source: Meng et al., "Towards Memory- and Time-Efficient Backpropagation for Training
Spiking Neural Networks", ICCV 2023 (arXiv 2302.14311). Gradients that flow backward
through time (through a neuron's leak and reset) contribute little; SLTT drops all of
them. The sequence then runs one step at a time from the carried, detached state (what
a chunk of one step gives with our models), the backward of each step runs right after
its forward and frees its graph, gradients accumulate, and the optimizer steps once
per batch.

Per-step loss. The paper trains on the mean over steps of a per-step loss,
``l_t = (1 - lam) CE(o_t, y) + lam MSE(o_t, onehot(y))``, ``L = (1/T) sum_t l_t``, with
lam = 0.05. Our sequence loss is a cross-entropy of the output *rate* over the whole
sequence, which is not known until the last step. We use its value on a one-step
chunk, ``CE(gain * s_t, y)`` with s_t the output spikes of step t (times (t+1)/T when
``late_weighting``), as the CE term, and the MSE between s_t and the one-hot label as
the MSE term. Since cross-entropy is convex in the logits, the mean per-step CE bounds
the rate CE from above (Jensen), so lowering it lowers the rate loss.

Cost: memory of one step's graph whatever T is (constant in T); compute of one forward
and one backward per step (SLTT) or per chosen step (SLTT-K), one optimizer step.
"""
from __future__ import annotations

from typing import Any

import torch

from ..engine import Method, SequenceLoss, SpikeRecord, gradient_sync, unwrap


def step_loss(output: torch.Tensor, target: torch.Tensor, step: int, num_steps: int,
              loss_fn: SequenceLoss, mse_weight: float) -> torch.Tensor:
    """SLTT's per-step loss l_t of the one-step output ``output`` [B, K, 1] (see module doc)."""
    loss = loss_fn(output, target, step, num_steps)
    if mse_weight:
        onehot = torch.nn.functional.one_hot(target, output.shape[1]).to(output.dtype)
        loss = (1 - mse_weight) * loss + mse_weight * torch.nn.functional.mse_loss(output.mean(-1), onehot)
    return loss


class SLTT(Method):
    """SLTT: a backward at every step on l_t / T, one optimizer step per batch.

    Under DDP all backward passes but the last run in ``no_sync()``: one all-reduce per
    batch, of the accumulated gradient. Returns the mean per-step loss.
    """

    name = "sltt"

    def __init__(self, mse_weight: float = 0.05, late_weighting: bool = False) -> None:
        super().__init__(late_weighting)
        if not 0 <= mse_weight <= 1:
            raise ValueError(f"mse_weight must be in [0, 1], got {mse_weight}")
        self.mse_weight = mse_weight

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        net = unwrap(model)
        net.reset_state()
        num_steps = x.shape[-1]
        record = SpikeRecord(num_steps)
        optimizer.zero_grad()
        total = 0.0
        for step in range(num_steps):
            with gradient_sync(model, sync=step == num_steps - 1):
                output = model(x[..., step: step + 1])
                loss = step_loss(output, target, step, num_steps, loss_fn, self.mse_weight) / num_steps
                loss.backward()
            net.detach_state()
            record.add(output, step)
            total += loss.item()
        optimizer.step()
        return total, record.spikes


class SLTTK(Method):
    """SLTT-K: backward on ``k`` steps drawn at random per batch; the others run forward only.

    The chosen steps' losses are scaled by 1/k instead of 1/T, so the accumulated
    gradient is an unbiased estimate of SLTT's (the mean of l_t over the chosen steps
    estimates the mean over all steps). Steps are drawn without replacement from the
    method's own generator (seeded, checkpointed), so all DDP ranks choose the same
    steps; all chosen backward passes but the last run in ``no_sync()``. Returns the
    mean per-step loss over all T steps (computed without gradients where not chosen).
    """

    name = "sltt-k"

    def __init__(self, k: int = 4, mse_weight: float = 0.05, seed: int = 0, late_weighting: bool = False) -> None:
        super().__init__(late_weighting)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not 0 <= mse_weight <= 1:
            raise ValueError(f"mse_weight must be in [0, 1], got {mse_weight}")
        self.k = k
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
        chosen = self.choose_steps(num_steps)
        chosen_set, last = set(chosen), chosen[-1]
        record = SpikeRecord(num_steps)
        optimizer.zero_grad()
        total = 0.0
        for step in range(num_steps):
            if step in chosen_set:
                with gradient_sync(model, sync=step == last):
                    output = model(x[..., step: step + 1])
                    loss = step_loss(output, target, step, num_steps, loss_fn, self.mse_weight)
                    (loss / len(chosen)).backward()
                net.detach_state()
            else:
                with torch.no_grad():
                    output = model(x[..., step: step + 1])
                    loss = step_loss(output, target, step, num_steps, loss_fn, self.mse_weight)
            record.add(output, step)
            total += loss.item() / num_steps
        optimizer.step()
        return total, record.spikes

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
