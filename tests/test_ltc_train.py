"""Fast quantization-aware LTC layers: the step functions' integers, and autograd's gradients of them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lava_fptt.neurons.dense import WEIGHT_MAX, WEIGHT_MIN, dense_int, weight_integers
from lava_fptt.neurons.ltc import (
    PARAM_SCALES,
    PARAM_WIDTHS,
    STATE_MAX,
    LTCIntParams,
    LTCState,
    ReadoutIntParams,
    ReadoutState,
    ltc_step_int,
    readout_step_int,
    sigmoid_int,
    sigmoid_interpolated,
)
from lava_fptt.neurons.ltc_train import ltc_layer, readout_layer, sigmoid_int_slope

F64 = torch.float64


def raw_params(kind: type, n: int, gen: torch.Generator, saturating: bool) -> torch.Tensor:
    """Random float parameters [P, N] whose integers lie within their widths (off the rounding
    ties); ``saturating`` pushes some gates, currents and thresholds past their ranges."""
    centre = {"mem_gate_i": (0, 60), "mem_gate_u": (0, 40), "mem_gate_bias": (-4000, 3000),
              "adp_gate_i": (0, 60), "adp_gate_b": (0, 40), "adp_gate_bias": (6000, 3000),
              "bias": (0, 30), "b0": (410, 100), "beta": (7373, 500), "reset_frac": (2048, 1500)}
    rows = []
    for name in kind._fields:
        mean, std = centre[name]
        row = torch.randn(n, generator=gen, dtype=F64) * std + mean
        if saturating and name in ("mem_gate_i", "adp_gate_bias", "b0"):
            row[: n // 2] = {"mem_gate_i": 2000, "adp_gate_bias": 32000, "b0": STATE_MAX - 50}[name]
        width = PARAM_WIDTHS[name]
        ints = torch.clamp(torch.round(row), width.lo, width.hi)
        rows.append((ints + torch.rand(n, generator=gen, dtype=F64) * 0.6 - 0.3) / PARAM_SCALES[name])
    if saturating:
        rows[0][-1] = 100.0  # mem_gate_i far beyond its 12-bit register
    return torch.stack(rows)


def quantized(w, raw, kind, weight_exp):
    """The straight-through quantization the blocks trained with before the fused layer."""
    w_int = torch.clamp(weight_integers(w, weight_exp), WEIGHT_MIN, WEIGHT_MAX)
    rows = []
    for name, row in zip(kind._fields, raw.unbind(0)):
        scaled = row * PARAM_SCALES[name]
        rows.append(torch.clamp(scaled + (torch.round(scaled) - scaled).detach(), PARAM_WIDTHS[name].lo,
                                PARAM_WIDTHS[name].hi))
    return w_int, kind(*rows)


def composed(x, w, w_rec, raw, u0, b0, s0, weight_exp):
    """The reference: quantization, dense_int and ltc_step_int step by step on float64 tensors,
    gradients by autograd (the blocks' arithmetic before the fused layer)."""
    w_int, p = quantized(w, raw, LTCIntParams, weight_exp)
    w_rec_int = None if w_rec is None else torch.clamp(weight_integers(w_rec, weight_exp), WEIGHT_MIN, WEIGHT_MAX)
    ff = dense_int(x, w_int, weight_exp)
    state, out = LTCState(u0, b0, s0), []
    for t in range(ff.shape[0]):
        a = ff[t] if w_rec is None else ff[t] + dense_int(state.s, w_rec_int, weight_exp)
        s, state = ltc_step_int(a, state, p)
        out.append(s)
    return torch.stack(out), state.u, state.b


def assert_grads_close(fast: torch.Tensor, reference: torch.Tensor, name: str) -> None:
    """Equal up to the float32 rounding of the fast backward: within 1e-5 of the largest gradient."""
    torch.testing.assert_close(fast, reference, rtol=1e-4, atol=1e-5 * float(reference.abs().max()), msg=name)


def leaves(*tensors):
    return [None if t is None else t.detach().clone().requires_grad_(True) for t in tensors]


@pytest.mark.parametrize("recurrent, weight_exp, saturating, scale",
                         [(True, 0, False, 1.0), (True, -1, True, 1.0), (False, 1, False, 1.0), (True, 0, True, 40.0)])
def test_ltc_layer_gives_the_integer_steps_and_autograds_gradients(recurrent, weight_exp, saturating, scale):
    gen = torch.Generator().manual_seed(7 + weight_exp)
    steps, batch, n, c = 25, 3, 9, 6
    x = torch.round(torch.rand(steps, batch, c, generator=gen, dtype=F64) * 3) * scale  # graded input
    w = torch.randn(n, c, generator=gen, dtype=F64) * 2
    w[0, 0] = 50.0  # beyond the weight register: saturates
    w_rec = torch.randn(n, n, generator=gen, dtype=F64) if recurrent else None
    raw = raw_params(LTCIntParams, n, gen, saturating)
    u0 = torch.round(torch.randn(batch, n, generator=gen, dtype=F64) * 2000)
    b0 = torch.round(torch.rand(batch, n, generator=gen, dtype=F64) * 2000)
    s0 = (torch.rand(batch, n, generator=gen) < 0.4).to(F64)
    g_s, g_u, g_b = (torch.randn(steps, batch, n, generator=gen, dtype=F64),
                     torch.randn(batch, n, generator=gen, dtype=F64), torch.randn(batch, n, generator=gen, dtype=F64))

    names = ["x", "weight", "rec_weight", "raw", "u0", "b0", "s0"]
    fast, slow = leaves(x, w, w_rec, raw, u0, b0, s0), leaves(x, w, w_rec, raw, u0, b0, s0)
    s, state = ltc_layer(fast[0], fast[1], fast[2], fast[3], LTCState(*fast[4:]), weight_exp)
    s_ref, u_ref, b_ref = composed(*slow, weight_exp)
    assert torch.equal(s, s_ref) and torch.equal(state.u, u_ref) and torch.equal(state.b, b_ref)
    assert 0.05 < s.mean() < 0.9
    ((s * g_s).sum() + (state.u * g_u).sum() + (state.b * g_b).sum()).backward()
    ((s_ref * g_s).sum() + (u_ref * g_u).sum() + (b_ref * g_b).sum()).backward()
    for name, a, b in zip(names, fast, slow):
        if b is None:
            continue
        assert b.grad.abs().sum() > 0, name
        assert_grads_close(a.grad, b.grad, name)


def test_readout_layer_gives_the_integer_steps_and_autograds_gradients():
    gen = torch.Generator().manual_seed(3)
    steps, batch, k, c = 30, 4, 5, 7
    x = (torch.rand(steps, batch, c, generator=gen) < 0.4).to(F64)
    w = torch.randn(k, c, generator=gen, dtype=F64)
    raw = raw_params(ReadoutIntParams, k, gen, saturating=False)
    u0 = torch.round(torch.randn(batch, k, generator=gen, dtype=F64) * 2000)
    g = torch.randn(steps, batch, k, generator=gen, dtype=F64)
    fast, slow = leaves(x, w, raw, u0), leaves(x, w, raw, u0)
    u, state = readout_layer(fast[0], fast[1], fast[2], ReadoutState(fast[3]))
    w_int, p = quantized(slow[1], slow[2], ReadoutIntParams, 0)
    ff, st, ref = dense_int(slow[0], w_int, 0), ReadoutState(slow[3]), []
    for t in range(steps):
        y, st = readout_step_int(ff[t], st, p)
        ref.append(y)
    ref = torch.stack(ref)
    assert torch.equal(u, ref) and torch.equal(state.u, ref[-1])
    ((u * g).sum() + state.u.sum()).backward()
    ((ref * g).sum() + st.u.sum()).backward()
    for name, a, b in zip(["x", "weight", "raw", "u0"], fast, slow):
        assert_grads_close(a.grad, b.grad, name)


def test_sigmoid_slope_is_autograds_derivative_of_the_integer_sigmoid():
    z = torch.arange(-34000, 34000, 37, dtype=F64).requires_grad_(True)
    sigmoid_int(z).sum().backward()
    torch.testing.assert_close(sigmoid_int_slope(z.detach()).double(), z.grad)


def test_the_sigmoid_table_holds_the_interpolation_at_every_input():
    z = np.arange(-40000, 40001, dtype=np.int64)  # beyond both ends of the table
    expected = sigmoid_interpolated(z)
    np.testing.assert_array_equal(sigmoid_int(z), expected)
    np.testing.assert_array_equal(sigmoid_int(torch.from_numpy(z)).numpy(), expected)
    assert expected[0] == 1 and expected[-1] == 4095
