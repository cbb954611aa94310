"""One factory for a neuron process's ``floating_pt`` / ``fixed_pt`` ProcessModel pair.

Both models of a neuron process built on :class:`StepModel` run the same loop body: zero
the state when a periodic reset is due (``reset_interval``/``reset_offset``, as Lava's
``LIFReset``), add ``a_rec`` to ``a_in`` except at a reset step, call the neuron kind's step
function on the whole population, store the new state in the Vars and send the output.
The fixed-point model calls the integer step with ``int64`` numpy arrays, i.e. the very
function training runs on torch tensors; neither holds arithmetic of its own. What
differs between kinds (parameters, states, widths, the step functions, spikes or graded
output) comes from the kind's declaration, so no model is written out per neuron.

Lava finds ProcessModels among the classes a module defines (``cls.__module__``), so
:func:`model_pair` is called in the module beside the process with ``module=__name__``
and its classes are bound to names there.
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

from lava_fptt.neurons.spec import Dynamics

INPUT_BITS = 24
"""The graded synaptic input ``a_in``, ``a_rec`` of the fixed-point models (Loihi's dendritic sum)."""


class StepModel(PyLoihiProcessModel):
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


def model_pair(process: type, module: str, dynamics: Dynamics) -> tuple[type, type]:
    """The ``floating_pt`` and ``fixed_pt`` (``bit_accurate_loihi``) models of ``process``, defined in ``module``.

    They run ``dynamics``' float and integer steps; the neurons send spikes (1 bit), or graded
    values of ``dynamics.message_bits``. Parameter and state Vars are declared at their register
    widths in the fixed-point model.
    """
    name = process.__name__
    float_step, int_step, state = dynamics.float_step, dynamics.int_step, dynamics.state
    float_params, int_params, message_bits = dynamics.float_params, dynamics.int_params, dynamics.message_bits
    spikes = message_bits == 0
    float_type = LavaPyType(np.ndarray, float)
    float_attrs: dict[str, Any] = {
        "a_in": LavaPyType(PyInPort.VEC_DENSE, float),
        "a_rec": LavaPyType(PyInPort.VEC_DENSE, float),
        "s_out": LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1) if spikes else LavaPyType(PyOutPort.VEC_DENSE, float),
        **{field: float_type for field in (*float_params._fields, *state._fields)},
        "step": staticmethod(float_step), "param_type": float_params, "state_type": state, "dtype": np.float64,
        "__module__": module,
        "__doc__": f"{name} in floating point (:func:`{float_step.__module__}.{float_step.__name__}`).",
    }
    widths = {**dynamics.spec.widths, **dynamics.state_widths}
    fixed_attrs: dict[str, Any] = {
        "a_in": LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=INPUT_BITS),
        "a_rec": LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=INPUT_BITS),
        "s_out": LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1) if spikes
        else LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=message_bits),
        **{field: LavaPyType(np.ndarray, np.int32, precision=widths[field].bits)
           for field in (*int_params._fields, *state._fields)},
        "step": staticmethod(int_step), "param_type": int_params, "state_type": state, "dtype": np.int64,
        "__module__": module,
        "__doc__": f"{name} in the integer form (:func:`{int_step.__module__}.{int_step.__name__}`), "
                   "bit-exact with training.",
    }
    floating = implements(proc=process, protocol=LoihiProtocol)(requires(CPU)(tag("floating_pt")(
        type(f"Py{name}ModelFloat", (StepModel,), float_attrs))))
    fixed = implements(proc=process, protocol=LoihiProtocol)(requires(CPU)(tag("fixed_pt", "bit_accurate_loihi")(
        type(f"Py{name}ModelFixed", (StepModel,), fixed_attrs))))
    return floating, fixed
