"""The LTC neuron as Lava Processes; the models live beside them in ``models.py``, where Lava finds them."""
from lava_fptt.proc.ltc.process import LTC, LTCReadout

__all__ = ["LTC", "LTCReadout"]
