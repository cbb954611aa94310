"""lava-fptt's CUBA networks: ordinary slayer blocks, as a lava-dl user would write them.

:func:`cuba_stack` builds a dense stack (``slayer.block.cuba.Dense`` layers, or
``cuba.Recurrent`` hidden layers, ``s[t] = f(W x[t] + R s[t-1])``) and
:func:`lava_fptt.models.conv.conv_network` a convolutional one. Every block keeps
slayer's default ``delay_shift``, so the network's own forward matches Lava's pipeline
step for step, and every block writes itself into the netx file with its own
``export_hdf5`` (plain ``lava.lib.dl.netx`` loads dense and conv stacks). Chunked
training goes through :func:`lava_fptt.online.wrap`, like any user's network.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .chain import BlockChain


@dataclass(frozen=True)
class CubaParams:
    """CUBA neuron parameters in slayer's units (decays are fractions of 1 lost per step)."""

    threshold: float = 1.25
    current_decay: float = 0.25
    voltage_decay: float = 0.03
    tau_grad: float = 0.03
    scale_grad: float = 3.0

    def to_slayer(self) -> dict[str, Any]:
        """slayer's ``neuron_params`` (fixed decays)."""
        return {**asdict(self), "requires_grad": False}


def cuba_stack(sizes: tuple[int, ...], params: CubaParams, weight_scale: float = 2.0,
               recurrent: bool = False) -> BlockChain:
    """Dense CUBA blocks ``sizes[0] -> ... -> sizes[-1]``; hidden blocks ``cuba.Recurrent`` with ``recurrent``."""
    from lava.lib.dl import slayer

    hidden = slayer.block.cuba.Recurrent if recurrent else slayer.block.cuba.Dense
    blocks = [hidden(params.to_slayer(), sizes[i], sizes[i + 1], weight_scale=weight_scale)
              for i in range(len(sizes) - 2)]
    blocks.append(slayer.block.cuba.Dense(params.to_slayer(), sizes[-2], sizes[-1], weight_scale=weight_scale))
    return BlockChain(blocks)
