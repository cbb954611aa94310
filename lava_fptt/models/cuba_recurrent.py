"""A recurrent slayer CUBA layer that carries its state, spikes included, across calls.

``s[t] = f(W x[t] + R s[t-1])``: the layer is a ``slayer.block.cuba.Recurrent`` whose
pieces (the CUBA neuron with ``persistent_state``, the input and recurrent
``slayer.synapse.Dense`` with the neuron's ``quantize_8bit`` pre-hook) we use as they
are, and whose ``export_hdf5`` writes the file. Only the time loop is ours: slayer's
``custom_recurrent`` starts every call from zero spikes, so a sequence walked in chunks
would lose ``R s[t-1]`` at each chunk boundary. :class:`CubaRecurrent` steps the neuron
itself and carries the last spikes, so any chunking (down to one step) gives the output
of the whole sequence.
The block's own ``forward`` (and the ``spike_state`` buffer it keeps) is not used; a
test checks that our loop computes what it computes on a sequence from rest.

Gradients. Within a call the carried spikes stay in the graph, so BPTT flows through
the recurrence ``R s[t-1]`` as in slayer's ``Recurrent``. The neuron is called one step
at a time, as slayer's own recurrent loop calls it, and slayer's neuron stores its
current and voltage detached between calls: the temporal gradient through the membrane
is cut at every step here (in slayer's ``Recurrent`` as well); the spike recurrence
carries the temporal credit. :meth:`CubaRecurrent.detach_state` cuts the carried spikes
at a chunk boundary.

Delays. Like :class:`~lava_fptt.models.cuba.CubaDense`, the layer has no pipeline delay
of its own: the network delays its input by one step per layer (``network.py``). The
recurrent loop's one step, ``R s[t-1]``, is part of the layer's own dynamics and is
exactly the one-step delay of Lava's recurrent ``Dense`` (netx's ``RecurrentDense``:
``neuron.s_out -> synapse_rec -> neuron.a_in``). The layer stays causal, time-invariant
and at rest under zero input (no bias; zero spikes feed back zero), so the feed-forward
delays still commute with it and can all sit at the network's input.
"""
from __future__ import annotations

from typing import Any, Optional

import torch

from .cuba import CubaParams, rest_neuron


class CubaRecurrent(torch.nn.Module):
    """Dense input and recurrent synapses into CUBA neurons (slayer), stepped with carried spikes.

    ``forward(x [B, in, T]) -> spikes [B, out, T]`` continues from the carried neuron
    state and last spikes; :meth:`reset_state` returns to rest.
    """

    def __init__(self, in_features: int, out_features: int, params: CubaParams, weight_scale: float = 2.0) -> None:
        super().__init__()
        from lava.lib.dl import slayer

        self.block = slayer.block.cuba.Recurrent(
            params.to_slayer(), in_features, out_features, weight_scale=weight_scale, delay_shift=False
        )
        self.in_features = in_features
        self.out_features = out_features
        self._spikes: Optional[torch.Tensor] = None  # [B, out] of the last step; None: at rest

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.in_features:
            raise ValueError(f"CubaRecurrent expects [batch, {self.in_features}, steps], got {tuple(x.shape)}")
        if self._spikes is not None and self._spikes.shape[0] != x.shape[0]:
            raise ValueError(f"carried spikes have batch size {self._spikes.shape[0]}, input has "
                             f"{x.shape[0]}: call reset_state() between batches")
        block = self.block
        drive = block.input_synapse(x)  # W x[t] for the whole chunk: [B, out, T]
        spikes = self._spikes if self._spikes is not None else drive.new_zeros(drive.shape[:-1])
        out = []
        for t in range(drive.shape[-1]):
            feedback = block.recurrent_synapse(spikes.unsqueeze(-1))  # R s[t-1], quantized weights
            spikes = block.neuron(drive[..., t:t + 1] + feedback)[..., 0]
            out.append(spikes)
        self._spikes = spikes
        return torch.stack(out, dim=-1)

    def reset_state(self) -> None:
        """Start the next call from rest: zero current, voltage and last spikes."""
        rest_neuron(self.block.neuron)
        self._spikes = None

    def detach_state(self) -> None:
        """Cut the carried spikes from the graph (slayer stores the neuron state detached already)."""
        if self._spikes is not None:
            self._spikes = self._spikes.detach()

    def export_hdf5(self, group: Any) -> None:
        """Write this layer as lava-dl's netx 'dense_rec' layer (CUBA neuron), by slayer's own writer."""
        self.block.export_hdf5(group)
