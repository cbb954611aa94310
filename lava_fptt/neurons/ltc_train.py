"""Fast quantization-aware training of LTC layers: a chunk of steps as one autograd node.

Quantization-aware training runs the deployed integer arithmetic with straight-through
gradients. Written as a composition of torch operations on ``float64`` tensors
(:func:`~lava_fptt.neurons.ltc.ltc_step_int` on tensors that require gradients), one
step is some 60 small operations that autograd records and walks back, and a training
step spends most of its time on that bookkeeping. Here a whole chunk of steps is one
:class:`torch.autograd.Function`:

- forward: the integer step functions themselves
  (:func:`~lava_fptt.neurons.ltc.ltc_step_int_parts`,
  :func:`~lava_fptt.neurons.ltc.readout_step_int_parts`) on ``int64`` numpy arrays, as
  Lava's ``fixed_pt`` models run them, outside autograd, keeping every step's intermediate
  integers; the outputs are the step functions' integers by construction;
- backward: the gradient autograd computes through the composed form, written out:
  a right shift by ``n`` passes ``2**-n``, the sigmoid passes the slope of its table
  segment (0 where its input saturates), a saturation passes 1 inside its range and 0
  outside, a spike passes the Gaussian surrogate
  (:func:`~lava_fptt.neurons.surrogate.surrogate_grad`). Everything that does not feed
  back through time is evaluated for all steps at once; the walk back in time is a few
  multiplications per step and, for a recurrent layer, one matrix product.

Both agree with autograd through the composed form up to float64 rounding (tested).
The synaptic input is given for all steps of the chunk (``W x[t]`` for every ``t``, one
matrix product outside); a recurrent layer's ``W_r s[t-1]`` is added inside, as Lava's
recurrent ``Dense`` does (:func:`~lava_fptt.neurons.dense.dense_int`).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from .dense import dense_int
from .ltc import (
    GATE_COEF_FRAC_BITS,
    ONE,
    SIGMOID_INPUT_MAX,
    SIGMOID_SEGMENT_BITS,
    SIGMOID_TABLE,
    STATE_MAX,
    INPUT_SHIFT,
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


def _out(g: Optional[Tensor], like: Tensor) -> Optional[Tensor]:
    """A gradient in the dtype of the forward's float tensors."""
    return None if g is None else g.to(like.dtype)


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


class _LTCChunk(torch.autograd.Function):
    """LTC spiking neurons over a chunk; see :func:`ltc_chunk`."""

    @staticmethod
    def forward(ctx: Any, ff: Tensor, w_rec: Optional[Tensor], params: Tensor, u0: Tensor, b0: Tensor,
                s0: Tensor, weight_exp: int) -> tuple[Tensor, Tensor, Tensor]:
        p = LTCIntParams(*_int64(params))
        state = LTCState(_int64(u0), _int64(b0), _int64(s0))
        w = None if w_rec is None else w_rec.detach().cpu().numpy()
        inputs = _int64(ff)
        parts = []
        for t in range(inputs.shape[0]):
            a = inputs[t]
            if w is not None:
                a = a + dense_int(state.s.astype(w.dtype), w, weight_exp).astype(np.int64)
            step = ltc_step_int_parts(a, state, p)
            parts.append(step)
            state = LTCState(step.u, step.b, step.s)
        steps = [_tensor(np.stack(field), ff) for field in zip(*parts)]
        ctx.weight_exp = weight_exp
        ctx.save_for_backward(params, w_rec, u0, b0, s0, *steps)
        s = steps[LTCStepParts._fields.index("s")]
        return s.to(ff.dtype), _tensor(state.u, ff).to(ff.dtype), _tensor(state.b, ff).to(ff.dtype)

    @staticmethod
    def backward(ctx: Any, g_s: Tensor, g_u_last: Tensor, g_b_last: Tensor) -> tuple[Optional[Tensor], ...]:
        params, w_rec, u0, b0, s0, *saved = ctx.saved_tensors
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
        g_w = None
        if w_rec is not None and ctx.needs_input_grad[1]:
            g_w = torch.einsum("tbn,tbm->nm", g_a, s_prev) * (2.0 ** ctx.weight_exp)
        return (_out(g_a, params), _out(g_w, params), _out(g_params, params), _out(g_u, params),
                _out(g_b, params), _out(g_carry, params), None)


class _ReadoutChunk(torch.autograd.Function):
    """Liquid leaky integrators over a chunk; see :func:`readout_chunk`."""

    @staticmethod
    def forward(ctx: Any, ff: Tensor, params: Tensor, u0: Tensor) -> Tensor:
        p = ReadoutIntParams(*_int64(params))
        state = ReadoutState(_int64(u0))
        inputs = _int64(ff)
        parts = []
        for t in range(inputs.shape[0]):
            step = readout_step_int_parts(inputs[t], state, p)
            parts.append(step)
            state = ReadoutState(step.u)
        steps = [_tensor(np.stack(field), ff) for field in zip(*parts)]
        ctx.save_for_backward(params, u0, *steps)
        return steps[-1].to(ff.dtype)

    @staticmethod
    def backward(ctx: Any, g_out: Tensor) -> tuple[Optional[Tensor], ...]:
        params, u0, i_in, i, z_m, tau, u = ctx.saved_tensors
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
        return _out(ga, params), _out(g_params, params), _out(carry, params)


def ltc_chunk(ff: Tensor, params: Tensor, state: LTCState, w_rec: Optional[Tensor] = None,
              weight_exp: int = 0) -> tuple[Tensor, LTCState]:
    """LTC neurons over ``T`` steps in the integer form, with straight-through gradients.

    ``ff`` ``[T, B, N]``: the feed-forward synaptic input of every step (integers in
    float64, e.g. :func:`~lava_fptt.neurons.dense.dense_int` of the input); ``params``
    ``[P, N]``: the integer parameters stacked in :class:`~lava_fptt.neurons.ltc.LTCIntParams`
    order; ``state``: ``(u, b, s)`` ``[B, N]`` before the first step; ``w_rec`` ``[N, N]``:
    the recurrent ``Dense`` integers, if any. Returns the spikes ``[T, B, N]`` and the state
    after the last step, all float64 integers that carry gradients.
    """
    s, u, b = _LTCChunk.apply(ff, w_rec, params, state.u, state.b, state.s, weight_exp)
    return s, LTCState(u, b, s[-1])


def readout_chunk(ff: Tensor, params: Tensor, state: ReadoutState) -> tuple[Tensor, ReadoutState]:
    """The liquid leaky integrator readout over ``T`` steps (integer form, straight-through gradients).

    Arguments as :func:`ltc_chunk` with :class:`~lava_fptt.neurons.ltc.ReadoutIntParams`;
    returns ``u`` of every step ``[T, B, K]`` and the state after the last.
    """
    u = _ReadoutChunk.apply(ff, params, state.u)
    return u, ReadoutState(u[-1])
