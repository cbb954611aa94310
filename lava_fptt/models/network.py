"""Feed-forward spiking networks of chunk-capable layers, built from a plain config.

The training engine sees a :class:`SpikingNetwork` through three calls: ``reset_state()``
before a new batch of sequences, ``forward(x)`` on a chunk [batch, features, steps]
continuing from the carried state, and ``detach_state()`` to cut the graph at a chunk
boundary. A network says what its output is (``output_kind``): ``"spikes"`` (CUBA:
the class is the output neuron with most spikes over the sequence) or ``"readout"``
(LTC: graded readout values, the class is the largest readout at the last step; see
:mod:`lava_fptt.models.ltc`). :func:`predict` applies the rule, the same function the
Lava run applies to what Lava produces.

``SpikingNetwork(config)`` builds the network ``config.model`` names: a stack of slayer
CUBA layers here (hidden layers :class:`~lava_fptt.models.cuba_recurrent.CubaRecurrent`
with ``config.recurrent``, the output layer always :class:`~lava_fptt.models.cuba.CubaDense`),
or an :class:`~lava_fptt.models.ltc.LTCNetwork` for ``model='ltc'``
(constructing ``SpikingNetwork`` with an LTC config returns that subclass).

For CUBA networks: each Lava ``Dense`` delays its input by one step, so an L-layer
network in Lava answers
step t with what the input did at step t - L. The torch network reproduces that with
one L-step delay at its input instead of one step per layer. The two are the same
function: every layer is causal and time-invariant and stays at rest under zero input
(no bias), so a delay commutes with it and all the delays can be moved to the front.
A recurrent layer is such a layer too: its loop ``R s[t-1]`` is part of its own
dynamics, and the one-step delay of that loop is the delay of Lava's recurrent
``Dense`` (see :mod:`~lava_fptt.models.cuba_recurrent`); only the feed-forward
``Dense`` delays move to the front.
The front placement matters for training in short chunks: every step's whole spatial
path (input -> all layers -> output) then lies inside one call. With a delay after each
layer, the output of a one-step chunk would be the previous call's (detached) spikes
and would carry no gradient at all.
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Optional

import h5py
import torch

from .cuba import CubaDense, CubaParams, delay_steps
from .cuba_recurrent import CubaRecurrent

MODELS = ("cuba", "ltc")


@dataclass(frozen=True)
class NetworkConfig:
    """Layer sizes (input first) and neuron model; enough to rebuild the network."""

    sizes: tuple[int, ...] = (64, 128, 10)
    model: str = "cuba"
    cuba: CubaParams = field(default_factory=CubaParams)
    weight_scale: float = 2.0
    recurrent: bool = False
    """Hidden layers with recurrent weights, ``s[t] = f(W x[t] + R s[t-1])``: ``CubaRecurrent``
    (CUBA) or ``LTCRecurrent`` (LTC); the output layer stays feed-forward."""
    quantized: bool = True
    """LTC only: quantization-aware training in the deployed integer arithmetic."""
    weight_exp: int = 0
    """LTC only: shared exponent of every deployed ``Dense`` (weights reach 4 * 2**weight_exp)."""
    reset_frac: float = 0.0
    """LTC only: fraction of the membrane a spike removes in the hidden layers. 0 (no reset: the
    adaptive threshold alone limits firing) trains several times faster on sequences than the
    reference's hard reset (1.0); see ``docs/ltc_training.md``."""

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if len(self.sizes) < 2 or any(int(s) < 1 for s in self.sizes):
            raise ValueError(f"sizes needs an input and at least one layer, all >= 1; got {self.sizes}")
        if self.recurrent and len(self.sizes) < 3:
            raise ValueError(f"recurrent=True needs a hidden layer (the output layer is never recurrent); "
                             f"sizes {self.sizes} has none")

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

    output_kind = "spikes"
    """What ``forward`` returns: ``"spikes"`` here, ``"readout"`` for LTC networks (see :func:`predict`)."""

    spatial_chunks = True
    """Whether :meth:`spatial_gradients` is available: a chunk of any length then gets SLTT's
    spatial-only gradient in one call. True for feed-forward CUBA stacks; False with
    recurrent layers (their recurrence is stepped, see :class:`CubaRecurrent`) and for
    LTC networks. Set per network in ``__init__``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "SpikingNetwork":
        config = args[0] if args else kwargs.get("config")
        if cls is SpikingNetwork and getattr(config, "model", None) == "ltc":
            from .ltc import LTCNetwork

            return super().__new__(LTCNetwork)
        return super().__new__(cls)

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        sizes = config.sizes
        hidden = CubaRecurrent if config.recurrent else CubaDense
        layers: list[torch.nn.Module] = [hidden(sizes[i], sizes[i + 1], config.cuba, config.weight_scale)
                                         for i in range(len(sizes) - 2)]
        layers.append(CubaDense(sizes[-2], sizes[-1], config.cuba, config.weight_scale))
        self.layers = torch.nn.ModuleList(layers)
        self.spatial_chunks = not config.recurrent
        self._pending: Optional[torch.Tensor] = None  # last len(layers) input steps, not yet delivered

    @property
    def num_inputs(self) -> int:
        return self.config.sizes[0]

    @property
    def num_outputs(self) -> int:
        return self.config.sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.num_inputs:
            raise ValueError(f"expected input [batch, {self.num_inputs}, steps], got {tuple(x.shape)}")
        if self._pending is not None and self._pending.shape[0] != x.shape[0]:
            raise ValueError(
                f"batch size changed from {self._pending.shape[0]} to {x.shape[0]} without reset_state()"
            )
        x, self._pending = delay_steps(x, self._pending, len(self.layers))
        for layer in self.layers:
            x = layer(x)
        return x

    def reset_state(self) -> None:
        """Start the next call from rest: neuron states and the input delay line."""
        self._pending = None
        for layer in self.layers:
            layer.reset_state()

    def detach_state(self) -> None:
        """Cut the autograd graph at the current step (the delay line holds data only)."""
        for layer in self.layers:
            layer.detach_state()

    @contextlib.contextmanager
    def spatial_gradients(self) -> Iterator[None]:
        """Inside: ``forward`` gives the ordinary spikes with SLTT's spatial-only gradient.

        The gradient of a chunk's output at step t then flows only along step t's
        spatial path (input delay line -> every layer's synapse and spike function at
        step t), exactly as if step t had been a one-step call from the detached state
        (:meth:`CubaDense.forward <lava_fptt.models.cuba.CubaDense.forward>`). The
        delay line needs nothing: it moves input data, which has no gradient.
        """
        if not self.spatial_chunks:
            raise NotImplementedError("this network has no spatial-only gradient mode (recurrent layers); "
                                      "train it one step per call")
        for layer in self.layers:
            layer.spatial = True
        try:
            yield
        finally:
            for layer in self.layers:
                layer.spatial = False

    def predict(self, output: torch.Tensor) -> torch.Tensor:
        """Class of each sample from this network's output (:func:`predict` with its ``output_kind``)."""
        return predict(output, self.output_kind)

    @torch.no_grad()
    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Output spikes of whole sequences from rest (no gradients)."""
        self.reset_state()
        out = self(x)
        self.reset_state()
        return out

    def export_hdf5(self, path: str) -> None:
        """Write lava-dl's netx HDF5 format: group ``layer`` with one sub-group per layer.

        Each layer writes its own sub-group: CUBA layers as lava-dl does, LTC layers in our
        documented extension (``docs/netx_ltc_format.md``).
        """
        with h5py.File(path, "w") as f:
            layers = f.create_group("layer")
            for index, layer in enumerate(self.layers):
                layer.export_hdf5(layers.create_group(str(index)))


OUTPUT_KINDS = ("spikes", "readout")


def predict(output: torch.Tensor, kind: str = "spikes") -> torch.Tensor:
    """Class of each sample from outputs ``[B, K, T]`` (lowest index on ties).

    ``kind="spikes"``: the output with the largest sum over time (most spikes).
    ``kind="readout"``: the output with the largest value at the last step (LTC readout).
    Values are compared in float64, where spike counts and readout values (24-bit
    integers / 4096) are exact, so the argmax is the one Lava's integer outputs give.
    """
    if kind == "spikes":
        return output.to(torch.float64).sum(dim=-1).argmax(dim=-1)
    if kind == "readout":
        return output[..., -1].to(torch.float64).argmax(dim=-1)
    raise ValueError(f"output kind must be one of {OUTPUT_KINDS}, got {kind!r}")
