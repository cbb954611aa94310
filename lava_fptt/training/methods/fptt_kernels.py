"""FPTT's whole update on one flat parameter vector as one compiled loop: regularizer, clip, optimizer, duals.

With an update every step (chunks of one step) FPTT's update runs 40 times per batch of
40-step sequences. As torch calls on the flat vector (:mod:`lava_fptt.training.flat`) it
is some 16 operations (the regularizer's gradient, the norm and the clip, the optimizer's
step, the dual updates), each paying a call's fixed cost that is most of its time on the
20,000 or so parameters trained here (about 1.4 ms a step, measured;
``docs/temporal-benchmark.md``). :func:`fptt_update` does the same arithmetic in two
passes over the vector, in machine code (numba, compiled once and cached on disk):

1. ``g += alpha (W - W_bar) - lam / 2`` and the squared norm of ``g``;
2. ``g *= min(1, clip / (norm + 1e-6))`` (``torch.nn.utils.clip_grad_norm_``'s rule), the
   optimizer's step on ``W`` (Adam or Adamax as torch computes them, no weight decay),
   then ``lam <- lam - alpha (W - W_bar)`` and ``W_bar <- (W_bar + W) / 2 - lam / (2 alpha)``.

The optimizer's moments live in the torch optimizer's own state (``exp_avg``,
``exp_avg_sq`` / ``exp_inf``, ``step``), updated in place, so checkpoints and a later
torch step see them as torch would have left them. Tested against the torch path
(``tests/test_flat_parameters.py``): equal up to float32 rounding.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit

ADAM, ADAMAX = 0, 1
"""The optimizers the loop computes (``kind``)."""


# fastmath without "no NaN / no inf" (a diverging run must give NaN, which the trainer stops on, and the
# numpy error model gives inf rather than raising on a division by zero).
@njit(cache=True, fastmath={"reassoc", "contract", "nsz", "arcp"}, error_model="numpy")
def _update(kind: int, w: np.ndarray, g: np.ndarray, w_bar: np.ndarray, lam: np.ndarray, m: np.ndarray,
            v: np.ndarray, step: int, lr: float, beta1: float, beta2: float, eps: float, alpha: float,
            clip: float) -> None:
    """The update in place (``clip <= 0``: no clipping); ``step`` counts this one (1 at the first)."""
    squares = 0.0
    for k in range(w.size):
        gk = g[k] + alpha * (w[k] - w_bar[k]) - 0.5 * lam[k]
        g[k] = gk
        squares += gk * gk
    scale = min(1.0, clip / (math.sqrt(squares) + 1e-6)) if clip > 0 else 1.0
    step_size = lr / (1.0 - beta1 ** step)
    root_correction2 = math.sqrt(1.0 - beta2 ** step)
    for k in range(w.size):  # the optimizer's step (the branch outside the loops lets them vectorize)
        gk = g[k] * scale
        g[k] = gk
        m[k] += (1.0 - beta1) * (gk - m[k])
    if kind == ADAM:
        for k in range(w.size):
            v[k] = beta2 * v[k] + (1.0 - beta2) * g[k] * g[k]
            w[k] -= step_size * m[k] / (math.sqrt(v[k]) / root_correction2 + eps)
    else:
        for k in range(w.size):
            v[k] = max(beta2 * v[k], abs(g[k]) + eps)
            w[k] -= step_size * m[k] / v[k]
    for k in range(w.size):  # the duals
        lam[k] -= alpha * (w[k] - w_bar[k])
        w_bar[k] = 0.5 * (w_bar[k] + w[k]) - lam[k] / (2.0 * alpha)


def supports(optimizer: torch.optim.Optimizer) -> bool:
    """Whether :func:`fptt_update` computes ``optimizer``'s step: torch's Adam or Adamax over one float32
    CPU tensor, without weight decay, AMSGrad, maximisation or a capturable/differentiable step."""
    if not isinstance(optimizer, (torch.optim.Adam, torch.optim.Adamax)) or len(optimizer.param_groups) != 1:
        return False
    group = optimizer.param_groups[0]
    params = group["params"]
    return (len(params) == 1 and params[0].dtype == torch.float32 and params[0].device.type == "cpu"
            and group.get("weight_decay", 0) == 0 and not group.get("amsgrad", False)
            and not group.get("maximize", False) and not group.get("capturable", False)
            and not group.get("differentiable", False) and not torch.is_tensor(group["lr"]))


def fptt_update(optimizer: torch.optim.Optimizer, w_bar: torch.Tensor, lam: torch.Tensor, alpha: float,
                clip: float | None) -> None:
    """Regularizer gradient, clip, ``optimizer``'s step and FPTT's dual updates on its one parameter
    vector (whose ``.grad`` holds the loss gradient), in place; ``optimizer`` must pass :func:`supports`."""
    group = optimizer.param_groups[0]
    param = group["params"][0]
    adam = isinstance(optimizer, torch.optim.Adam)
    state = optimizer.state[param]
    if not state:  # as torch's first step makes it
        state["step"] = torch.tensor(0.0, dtype=torch.float32)
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["exp_avg_sq" if adam else "exp_inf"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    state["step"] += 1
    beta1, beta2 = group["betas"]
    second = state["exp_avg_sq" if adam else "exp_inf"]
    with torch.no_grad():
        _update(ADAM if adam else ADAMAX, param.detach().numpy(), param.grad.numpy(), w_bar.numpy(),
                lam.numpy(), state["exp_avg"].numpy(), second.numpy(), int(state["step"]), float(group["lr"]),
                beta1, beta2, group["eps"], alpha, -1.0 if clip is None else clip)
