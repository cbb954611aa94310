"""A Lava process for a layer of neurons of any kind with :class:`~lava_fptt.neurons.spec.Dynamics`.

A process is built from a parameter tuple of its dynamics; the tuple's type fixes the
arithmetic: float parameters for the ``floating_pt`` model, integer ones for the
bit-accurate ``fixed_pt`` model (:func:`lava_fptt.proc.model_pair.model_pair` makes both).
Every integer parameter and initial state is checked against its register width here, at
construction; a value that does not fit raises ``ValueError`` naming it. Each parameter and
state field becomes a ``Var`` of the neuron shape with the same name.

Periodic reset (``reset_interval``, ``reset_offset``), with the semantics of Lava's
``LIFReset``: at every time step ``t`` (Lava counts from 1) with
``t % reset_interval == reset_offset % reset_interval`` the state is set to zero before
that step's update. Recurrent input goes to ``a_rec``, discarded at reset steps (it still
carries the previous sample's last spikes); an unconnected ``a_rec`` contributes zero.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var

from lava_fptt.neurons.fixed_point import to_numpy
from lava_fptt.neurons.spec import Dynamics


class NeuronProcess(AbstractProcess):
    """A layer of neurons of one kind: one Var per parameter and state field, ports ``a_in``/``a_rec``/``s_out``.

    Subclasses name their :class:`~lava_fptt.neurons.spec.Dynamics` (``dynamics``); the float or
    integer parameter tuple given chooses the arithmetic (module docstring).
    """

    dynamics: Dynamics

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
        dyn = self.dynamics
        fixed_point = isinstance(params, dyn.int_params)
        # Lava's AbstractProcess.__del__ expects a finished base __init__: checks come after it.
        super().__init__(shape=shape, fixed_point=fixed_point, reset_interval=reset_interval,
                         reset_offset=reset_offset, name=name, log_config=log_config)
        if not isinstance(params, (dyn.float_params, dyn.int_params)):
            raise TypeError(f"{type(self).__name__} params must be {dyn.float_params.__name__} "
                            f"or {dyn.int_params.__name__}, got {type(params).__name__}")
        if reset_interval is not None and reset_interval < 1:
            raise ValueError(f"reset_interval must be >= 1 (or None for no reset), got {reset_interval}")
        tuple_type: Any = type(params)
        params = tuple_type(*(_broadcast(v, shape, fixed_point) for v in params))
        if state is None:
            state = dyn.state(*(np.zeros(shape, np.int64) for _ in dyn.state._fields))
        state = dyn.state(*(_broadcast(v, shape, fixed_point) for v in state))
        if fixed_point:
            dyn.spec.check(params._asdict())
            dyn.check_state(state)
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
