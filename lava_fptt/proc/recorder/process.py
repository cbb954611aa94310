"""``Recorder``: a sink for large layers, read back through a file instead of ``Var.get``.

Lava's own sink (``lava.proc.io.sink.RingBuffer``) is read back with ``data.get()``, and
Lava 0.10 sends a ``Var`` to the host one element per message
(``PyLoihiProcessModel._get_var``): the spikes of a 16 x 16 x 16 convolution layer over
3,000 steps are 12 million messages, tens of minutes. A :class:`Recorder` keeps what
arrives at ``a_in`` every step and, at its last step (``steps``, counted from the start
of the run), writes the whole record to ``path`` (``.npy``, ``[*shape, steps]``,
float32) in one go; the host then reads the file.
"""
from __future__ import annotations

import pathlib

from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess


class Recorder(AbstractProcess):
    """Records ``a_in`` (``shape``) for ``steps`` steps, then writes ``[*shape, steps]`` to ``path``."""

    def __init__(self, shape: tuple[int, ...], steps: int, path: str | pathlib.Path) -> None:
        if steps < 1:
            raise ValueError(f"Recorder needs steps >= 1, got {steps}")
        super().__init__(shape=tuple(shape), steps=int(steps), path=str(path))
        self.a_in = InPort(shape=tuple(shape))
