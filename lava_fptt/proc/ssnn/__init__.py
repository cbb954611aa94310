"""Lava processes of SSNN-BP on-chip learning (process.py) and their models (models.py).

The network builder and runner is :mod:`lava_fptt.onchip.lava_network`.
"""
from .process import CompositeNeuron, SsnnDense, SsnnEncoder, WtaOutput

__all__ = ["CompositeNeuron", "SsnnDense", "SsnnEncoder", "WtaOutput"]
