"""Heaviside step with a Gaussian surrogate gradient (torch).

Forward: ``H(v) = 1 if v > 0 else 0``. Backward: the derivative of H is replaced by
a Gaussian bump ``exp(-v**2 / (2 * width**2)) / (sqrt(2 * pi) * width)`` with
``width = SURROGATE_WIDTH`` (0.5, in units of the membrane potential where the
firing threshold is of order 0.1 to 2). It integrates to 1, like the true
derivative, and is smooth, so gradients stay finite and reach neurons that were
close to firing. The sFPTT reference uses a sum of three Gaussians of the same
width; a single one is the simplest member of that family.
"""
from __future__ import annotations

import math
from typing import Any

import torch

SURROGATE_WIDTH = 0.5


class _GaussianSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, v: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(v)
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (v,) = ctx.saved_tensors
        return grad * surrogate_grad(v)


def surrogate_grad(v: torch.Tensor) -> torch.Tensor:
    """The Gaussian bump that stands for the derivative of ``H`` at ``v``."""
    width = SURROGATE_WIDTH
    return torch.exp(-0.5 * (v / width) ** 2) / (math.sqrt(2.0 * math.pi) * width)


def spike_fn(v: torch.Tensor) -> torch.Tensor:
    """Heaviside of ``v`` (spikes as 0/1 in ``v``'s dtype), Gaussian surrogate gradient."""
    return _GaussianSpike.apply(v)
