"""Non-spiking anchors for the temporal benchmarks: a torch GRU or LSTM classifier trained with BPTT.

What a user would pick instead of a spiking network: ``torch.nn.GRU`` / ``torch.nn.LSTM``
reading the same spike-coded input ``[batch, channels, steps]`` one step at a time, a
linear layer on the last hidden state, cross-entropy, Adam. Used by
``benchmarks/temporal.py`` and ``benchmarks/train_throughput.py``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..data import SpikeDataset

KINDS = {"gru": nn.GRU, "lstm": nn.LSTM}


class RecurrentClassifier(nn.Module):
    """``kind`` ('gru' or 'lstm') of ``hidden`` units over ``[B, C, T]``, classified from the last step."""

    def __init__(self, kind: str, inputs: int, hidden: int, classes: int) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
        self.rnn = KINDS[kind](inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes]`` of spike trains ``x [B, C, T]``."""
        states, _ = self.rnn(x.transpose(1, 2))
        return self.head(states[:, -1])


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train_batch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One BPTT step on a batch; returns the loss."""
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def evaluate(model: nn.Module, data: SpikeDataset, batch_size: int = 256) -> float:
    """Test accuracy over ``data``."""
    correct = 0
    for x, y in data.batches(batch_size):
        correct += int((model(x).argmax(1) == y).sum())
    return correct / max(len(data), 1)
