"""slayer's CUBA neuron dynamics on CPU as compiled loops: the same numbers, without a Python step loop.

slayer's CUBA neuron (``lava.lib.dl.slayer.neuron.cuba``) runs its current and its
voltage as two leaky integrators (``slayer.neuron.dynamics.leaky_integrator``). On CUDA
slayer compiles a kernel; on CPU its autograd function calls two module-level functions,
``_li_dynamics_fwd`` and ``_li_dynamics_bwd``, that walk the time steps in Python with a
few tensor operations each. Profiled on this project's benchmark network (3 dense CUBA
layers, batch 64, T = 512, one BPTT pass), those two loops were three quarters of the
CPU time (``docs/speed.md``).

:func:`install` replaces exactly those two functions of slayer's module by
:func:`forward` and :func:`backward`, which run CPU tensors through the numba-compiled
loops below and hand anything else (CUDA tensors) to slayer's own functions. slayer's
autograd function, its neuron, its state handling and its CUDA path stay its own: the
plain lava-dl forward and the online adapter both take the fast path. It is installed
when :mod:`lava_fptt.online` is imported (every network this project trains goes
through it); :func:`disabled` restores slayer's loops for a block of code.

The loops compute the integer dynamics slayer documents and Lava runs (per neuron,
12-bit decay ``d``, state scale ``w``, threshold ``theta``; ``trunc`` rounds toward zero):

    y[t] = sign(y') * ((|y'| * (4096 - d)) >> 12) + trunc(w * x[t])     y' = y[t-1] after reset
    spike where y[t] >= theta * w (theta > 0 only), and y[t-1] for the next step is then 0
    output[t] = y[t] / w

with each value rounded exactly as slayer's tensor operations round it: ``w * x`` in the
input's floating type, the comparison and the division in float32 (torch's default
type for an integer tensor against a Python float), the initial state ``trunc(w * s)``
in float32. The backward pass is slayer's: ``g_in[t] = (1 - d / 4096) * g_in[t+1] +
g_out[t]``, one multiplication and one addition, each rounded, in the gradient's type;
the decay's gradient uses the same tensor reductions as slayer's. The tests compare every
state, spike and gradient with slayer's own loops on random inputs, bit for bit
(``tests/test_cuba_fast.py``).

Without numba (or where it cannot compile), :func:`install` warns once and leaves
slayer's loops in place: slower, the same numbers.
"""
from __future__ import annotations

import contextlib
import importlib
import warnings
from typing import Any, Callable, Iterator, Optional

import numpy as np
import torch

MODULE = "lava.lib.dl.slayer.neuron.dynamics.leaky_integrator"
"""slayer's leaky-integrator module, whose two CPU loops :func:`install` replaces."""
DECAY_BITS = 12

_originals: dict[str, Callable[..., Any]] = {}
_kernels: Optional[tuple[Callable[..., Any], Callable[..., Any]]] = None
_unavailable: Optional[str] = None


def _compile() -> Optional[tuple[Callable[..., Any], Callable[..., Any]]]:
    """The numba loops (compiled on first use, cached on disk where possible), or None without numba."""
    global _kernels, _unavailable
    if _kernels is not None or _unavailable is not None:
        return _kernels
    try:
        import numba
    except Exception as err:  # a broken install fails in many ways
        _unavailable = f"numba cannot be imported ({type(err).__name__}: {err})"
        return None

    def jit(function: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return numba.njit(cache=True, nogil=True)(function)
        except RuntimeError:  # no writable cache location: compile in memory each run
            return numba.njit(nogil=True)(function)

    _kernels = (jit(_forward_loop), jit(_backward_loop))
    return _kernels


def _forward_loop(x: np.ndarray, decay: np.ndarray, state: np.ndarray, w_in: np.ndarray, w_out: np.ndarray,
                  threshold: np.ndarray, reset: bool, out: np.ndarray) -> None:
    """``x`` [n, T] (float), ``decay`` / ``state`` [n] (int64 ``4096 - d``, int64 scaled state),
    ``w_in`` the state scale in ``x``'s type, ``w_out`` / ``threshold`` float32 (all [1]),
    ``out`` [n, T] of ``x``'s type."""
    w_in = w_in[0]
    w_out = w_out[0]
    theta = threshold[0]
    for i in range(x.shape[0]):
        y = state[i]
        factor = decay[i]
        for t in range(x.shape[1]):
            product = y * factor
            if product > 0:
                y = product >> DECAY_BITS
            else:
                y = -((-product) >> DECAY_BITS)
            y += np.int64(w_in * x[i, t])
            value = np.float32(y)
            out[i, t] = value / w_out
            if reset and value >= theta:
                y = 0


def _backward_loop(grad: np.ndarray, factor: np.ndarray, out: np.ndarray) -> None:
    """``grad`` [n, T], ``factor`` [n] (``1 - d / 4096`` in the gradient's type), ``out`` [n, T]."""
    steps = grad.shape[1]
    for i in range(grad.shape[0]):
        carried = grad[i, steps - 1]
        out[i, steps - 1] = carried
        f = factor[i]
        for t in range(steps - 2, -1, -1):
            scaled = f * carried
            carried = scaled + grad[i, t]
            out[i, t] = carried


def _per_neuron(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values`` broadcast as slayer's step operations broadcast it against one step of ``like``, [n]."""
    return torch.broadcast_to(values, like.shape[:-1]).reshape(-1).contiguous()


def forward(input: torch.Tensor, decay: torch.Tensor, state: torch.Tensor, threshold: float, w_scale: int,
            dtype: torch.dtype = torch.int32) -> torch.Tensor:
    """slayer's ``_li_dynamics_fwd`` (same arguments, same result), compiled for CPU tensors."""
    kernels = _compile()
    if kernels is None or input.is_cuda or dtype != torch.int64 or torch.is_grad_enabled():
        return _original("_li_dynamics_fwd")(input, decay, state, threshold, w_scale, dtype=dtype)
    with torch.no_grad():
        start = _per_neuron((state * w_scale).to(torch.int64), input)
        factor = _per_neuron((1 << DECAY_BITS) - decay.to(torch.int64), input)
        x = input.detach().reshape(-1, input.shape[-1]).contiguous()
        out = torch.empty_like(x)
        scaled_threshold = threshold * w_scale
        kernels[0](x.numpy(), factor.numpy(), start.numpy(), np.array([w_scale], dtype=x.numpy().dtype),
                   np.array([w_scale], dtype=np.float32), np.array([scaled_threshold], dtype=np.float32),
                   scaled_threshold > 0, out.numpy())
        return out.reshape(input.shape)


def backward(grad_output: torch.Tensor, output: torch.Tensor, decay: torch.Tensor
             ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """slayer's ``_li_dynamics_bwd`` (same arguments, same result), compiled for CPU tensors.

    The decay's gradient is computed only when the decay takes one (slayer's CUBA decays
    are fixed unless built with ``requires_grad``); it is None otherwise, which autograd
    reads as zero for an input that needs none.
    """
    kernels = _compile()
    if kernels is None or grad_output.is_cuda or torch.is_grad_enabled():  # the last: a graph of the backward
        return _original("_li_dynamics_bwd")(grad_output, output, decay)
    factor = (1 - decay.detach() / (1 << DECAY_BITS)).to(grad_output.dtype)
    grad = grad_output.detach().reshape(-1, grad_output.shape[-1]).contiguous()
    grad_input = torch.empty_like(grad)
    kernels[1](grad.numpy(), _per_neuron(factor, grad_output).numpy(), grad_input.numpy())
    grad_input = grad_input.reshape(grad_output.shape)
    if not decay.requires_grad:
        return grad_input, None
    return grad_input, _decay_gradient(grad_input, output, decay)


def _decay_gradient(grad_input: torch.Tensor, output: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    """The decay's gradient, reduced with the same tensor operations (and so the same rounding) as slayer's."""
    per_step = grad_input[..., 1:] * output[..., :-1]
    if decay.numel() == 1:
        return per_step.flatten().sum(dim=0, keepdim=True)
    summed = per_step.sum(dim=[0, -1])
    return summed.reshape(summed.shape[0], -1).sum(dim=1) if summed.dim() != 1 else summed


def _module() -> Any:
    return importlib.import_module(MODULE)


def _original(name: str) -> Callable[..., Any]:
    """slayer's own function ``name``, whether or not ours is installed."""
    return _originals.get(name) or getattr(_module(), name)


def installed() -> bool:
    """Whether slayer's leaky integrator runs through this module's loops."""
    module = _module()
    return module._li_dynamics_fwd is forward and module._li_dynamics_bwd is backward


def available() -> bool:
    """Whether the compiled loops can run here (numba importable)."""
    return _compile() is not None


def install() -> bool:
    """Put :func:`forward` and :func:`backward` in place of slayer's CPU loops (idempotent).

    Returns whether the fast path is active; without numba it warns once and changes nothing.
    """
    if _compile() is None:
        warnings.warn(f"{_unavailable}: slayer's CUBA neurons run their own Python loop over time steps on "
                      "CPU (same results, slower; pip install numba)", RuntimeWarning, stacklevel=2)
        return False
    module = _module()
    if not installed():
        _originals.setdefault("_li_dynamics_fwd", module._li_dynamics_fwd)
        _originals.setdefault("_li_dynamics_bwd", module._li_dynamics_bwd)
        module._li_dynamics_fwd, module._li_dynamics_bwd = forward, backward
    return True


def uninstall() -> None:
    """Put slayer's own loops back (no-op if they are in place)."""
    module = _module()
    for name, function in _originals.items():
        setattr(module, name, function)


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Inside: slayer's own loops (e.g. to compare with them); the previous state after."""
    was = installed()
    uninstall()
    try:
        yield
    finally:
        if was:
            install()
