"""A graded CUBA readout as a Lava Process; the model lives beside it in ``models.py``, where Lava finds it."""
from lava_fptt.proc.li.process import CubaLI

__all__ = ["CubaLI"]
