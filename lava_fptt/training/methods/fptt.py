"""FPTT: Forward Propagation Through Time, in its one-pass dual form.

Sources: Kag & Saligrama, "Training Recurrent Neural Networks via Forward Propagation
Through Time", ICML 2021; for spiking networks Yin, Corradi & Bohte, "Accurate online
training of dynamical spiking neural networks through Forward Propagation Through
Time", Nature Machine Intelligence 2023 (arXiv 2112.11231).

Instead of one gradient of the whole-sequence loss, FPTT takes an optimizer step at
every step (or every chunk of K steps) on the instantaneous loss l_t plus a dynamic
regularizer that keeps each parameter W near a running mean W_bar, steered by a dual
variable lam (W_bar starts at W, lam at 0):

    R(W)  = (alpha / 2) * || W - W_bar - lam / (2 alpha) ||^2
    step:   W <- optimizer step on  l_t(W) + R(W), gradient norm clipped to ``clip``
    lam   <- lam - alpha * (W - W_bar)
    W_bar <- (W_bar + W) / 2 - lam / (2 alpha)

(the updates use W after the step). The gradient of R is added in closed form,
alpha * (W - W_bar) - lam / 2, after the backward of l_t: one forward and one backward
per chunk (the dual form; a form that re-evaluates the gradient at the new weights
needs a second pass). The loss schedule weights late chunks most (l_t times t/T,
``late_weighting``), as the reference does for classifying a sequence seen step by step.

Cost: memory of one chunk's graph whatever T is, plus two copies of the trainable
parameters (W_bar, lam); compute of one forward and one backward per step and T/K
optimizer steps. W_bar and lam are in :meth:`FPTT.state_dict`, so checkpoints resume.
Under DDP each chunk's backward all-reduces the gradient of l_t; R's gradient is the
same on every rank (W, W_bar, lam are), so it is added after the reduction.
"""
from __future__ import annotations

from typing import Any, Optional

import torch

from ..engine import Method, SequenceLoss, step_every_chunk, trainable


class FPTT(Method):
    """FPTT with chunks of ``chunk`` steps (1: an update every step)."""

    name = "fptt"

    def __init__(self, chunk: int = 1, alpha: float = 0.1, clip: Optional[float] = 1.0,
                 late_weighting: bool = True) -> None:
        super().__init__(late_weighting)
        if chunk < 1 or alpha <= 0:
            raise ValueError(f"need chunk >= 1 and alpha > 0; got chunk={chunk}, alpha={alpha}")
        if clip is not None and clip <= 0:
            raise ValueError(f"clip must be > 0 (or None for no clipping), got {clip}")
        self.chunk = chunk
        self.alpha = alpha
        self.clip = clip
        self.w_bar: dict[str, torch.Tensor] = {}
        self.lam: dict[str, torch.Tensor] = {}

    def _ensure_state(self, params: dict[str, torch.nn.Parameter]) -> None:
        """Start W_bar at W and lam at 0 for parameters not seen (or restored) yet."""
        for name, p in params.items():
            if name not in self.w_bar:
                self.w_bar[name] = p.detach().clone()
                self.lam[name] = torch.zeros_like(p)
            elif self.w_bar[name].device != p.device:  # restored from a checkpoint read onto the CPU
                self.w_bar[name], self.lam[name] = self.w_bar[name].to(p.device), self.lam[name].to(p.device)

    def regularizer(self, params: dict[str, torch.nn.Parameter]) -> torch.Tensor:
        """R(W) summed over parameters (for inspection; training uses its closed-form gradient)."""
        self._ensure_state(params)
        return sum(0.5 * self.alpha * (p - self.w_bar[n] - self.lam[n] / (2 * self.alpha)).pow(2).sum()
                   for n, p in params.items())

    @torch.no_grad()
    def add_regularizer_grad(self, params: dict[str, torch.nn.Parameter]) -> None:
        """p.grad += dR/dW = alpha (W - W_bar) - lam / 2 (one multi-tensor operation per term)."""
        for p in params.values():
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        weights, w_bar, lam = self._lists(params)
        grad = torch._foreach_sub(weights, w_bar)
        torch._foreach_mul_(grad, self.alpha)
        torch._foreach_add_(grad, lam, alpha=-0.5)
        torch._foreach_add_([p.grad for p in weights], grad)

    @torch.no_grad()
    def update_duals(self, params: dict[str, torch.nn.Parameter]) -> None:
        """lam <- lam - alpha (W - W_bar); then W_bar <- (W_bar + W)/2 - lam/(2 alpha)."""
        weights, w_bar, lam = self._lists(params)
        moved = torch._foreach_sub(weights, w_bar)
        torch._foreach_mul_(moved, self.alpha)  # a factor, not add's alpha=: any float alpha, even one past float32
        torch._foreach_sub_(lam, moved)
        torch._foreach_add_(w_bar, weights)
        torch._foreach_mul_(w_bar, 0.5)
        torch._foreach_add_(w_bar, lam, alpha=-1.0 / (2 * self.alpha))

    def _lists(self, params: dict[str, torch.nn.Parameter]) -> tuple[list[torch.Tensor], ...]:
        names = list(params)
        return [params[n] for n in names], [self.w_bar[n] for n in names], [self.lam[n] for n in names]

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        params = trainable(model)
        self._ensure_state(params)

        def step() -> None:
            self.add_regularizer_grad(params)
            if self.clip is not None:
                torch.nn.utils.clip_grad_norm_(params.values(), self.clip)
            optimizer.step()
            self.update_duals(params)

        return step_every_chunk(model, x, target, loss_fn, optimizer, self.chunk, step)

    def state_dict(self) -> dict[str, Any]:
        return {"w_bar": {n: t.clone() for n, t in self.w_bar.items()},
                "lam": {n: t.clone() for n, t in self.lam.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.w_bar = {n: t.clone() for n, t in state["w_bar"].items()}
        self.lam = {n: t.clone() for n, t in state["lam"].items()}
