"""Lava Processes of SSNN-BP: encoder, composite hidden neuron, learning synapse, WTA output.

Parameters are given in the hardware's integer units (see :mod:`lava_fptt.neurons.ssnn`)
and checked against Loihi's widths here, so both the ``fixed_pt`` and the ``floating_pt``
models receive valid values; a bad one raises a ValueError naming it and its range.
Wiring (see :func:`lava_fptt.proc.ssnn.network.build_network`)::

    encoder.s_out -> dense1.s_in    dense1.a_out -> hidden.a_in     hidden.s_out -> dense2.s_in
    dense2.a_out -> output.a_in     encoder.label_out -> output.label_in
    output.e_pos_out/e_neg_out -> dense2.e_pos_in/e_neg_in
    dense2.b_pos_out/b_neg_out -> hidden.b_pos_in/b_neg_in
    hidden.g_pos_out/g_neg_out -> dense1.e_pos_in/e_neg_in
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lava_fptt.neurons import ssnn as ar
from lava_fptt.neurons.ssnn import (
    GATE_DELAY, LABEL_DELAY, MAX_FAN_IN, MAX_SEED, STREAM_BACKWARD, STREAM_ENCODER, STREAM_ERROR,
    STREAM_FORWARD, STREAM_WTA, check_int, check_weights, quantize_probability,
)


def _size(shape: tuple[int, ...] | int, name: str = "shape") -> int:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if len(shape) != 1:
        raise ValueError(f"{name} must be one-dimensional, got {shape}")
    return check_int(f"{name}[0]", shape[0], 1, MAX_FAN_IN)


class SsnnEncoder(AbstractProcess):
    """Bernoulli input spikes from per-sample intensities, and the matching label spikes.

    ``intensity`` [N, n_in] in [0, 1] holds the samples; ``order`` [L] the indices shown,
    each for ``steps_per_sample`` steps, in one run (no recompiling per sample). ``labels``
    [N] (-1: none) are sent one-hot on ``label_out`` ``label_delay`` steps after the
    sample's input, when its forward wave reaches the output layer.
    """

    def __init__(
        self, *, intensity: np.ndarray, order: np.ndarray, n_classes: int, steps_per_sample: int,
        labels: Optional[np.ndarray] = None, label_delay: int = LABEL_DELAY, seed: int = 0,
        copy: int = 0, name: Optional[str] = None,
    ) -> None:
        super().__init__(seed=seed, copy=copy, n_classes=n_classes, name=name)
        probability = quantize_probability(intensity)
        if probability.ndim != 2:
            raise ValueError(f"intensity must be [samples, inputs], got shape {probability.shape}")
        n_samples, n_in = probability.shape
        _size(n_in, "intensity.shape[1]")
        n_classes = check_int("n_classes", n_classes, 2, 1 << 12)
        labels = np.full(n_samples, -1) if labels is None else np.asarray(labels)
        if labels.shape != (n_samples,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {n_samples} integers, got shape {labels.shape}")
        if labels.size and (labels.min() < -1 or labels.max() >= n_classes):
            raise ValueError(f"labels must be in [0, {n_classes - 1}] (or -1 for none), "
                             f"got values in [{labels.min()}, {labels.max()}]")
        order = np.asarray(order)
        if order.ndim != 1 or not order.size or not np.issubdtype(order.dtype, np.integer) or (
                order.min() < -1 or order.max() >= n_samples):
            raise ValueError(f"order must be a non-empty 1-d array of sample indices in [-1, {n_samples - 1}]")
        check_int("steps_per_sample", steps_per_sample, 1, 1 << 16)
        check_int("label_delay", label_delay, 0, 1 << 8)
        check_int("seed", seed, 0, MAX_SEED)
        self.s_out = OutPort(shape=(n_in,))
        self.label_out = OutPort(shape=(n_classes,))
        self.intensity = Var(shape=probability.shape, init=probability)
        self.labels = Var(shape=(n_samples,), init=labels.astype(np.int64))
        self.order = Var(shape=order.shape, init=order.astype(np.int64))
        self.steps_per_sample = Var(shape=(1,), init=steps_per_sample)
        self.label_delay = Var(shape=(1,), init=label_delay)
        self.state = Var(shape=(n_in,), init=ar.seed_states(seed, STREAM_ENCODER, n_in, copy))


class CompositeNeuron(AbstractProcess):
    """Hidden neuron with a forward and two backward compartments.

    Forward: fires with probability hard_sigmoid(a_in) (``act_shift``). Backward: the error
    sums arriving on ``b_pos_in``/``b_neg_in`` (W2 transposed) are gated by the slope of the
    forward pass ``gate_delay`` steps ago and emitted on ``g_pos_out``/``g_neg_out`` with
    probability |delta| * ``grad_gain`` / 2**16.
    """

    def __init__(
        self, *, shape: tuple[int, ...] | int, act_shift: int, grad_gain: int,
        gate_delay: int = GATE_DELAY, seed: int = 0, copy: int = 0, name: Optional[str] = None,
    ) -> None:
        super().__init__(seed=seed, copy=copy, name=name)
        n = _size(shape)
        check_int("act_shift", act_shift, -ar.PROB_BITS, 8)
        check_int("grad_gain", grad_gain, 0, (1 << 12) - 1)
        check_int("gate_delay", gate_delay, 1, 1 << 8)
        check_int("seed", seed, 0, MAX_SEED)
        self.a_in = InPort(shape=(n,))
        self.b_pos_in = InPort(shape=(n,))
        self.b_neg_in = InPort(shape=(n,))
        self.s_out = OutPort(shape=(n,))
        self.g_pos_out = OutPort(shape=(n,))
        self.g_neg_out = OutPort(shape=(n,))
        self.act_shift = Var(shape=(1,), init=act_shift)
        self.grad_gain = Var(shape=(1,), init=grad_gain)
        self.gates = Var(shape=(gate_delay, n), init=0)
        self.fwd_state = Var(shape=(n,), init=ar.seed_states(seed, STREAM_FORWARD, n, copy))
        self.bwd_state = Var(shape=(n,), init=ar.seed_states(seed, STREAM_BACKWARD, n, copy))


class SsnnDense(AbstractProcess):
    """Dense synapse that learns by spike coincidence.

    Forward: sums input spikes through ``weights`` [n_out, n_in]; backward: sums the error
    spikes of ``e_pos_in``/``e_neg_in`` through the transpose; both delivered one step later.
    Learning phase: w_ji -= pre_i AND pos_j; w_ji += pre_i AND neg_j, where pre is the input
    spike vector received ``pre_delay`` steps earlier (the wave the errors belong to).
    """

    def __init__(
        self, *, weights: np.ndarray, pre_delay: int, learning: bool = True, name: Optional[str] = None,
    ) -> None:
        super().__init__(name=name)
        weights = np.asarray(weights)
        if weights.ndim != 2:
            raise ValueError(f"weights must be [n_out, n_in], got shape {weights.shape}")
        n_out, n_in = weights.shape
        _size(n_out, "weights.shape[0]")
        _size(n_in, "weights.shape[1]")
        weights = check_weights("weights", weights, (n_out, n_in))
        check_int("pre_delay", pre_delay, 1, 1 << 8)
        self.s_in = InPort(shape=(n_in,))
        self.e_pos_in = InPort(shape=(n_out,))
        self.e_neg_in = InPort(shape=(n_out,))
        self.a_out = OutPort(shape=(n_out,))
        self.b_pos_out = OutPort(shape=(n_in,))
        self.b_neg_out = OutPort(shape=(n_in,))
        self.weights = Var(shape=(n_out, n_in), init=weights)
        self.pre = Var(shape=(pre_delay, n_in), init=0)
        self.a_buff = Var(shape=(n_out,), init=0)
        self.b_pos_buff = Var(shape=(n_in,), init=0)
        self.b_neg_buff = Var(shape=(n_in,), init=0)
        self.learning = Var(shape=(1,), init=int(bool(learning)))


class WtaOutput(AbstractProcess):
    """Output layer: stochastic winner-take-all with the label injected as spikes.

    Each step one neuron wins with probability softmax(a_in * 2**out_shift / 2**8) and
    spikes on ``s_out``. When a label arrives on ``label_in`` and a shared draw falls below
    ``error_prob`` / 2**16, the winner spikes on ``e_pos_out`` and the label on ``e_neg_out``.
    """

    def __init__(
        self, *, shape: tuple[int, ...] | int, out_shift: int, error_prob: int, seed: int = 0,
        copy: int = 0, name: Optional[str] = None,
    ) -> None:
        super().__init__(seed=seed, copy=copy, name=name)
        n = _size(shape)
        check_int("n_out", n, 2, 1 << 12)
        check_int("out_shift", out_shift, -ar.PROB_BITS, 8)
        check_int("error_prob", error_prob, 0, ar.PROB_ONE)
        check_int("seed", seed, 0, MAX_SEED)
        self.a_in = InPort(shape=(n,))
        self.label_in = InPort(shape=(n,))
        self.s_out = OutPort(shape=(n,))
        self.e_pos_out = OutPort(shape=(n,))
        self.e_neg_out = OutPort(shape=(n,))
        self.out_shift = Var(shape=(1,), init=out_shift)
        self.error_prob = Var(shape=(1,), init=error_prob)
        self.gumbel = Var(shape=(1 << ar.GUMBEL_BITS,), init=ar.gumbel_table())
        self.wta_state = Var(shape=(n,), init=ar.seed_states(seed, STREAM_WTA, n, copy))
        self.err_state = Var(shape=(1,), init=ar.seed_states(seed, STREAM_ERROR, 1, copy))
