"""SpikingJelly 2.0's FPTT and SLTT on a network equivalent to ours, driven by our own code.

The network: dense layers without bias (as ours) and SpikingJelly's single-step LIF
neurons (SLTT: its ``SLTTLIFNode``, which detaches the membrane's temporal route);
same sizes, batch, input spikes and rate cross-entropy (gain x output spikes). FPTT
runs SpikingJelly's ``fptt_online_training`` (an optimizer step every time step, two
forward/backward passes per step); SLTT runs a backward per step and one optimizer step
per batch, as our ``sltt``. The neuron differs from ours (LIF, one state variable,
floating point, versus slayer's fixed-point CUBA with two): the rows compare the cost
of the training methods' machinery, not identical networks.

Install for benchmarks only (a plain install pulls a CUDA torch): see
``benchmarks/requirements.txt``.
"""
from __future__ import annotations

import importlib.util
from typing import Optional

import torch

KINDS = ("sj-fptt", "sj-sltt")
INSTALL = "pip install --no-deps spikingjelly==2.0.0 loguru tqdm tensorboard"


def unavailable() -> Optional[str]:
    """Why SpikingJelly rows cannot run here, or None if they can."""
    if importlib.util.find_spec("spikingjelly") is None:
        return f"spikingjelly is not installed (benchmarks only: {INSTALL})"
    try:
        from spikingjelly.activation_based.learning import online_learning  # noqa: F401
        from spikingjelly.activation_based.neuron import SLTTLIFNode  # noqa: F401
    except Exception as err:  # a partial install fails at import in many ways
        return f"spikingjelly does not import ({type(err).__name__}: {err}); install with {INSTALL}"
    return None


def build(kind: str, sizes: tuple[int, ...]) -> torch.nn.Module:
    """Dense (no bias) + LIF layers of ``sizes``, single-step mode."""
    from spikingjelly.activation_based import neuron

    node = neuron.SLTTLIFNode if kind == "sj-sltt" else neuron.LIFNode
    layers: list[torch.nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out, bias=False), node(step_mode="s")]
    return torch.nn.Sequential(*layers)


def train_pass(kind: str, net: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               target: torch.Tensor, gain: float = 8.0) -> None:
    """One training pass over ``x`` [B, C, T] with SpikingJelly's machinery."""
    from spikingjelly.activation_based import functional

    functional.reset_net(net)
    x_seq = x.permute(2, 0, 1)  # SpikingJelly puts time first: [T, B, C]
    steps = x_seq.shape[0]
    if kind == "sj-fptt":
        from spikingjelly.activation_based.learning.online_learning import (
            fptt_online_training, fptt_online_training_init_w_ra)

        w_ra = fptt_online_training_init_w_ra(optimizer)
        fptt_online_training(net, optimizer, x_seq, target.expand(steps, -1),
                             lambda y, t: torch.nn.functional.cross_entropy(gain * y, t), alpha=0.1, w_ra=w_ra)
    elif kind == "sj-sltt":
        optimizer.zero_grad()
        for x_t in x_seq:
            loss = torch.nn.functional.cross_entropy(gain * net(x_t), target) / steps
            loss.backward()
        optimizer.step()
    else:
        raise ValueError(f"unknown SpikingJelly kind {kind!r}; choose from {KINDS}")
    functional.reset_net(net)
