"""The training engine: how a batch of sequences is walked through time.

A model seen by the engine (a :class:`ChunkModel`) carries its neuron and delay state
from one call to the next. The engine cuts a sequence into chunks, runs them in order
from the carried state, and cuts the autograd graph between chunks. What happens to
gradients and weights in each chunk is the business of a training *method*
(:class:`Method`); a method never knows which neuron model it trains.
"""
from __future__ import annotations

import abc
import contextlib
from typing import Any, Callable, ContextManager, Iterator, Optional, Protocol

import torch


class ChunkModel(Protocol):
    """What the engine needs of a network.

    SLTT also uses an optional capability: a network with ``spatial_chunks = True``
    offers ``spatial_gradients()``, a context in which a call on a chunk backpropagates
    only along each step's spatial path (see :mod:`lava_fptt.training.methods.sltt`).
    """

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...  # [B, C, t] -> [B, K, t], from carried state

    def reset_state(self) -> None: ...  # next call starts from rest

    def detach_state(self) -> None: ...  # carried state leaves the autograd graph


def unwrap(model: torch.nn.Module) -> Any:
    """The network inside a DistributedDataParallel (or similar) wrapper."""
    return getattr(model, "module", model)


def trainable(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The parameters that learn, by name (names of the unwrapped network, same under DDP)."""
    return {name: p for name, p in unwrap(model).named_parameters() if p.requires_grad}


def gradient_sync(model: torch.nn.Module, sync: bool) -> ContextManager[Any]:
    """Context for one forward + backward: skip DDP's gradient all-reduce unless ``sync``.

    Under ``DistributedDataParallel`` every backward all-reduces the gradients. A method
    that runs many backward passes before one optimizer step runs all but the last
    inside ``no_sync()``: gradients accumulate locally and the last, synchronised
    backward reduces their sum. For a plain model this is a no-op.
    """
    no_sync = getattr(model, "no_sync", None)
    return contextlib.nullcontext() if sync or no_sync is None else no_sync()


class SpikeRecord:
    """Output spikes of a whole sequence, filled chunk by chunk, kept without autograd graphs.

    Preallocated on the first chunk, so recording is one copy per chunk and never holds
    a reference to a chunk's graph. Binary spikes are kept as ``torch.bool`` (a quarter
    of float32: this record is the one thing an online method keeps that grows with T);
    the first non-binary (graded) chunk turns the record to the output's dtype.
    """

    def __init__(self, num_steps: int) -> None:
        self.num_steps = num_steps
        self._spikes: Optional[torch.Tensor] = None

    def add(self, output: torch.Tensor, start: int) -> None:
        """Store ``output`` [B, K, t] as steps [start, start + t)."""
        output = output.detach()
        graded = self._spikes is not None and self._spikes.dtype != torch.bool
        binary = not graded and bool(((output == 0) | (output == 1)).all())
        if self._spikes is None:
            dtype = torch.bool if binary else output.dtype
            self._spikes = torch.zeros(*output.shape[:-1], self.num_steps, dtype=dtype, device=output.device)
        elif self._spikes.dtype == torch.bool and not binary:
            self._spikes = self._spikes.to(output.dtype)
        self._spikes[..., start: start + output.shape[-1]] = output

    @property
    def spikes(self) -> torch.Tensor:
        """[B, K, T]: bool if every step was binary, else the output's dtype."""
        if self._spikes is None:
            raise ValueError("no output recorded")
        return self._spikes


def chunks(num_steps: int, chunk_length: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive chunks covering ``num_steps``; the last may be shorter."""
    if chunk_length < 1:
        raise ValueError(f"chunk length must be >= 1, got {chunk_length}")
    for start in range(0, num_steps, chunk_length):
        yield start, min(start + chunk_length, num_steps)


class SequenceLoss(Protocol):
    """Loss of the outputs of steps [start, stop) of a sequence of ``num_steps`` steps."""

    def __call__(self, output: torch.Tensor, target: torch.Tensor, start: int, num_steps: int) -> torch.Tensor: ...


def late_weight(start: int, output: torch.Tensor, num_steps: int) -> float:
    """FPTT's loss schedule for the chunk ``output`` [..., t] that starts at step ``start``:
    the fraction of the sequence seen at its end, (start + t) / num_steps."""
    return (start + output.shape[-1]) / num_steps


class RateCrossEntropy:
    """Cross-entropy of the output spike rate over the steps seen, times ``gain``.

    On a whole sequence this is the usual rate-coded classification loss; on a chunk it
    is the same loss over that chunk (a single step's spikes for chunks of one step).
    ``late_weighting`` multiplies a chunk's loss by (stop / num_steps), FPTT's schedule
    that lets late steps, which have seen most of the input, count most.
    """

    def __init__(self, gain: float = 8.0, late_weighting: bool = False) -> None:
        self.gain = gain
        self.late_weighting = late_weighting

    def __call__(self, output: torch.Tensor, target: torch.Tensor, start: int, num_steps: int) -> torch.Tensor:
        loss = torch.nn.functional.cross_entropy(self.gain * output.mean(dim=-1), target)
        if self.late_weighting:
            loss = loss * late_weight(start, output, num_steps)
        return loss


class LastStepCrossEntropy:
    """Cross-entropy of ``gain`` times the output at the last step of the chunk: for graded readouts.

    On a whole sequence this is the loss of the prediction rule "largest readout at the
    last step"; on a chunk, the same loss of the readout at the chunk's end.
    ``late_weighting`` as in :class:`RateCrossEntropy`.
    """

    def __init__(self, gain: float = 8.0, late_weighting: bool = False) -> None:
        self.gain = gain
        self.late_weighting = late_weighting

    def __call__(self, output: torch.Tensor, target: torch.Tensor, start: int, num_steps: int) -> torch.Tensor:
        loss = torch.nn.functional.cross_entropy(self.gain * output[..., -1], target)
        if self.late_weighting:
            loss = loss * late_weight(start, output, num_steps)
        return loss

    @torch.no_grad()
    def value_and_grad(self, output: torch.Tensor, target: torch.Tensor, start: int,
                       num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss and its gradient with respect to ``output``, without autograd: the numbers
        autograd gives through :meth:`__call__` (the same kernels in the same order: the
        cross-entropy is log-softmax and NLL, and their backward functions), for a model that
        computes its own backward (:meth:`lava_fptt.models.ltc.LTCNetwork.forward_backward`),
        where autograd's engine would cost more than the rest of a one-step chunk."""
        log_p = torch.log_softmax(self.gain * output[..., -1], 1)
        loss, total = torch.ops.aten.nll_loss_forward(log_p, target, None, 1, -100)  # 1: the mean
        g_loss = torch.ones_like(loss)
        if self.late_weighting:
            weight = late_weight(start, output, num_steps)
            loss, g_loss = loss * weight, g_loss * weight
        g_log_p = torch.ops.aten.nll_loss_backward(g_loss, log_p, target, None, 1, -100, total)
        grad = torch.zeros_like(output)
        grad[..., -1] = torch.ops.aten._log_softmax_backward_data(g_log_p, log_p, 1, log_p.dtype) * self.gain
        return loss, grad


def sequence_loss(output_kind: str, gain: float = 8.0, late_weighting: bool = False) -> SequenceLoss:
    """The loss for a network's ``output_kind``: spike rates (``"spikes"``) or a graded readout (``"readout"``)."""
    losses: dict[str, Callable[..., SequenceLoss]] = {"spikes": RateCrossEntropy, "readout": LastStepCrossEntropy}
    if output_kind not in losses:
        raise ValueError(f"no loss for output kind {output_kind!r}; known: {', '.join(losses)}")
    return losses[output_kind](gain, late_weighting=late_weighting)


def step_every_chunk(model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor, loss_fn: SequenceLoss,
                     optimizer: torch.optim.Optimizer, chunk: int,
                     step: Callable[[], None]) -> tuple[float, torch.Tensor]:
    """Walk a batch from rest in chunks of ``chunk`` steps with an update after each chunk.

    The loop TBPTT and FPTT share: per chunk, ``zero_grad``, a forward from the carried
    state, the chunk's loss and its backward, then ``step()`` (the method's update, e.g.
    ``optimizer.step``), then the carried state is detached. Returns the mean chunk loss
    and the recorded outputs.

    Dispatch point: a model with a ``forward_backward(x, target, loss_fn, start, num_steps)``
    method (:meth:`lava_fptt.models.ltc.LTCNetwork.forward_backward`) does a chunk's forward,
    loss and backward itself, with the same numbers, returning the output and the loss
    (detached), or None to take the path above.
    """
    net = unwrap(model)
    net.reset_state()
    num_steps = x.shape[-1]
    record = SpikeRecord(num_steps)
    # One vector (made at the first chunk), not a new scalar tensor kept per chunk: with an update every step those
    # thousands of small long-lived allocations, interleaved with each step's temporaries, kept the
    # heap from shrinking (FPTT's resident peak grew ~6 KB a step, measured).
    losses: Optional[torch.Tensor] = None
    # A model may do a chunk's forward, loss and backward itself (not under DDP, whose hooks sit in autograd)
    fused = getattr(net, "forward_backward", None) if net is model else None
    for index, (start, stop) in enumerate(chunks(num_steps, chunk)):
        optimizer.zero_grad()
        done = fused(x[..., start:stop], target, loss_fn, start, num_steps) if fused is not None else None
        if done is None:
            output = model(x[..., start:stop])
            loss = loss_fn(output, target, start, num_steps)
            loss.backward()
        else:
            output, loss = done
        step()
        net.detach_state()
        record.add(output, start)
        if losses is None:
            losses = loss.new_empty(-(-num_steps // chunk))  # the loss's type and device
        losses[index] = loss.detach()
    assert losses is not None  # chunks() yields at least one chunk (num_steps >= 1)
    return float(losses.mean()), record.spikes


class Method(abc.ABC):
    """A training method: turns one batch of sequences into parameter updates.

    ``late_weighting`` is the loss schedule the method is meant to train with (see
    :class:`RateCrossEntropy`); the trainer builds the loss accordingly.
    """

    name: str = ""

    def __init__(self, late_weighting: bool = False) -> None:
        self.late_weighting = late_weighting

    @abc.abstractmethod
    def train_batch(
        self,
        model: torch.nn.Module,
        x: torch.Tensor,
        target: torch.Tensor,
        loss_fn: SequenceLoss,
        optimizer: torch.optim.Optimizer,
    ) -> tuple[float, torch.Tensor]:
        """Train on ``x`` [B, C, T]; return the mean loss and the output spikes [B, K, T] (detached).

        Online methods return binary spikes as ``torch.bool`` (see :class:`SpikeRecord`);
        counts and :func:`~lava_fptt.models.network.predict` work on either.
        """

    def state_dict(self) -> dict[str, Any]:
        """Method state to checkpoint (running means, dual variables...); none by default."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027  (optional hook: nothing to restore)
        """Restore what :meth:`state_dict` returned."""
