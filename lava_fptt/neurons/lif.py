"""A plain leaky integrate-and-fire neuron, float and integer forms: the worked example of
``docs/adding_a_neuron.md``.

One step (float form, per neuron)::

    v[t] = (1 - decay) * v[t-1] + x + bias
    s[t] = H(v[t] - threshold);   v[t] <- v[t] * (1 - s[t])      (reset to zero)

Integer form (what Lava's ``fixed_pt`` model and quantization-aware training run): ``v``
and ``threshold`` at 4096 per unit (24-bit, saturating), ``decay`` a 12-bit fraction
(0..4096), ``x`` and ``bias`` in weight units (64 per unit, shifted ``<< 6`` as Loihi's
LIF does), products brought back to scale by a right shift rounded to nearest. Written
once for numpy and torch (:mod:`lava_fptt.neurons.backend`).
"""
from __future__ import annotations

from typing import Any, NamedTuple

from lava_fptt.neurons.backend import check_int64, ops_for
from lava_fptt.neurons.fixed_point import Width
from lava_fptt.neurons.spec import Dynamics, Param, ParamSpec

ONE = 1 << 12
"""4096 stands for 1.0 in ``v``, ``threshold`` and ``decay``."""
INPUT_SHIFT = 6
STATE_WIDTH = Width(24)

LIF_SPEC = ParamSpec("LIF", (
    Param("decay", ONE, Width(13, signed=False), trainable=False, init=0.1),
    Param("threshold", ONE, Width(24), trainable=False, init=1.0),
    Param("bias", 1 << INPUT_SHIFT, Width(16), init=0.0),
))
"""The LIF neuron's parameters: decay and threshold constant, bias trained."""


class LIFParams(NamedTuple):
    """Parameters of a layer of LIF neurons (float form)."""

    decay: Any = 0.1
    threshold: Any = 1.0
    bias: Any = 0.0


class LIFIntParams(NamedTuple):
    """Parameters of a layer of LIF neurons (integer form, at the scales of :data:`LIF_SPEC`)."""

    decay: Any = 410
    threshold: Any = 4096
    bias: Any = 0


class LIFState(NamedTuple):
    """State of a layer of LIF neurons: voltage ``v`` and last spikes ``s``."""

    v: Any
    s: Any


def lif_step(x: Any, state: LIFState, p: LIFParams) -> tuple[Any, LIFState]:
    """One float step; differentiable on torch tensors (surrogate spike gradient). Returns spikes and state."""
    ops = ops_for(x)
    v = (1 - p.decay) * state.v + x + p.bias
    s = ops.spike(v - p.threshold, 1.0)
    v = v * (1 - s)
    return s, LIFState(v, s)


def lif_step_int(x: Any, state: LIFState, p: LIFIntParams) -> tuple[Any, LIFState]:
    """One integer step (``int64`` numpy or torch; float64 torch holding integers for training)."""
    ops = ops_for(x)
    check_int64(x, *state, *(v for v in p if hasattr(v, "dtype")))
    leak = ops.shr(p.decay * state.v, 12)
    v = ops.clip(state.v - leak + (x + p.bias) * (1 << INPUT_SHIFT), STATE_WIDTH.lo + 1, STATE_WIDTH.hi)
    s = ops.spike(v - p.threshold, float(ONE))
    v = v * (1 - s)
    return s, LIFState(v, s)


LIF_DYNAMICS = Dynamics(LIF_SPEC, LIFParams, LIFIntParams, LIFState, lif_step, lif_step_int,
                        {"v": STATE_WIDTH, "s": Width(1, signed=False)})
"""The LIF neuron as the block, the Lava process and the registry use it."""
