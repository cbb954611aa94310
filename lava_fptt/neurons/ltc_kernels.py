"""Compiled loops of quantization-aware LTC training: the integer forward and its straight-through backward.

:mod:`lava_fptt.neurons.ltc_train` makes a layer of LTC neurons over a chunk of steps
one autograd node. Run as numpy or torch array operations, one step is some forty
small operations on ``[batch, neurons]`` arrays, each paying a call's overhead that
dwarfs its arithmetic at the sizes trained here (32 x 128), and a chunk of one step
(FPTT's update every step) pays it at every step. These loops compute the same
numbers element by element in machine code (numba, compiled once and cached on disk):

- :func:`ltc_chunk_forward` / :func:`readout_chunk_forward`: the weight and parameter
  rounding (:func:`quantize_weight`, :func:`quantize_params`), then :func:`ltc_forward` /
  :func:`readout_forward`: the ``Dense`` sums (Lava's: the feed-forward and the
  recurrent one shifted by ``weight_exp`` each on its own) and the integer step of
  :func:`~lava_fptt.neurons.ltc.ltc_step_int_parts` /
  :func:`~lava_fptt.neurons.ltc.readout_step_int_parts` for every step, keeping the
  integers the backward recomputes the rest from;
- :func:`ltc_backward` / :func:`readout_backward`: the straight-through gradient of that
  arithmetic (the rules of :mod:`lava_fptt.neurons.ltc_train`), walked back in time,
  with the gradients of the parameters, weights (through the rounding) and input in the
  same pass.

One call each way per layer and chunk: at one step per chunk (FPTT's update every step)
the fixed cost of a call is a good part of the step's time.

The step functions of :mod:`lava_fptt.neurons.ltc` stay the definition (Lava's
``fixed_pt`` models run them); these loops are its compiled form for training and are
tested against it integer for integer, saturations included, and against autograd
through the composed torch form (``tests/test_ltc_train.py``); the blocks built on them
against Lava's ``fixed_pt`` models (``tests/test_ltc_network.py``). Integers are int64 throughout (products of 24-bit states
and 16-bit factors); gradients are float64.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .dense import WEIGHT_MAX, WEIGHT_MIN, WEIGHT_SCALE
from .ltc import (
    GATE_COEF_FRAC_BITS,
    INPUT_SHIFT,
    ONE,
    SIGMOID_INPUT_MAX,
    SIGMOID_SEGMENT_BITS,
    STATE_FRAC_BITS,
    STATE_MAX,
    LTCStepParts,
    ReadoutStepParts,
)
from .surrogate import SURROGATE_WIDTH

_B, _S, _U = (LTCStepParts._fields.index(name) for name in ("b", "s", "u"))
_R_U = ReadoutStepParts._fields.index("u")
_GATE_SCALE = 2.0 ** -GATE_COEF_FRAC_BITS
_SURROGATE_NORM = 1.0 / (math.sqrt(2.0 * math.pi) * SURROGATE_WIDTH)
_SEGMENT_SCALE = 2.0 ** -SIGMOID_SEGMENT_BITS


# ----------------------------------------------------------------------------- integer helpers
@njit(inline="always")
def _shr(x: int, n: int) -> int:
    """Right shift rounded to nearest, ties toward +infinity (``ArrayOps.shr``)."""
    return (x + (1 << (n - 1))) >> n


@njit(inline="always")
def _clip(x: int, lo: int, hi: int) -> int:
    return lo if x < lo else hi if x > hi else x


@njit(inline="always")
def _sigmoid(z: int, knots: np.ndarray) -> int:
    """``sigmoid_int(z)``: the interpolation between the knots of ``SIGMOID_TABLE``
    (:func:`~lava_fptt.neurons.ltc.sigmoid_interpolated`; computed, not read from the 65,535-entry
    table, which would not stay in cache beside the rest of a training step)."""
    mag = _clip(-z if z < 0 else z, 0, SIGMOID_INPUT_MAX)
    k = mag >> SIGMOID_SEGMENT_BITS
    lo = knots[k]
    g = lo + _shr((knots[k + 1] - lo) * (mag - (k << SIGMOID_SEGMENT_BITS)), SIGMOID_SEGMENT_BITS)
    return ONE - g if z < 0 else g


@njit(inline="always")
def _slope(z: int, knots: np.ndarray) -> float:
    """The straight-through slope of the sigmoid at ``z`` (``sigmoid_int_slope``): that of the
    segment ``|z|`` lies on, 0 beyond the table; gate units per unit of ``z``."""
    mag = -z if z < 0 else z
    if mag > SIGMOID_INPUT_MAX:
        return 0.0
    k = mag >> SIGMOID_SEGMENT_BITS
    return (knots[k + 1] - knots[k]) * _SEGMENT_SCALE


@njit(inline="always")
def _dense_shift(a: int, weight_exp: int) -> int:
    """Lava's ``Dense`` exponent: ``<< weight_exp``, or ``>> -weight_exp`` toward -infinity."""
    return a << weight_exp if weight_exp >= 0 else a >> -weight_exp


@njit(cache=True)
def quantize_weight(w: np.ndarray, weight_exp: int) -> tuple[np.ndarray, np.ndarray]:
    """``Dense`` integers of float weights, ``clip(2 round(32 w / 2**weight_exp), -256, 254)`` in float64
    (:func:`~lava_fptt.neurons.dense.weight_integers`, ties to even), and the straight-through
    derivative: ``64 / 2**weight_exp`` inside the range, 0 where saturated."""
    factor = (WEIGHT_SCALE // 2) / 2.0 ** weight_exp
    scale = WEIGHT_SCALE / 2.0 ** weight_exp
    ints = np.empty(w.shape, np.int64)
    slope = np.empty(w.shape, np.float64)
    flat_w, flat_i, flat_s = w.ravel(), ints.ravel(), slope.ravel()
    for k in range(flat_w.size):
        v = 2 * np.int64(np.rint(np.float64(flat_w[k]) * factor))
        inside = WEIGHT_MIN <= v <= WEIGHT_MAX
        flat_i[k] = _clip(v, WEIGHT_MIN, WEIGHT_MAX)
        flat_s[k] = scale if inside else 0.0
    return ints, slope


@njit(cache=True)
def quantize_params(raw: np.ndarray, scale: np.ndarray, lo: np.ndarray, hi: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Float parameters ``[P, N]`` as integers, ``clip(round(raw * scale), lo, hi)`` per row (in float64,
    ties to even), and the straight-through derivative: the row's scale inside its width, 0 outside."""
    ints = np.empty(raw.shape, np.int64)
    slope = np.empty(raw.shape, np.float64)
    for r in range(raw.shape[0]):
        for n in range(raw.shape[1]):
            v = np.int64(np.rint(np.float64(raw[r, n]) * scale[r]))
            ints[r, n] = _clip(v, lo[r], hi[r])
            slope[r, n] = scale[r] if lo[r] <= v <= hi[r] else 0.0
    return ints, slope


@njit(inline="always")
def _feed_forward(x: np.ndarray, w_t: np.ndarray, weight_exp: int, out: np.ndarray) -> None:
    """``out = dense_int(x, w)`` for one sample's integer-valued input ``x [C]`` (``w_t``: the
    weights transposed, ``[C, N]``)."""
    out[:] = 0
    for c in range(x.shape[0]):
        xv = np.int64(x[c])
        if xv != 0:
            row = w_t[c]
            for n in range(out.shape[0]):
                out[n] += xv * row[n]
    for n in range(out.shape[0]):
        out[n] = _dense_shift(out[n], weight_exp)


# ----------------------------------------------------------------------------- the steps
@njit(inline="always")
def _previous(t: int, b: int, n: int, u0: np.ndarray, b0: np.ndarray, s0: np.ndarray, u_all: np.ndarray,
              b_all: np.ndarray, s_all: np.ndarray) -> tuple[int, int, int]:
    """The state ``u, b, s`` of neuron ``n`` of sample ``b`` before step ``t``: the initial state at
    ``t = 0``, else that stored after step ``t - 1``."""
    if t == 0:
        return np.int64(u0[b, n]), np.int64(b0[b, n]), np.int64(s0[b, n])
    return np.int64(u_all[t - 1, b, n]), np.int64(b_all[t - 1, b, n]), np.int64(s_all[t - 1, b, n])


@njit(inline="always")
def _ltc_step(a: int, u_prev: int, b_prev: int, s_prev: int, p: np.ndarray, n: int, knots: np.ndarray
              ) -> tuple[int, int, int, int, int, int, int, int, int, int, int, int]:
    """:func:`~lava_fptt.neurons.ltc.ltc_step_int_parts` of neuron ``n`` (parameters ``p [10, N]``)
    for synaptic input ``a``: every intermediate integer, in ``LTCStepParts`` order."""
    i_in = (a + p[6, n]) << INPUT_SHIFT
    i = _clip(i_in, -STATE_MAX, STATE_MAX)
    z_m = _shr(p[0, n] * i + p[1, n] * u_prev, GATE_COEF_FRAC_BITS) + p[2, n]
    tau_m = _sigmoid(z_m, knots)
    z_adp = _shr(p[3, n] * i + p[4, n] * b_prev, GATE_COEF_FRAC_BITS) + p[5, n]
    tau_adp = _sigmoid(z_adp, knots)
    b = b_prev + _shr((ONE - tau_adp) * (s_prev * ONE - b_prev), STATE_FRAC_BITS)
    theta_in = p[7, n] + _shr(p[8, n] * b, STATE_FRAC_BITS)
    theta = _clip(theta_in, -STATE_MAX, STATE_MAX)
    u_in = u_prev + _shr(tau_m * (i - u_prev), STATE_FRAC_BITS)
    s = 1 if u_in - theta > 0 else 0
    u = u_in - s * _shr(p[9, n] * u_in, STATE_FRAC_BITS)
    return i_in, i, z_m, tau_m, z_adp, tau_adp, b, theta_in, theta, u_in, s, u


@njit(inline="always")
def _readout_step(a: int, u_prev: int, p: np.ndarray, n: int, knots: np.ndarray) -> tuple[int, int, int, int, int]:
    """:func:`~lava_fptt.neurons.ltc.readout_step_int_parts` of readout ``n`` (``p [4, K]``)."""
    i_in = (a + p[3, n]) << INPUT_SHIFT
    i = _clip(i_in, -STATE_MAX, STATE_MAX)
    z_m = _shr(p[0, n] * i + p[1, n] * u_prev, GATE_COEF_FRAC_BITS) + p[2, n]
    tau_m = _sigmoid(z_m, knots)
    return i_in, i, z_m, tau_m, u_prev + _shr(tau_m * (i - u_prev), STATE_FRAC_BITS)


# ----------------------------------------------------------------------------- forward
@njit(cache=True)
def ltc_forward(x: np.ndarray, w: np.ndarray, w_rec: np.ndarray, recurrent: bool, weight_exp: int,
                p: np.ndarray, u0: np.ndarray, b0: np.ndarray, s0: np.ndarray, knots: np.ndarray,
                s_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``T`` LTC steps: the synaptic input ``a`` and the state ``u``, ``b``, ``s`` after every step.

    ``x [T, B, C]``: the input (floats holding integers, any memory layout); ``w [N, C]``,
    ``w_rec [N, N]``: ``Dense`` integers (``w_rec`` read only when ``recurrent``); ``p [10, N]``:
    the integer parameters in ``LTCIntParams`` order; ``u0, b0, s0 [B, N]``: the state before
    the first step (floats holding integers); ``knots``: ``SIGMOID_TABLE`` as an int64 array.
    The spikes are also written to ``s_out [T, B, N]`` (floats, any layout). Returns ``a``
    (int64), ``u``, ``b`` (int32: 24-bit states) and ``s`` (int8), each ``[T, B, N]``: all the
    backward needs to recompute every intermediate integer (keeping them all would write
    seven times more memory).
    """
    steps, batch = x.shape[0], x.shape[1]
    n_out = w.shape[0]
    a_all = np.empty((steps, batch, n_out), np.int64)
    u_all = np.empty((steps, batch, n_out), np.int32)
    b_all = np.empty((steps, batch, n_out), np.int32)
    s_all = np.empty((steps, batch, n_out), np.int8)
    w_t = np.ascontiguousarray(w.T)
    w_rec_t = np.ascontiguousarray(w_rec.T)  # rows of the spiking neurons added whole (vectorized)
    r = np.empty(n_out, np.int64)
    for t in range(steps):
        for b in range(batch):
            a = a_all[t, b]
            _feed_forward(x[t, b], w_t, weight_exp, a)
            if recurrent:  # Lava's recurrent Dense: its own sum of the last step's spikes, its own shift
                r[:] = 0
                for m in range(n_out):
                    if (s0[b, m] != 0 if t == 0 else s_all[t - 1, b, m] != 0):
                        row = w_rec_t[m]
                        for n in range(n_out):
                            r[n] += row[n]
                for n in range(n_out):
                    a[n] += _dense_shift(r[n], weight_exp)
            for n in range(n_out):
                u_prev, b_prev, s_prev = _previous(t, b, n, u0, b0, s0, u_all, b_all, s_all)
                q = _ltc_step(a[n], u_prev, b_prev, s_prev, p, n, knots)
                u_all[t, b, n], b_all[t, b, n], s_all[t, b, n] = q[_U], q[_B], q[_S]
                s_out[t, b, n] = q[_S]
    return a_all, u_all, b_all, s_all


@njit(cache=True)
def readout_forward(x: np.ndarray, w: np.ndarray, weight_exp: int, p: np.ndarray, u0: np.ndarray,
                    knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``T`` readout steps: the synaptic input ``a`` (int64) and ``u`` after every step (int64),
    ``[T, B, K]``; arguments as :func:`ltc_forward` with ``p [4, K]`` in ``ReadoutIntParams`` order."""
    steps, batch = x.shape[0], x.shape[1]
    n_out = w.shape[0]
    a_all = np.empty((steps, batch, n_out), np.int64)
    u_all = np.empty((steps, batch, n_out), np.int64)
    w_t = np.ascontiguousarray(w.T)
    for t in range(steps):
        for b in range(batch):
            a = a_all[t, b]
            _feed_forward(x[t, b], w_t, weight_exp, a)
            for n in range(n_out):
                u_prev = np.int64(u0[b, n]) if t == 0 else u_all[t - 1, b, n]
                u_all[t, b, n] = _readout_step(a[n], u_prev, p, n, knots)[_R_U]
    return a_all, u_all


# ----------------------------------------------------------------------------- backward
@njit(inline="always")
def _dense_backward(g_a: np.ndarray, x: np.ndarray, w: np.ndarray, weight_exp: int, need_x: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of a ``Dense``'s input (zeros unless ``need_x``) and integer weights (``w [N, C]``)
    from that of its output ``g_a [T, B, N]``: ``g_x = g_a w 2**e``,
    ``g_w = sum_{t,b} g_a x 2**e`` (``dense_int``'s shift passes ``2**weight_exp``)."""
    scale = 2.0 ** weight_exp
    n_out = g_a.shape[2]
    g_w_t = np.zeros((w.shape[1], n_out))  # [C, N]: rows written contiguously, transposed at the end
    for t in range(x.shape[0]):  # over the input's nonzero values only (spikes are sparse)
        for b in range(x.shape[1]):
            for c in range(x.shape[2]):
                xv = x[t, b, c]
                if xv != 0:
                    row, grad = g_w_t[c], g_a[t, b]
                    for n in range(n_out):
                        row[n] += xv * grad[n]
    g_w = g_w_t.T * scale
    if need_x:
        return (np.dot(g_a.reshape(-1, g_a.shape[2]), w.astype(np.float64)) * scale).reshape(x.shape), g_w
    return np.zeros(x.shape), g_w


@njit(cache=True)
def ltc_backward(trace: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], quant: tuple, x: np.ndarray,
                 recurrent: bool, weight_exp: int, u0: np.ndarray, b0: np.ndarray, s0: np.ndarray, g_s: np.ndarray,
                 g_u_last: np.ndarray, g_b_last: np.ndarray, knots: np.ndarray, need_x: bool, need_state: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Straight-through gradients of :func:`ltc_chunk_forward` (whose outputs are ``quant`` and
    ``trace``) from those of the spikes (``g_s [T, B, N]``) and of the state after the last step
    (``g_u_last``, ``g_b_last``).

    Arguments as :func:`ltc_forward` (``g_s`` in any memory layout). Every step's intermediate
    integers are recomputed from ``trace`` by the forward's own step. Returns the gradients of
    the input ``x`` (zeros unless ``need_x``), of the float weights ``w`` and ``w_rec`` (``[0, 0]``
    when not recurrent) and parameters ``raw [10, N]`` (through the rounding: times the
    straight-through factors of ``quant``), and of the initial state ``u0``, ``b0``, ``s0`` (that
    of ``s0`` without its path through ``w_rec`` unless ``need_state``). Rules
    (``lava_fptt.neurons.ltc_train``): a right shift by ``n`` passes ``2**-n``, the sigmoid
    the slope of its segment, a saturation 1 inside its range and 0 outside, a spike the
    Gaussian surrogate of ``(u_in - theta) / 4096``, in units of 1/4096 of the membrane.
    """
    w, w_slope, w_rec, w_rec_slope, p, p_slope = quant
    a_all, u_all, b_all, s_all = trace
    steps, batch, n_out = g_s.shape
    g_a = np.empty((steps, batch, n_out))
    g_params = np.zeros((p.shape[0], n_out))
    g_u = g_u_last.copy()
    g_b = g_b_last.copy()
    g_carry = np.zeros((batch, n_out))
    rec_scale = 2.0 ** weight_exp
    carried = recurrent and (steps > 1 or need_state)  # any gradient of s[t-1] through W_r to carry
    w_rec_scaled = w_rec * rec_scale if carried else np.zeros((0, 0))
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            for n in range(n_out):
                u_prev, b_prev, s_prev = _previous(t, b, n, u0, b0, s0, u_all, b_all, s_all)
                i_in, i, z_m, tau_m_int, z_adp, tau_adp, b_new, theta_in, theta, u_in, s, _ = _ltc_step(
                    a_all[t, b, n], u_prev, b_prev, s_prev, p, n, knots)
                s_m = _slope(z_m, knots) * _GATE_SCALE
                s_a = _slope(z_adp, knots) * _GATE_SCALE
                du = (i - u_prev) / ONE
                db = (s_prev * ONE - b_prev) / ONE
                tau_m = tau_m_int / ONE
                keep_b = (ONE - tau_adp) / ONE
                v = (u_in - theta) / ONE / SURROGATE_WIDTH
                surrogate = math.exp(-0.5 * v * v) * _SURROGATE_NORM / ONE
                keep_theta = 1.0 if abs(theta_in) <= STATE_MAX else 0.0
                keep_i = float(1 << INPUT_SHIFT) if abs(i_in) <= STATE_MAX else 0.0
                # gu_next, gb_next and g_carry + g_s: the gradients of the state after step t
                gu_next, gb_next = g_u[b, n], g_b[b, n]
                gv = (g_s[t, b, n] + g_carry[b, n] - gu_next * _shr(p[9, n] * u_in, STATE_FRAC_BITS)) * surrogate
                gu_in = gu_next * (1.0 - s * (p[9, n] / ONE)) + gv
                gb = gb_next - gv * keep_theta * (p[8, n] / ONE)
                ga = (gu_in * (tau_m + du * s_m * p[0, n]) - gb * db * s_a * p[3, n]) * keep_i
                g_a[t, b, n] = ga
                g_pm = gu_in * du * s_m
                g_pa = -gb * db * s_a
                g_theta = -gv * keep_theta
                g_params[0, n] += g_pm * i
                g_params[1, n] += g_pm * u_prev
                g_params[2, n] += g_pm / _GATE_SCALE
                g_params[3, n] += g_pa * i
                g_params[4, n] += g_pa * b_prev
                g_params[5, n] += g_pa / _GATE_SCALE
                g_params[6, n] += ga
                g_params[7, n] += g_theta
                g_params[8, n] += g_theta * b_new / ONE
                g_params[9, n] += gu_next * s * (-u_in / ONE)
                g_carry[b, n] = gb * keep_b * ONE
                g_u[b, n] = gu_in * ((1.0 - tau_m) + du * s_m * p[1, n])
                g_b[b, n] = gb * ((1.0 - keep_b) - db * s_a * p[4, n])
        if recurrent and (t > 0 or need_state):  # d s[t-1] through the recurrent Dense: g_a[t] W_r 2**e
            g_carry += np.dot(g_a[t], w_rec_scaled)
    g_x, g_w = _dense_backward(g_a, x, w, weight_exp, need_x)
    g_w_rec = np.zeros((n_out, n_out) if recurrent else (0, 0))
    if recurrent:  # sum_{t,b} g_a[t, b, n] s[t-1, b, m] 2**e, over the spikes only
        g_w_rec_t = np.zeros((n_out, n_out))  # [m, n]: rows added whole (vectorized), transposed at the end
        for t in range(steps):
            for b in range(batch):
                grad = g_a[t, b]
                for m in range(n_out):
                    if (s0[b, m] != 0 if t == 0 else s_all[t - 1, b, m] != 0):
                        row = g_w_rec_t[m]
                        for n in range(n_out):
                            row[n] += grad[n]
        for n in range(n_out):
            for m in range(n_out):
                g_w_rec[n, m] = g_w_rec_t[m, n] * rec_scale * w_rec_slope[n, m]
    return g_x, g_w * w_slope, g_w_rec, g_params * p_slope, g_u, g_b, g_carry


@njit(cache=True)
def readout_backward(trace: tuple[np.ndarray, np.ndarray], quant: tuple, x: np.ndarray, weight_exp: int,
                     u0: np.ndarray, g_out: np.ndarray, knots: np.ndarray, need_x: bool
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Straight-through gradients of :func:`readout_chunk_forward` (outputs ``quant``, ``trace``) from
    those of its output ``u`` (``g_out [T, B, K]``): of the input, the float weights and parameters
    ``[4, K]`` (through the rounding) and ``u0``."""
    w, w_slope, p, p_slope = quant
    a_all, u_all = trace
    steps, batch, n_out = g_out.shape
    g_a = np.empty((steps, batch, n_out))
    g_params = np.zeros((p.shape[0], n_out))
    carry = np.zeros((batch, n_out))
    for t in range(steps - 1, -1, -1):
        for b in range(batch):
            for n in range(n_out):
                u_prev = np.int64(u0[b, n]) if t == 0 else u_all[t - 1, b, n]
                i_in, i, z_m, tau_int, _ = _readout_step(a_all[t, b, n], u_prev, p, n, knots)
                s_m = _slope(z_m, knots) * _GATE_SCALE
                du = (i - u_prev) / ONE
                tau = tau_int / ONE
                g_u = g_out[t, b, n] + carry[b, n]
                g_pm = g_u * du * s_m
                keep_i = float(1 << INPUT_SHIFT) if abs(i_in) <= STATE_MAX else 0.0
                ga = (g_u * tau + g_pm * p[0, n]) * keep_i
                g_a[t, b, n] = ga
                g_params[0, n] += g_pm * i
                g_params[1, n] += g_pm * u_prev
                g_params[2, n] += g_pm / _GATE_SCALE
                g_params[3, n] += ga
                carry[b, n] = g_u * ((1.0 - tau) + du * s_m * p[1, n])
    g_x, g_w = _dense_backward(g_a, x, w, weight_exp, need_x)
    return g_x, g_w * w_slope, g_params * p_slope, carry


# ----------------------------------------------------------------------------- a layer's chunk, whole
@njit(cache=True)
def ltc_chunk_forward(x: np.ndarray, w: np.ndarray, w_rec: np.ndarray, recurrent: bool, weight_exp: int,
                      raw: np.ndarray, scale: np.ndarray, lo: np.ndarray, hi: np.ndarray, u0: np.ndarray,
                      b0: np.ndarray, s0: np.ndarray, knots: np.ndarray, s_out: np.ndarray) -> tuple:
    """:func:`quantize_weight` of the float weights ``w``, ``w_rec`` (``[0, 0]`` when not recurrent),
    :func:`quantize_params` of the float parameters ``raw``, then :func:`ltc_forward`. Returns the
    integers and straight-through factors ``(w, w_slope, w_rec, w_rec_slope, p, p_slope)`` and the
    forward's trace."""
    w_int, w_slope = quantize_weight(w, weight_exp)
    w_rec_int, w_rec_slope = quantize_weight(w_rec, weight_exp)
    p_int, p_slope = quantize_params(raw, scale, lo, hi)
    trace = ltc_forward(x, w_int, w_rec_int, recurrent, weight_exp, p_int, u0, b0, s0, knots, s_out)
    return (w_int, w_slope, w_rec_int, w_rec_slope, p_int, p_slope), trace


@njit(cache=True)
def readout_chunk_forward(x: np.ndarray, w: np.ndarray, weight_exp: int, raw: np.ndarray, scale: np.ndarray,
                          lo: np.ndarray, hi: np.ndarray, u0: np.ndarray, knots: np.ndarray) -> tuple:
    """As :func:`ltc_chunk_forward` for :func:`readout_forward`: ``(w, w_slope, p, p_slope)`` and the trace."""
    w_int, w_slope = quantize_weight(w, weight_exp)
    p_int, p_slope = quantize_params(raw, scale, lo, hi)
    return (w_int, w_slope, p_int, p_slope), readout_forward(x, w_int, weight_exp, p_int, u0, knots)
