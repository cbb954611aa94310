"""ANN baseline for SSNN-BP: the same architecture and activation, trained with back-prop.

inputs (intensities in [0, 1]) -> W1 -> hard sigmoid clip(1/2 + z, 0, 1) -> W2 -> softmax
cross-entropy; no biases, as in the spiking network. Weights start from the distribution
the spiking network starts from (uniform within +-1/sqrt(fan_in)). The spiking network's
values are firing probabilities, so this is the network whose expectation it samples.
"""
from __future__ import annotations

import numpy as np
import torch


class HardSigmoidMLP(torch.nn.Module):
    """n_in -> n_hidden (hard sigmoid) -> n_out logits, bias-free."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.w1 = torch.nn.Parameter(self._uniform((n_hidden, n_in), generator))
        self.w2 = torch.nn.Parameter(self._uniform((n_out, n_hidden), generator))

    @staticmethod
    def _uniform(shape: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        limit = 1.0 / np.sqrt(shape[1])
        return (torch.rand(shape, generator=generator) * 2 - 1) * limit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.clamp(0.5 + x @ self.w1.T, 0.0, 1.0)
        return hidden @ self.w2.T


def train_ann(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
    n_hidden: int, epochs: int = 30, lr: float = 0.1, batch_size: int = 16, seed: int = 0,
) -> tuple[float, HardSigmoidMLP]:
    """Train with plain SGD on the flattened intensities; return (test accuracy, model)."""
    torch.manual_seed(seed)
    xs, ys = torch.as_tensor(x_train, dtype=torch.float32), torch.as_tensor(y_train)
    n_out = int(max(y_train.max(), y_test.max())) + 1
    model = HardSigmoidMLP(xs.shape[1], n_hidden, n_out, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(xs), generator=generator).split(batch_size):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[batch]), ys[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        predictions = model(torch.as_tensor(x_test, dtype=torch.float32)).argmax(dim=1).numpy()
    return float((predictions == np.asarray(y_test)).mean()), model


def ann_baseline_accuracy(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
    n_hidden: int, epochs: int = 30, seed: int = 0,
) -> float:
    """Test accuracy of the back-prop baseline (see :func:`train_ann`)."""
    return train_ann(x_train, y_train, x_test, y_test, n_hidden, epochs=epochs, seed=seed)[0]
