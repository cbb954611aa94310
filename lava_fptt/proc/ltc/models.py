"""ProcessModels of :class:`LTC` and :class:`LTCReadout`: floating point and bit-accurate fixed point.

All four models run the same loop body (:class:`_StepModel`): zero the state when a
periodic reset is due (``reset_interval``/``reset_offset``, as Lava's ``LIFReset``), add
``a_rec`` to ``a_in`` except at a reset step, call the
step function of :mod:`lava_fptt.neurons.ltc` on the whole population at once, store
the new state in the Vars and send the output. The fixed-point models call the
integer step with ``int64`` numpy arrays, i.e. the very function that training runs
on torch tensors; they hold no arithmetic of their own.

Declared precisions follow Loihi: 24-bit graded input and states, parameters at the
widths of :data:`lava_fptt.neurons.ltc.PARAM_WIDTHS` (enforced when the process is
built).

A model does not check that its process was built with the matching parameter type
(``proc.fixed_point``): an exception raised inside a model during a run leaves Lava
0.10's ``stop()`` waiting forever, so the choice of ``select_tag`` is left to the
caller, as for Lava's own LIF.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_fptt.neurons.ltc import (
    PARAM_WIDTHS,
    LTCIntParams,
    LTCParams,
    LTCState,
    ReadoutIntParams,
    ReadoutParams,
    ReadoutState,
    ltc_step,
    ltc_step_int,
    readout_step,
    readout_step_int,
)
from lava_fptt.proc.ltc.process import LTC, LTCReadout


def _int_var(name: str) -> LavaPyType:
    """Declaration of an integer parameter Var at its register width."""
    return LavaPyType(np.ndarray, np.int32, precision=PARAM_WIDTHS[name].bits)


_FLOAT = LavaPyType(np.ndarray, float)
_STATE24 = LavaPyType(np.ndarray, np.int32, precision=24)


class _StepModel(PyLoihiProcessModel):
    """Runs one step function over the whole population in the spiking phase."""

    step: Callable[[Any, Any, Any], tuple[Any, Any]]  # (input, state, params) -> (output, state)
    param_type: type[Any]  # NamedTuple types
    state_type: type[Any]
    dtype: type

    def __init__(self, proc_params: Any) -> None:
        super().__init__(proc_params)
        interval = proc_params["reset_interval"]
        self._reset = None if interval is None else (interval, proc_params["reset_offset"] % interval)

    def run_spk(self) -> None:
        x = self.a_in.recv().astype(self.dtype)
        recurrent = self.a_rec.recv().astype(self.dtype)
        if self._reset is not None and self.time_step % self._reset[0] == self._reset[1]:
            for field in self.state_type._fields:
                getattr(self, field)[:] = 0
        else:  # at a reset the recurrent input still carries the previous sample's last spikes
            x = x + recurrent
        state = self.state_type(*(getattr(self, f).astype(self.dtype) for f in self.state_type._fields))
        params = self.param_type(*(getattr(self, f).astype(self.dtype) for f in self.param_type._fields))
        out, new_state = self.step(x, state, params)
        for field, value in new_state._asdict().items():
            getattr(self, field)[:] = value
        self.s_out.send(out)


# --------------------------------------------------------------------------- LTC
@implements(proc=LTC, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyLTCModelFloat(_StepModel):
    """LTC neurons in floating point (:func:`ltc_step`)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_rec: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    mem_gate_i: np.ndarray = _FLOAT
    mem_gate_u: np.ndarray = _FLOAT
    mem_gate_bias: np.ndarray = _FLOAT
    adp_gate_i: np.ndarray = _FLOAT
    adp_gate_b: np.ndarray = _FLOAT
    adp_gate_bias: np.ndarray = _FLOAT
    bias: np.ndarray = _FLOAT
    b0: np.ndarray = _FLOAT
    beta: np.ndarray = _FLOAT
    reset_frac: np.ndarray = _FLOAT
    u: np.ndarray = _FLOAT
    b: np.ndarray = _FLOAT
    s: np.ndarray = _FLOAT

    step = staticmethod(ltc_step)
    param_type = LTCParams
    state_type = LTCState
    dtype = np.float64


@implements(proc=LTC, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyLTCModelFixed(_StepModel):
    """LTC neurons in the integer form (:func:`ltc_step_int`), bit-exact with training."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_rec: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    mem_gate_i: np.ndarray = _int_var("mem_gate_i")
    mem_gate_u: np.ndarray = _int_var("mem_gate_u")
    mem_gate_bias: np.ndarray = _int_var("mem_gate_bias")
    adp_gate_i: np.ndarray = _int_var("adp_gate_i")
    adp_gate_b: np.ndarray = _int_var("adp_gate_b")
    adp_gate_bias: np.ndarray = _int_var("adp_gate_bias")
    bias: np.ndarray = _int_var("bias")
    b0: np.ndarray = _int_var("b0")
    beta: np.ndarray = _int_var("beta")
    reset_frac: np.ndarray = _int_var("reset_frac")
    u: np.ndarray = _STATE24
    b: np.ndarray = _STATE24
    s: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)

    step = staticmethod(ltc_step_int)
    param_type = LTCIntParams
    state_type = LTCState
    dtype = np.int64


# ----------------------------------------------------------------------- readout
@implements(proc=LTCReadout, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyLTCReadoutModelFloat(_StepModel):
    """Liquid leaky integrators in floating point (:func:`readout_step`); sends ``u``."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_rec: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    mem_gate_i: np.ndarray = _FLOAT
    mem_gate_u: np.ndarray = _FLOAT
    mem_gate_bias: np.ndarray = _FLOAT
    bias: np.ndarray = _FLOAT
    u: np.ndarray = _FLOAT

    step = staticmethod(readout_step)
    param_type = ReadoutParams
    state_type = ReadoutState
    dtype = np.float64


@implements(proc=LTCReadout, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyLTCReadoutModelFixed(_StepModel):
    """Liquid leaky integrators in the integer form (:func:`readout_step_int`); sends ``u``
    as a 24-bit graded value."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_rec: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    mem_gate_i: np.ndarray = _int_var("mem_gate_i")
    mem_gate_u: np.ndarray = _int_var("mem_gate_u")
    mem_gate_bias: np.ndarray = _int_var("mem_gate_bias")
    bias: np.ndarray = _int_var("bias")
    u: np.ndarray = _STATE24

    step = staticmethod(readout_step_int)
    param_type = ReadoutIntParams
    state_type = ReadoutState
    dtype = np.int64
