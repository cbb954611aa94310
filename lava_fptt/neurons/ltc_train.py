"""Fast quantization-aware training of LTC layers: a layer over a chunk of steps is one autograd node.

Quantization-aware training runs the deployed integer arithmetic with straight-through
gradients. Written as a composition of torch operations on ``float64`` tensors
(:func:`~lava_fptt.neurons.ltc.ltc_step_int` on tensors that require gradients), one
step is some 60 small operations that autograd records and walks back, plus the rounding
of every weight and parameter, and a training step spends most of its time on that
bookkeeping. Here a layer over a whole chunk of steps is one :class:`torch.autograd.Function`:

- forward: the weights and parameters rounded to the integers the exported network holds
  (:func:`quantize_weight`, :func:`quantize_params`, also what export writes), the
  feed-forward ``Dense`` of every step in one matrix product, and the integer step
  functions themselves (:func:`~lava_fptt.neurons.ltc.ltc_step_int_parts`,
  :func:`~lava_fptt.neurons.ltc.readout_step_int_parts`) on ``int64`` numpy arrays, as
  Lava's ``fixed_pt`` models run them, keeping every step's intermediate integers; the
  outputs are the step functions' integers by construction;
- backward: the gradient autograd computes through the composed form, written out:
  rounding passes its scale (0 where a register saturates), a right shift by ``n``
  passes ``2**-n``, the sigmoid the slope of its table segment (0 where its input
  saturates), a saturation 1 inside its range and 0 outside, a spike the Gaussian
  surrogate (:func:`~lava_fptt.neurons.surrogate.surrogate_grad`). Everything that does
  not feed back through time is evaluated for all steps at once; the walk back in time is
  a few multiplications per step and, for a recurrent layer, one matrix product.

Both agree with autograd through the composed form up to the float32 rounding of the
backward (tested). A recurrent layer's ``W_r s[t-1]`` is added inside the time loop, as
Lava's recurrent ``Dense`` delivers it (:func:`~lava_fptt.neurons.dense.dense_int`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

import numpy as np
import torch

from .dense import WEIGHT_MAX, WEIGHT_MIN, WEIGHT_SCALE, dense_int, weight_integers
from .ltc import (
    GATE_COEF_FRAC_BITS,
    INPUT_SHIFT,
    ONE,
    PARAM_SCALES,
    PARAM_WIDTHS,
    SIGMOID_INPUT_MAX,
    SIGMOID_SEGMENT_BITS,
    SIGMOID_TABLE,
    STATE_MAX,
    LTCIntParams,
    LTCState,
    LTCStepParts,
    ReadoutIntParams,
    ReadoutState,
    ltc_step_int_parts,
    readout_step_int_parts,
)
from .surrogate import surrogate_grad

Tensor = torch.Tensor
QAT_DTYPE = torch.float64
"""The forward's float tensors hold integers up to 2**40 (inside a step); float64 holds them exactly."""
GRAD_DTYPE = torch.float32
"""The backward pass computes in float32: it is memory-bound, and the gradient of a straight-through
estimate needs no more. (Forward values are the exact integers whatever this is.)"""
_GATE_SCALE = 2.0 ** -GATE_COEF_FRAC_BITS


def _slope_values() -> Tensor:
    """The straight-through slope of the sigmoid at every input from ``-SIGMOID_INPUT_MAX - 1`` to
    ``SIGMOID_INPUT_MAX + 1``: the slope of the segment the input's magnitude lies on, 0 at both
    ends (beyond the table the sigmoid saturates)."""
    mag = torch.arange(-SIGMOID_INPUT_MAX - 1, SIGMOID_INPUT_MAX + 2).abs()
    rise = torch.tensor([hi - lo for lo, hi in zip(SIGMOID_TABLE, SIGMOID_TABLE[1:])], dtype=GRAD_DTYPE)
    slope = rise[torch.clamp(mag, max=SIGMOID_INPUT_MAX) >> SIGMOID_SEGMENT_BITS] * 2.0 ** -SIGMOID_SEGMENT_BITS
    return torch.where(mag <= SIGMOID_INPUT_MAX, slope, torch.zeros_like(slope))


def sigmoid_int_slope(z: Tensor) -> Tensor:
    """The straight-through derivative of :func:`~lava_fptt.neurons.ltc.sigmoid_int` at integers ``z``.

    The slope of the table segment ``|z|`` falls in (gate units per unit of ``z``), 0
    where ``|z|`` is beyond the table and the sigmoid saturates; in :data:`GRAD_DTYPE`.
    """
    index = torch.clamp(z.long(), -SIGMOID_INPUT_MAX - 1, SIGMOID_INPUT_MAX + 1) + (SIGMOID_INPUT_MAX + 1)
    return _SLOPES[index.to("cpu")].to(z.device)


_SLOPES = _slope_values()


def _grad_dtype(x: Tensor) -> Tensor:
    return x.to(GRAD_DTYPE)


def quantize_weight(weight: Tensor, weight_exp: int) -> tuple[Tensor, Tensor]:
    """The ``Dense`` integers of float weights (float64, saturated to ``[-256, 254]``) and their
    straight-through derivative: ``64 / 2**weight_exp`` inside the range, 0 where saturated."""
    with torch.no_grad():
        v = weight_integers(weight.detach().to(QAT_DTYPE), weight_exp)
        inside = (v >= WEIGHT_MIN) & (v <= WEIGHT_MAX)
        return torch.clamp(v, WEIGHT_MIN, WEIGHT_MAX), inside * (WEIGHT_SCALE / 2.0 ** weight_exp)


def quantize_params(raw: Tensor, fields: tuple[str, ...]) -> tuple[Tensor, Tensor]:
    """Float neuron parameters ``[P, N]`` (rows named ``fields``) as their integers (rounded to
    nearest at :data:`PARAM_SCALES`, saturated to :data:`PARAM_WIDTHS`; float64) and the
    straight-through derivative: the scale inside the width, 0 where saturated."""
    with torch.no_grad():
        scale, lo, hi = _param_bounds(fields, raw.device)
        v = torch.round(raw.detach().to(QAT_DTYPE) * scale)
        return torch.clamp(v, lo, hi), ((v >= lo) & (v <= hi)) * scale


@lru_cache(maxsize=None)
def _param_bounds(fields: tuple[str, ...], device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Scale and register bounds ``[P, 1]`` of the parameters ``fields``."""
    def column(values: list[int]) -> Tensor:
        return torch.tensor(values, dtype=QAT_DTYPE, device=device).unsqueeze(1)

    return (column([PARAM_SCALES[n] for n in fields]), column([PARAM_WIDTHS[n].lo for n in fields]),
            column([PARAM_WIDTHS[n].hi for n in fields]))


def _dense_grads(ctx: Any, g_a: Tensor, x: Tensor, w_int: Tensor, w_slope: Tensor
                 ) -> tuple[Optional[Tensor], Tensor]:
    """Gradients of the layer's input and float weights from that of its synaptic input ``g_a``
    ``[T, B, N]`` (``dense_int`` passes ``2**weight_exp``, the weight rounding its slope)."""
    scale = 2.0 ** ctx.weight_exp
    g_x = None
    if ctx.needs_input_grad[0]:
        g_x = (g_a @ _grad_dtype(w_int) * scale).to(x.dtype)
    g_w = torch.einsum("tbn,tbc->nc", g_a, _grad_dtype(x)) * (scale * _grad_dtype(w_slope))
    return g_x, g_w


def _out(g: Optional[Tensor], ctx: Any, index: int) -> Optional[Tensor]:
    """The gradient of forward input ``index``, in that input's dtype (None if not needed)."""
    if g is None or not ctx.needs_input_grad[index]:
        return None
    return g.to(ctx.dtypes[index])


def _previous(first: Tensor, seq: Tensor) -> Tensor:
    """The value before each step: ``first`` then ``seq[:-1]`` ([T, ...])."""
    return torch.cat([first.unsqueeze(0), seq[:-1]])


def _int64(x: Tensor) -> np.ndarray:
    """The integers a float64 tensor holds, as int64 numpy (the forward runs the numpy step functions:
    they are what Lava runs, and numpy's per-operation cost is below torch's on arrays this small)."""
    return x.detach().cpu().numpy().astype(np.int64)


def _tensor(x: np.ndarray, like: Tensor) -> Tensor:
    return torch.from_numpy(x).to(like.device)


def _param_grads(terms: list[tuple[Tensor, Tensor | float]]) -> Tensor:
    """Rows ``[P, N]``: each ``(g, x)`` summed over time and batch, ``sum_{t, b} g * x``."""
    rows = []
    for g, x in terms:
        rows.append(g.sum(dim=(0, 1)) * x if isinstance(x, float) else torch.einsum("tbn,tbn->n", g, x))
    return torch.stack(rows)


class _LTCLayer(torch.autograd.Function):
    """A layer of LTC spiking neurons over a chunk, quantization included; see :func:`ltc_layer`."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, rec_weight: Optional[Tensor], raw: Tensor, u0: Tensor,
                b0: Tensor, s0: Tensor, weight_exp: int) -> tuple[Tensor, Tensor, Tensor]:
        w_int, w_slope = quantize_weight(weight, weight_exp)
        p_int, p_slope = quantize_params(raw, LTCIntParams._fields)
        w_rec, w_rec_slope = (None, None) if rec_weight is None else quantize_weight(rec_weight, weight_exp)
        p = LTCIntParams(*_int64(p_int))
        state = LTCState(_int64(u0), _int64(b0), _int64(s0))
        rec = None if w_rec is None else w_rec.cpu().numpy()
        inputs = _int64(dense_int(x.detach().to(QAT_DTYPE), w_int, weight_exp))
        parts = []
        for t in range(inputs.shape[0]):
            a = inputs[t]
            if rec is not None:
                a = a + dense_int(state.s.astype(rec.dtype), rec, weight_exp).astype(np.int64)
            step = ltc_step_int_parts(a, state, p)
            parts.append(step)
            state = LTCState(step.u, step.b, step.s)
        steps = [_tensor(np.stack(field), x) for field in zip(*parts)]
        ctx.weight_exp = weight_exp
        ctx.dtypes = [None if v is None else v.dtype for v in (x, weight, rec_weight, raw, u0, b0, s0)]
        ctx.save_for_backward(x, w_int, w_slope, w_rec, w_rec_slope, p_int, p_slope, u0, b0, s0, *steps)
        s = steps[LTCStepParts._fields.index("s")]
        return s.to(QAT_DTYPE), _tensor(state.u, x).to(QAT_DTYPE), _tensor(state.b, x).to(QAT_DTYPE)

    @staticmethod
    def backward(ctx: Any, g_s: Tensor, g_u_last: Tensor, g_b_last: Tensor) -> tuple[Optional[Tensor], ...]:
        x, w_int, w_slope, w_rec, w_rec_slope, params, p_slope, u0, b0, s0, *saved = ctx.saved_tensors
        q = LTCStepParts(*saved)  # int64 [T, B, N]
        ci_m, cu, _, ci_a, cb, _, _, _, beta, rf = _grad_dtype(params).unbind(0)
        u_prev = _grad_dtype(_previous(u0.long(), q.u))
        b_prev = _grad_dtype(_previous(b0.long(), q.b))
        s_prev = _grad_dtype(_previous(s0.long(), q.s))
        i, s, u_in, b = _grad_dtype(q.i), _grad_dtype(q.s), _grad_dtype(q.u_in), _grad_dtype(q.b)
        # forward quantities of every step, evaluated at once
        s_m, s_a = sigmoid_int_slope(q.z_m), sigmoid_int_slope(q.z_adp)
        s_m *= _GATE_SCALE  # d tau_m / d (ci_m i + cu u_prev)
        s_a *= _GATE_SCALE
        du = (i - u_prev) / ONE
        db = (s_prev * ONE - b_prev) / ONE
        tau_m, keep_b = _grad_dtype(q.tau_m) / ONE, _grad_dtype(ONE - q.tau_adp) / ONE
        reset = _grad_dtype((params[9].long() * q.u_in + (1 << 11)) >> 12)  # shr(rf u_in, 12), exact
        surrogate = surrogate_grad(_grad_dtype(q.u_in - q.theta) / ONE) / ONE
        keep_u = 1 - s * (rf / ONE)
        keep_theta = _grad_dtype(q.theta_in.abs() <= STATE_MAX)
        keep_i = _grad_dtype(q.i_in.abs() <= STATE_MAX) * float(1 << INPUT_SHIFT)
        c_u = (1 - tau_m) + du * s_m * cu  # d u_prev from d u_in
        c_b = (1 - keep_b) - db * s_a * cb  # d b_prev from d b
        i_u = (tau_m + du * s_m * ci_m) * keep_i  # d a from d u_in
        i_b = -db * s_a * ci_a * keep_i  # d a from d b
        to_b = keep_theta * (beta / ONE)  # d theta / d b
        keep_b *= ONE  # d s_prev from d b
        w = None if w_rec is None else _grad_dtype(w_rec) * (2.0 ** ctx.weight_exp)
        # walk back in time: g_u, g_b, g_carry + g_s[t] are the gradients of the state after step t
        g_s = _grad_dtype(g_s)
        g_u, g_b = _grad_dtype(g_u_last), _grad_dtype(g_b_last)
        g_carry = torch.zeros_like(g_u)
        g_v, g_u_in, g_b_new, g_a, g_u_out = (torch.empty_like(s) for _ in range(5))
        for t in range(s.shape[0] - 1, -1, -1):
            gv = torch.mul(g_s[t] + g_carry - g_u * reset[t], surrogate[t], out=g_v[t])
            gu_in = torch.add(g_u * keep_u[t], gv, out=g_u_in[t])
            gb = torch.sub(g_b, gv * to_b[t], out=g_b_new[t])
            ga = torch.add(gu_in * i_u[t], gb * i_b[t], out=g_a[t])
            g_u_out[t] = g_u
            g_carry = gb * keep_b[t]
            if w is not None:
                g_carry = g_carry + ga @ w
            g_u, g_b = gu_in * c_u[t], gb * c_b[t]
        g_pm = g_u_in * du * s_m  # gradient of ci_m i + cu u_prev (before the shift by 8)
        g_pa = g_b_new * db * s_a
        g_pa.neg_()
        g_theta = g_v * keep_theta
        g_theta.neg_()
        g_params = _param_grads([(g_pm, i), (g_pm, u_prev), (g_pm, 1 / _GATE_SCALE), (g_pa, i), (g_pa, b_prev),
                                 (g_pa, 1 / _GATE_SCALE), (g_a, 1.0), (g_theta, 1.0), (g_theta, b / ONE),
                                 (g_u_out * s, -u_in / ONE)])
        g_x, g_w = _dense_grads(ctx, g_a, x, w_int, w_slope)
        g_w_rec = None
        if w_rec is not None:
            g_w_rec = torch.einsum("tbn,tbm->nm", g_a, s_prev) * (2.0 ** ctx.weight_exp) * _grad_dtype(w_rec_slope)
        return (g_x, _out(g_w, ctx, 1), _out(g_w_rec, ctx, 2), _out(g_params * _grad_dtype(p_slope), ctx, 3),
                _out(g_u, ctx, 4), _out(g_b, ctx, 5), _out(g_carry, ctx, 6), None)


class _ReadoutLayer(torch.autograd.Function):
    """A layer of liquid leaky integrators over a chunk, quantization included; see :func:`readout_layer`."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, raw: Tensor, u0: Tensor, weight_exp: int) -> Tensor:
        w_int, w_slope = quantize_weight(weight, weight_exp)
        p_int, p_slope = quantize_params(raw, ReadoutIntParams._fields)
        p = ReadoutIntParams(*_int64(p_int))
        state = ReadoutState(_int64(u0))
        inputs = _int64(dense_int(x.detach().to(QAT_DTYPE), w_int, weight_exp))
        parts = []
        for t in range(inputs.shape[0]):
            step = readout_step_int_parts(inputs[t], state, p)
            parts.append(step)
            state = ReadoutState(step.u)
        steps = [_tensor(np.stack(field), x) for field in zip(*parts)]
        ctx.weight_exp = weight_exp
        ctx.dtypes = [v.dtype for v in (x, weight, raw, u0)]
        ctx.save_for_backward(x, w_int, w_slope, p_int, p_slope, u0, *steps)
        return steps[-1].to(QAT_DTYPE)

    @staticmethod
    def backward(ctx: Any, g_out: Tensor) -> tuple[Optional[Tensor], ...]:
        x, w_int, w_slope, params, p_slope, u0, i_in, i, z_m, tau, u = ctx.saved_tensors
        ci_m, cu, _, _ = _grad_dtype(params).unbind(0)
        u_prev = _grad_dtype(_previous(u0.long(), u))
        i_f = _grad_dtype(i)
        s_m = sigmoid_int_slope(z_m) * _GATE_SCALE
        du = (i_f - u_prev) / ONE
        tau_f = _grad_dtype(tau) / ONE
        c_u = (1 - tau_f) + du * s_m * cu
        g_out = _grad_dtype(g_out)
        g_u, carry = torch.empty_like(g_out), torch.zeros_like(g_out[0])
        for t in range(len(u) - 1, -1, -1):
            torch.add(g_out[t], carry, out=g_u[t])
            carry = g_u[t] * c_u[t]
        g_pm = g_u * du * s_m
        ga = (g_u * tau_f + g_pm * ci_m) * (_grad_dtype(i_in.abs() <= STATE_MAX) * float(1 << INPUT_SHIFT))
        g_params = _param_grads([(g_pm, i_f), (g_pm, u_prev), (g_pm, 1 / _GATE_SCALE), (ga, 1.0)])
        g_x, g_w = _dense_grads(ctx, ga, x, w_int, w_slope)
        return g_x, _out(g_w, ctx, 1), _out(g_params * _grad_dtype(p_slope), ctx, 2), _out(carry, ctx, 3), None


def ltc_layer(x: Tensor, weight: Tensor, rec_weight: Optional[Tensor], raw: Tensor, state: LTCState,
              weight_exp: int = 0) -> tuple[Tensor, LTCState]:
    """A layer of LTC neurons over ``T`` steps: the deployed integers, straight-through gradients.

    ``x`` ``[T, B, C]``: the layer's input (spikes or graded integers); ``weight`` ``[N, C]``
    and ``rec_weight`` ``[N, N]`` (or None): float weights, quantized to the ``Dense``
    integers of :func:`quantize_weight`; ``raw`` ``[P, N]``: the float neuron parameters in
    :class:`~lava_fptt.neurons.ltc.LTCIntParams` order, quantized by :func:`quantize_params`;
    ``state``: ``(u, b, s)`` ``[B, N]`` before the first step (integers). Returns the spikes
    ``[T, B, N]`` and the state after the last step, float64 integers carrying gradients.
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
