"""The expected coincidence update points along the cross-entropy gradient (statistical check)."""
from __future__ import annotations

import numpy as np
import torch

from lava_fptt.neurons import ssnn as ar
from lava_fptt.neurons.ssnn import HIDDEN_PRE_DELAY, INPUT_PRE_DELAY
from lava_fptt.onchip.config import SsnnConfig
from lava_fptt.onchip.reference import ReferenceNetwork, make_streams

COPIES, PERIOD = 4000, 32


def _analytic_gradients(config: SsnnConfig, w1: np.ndarray, w2: np.ndarray, x: np.ndarray, label: int):
    """Back-prop gradients of softmax cross-entropy of the float network the spikes sample."""
    z = (w1 * config.w1_unit) @ x
    hidden = np.clip(0.5 + z, 0.0, 1.0)
    logits = (w2 * config.w2_unit) @ hidden
    softmax = np.exp(logits - logits.max())
    softmax /= softmax.sum()
    error = softmax - np.eye(config.n_out)[label]
    delta = ((w2 * config.w2_unit).T @ error) * ((z > -0.5) & (z < 0.5))
    return np.outer(delta, x), np.outer(error, hidden)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_expected_coincidence_update_correlates_with_the_ce_gradient() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(5)
    config = SsnnConfig(n_in=16, n_hidden=12, n_out=4, steps_per_sample=PERIOD, act_shift=5,
                        grad_gain=16, error_prob=ar.PROB_ONE, seed=3)
    w1 = rng.integers(-120, 121, (12, 16))
    w2 = rng.integers(-200, 201, (4, 12))
    x = (rng.random(16) < 0.5).astype(np.float64)  # 0/1 intensities: the input spikes are certain
    label = 2
    streams = make_streams(ar.PROB_ONE * x[None, :].astype(np.int64), np.array([label]),
                           np.zeros((COPIES, 1), dtype=np.int64), "cpu")
    network = ReferenceNetwork(config, w1, w2, streams, learn=False)
    spikes = {k: torch.from_numpy(v).double() for k, v in network.run(PERIOD + 3, record=True).items()}

    def expected_update(pre: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, delay: int) -> np.ndarray:
        # pair each step's error spikes with the pre-synaptic spikes of their wave, as the synapse does
        pairs = torch.einsum("bjt,bit->ji", (neg - pos)[..., delay:], pre[..., :-delay])
        return (pairs / COPIES / PERIOD).numpy()

    update1 = expected_update(spikes["x"], spikes["g_pos"], spikes["g_neg"], INPUT_PRE_DELAY)
    update2 = expected_update(spikes["h"], spikes["e_pos"], spikes["e_neg"], HIDDEN_PRE_DELAY)
    grad1, grad2 = _analytic_gradients(config, w1, w2, x, label)
    assert np.abs(update2).max() > 0.05 and np.abs(update1).max() > 0.001
    assert _correlation(update2, -grad2) > 0.9
    assert _correlation(update1, -grad1) > 0.9
    # W2's update is the gradient itself up to the learning rate (one weight unit per coincidence).
    np.testing.assert_allclose(update2, -grad2, atol=0.05)
