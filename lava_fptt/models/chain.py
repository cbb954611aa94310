"""A network written as lava-dl's tutorials write one: blocks in a ``ModuleList``, run in order.

:class:`BlockChain` is what lava-fptt builds for its own networks (CUBA dense and
recurrent stacks, convolutional ``--arch`` networks, LTC stacks): an ordinary lava-dl
network with ``delay_shift`` left on, which the training engine drives through the same
adapter as any user's network (:func:`lava_fptt.online.wrap`).
"""
from __future__ import annotations

from typing import Any, Sequence

import h5py
import torch


class BlockChain(torch.nn.Module):
    """``blocks`` applied in order; ``export_hdf5(path)`` writes each block's own netx layer group.

    ``output_kind`` tells the adapter how to read the output: ``"spikes"`` (CUBA) or
    ``"readout"`` (LTC readout).
    """

    def __init__(self, blocks: Sequence[torch.nn.Module], output_kind: str = "spikes") -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList(blocks)
        self.output_kind = output_kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def export_hdf5(self, path: str) -> None:
        """Write lava-dl's netx HDF5 format: group ``layer`` with one sub-group per block, by the block's writer."""
        with h5py.File(path, "w") as f:
            layers = f.create_group("layer")
            for index, block in enumerate(self.blocks):
                writer: Any = block  # each block's own netx writer (slayer's or ours)
                writer.export_hdf5(layers.create_group(str(index)))
