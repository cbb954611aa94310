"""The integer arithmetic of SSNN-BP, its widths and its pipeline schedule: one definition for numpy and torch.

Every function here takes and returns int64 arrays, either ``numpy.ndarray`` (the Lava
``fixed_pt`` ProcessModels, one network, no batch axis) or ``torch.Tensor`` (the reference
simulator, a leading batch axis of independent network copies). Only operators that
behave identically on both are used (``+ - * & ^ << >>``, comparisons, integer indexing);
the few calls whose names differ go through the small shims at the top. Because both
sides call these very functions, the Lava models and the reference simulator cannot drift.

Fixed-point formats (see docs/ssnn_bp.md):

- probability: integer in [0, PROB_ONE], PROB_ONE = 2**16 meaning 1.0;
- uniform draw: 16 bits, the top half of a per-neuron 32-bit xorshift state; a Bernoulli
  event is ``draw < p``, so p = PROB_ONE always fires and p = 0 never does;
- weight: signed 9-bit integer in [-WEIGHT_MAX, WEIGHT_MAX] (Loihi's learning-engine width);
- logit: 2**-LOGIT_FRAC nats per unit.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from lava_fptt.neurons.fixed_point import Width

Array = Any  # numpy.ndarray or torch.Tensor of int64

PROB_BITS = 16
PROB_ONE = 1 << PROB_BITS
PROB_HALF = PROB_ONE >> 1
STATE_BITS = 32
STATE_MASK = (1 << STATE_BITS) - 1
WEIGHT_BITS = 9
WEIGHT_MAX = Width(WEIGHT_BITS).hi
"""Learning-engine weights are symmetric, ``[-255, 255]`` (a Lava ``Dense`` weight is even,
``[-256, 254]``: :data:`lava_fptt.neurons.dense.WEIGHT_MAX`)."""
ACCUMULATOR_BITS = 24
LOGIT_FRAC = 8
GUMBEL_BITS = 10


# ----------------------------------------------------------------------------- shims
def _is_numpy(a: Array) -> bool:
    return isinstance(a, (np.ndarray, np.generic))


def _torch() -> Any:
    return sys.modules["torch"]


def to_int(a: Array) -> Array:
    """Booleans (or any integers) as int64."""
    return a.astype(np.int64) if _is_numpy(a) else a.long()


def clip(a: Array, low: int, high: int) -> Array:
    return np.clip(a, low, high) if _is_numpy(a) else _torch().clamp(a, low, high)


def where(condition: Array, a: Array, b: Array | int) -> Array:
    return np.where(condition, a, b) if _is_numpy(condition) else _torch().where(condition, a, b)


def argmax(a: Array) -> Array:
    """Index of the first maximum along the last axis (ties go to the lowest index)."""
    return np.argmax(a, axis=-1) if _is_numpy(a) else _torch().argmax(a, dim=-1)


def concat(arrays: list[Array], axis: int) -> Array:
    if _is_numpy(arrays[0]):
        return np.concatenate(arrays, axis=axis)
    return _torch().cat(arrays, dim=axis)


def arange_like(n: int, like: Array) -> Array:
    if _is_numpy(like):
        return np.arange(n, dtype=np.int64)
    return _torch().arange(n, dtype=_torch().int64, device=like.device)


EXACT_BITS = 53
"""float64 represents every integer of magnitude up to 2**53 exactly."""


def matmul(a: Array, b: Array, a_max: int, b_max: int) -> Array:
    """Exact integer matrix product of ``a`` [..., k] and ``b`` [k, n], entries within ``+-a_max``, ``+-b_max``.

    It runs as a float64 product (BLAS on CPU, and the only integer-exact product torch
    has on CUDA), which is exact when every partial sum is an integer below 2**53: that
    holds when ``k * a_max * b_max < 2**53``, checked here from the shapes and the bounds
    the callers know (spikes are 0/1, error spikes -1..1, weights within WEIGHT_MAX). numpy
    and torch's own int64 products would give the same integers without BLAS, several times slower.
    """
    if a.shape[-1] * a_max * b_max >= 1 << EXACT_BITS:
        raise OverflowError(f"an integer product over {a.shape[-1]} terms of sizes {a_max} and {b_max} may "
                            f"exceed 2**{EXACT_BITS}, which float64 cannot hold exactly")
    if _is_numpy(a):  # asarray: no copy of an operand already held in float64
        return (np.asarray(a, np.float64) @ np.asarray(b, np.float64)).astype(np.int64)
    return (a.double() @ b.double()).long()


def shift(a: Array, bits: int) -> Array:
    """Left shift by ``bits`` (right, flooring, when negative)."""
    return a << bits if bits >= 0 else a >> -bits


def one_hot(index: Array, n: int) -> Array:
    """One-hot rows [..., n] of ``index``; an index outside 0..n-1 (e.g. -1) gives zeros."""
    return to_int(index[..., None] == arange_like(n, index))


# ----------------------------------------------------------------------------- PRNG
def xorshift32(state: Array) -> Array:
    """One step of Marsaglia's 32-bit xorshift (13, 17, 5): shifts, xors and a mask only."""
    state = state ^ ((state << 13) & STATE_MASK)
    state = state ^ (state >> 17)
    return state ^ ((state << 5) & STATE_MASK)


def draw(state: Array) -> tuple[Array, Array]:
    """Advance every state once and return (new state, 16-bit uniform integers)."""
    state = xorshift32(state)
    return state, state >> (STATE_BITS - PROB_BITS)


def bernoulli(state: Array, probability: Array) -> tuple[Array, Array]:
    """Spikes (0/1) firing with ``probability`` / PROB_ONE, one draw per element."""
    state, uniform = draw(state)
    return state, to_int(uniform < probability)


def seed_states(seed: int, stream: int, n: int, copy: int = 0) -> np.ndarray:
    """Initial xorshift states of ``n`` neurons, distinct per (seed, stream, copy, neuron).

    Host-side set-up (done once, in numpy, for both the Lava processes and the reference):
    a splitmix64 hash of the key, folded to 32 bits and never zero (xorshift's fixed point).
    """
    with np.errstate(over="ignore"):
        key = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
               + np.uint64(stream) * np.uint64(0xBF58476D1CE4E5B9)
               + np.uint64(copy) * np.uint64(0x94D049BB133111EB))
        z = key + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    folded = ((z ^ (z >> np.uint64(32))) & np.uint64(STATE_MASK)).astype(np.int64)
    return np.where(folded == 0, 1, folded)


# ----------------------------------------------------------------------------- encoder
def presented(order: Array, index: int) -> Array:
    """Entry ``index`` of the presentation ``order`` [..., L]; -1 (silence) past its end."""
    if 0 <= index < order.shape[-1]:
        return order[..., index]
    return order[..., 0] * 0 - 1


def encoder_step(
    state: Array, intensity: Array, labels: Array, order: Array,
    time_step: int, period: int, label_delay: int, n_classes: int,
) -> tuple[Array, Array, Array]:
    """The encoder at ``time_step`` (1-based): (state, input spikes, one-hot label spikes).

    Sample ``order[k]`` is shown during steps k*period+1 .. (k+1)*period, its input spikes
    firing with the integer probabilities ``intensity[sample]``; past the end of ``order``
    (or where it holds -1) the input is silent. The label spikes belong to the wave sent
    ``label_delay`` steps earlier, the one reaching the output layer now; a label of -1
    sends none.
    """
    sample = presented(order, (time_step - 1) // period)
    rows = intensity[clip(sample, 0, intensity.shape[0] - 1)]
    state, spikes = bernoulli(state, rows * to_int(sample >= 0)[..., None])
    wave = time_step - label_delay
    labelled = presented(order, (wave - 1) // period if wave >= 1 else -1)
    label = where(labelled >= 0, labels[clip(labelled, 0, labels.shape[0] - 1)], -1)
    return state, spikes, one_hot(label, n_classes)


# ----------------------------------------------------------------------------- synapse
def accumulate(spikes: Array, weights: Array) -> Array:
    """Forward dendritic sums [..., n_out] of binary ``spikes`` [..., n_in] through W [n_out, n_in]."""
    return matmul(spikes, weights.T, 1, WEIGHT_MAX)


def back_accumulate(spikes: Array, weights: Array) -> Array:
    """Backward sums [..., n_in] of error ``spikes`` [..., n_out] through W transposed."""
    return matmul(spikes, weights, 1, WEIGHT_MAX)


def coincidence_update(weights: Array, pre: Array, pos: Array, neg: Array, in_place: bool = False) -> Array:
    """RPU-style update: w_ji -= pre_i AND pos_j; w_ji += pre_i AND neg_j, saturating.

    Leading axes of ``pre`` [..., n_in] and ``pos``/``neg`` [..., n_out] are independent
    copies whose coincidences add up (batch > 1); one copy is the chip's own update.
    On numpy arrays only the rows of W with a coincidence are computed (the others add
    zero, and W, checked by ``check_weights`` and clipped at every update, is within the
    clip already); a step without error spikes returns W itself. ``in_place`` (numpy)
    writes those rows into ``weights`` itself instead of a copy (for an owner that keeps
    no other reference to it, such as the reference simulator).
    """
    n_out, n_in = weights.shape
    error = (neg - pos).reshape(-1, n_out)
    pre = pre.reshape(-1, n_in)
    if not _is_numpy(weights):
        return clip(weights + matmul(error.T, pre, 1, 1), -WEIGHT_MAX, WEIGHT_MAX)
    rows = np.flatnonzero(error.any(axis=0))
    if rows.size == 0:
        return weights
    updated = weights if in_place else weights.copy()
    updated[rows] = clip(weights[rows] + matmul(error[:, rows].T, pre, 1, 1), -WEIGHT_MAX, WEIGHT_MAX)
    return updated


def delay_line(history: Array, spikes: Array) -> tuple[Array, Array]:
    """Shift ``spikes`` [..., n] into a FIFO [..., depth, n]; return (oldest entry, new FIFO)."""
    oldest = history[..., 0, :]
    return oldest, concat([history[..., 1:, :], spikes[..., None, :]], axis=-2)


# ----------------------------------------------------------------------------- hidden neuron
def hard_sigmoid(z: Array, act_shift: int) -> Array:
    """Firing probability clip(1/2 + z * 2**act_shift / PROB_ONE, 0, 1) in probability units."""
    return clip(PROB_HALF + shift(z, act_shift), 0, PROB_ONE)


def slope_gate(probability: Array) -> Array:
    """f'(z) up to its constant: 1 inside the hard sigmoid's linear region, 0 where it saturates."""
    return to_int(probability > 0) * to_int(probability < PROB_ONE)


def hidden_forward(state: Array, a_in: Array, act_shift: int) -> tuple[Array, Array, Array]:
    """Forward compartment: (state, spikes with probability f(z), slope gate f'(z) != 0)."""
    probability = hard_sigmoid(a_in, act_shift)
    state, spikes = bernoulli(state, probability)
    return state, spikes, slope_gate(probability)


def hidden_backward(
    state: Array, gate: Array, b_pos: Array, b_neg: Array, grad_gain: int
) -> tuple[Array, Array, Array]:
    """Backward compartments: gated error delta = gate * (b_pos - b_neg) emits one spike with
    probability min(|delta| * grad_gain, PROB_ONE) on the stream of delta's sign."""
    delta = gate * (b_pos - b_neg)
    state, fire = bernoulli(state, clip(abs(delta) * grad_gain, 0, PROB_ONE))
    return state, fire * to_int(delta > 0), fire * to_int(delta < 0)


# ----------------------------------------------------------------------------- output layer
def gumbel_table() -> np.ndarray:
    """Gumbel noise -log(-log(u)) at the centres of 2**GUMBEL_BITS equal bins of u, in logit units."""
    u = (np.arange(1 << GUMBEL_BITS, dtype=np.float64) + 0.5) / (1 << GUMBEL_BITS)
    return np.round(-np.log(-np.log(u)) * (1 << LOGIT_FRAC)).astype(np.int64)


def winner_take_all(state: Array, z: Array, out_shift: int, table: Array) -> tuple[Array, Array]:
    """One winner per step drawn with probability softmax(logit): each output neuron adds its
    own Gumbel noise to its logit and lateral inhibition lets only the largest fire."""
    state, uniform = draw(state)
    score = shift(z, out_shift) + table[uniform >> (PROB_BITS - GUMBEL_BITS)]
    return state, one_hot(argmax(score), z.shape[-1])


def error_streams(
    state: Array, winner: Array, label: Array, error_prob: int
) -> tuple[Array, Array, Array]:
    """Error spikes of a step: positive = winner, negative = label.

    Both streams are emitted together, only when a label is present and a shared draw
    (one state per layer) is below ``error_prob``: that gate is the learning rate.
    """
    state, uniform = draw(state)
    gate = to_int(uniform < error_prob) * label.sum(-1)[..., None]
    return state, winner * gate, label * gate


# ----------------------------------------------------------------------------- schedule and checks
# Every synapse delivers what it received one step later (as Lava's Dense and Loihi's
# dendritic accumulators do); neurons answer in the step they receive. A forward wave that
# leaves the encoder at step t therefore reaches the hidden layer at t+1 and the output at
# t+2, whose error spikes reach the hidden backward compartments at t+3, where the hidden
# gradient spikes meet the input synapses in the same step. The delays below follow from
# that and are what the processes (lava_fptt.proc.ssnn) and the reference simulator use.
LABEL_DELAY = 2       # steps from encoder to output layer: the label waits as long
INPUT_PRE_DELAY = 3   # input synapses pair gradient spikes with input spikes 3 steps old
HIDDEN_PRE_DELAY = 1  # output synapses pair error spikes with hidden spikes 1 step old
GATE_DELAY = 2        # hidden neurons gate errors with the slope of their forward 2 steps ago
FLUSH_STEPS = 3       # steps after the last input until its last weight update is applied

MAX_FAN_IN = ((1 << (ACCUMULATOR_BITS - 1)) - 1) // WEIGHT_MAX  # keeps sums within 24 bits
MAX_SEED = (1 << 32) - 1


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int within [low, high], or a ValueError naming ``name`` and the range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def check_weights(name: str, weights: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Integer weights of ``shape`` within the signed 9-bit learning-engine range, as int64."""
    weights = np.asarray(weights)
    if weights.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {weights.shape}")
    if not np.issubdtype(weights.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {weights.dtype}")
    if weights.size and np.abs(weights).max() > WEIGHT_MAX:
        raise ValueError(
            f"{name} must be in [{-WEIGHT_MAX}, {WEIGHT_MAX}] (signed 9-bit), "
            f"got values in [{weights.min()}, {weights.max()}]"
        )
    return weights.astype(np.int64)


def quantize_probability(values: np.ndarray, name: str = "intensity") -> np.ndarray:
    """Intensities in [0, 1] as integer probabilities in [0, PROB_ONE] (round to nearest)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size and (not np.isfinite(values).all() or values.min() < 0 or values.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1]")
    return np.round(values * PROB_ONE).astype(np.int64)


# PRNG streams: each process owns its states, seeded from (seed, stream, copy).
STREAM_ENCODER = 1
STREAM_FORWARD = 2
STREAM_BACKWARD = 3
STREAM_WTA = 4
STREAM_ERROR = 5
