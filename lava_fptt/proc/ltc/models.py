"""ProcessModels of :class:`LTC` and :class:`LTCReadout`: floating point and bit-accurate fixed point.

Each pair comes from :func:`lava_fptt.proc.model_pair.model_pair`: the models call the
step functions of :mod:`lava_fptt.neurons.ltc` on the whole population at once, the
fixed-point ones with ``int64`` numpy arrays, i.e. the very functions that training runs
on torch tensors; they hold no arithmetic of their own.

Declared precisions follow Loihi: 24-bit graded input and states, parameters at the
widths of :data:`lava_fptt.neurons.ltc.LTC_SPEC` (enforced when the process is built).

A model does not check that its process was built with the matching parameter type
(``proc.fixed_point``): an exception raised inside a model during a run leaves Lava
0.10's ``stop()`` waiting forever, so the choice of ``select_tag`` is left to the
caller, as for Lava's own LIF.
"""
from __future__ import annotations

from lava_fptt.neurons.ltc import LTC_DYNAMICS, READOUT_DYNAMICS
from lava_fptt.proc.ltc.process import LTC, LTCReadout
from lava_fptt.proc.model_pair import model_pair

PyLTCModelFloat, PyLTCModelFixed = model_pair(LTC, __name__, LTC_DYNAMICS)
"""LTC neurons in floating point (:func:`ltc_step`) and in the integer form (:func:`ltc_step_int`)."""

PyLTCReadoutModelFloat, PyLTCReadoutModelFixed = model_pair(LTCReadout, __name__, READOUT_DYNAMICS)
"""Liquid leaky integrators in floating point and in the integer form; they send ``u`` (24-bit graded)."""
