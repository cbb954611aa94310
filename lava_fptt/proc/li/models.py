"""The bit-accurate model of :class:`~lava_fptt.proc.li.process.CubaLI`: Lava's LIF arithmetic, no spike."""
from __future__ import annotations

import numpy as np

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed

from lava_fptt.proc.li.process import MESSAGE_BITS, CubaLI


@implements(proc=CubaLI, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyCubaLIModelFixed(AbstractPyLifModelFixed):
    """Each step: the periodic reset if due, Lava's own ``subthr_dynamics``, then ``v`` sent as a graded value."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=MESSAGE_BITS)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        interval = proc_params["reset_interval"]
        self.reset = None if interval is None else (interval, proc_params["reset_offset"] % interval)

    def run_spk(self) -> None:
        a_in = self.a_in.recv()
        if self.reset is not None and self.time_step % self.reset[0] == self.reset[1]:
            self.u *= 0
            self.v *= 0
        self.scale_bias()
        self.subthr_dynamics(activation_in=a_in)
        self.s_out.send(self.v.copy())
