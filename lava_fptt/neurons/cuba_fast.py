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
when the first network is wrapped by :func:`lava_fptt.online.wrap` (every network this
project trains goes through it); :func:`disabled` restores slayer's loops for a block of code.

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
import functools
import importlib
import warnings
import weakref
from typing import Any, Callable, Iterator, Optional

import numpy as np
import torch

MODULE = "lava.lib.dl.slayer.neuron.dynamics.leaky_integrator"
"""slayer's leaky-integrator module, whose two CPU loops :func:`install` replaces."""
DECAY_BITS = 12

_originals: dict[str, Callable[..., Any]] = {}
_kernels: Optional[tuple[Callable[..., Any], ...]] = None
_jit: Optional[Callable[..., Any]] = None  # numba's compiler as the loops use it, once _compile() found numba
_unavailable: Optional[str] = None
_suspended = 0  # > 0 inside disabled()


def _compile() -> Optional[tuple[Callable[..., Any], ...]]:
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

    global _decayed, _jit
    _jit = jit
    _decayed = jit(_decayed)  # the loops call it compiled: bound before they compile (on their first call)
    _kernels = (jit(_forward_loop), jit(_cuba_loop), jit(_backward_loop), jit(_cuba_steps), jit(_backward_steps))
    return _kernels


def compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled by numba as this module's loops are (on first call, cached on disk where
    possible); ``RuntimeError`` without numba (check :func:`available` first)."""
    if _compile() is None or _jit is None:
        raise RuntimeError(f"{_unavailable}: no compiled path")
    return _jit(function)


def _decayed(y: Any, factor: Any) -> Any:
    """``y`` times the decay factor ``4096 - d``, shifted back by 12 bits, truncated toward zero (slayer's
    ``right_shift_to_zero``): the leak of one step, for every loop below."""
    product = y * factor
    return product >> DECAY_BITS if product > 0 else -((-product) >> DECAY_BITS)


def _forward_loop(x: np.ndarray, decay: np.ndarray, state: np.ndarray, w_in: np.ndarray, w_out: np.ndarray,
                  threshold: float, reset: bool, out: np.ndarray) -> None:
    """One leaky integrator. ``x`` / ``out`` [n, T] (floats of one type), ``decay`` int64 ``4096 - d``
    and ``state`` int64 scaled state [n] (:func:`_tiled`);
    ``w_in`` [1] the state scale in ``x``'s type, ``w_out`` [1] it in float32."""
    theta = np.float32(threshold)
    for i in range(x.shape[0]):
        y = state[i]
        factor = decay[i]
        for t in range(x.shape[1]):
            y = _decayed(y, factor) + np.int64(w_in[0] * x[i, t])
            value = np.float32(y)
            out[i, t] = value / w_out[0]
            if reset and value >= theta:
                y = 0


def _cuba_loop(x: np.ndarray, current_decay: np.ndarray, current_state: np.ndarray, voltage_decay: np.ndarray,
               voltage_state: np.ndarray, w_in: np.ndarray, w_out: np.ndarray, w_state: np.ndarray,
               threshold: float, current: np.ndarray, voltage: np.ndarray) -> None:
    """slayer's CUBA neuron: the current integrator, then the voltage one with a reset, in one pass
    (arguments as :func:`_forward_loop`'s, but the states are slayer's float states, scaled here
    by ``w_state`` [1] of their type and truncated; the voltage integrates ``current`` as stored)."""
    theta = np.float32(threshold)
    for i in range(x.shape[0]):
        c = np.int64(current_state[i] * w_state[0])
        v = np.int64(voltage_state[i] * w_state[0])
        c_factor = current_decay[i]
        v_factor = voltage_decay[i]
        for t in range(x.shape[1]):
            c = _decayed(c, c_factor) + np.int64(w_in[0] * x[i, t])
            current[i, t] = np.float32(c) / w_out[0]
            v = _decayed(v, v_factor) + np.int64(w_in[0] * current[i, t])
            value = np.float32(v)
            voltage[i, t] = value / w_out[0]
            if value >= theta:
                v = 0  # type: ignore[assignment]  # numba types v as int64 throughout


def _cuba_steps(x: np.ndarray, current_decay: np.ndarray, current_state: np.ndarray, voltage_decay: np.ndarray,
                voltage_state: np.ndarray, w_in: np.ndarray, w_out: np.ndarray, w_state: np.ndarray,
                threshold: float, voltage: np.ndarray, last_current: np.ndarray) -> None:
    """:func:`_cuba_loop` on step-major data, the same arithmetic for every element: ``x`` and ``voltage``
    [B, T, N] (the layout a matrix product gives: no transposing copies; they may be one array), decays and states [B * N]
    (:func:`_tiled` over [B, N]); ``last_current`` [B * N] gets the current at the last step. The
    inner loop runs over independent neurons, so their dependency chains overlap."""
    theta = np.float32(threshold)
    batch, steps, n = x.shape
    c = np.empty(n, np.int64)
    v = np.empty(n, np.int64)
    current = np.empty(n, x.dtype)  # the current as slayer stores it (x's type), which the voltage integrates
    for b in range(batch):
        for o in range(n):
            c[o] = np.int64(current_state[b * n + o] * w_state[0])
            v[o] = np.int64(voltage_state[b * n + o] * w_state[0])
        for t in range(steps):
            for o in range(n):
                k = b * n + o
                c[o] = _decayed(c[o], current_decay[k]) + np.int64(w_in[0] * x[b, t, o])
                current[o] = np.float32(c[o]) / w_out[0]
                y = _decayed(v[o], voltage_decay[k]) + np.int64(w_in[0] * current[o])
                value = np.float32(y)
                voltage[b, t, o] = value / w_out[0]
                v[o] = 0 if value >= theta else y
        for o in range(n):
            last_current[b * n + o] = current[o]


def _backward_steps(grad: np.ndarray, factor: np.ndarray, out: np.ndarray) -> None:
    """:func:`_backward_loop` on step-major ``grad`` / ``out`` [B, T, N] (may be one array), ``factor`` [B * N]."""
    batch, steps, n = grad.shape
    carried = np.empty(n, grad.dtype)
    for b in range(batch):
        for o in range(n):
            carried[o] = grad[b, steps - 1, o]
            out[b, steps - 1, o] = carried[o]
        for t in range(steps - 2, -1, -1):
            for o in range(n):
                scaled = factor[b * n + o] * carried[o]
                carried[o] = scaled + grad[b, t, o]
                out[b, t, o] = carried[o]


def _backward_loop(grad: np.ndarray, factor: np.ndarray, out: np.ndarray) -> None:
    """``grad`` / ``out`` [n, T]; ``factor`` [n] ``1 - d / 4096`` in the gradient's type."""
    steps = grad.shape[1]
    for i in range(grad.shape[0]):
        f = factor[i]
        carried = grad[i, steps - 1]
        out[i, steps - 1] = carried
        for t in range(steps - 2, -1, -1):
            scaled = f * carried
            carried = scaled + grad[i, t]
            out[i, t] = carried


def _tiled(values: torch.Tensor, step: tuple[int, ...]) -> torch.Tensor:
    """``values`` broadcast as slayer's step operations broadcast it against one step (shape ``step``,
    a tensor's shape without time), flattened: entry ``i`` pairs with element ``i`` of a step (a copy
    only if it is no view)."""
    return torch.broadcast_to(values, step).reshape(-1)


@functools.lru_cache(maxsize=64)
def _scales(w_scale: int, dtype: torch.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The state scale in ``dtype`` and in float32, as the loops take them (made once; never written)."""
    return np.array([w_scale], dtype=torch.empty(0, dtype=dtype).numpy().dtype), np.array([w_scale], np.float32)


def forward(input: torch.Tensor, decay: torch.Tensor, state: torch.Tensor, threshold: float, w_scale: int,
            dtype: torch.dtype = torch.int32) -> torch.Tensor:
    """slayer's ``_li_dynamics_fwd`` (same arguments, same result), compiled for CPU tensors."""
    kernels = _compile()
    if kernels is None or input.is_cuda or dtype != torch.int64 or torch.is_grad_enabled():
        return _original("_li_dynamics_fwd")(input, decay, state, threshold, w_scale, dtype=dtype)
    start = _tiled((state * w_scale).to(torch.int64), input.shape[:-1])
    factor = _tiled((1 << DECAY_BITS) - decay.to(torch.int64), input.shape[:-1])
    x = input.detach().reshape(-1, input.shape[-1]).contiguous()
    out = torch.empty_like(x)
    scaled_threshold = threshold * w_scale
    kernels[0](x.numpy(), factor.numpy(), start.numpy(), *_scales(w_scale, x.dtype), float(scaled_threshold),
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
    grad_input = _integrate_back(kernels, grad_output, decay)
    if not decay.requires_grad:
        return grad_input, None
    return grad_input, _decay_gradient(grad_input, output, decay)


def _integrate_back(kernels: Any, grad: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    """The input gradient of one leaky integrator with (quantized) ``decay``."""
    return _backward(kernels, grad, _tiled((1 - decay.detach() / (1 << DECAY_BITS)).to(grad.dtype),
                                                 grad.shape[:-1]))


def _backward(kernels: Any, grad: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """The input gradient of one leaky integrator, its factor ``1 - d / 4096`` tiled as :func:`_tiled`'s."""
    flat = grad.detach().reshape(-1, grad.shape[-1]).contiguous()
    out = torch.empty_like(flat)
    kernels[2](flat.numpy(), factor.numpy(), out.numpy())
    return out.reshape(grad.shape)


class _Constants:
    """What a neuron's fused step needs of its decays, prepared once per decay value and step shape."""

    def __init__(self, current_decay: torch.Tensor, voltage_decay: torch.Tensor, step: tuple[int, ...]) -> None:
        self.forward = [_tiled((1 << DECAY_BITS) - d.to(torch.int64), step).numpy() for d in
                        (current_decay, voltage_decay)]
        self.decays, self.step = (current_decay, voltage_decay), step
        self.backward: dict[torch.dtype, list[torch.Tensor]] = {}

    def back(self, dtype: torch.dtype) -> list[torch.Tensor]:
        """``1 - d / 4096`` of both integrators in the gradient's type, tiled."""
        if dtype not in self.backward:
            self.backward[dtype] = [_tiled((1 - d / (1 << DECAY_BITS)).to(dtype), self.step) for d in self.decays]
        return self.backward[dtype]


_constants: dict[int, tuple[Any, tuple[int, ...], tuple[int, ...], _Constants]] = {}


def constants_of(neuron: Any, shape: tuple[int, ...]) -> _Constants:
    """The neuron's :class:`_Constants` for inputs of ``shape`` [..., T] (any T), recomputed when a decay changes."""
    from lava.lib.dl.slayer.utils import quantize

    key = (neuron.current_decay._version, neuron.voltage_decay._version,
           neuron.current_decay.data_ptr(), neuron.voltage_decay.data_ptr())
    held = _constants.get(id(neuron))
    step = tuple(shape[:-1])
    if held is None or held[0]() is not neuron or held[1] != key or held[2] != step:
        with torch.no_grad():
            made = _Constants(quantize(neuron.current_decay), quantize(neuron.voltage_decay), step)
        held = (weakref.ref(neuron), key, step, made)
        _constants[id(neuron)] = held
    return held[3]


def integrate(z: torch.Tensor, constants: _Constants, current_state: torch.Tensor, voltage_state: torch.Tensor,
               w_scale: int, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Current and voltage of a CUBA neuron over ``z`` [..., T] from the given states (the compiled loop)."""
    x = z.detach().reshape(-1, z.shape[-1]).contiguous()
    current, voltage = torch.empty_like(x), torch.empty_like(x)
    states = [_tiled(s, z.shape[:-1]) for s in (current_state, voltage_state)]
    w_state = np.array([w_scale], dtype=states[0].numpy().dtype)
    kernels = _compile()
    assert kernels is not None  # the fast path is taken only when numba compiled them
    kernels[1](x.numpy(), constants.forward[0], states[0].numpy(), constants.forward[1], states[1].numpy(),
               *_scales(w_scale, x.dtype), w_state, float(threshold * w_scale), current.numpy(), voltage.numpy())
    return current.reshape(z.shape), voltage.reshape(z.shape)


def integrate_steps(z: torch.Tensor, constants: _Constants, current_state: torch.Tensor,
                    voltage_state: torch.Tensor, w_scale: int, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`integrate` for ``z`` laid out step-major, [B, T, N], contiguous and the caller's to
    overwrite (``constants`` for [B, N, T]): the voltage [B, N, T], written over ``z`` (a transposed
    view of its [B, T, N] memory: no new tensor of that size, whose pages would fault in), and the
    last current [B, N]."""
    batch, steps, n = z.shape
    x = z.detach()
    assert x.is_contiguous()
    voltage, last_current = x, x.new_empty(batch, n)  # each element of x is read before it is overwritten
    states = [_tiled(s, (batch, n)) for s in (current_state, voltage_state)]
    w_state = np.array([w_scale], dtype=states[0].numpy().dtype)
    kernels = _compile()
    assert kernels is not None  # the fast path is taken only when numba compiled them
    kernels[3](x.numpy(), constants.forward[0], states[0].numpy(), constants.forward[1], states[1].numpy(),
               *_scales(w_scale, x.dtype), w_state, float(threshold * w_scale), voltage.numpy(),
               last_current.reshape(-1).numpy())
    return voltage.transpose(1, 2), last_current


class _CubaDynamics(torch.autograd.Function):
    """Current and voltage of a CUBA neuron in one compiled pass; backward through both integrators."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, constants: _Constants, current_state: torch.Tensor,
                voltage_state: torch.Tensor, w_scale: int, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.constants = constants
        ctx.set_materialize_grads(False)
        return integrate(z, constants, current_state, voltage_state, w_scale, threshold)

    @staticmethod
    def backward(ctx: Any, grad_current: Optional[torch.Tensor], grad_voltage: Optional[torch.Tensor]
                 ) -> tuple[Optional[torch.Tensor], ...]:
        kernels = _compile()
        like = grad_voltage if grad_voltage is not None else grad_current
        if like is None:
            return None, None, None, None, None, None
        current_factor, voltage_factor = ctx.constants.back(like.dtype)
        total = None if grad_voltage is None else _backward(kernels, grad_voltage, voltage_factor)
        if grad_current is not None:
            total = grad_current if total is None else total + grad_current
        assert total is not None  # one of the two gradients is given (checked above)
        return _backward(kernels, total, current_factor), None, None, None, None, None


def fusable(neuron: Any, persistent: bool = True) -> bool:
    """Whether a slayer CUBA neuron's dynamics can run fused: :func:`install` in effect, shaped by a first
    call, on CPU, without normalization, fixed decays (and, with ``persistent``, persistent state)."""
    return (installed() and getattr(neuron, "shape", None) is not None and getattr(neuron, "norm", None) is None
            and not neuron.current_decay.requires_grad and not neuron.voltage_decay.requires_grad
            and not neuron.current_decay.is_cuda and (bool(neuron.persistent_state) or not persistent))


def start_of(neuron: Any, shape: tuple[int, ...], current_state: torch.Tensor, voltage_state: torch.Tensor
             ) -> Optional[tuple[float, torch.Tensor, torch.Tensor]]:
    """The threshold and the states a fused call of ``neuron`` on an input of ``shape`` [B, ..., T]
    starts from, given its carried states, or None where slayer's own code must run (another
    shape, no positive threshold). The caller checks the input is a float CPU tensor."""
    threshold = neuron.threshold + neuron.threshold_eps
    if tuple(shape[1:-1]) != tuple(neuron.shape) or threshold <= 0:
        return None
    if current_state.shape[0] != shape[0]:  # slayer starts a new batch size from rest
        current_state = voltage_state = torch.zeros(1, dtype=current_state.dtype)
    return threshold, current_state, voltage_state


def _step_of(neuron: Any, z: torch.Tensor) -> Optional[tuple[float, torch.Tensor, torch.Tensor]]:
    """:func:`start_of` for ``neuron``'s own carried states (None also for CUDA or integer inputs)."""
    if z.is_cuda or not z.is_floating_point():
        return None
    return start_of(neuron, z.shape, neuron.current_state, neuron.voltage_state)


def fused_dynamics(neuron: Any) -> Optional[Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]]:
    """A replacement for ``neuron.dynamics`` (a slayer CUBA neuron with persistent state) that runs both
    integrators in one compiled call, or None where it does not apply (then slayer's own runs).

    It applies while :func:`install` is in effect, to a neuron already shaped by a first
    call, on CPU, without normalization and with fixed decays (slayer's default): the same
    values as slayer's ``dynamics`` (state from rest or carried, broadcast as slayer does;
    the last step stored as the new state) and the same gradient to the input, with one
    autograd node instead of two. That node keeps no tensor for its backward (slayer's two
    keep their outputs, needed only for a learnable decay's gradient), so BPTT holds less.
    """
    if not fusable(neuron):
        return None

    def dynamics(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        step = _step_of(neuron, z)
        if step is None:
            return type(neuron).dynamics(neuron, z)
        threshold, current_state, voltage_state = step
        current, voltage = _CubaDynamics.apply(z, constants_of(neuron, z.shape), current_state, voltage_state,
                                               neuron.s_scale, threshold)
        neuron.current_state = current[..., -1].detach().clone()
        neuron.voltage_state = voltage[..., -1].detach().clone()
        return current, voltage

    return dynamics


@functools.lru_cache(maxsize=256)
def surrogate_scalars(threshold: float, tau_rho: float, scale_rho: float, dtype: torch.dtype
                      ) -> tuple[torch.Tensor, ...]:
    """The scalar tensors slayer's ``Spike`` hands its surrogate ``_spike_backward`` for a CUBA neuron
    (``neuron.tau_rho`` and ``neuron.scale_rho`` as given; the multipliers are slayer's), made once."""
    from lava.lib.dl.slayer.neuron import cuba

    return tuple(torch.tensor(value, dtype=dtype) for value in
                 (threshold, tau_rho * cuba.TAU_RHO_MULT, scale_rho * cuba.SCALE_RHO_MULT))


def spiking_forward(ctx: Any, voltage: torch.Tensor, last_current: torch.Tensor, constants: _Constants,
                    threshold: float, surrogate: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Inside an autograd node's forward, after the integrators (``voltage`` [B, N, T], either layout):
    the spikes as slayer's ``Spike.forward`` compares (binary), and the current and voltage to carry
    (the voltage reset by slayer's ``persistent_state``); keeps on ``ctx`` what
    :func:`neuron_backward` needs."""
    from lava.lib.dl.slayer.neuron.dynamics.leaky_integrator import persistent_state

    spikes = (voltage >= threshold).to(voltage.dtype)
    last_voltage = persistent_state(voltage[..., -1], spikes[..., -1])
    ctx.constants, ctx.surrogate = constants, surrogate
    # Kept on ctx, not saved: this plain tensor has no grad_fn, so no reference cycle, and
    # the backward can drop it before the integrators' pass.
    ctx.voltage = voltage
    ctx.mark_non_differentiable(last_current, last_voltage)
    return spikes, last_current, last_voltage


def neuron_backward(ctx: Any, grad_spikes: torch.Tensor, step_major: bool = False) -> torch.Tensor:
    """The gradient to ``z`` of :func:`spiking_forward`'s spikes: slayer's ``Spike.backward``, then both
    integrators backwards (compiled). ``step_major``: as :func:`integrate_steps` laid the voltage out;
    the gradient is then laid out the same way and computed in place (no new tensor of its size)."""
    voltage = ctx.voltage
    del ctx.voltage  # consumed: the surrogate is computed in its memory
    grad = _surrogate_in_place(voltage, *ctx.surrogate).mul_(grad_spikes)
    kernels = _compile()
    assert kernels is not None  # a node that ran its forward compiled has them
    current_factor, voltage_factor = ctx.constants.back(grad.dtype)
    if not step_major:
        grad_current = _backward(kernels, grad, voltage_factor)
        del grad
        return _backward(kernels, grad_current, current_factor)
    rows = grad.transpose(1, 2)  # [B, T, N], contiguous as the voltage was made
    for factor in (voltage_factor, current_factor):
        kernels[4](rows.numpy(), factor.numpy(), rows.numpy())
    return grad


def _surrogate_in_place(voltage: torch.Tensor, threshold: torch.Tensor, tau_rho: torch.Tensor,
                        scale_rho: torch.Tensor) -> torch.Tensor:
    """slayer's surrogate derivative of a binary spike (``slayer.spike.spike._spike_backward``):
    ``scale_rho / 2 / tau_rho * exp(-|v - threshold| / tau_rho)``, the same operations on the same
    scalar tensors (so the same values, bit for bit: the tests compare), written over ``voltage``:
    on BPTT's whole sequence each out-of-place step made a new tensor as large as the voltage."""
    return voltage.sub_(threshold).abs_().neg_().div_(tau_rho).exp_().mul_(scale_rho / 2 / tau_rho)


class _CubaSpikes(torch.autograd.Function):
    """A whole CUBA neuron in one node: both integrators (compiled) and the spikes, slayer's surrogate backward."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, constants: _Constants, current_state: torch.Tensor,
                voltage_state: torch.Tensor, w_scale: int, threshold: float, surrogate: tuple[torch.Tensor, ...]
                ) -> tuple[torch.Tensor, ...]:
        """Spikes, and the current and voltage (after the reset) to carry."""
        current, voltage = integrate(z, constants, current_state, voltage_state, w_scale, threshold)
        last_current = current[..., -1].clone()
        del current  # only its last step is carried: freed before the spikes are made (BPTT's peak)
        return spiking_forward(ctx, voltage, last_current, constants, threshold, surrogate)

    @staticmethod
    def backward(ctx: Any, grad_spikes: torch.Tensor, *unused: Any) -> tuple[Optional[torch.Tensor], ...]:
        return neuron_backward(ctx, grad_spikes), None, None, None, None, None, None


def fused_neuron(neuron: Any) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
    """A replacement for ``neuron.forward`` (a slayer CUBA neuron with persistent state, binary spikes,
    no dropout) that runs the whole neuron, integrators and spike, as one autograd node, or None
    where it does not apply (as :func:`fused_dynamics`, and for graded spikes or dropout).

    slayer's forward is ``dynamics`` then ``spike`` (its ``Spike`` function, two more small
    operations on the carried voltage); for the one-step calls of FPTT their per-call set-up
    cost more than the arithmetic. The values are slayer's: the same compiled integrators as
    :func:`fused_dynamics`, the spike as ``Spike.forward`` compares, the carried voltage
    reset by slayer's ``persistent_state``, and a backward calling slayer's own surrogate
    ``_spike_backward`` with the same scalar tensors as ``Spike`` saves, then both
    integrators (``tests/test_cuba_fast.py`` compares spikes, states and gradients).
    """
    if not fusable(neuron) or neuron.graded_spike or neuron.drop is not None:
        return None

    def forward(z: torch.Tensor) -> torch.Tensor:
        step = _step_of(neuron, z)
        if step is None:
            return type(neuron).forward(neuron, z)
        threshold, current_state, voltage_state = step
        surrogate = surrogate_scalars(threshold, neuron.tau_rho, neuron.scale_rho, z.dtype)
        spikes, neuron.current_state, neuron.voltage_state = _CubaSpikes.apply(
            z, constants_of(neuron, z.shape), current_state, voltage_state, neuron.s_scale, threshold, surrogate)
        return spikes

    return forward


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
    if _suspended:
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
    """Inside: slayer's own loops (e.g. to compare with them), even for networks wrapped inside;
    the previous state after."""
    global _suspended
    was = installed()
    uninstall()
    _suspended += 1
    try:
        yield
    finally:
        _suspended -= 1
        if was:
            install()
