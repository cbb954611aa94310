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

Spatial-only gradients over a chunk (SLTT). With ``spatial = True`` a layer returns the
same spikes as its ordinary forward but backpropagates as if every step of the chunk
had run on its own from a detached state: the gradient of step t's spikes reaches the
weights and the input only through step t's synaptic input, never through the carried
current and voltage. :meth:`CubaDense.forward` says how and why that is exact.
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


def rest_neuron(neuron: Any) -> None:
    """Put a slayer CUBA neuron with persistent state at rest: zero current and voltage.

    A one-element state broadcasts to any batch on the next call, as slayer's initial state does.
    """
    neuron.current_state = torch.zeros_like(neuron.current_state.reshape(-1)[:1])
    neuron.voltage_state = torch.zeros_like(neuron.voltage_state.reshape(-1)[:1])


class CubaDense(torch.nn.Module):
    """A dense synapse and CUBA neuron layer (slayer) that carries its state across calls.

    Without the pipeline delay of Lava's ``Dense``: the network adds it at its input.
    ``spatial`` switches the backward to spatial-only gradients (see :meth:`forward`);
    the network sets it for SLTT.
    """

    def __init__(self, in_features: int, out_features: int, params: CubaParams, weight_scale: float = 2.0) -> None:
        super().__init__()
        from lava.lib.dl import slayer

        self.block = slayer.block.cuba.Dense(
            params.to_slayer(), in_features, out_features, weight_scale=weight_scale, delay_shift=False
        )
        self.in_features = in_features
        self.out_features = out_features
        self.spatial = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes [B, out, t] for input [B, in, t], continuing from the carried neuron state.

        With ``spatial`` set, the forward values are the same (bit for bit) and the
        backward is SLTT's: the sum over the chunk's steps of what a one-step call from
        the detached state would give. How: the synapse runs with gradients
        (``z = W x``, step by step independent); the neuron's current and voltage
        dynamics run without, giving the exact fixed-point voltage ``v`` (and updating
        the carried state as usual); the spikes are slayer's own spike function applied
        to ``v + (z - z.detach())``. That adds zero in the forward pass, and in the
        backward it makes dv[t]/dz[t] = 1 and dv[t]/dz[s] = 0 for s != t. 1 is the
        same-step derivative slayer's own backward gives on a one-step call: its
        leaky-integrator backward passes the gradient of a step's output to the same
        step's input unchanged (current, then voltage; the integer rounding of the
        input and the reset are not differentiated), and this neuron has no
        normalisation between the two. The surrogate derivative is evaluated at the
        same voltage as on a one-step call, so each step's gradient is the one-step
        gradient. Saved for backward: the synaptic input and voltage of the chunk, none
        of slayer's per-step integrator state.
        """
        if not self.spatial:
            return self.block(x)
        neuron = self.block.neuron
        z = self.block.synapse(x)
        with torch.no_grad():
            _, voltage = neuron.dynamics(z)
        return neuron.spike(voltage + (z - z.detach()))

    def reset_state(self) -> None:
        """Start the next call from rest: zero current and voltage."""
        rest_neuron(self.block.neuron)

    def detach_state(self) -> None:
        """Nothing to do: slayer stores its carried neuron state detached already."""

    def export_hdf5(self, group: Any) -> None:
        """Write this layer as lava-dl's netx 'dense' layer (CUBA neuron)."""
        self.block.export_hdf5(group)
