"""Headline: the Lava fixed_pt SSNN-BP network and the torch reference agree bit for bit."""
from __future__ import annotations

import numpy as np
import psutil
import pytest

from lava_fptt.data import load_dataset
from lava_fptt.neurons import ssnn as ar
from lava_fptt.neurons.ssnn import quantize_probability
from lava_fptt.onchip.config import SsnnConfig, initial_weights
from lava_fptt.onchip.lava_network import LavaSession, build_network
from lava_fptt.onchip.reference import RECORDED, ReferenceNetwork, make_streams

STEPS = 600


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    data = load_dataset("digits", "train")
    return data.source.images.reshape(len(data), -1)[:80], data.labels[:80]


def test_lava_fixed_pt_learns_exactly_like_the_reference(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    config = SsnnConfig(n_in=64, n_hidden=24, n_out=10, steps_per_sample=8, act_shift=6,
                        grad_gain=2048, error_prob=ar.PROB_ONE, seed=11)
    w1, w2 = initial_weights(config)
    order = np.random.default_rng(0).permutation(80)
    half = STEPS // 2

    network = build_network(config, w1, w2, images, order, labels, record_steps=STEPS)
    with LavaSession(network, "fixed_pt") as session:
        session.run(half)
        session.set_error_prob(ar.PROB_ONE // 3)  # a learning-rate change mid-stream, as the driver does
        session.run(STEPS - half)
        lava_spikes = session.records()
        lava_w1, lava_w2 = session.weights()

    reference = ReferenceNetwork(config, w1, w2, make_streams(quantize_probability(images), labels, order, "cpu"))
    first = reference.run(half, record=True)
    reference.error_prob = ar.PROB_ONE // 3
    second = reference.run(STEPS - half, record=True)
    for name in RECORDED:
        expected = np.concatenate([first[name][0], second[name][0]], axis=-1)
        assert lava_spikes[name].shape == expected.shape == (expected.shape[0], STEPS)
        mismatch = np.flatnonzero((lava_spikes[name] != expected).any(axis=0))
        assert mismatch.size == 0, f"{name} differs first at step {mismatch[:1] + 1}"
    ref_w1, ref_w2 = reference.weights()
    np.testing.assert_array_equal(lava_w1, ref_w1)
    np.testing.assert_array_equal(lava_w2, ref_w2)
    # ... and the run did learn: every stream was busy and the weights moved.
    assert all(lava_spikes[name].sum() > 100 for name in RECORDED)
    assert lava_spikes["winner"].sum() == STEPS  # one winner per step
    assert np.abs(lava_w1 - w1).sum() > 1000 and np.abs(lava_w2 - w2).sum() > 1000


def test_floating_pt_models_run_and_learn(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    config = SsnnConfig(n_in=64, n_hidden=16, n_out=10, steps_per_sample=8, act_shift=6,
                        grad_gain=2048, error_prob=ar.PROB_ONE, seed=2)
    w1, w2 = initial_weights(config)
    network = build_network(config, w1, w2, images, np.arange(20), labels, record_steps=160)
    with LavaSession(network, "floating_pt") as session:
        session.run(160)
        spikes = session.records()
        new_w1, new_w2 = session.weights()
    assert spikes["winner"].sum() == 160 and spikes["x"].sum() > 1000
    assert spikes["e_neg"].sum() > 0 and spikes["g_pos"].sum() + spikes["g_neg"].sum() > 0
    assert np.abs(new_w2 - w2).sum() > 0 and np.abs(new_w1 - w1).sum() > 0
    assert np.abs(new_w1).max() <= ar.WEIGHT_MAX and np.abs(new_w2).max() <= ar.WEIGHT_MAX


def test_session_stops_the_runtime_when_the_block_raises(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    config = SsnnConfig(n_in=64, n_hidden=8, n_out=10, steps_per_sample=4)
    network = build_network(config, *initial_weights(config), images, np.arange(5), labels)
    before = _workers()
    with pytest.raises(RuntimeError, match="on purpose"):
        with LavaSession(network) as session:
            session.run(10)
            raise RuntimeError("on purpose")
    assert not network.encoder.runtime._is_started
    assert not _workers() - before


def _workers() -> set[int]:
    """Live child processes, less multiprocessing's resource tracker (one per interpreter, by design)."""
    return {child.pid for child in psutil.Process().children(recursive=True)
            if child.is_running() and child.status() != psutil.STATUS_ZOMBIE
            and "from multiprocessing.resource_tracker import" not in " ".join(child.cmdline())}
