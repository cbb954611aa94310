"""Networks of LTC layers: spiking liquid-time-constant hidden layers and a non-spiking readout.

``NetworkConfig(model='ltc', sizes=(C, H1, ..., K), recurrent=...)`` builds a chain
(:func:`ltc_stack`) of one ``LTCDense`` (or, with ``recurrent=True``, ``LTCRecurrent``) per
hidden size and an ``LTCReadout`` of ``K`` liquid leaky integrators
(:mod:`lava_fptt.blocks.ltc`); the engine drives it through the same adapter as every
network (:func:`lava_fptt.online.wrap`), which hands the carried state to the blocks.

Output and classification. The network's output at step ``t`` is the readout's graded
membrane ``u[t]`` (in float units; in quantized training the deployed integer / 4096;
``output_kind = "readout"``). The class of a sequence is the readout with the largest
``u`` at the last step (:func:`~lava_fptt.models.network.predict`). The training loss is
:class:`~lava_fptt.training.engine.LastStepCrossEntropy`: cross-entropy of
``gain * u`` at the last step of what the call saw, so on a whole sequence (BPTT) the
logits are the very values whose argmax is the prediction, and on a chunk (online
methods, down to one step) the readout at the chunk's end, optionally weighted by how
far into the sequence it is (FPTT's late weighting). The Lava run applies the same
``predict`` to the integer ``u`` the readout sends each step (``lava-fptt run``).

Measured on digits one pixel per step (``docs/ltc_training.md``): the last-step
readout trained several times faster than the time-mean of the readout or per-step
losses, and hidden neurons without a membrane reset (``reset_frac=0``) much faster than
with the reference's hard reset.

Time alignment. Unlike the CUBA stack, no delay is applied in torch: the output at step
``t`` depends on the input up to step ``t``. (The LTC neurons have a bias and adapt,
so they do not stay at rest under zero input and a delay would not commute with them.)
In Lava every ``Dense`` delays by one step; the Lava run compensates by resetting layer
``k`` exactly when the sample's first input reaches it and reading the readout ``L``
steps later (:mod:`netx_export.inference`).
"""
from __future__ import annotations

from typing import Any, Optional

import torch

from lava_fptt.blocks.ltc import LTCDense, LTCReadout, LTCRecurrent

from .chain import BlockChain
from .network import ModelKind, NetworkConfig, SpikingNetwork, register_model


def ltc_stack(config: NetworkConfig) -> BlockChain:
    """LTC hidden blocks (``LTCRecurrent`` with ``config.recurrent``) and an ``LTCReadout``, as a chain."""
    sizes = config.sizes
    hidden = LTCRecurrent if config.recurrent else LTCDense
    options: dict[str, Any] = {"quantized": config.quantized, "weight_exp": config.weight_exp}
    blocks: list[torch.nn.Module] = [hidden(sizes[i], sizes[i + 1], reset_frac=config.reset_frac, **options)
                                     for i in range(len(sizes) - 2)]
    blocks.append(LTCReadout(sizes[-2], sizes[-1], memory_gate_bias=config.readout_gate_bias, **options))
    return BlockChain(blocks, output_kind="readout")


class LTCNetwork(SpikingNetwork):
    """An LTC stack driven by the engine: a :class:`SpikingNetwork` with a graded readout.

    Its blocks carry their own state (the adapter drives them as they are); they have no
    spatial-only gradient mode, so SLTT runs them one step per call.
    """

    @torch.no_grad()
    def hidden_spikes(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Spikes of every hidden layer for whole sequences from rest: one ``[B, H, T]`` per layer."""
        self.reset_state()
        out = []
        for layer in self.layers[:-1]:
            x = layer(x)
            out.append(x)
        self.reset_state()
        return out

    def forward_backward(self, x: torch.Tensor, target: torch.Tensor, loss_fn: Any, start: int,
                         num_steps: int) -> Optional[tuple[torch.Tensor, torch.Tensor]]:
        """One chunk's forward, loss and backward without an autograd graph of the network.

        What ``loss_fn(self(x), target, start, num_steps).backward()`` computes, with the
        same numbers (the same compiled calls, :class:`~lava_fptt.neurons.ltc_train.LTCChunk`):
        the output ``[B, K, t]`` from the carried state, the loss, and its gradients
        accumulated into the parameters' ``.grad``; the state after the chunk is carried
        detached (the gradient of the state the chunk started from is not followed: the
        engine detaches it between chunks anyway). Autograd runs on the loss alone, on the
        ``[B, K, t]`` output: no graph of some 35 nodes per call, no per-call module
        plumbing; at one step per chunk (FPTT's update every step) that bookkeeping was
        most of a step's time (``docs/temporal-benchmark.md``). Returns the output and the
        loss, detached; None (nothing run) where this path does not apply: float blocks
        (``quantized=False``), inputs off the CPU, or gradients disabled. The engine's
        dispatch point: :func:`~lava_fptt.training.engine.step_every_chunk`.
        """
        blocks: list[Any] = self.layers  # LTC blocks (ltc_stack)
        if x.device.type != "cpu" or not torch.is_grad_enabled() or not all(b.quantized for b in blocks):
            return None
        self._accept(x)
        h = x.detach().permute(2, 0, 1).numpy()  # [T, B, C]: the layout of the compiled loops
        runs = []
        for block in blocks:  # each block's output as forward gives it, before the cast to x's dtype
            runs.append(block.chunk_forward(h))
            out = block.chunk_output(runs[-1])
            h = out.astype(h.dtype, copy=False)
        output = torch.from_numpy(h).permute(1, 2, 0)
        value_and_grad = getattr(loss_fn, "value_and_grad", None)  # the loss's gradient without autograd
        if value_and_grad is not None:
            loss, grad = value_and_grad(output, target, start, num_steps)
        else:
            output.requires_grad_()
            loss = loss_fn(output, target, start, num_steps)
            (grad,) = torch.autograd.grad(loss, output)
        g = grad.permute(2, 0, 1).numpy().astype(out.dtype, copy=False)
        for index in range(len(blocks) - 1, -1, -1):
            g = blocks[index].chunk_backward(runs[index], g, need_x=index > 0)
        return output.detach(), loss.detach()


register_model(ModelKind("ltc", ltc_stack, LTCNetwork))
