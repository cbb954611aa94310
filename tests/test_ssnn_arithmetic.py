"""The shared SSNN-BP integer arithmetic: identical on numpy and torch, and statistically right."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lava_fptt.neurons import ssnn as ar


def _both(a: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
    a = np.asarray(a, dtype=np.int64)
    return a, torch.from_numpy(a.copy())


def _same(numpy_out: tuple, torch_out: tuple) -> None:
    for n, t in zip(numpy_out, torch_out):
        np.testing.assert_array_equal(n, t.numpy())


def test_xorshift_matches_a_plain_python_reference_and_torch() -> None:
    seeds = ar.seed_states(seed=7, stream=1, n=64)
    state_np, state_t = _both(seeds)
    expected = [int(s) for s in seeds]
    for _ in range(1000):
        state_np, state_t = ar.xorshift32(state_np), ar.xorshift32(state_t)
        for i, x in enumerate(expected):  # the textbook 32-bit xorshift (13, 17, 5) in Python ints
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            expected[i] = x ^ ((x << 5) & 0xFFFFFFFF)
    assert state_np.tolist() == expected
    assert state_t.tolist() == expected


def test_seed_states_are_distinct_nonzero_32_bit_and_reproducible() -> None:
    a = ar.seed_states(0, 1, 10_000)
    assert a.dtype == np.int64 and a.min() > 0 and a.max() <= ar.STATE_MASK
    assert len(np.unique(a)) == len(a)
    np.testing.assert_array_equal(a, ar.seed_states(0, 1, 10_000))
    assert not np.array_equal(a, ar.seed_states(0, 2, 10_000))
    assert not np.array_equal(a, ar.seed_states(1, 1, 10_000))
    assert not np.array_equal(a, ar.seed_states(0, 1, 10_000, copy=1))


def test_draws_are_uniform_16_bit_and_bernoulli_rates_match() -> None:
    state = torch.from_numpy(ar.seed_states(3, 1, 20_000))
    probability = torch.full((20_000,), ar.PROB_ONE // 5)
    fired = torch.zeros(20_000, dtype=torch.int64)
    uniforms = []
    for _ in range(50):
        state, uniform = ar.draw(state)
        uniforms.append(uniform)
        state, spikes = ar.bernoulli(state, probability)
        fired += spikes
    uniforms = torch.cat(uniforms)
    assert int(uniforms.min()) >= 0 and int(uniforms.max()) < ar.PROB_ONE
    assert abs(float(uniforms.double().mean()) / ar.PROB_ONE - 0.5) < 0.002
    assert abs(float(fired.double().mean()) / 50 - 0.2) < 0.002
    _, never = ar.bernoulli(state, torch.zeros(20_000, dtype=torch.int64))
    _, always = ar.bernoulli(state, torch.full((20_000,), ar.PROB_ONE))
    assert int(never.sum()) == 0 and int(always.sum()) == 20_000


def test_every_step_function_is_identical_on_numpy_and_torch() -> None:
    rng = np.random.default_rng(0)
    n_in, n_hid, n_out, batch = 20, 12, 5, 3
    w1, w1_t = _both(rng.integers(-255, 256, (n_hid, n_in)))
    w2, w2_t = _both(rng.integers(-255, 256, (n_out, n_hid)))
    table, table_t = _both(ar.gumbel_table())
    state, state_t = _both(ar.seed_states(1, 1, batch * n_hid).reshape(batch, n_hid))
    x, x_t = _both(rng.integers(0, 2, (batch, n_in)))
    z, z_t = _both(ar.accumulate(x, w1))
    np.testing.assert_array_equal(z, ar.accumulate(x_t, w1_t).numpy())
    _same(ar.hidden_forward(state, z, 6), ar.hidden_forward(state_t, z_t, 6))
    _same(ar.hidden_forward(state, z, -2), ar.hidden_forward(state_t, z_t, -2))
    gate, gate_t = _both(rng.integers(0, 2, (batch, n_hid)))
    b_pos, b_pos_t = _both(rng.integers(-500, 500, (batch, n_hid)))
    b_neg, b_neg_t = _both(rng.integers(-500, 500, (batch, n_hid)))
    _same(ar.hidden_backward(state, gate, b_pos, b_neg, 300),
          ar.hidden_backward(state_t, gate_t, b_pos_t, b_neg_t, 300))
    wta, wta_t = _both(ar.seed_states(1, 4, batch * n_out).reshape(batch, n_out))
    z2, z2_t = _both(rng.integers(-3000, 3000, (batch, n_out)))
    _same(ar.winner_take_all(wta, z2, 0, table), ar.winner_take_all(wta_t, z2_t, 0, table_t))
    err, err_t = _both(ar.seed_states(1, 5, batch).reshape(batch, 1))
    winner, winner_t = _both(ar.one_hot(np.array([0, 3, 4]), n_out))
    label, label_t = _both(ar.one_hot(np.array([0, 1, -1]), n_out))
    _same(ar.error_streams(err, winner, label, 40_000), ar.error_streams(err_t, winner_t, label_t, 40_000))
    pos, pos_t = _both(rng.integers(0, 2, (batch, n_hid)))
    neg, neg_t = _both(rng.integers(0, 2, (batch, n_hid)))
    np.testing.assert_array_equal(ar.coincidence_update(w1, x, pos, neg),
                                  ar.coincidence_update(w1_t, x_t, pos_t, neg_t).numpy())
    history, history_t = _both(rng.integers(0, 2, (batch, 3, n_in)))
    _same(ar.delay_line(history, x), ar.delay_line(history_t, x_t))
    intensity, intensity_t = _both(rng.integers(0, ar.PROB_ONE + 1, (6, n_in)))
    labels, labels_t = _both(np.array([0, 1, 2, 3, 4, -1]))
    order, order_t = _both(np.array([[5, 0, 2], [1, 3, -1], [4, 4, 4]]))
    enc, enc_t = _both(ar.seed_states(1, 1, batch * n_in).reshape(batch, n_in))
    for step in (1, 3, 4, 9, 12, 20):
        _same(ar.encoder_step(enc, intensity, labels, order, step, 3, 2, n_out),
              ar.encoder_step(enc_t, intensity_t, labels_t, order_t, step, 3, 2, n_out))


def test_hard_sigmoid_slope_gate_and_gradient_spike_signs() -> None:
    z = np.array([-5000, -1024, 0, 1023, 5000])
    probability = ar.hard_sigmoid(z, 5)
    np.testing.assert_array_equal(probability, [0, 0, ar.PROB_HALF, ar.PROB_HALF + 1023 * 32, ar.PROB_ONE])
    np.testing.assert_array_equal(ar.slope_gate(probability), [0, 0, 1, 1, 0])
    state = ar.seed_states(0, 3, 4)
    delta = np.array([300, -300, 300, 0])
    _, pos, neg = ar.hidden_backward(state, np.array([1, 1, 0, 1]), delta, np.zeros(4, dtype=np.int64), 4095)
    np.testing.assert_array_equal(pos, [1, 0, 0, 0])  # |delta| * gain saturates: a sure spike
    np.testing.assert_array_equal(neg, [0, 1, 0, 0])


def test_winner_take_all_samples_softmax() -> None:
    logits = np.array([0.0, 1.0, -1.0, 2.0])
    z = torch.from_numpy(np.round(logits * (1 << ar.LOGIT_FRAC)).astype(np.int64)).repeat(50_000, 1)
    state = torch.from_numpy(ar.seed_states(2, 4, 50_000 * 4).reshape(50_000, 4))
    table = torch.from_numpy(ar.gumbel_table())
    counts = torch.zeros(4, dtype=torch.int64)
    for _ in range(4):
        state, winner = ar.winner_take_all(state, z, 0, table)
        assert int(winner.sum()) == 50_000  # exactly one winner per step
        counts += winner.sum(0)
    frequency = counts.double().numpy() / counts.sum().item()
    softmax = np.exp(logits) / np.exp(logits).sum()
    assert 0.5 * np.abs(frequency - softmax).sum() < 0.01


def test_error_streams_follow_the_gate_and_need_a_label() -> None:
    winner = ar.one_hot(np.array([1, 1]), 3)
    label = ar.one_hot(np.array([2, -1]), 3)
    _, pos, neg = ar.error_streams(ar.seed_states(0, 5, 2).reshape(2, 1), winner, label, ar.PROB_ONE)
    np.testing.assert_array_equal(pos, [[0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(neg, [[0, 0, 1], [0, 0, 0]])
    _, pos, neg = ar.error_streams(ar.seed_states(0, 5, 2).reshape(2, 1), winner, label, 0)
    assert pos.sum() == 0 and neg.sum() == 0


def test_coincidence_update_signs_and_saturation() -> None:
    weights = np.array([[0, 254], [-254, 10]])
    pre = np.array([1, 1])
    updated = ar.coincidence_update(weights, pre, pos=np.array([1, 0]), neg=np.array([0, 1]))
    np.testing.assert_array_equal(updated, [[-1, 253], [-253, 11]])
    ones, pos, neg = np.array([[1, 1]] * 3), np.array([[0, 1]] * 3), np.array([[1, 0]] * 3)
    batched = ar.coincidence_update(weights, ones, pos=pos, neg=neg)
    np.testing.assert_array_equal(batched, [[3, 255], [-255, 7]])  # three copies add up, then saturate


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_exact_matmul_on_device(device: str) -> None:
    rng = np.random.default_rng(1)
    spikes = rng.integers(0, 2, (8, 4000))
    weights = rng.integers(-255, 256, (50, 4000))
    expected = spikes @ weights.T
    result = ar.accumulate(torch.from_numpy(spikes).to(device), torch.from_numpy(weights).to(device))
    np.testing.assert_array_equal(result.cpu().numpy(), expected)
