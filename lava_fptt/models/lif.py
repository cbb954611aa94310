"""Networks of plain LIF neurons (:mod:`lava_fptt.neurons.lif`): the worked example of ``docs/adding_a_neuron.md``.

``NetworkConfig(model='lif', sizes=(C, H1, ..., K), recurrent=...)`` is a chain of
``LIFDense`` (``LIFRecurrent`` hidden layers with ``recurrent=True``) blocks, the last
one the output: the class is the output neuron with most spikes (``output_kind="spikes"``).
The blocks are :class:`~lava_fptt.blocks.neuron.NeuronBlock` s of the LIF dynamics; no delay
in torch (the registry's ``"undelayed"`` alignment).
"""
from __future__ import annotations

from typing import Any

from lava_fptt.blocks.neuron import NeuronBlock
from lava_fptt.neurons.lif import LIF_DYNAMICS

from .chain import BlockChain
from .network import ModelKind, NetworkConfig, register_model

NETX_TYPE = "LIF"


class LIFDense(NeuronBlock):
    """Dense synapse + plain LIF neurons: ``[B, in, T] -> spikes [B, out, T]``."""

    dynamics, netx_type = LIF_DYNAMICS, NETX_TYPE

    def __init__(self, in_features: int, out_features: int, **options: Any) -> None:
        super().__init__(in_features, out_features, recurrent=False, **options)


class LIFRecurrent(NeuronBlock):
    """Dense synapse + recurrent synapse (``W_r s[t-1]``) + plain LIF neurons."""

    dynamics, netx_type = LIF_DYNAMICS, NETX_TYPE

    def __init__(self, in_features: int, out_features: int, **options: Any) -> None:
        super().__init__(in_features, out_features, recurrent=True, **options)


def lif_stack(config: NetworkConfig) -> BlockChain:
    """LIF blocks ``sizes[0] -> ... -> sizes[-1]`` (hidden ones recurrent with ``config.recurrent``)."""
    sizes, options = config.sizes, {"quantized": config.quantized, "weight_exp": config.weight_exp}
    hidden = LIFRecurrent if config.recurrent else LIFDense
    blocks = [hidden(sizes[i], sizes[i + 1], **options) for i in range(len(sizes) - 2)]
    return BlockChain([*blocks, LIFDense(sizes[-2], sizes[-1], **options)], output_kind="spikes")


register_model(ModelKind("lif", lif_stack))
