"""Training methods over the engine. Each documents its source and its cost."""
from __future__ import annotations

from typing import Any, Callable

import torch

from .engine import Method, SequenceLoss, unwrap


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
        return float(loss.detach()), output.detach()


METHODS: dict[str, Callable[..., Method]] = {"bptt": BPTT}


def make_method(name: str, **params: Any) -> Method:
    """The method called ``name``, configured with its hyperparameters."""
    if name not in METHODS:
        raise ValueError(f"unknown training method {name!r}; choose from {', '.join(METHODS)}")
    return METHODS[name](**params)
