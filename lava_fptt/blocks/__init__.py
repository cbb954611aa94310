"""Training blocks: torch modules in slayer's style that hold parameters and call the neuron dynamics."""
from lava_fptt.blocks.ltc import LTCDense, LTCReadout, LTCRecurrent
from lava_fptt.blocks.neuron import NeuronBlock

__all__ = ["LTCDense", "LTCReadout", "LTCRecurrent", "NeuronBlock"]
