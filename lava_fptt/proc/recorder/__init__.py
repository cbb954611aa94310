"""A sink that records what it receives and writes it to a file once; the model lives in ``models.py``."""
from lava_fptt.proc.recorder.process import Recorder

__all__ = ["Recorder"]
