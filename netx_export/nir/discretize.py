"""Continuous-time NIR neurons to Lava's fixed-point CUBA LIF: decays, threshold, weights, bias.

NIR states neurons as differential equations; a graph carries no time step. With a
step ``dt`` chosen by the user, forward Euler (what snnTorch, Norse and Sinabs run) gives
per step, with ``a = dt / tau_syn`` and ``b = dt / tau_mem``:

- ``CubaLIF``: ``I <- (1 - a) I + a w_in (W x + c)``, ``v <- (1 - b) v + b (v_leak + r I)``;
- ``LIF``: the same with no synaptic state (``I = W x + c``, i.e. ``a = 1``), ``b = dt / tau``;
- ``IF``: ``v <- v + dt r (W x + c)`` (``a = 1``, ``b = 0``);
- then a spike where ``v > v_threshold``, and ``v <- v_reset``.

Lava's fixed-point LIF (``lava.proc.lif.models.AbstractPyLifModelFixed``, as netx builds
it from a ``CUBA`` layer) computes, in integers, ``u <- u (4096 - iDecay) / 4096 + a_in``,
``v <- v (4096 - vDecay) / 4096 + u + bias``, a spike where ``v > vThMant`` (all in weight
units; the hardware keeps 6 more fraction bits), and ``v <- 0``. The two are the same
system once the current is measured as ``u = b r I / theta`` (``theta`` the threshold):
every weight row ``i`` is multiplied by ``g_i = a w_in b r / theta_i`` (recurrent rows
too), the bias is ``(b v_leak + b r w_in c) / theta``, the threshold becomes 1. Per-neuron
``r``, ``w_in``, ``v_threshold`` and ``v_leak`` are thereby folded into the weights and
bias; ``tau_syn`` and ``tau_mem`` must be one value per layer (Lava's decays are).

:func:`discretize` then picks the layer's integer scale ``S`` (weight units per
threshold): the largest integer that keeps every weight within the 8-bit mantissa
(even integers in [-256, 254]), the threshold within 17 bits and the bias within the
13-bit mantissa (``bias_exp`` 6, as netx sets it), unless the graph states one
(``lava_fptt_vth_mant`` in the neuron's metadata, written by :mod:`netx_export.nir.export`,
so that our own networks come back with their exact integers). Then ``vThMant = S``,
``weight = 2 round(S g W / 2)``, ``iDecay = round(4096 a)``, ``vDecay = round(4096 b)``.

The non-spiking ``CubaLI``, ``LI`` and ``I`` nodes discretize as ``CubaLIF``, ``LIF`` and
``IF`` with ``theta = 1`` (no threshold: the graph's own voltage is the unit): their
scale ``S`` is the weight units per unit of the graph's voltage, so Lava's voltage
register holds ``64 S v`` and the graded output (Lava's ``v`` / 4096, slayer's units)
is ``S v / 64``; the file states an unreachable threshold instead
(:mod:`netx_export.readout`).

Refused, naming the node: ``v_reset`` other than 0 (Lava resets to 0 only); a threshold
that is not positive; ``tau`` shorter than ``dt`` (forward Euler would overshoot) or
differing between the neurons of a layer; a bias into a filtered synaptic current
(Lava adds its bias to the voltage, which equals adding it to the current only when the
current has no memory, ``tau_syn <= dt``); per-neuron parameters on convolution and
pooling layers (their weights are shared between neurons).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from lava_fptt.neurons.dense import WEIGHT_MAX, WEIGHT_MIN
from lava_fptt.neurons.fixed_point import Width

from ..readout import NEVER
from .graph import Layer, NIRGraphError, node_error

DECAY_UNITY = 4096
"""Lava's decays are fractions of 4096 lost per step."""
I_DECAY_MAX = DECAY_UNITY
"""netx's ``iDecay`` (Lava's ``du + 1``: the current decay reaches a full 4096)."""
V_DECAY_MAX = DECAY_UNITY - 1
"""netx's ``vDecay`` is Lava's 12-bit ``dv``."""
VTH_WIDTH = Width(17, signed=False)
BIAS_WIDTH = Width(13)
SCALE_KEY = "lava_fptt_vth_mant"
"""Neuron metadata key stating the integer threshold (scale) a layer was exported with."""


@dataclass(frozen=True)
class QuantizationError:
    """How far a layer's integers are from its Euler-discretized values (all relative).

    ``weight``: the largest weight error over the largest weight magnitude (recurrent
    weights included). ``decay``: the larger relative error of the current and voltage
    decays. ``bias``: as ``weight``, for the bias (0 when absent). The threshold has no
    error: it is the layer's integer scale itself.
    """

    layer: str
    weight: float
    decay: float
    bias: float

    def to_dict(self) -> dict[str, Any]:
        """The errors as plain data (JSON)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LoihiLayer:
    """A :class:`~netx_export.nir.graph.Layer` in the integers netx writes and Lava's LIF runs.

    ``weight`` / ``weight_rec``: even integers in [-256, 254] (pool: one integer);
    ``bias``: 13-bit integers (or None); ``i_decay`` in [0, 4096], ``v_decay`` in
    [0, 4095], ``v_th`` the 17-bit threshold (a graded readout:
    :data:`netx_export.readout.NEVER`, a threshold that cannot be reached); ``scale``
    the weight units per unit of threshold-normalized voltage (a graded readout: per
    unit of the graph's voltage); ``error`` what the rounding cost.
    """

    layer: Layer
    weight: np.ndarray
    weight_rec: Optional[np.ndarray]
    bias: Optional[np.ndarray]
    i_decay: int
    v_decay: int
    v_th: int
    scale: int
    error: QuantizationError


@dataclass(frozen=True)
class StepForm:
    """A layer after forward Euler with threshold 1: per-step decays and the folded synapse.

    ``a``, ``b``: current and voltage decay fractions per step. ``weight``,
    ``weight_rec``, ``bias``: in units of the threshold (see the module docstring).
    """

    a: float
    b: float
    weight: np.ndarray
    weight_rec: Optional[np.ndarray]
    bias: Optional[np.ndarray]


def uniform(name: str, node: Any, field: str, value: np.ndarray, why: str) -> float:
    """The one value of ``value`` if all its elements are equal, else refuse."""
    flat = np.asarray(value, dtype=np.float64).reshape(-1)
    if flat.size == 0 or not np.allclose(flat, flat[0], rtol=1e-6, atol=0.0):
        raise node_error(name, node, f"{field} differs between neurons ({flat.min():g} to {flat.max():g}); {why}")
    return float(flat[0])


RESETS = ("zero", "subtract")
"""Reset rules a user may declare for a graph (NIR itself states only ``v_reset``)."""


def step_form(layer: Layer, dt: float, reset: str = "zero") -> StepForm:
    """Forward Euler of ``layer``'s neuron with step ``dt``, threshold folded to 1.

    ``reset`` is the rule the graph's neurons were trained with: ``'zero'`` (to
    ``v_reset``, NIR's rule) is honoured, ``'subtract'`` refused (Lava's LIF resets to 0).
    """
    name, node, kind = layer.name, layer.neuron, layer.neuron_type
    if not dt > 0:
        raise NIRGraphError(f"the time step dt must be positive, got {dt}")
    if reset not in RESETS:
        raise NIRGraphError(f"reset must be one of {RESETS}, got {reset!r}")
    if reset == "subtract" and not layer.graded:
        raise node_error(name, node, "reset by subtraction: Lava's LIF (netx's CUBA layers) resets the voltage "
                                     "to 0; the imported network would behave differently")
    n = int(np.prod(layer.out_shape))

    def per_neuron(field: str, default: float = 0.0) -> np.ndarray:
        value = getattr(node, field, None)
        arr = np.full(n, default) if value is None else np.asarray(value, dtype=np.float64).reshape(-1)
        return np.broadcast_to(arr, (n,)).astype(np.float64)

    def decay(field: str) -> float:
        tau = uniform(name, node, field, per_neuron(field), "Lava's decays are one value per layer")
        frac = dt / tau if tau != np.inf else 0.0
        if not 0 <= frac <= 1:
            raise node_error(name, node, f"{field} = {tau:g} is shorter than dt = {dt:g}: forward Euler "
                                         "would overshoot; choose a smaller dt")
        return frac

    v_reset = per_neuron("v_reset")
    if np.any(v_reset != 0):
        raise node_error(name, node, f"reset potential v_reset = {v_reset[v_reset != 0][0]:g}: Lava's LIF resets "
                                     "the voltage to 0 only")
    theta = np.ones(n) if layer.graded else per_neuron("v_threshold")  # a graded layer's voltage unit is its own
    if np.any(theta <= 0):
        raise node_error(name, node, "v_threshold must be positive")
    r = per_neuron("r", 1.0)
    if kind in ("CubaLIF", "CubaLI"):
        a, b = decay("tau_syn"), decay("tau_mem")
        gain, drive = a * b * r * per_neuron("w_in", 1.0), b * r * per_neuron("w_in", 1.0)
        leak = b * per_neuron("v_leak")
    elif kind in ("LIF", "LI"):
        a, b = 1.0, decay("tau")
        gain = drive = b * r
        leak = b * per_neuron("v_leak")
    else:  # IF, I
        a, b = 1.0, 0.0
        gain = drive = dt * r
        leak = np.zeros(n)
    bias = None
    if layer.bias is not None and np.any(layer.bias):
        if a < 1:
            raise node_error(name, node, "a bias into a synaptic current with memory (tau_syn > dt) has no Lava "
                                         "equivalent: Lava adds its bias to the voltage")
        bias = np.broadcast_to(layer.bias.reshape(layer.bias.shape[0], *([1] * (len(layer.out_shape) - 1))),
                               layer.out_shape).reshape(-1) * drive
    if np.any(leak):
        bias = leak if bias is None else bias + leak
    row = gain / theta
    if bias is not None:
        bias = bias / theta
    if layer.kind == "dense":
        weight = layer.weight * row[:, None]
        weight_rec = None if layer.weight_rec is None else layer.weight_rec * row[:, None]
    else:
        why = "weights of convolution and pooling layers are shared between neurons"
        factor = uniform(name, node, "r, w_in or v_threshold", row, why)
        if bias is not None:  # one value per channel
            per_channel = bias.reshape(layer.out_shape[0], -1)
            bias = np.array([uniform(name, node, "bias or v_leak", c, why) for c in per_channel])
        weight, weight_rec = layer.weight * factor, None
    return StepForm(a, b, np.asarray(weight, dtype=np.float64), weight_rec, bias)


def integer_scale(name: str, node: Any, form: StepForm) -> int:
    """The largest integer threshold that keeps weights, threshold and bias within their widths."""
    peak = max(np.abs(form.weight).max(initial=0.0),
               0.0 if form.weight_rec is None else np.abs(form.weight_rec).max(initial=0.0))
    scale = float(VTH_WIDTH.hi)
    if peak > 0:
        scale = min(scale, WEIGHT_MAX / peak)
    if form.bias is not None and np.abs(form.bias).max() > 0:
        scale = min(scale, BIAS_WIDTH.hi / np.abs(form.bias).max())
    if scale < 1:
        raise node_error(name, node, f"a single input moves the voltage {peak:g} thresholds: that does not fit "
                                     "8-bit weights against an integer threshold")
    return int(np.floor(scale))


def discretize(layer: Layer, dt: float, reset: str = "zero") -> LoihiLayer:
    """``layer`` in Lava's fixed-point integers, with the rounding error it costs (``reset``: :func:`step_form`)."""
    form = step_form(layer, dt, reset)
    stated = layer.neuron.metadata.get(SCALE_KEY) if isinstance(layer.neuron.metadata, dict) else None
    scale = int(stated) if stated is not None else integer_scale(layer.name, layer.neuron, form)

    def quantize(w: Optional[np.ndarray]) -> Optional[np.ndarray]:
        if w is None:
            return None
        q = 2 * np.round(w * scale / 2)
        if q.max(initial=0) > WEIGHT_MAX or q.min(initial=0) < WEIGHT_MIN:
            raise node_error(layer.name, layer.neuron, f"weights reach {np.abs(w).max() * scale:g} weight units at "
                                                       f"scale {scale}; the 8-bit mantissa holds [-256, 254]")
        return q.astype(np.int64)

    weight, weight_rec = quantize(form.weight), quantize(form.weight_rec)
    assert weight is not None  # every layer has feed-forward weights
    bias = None if form.bias is None else np.round(form.bias * scale).astype(np.int64)
    if scale > VTH_WIDTH.hi or scale < 1:
        raise node_error(layer.name, layer.neuron, f"scale (threshold) {scale} outside [1, {VTH_WIDTH.hi}]")
    if bias is not None and (bias.min() < BIAS_WIDTH.lo or bias.max() > BIAS_WIDTH.hi):
        raise node_error(layer.name, layer.neuron, f"bias reaches {np.abs(bias).max()} weight units, outside "
                                                   f"the 13-bit mantissa [{BIAS_WIDTH.lo}, {BIAS_WIDTH.hi}]")
    i_decay = int(np.round(form.a * DECAY_UNITY))
    v_decay = min(int(np.round(form.b * DECAY_UNITY)), V_DECAY_MAX)
    error = QuantizationError(
        layer.name,
        weight=relative_error([form.weight, form.weight_rec], [weight, weight_rec], scale),
        decay=max(decay_error(form.a, i_decay), decay_error(form.b, v_decay)),
        bias=0.0 if bias is None else relative_error([form.bias], [bias], scale),
    )
    return LoihiLayer(layer, weight, weight_rec, bias, i_decay, v_decay, NEVER if layer.graded else scale, scale,
                      error)


def relative_error(exact: list[Optional[np.ndarray]], integers: list[Optional[np.ndarray]], scale: int) -> float:
    """Largest ``|integer / scale - exact|`` over the largest ``|exact|`` (0 for all-zero values)."""
    pairs = [(e, q) for e, q in zip(exact, integers) if e is not None and q is not None]
    peak = max(np.abs(e).max(initial=0.0) for e, _ in pairs)
    if peak == 0:
        return 0.0
    return float(max(np.abs(q / scale - e).max(initial=0.0) for e, q in pairs) / peak)


def decay_error(exact: float, integer: int) -> float:
    """Relative error of a decay fraction stored as ``integer / 4096`` (0 for an exact zero)."""
    return 0.0 if exact == 0 else abs(integer / DECAY_UNITY - exact) / exact
