"""slayer CUBA layers adapted to chunk-wise training.

A slayer block runs a whole [batch, features, time] tensor. To walk a sequence in
chunks (one step at a time, or K steps) its neuron keeps state between calls
(``persistent_state``; slayer stores that state detached, which cuts temporal gradients
at chunk boundaries). The one-step axonal delay that makes slayer match Lava's
pipeline (``delay_shift``) is the place where slayer fails step-wise with gradients
on: its ``step_delay`` writes in place into a view. :class:`CubaDense` therefore turns
slayer's shift off; the network applies the delays of all its layers at once, at its
input (:func:`delay_steps`, out of place, with the last input steps carried between
chunks). That is the whole workaround; ``network.py`` says why one input delay is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Any, Optional

import torch


@dataclass(frozen=True)
class CubaParams:
    """CUBA neuron parameters in slayer's units (decays are fractions of 1 lost per step)."""

    threshold: float = 1.25
    current_decay: float = 0.25
    voltage_decay: float = 0.03
    tau_grad: float = 0.03
    scale_grad: float = 3.0

    def to_slayer(self) -> dict[str, Any]:
        return {**asdict(self), "requires_grad": False, "persistent_state": True}


def delay_steps(x: torch.Tensor, carried: Optional[torch.Tensor], steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift ``x`` [..., T] ``steps`` steps later; the first steps receive ``carried``.

    ``carried`` [..., steps] holds the last ``steps`` steps of the previous chunk (zeros
    if None). Returns the shifted tensor [..., T] and what to carry into the next chunk
    (detached). Out of place, so it is safe with autograd at any chunk length.
    """
    if carried is None:
        carried = torch.zeros_like(x[..., :1]).expand(*x.shape[:-1], steps)
    joined = torch.cat([carried, x], dim=-1)
    return joined[..., : x.shape[-1]], joined[..., x.shape[-1]:].detach()


class CubaDense(torch.nn.Module):
    """A dense synapse and CUBA neuron layer (slayer) that carries its state across calls.

    Without the pipeline delay of Lava's ``Dense``: the network adds it at its input.
    """

    def __init__(self, in_features: int, out_features: int, params: CubaParams, weight_scale: float = 2.0) -> None:
        super().__init__()
        from lava.lib.dl import slayer

        self.block = slayer.block.cuba.Dense(
            params.to_slayer(), in_features, out_features, weight_scale=weight_scale, delay_shift=False
        )
        self.in_features = in_features
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)

    def reset_state(self) -> None:
        """Start the next call from rest: zero current and voltage."""
        neuron = self.block.neuron
        neuron.current_state = torch.zeros_like(neuron.current_state.reshape(-1)[:1])
        neuron.voltage_state = torch.zeros_like(neuron.voltage_state.reshape(-1)[:1])

    def detach_state(self) -> None:
        """Nothing to do: slayer stores its carried neuron state detached already."""

    def export_hdf5(self, group: Any) -> None:
        """Write this layer as lava-dl's netx 'dense' layer (CUBA neuron)."""
        self.block.export_hdf5(group)
