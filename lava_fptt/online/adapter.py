"""A user's lava-dl network as a model the training engine drives in chunks: :func:`wrap`.

``wrap(net)`` takes a network written as lava-dl's tutorials write one (a
``torch.nn.Module`` holding ``slayer.block.cuba`` blocks, ``delay_shift`` left at its
default, a ``forward`` that passes each block's output to the next) and returns an
:class:`OnlineNetwork`: the engine's ``forward(chunk)`` from the carried state,
``reset_state()``, ``detach_state()`` and SLTT's ``spatial_gradients()``. The network
object itself is not changed: its parameters are the ones trained, ``net.export_hdf5``
writes it as before, and calling ``net`` directly still runs lava-dl's own forward::

    model = wrap(net)                                   # refuses, naming the block, what it cannot carry
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    method = SLTT()                                     # or FPTT(), SLTTK(), TBPTT(), BPTT()
    loss_fn = sequence_loss(model.output_kind, late_weighting=method.late_weighting)
    loss, spikes = method.train_batch(model, x, y, loss_fn, optimizer)   # x: [N, C, T] or [N, C, H, W, T]
    net.export_hdf5("network.net")                      # lava-dl's blocks' own writers

Each call of an :class:`OnlineNetwork` runs the user's own ``forward`` with every block
driven by its adapter (:mod:`lava_fptt.online.blocks`): neuron state carried in and out,
the block's ``delay_shift`` off.

Where the delays go. slayer's ``delay_shift`` delays each block's output by one step
(Lava's synapses deliver one step late; with it, slayer's output at step ``t`` is what
Lava's is). The adapter carries those delays out of the blocks and puts them all on one
delay line at the network's input, ``D`` steps long (one per shifting block), carried
between chunks out of place. That is the same function: every CUBA block is causal,
time-invariant and at rest under zero input (no bias), so a delay commutes with it, and
in a chain of blocks each block's delay can move to the front. (Refused when wrapped:
what breaks that, such as a biased ``Input`` block or LTC blocks, which are not at rest,
mixed with shifting blocks.) The front is the only place that keeps online training
meaningful: with a delay after each block, the output of a one-step chunk would be the
previous call's spikes, detached, and would carry no gradient to any block but the
last; at the input, the whole spatial path of every step lies inside one call. BPTT's
gradients are unchanged (the same computation, shifted in time).

The adapter checks at each call that every block ran exactly once (a block called
twice per step would need two carried states).
"""
from __future__ import annotations

import contextlib
from typing import ContextManager, Iterator, Optional

import torch

from ..neurons import cuba_fast
from .blocks import BlockAdapter, UnsupportedNetworkError, find_blocks, input_layout
from .output import OUTPUT_KINDS, predict


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


class OnlineNetwork(torch.nn.Module):
    """A lava-dl network driven in chunks by the training engine (module docstring).

    ``net`` is the user's network (a submodule: ``parameters()`` are its parameters).
    ``output_kind``: ``"spikes"`` (class = most output spikes) or ``"readout"`` (class =
    largest value at the last step); default: ``net.output_kind`` if the network
    defines one, else ``"spikes"``. ``forward`` returns the network's output as
    ``[batch, outputs, steps]`` (the first element when the network returns a tuple,
    e.g. with ``count_log``; spatial dimensions flattened).
    """

    def __init__(self, net: torch.nn.Module, output_kind: Optional[str] = None) -> None:
        super().__init__()
        adapters = find_blocks(net)
        # From the first wrapped network on, slayer's CUBA neurons run their CPU time loop
        # compiled, with the same numbers (a warning and slayer's own loop without numba).
        cuba_fast.install()
        kind = output_kind or getattr(net, "output_kind", "spikes")
        if kind not in OUTPUT_KINDS:
            raise ValueError(f"output_kind must be one of {OUTPUT_KINDS}, got {kind!r}")
        self.net = net
        self.output_kind = kind
        self._adapters = adapters
        self._pending: Optional[torch.Tensor] = None  # the input delay line
        self._batch: Optional[int] = None
        self._spatial = False
        self._spatial_allowed = True
        self.input_shape: Optional[tuple[int, ...]] = None
        """Shape of one sample without time (e.g. ``(C, H, W)``), recorded at the first call."""

    # ----------------------------------------------------------------- description
    @property
    def blocks(self) -> list[BlockAdapter]:
        """The adapters of the network's blocks, in registration order."""
        return list(self._adapters)

    @property
    def delay(self) -> int:
        """Steps of the input delay line: the blocks' ``delay_shift`` steps, moved to the input."""
        return sum(a.shift for a in self._adapters)

    @property
    def input_layout(self) -> str:
        """``"image"`` (input ``[N, C, H, W, T]``, the first block is a Conv or Pool) or ``"flat"`` (``[N, C, T]``)."""
        return input_layout(self._adapters)

    @property
    def spatial_chunks(self) -> bool:
        """Whether :meth:`spatial_gradients` is available: every block has a spatial-only mode (CUBA).

        Set it to False to make SLTT run one plain call per step instead (the reference path).
        """
        return self._spatial_allowed and all(a.spatial for a in self._adapters)

    @spatial_chunks.setter
    def spatial_chunks(self, allowed: bool) -> None:
        self._spatial_allowed = bool(allowed)

    # ------------------------------------------------------------ engine interface
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output ``[B, K, t]`` for input ``[B, ..., t]``, continuing from the carried state."""
        self._accept(x)
        if self.delay:
            x, self._pending = delay_steps(x, self._pending, self.delay)
        with self._driving():
            out = self.net(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(out.shape[0], -1, out.shape[-1])

    def _accept(self, x: torch.Tensor) -> None:
        """Check a call's input ``[B, ..., t]`` against the carried batch size; record its shape."""
        if self._batch is not None and x.shape[0] != self._batch:
            raise ValueError(f"batch size changed from {self._batch} to {x.shape[0]} without reset_state()")
        self._batch = x.shape[0]
        self.input_shape = tuple(x.shape[1:-1])

    def reset_state(self) -> None:
        """The next call starts from rest: every block's state and the input delay line."""
        self._pending, self._batch = None, None
        for adapter in self._adapters:
            adapter.reset()

    def detach_state(self) -> None:
        """Cut the autograd graph at the current step (the delay line holds data only)."""
        for adapter in self._adapters:
            adapter.detach()

    def spatial_gradients(self) -> ContextManager[None]:
        """Inside: ``forward`` gives the ordinary output with SLTT's spatial-only gradient.

        The gradient of a chunk's output at step t flows only along step t's spatial
        path (the delay line, then each block's synapse and spike function at step t),
        exactly as if step t had been a one-step call from the detached state
        (:func:`lava_fptt.online.blocks.spatial_dynamics`).
        """
        if not self.spatial_chunks:
            plain = next((a.label for a in self._adapters if not a.spatial), "the network")
            raise NotImplementedError(f"{plain} has no spatial-only gradient mode (or it was turned off); "
                                      "train this network one step per call")
        return self._spatial_mode()

    @contextlib.contextmanager
    def _spatial_mode(self) -> Iterator[None]:
        self._spatial = True
        try:
            yield
        finally:
            self._spatial = False

    @contextlib.contextmanager
    def _driving(self) -> Iterator[None]:
        """Install every block's driver for one call of the user's network; leave it as found after."""
        entered: list[BlockAdapter] = []
        try:
            for adapter in self._adapters:
                adapter.calls = 0
                adapter.enter(self._spatial)
                entered.append(adapter)
            yield
        finally:
            for adapter in reversed(entered):
                adapter.exit()
        for adapter in self._adapters:
            if adapter.counted and adapter.calls != 1:
                raise UnsupportedNetworkError(
                    f"{adapter.label} ran {adapter.calls} times in one call of the network; the online engine "
                    "carries one state per block, so each block must run once per call")

    # ----------------------------------------------------------------- conveniences
    def predict(self, output: torch.Tensor) -> torch.Tensor:
        """Class of each sample from this network's output (:func:`lava_fptt.online.output.predict`)."""
        return predict(output, self.output_kind)

    @torch.no_grad()
    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Output of whole sequences from rest (no gradients)."""
        self.reset_state()
        out = self(x)
        self.reset_state()
        return out

    def export_hdf5(self, path: str) -> None:
        """Write the network by its own ``export_hdf5(path)`` (lava-dl's blocks' own writers)."""
        export = getattr(self.net, "export_hdf5", None)
        if not callable(export):
            raise UnsupportedNetworkError(f"{type(self.net).__name__} has no export_hdf5(filename); write one "
                                          "that calls each block's export_hdf5, as lava-dl's tutorials do")
        export(path)


def wrap(net: torch.nn.Module, output_kind: Optional[str] = None) -> OnlineNetwork:
    """``net`` (a lava-dl network, unchanged) as an :class:`OnlineNetwork` the engine trains online.

    Refuses, naming the block, what cannot be carried exactly between chunks (see
    :func:`lava_fptt.online.blocks.find_blocks`). A network already wrapped is returned as it is.
    """
    if isinstance(net, OnlineNetwork):
        return net
    return OnlineNetwork(net, output_kind)
