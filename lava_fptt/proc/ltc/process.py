"""Lava Processes for the LTC spiking neuron and its non-spiking readout.

A process is built from a parameter tuple of :mod:`lava_fptt.neurons.ltc`; its type
fixes the arithmetic:

- float parameters (:class:`LTCParams`, :class:`ReadoutParams`) are for the
  ``floating_pt`` models,
- integer parameters (:class:`LTCIntParams`, :class:`ReadoutIntParams`) for the
  bit-accurate ``fixed_pt`` models. Every integer parameter and initial state is
  checked against its register width here, at construction; a value that does not
  fit raises ``ValueError`` naming it.

Each parameter and state field becomes a ``Var`` of the neuron shape with the same
name, so ``proc.u.get()`` reads the membrane and a ``Monitor`` can probe any of them.
The gates read the neuron's own previous ``u`` and ``b``, which are Vars of the
process: no extra ports.

Periodic reset (``reset_interval``, ``reset_offset``), with the semantics of Lava's
``LIFReset``: at every time step ``t`` (Lava counts from 1) with
``t % reset_interval == reset_offset % reset_interval`` the state (``u``, ``b``, ``s``;
the readout's ``u``) is set to zero before that step's update. netx staggers these
offsets by one step per layer so that samples can run back to back.

Recurrent input goes to ``a_rec`` (``a_in`` would do for the arithmetic: both are summed).
The separate port makes the reset exact for recurrent layers: at a reset step a
recurrent ``Dense`` still delivers ``W_r s`` of the step before, i.e. of the previous
sample, whereas a fresh start has ``s[-1] = 0``; the model discards ``a_rec`` at reset
steps. An unconnected ``a_rec`` contributes zero.

Input ``a_in`` is the synaptic sum of the step, e.g. from a Lava ``Dense``; with
integer parameters it is in weight units (64 stands for 1.0, the scale slayer's CUBA
exports weights at, with ``weight_exp = 0``), and the neuron shifts it ``<< 6`` into
its 4096-per-unit state scale. Lava's ``Dense`` delivers the sum of the spikes of
step ``t`` at step ``t + 1``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var

from lava_fptt.neurons.fixed_point import to_numpy
from lava_fptt.neurons.ltc import (
    LTCIntParams,
    LTCParams,
    LTCState,
    ReadoutIntParams,
    ReadoutParams,
    ReadoutState,
    check_params,
    check_state,
)


class _LiquidProcess(AbstractProcess):
    """Common construction: one Var per parameter and state field, ports ``a_in``/``a_rec``/``s_out``."""

    _float_params: type[Any]  # NamedTuple types (of the neuron's float and integer parameters, and state)
    _int_params: type[Any]
    _state: type[Any]

    def __init__(
        self,
        *,
        shape: tuple[int, ...],
        params: NamedTuple,
        state: NamedTuple | None = None,
        reset_interval: int | None = None,
        reset_offset: int = 0,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        fixed_point = isinstance(params, self._int_params)
        # Lava's AbstractProcess.__del__ expects a finished base __init__: checks come after it.
        super().__init__(shape=shape, fixed_point=fixed_point, reset_interval=reset_interval,
                         reset_offset=reset_offset, name=name, log_config=log_config)
        if not isinstance(params, (self._float_params, self._int_params)):
            raise TypeError(f"{type(self).__name__} params must be {self._float_params.__name__} "
                            f"or {self._int_params.__name__}, got {type(params).__name__}")
        if reset_interval is not None and reset_interval < 1:
            raise ValueError(f"reset_interval must be >= 1 (or None for no reset), got {reset_interval}")
        params = type(params)(*(_broadcast(v, shape, fixed_point) for v in params))
        if state is None:
            state = self._state(*(np.zeros(shape, np.int64) for _ in self._state._fields))
        state = self._state(*(_broadcast(v, shape, fixed_point) for v in state))
        if fixed_point:
            check_params(params)
            check_state(state)
        self.a_in = InPort(shape=shape)
        self.a_rec = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        for field, value in (*params._asdict().items(), *state._asdict().items()):
            setattr(self, field, Var(shape=shape, init=value))

    @property
    def reset(self) -> tuple[int, int] | None:
        """``(interval, offset)`` of the periodic state reset, or None."""
        interval = self.proc_params["reset_interval"]
        return None if interval is None else (interval, self.proc_params["reset_offset"] % interval)

    @property
    def fixed_point(self) -> bool:
        """True when built from integer parameters (run with ``select_tag='fixed_pt'``)."""
        return bool(self.proc_params["fixed_point"])


def _broadcast(value: Any, shape: tuple[int, ...], fixed_point: bool) -> np.ndarray:
    """``value`` as a numpy array of ``shape``; integers stay integers (and are checked later)."""
    arr = to_numpy(value)
    if not fixed_point:
        arr = arr.astype(np.float64)
    return np.broadcast_to(arr, shape).copy()


class LTC(_LiquidProcess):
    """A layer of Liquid-Time-Constant spiking neurons (see :mod:`lava_fptt.neurons.ltc`).

    Parameters
    ----------
    shape : tuple of int
        Shape of the neuron population.
    params : LTCParams or LTCIntParams
        Float parameters (``floating_pt`` model) or integer ones (``fixed_pt`` model);
        scalars broadcast to ``shape``.
    state : LTCState, optional
        Initial ``u``, ``b`` and previous spikes ``s``; zero by default.
    reset_interval, reset_offset : int, optional
        Zero the state at steps ``t`` with ``t % reset_interval == reset_offset``
        (as Lava's ``LIFReset``); no reset when ``reset_interval`` is None (default).

    Ports: ``a_in`` (synaptic input), ``a_rec`` (recurrent synaptic input, discarded at
    reset steps), ``s_out`` (binary spikes).
    Vars: the fields of the parameter tuple and ``u``, ``b``, ``s``.
    """

    _float_params = LTCParams
    _int_params = LTCIntParams
    _state = LTCState


class LTCReadout(_LiquidProcess):
    """A layer of non-spiking liquid leaky integrators; ``s_out`` carries ``u`` as a graded value.

    Parameters are :class:`ReadoutParams` (float) or :class:`ReadoutIntParams` (integer),
    state :class:`ReadoutState`; otherwise as :class:`LTC`. With integer parameters the
    output is ``u`` at the 24-bit state scale (4096 stands for 1.0).
    """

    _float_params = ReadoutParams
    _int_params = ReadoutIntParams
    _state = ReadoutState
