"""The Liquid-Time-Constant (LTC) spiking neuron: one definition, float and integer forms.

Every function here is a pure step on explicit state, ``step(x, state, params) ->
(output, new_state)``, written once for numpy arrays and torch tensors (see
:mod:`lava_fptt.neurons.backend`). ``x`` is the synaptic input of the step, already
summed by the synapse (``W_x x_t + W_r s_{t-1}``); the neuron adds its bias.

Dynamics of one step (float form, all operations elementwise per neuron)::

    I       = x + bias
    tau_m   = sigmoid(mem_gate_i * I + mem_gate_u * u[t-1] + mem_gate_bias)
    tau_adp = sigmoid(adp_gate_i * I + adp_gate_b * b[t-1] + adp_gate_bias)
    b[t]    = tau_adp * b[t-1] + (1 - tau_adp) * s[t-1]
    theta   = b0 + beta * b[t]
    u[t]    = u[t-1] + tau_m * (I - u[t-1])
    s[t]    = H(u[t] - theta);  u[t] <- u[t] * (1 - reset_frac * s[t])

``reset_frac`` is the fraction of the membrane removed by a spike: 1 (the default) is
the hard reset of the sFPTT reference, 0 leaves ``u`` to follow its input and lets the
adaptive threshold alone limit the firing (see ``docs/ltc_fixed_point.md``). The gates are per-neuron (diagonal) maps of ``[I; u]`` and ``[I; b]`` rather than the
dense ``2N -> N`` maps of the sFPTT reference: every quantity a neuron needs is its
own, so it maps to one hardware neuron without extra synapses (reasoning and
measurements in ``docs/ltc_fixed_point.md``). The readout is the same liquid leaky
integrator without threshold or adaptation; its output is ``u``.

Integer form (what Lava's ``fixed_pt`` model and quantization-aware training run).
Scales, i.e. the integer that stands for 1.0:

============================  ============  =============================
value                         scale         register
============================  ============  =============================
x (a_in), bias                2**6 = 64     24-bit / 16-bit signed
u, b, theta, I                2**12 = 4096  24-bit signed, saturating
gate coefficients (``*_i``,   2**8 = 256    12-bit signed
``mem_gate_u``,
``adp_gate_b``)
gate biases                   2**12         16-bit signed
gate outputs tau_m, tau_adp   2**12         0..4096 (like Loihi decays)
b0                            2**12         24-bit signed
beta                          2**12         16-bit unsigned
reset_frac                    2**12         13-bit unsigned (0..4096)
s                             1             1 bit
============================  ============  =============================

The synaptic input in weight units is shifted into state units (``<< 6``) as Loihi
does for its LIF neuron; products are brought back to scale by :meth:`ArrayOps.shr`, a right
shift rounded to nearest. The sigmoid is piecewise linear between 65 tabulated knots
(every 1/8 on ``[0, 8]``, mirrored for negative inputs), computed with one table
read, one multiply and one shift. Only integer operations are used.
"""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from lava_fptt.neurons.backend import ArrayOps, check_int64, ops_for
from lava_fptt.neurons.fixed_point import Width, check_all, to_numpy
from lava_fptt.neurons.spec import Dynamics, Param, ParamSpec

Array = Any  # a numpy array or a torch tensor (or a Python number for parameters)

# ---------------------------------------------------------------------------
# Scales and widths of the integer form
# ---------------------------------------------------------------------------
STATE_FRAC_BITS = 12
"""States (u, b, theta) carry 12 fractional bits: 4096 stands for 1.0."""
ONE = 1 << STATE_FRAC_BITS
INPUT_SHIFT = 6
"""Synaptic input and bias are in weight units (64 == 1.0, as slayer's CUBA exports
weights); ``<< INPUT_SHIFT`` brings them to state units."""
GATE_COEF_FRAC_BITS = 8
"""Gate coefficients carry 8 fractional bits (256 == 1.0)."""
GATE_FRAC_BITS = 12
"""Gate pre-activations and gate outputs carry 12 fractional bits."""
STATE_WIDTH = Width(24)
STATE_MAX = STATE_WIDTH.hi
"""States saturate to ``[-STATE_MAX, STATE_MAX]``."""
INPUT_WIDTH = Width(24)
"""The graded synaptic input ``a_in``."""

SIGMOID_SEGMENT_BITS = 9
"""The sigmoid is linear on segments of 2**9 / 4096 = 1/8."""
SIGMOID_TABLE: tuple[int, ...] = (
    2048, 2176, 2303, 2428, 2550, 2668, 2782, 2891, 2994, 3092, 3184,
    3269, 3349, 3422, 3490, 3551, 3608, 3659, 3705, 3747, 3785, 3819,
    3850, 3877, 3902, 3924, 3943, 3960, 3976, 3990, 4002, 4013, 4022,
    4031, 4038, 4045, 4051, 4056, 4061, 4065, 4069, 4072, 4075, 4077,
    4079, 4081, 4083, 4085, 4086, 4087, 4088, 4089, 4090, 4091, 4091,
    4092, 4092, 4093, 4093, 4093, 4094, 4094, 4094, 4094, 4095,
)
"""``round(4096 * sigmoid(k / 8))`` for k = 0..64: the knots, a 65-word ROM."""
SIGMOID_INPUT_MAX = ((len(SIGMOID_TABLE) - 1) << SIGMOID_SEGMENT_BITS) - 1
"""Pre-activations saturate at just under 8.0 (32767 / 4096)."""

_COEF, _GATE = 1 << GATE_COEF_FRAC_BITS, 1 << GATE_FRAC_BITS
LTC_SPEC = ParamSpec("LTC", (
    # gates: trained, drawn per neuron; tau_m ~ sigmoid(-2) = 0.12 (a membrane memory of about 8 steps),
    # tau_adp ~ sigmoid(2) = 0.88 (adaptation decaying over about 8 steps)
    Param("mem_gate_i", _COEF, Width(12), init=(0.0, 0.1)),
    Param("mem_gate_u", _COEF, Width(12), init=(0.0, 0.1)),
    Param("mem_gate_bias", _GATE, Width(16), init=(-2.0, 0.5)),
    Param("adp_gate_i", _COEF, Width(12), init=(0.0, 0.1)),
    Param("adp_gate_b", _COEF, Width(12), init=(0.0, 0.1)),
    Param("adp_gate_bias", _GATE, Width(16), init=(2.0, 0.5)),
    Param("bias", 1 << INPUT_SHIFT, Width(16), init=0.0),
    # constants, as in the reference: fixed, not trained
    Param("b0", ONE, Width(24), trainable=False, init=0.1),
    Param("beta", ONE, Width(16, signed=False), trainable=False, init=1.8),
    Param("reset_frac", ONE, Width(13, signed=False), trainable=False, init=1.0),
))
"""The LTC neuron's parameters: the one list (:mod:`lava_fptt.neurons.spec`)."""
READOUT_MEMORY_GATE_BIAS = -4.0
"""Mean initial membrane-gate bias of the readout: ``tau_m ~ sigmoid(-4) = 0.018``, a memory of about 55
steps, so that the readout integrates the hidden layer's evidence over a whole sequence from the start.
With the hidden neurons' -2 (about 8 steps), recurrent LTC networks trained on MNIST-1D moved the readout's
bias towards -3 to -3.4 by themselves; starting at -4 gave +1 to +6 points after 15 and 40 epochs for
BPTT and FPTT alike on MNIST-1D (``docs/temporal-benchmark.md``)."""
READOUT_SPEC = ParamSpec("LTC", (
    LTC_SPEC["mem_gate_i"], LTC_SPEC["mem_gate_u"],
    dataclasses.replace(LTC_SPEC["mem_gate_bias"], init=(READOUT_MEMORY_GATE_BIAS, 0.5)),
    LTC_SPEC["bias"]))
"""The readout's parameters: the membrane gate and the bias of the LTC neuron (the gate starting with a
longer memory, :data:`READOUT_MEMORY_GATE_BIAS`)."""

PARAM_SCALES: dict[str, int] = LTC_SPEC.scales
"""Integer that stands for 1.0, per parameter."""
PARAM_WIDTHS: dict[str, Width] = LTC_SPEC.widths
"""Register width, per parameter."""

STATE_WIDTHS: dict[str, Width] = {"u": STATE_WIDTH, "b": STATE_WIDTH, "s": Width(1, signed=False)}


# ---------------------------------------------------------------------------
# Parameter and state types
# ---------------------------------------------------------------------------
class LTCParams(NamedTuple):
    """Parameters of a layer of LTC neurons in the float form.

    Each field broadcasts against the neuron axis (last axis of the input).
    """

    mem_gate_i: Array
    mem_gate_u: Array
    mem_gate_bias: Array
    adp_gate_i: Array
    adp_gate_b: Array
    adp_gate_bias: Array
    bias: Array = 0.0
    b0: Array = 0.1
    beta: Array = 1.8
    reset_frac: Array = 1.0


class LTCIntParams(NamedTuple):
    """Parameters of a layer of LTC neurons in the integer form.

    Same fields as :class:`LTCParams`, as integers at the scales of
    :data:`PARAM_SCALES` within the widths of :data:`PARAM_WIDTHS`. The defaults of
    ``b0`` and ``beta`` are those of :class:`LTCParams` quantized.
    """

    mem_gate_i: Array
    mem_gate_u: Array
    mem_gate_bias: Array
    adp_gate_i: Array
    adp_gate_b: Array
    adp_gate_bias: Array
    bias: Array = 0
    b0: Array = 410
    beta: Array = 7373
    reset_frac: Array = 4096


class LTCState(NamedTuple):
    """State of a layer of LTC neurons: membrane ``u``, adaptation ``b``, last spikes ``s``."""

    u: Array
    b: Array
    s: Array


class ReadoutParams(NamedTuple):
    """Parameters of a layer of liquid leaky integrators (float form)."""

    mem_gate_i: Array
    mem_gate_u: Array
    mem_gate_bias: Array
    bias: Array = 0.0


class ReadoutIntParams(NamedTuple):
    """Parameters of a layer of liquid leaky integrators (integer form)."""

    mem_gate_i: Array
    mem_gate_u: Array
    mem_gate_bias: Array
    bias: Array = 0


class ReadoutState(NamedTuple):
    """State of a layer of liquid leaky integrators: the membrane ``u``."""

    u: Array


FloatParams = LTCParams | ReadoutParams
IntParams = LTCIntParams | ReadoutIntParams
_INT_TYPE: dict[type, type] = {LTCParams: LTCIntParams, ReadoutParams: ReadoutIntParams}
_FLOAT_TYPE: dict[type, type] = {v: k for k, v in _INT_TYPE.items()}


def initial_state(x: Array) -> LTCState:
    """Zero state shaped, typed and placed like the input ``x``."""
    zero = ops_for(x).zeros_like(x)
    return LTCState(zero, zero, zero)


def readout_initial_state(x: Array) -> ReadoutState:
    """Zero readout state shaped, typed and placed like the input ``x``."""
    return ReadoutState(ops_for(x).zeros_like(x))


# ---------------------------------------------------------------------------
# Float form
# ---------------------------------------------------------------------------
def ltc_step(x: Array, state: LTCState, p: LTCParams) -> tuple[Array, LTCState]:
    """One step of LTC neurons in floating point; differentiable on torch tensors.

    Returns the spikes (0/1 in ``x``'s dtype) and the new state.
    """
    ops = ops_for(x)
    i = x + p.bias
    tau_m = ops.sigmoid(p.mem_gate_i * i + p.mem_gate_u * state.u + p.mem_gate_bias)
    tau_adp = ops.sigmoid(p.adp_gate_i * i + p.adp_gate_b * state.b + p.adp_gate_bias)
    b = tau_adp * state.b + (1 - tau_adp) * state.s
    theta = p.b0 + p.beta * b
    u = state.u + tau_m * (i - state.u)
    s = ops.spike(u - theta, 1.0)
    u = u * (1 - p.reset_frac * s)
    return s, LTCState(u, b, s)


def readout_step(x: Array, state: ReadoutState, p: ReadoutParams) -> tuple[Array, ReadoutState]:
    """One step of the liquid leaky integrator readout in floating point; output is ``u``."""
    ops = ops_for(x)
    i = x + p.bias
    tau_m = ops.sigmoid(p.mem_gate_i * i + p.mem_gate_u * state.u + p.mem_gate_bias)
    u = state.u + tau_m * (i - state.u)
    return u, ReadoutState(u)


# ---------------------------------------------------------------------------
# Integer form
# ---------------------------------------------------------------------------
def sigmoid_interpolated(z: Array) -> Array:
    """Sigmoid of ``z / 4096`` as a 12-bit fraction in ``0..4096``: the definition, integer ops only.

    Linear interpolation between the knots of :data:`SIGMOID_TABLE` (one table read, one
    multiply, one shift: what a hardware neuron computes); negative inputs use
    ``sigmoid(-z) = 1 - sigmoid(z)``, so the result is exactly symmetric. Error against
    the true sigmoid: at most 1.6 / 4096 (interpolation plus rounding). On float torch
    tensors the gradient is the slope of the segment ``z`` lies on (0 beyond the table).
    """
    ops = ops_for(z)
    mag = ops.clip(ops.where(z < 0, -z, z), 0, SIGMOID_INPUT_MAX)
    k = ops.index_shr(mag, SIGMOID_SEGMENT_BITS)
    frac = mag - k * (1 << SIGMOID_SEGMENT_BITS)
    lo = ops.lookup(SIGMOID_TABLE, k, like=z)
    hi = ops.lookup(SIGMOID_TABLE, k + 1, like=z)
    g = lo + ops.shr((hi - lo) * frac, SIGMOID_SEGMENT_BITS)
    return ops.where(z < 0, ONE - g, g)


SIGMOID_VALUES: np.ndarray = sigmoid_interpolated(np.arange(-SIGMOID_INPUT_MAX, SIGMOID_INPUT_MAX + 1,
                                                            dtype=np.int64))
""":func:`sigmoid_interpolated` at every input from ``-SIGMOID_INPUT_MAX`` to ``SIGMOID_INPUT_MAX``
(int64): beyond that range the sigmoid saturates, so these values are all it takes."""
SIGMOID_VALUES.setflags(write=False)


def sigmoid_int(z: Array) -> Array:
    """:func:`sigmoid_interpolated` of ``z``, the same integers.

    On integer arrays one read of :data:`SIGMOID_VALUES` (the interpolation evaluated in
    advance: three array operations instead of twenty); on float torch tensors, for
    quantization-aware training with gradients, the interpolation itself.
    """
    ops = ops_for(z)
    if ops.is_float(z):
        return sigmoid_interpolated(z)
    return ops.take(SIGMOID_VALUES, ops.clip(z, -SIGMOID_INPUT_MAX, SIGMOID_INPUT_MAX) + SIGMOID_INPUT_MAX)


class LTCStepParts(NamedTuple):
    """Every integer one integer LTC step computes, in the order it computes them.

    :func:`ltc_step_int` returns ``s`` and the state ``(u, b, s)`` from these; the fast
    quantization-aware training of :mod:`lava_fptt.neurons.ltc_train` keeps them to
    evaluate the straight-through gradient without re-running the step.
    """

    i_in: Array  # (x + bias) << 6, before saturation
    i: Array  # the input current, saturated to 24 bits
    z_m: Array  # membrane gate pre-activation (sigmoid input, 12 fractional bits)
    tau_m: Array
    z_adp: Array  # adaptation gate pre-activation
    tau_adp: Array
    b: Array  # new adaptation
    theta_in: Array  # b0 + beta * b, before saturation
    theta: Array
    u_in: Array  # new membrane before the spike's reset
    s: Array
    u: Array  # new membrane


class ReadoutStepParts(NamedTuple):
    """Every integer one integer readout step computes (see :class:`LTCStepParts`)."""

    i_in: Array
    i: Array
    z_m: Array
    tau_m: Array
    u: Array


def _current_int(ops: ArrayOps, x: Array, bias: Array) -> tuple[Array, Array]:
    """Synaptic input plus bias, from weight units to state units: before and after saturation to 24 bits."""
    i_in = (x + bias) * (1 << INPUT_SHIFT)
    return i_in, ops.clip(i_in, -STATE_MAX, STATE_MAX)


def _gate_preactivation(ops: ArrayOps, coef_i: Array, i: Array, coef_s: Array, s: Array, bias: Array) -> Array:
    """``coef_i * i + coef_s * s + bias`` at the sigmoid's input scale (12 fractional bits)."""
    return ops.shr(coef_i * i + coef_s * s, GATE_COEF_FRAC_BITS) + bias


def _toward_int(ops: ArrayOps, v: Array, target: Array, frac: Array) -> Array:
    """``v + frac * (target - v)`` with ``frac`` a 12-bit fraction.

    The result lies between ``v`` and ``target``, so it cannot leave their range.
    """
    return v + ops.shr(frac * (target - v), GATE_FRAC_BITS)


def _check_int_args(x: Array, state: tuple[Array, ...], p: tuple[Array, ...]) -> None:
    check_int64(x, *state, *(v for v in p if hasattr(v, "dtype")))


def ltc_step_int_parts(x: Array, state: LTCState, p: LTCIntParams) -> LTCStepParts:
    """One step of LTC neurons in the integer form, with every intermediate integer.

    The definition of the integer step; :func:`ltc_step_int` is its usual view.
    """
    ops = ops_for(x)
    _check_int_args(x, state, p)
    i_in, i = _current_int(ops, x, p.bias)
    z_m = _gate_preactivation(ops, p.mem_gate_i, i, p.mem_gate_u, state.u, p.mem_gate_bias)
    tau_m = sigmoid_int(z_m)
    z_adp = _gate_preactivation(ops, p.adp_gate_i, i, p.adp_gate_b, state.b, p.adp_gate_bias)
    tau_adp = sigmoid_int(z_adp)
    b = _toward_int(ops, state.b, state.s * ONE, ONE - tau_adp)
    theta_in = p.b0 + ops.shr(p.beta * b, STATE_FRAC_BITS)
    theta = ops.clip(theta_in, -STATE_MAX, STATE_MAX)
    u_in = _toward_int(ops, state.u, i, tau_m)
    s = ops.spike(u_in - theta, float(ONE))
    u = u_in - s * ops.shr(p.reset_frac * u_in, STATE_FRAC_BITS)  # reset_frac = 4096: u * (1 - s) exactly
    return LTCStepParts(i_in, i, z_m, tau_m, z_adp, tau_adp, b, theta_in, theta, u_in, s, u)


def ltc_step_int(x: Array, state: LTCState, p: LTCIntParams) -> tuple[Array, LTCState]:
    """One step of LTC neurons in the integer form (see module docstring for scales).

    ``x``, the state and array parameters are ``int64`` (numpy or torch) or, for
    quantization-aware training, ``float64`` torch tensors holding integers, on which
    the same values are computed with straight-through gradients. Returns the spikes
    (0/1) and the new state.
    """
    parts = ltc_step_int_parts(x, state, p)
    return parts.s, LTCState(parts.u, parts.b, parts.s)


def readout_step_int_parts(x: Array, state: ReadoutState, p: ReadoutIntParams) -> ReadoutStepParts:
    """One step of the liquid leaky integrator readout in the integer form, with every intermediate."""
    ops = ops_for(x)
    _check_int_args(x, state, p)
    i_in, i = _current_int(ops, x, p.bias)
    z_m = _gate_preactivation(ops, p.mem_gate_i, i, p.mem_gate_u, state.u, p.mem_gate_bias)
    tau_m = sigmoid_int(z_m)
    return ReadoutStepParts(i_in, i, z_m, tau_m, _toward_int(ops, state.u, i, tau_m))


def readout_step_int(x: Array, state: ReadoutState, p: ReadoutIntParams) -> tuple[Array, ReadoutState]:
    """One step of the liquid leaky integrator readout in the integer form; output is ``u``."""
    u = readout_step_int_parts(x, state, p).u
    return u, ReadoutState(u)


# ---------------------------------------------------------------------------
# Quantization and width checks
# ---------------------------------------------------------------------------
def quantize(p: FloatParams) -> IntParams:
    """Integer parameters nearest to float ones (``round(value * scale)``), as int64 numpy.

    Raises ``ValueError`` naming the parameter when a value does not fit its width.
    """
    q = _INT_TYPE[type(p)](**{
        name: np.round(to_numpy(v).astype(np.float64) * PARAM_SCALES[name]).astype(np.int64)
        for name, v in p._asdict().items()
    })
    check_params(q)
    return q


def dequantize(q: IntParams) -> FloatParams:
    """Float parameters that integer ones stand for (``value / scale``), as float64 numpy."""
    return _FLOAT_TYPE[type(q)](**{
        name: to_numpy(v).astype(np.float64) / PARAM_SCALES[name] for name, v in q._asdict().items()
    })


def check_params(q: NamedTuple) -> None:
    """Raise ``ValueError`` naming the first parameter that is not an integer within its width."""
    check_all("LTC parameter", q._asdict(), PARAM_WIDTHS)


def check_state(state: NamedTuple) -> None:
    """Raise ``ValueError`` naming the first state that is not an integer within its width."""
    check_all("LTC state", state._asdict(), STATE_WIDTHS)


LTC_DYNAMICS = Dynamics(LTC_SPEC, LTCParams, LTCIntParams, LTCState, ltc_step, ltc_step_int, STATE_WIDTHS)
"""The LTC spiking neuron, as the block, the Lava process and the registry use it."""
READOUT_DYNAMICS = Dynamics(READOUT_SPEC, ReadoutParams, ReadoutIntParams, ReadoutState, readout_step,
                            readout_step_int, {"u": STATE_WIDTH}, message_bits=24, graded_unit=ONE)
"""The liquid leaky integrator readout: sends its 24-bit ``u`` every step (4096 per unit)."""
