"""The fast SSNN-BP reference (numpy on CPU, exact float64 products) gives the weights it gave before."""
from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import pytest
import torch

from lava_fptt.neurons import ssnn as ar
from lava_fptt.neurons.ssnn import quantize_probability
from lava_fptt.onchip.config import SsnnConfig, initial_weights
from lava_fptt.onchip.reference import ReferenceNetwork, make_streams

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "ssnn_reference_weights.json"


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(a, dtype=np.int64).tobytes()).hexdigest()


def test_weights_after_the_same_samples_are_bit_identical_to_the_recorded_ones():
    """784-128-10, T=16, batch 1 and 3, as recorded with the simulator before the speed-up (fixture's 'about')."""
    recorded = json.loads(FIXTURE.read_text())["runs"]
    rng = np.random.default_rng(15)
    n = 64
    x = rng.random((n, 784)) * (rng.random((n, 784)) < 0.2)
    y = rng.integers(0, 10, n)
    for batch in (1, 3):
        config = SsnnConfig(n_in=784, n_hidden=128, n_out=10, steps_per_sample=16, error_prob=1 << 14, seed=7)
        w1, w2 = initial_weights(config)
        orders = np.stack([rng.permutation(n) for _ in range(batch)]) if batch > 1 else np.arange(n)[None]
        network = ReferenceNetwork(config, w1, w2, make_streams(quantize_probability(x), y, orders, "cpu"))
        network.run(n * 16)
        a, b = network.weights()
        want = recorded[str(batch)]
        assert (a != w1).sum() == want["changed_w1"] > 0 and (b != w2).sum() == want["changed_w2"] > 0
        assert sha(a) == want["w1_sha256"] and sha(b) == want["w2_sha256"]


def test_numpy_and_torch_forms_of_the_products_and_updates_agree():
    """The sparse numpy update and the float64 products equal torch's dense forms on random integers."""
    rng = np.random.default_rng(0)
    weights = rng.integers(-ar.WEIGHT_MAX, ar.WEIGHT_MAX + 1, (9, 13))
    weights[0, :3] = ar.WEIGHT_MAX  # saturates
    for copies in (1, 4):
        pre = rng.integers(0, 2, (copies, 13))
        pos, neg = (rng.random((2, copies, 9)) < 0.2).astype(np.int64)
        pos[:, 0] = 0
        neg[:, 0] = 1
        ours = ar.coincidence_update(weights, pre, pos, neg)
        theirs = ar.coincidence_update(*(torch.from_numpy(a) for a in (weights, pre, pos, neg))).numpy()
        assert np.array_equal(ours, theirs) and not np.array_equal(ours, weights)
        assert np.abs(ours).max() <= ar.WEIGHT_MAX
        assert np.array_equal(ar.accumulate(pre, weights), pre @ weights.T)
    silent = np.zeros((1, 9), dtype=np.int64)
    assert ar.coincidence_update(weights, pre[:1], silent, silent) is weights  # nothing to add


def test_products_that_could_leave_float64s_exact_range_are_refused():
    a = np.ones((1, 4), dtype=np.int64)
    with pytest.raises(OverflowError, match="2\\*\\*53"):
        ar.matmul(a, np.ones((4, 2), dtype=np.int64), 1 << 30, 1 << 22)
