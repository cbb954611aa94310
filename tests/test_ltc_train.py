"""Fast quantization-aware LTC chunks: the step functions' integers, and autograd's gradients of them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lava_fptt.neurons.dense import dense_int
from lava_fptt.neurons.ltc import (
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
from lava_fptt.neurons.ltc_train import ltc_chunk, readout_chunk, sigmoid_int_slope

F64 = torch.float64


def int_params(kind: type, n: int, gen: torch.Generator, saturating: bool) -> torch.Tensor:
    """Random integer parameters [P, N] within their widths; ``saturating`` pushes some gates,
    currents and thresholds past the ends of their ranges."""
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
        rows.append(torch.clamp(torch.round(row), width.lo, width.hi))
    return torch.stack(rows)


def composed(ff, w_rec, params, u0, b0, s0, weight_exp):
    """The reference: ltc_step_int step by step on float64 tensors, gradients by autograd."""
    p, state, out = LTCIntParams(*params.unbind(0)), LTCState(u0, b0, s0), []
    for t in range(ff.shape[0]):
        a = ff[t] if w_rec is None else ff[t] + dense_int(state.s, w_rec, weight_exp)
        s, state = ltc_step_int(a, state, p)
        out.append(s)
    return torch.stack(out), state.u, state.b


def assert_grads_close(fast: torch.Tensor, reference: torch.Tensor, name: str) -> None:
    """Equal up to the float32 rounding of the fast backward: within 1e-5 of the largest gradient."""
    torch.testing.assert_close(fast, reference, rtol=1e-4, atol=1e-5 * float(reference.abs().max()), msg=name)


def leaves(*tensors):
    return [t.detach().clone().requires_grad_(True) for t in tensors]


@pytest.mark.parametrize("recurrent, weight_exp, saturating, scale",
                         [(True, 0, False, 20), (True, -1, True, 20), (False, 1, False, 20), (True, 0, True, 200000)])
def test_ltc_chunk_gives_the_integer_steps_and_autograds_gradients(recurrent, weight_exp, saturating, scale):
    gen = torch.Generator().manual_seed(7 + weight_exp)
    steps, batch, n = 25, 3, 9
    ff = torch.round(torch.randn(steps, batch, n, generator=gen, dtype=F64) * scale)  # scale 200000 saturates i
    w_rec = torch.randint(-128, 127, (n, n), generator=gen).to(F64) * 2 if recurrent else None
    params = int_params(LTCIntParams, n, gen, saturating)
    u0 = torch.round(torch.randn(batch, n, generator=gen, dtype=F64) * 2000)
    b0 = torch.round(torch.rand(batch, n, generator=gen, dtype=F64) * 2000)
    s0 = (torch.rand(batch, n, generator=gen) < 0.4).to(F64)
    g_s, g_u, g_b = (torch.randn(steps, batch, n, generator=gen, dtype=F64),
                     torch.randn(batch, n, generator=gen, dtype=F64), torch.randn(batch, n, generator=gen, dtype=F64))

    inputs = [ff, params, u0, b0, s0] + ([w_rec] if recurrent else [])
    fast, slow = leaves(*inputs), leaves(*inputs)
    s, state = ltc_chunk(fast[0], fast[1], LTCState(*fast[2:5]), fast[5] if recurrent else None, weight_exp)
    s_ref, u_ref, b_ref = composed(slow[0], slow[5] if recurrent else None, slow[1], *slow[2:5], weight_exp)
    assert torch.equal(s, s_ref) and torch.equal(state.u, u_ref) and torch.equal(state.b, b_ref)
    assert 0.05 < s.mean() < 0.9
    ((s * g_s).sum() + (state.u * g_u).sum() + (state.b * g_b).sum()).backward()
    ((s_ref * g_s).sum() + (u_ref * g_u).sum() + (b_ref * g_b).sum()).backward()
    for name, a, b in zip(["ff", "params", "u0", "b0", "s0", "w_rec"], fast, slow):
        assert b.grad.abs().sum() > 0, name
        assert_grads_close(a.grad, b.grad, name)


def test_readout_chunk_gives_the_integer_steps_and_autograds_gradients():
    gen = torch.Generator().manual_seed(3)
    steps, batch, k = 30, 4, 5
    ff = torch.round(torch.randn(steps, batch, k, generator=gen, dtype=F64) * 40)
    params = int_params(ReadoutIntParams, k, gen, saturating=False)
    u0 = torch.round(torch.randn(batch, k, generator=gen, dtype=F64) * 2000)
    g = torch.randn(steps, batch, k, generator=gen, dtype=F64)
    fast, slow = leaves(ff, params, u0), leaves(ff, params, u0)
    u, state = readout_chunk(fast[0], fast[1], ReadoutState(fast[2]))
    p, st, ref = ReadoutIntParams(*slow[1].unbind(0)), ReadoutState(slow[2]), []
    for t in range(steps):
        y, st = readout_step_int(slow[0][t], st, p)
        ref.append(y)
    ref = torch.stack(ref)
    assert torch.equal(u, ref) and torch.equal(state.u, ref[-1])
    ((u * g).sum() + state.u.sum()).backward()
    ((ref * g).sum() + st.u.sum()).backward()
    for name, a, b in zip(["ff", "params", "u0"], fast, slow):
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
