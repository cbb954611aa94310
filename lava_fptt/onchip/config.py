"""Hyper-parameters of an SSNN-BP network, their hardware widths, and the pipeline schedule.

One frozen :class:`SsnnConfig` describes a 2-layer network (inputs -> composite hidden
neurons -> stochastic winner-take-all output) in the integer units the hardware uses.
The Lava processes and the reference simulator both validate against the same ranges,
so a parameter that does not fit Loihi's widths is refused with the same message
everywhere, never silently wrapped.

Schedule. Every synapse delivers what it received one step later (as Lava's Dense and
Loihi's dendritic accumulators do); neurons answer in the step they receive. A forward
wave that leaves the encoder at step t therefore reaches the hidden layer at t+1 and the
output at t+2, whose error spikes reach the hidden backward compartments at t+3, where
the hidden gradient spikes meet the input synapses in the same step. The delays below
follow from that and are what the processes are built with.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .arithmetic import ACCUMULATOR_BITS, LOGIT_FRAC, PROB_BITS, PROB_ONE, WEIGHT_MAX

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


@dataclass(frozen=True)
class SsnnConfig:
    """A 2-layer SSNN-BP network in hardware units.

    - ``act_shift``: hidden firing probability is clip(1/2 + z * 2**act_shift / 2**16, 0, 1),
      so one weight unit of W1 is 2**act_shift / 2**16 of pre-activation;
    - ``out_shift``: output logit is z * 2**out_shift / 2**8 nats;
    - ``grad_gain``: a hidden neuron emits a gradient spike with probability
      |delta| * grad_gain / 2**16, delta in W2 weight units;
    - ``error_prob``: probability (in 2**-16) that a labelled step emits error spikes,
      the learning rate of both layers;
    - ``steps_per_sample``: T, the spike-train length of one sample.
    """

    n_in: int
    n_hidden: int
    n_out: int
    steps_per_sample: int = 16
    act_shift: int = 4
    out_shift: int = 0
    grad_gain: int = 256
    error_prob: int = PROB_ONE // 4
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("n_in", self.n_in, 1, MAX_FAN_IN)
        check_int("n_hidden", self.n_hidden, 1, MAX_FAN_IN)
        check_int("n_out", self.n_out, 2, 1 << 12)
        check_int("steps_per_sample", self.steps_per_sample, 1, 1 << 16)
        check_int("act_shift", self.act_shift, -PROB_BITS, 8)
        check_int("out_shift", self.out_shift, -PROB_BITS, 8)
        check_int("grad_gain", self.grad_gain, 0, (1 << 12) - 1)
        check_int("error_prob", self.error_prob, 0, PROB_ONE)
        check_int("seed", self.seed, 0, MAX_SEED)

    @property
    def w1_unit(self) -> float:
        """Pre-activation (in firing-probability units) of one W1 weight unit."""
        return 2.0 ** self.act_shift / PROB_ONE

    @property
    def w2_unit(self) -> float:
        """Logit (in nats) of one W2 weight unit."""
        return 2.0 ** self.out_shift / (1 << LOGIT_FRAC)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def initial_weights(config: SsnnConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded integer weights (W1 [H, n_in], W2 [O, H]), uniform within +-1/sqrt(fan_in) in
    float units (the same distribution the ANN baseline starts from), clipped to 9 bits."""
    rng = np.random.default_rng(config.seed)

    def draw(n_out: int, n_in: int, unit: float) -> np.ndarray:
        limit = min(WEIGHT_MAX, int(round(1.0 / np.sqrt(n_in) / unit)))
        return rng.integers(-limit, limit + 1, size=(n_out, n_in), dtype=np.int64)

    return draw(config.n_hidden, config.n_in, config.w1_unit), draw(config.n_out, config.n_hidden, config.w2_unit)

# PRNG streams: each process owns its states, seeded from (seed, stream, copy).
STREAM_ENCODER = 1
STREAM_FORWARD = 2
STREAM_BACKWARD = 3
STREAM_WTA = 4
STREAM_ERROR = 5
