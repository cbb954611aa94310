"""Hyper-parameters of an SSNN-BP network in hardware units, and its initial weights.

One frozen :class:`SsnnConfig` describes a 2-layer network (inputs -> composite hidden
neurons -> stochastic winner-take-all output) in the integer units the hardware uses.
The Lava processes and the reference simulator both validate against the same ranges
(:mod:`lava_fptt.neurons.ssnn`: widths, checks, the pipeline schedule), so a parameter
that does not fit Loihi's widths is refused with the same message everywhere, never
silently wrapped.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lava_fptt.neurons.ssnn import LOGIT_FRAC, MAX_FAN_IN, MAX_SEED, PROB_BITS, PROB_ONE, WEIGHT_MAX, check_int

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
