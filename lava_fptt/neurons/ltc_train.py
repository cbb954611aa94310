"""Fast quantization-aware training of LTC layers: a layer over a chunk of steps is one autograd node.

Quantization-aware training runs the deployed integer arithmetic with straight-through
gradients. Written as a composition of torch operations on ``float64`` tensors
(:func:`~lava_fptt.neurons.ltc.ltc_step_int` on tensors that require gradients), one
step is some 60 small operations that autograd records and walks back, plus the rounding
of every weight and parameter, and a training step spends most of its time on that
bookkeeping. Here a layer over a whole chunk of steps is one :class:`torch.autograd.Function`
whose forward and backward are each one call of a compiled loop
(:mod:`lava_fptt.neurons.ltc_kernels`):

- forward: the weights and parameters rounded to the integers the exported network holds
  (:func:`quantize_weight`, :func:`quantize_params`, also what export writes), the
  ``Dense`` sums and the integer step of :func:`~lava_fptt.neurons.ltc.ltc_step_int_parts`
  (:func:`~lava_fptt.neurons.ltc.readout_step_int_parts`) for every step, as Lava's
  ``fixed_pt`` models run them, keeping every step's intermediate integers; the outputs
  are the step functions' integers (tested integer for integer);
- backward: the gradient autograd computes through the composed form, written out:
  rounding passes its scale (0 where a register saturates), a right shift by ``n``
  passes ``2**-n``, the sigmoid the slope of its table segment (:func:`sigmoid_int_slope`,
  0 where its input saturates), a saturation 1 inside its range and 0 outside, a spike
  the Gaussian surrogate (:func:`~lava_fptt.neurons.surrogate.surrogate_grad`), walked
  back in time with, for a recurrent layer, ``W_r`` carrying the spikes' gradient one
  step back; the weights', parameters' and input's gradients in the same pass.

Both agree with autograd through the composed form up to floating-point rounding
(tested). A recurrent layer's ``W_r s[t-1]`` is added inside the time loop, as Lava's
recurrent ``Dense`` delivers it (:func:`~lava_fptt.neurons.dense.dense_int`).

:class:`LTCChunk` and :class:`ReadoutChunk` are those two calls outside autograd, the
one implementation behind the autograd nodes and behind
:meth:`lava_fptt.models.ltc.LTCNetwork.forward_backward`, which runs a whole network's
chunk without recording a graph (FPTT's update every step).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

import numpy as np
import torch

from . import ltc_kernels as kernels
from .ltc import (
    PARAM_SCALES,
    PARAM_WIDTHS,
    SIGMOID_INPUT_MAX,
    SIGMOID_SEGMENT_BITS,
    SIGMOID_TABLE,
    LTCIntParams,
    LTCState,
    ReadoutIntParams,
    ReadoutState,
)

Tensor = torch.Tensor
QAT_DTYPE = torch.float64
"""The layers' states and readout values are float64 tensors holding the integers exactly."""


_KNOTS = np.asarray(SIGMOID_TABLE, dtype=np.int64)
"""The sigmoid's knots, as the compiled loops take them."""
_NO_WEIGHTS = np.zeros((0, 0), np.float32)
"""The recurrent weights of a layer without them."""


def sigmoid_int_slope(z: Tensor) -> Tensor:
    """The straight-through derivative of :func:`~lava_fptt.neurons.ltc.sigmoid_int` at integers ``z``.

    The slope of the table segment ``|z|`` falls in (gate units per unit of ``z``), 0
    where ``|z|`` is beyond the table and the sigmoid saturates; float32. (The compiled
    backward computes the same, element by element.)
    """
    mag = z.detach().abs()
    segment = torch.clamp(mag, max=SIGMOID_INPUT_MAX).long() >> SIGMOID_SEGMENT_BITS
    rise = torch.diff(torch.tensor(SIGMOID_TABLE, dtype=torch.float32, device=z.device))
    return torch.where(mag <= SIGMOID_INPUT_MAX, rise[segment] * 2.0 ** -SIGMOID_SEGMENT_BITS, 0.0)


def _array(x: Tensor) -> np.ndarray:
    """A numpy view of a CPU tensor's values (no copy, any memory layout), outside autograd."""
    return x.detach().cpu().numpy()


def quantize_weight(weight: Tensor, weight_exp: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``Dense`` integers of float weights (int64, saturated to ``[-256, 254]``) and their
    straight-through derivative: ``64 / 2**weight_exp`` inside the range, 0 where saturated."""
    return kernels.quantize_weight(_array(weight), weight_exp)


def quantize_params(raw: Tensor, fields: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Float neuron parameters ``[P, N]`` (rows named ``fields``) as their integers (int64, rounded to
    nearest at :data:`PARAM_SCALES`, saturated to :data:`PARAM_WIDTHS`) and the straight-through
    derivative: the scale inside the width, 0 where saturated."""
    return kernels.quantize_params(_array(raw), *_param_bounds(fields))


@lru_cache(maxsize=None)
def _param_bounds(fields: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale and register bounds of the parameters ``fields``, one entry per row."""
    return (np.array([PARAM_SCALES[n] for n in fields], dtype=np.float64),
            np.array([PARAM_WIDTHS[n].lo for n in fields], dtype=np.int64),
            np.array([PARAM_WIDTHS[n].hi for n in fields], dtype=np.int64))


def _state(x: Tensor) -> np.ndarray:
    """A carried state's values as float64 numpy (a view when it is float64 already)."""
    return _array(x).astype(np.float64, copy=False)


def _tensor(a: np.ndarray, device: torch.device) -> Tensor:
    """``a`` as a tensor on ``device`` (no copy on the CPU)."""
    t = torch.from_numpy(a)
    return t if device.type == "cpu" else t.to(device)


_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16}


def as_tensor(grad: np.ndarray, like: Tensor) -> Tensor:
    """A float64 gradient as a tensor of ``like``'s dtype and device, rounded as autograd rounds it."""
    return _tensor(grad.astype(_NUMPY_DTYPES[like.dtype], copy=False), like.device)


def _grads(ctx: Any, grads: tuple[Optional[np.ndarray], ...], like: Tensor) -> tuple[Optional[Tensor], ...]:
    """The gradients of the forward's inputs as tensors in those inputs' dtypes (None where not needed)."""
    return tuple(None if g is None or not needed else _tensor(g.astype(dtype, copy=False), like.device)
                 for g, needed, dtype in zip(grads, ctx.needs_input_grad, ctx.dtypes))


def _numpy_dtype(x: Optional[Tensor]) -> Optional[type]:
    return None if x is None else _NUMPY_DTYPES[x.dtype]


class LTCChunk:
    """A layer of LTC neurons run over a chunk in integers (numpy, no autograd), and its backward.

    The one implementation behind :func:`ltc_layer` (whose autograd node holds one) and
    :meth:`lava_fptt.models.ltc.LTCNetwork.forward_backward` (which calls :meth:`backward`
    itself): the same compiled calls with the same arguments, so both give the same numbers.
    ``x [T, B, C]`` is the input (floats holding integers, any layout); ``weight``,
    ``rec_weight`` (or None), ``raw`` as :func:`ltc_layer`; ``u0, b0, s0`` the state before
    the first step. After construction, ``spikes`` ``[T, B, N]`` (in ``x``'s dtype, a view of a
    ``[B, N, T]`` array) and ``u``, ``b`` (float64 ``[B, N]``, the state after the last step)
    hold the forward's results.
    """

    def __init__(self, x: np.ndarray, weight: Tensor, rec_weight: Optional[Tensor], raw: Tensor, u0: Tensor,
                 b0: Tensor, s0: Tensor, weight_exp: int) -> None:
        steps, batch, _ = x.shape
        self.recurrent = rec_weight is not None
        self.spikes = np.empty((batch, weight.shape[0], steps), x.dtype).transpose(2, 0, 1)
        self.x, self.weight_exp, self.state = x, weight_exp, (_state(u0), _state(b0), _state(s0))
        self.quant, self.trace = kernels.ltc_chunk_forward(
            x, _array(weight), _NO_WEIGHTS if rec_weight is None else _array(rec_weight), self.recurrent,
            weight_exp, _array(raw), *_param_bounds(LTCIntParams._fields), *self.state, _KNOTS, self.spikes)
        _, u, b, _ = self.trace
        self.u, self.b = u[-1].astype(np.float64), b[-1].astype(np.float64)

    def backward(self, g_s: np.ndarray, g_u_last: np.ndarray, g_b_last: np.ndarray, need_x: bool,
                 need_state: bool) -> tuple[Any, ...]:
        """Float64 gradients of ``x``, ``weight``, ``rec_weight`` (None without), ``raw``, ``u0``, ``b0``,
        ``s0`` from those of ``spikes`` and of ``u``, ``b`` (that of ``x`` zeros unless ``need_x``, those of
        the state without the recurrent path unless ``need_state``)."""
        g_x, g_w, g_w_rec, *rest = kernels.ltc_backward(
            self.trace, self.quant, self.x, self.recurrent, self.weight_exp, *self.state, g_s, g_u_last, g_b_last,
            _KNOTS, need_x, need_state)
        return (g_x, g_w, g_w_rec if self.recurrent else None, *rest)


class ReadoutChunk:
    """A layer of liquid leaky integrators over a chunk in integers, and its backward; as :class:`LTCChunk`
    (the one implementation behind :func:`readout_layer`). ``u`` ``[T, B, K]`` (int64): the membrane
    after every step."""

    def __init__(self, x: np.ndarray, weight: Tensor, raw: Tensor, u0: Tensor, weight_exp: int) -> None:
        self.x, self.weight_exp, self.u0 = x, weight_exp, _state(u0)
        self.quant, self.trace = kernels.readout_chunk_forward(
            x, _array(weight), weight_exp, _array(raw), *_param_bounds(ReadoutIntParams._fields), self.u0, _KNOTS)
        self.u = self.trace[1]

    def backward(self, g_out: np.ndarray, need_x: bool) -> tuple[np.ndarray, ...]:
        """Float64 gradients of ``x`` (zeros unless ``need_x``), ``weight``, ``raw`` and ``u0`` from that
        of ``u`` (``g_out [T, B, K]``, any layout)."""
        return kernels.readout_backward(self.trace, self.quant, self.x, self.weight_exp, self.u0, g_out,
                                              _KNOTS, need_x)


class _LTCLayer(torch.autograd.Function):
    """A layer of LTC spiking neurons over a chunk, quantization included; see :func:`ltc_layer`."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, rec_weight: Optional[Tensor], raw: Tensor, u0: Tensor,
                b0: Tensor, s0: Tensor, weight_exp: int) -> tuple[Tensor, Tensor, Tensor]:
        ctx.chunk = chunk = LTCChunk(_array(x), weight, rec_weight, raw, u0, b0, s0, weight_exp)
        ctx.dtypes = [_numpy_dtype(v) for v in (x, weight, rec_weight, raw, u0, b0, s0)]
        return _tensor(chunk.spikes, x.device), _tensor(chunk.u, x.device), _tensor(chunk.b, x.device)

    @staticmethod
    def backward(ctx: Any, g_s: Tensor, g_u_last: Tensor, g_b_last: Tensor) -> tuple[Optional[Tensor], ...]:
        grads = ctx.chunk.backward(_array(g_s), _state(g_u_last), _state(g_b_last), ctx.needs_input_grad[0],
                                   any(ctx.needs_input_grad[4:7]))
        return (*_grads(ctx, grads, g_s), None)


class _ReadoutLayer(torch.autograd.Function):
    """A layer of liquid leaky integrators over a chunk, quantization included; see :func:`readout_layer`."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, raw: Tensor, u0: Tensor, weight_exp: int) -> Tensor:
        ctx.chunk = chunk = ReadoutChunk(_array(x), weight, raw, u0, weight_exp)
        ctx.dtypes = [_numpy_dtype(v) for v in (x, weight, raw, u0)]
        return _tensor(chunk.u.astype(np.float64), x.device)

    @staticmethod
    def backward(ctx: Any, g_out: Tensor) -> tuple[Optional[Tensor], ...]:
        return (*_grads(ctx, ctx.chunk.backward(_array(g_out), ctx.needs_input_grad[0]), g_out), None)


def ltc_layer(x: Tensor, weight: Tensor, rec_weight: Optional[Tensor], raw: Tensor, state: LTCState,
              weight_exp: int = 0) -> tuple[Tensor, LTCState]:
    """A layer of LTC neurons over ``T`` steps: the deployed integers, straight-through gradients.

    ``x`` ``[T, B, C]``: the layer's input (spikes or graded integers); ``weight`` ``[N, C]``
    and ``rec_weight`` ``[N, N]`` (or None): float weights, quantized to the ``Dense``
    integers of :func:`quantize_weight`; ``raw`` ``[P, N]``: the float neuron parameters in
    :class:`~lava_fptt.neurons.ltc.LTCIntParams` order, quantized by :func:`quantize_params`;
    ``state``: ``(u, b, s)`` ``[B, N]`` before the first step (integers). Returns the spikes
    ``[T, B, N]`` (in ``x``'s dtype; a view of a ``[B, N, T]`` tensor, the blocks' layout) and the
    state after the last step (float64), integers carrying gradients.
    """
    s, u, b = _LTCLayer.apply(x, weight, rec_weight, raw, state.u, state.b, state.s, weight_exp)
    return s, LTCState(u, b, s[-1])


def readout_layer(x: Tensor, weight: Tensor, raw: Tensor, state: ReadoutState,
                  weight_exp: int = 0) -> tuple[Tensor, ReadoutState]:
    """A layer of liquid leaky integrators over ``T`` steps (integer form, straight-through gradients).

    Arguments as :func:`ltc_layer` with :class:`~lava_fptt.neurons.ltc.ReadoutIntParams`;
    returns ``u`` of every step ``[T, B, K]`` and the state after the last.
    """
    u = _ReadoutLayer.apply(x, weight, raw, state.u, weight_exp)
    return u, ReadoutState(u[-1])
