"""The compiled loop of the SSNN-BP reference (``run`` on the CPU) equals the step functions (``step``).

``ReferenceNetwork.step`` is the definition (the calls of ``lava_fptt.neurons.ssnn`` that the Lava
models make); ``ReferenceNetwork.run`` advances the same numpy states with the numba loop of
``lava_fptt.onchip.reference_loop``. Small networks with extreme settings make every branch busy:
saturated weights, negative and positive shifts, silent and unlabelled presentations, the end of
the stream, a learning-rate change, one copy and several copies whose updates are summed.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lava_fptt.neurons import ssnn as ar
from lava_fptt.onchip.config import SsnnConfig
from lava_fptt.onchip.reference import RECORDED, ReferenceNetwork, make_streams, predict

STATES = ("enc_state", "fwd_state", "bwd_state", "wta_state", "err_state", "a1", "a2", "b_pos", "b_neg",
          "pre1", "pre2", "gates")
N_SAMPLES, PERIOD = 12, 5


def network(copies: int, act_shift: int, out_shift: int, seed: int) -> ReferenceNetwork:
    """A 30-12-4 network with weights near saturation and a stream with silences and unlabelled samples."""
    rng = np.random.default_rng(seed)
    config = SsnnConfig(n_in=30, n_hidden=12, n_out=4, steps_per_sample=PERIOD, act_shift=act_shift,
                        out_shift=out_shift, grad_gain=(1 << 12) - 1, error_prob=ar.PROB_ONE, seed=seed)
    w1 = rng.choice([-ar.WEIGHT_MAX, -ar.WEIGHT_MAX + 1, -3, 0, 2, ar.WEIGHT_MAX - 1, ar.WEIGHT_MAX], (12, 30))
    w2 = rng.integers(-ar.WEIGHT_MAX, ar.WEIGHT_MAX + 1, (4, 12))
    w2[:, :3] = ar.WEIGHT_MAX
    intensity = rng.random((N_SAMPLES, 30)) * (rng.random((N_SAMPLES, 30)) < 0.6)
    intensity[0] = 1.0  # always fires
    labels = rng.integers(0, 4, N_SAMPLES)
    labels[1] = -1  # unlabelled: no error spikes for its waves
    orders = np.stack([rng.permutation(N_SAMPLES) for _ in range(copies)])
    orders[:, 4] = -1  # a silent presentation
    streams = make_streams(ar.quantize_probability(intensity), labels, orders, "cpu")
    return ReferenceNetwork(config, w1.astype(np.int64), w2, streams)


def stepped(net: ReferenceNetwork, steps: int) -> dict[str, np.ndarray]:
    """``steps`` calls of the definition, spikes stacked as ``run(record=True)`` returns them."""
    spikes = [net.step() for _ in range(steps)]
    return {name: torch.stack([s[name] for s in spikes], dim=-1).numpy().astype(np.int8) for name in RECORDED}


@pytest.mark.parametrize("copies, act_shift, out_shift", [(1, 6, 0), (1, -3, 3), (3, 6, -2), (3, 2, 8)])
def test_compiled_run_equals_the_step_functions_spike_for_spike(copies: int, act_shift: int, out_shift: int):
    half, total = 40, N_SAMPLES * PERIOD + 15  # runs past the end of the stream: silence, last updates
    ours, definition = (network(copies, act_shift, out_shift, seed=10 * copies + act_shift + 16) for _ in range(2))
    w1, w2 = ours.weights()
    got = [ours.run(half, record=True)]
    want = [stepped(definition, half)]
    for net in (ours, definition):  # the driver changes the learning rate between pieces
        net.error_prob = ar.PROB_ONE // 3
    got.append(ours.run(total - half, record=True))
    want.append(stepped(definition, total - half))
    for name in RECORDED:
        a, b = (np.concatenate([piece[name] for piece in pieces], axis=-1) for pieces in (got, want))
        assert a.shape == (copies, b.shape[1], total) and a.dtype == np.int8
        mismatch = np.flatnonzero((a != b).any(axis=(0, 1)))
        assert mismatch.size == 0, f"{name} differs first at step {mismatch[:1] + 1}"
    for name in STATES:
        np.testing.assert_array_equal(getattr(ours, name), getattr(definition, name), err_msg=name)
    assert ours.time_step == definition.time_step == total
    for after, before in zip(ours.weights(), definition.weights()):
        np.testing.assert_array_equal(after, before)
    # ... and every branch was busy: both layers learned, weights stayed saturated, both error signs fired.
    after1, after2 = ours.weights()
    assert (after1 != w1).sum() > 20 and (after2 != w2).sum() > 5
    assert np.abs(after1).max() == ar.WEIGHT_MAX and np.abs(after2).max() == ar.WEIGHT_MAX
    spikes = {name: np.concatenate([piece[name] for piece in got], axis=-1) for name in RECORDED}
    assert all(spikes[name].sum() > 0 for name in RECORDED)
    assert (spikes["winner"].sum(axis=1) == 1).all()


def test_step_and_run_can_be_mixed():
    """Both advance the same numpy states: any interleaving ends where steps alone end."""
    mixed, definition = network(2, 4, 0, seed=5), network(2, 4, 0, seed=5)
    for piece in (3, 1, 7, 2, 20):
        mixed.run(piece)
        mixed.step()
        stepped(definition, piece + 1)
    for after, before in zip(mixed.weights(), definition.weights()):
        np.testing.assert_array_equal(after, before)
    for name in STATES:
        np.testing.assert_array_equal(getattr(mixed, name), getattr(definition, name), err_msg=name)


def test_learning_off_keeps_the_weights_and_records_what_is_asked():
    net = network(1, 6, 0, seed=2)
    net.learn = False
    w1, w2 = net.weights()
    spikes = net.run(30, record=("winner", "e_pos"))
    assert set(spikes) == {"winner", "e_pos"} and spikes["winner"].shape == (1, 4, 30)
    assert spikes["e_pos"].sum() > 0  # errors flow, nothing is learned from them
    assert np.array_equal(net.weights()[0], w1) and np.array_equal(net.weights()[1], w2)
    assert net.run(3) == {}
    with pytest.raises(ValueError, match="unknown spike names \\['spikes'\\]"):
        net.run(1, record=("spikes",))


def test_predict_takes_the_winner_the_step_functions_count_most():
    """predict (the compiled loop, winners recorded) equals counting ``step``'s winners over a sample's T waves,
    chunk by chunk (each chunk's copies are seeded 0, 1, ...)."""
    net = network(1, 6, 0, seed=9)
    c, (w1, w2) = net.config, net.weights()
    intensity = net.streams.intensity
    got = predict(c, w1, w2, intensity, chunk=5)  # three chunks, the last one short
    want = []
    for start in range(0, N_SAMPLES, 5):
        rows = intensity[start: start + 5]
        definition = ReferenceNetwork(c, w1, w2, make_streams(rows, None, np.arange(len(rows))[:, None], "cpu"),
                                      learn=False)
        for _ in range(ar.LABEL_DELAY):
            definition.step()
        counts = sum(definition.step()["winner"].numpy() for _ in range(PERIOD))
        want.append(np.argmax(counts, axis=-1))
    assert np.array_equal(got, np.concatenate(want))
    assert len(set(got.tolist())) > 1  # not one class for everything
