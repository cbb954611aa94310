"""The LTC neuron as Lava Processes; their models live in ``models.py`` beside them, where Lava finds them."""
from lava_fptt.proc.ltc.process import LTC, LTCReadout

__all__ = ["LTC", "LTCReadout"]
