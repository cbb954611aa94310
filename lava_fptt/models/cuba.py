"""slayer CUBA layers adapted to chunk-wise training.

A slayer block runs a whole [batch, features, time] tensor. To walk a sequence in
chunks (one step at a time, or K steps) its neuron keeps state between calls
(``persistent_state``; slayer stores that state detached, which cuts temporal gradients
at chunk boundaries). The one-step axonal delay that makes slayer match Lava's
pipeline (``delay_shift``) is the place where slayer fails step-wise with gradients
on: its ``step_delay`` writes in place into a view. :class:`CubaDense` therefore turns
slayer's shift off and applies the same one-step delay itself, out of place, with the
last output of the previous chunk carried in a buffer. That is the whole workaround.
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


def delay_one_step(x: torch.Tensor, carried: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift ``x`` [..., T] one step later; step 0 receives ``carried`` (zeros if None).

    Returns the shifted tensor and the value to carry into the next chunk (the last step
    of ``x``, detached). Out of place, so it is safe with autograd at any chunk length.
    """
    first = torch.zeros_like(x[..., :1]) if carried is None else carried.unsqueeze(-1)
    shifted = torch.cat([first, x[..., :-1]], dim=-1)
    return shifted, x[..., -1].detach()


class CubaDense(torch.nn.Module):
    """A dense synapse and CUBA neuron layer (slayer) that carries its state across calls."""

    def __init__(self, in_features: int, out_features: int, params: CubaParams, weight_scale: float = 2.0) -> None:
        super().__init__()
        from lava.lib.dl import slayer

        self.block = slayer.block.cuba.Dense(
            params.to_slayer(), in_features, out_features, weight_scale=weight_scale, delay_shift=False
        )
        self.in_features = in_features
        self.out_features = out_features
        self._carried: Optional[torch.Tensor] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spikes = self.block(x)
        if self._carried is not None and self._carried.shape[0] != x.shape[0]:
            raise ValueError(
                f"batch size changed from {self._carried.shape[0]} to {x.shape[0]} without reset_state()"
            )
        delayed, self._carried = delay_one_step(spikes, self._carried)
        return delayed

    def reset_state(self) -> None:
        """Start the next call from rest: zero current, voltage and delay buffer."""
        neuron = self.block.neuron
        neuron.current_state = torch.zeros_like(neuron.current_state.reshape(-1)[:1])
        neuron.voltage_state = torch.zeros_like(neuron.voltage_state.reshape(-1)[:1])
        self._carried = None

    def detach_state(self) -> None:
        """slayer keeps its neuron state detached already; the delay buffer is detached too."""
        if self._carried is not None:
            self._carried = self._carried.detach()

    def export_hdf5(self, group: Any) -> None:
        """Write this layer as lava-dl's netx 'dense' layer (CUBA neuron)."""
        self.block.export_hdf5(group)
