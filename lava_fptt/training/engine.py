"""The training engine: how a batch of sequences is walked through time.

A model seen by the engine (a :class:`ChunkModel`) carries its neuron and delay state
from one call to the next. The engine cuts a sequence into chunks, runs them in order
from the carried state, and cuts the autograd graph between chunks. What happens to
gradients and weights in each chunk is the business of a training *method*
(:class:`Method`); a method never knows which neuron model it trains.
"""
from __future__ import annotations

import abc
from typing import Any, Iterator, Protocol

import torch


class ChunkModel(Protocol):
    """What the engine needs of a network."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...  # [B, C, t] -> [B, K, t], from carried state

    def reset_state(self) -> None: ...  # next call starts from rest

    def detach_state(self) -> None: ...  # carried state leaves the autograd graph


def unwrap(model: torch.nn.Module) -> Any:
    """The network inside a DistributedDataParallel (or similar) wrapper."""
    return getattr(model, "module", model)


def chunks(num_steps: int, chunk_length: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive chunks covering ``num_steps``; the last may be shorter."""
    if chunk_length < 1:
        raise ValueError(f"chunk length must be >= 1, got {chunk_length}")
    for start in range(0, num_steps, chunk_length):
        yield start, min(start + chunk_length, num_steps)


class SequenceLoss(Protocol):
    """Loss of the outputs of steps [start, stop) of a sequence of ``num_steps`` steps."""

    def __call__(self, output: torch.Tensor, target: torch.Tensor, start: int, num_steps: int) -> torch.Tensor: ...


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
            loss = loss * ((start + output.shape[-1]) / num_steps)
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
            loss = loss * ((start + output.shape[-1]) / num_steps)
        return loss


def sequence_loss(output_kind: str, gain: float = 8.0, late_weighting: bool = False) -> SequenceLoss:
    """The loss for a network's ``output_kind``: spike rates (``"spikes"``) or a graded readout (``"readout"``)."""
    losses = {"spikes": RateCrossEntropy, "readout": LastStepCrossEntropy}
    if output_kind not in losses:
        raise ValueError(f"no loss for output kind {output_kind!r}; known: {', '.join(losses)}")
    return losses[output_kind](gain, late_weighting=late_weighting)


class Method(abc.ABC):
    """A training method: turns one batch of sequences into parameter updates."""

    name: str = ""

    @abc.abstractmethod
    def train_batch(
        self,
        model: torch.nn.Module,
        x: torch.Tensor,
        target: torch.Tensor,
        loss_fn: SequenceLoss,
        optimizer: torch.optim.Optimizer,
    ) -> tuple[float, torch.Tensor]:
        """Train on ``x`` [B, C, T]; return the mean loss and the output spikes [B, K, T] (detached)."""

    def state_dict(self) -> dict[str, Any]:
        """Method state to checkpoint (running means, dual variables...); none by default."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
