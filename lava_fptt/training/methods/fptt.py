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
``late_weighting``), as the reference does for classifying a sequence seen step by step;
``soft_target`` adds the reference's soft target for early chunks (:mod:`..soft_target`).

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
from ..flat import flat_parameters
from .fptt_kernels import fptt_update, supports

Tensor = torch.Tensor


def clip_grad_norm(grads: list[Tensor], max_norm: float) -> None:
    """Scale ``grads`` in place so that their joint 2-norm is at most ``max_norm`` (the rule of
    ``torch.nn.utils.clip_grad_norm_``: times ``min(1, max_norm / (norm + 1e-6))``), in four operations."""
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (norm + 1e-6), max=1.0))


class FPTT(Method):
    """FPTT with chunks of ``chunk`` steps (1: an update every step)."""

    name = "fptt"

    def __init__(self, chunk: int = 1, alpha: float = 0.1, clip: Optional[float] = 1.0,
                 late_weighting: bool = True, soft_target: bool = False) -> None:
        super().__init__(late_weighting)
        self.soft_target = soft_target
        """Train with :class:`~lava_fptt.training.soft_target.SoftTargetCrossEntropy` (the
        reference's soft target for early chunks) instead of the late-weighted loss."""
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
        """p.grad += dR/dW = alpha (W - W_bar) - lam / 2."""
        for p in params.values():
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        weights, w_bar, lam = self._lists(params)
        self._regularizer_grad(weights, [p.grad for p in weights], w_bar, lam)

    @torch.no_grad()
    def update_duals(self, params: dict[str, torch.nn.Parameter]) -> None:
        """lam <- lam - alpha (W - W_bar); then W_bar <- (W_bar + W)/2 - lam/(2 alpha)."""
        self._duals(*self._lists(params))

    def _regularizer_grad(self, weights: list[Tensor], grads: list[Tensor], w_bar: list[Tensor],
                          lam: list[Tensor]) -> None:
        """grads += alpha (W - W_bar) - lam / 2, one multi-tensor operation per term."""
        term = torch._foreach_sub(weights, w_bar)
        torch._foreach_mul_(term, self.alpha)
        torch._foreach_add_(term, lam, alpha=-0.5)
        torch._foreach_add_(grads, term)

    def _duals(self, weights: list[Tensor], w_bar: list[Tensor], lam: list[Tensor]) -> None:
        moved = torch._foreach_sub(weights, w_bar)
        torch._foreach_mul_(moved, self.alpha)  # a factor, not add's alpha=: any float alpha, even one past float32
        torch._foreach_sub_(lam, moved)
        torch._foreach_add_(w_bar, weights)
        torch._foreach_mul_(w_bar, 0.5)
        torch._foreach_add_(w_bar, lam, alpha=-1.0 / (2 * self.alpha))

    def _lists(self, params: dict[str, torch.nn.Parameter]) -> tuple[list[Tensor], ...]:
        names = list(params)
        return [params[n] for n in names], [self.w_bar[n] for n in names], [self.lam[n] for n in names]

    def _flat_state(self, params: dict[str, torch.nn.Parameter]) -> tuple[Tensor, Tensor]:
        """W_bar and lam as vectors laid out as the parameters of a flat optimizer; the entries of
        ``w_bar`` and ``lam`` become views of them (what :meth:`state_dict` saves)."""
        sizes = [p.numel() for p in params.values()]
        vectors = []
        for state in (self.w_bar, self.lam):
            vector = torch.cat([state[n].reshape(-1) for n in params])
            state.update({n: v.view_as(p) for (n, p), v in zip(params.items(), vector.split(sizes))})
            vectors.append(vector)
        return vectors[0], vectors[1]

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        params = trainable(model)
        self._ensure_state(params)
        flat = flat_parameters(optimizer, params.values())
        if flat is not None:  # one vector each: a handful of operations per update whatever the parameters
            w_bar, lam = self._flat_state(params)
            weights, grads, w_bars, lams = [flat.vector], [flat.grad], [w_bar], [lam]
            if supports(optimizer):  # and the whole update one compiled call
                def compiled_step() -> None:
                    flat.check()
                    fptt_update(optimizer, w_bar, lam, self.alpha, self.clip)

                return step_every_chunk(model, x, target, loss_fn, optimizer, self.chunk, compiled_step)
        else:
            weights, w_bars, lams = self._lists(params)
            grads = []

        @torch.no_grad()
        def step() -> None:
            if flat is None:
                for p in weights:
                    if p.grad is None:
                        p.grad = torch.zeros_like(p)
                grads[:] = [p.grad for p in weights]
            self._regularizer_grad(weights, grads, w_bars, lams)
            if self.clip is not None:
                clip_grad_norm(grads, self.clip)
            optimizer.step()
            self._duals(weights, w_bars, lams)

        return step_every_chunk(model, x, target, loss_fn, optimizer, self.chunk, step)

    def state_dict(self) -> dict[str, Any]:
        return {"w_bar": {n: t.clone() for n, t in self.w_bar.items()},
                "lam": {n: t.clone() for n, t in self.lam.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.w_bar = {n: t.clone() for n, t in state["w_bar"].items()}
        self.lam = {n: t.clone() for n, t in state["lam"].items()}
