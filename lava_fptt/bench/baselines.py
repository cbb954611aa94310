"""Non-spiking anchors for the temporal benchmarks: a torch GRU or LSTM classifier trained with BPTT.

What a user would pick instead of a spiking network: ``torch.nn.GRU`` / ``torch.nn.LSTM``
reading the same spike-coded input ``[batch, channels, steps]`` one step at a time, a
linear layer on the last hidden state, cross-entropy, Adam. Used by
``benchmarks/temporal.py`` and ``benchmarks/train_throughput.py``.

The LSTM's forget gates start open (bias :data:`LSTM_FORGET_BIAS`): with torch's default
initialisation they start near 0.5, the cell keeps half of itself per step, and the
gradient of a loss on the last of 40 steps fades before it reaches the steps that hold
the class; on MNIST-1D (thermometer code) the LSTM then stayed at chance for 8 epochs at
every learning rate tried (1e-3 to 1e-2), while with forget bias 3 it learns from the first
epoch (``docs/temporal-benchmark.md``). The usual remedy (Jozefowicz et al., ICML 2015).
"""
from __future__ import annotations

import torch
from torch import nn

from ..data import SpikeDataset

KINDS = {"gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"gru": 3, "lstm": 4}
"""Weight blocks per unit: torch's GRU has three gates' worth, its LSTM four."""
LSTM_FORGET_BIAS = 3.0
"""The initial bias of the LSTM's forget gates (sigmoid(3) = 0.95: the cell keeps 95 % per step)."""


class RecurrentClassifier(nn.Module):
    """``kind`` ('gru' or 'lstm') of ``hidden`` units over ``[B, C, T]``, classified from the last step."""

    def __init__(self, kind: str, inputs: int, hidden: int, classes: int) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
        self.rnn = KINDS[kind](inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)
        if kind == "lstm":  # gate order (input, forget, cell, output); the two biases add up
            with torch.no_grad():
                self.rnn.bias_ih_l0[hidden:2 * hidden].fill_(LSTM_FORGET_BIAS)
                self.rnn.bias_hh_l0[hidden:2 * hidden].zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes]`` of spike trains ``x [B, C, T]``."""
        states, _ = self.rnn(x.transpose(1, 2))
        return self.head(states[:, -1])


def matched_hidden(kind: str, inputs: int, classes: int, parameters: int) -> int:
    """The number of units whose ``kind`` classifier has the parameter count nearest ``parameters``
    (``G (H (inputs + H) + 2 H) + classes (H + 1)`` with ``G`` gate blocks): baselines of the same
    size as the spiking network they are compared with."""
    def count(hidden: int) -> int:
        return GATES[kind] * (hidden * (inputs + hidden) + 2 * hidden) + classes * (hidden + 1)

    hidden = 1
    while count(hidden + 1) <= parameters:
        hidden += 1
    return min((hidden, hidden + 1), key=lambda h: abs(count(h) - parameters))


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
