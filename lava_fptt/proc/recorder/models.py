"""The :class:`~lava_fptt.proc.recorder.process.Recorder` model (fixed and floating point alike)."""
from __future__ import annotations

import os

import numpy as np

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_fptt.proc.recorder.process import Recorder


@implements(proc=Recorder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "floating_pt")
class PyRecorderModel(PyLoihiProcessModel):
    """Keeps every step's input in memory; writes the file in the post-management phase of the last step."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.steps = proc_params["steps"]
        self.path = proc_params["path"]
        self.record = np.zeros((*proc_params["shape"], self.steps), dtype=np.float32)

    def run_spk(self) -> None:
        """Keep this step's input (steps past ``steps`` are not kept)."""
        data = self.a_in.recv()
        if self.time_step <= self.steps:
            self.record[..., self.time_step - 1] = data

    def post_guard(self) -> bool:
        """Only the last step writes."""
        return self.time_step == self.steps

    def run_post_mgmt(self) -> None:
        """Write the record to ``path``."""
        tmp = f"{self.path}.tmp.npy"  # written whole, then renamed: a reader never sees half a record
        np.save(tmp, self.record)
        os.replace(tmp, self.path)
