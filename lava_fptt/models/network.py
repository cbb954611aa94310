"""Feed-forward spiking networks of chunk-capable layers, built from a plain config.

The training engine sees a :class:`SpikingNetwork` through three calls: ``reset_state()``
before a new batch of sequences, ``forward(x)`` on a chunk [batch, features, steps]
continuing from the carried state, and ``detach_state()`` to cut the graph at a chunk
boundary. Prediction is the output neuron with the most spikes over the sequence, the
same rule the Lava run applies to the spikes Lava produces.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import h5py
import torch

from .cuba import CubaDense, CubaParams

MODELS = ("cuba",)


@dataclass(frozen=True)
class NetworkConfig:
    """Layer sizes (input first) and neuron model; enough to rebuild the network."""

    sizes: tuple[int, ...] = (64, 128, 10)
    model: str = "cuba"
    cuba: CubaParams = field(default_factory=CubaParams)
    weight_scale: float = 2.0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if len(self.sizes) < 2 or any(int(s) < 1 for s in self.sizes):
            raise ValueError(f"sizes needs an input and at least one layer, all >= 1; got {self.sizes}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NetworkConfig":
        data = dict(data)
        data["sizes"] = tuple(data["sizes"])
        data["cuba"] = CubaParams(**data.get("cuba", {}))
        return cls(**data)


class SpikingNetwork(torch.nn.Module):
    """A stack of layers; each carries its own state between chunks."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        sizes = config.sizes
        self.layers = torch.nn.ModuleList(
            CubaDense(sizes[i], sizes[i + 1], config.cuba, config.weight_scale) for i in range(len(sizes) - 1)
        )

    @property
    def num_inputs(self) -> int:
        return self.config.sizes[0]

    @property
    def num_outputs(self) -> int:
        return self.config.sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.num_inputs:
            raise ValueError(f"expected input [batch, {self.num_inputs}, steps], got {tuple(x.shape)}")
        for layer in self.layers:
            x = layer(x)
        return x

    def reset_state(self) -> None:
        for layer in self.layers:
            layer.reset_state()

    def detach_state(self) -> None:
        for layer in self.layers:
            layer.detach_state()

    @torch.no_grad()
    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Output spikes of whole sequences from rest (no gradients)."""
        self.reset_state()
        out = self(x)
        self.reset_state()
        return out

    def export_hdf5(self, path: str) -> None:
        """Write lava-dl's netx HDF5 format: group ``layer`` with one sub-group per layer."""
        with h5py.File(path, "w") as f:
            layers = f.create_group("layer")
            for index, layer in enumerate(self.layers):
                layer.export_hdf5(layers.create_group(str(index)))


def predict(output_spikes: torch.Tensor) -> torch.Tensor:
    """Class of each sample: the output neuron with most spikes (lowest index on ties)."""
    return output_spikes.sum(dim=-1).argmax(dim=-1)
