"""Back-propagation through time, whole (the baseline) and truncated."""
from __future__ import annotations

import torch

from ..engine import Method, SequenceLoss, step_every_chunk, unwrap


class BPTT(Method):
    """Back-propagation through time over the whole sequence: the baseline.

    One forward over all T steps, one backward, one optimizer step per batch. Memory
    grows linearly with T (every step's activations are kept for the backward pass).
    """

    name = "bptt"

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        unwrap(model).reset_state()
        output = model(x)
        loss = loss_fn(output, target, 0, x.shape[-1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item(), output.detach()


class TBPTT(Method):
    """Truncated BPTT: chunks of ``chunk`` steps, a backward and an optimizer step per chunk.

    The textbook truncation (Williams & Peng 1990, k1 = k2 = K): the state is carried into
    the next chunk detached, so gradients never cross a chunk boundary. Memory is that of
    BPTT over K steps whatever T is; compute is one forward and one backward per step
    plus T/K optimizer steps. The loss of a chunk is the sequence loss over that chunk.
    Returns the mean chunk loss.
    """

    name = "tbptt"

    def __init__(self, chunk: int = 16, late_weighting: bool = False) -> None:
        super().__init__(late_weighting)
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.chunk = chunk

    def train_batch(self, model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor,
                    loss_fn: SequenceLoss, optimizer: torch.optim.Optimizer) -> tuple[float, torch.Tensor]:
        return step_every_chunk(model, x, target, loss_fn, optimizer, self.chunk, optimizer.step)
