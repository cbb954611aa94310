"""A slayer CUBA ``Dense`` block's call as one autograd node: quantized weight product, both integrators, spikes.

slayer's ``cuba.Dense`` block runs ``synapse`` (its weight through the neuron's 8-bit
quantization hook, ``quantize_8bit``: a rounding function and a clamp, then a 3-D
convolution), then ``neuron`` (two leaky integrators and the ``Spike`` function). FPTT calls
the network once per time step, and each of those pieces is a few tensor operations and
an autograd node or two whose fixed cost, not their arithmetic, was most of a step's time
(``docs/speed.md``). :class:`DenseStep` is the same computation as one node:

- the quantized weight computed at each call with the arithmetic of slayer's hook, in one compiled
  pass (:func:`quantized_weight`), without autograd nodes. It is not kept between calls: FPTT updates the weights after every call anyway, and a cache keyed on
  the weight's version counter would miss writes through ``p.data`` or numpy (the tests do such
  writes);
- ``z = W_q x + b`` as one 2-D matrix product per call (for spikes and quantized weights every
  partial sum is exact in float32, so ``z`` is the convolution's bit for bit);
- both integrators in the step-major compiled loop of :mod:`lava_fptt.neurons.cuba_fast` (the
  product's ``[B, T, O]`` layout kept, no transposing copies), the spikes as
  ``Spike.forward`` compares, the carried voltage reset as slayer's ``persistent_state``;
- the backward by hand: slayer's surrogate (``_spike_backward``'s operations on the same scalar
  tensors as ``Spike`` saves) and both integrators backwards, in place, then the product's input, weight and bias
  gradients, the weight's masked where the clamp's gradient is zero.

Spikes and carried states are bit-identical to slayer's block; gradients equal to rounding (the
product's backward sums in another order). ``tests/test_cuba_dense.py`` compares them.
The online adapter uses it for ``Dense`` blocks outside SLTT's spatial mode
(:class:`lava_fptt.online.blocks.CubaBlock`).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import torch

from . import cuba_fast
from .dense import WEIGHT_MAX, WEIGHT_MIN

Tensor = torch.Tensor


def quantization_bounds(w_scale: int) -> tuple[float, float, float]:
    """slayer's ``quantize_8bit`` for a neuron of state scale ``w_scale``: (step, lowest, highest) weight."""
    return 2 / w_scale, WEIGHT_MIN / w_scale, WEIGHT_MAX / w_scale


def quantized_weight(weight: Tensor, w_scale: int) -> tuple[Tensor, Tensor]:
    """``weight`` as slayer's ``neuron.quantize_8bit`` makes it, as a matrix [out, in], and the mask of
    the clamp's gradient (True where the rounded weight lies within the clamp's bounds, where
    torch's clamp passes the gradient); no autograd node (the gradient is :class:`DenseStep`'s).

    One compiled pass (:func:`_quantize_loop`) instead of slayer's four tensor operations and two
    of the mask: the same float32 arithmetic (the step, ``2 / w_scale``, is a power of two, so the
    division is exact-rounded alike however torch computes it; rounding half to even as
    ``torch.round``); the tests compare with slayer's hook bit for bit, ties included.
    """
    global _quantize
    if _quantize is None:
        _quantize = cuba_fast.compiled(_quantize_loop)
    step, low, high = quantization_bounds(w_scale)
    source = weight.detach()
    if source.dtype != torch.float32 or not source.is_contiguous():  # slayer's own operations
        from lava.lib.dl.slayer.utils import quantize

        with torch.no_grad():
            rounded = quantize(source, step=step)
            matrix = rounded.clamp(low, high).reshape(weight.shape[0], -1)
            return matrix, ((rounded >= low) & (rounded <= high)).reshape(matrix.shape)
    matrix = torch.empty(weight.shape[0], weight[0].numel())
    mask = torch.empty(matrix.shape, dtype=torch.bool)
    _quantize(source.reshape(-1).numpy(), np.float32(step), np.float32(low), np.float32(high),
              matrix.reshape(-1).numpy(), mask.reshape(-1).numpy())
    return matrix, mask


_quantize: Optional[Callable[..., None]] = None


def _quantize_loop(weight: np.ndarray, step: np.float32, low: np.float32, high: np.float32, out: np.ndarray,
                   mask: np.ndarray) -> None:
    """``out = clamp(rint(weight / step) * step, low, high)``, ``mask = low <= rint(...) * step <= high``
    (float32 throughout)."""
    for k in range(weight.size):
        rounded = np.rint(weight[k] / step) * step
        out[k] = min(max(rounded, low), high)
        mask[k] = low <= rounded <= high


def applies(block: Any) -> bool:
    """Whether a slayer block's call can run as :class:`DenseStep` (where the conditions hold
    that do not depend on the input): a ``cuba.Dense`` with slayer's own forward, no mask, no
    axonal delay, a 1 x 1 x 1 ``Dense`` synapse quantized by its neuron's ``quantize_8bit``,
    no forward hooks on synapse or neuron, and a neuron :func:`cuba_fast.fused_neuron` could
    run (shaped, CPU, fixed decays, no normalization, binary spikes, no dropout)."""
    from lava.lib.dl import slayer

    if (type(block).forward is not slayer.block.base.AbstractDense.forward
            or getattr(block, "synapse", None) is None or getattr(block, "neuron", None) is None
            or getattr(block, "mask", None) is not None or getattr(block, "delay", None) is not None):
        return False
    synapse, neuron = block.synapse, block.neuron
    hook = getattr(synapse, "_pre_hook_fx", None)
    return (type(synapse) is slayer.synapse.Dense and tuple(synapse.kernel_size) == (1, 1, 1)
            and synapse.groups == 1
            and not (synapse._forward_pre_hooks or synapse._forward_hooks or neuron._forward_pre_hooks
                     or neuron._forward_hooks)
            and cuba_fast.fusable(neuron, persistent=False) and not neuron.graded_spike and neuron.drop is None
            and getattr(hook, "__func__", None) is slayer.neuron.base.Neuron.quantize_8bit
            and getattr(hook, "__self__", None) is neuron)


class DenseStep(torch.autograd.Function):
    """Spikes of a CUBA ``Dense`` block over ``x`` [B, C, T] from the given states (module docstring),
    and the current and voltage to carry (not differentiable)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Optional[Tensor], quantized: Tensor, mask: Tensor,
                constants: Any, current_state: Tensor, voltage_state: Tensor, w_scale: int, threshold: float,
                surrogate: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        inputs = rows(x)
        z = torch.nn.functional.linear(inputs, quantized, bias).reshape(x.shape[0], x.shape[-1], -1)  # [B, T, O]
        needs_input, needs_weight = ctx.needs_input_grad[:2]  # keep only what the gradients asked for use
        ctx.save_for_backward(inputs if needs_weight else None, quantized if needs_input else None,
                              mask if needs_weight else None)
        ctx.weight_shape = weight.shape
        voltage, last_current = cuba_fast.integrate_steps(z, constants, current_state, voltage_state, w_scale,
                                                          threshold)
        del z
        return cuba_fast.spiking_forward(ctx, voltage, last_current, constants, threshold, surrogate)

    @staticmethod
    def backward(ctx: Any, grad_spikes: Tensor, *unused: Any) -> tuple[Optional[Tensor], ...]:
        inputs, quantized, mask = ctx.saved_tensors
        grad_z = cuba_fast.neuron_backward(ctx, grad_spikes, step_major=True)
        batch, steps = grad_z.shape[0], grad_z.shape[-1]
        grad_rows = rows(grad_z)  # [B * T, O]
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_rows.mm(quantized).reshape(batch, steps, -1).transpose(1, 2)
        if ctx.needs_input_grad[1]:
            grad_weight = torch.where(mask, grad_rows.t().mm(inputs), 0.0).reshape(ctx.weight_shape)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_rows.sum(dim=0)
        return grad_x, grad_weight, grad_bias, None, None, None, None, None, None, None, None


def rows(x: Tensor) -> Tensor:
    """``x`` [B, C, T] as the rows [B * T, C] of a 2-D product (a view for T = 1). A product over 2-D
    operands: torch's over the 3-D transposed view took four times as long at T = 1 (measured)."""
    return x.transpose(1, 2).reshape(-1, x.shape[1])


class DenseBlock:
    """One ``Dense`` block run as :class:`DenseStep`."""

    def __init__(self, block: Any) -> None:
        self.block = block

    def __call__(self, x: Tensor, state: Optional[tuple[Tensor, Tensor]]
                 ) -> Optional[tuple[Tensor, tuple[Tensor, Tensor]]]:
        """The block's spikes on ``x`` [B, C, T] from ``state`` (None: rest) and the state to carry, or
        None where this input needs slayer's own path (not [B, C, T] on CPU in the weight's type, another shape)."""
        neuron, synapse = self.block.neuron, self.block.synapse
        if (x.dim() != 3 or x.is_cuda or x.dtype != synapse.weight.dtype or x.shape[1] != synapse.in_channels
                or synapse.weight.is_cuda):
            return None
        shape = (x.shape[0], synapse.out_channels, x.shape[-1])
        start = cuba_fast.start_of(neuron, shape, *(state or (_REST, _REST)))
        if start is None:
            return None
        threshold, current_state, voltage_state = start
        quantized, mask = quantized_weight(synapse.weight, neuron.w_scale)
        surrogate = cuba_fast.surrogate_scalars(threshold, neuron.tau_rho, neuron.scale_rho, x.dtype)
        spikes, current, voltage = DenseStep.apply(
            x, synapse.weight, synapse.bias, quantized, mask, cuba_fast.constants_of(neuron, shape),
            current_state, voltage_state, neuron.s_scale, threshold, surrogate)
        return spikes, (current, voltage)


_REST = torch.zeros(1)
"""The state at rest: one zero broadcast to any batch, as slayer starts (never written to)."""
