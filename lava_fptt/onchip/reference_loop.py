"""The SSNN-BP reference's steps as one compiled loop: the same integers, element by element.

:meth:`lava_fptt.onchip.reference.ReferenceNetwork.step` runs a step as the calls of
:mod:`lava_fptt.neurons.ssnn` (the definition, shared with the Lava ``fixed_pt`` models);
on numpy arrays that is some fifty small array operations per step, and at batch 1 their
per-call overhead, not the arithmetic, is the cost. :func:`run_steps` computes the same
step for ``steps`` steps in one numba-compiled call (compiled once, cached on disk), on
the reference's own state arrays, in place:

- every neuron draws from its own xorshift state exactly once per step, as in the
  definition, so the random streams are the same whatever the order of the loop;
- the products are sums over the spiking inputs only (spikes are 0/1, error spikes at most
  one winner and one label per copy), in int64, so exact by construction;
- the coincidence updates of all copies are summed per weight, then saturated, as
  :func:`~lava_fptt.neurons.ssnn.coincidence_update` does.

``tests/test_ssnn_reference_loop.py`` checks it against the definition spike for spike,
state for state and weight for weight, saturations and silent or unlabelled samples
included; ``tests/test_ssnn_reference_speed.py`` against weights recorded before any
speed-up.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..neurons.ssnn import GUMBEL_BITS, PROB_BITS, PROB_HALF, PROB_ONE, STATE_BITS, STATE_MASK, WEIGHT_MAX

_UNIFORM_SHIFT = STATE_BITS - PROB_BITS
_TABLE_SHIFT = PROB_BITS - GUMBEL_BITS


@njit
def _xorshift32(state: int) -> int:
    """:func:`~lava_fptt.neurons.ssnn.xorshift32` of one state."""
    state ^= (state << 13) & STATE_MASK
    state ^= state >> 17
    return state ^ ((state << 5) & STATE_MASK)


@njit
def _shift(value: int, bits: int) -> int:
    """:func:`~lava_fptt.neurons.ssnn.shift`: left by ``bits``, flooring right when negative."""
    return value << bits if bits >= 0 else value >> -bits


@njit
def _presented(order: np.ndarray, index: int) -> int:
    """:func:`~lava_fptt.neurons.ssnn.presented` for one copy's order."""
    return order[index] if 0 <= index < order.shape[0] else -1


@njit
def _push(history: np.ndarray, spikes: np.ndarray) -> None:
    """:func:`~lava_fptt.neurons.ssnn.delay_line` in place: drop the oldest entry, append ``spikes``."""
    depth, n = history.shape
    for d in range(depth - 1):
        for i in range(n):
            history[d, i] = history[d + 1, i]
    for i in range(n):
        history[depth - 1, i] = spikes[i]


@njit
def _indices(spikes: np.ndarray, out: np.ndarray) -> int:
    """Write the indices of the nonzero entries of ``spikes`` to the front of ``out``; return their count."""
    count = 0
    for i in range(spikes.shape[0]):
        if spikes[i]:
            out[count] = i
            count += 1
    return count


@njit
def _accumulate(weights: np.ndarray, active: np.ndarray, count: int, out: np.ndarray) -> None:
    """out[j] = sum of W[j, i] over the spiking inputs i = ``active[:count]`` (the product with 0/1 spikes)."""
    for j in range(weights.shape[0]):
        total = 0
        row = weights[j]
        for k in range(count):
            total += row[active[k]]
        out[j] = total


@njit
def _update(weights: np.ndarray, error: np.ndarray, active: np.ndarray, count: np.ndarray,
            scratch: np.ndarray) -> None:
    """W[j, i] = clip(W[j, i] + sum over copies b of error[b, j] * pre_b[i]), where the
    presynaptic spikes of copy b are ``active[b, :count[b]]`` (other entries add zero, and
    W is within the clip already). ``scratch`` [n_in] is zero on entry and on return."""
    copies, n_out = error.shape
    for j in range(n_out):
        touched = False
        for b in range(copies):
            e = error[b, j]
            if e != 0:
                touched = True
                for k in range(count[b]):
                    scratch[active[b, k]] += e
        if not touched:
            continue
        row = weights[j]
        for b in range(copies):
            for k in range(count[b]):
                i = active[b, k]
                if scratch[i] != 0:
                    row[i] = min(max(row[i] + scratch[i], -WEIGHT_MAX), WEIGHT_MAX)
                    scratch[i] = 0


@njit
def _record(record: np.ndarray, copy: int, step: int, spikes: np.ndarray) -> None:
    """Spikes of one copy at one step into ``record`` [B, n, steps], unless it is empty (not asked for)."""
    if record.shape[2]:
        for i in range(spikes.shape[0]):
            record[copy, i, step] = spikes[i]


def _run_loop(
    steps: int, time_step: int, period: int, label_delay: int, act_shift: int, out_shift: int, grad_gain: int,
    error_prob: int, learn: bool, intensity: np.ndarray, labels: np.ndarray, orders: np.ndarray,
    w1: np.ndarray, w2: np.ndarray, table: np.ndarray,
    enc_state: np.ndarray, fwd_state: np.ndarray, bwd_state: np.ndarray, wta_state: np.ndarray,
    err_state: np.ndarray, a1: np.ndarray, a2: np.ndarray, b_pos: np.ndarray, b_neg: np.ndarray,
    pre1: np.ndarray, pre2: np.ndarray, gates: np.ndarray,
    rec_x: np.ndarray, rec_h: np.ndarray, rec_winner: np.ndarray, rec_e_pos: np.ndarray,
    rec_e_neg: np.ndarray, rec_g_pos: np.ndarray, rec_g_neg: np.ndarray,
) -> None:
    copies, n_in = enc_state.shape
    n_hidden, n_out, n_samples = fwd_state.shape[1], wta_state.shape[1], intensity.shape[0]
    x = np.zeros(n_in, np.int64)
    h = np.zeros(n_hidden, np.int64)
    gate = np.zeros(n_hidden, np.int64)
    winner = np.zeros(n_out, np.int64)
    label = np.zeros(n_out, np.int64)
    e_pos = np.zeros(n_out, np.int64)
    e_neg = np.zeros(n_out, np.int64)
    g_pos = np.zeros(n_hidden, np.int64)
    g_neg = np.zeros(n_hidden, np.int64)
    x_on = np.zeros(n_in, np.int64)  # indices of this step's input spikes
    h_on = np.zeros(n_hidden, np.int64)
    old_gate = np.zeros(n_hidden, np.int64)
    old_x_on = np.zeros((copies, n_in), np.int64)  # of the delayed spikes the updates pair with
    old_x_count = np.zeros(copies, np.int64)
    old_h_on = np.zeros((copies, n_hidden), np.int64)
    old_h_count = np.zeros(copies, np.int64)
    error1 = np.zeros((copies, n_hidden), np.int64)  # neg - pos of each copy
    error2 = np.zeros((copies, n_out), np.int64)
    scratch = np.zeros(max(n_in, n_hidden), np.int64)
    for s in range(steps):
        time_step += 1
        for b in range(copies):
            # Encoder: input spikes of the sample shown now, labels of the wave reaching the output.
            sample = _presented(orders[b], (time_step - 1) // period)
            row = intensity[min(max(sample, 0), n_samples - 1)]
            for i in range(n_in):
                state = _xorshift32(enc_state[b, i])
                enc_state[b, i] = state
                p = row[i] if sample >= 0 else 0
                x[i] = 1 if (state >> _UNIFORM_SHIFT) < p else 0
            wave = time_step - label_delay
            labelled = _presented(orders[b], (wave - 1) // period if wave >= 1 else -1)
            which = labels[min(max(labelled, 0), n_samples - 1)] if labelled >= 0 else -1
            labelled_step = 0
            for o in range(n_out):
                label[o] = 1 if which == o else 0
                labelled_step += label[o]
            # Hidden neurons: forward spikes and slope gates, then the gated backward spikes.
            for j in range(n_hidden):
                p = min(max(PROB_HALF + _shift(a1[b, j], act_shift), 0), PROB_ONE)
                state = _xorshift32(fwd_state[b, j])
                fwd_state[b, j] = state
                h[j] = 1 if (state >> _UNIFORM_SHIFT) < p else 0
                gate[j] = 1 if 0 < p < PROB_ONE else 0
            for j in range(n_hidden):
                old_gate[j] = gates[b, 0, j]
            _push(gates[b], gate)
            for j in range(n_hidden):
                delta = old_gate[j] * (b_pos[b, j] - b_neg[b, j])
                p = min(abs(delta) * grad_gain, PROB_ONE)
                state = _xorshift32(bwd_state[b, j])
                bwd_state[b, j] = state
                fire = 1 if (state >> _UNIFORM_SHIFT) < p else 0
                g_pos[j] = fire if delta > 0 else 0
                g_neg[j] = fire if delta < 0 else 0
                error1[b, j] = g_neg[j] - g_pos[j]
            # Output layer: the Gumbel-max winner, then the error streams behind the shared gate.
            best, best_score = 0, 0
            for o in range(n_out):
                state = _xorshift32(wta_state[b, o])
                wta_state[b, o] = state
                score = _shift(a2[b, o], out_shift) + table[(state >> _UNIFORM_SHIFT) >> _TABLE_SHIFT]
                if o == 0 or score > best_score:
                    best, best_score = o, score
            state = _xorshift32(err_state[b, 0])
            err_state[b, 0] = state
            emit = labelled_step if (state >> _UNIFORM_SHIFT) < error_prob else 0
            for o in range(n_out):
                winner[o] = 1 if o == best else 0
                e_pos[o] = winner[o] * emit
                e_neg[o] = label[o] * emit
                error2[b, o] = e_neg[o] - e_pos[o]
            # Synapses: next step's buffers through this step's weights.
            _accumulate(w1, x_on, _indices(x, x_on), a1[b])
            _accumulate(w2, h_on, _indices(h, h_on), a2[b])
            for j in range(n_hidden):
                b_pos[b, j] = 0
                b_neg[b, j] = 0
            for o in range(n_out):
                if e_pos[o] or e_neg[o]:
                    for j in range(n_hidden):
                        b_pos[b, j] += e_pos[o] * w2[o, j]
                        b_neg[b, j] += e_neg[o] * w2[o, j]
            # The presynaptic spikes the learning phase pairs with: the oldest in each delay line.
            old_x_count[b] = _indices(pre1[b, 0], old_x_on[b])
            old_h_count[b] = _indices(pre2[b, 0], old_h_on[b])
            _push(pre1[b], x)
            _push(pre2[b], h)
            _record(rec_x, b, s, x)
            _record(rec_h, b, s, h)
            _record(rec_winner, b, s, winner)
            _record(rec_e_pos, b, s, e_pos)
            _record(rec_e_neg, b, s, e_neg)
            _record(rec_g_pos, b, s, g_pos)
            _record(rec_g_neg, b, s, g_neg)
        if learn:  # after every copy has used this step's weights: their updates summed, then saturated
            _update(w1, error1, old_x_on, old_x_count, scratch)
            _update(w2, error2, old_h_on, old_h_count, scratch)


def _compile() -> Any:
    try:
        return njit(cache=True, nogil=True)(_run_loop)
    except RuntimeError:  # no writable cache location: compile in memory each run
        return njit(nogil=True)(_run_loop)


run_steps = _compile()
"""Run ``steps`` steps of :meth:`~lava_fptt.onchip.reference.ReferenceNetwork.step` in place
(arguments: the network's hyper-parameters, streams, weights and states, in that order, then
seven int8 recordings [B, n, steps], or [B, n, 0] to record nothing)."""
