"""LTC step functions: one integer arithmetic on numpy and torch, its error bound, its widths."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lava_fptt.neurons.backend import ops_for
from lava_fptt.neurons.ltc import (
    ONE,
    PARAM_SCALES,
    SIGMOID_TABLE,
    STATE_MAX,
    LTCIntParams,
    LTCParams,
    LTCState,
    ReadoutParams,
    ReadoutState,
    check_params,
    check_state,
    dequantize,
    initial_state,
    ltc_step,
    ltc_step_int,
    quantize,
    readout_initial_state,
    readout_step,
    readout_step_int,
    sigmoid_int,
)

SIGMOID_MAX_ERROR = 1.52 / ONE
"""Documented bound of the integer sigmoid (docs/ltc_fixed_point.md)."""
GATE_MAX_ERROR = SIGMOID_MAX_ERROR + 0.5 / ONE / 4
"""... plus the pre-activation's rounding (half an LSB) times the sigmoid's largest slope."""


def random_params(n: int, rng: np.random.Generator) -> LTCParams:
    return LTCParams(
        mem_gate_i=rng.normal(0.0, 0.5, n), mem_gate_u=rng.normal(0.0, 0.5, n),
        mem_gate_bias=rng.normal(0.0, 1.0, n), adp_gate_i=rng.normal(0.0, 0.5, n),
        adp_gate_b=rng.normal(0.0, 0.5, n), adp_gate_bias=rng.normal(2.0, 1.0, n),
        bias=rng.normal(0.0, 0.1, n),
    )


def random_input(steps: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Synaptic sums in weight units: 64 inputs at rate 0.2, even weights in [-64, 64]."""
    weights = 2 * rng.integers(-32, 33, (n, 64))
    return (rng.random((steps, 64)) < 0.2).astype(np.int64) @ weights.T


def as_torch(params, dtype):
    return type(params)(*(torch.as_tensor(v, dtype=dtype) for v in params))


# ----------------------------------------------------------------------- sigmoid
def test_integer_sigmoid_is_accurate_monotone_symmetric_and_12_bit():
    z = np.arange(-(1 << 16), 1 << 16, dtype=np.int64)
    g = sigmoid_int(z)
    exact = 1.0 / (1.0 + np.exp(-z / ONE))
    assert np.abs(g / ONE - exact).max() <= SIGMOID_MAX_ERROR
    assert np.all(np.diff(g) >= 0)
    np.testing.assert_array_equal(g[1:] + g[1:][::-1], ONE)  # g(z) + g(-z) == 4096
    assert g.min() == 1 and g.max() == ONE - 1 and g[z == 0] == ONE // 2
    assert SIGMOID_TABLE == tuple(int(round(ONE / (1 + np.exp(-k / 8)))) for k in range(65))


def test_integer_sigmoid_gradient_under_training_is_the_slope_of_its_segments():
    z = torch.tensor([-5000.0, -1.0, 0.0, 700.0, 40000.0], dtype=torch.float64, requires_grad=True)
    sigmoid_int(z).sum().backward()
    k = (z.detach().abs() // 512).long().clamp(max=63)
    table = torch.tensor(SIGMOID_TABLE, dtype=torch.float64)
    slope = (table[k + 1] - table[k]) / 512
    slope[-1] = 0.0  # saturated
    torch.testing.assert_close(z.grad, slope)


# ------------------------------------------------- one integer arithmetic everywhere
def test_integer_step_is_identical_on_numpy_torch_int64_and_torch_float64():
    rng = np.random.default_rng(0)
    n, steps = 32, 300
    q = quantize(random_params(n, rng))
    x = random_input(steps, n, rng)
    runs = {
        "numpy": (q, lambda a: a, initial_state(np.zeros(n, np.int64))),
        "torch int64": (as_torch(q, torch.int64), torch.as_tensor,
                        initial_state(torch.zeros(n, dtype=torch.int64))),
        "torch float64": (as_torch(q, torch.float64), lambda a: torch.as_tensor(a, dtype=torch.float64),
                          initial_state(torch.zeros(n, dtype=torch.float64))),
    }
    traces = {}
    for name, (params, conv, state) in runs.items():
        out = []
        for t in range(steps):
            s, state = ltc_step_int(conv(x[t]), state, params)
            out.append(np.concatenate([np.asarray(v, dtype=np.float64) for v in (s, *state)]))
        traces[name] = np.array(out)
    assert 0.05 < traces["numpy"][:, :n].mean() < 0.5
    np.testing.assert_array_equal(traces["torch int64"], traces["numpy"])
    np.testing.assert_array_equal(traces["torch float64"], traces["numpy"])


def test_readout_integer_step_is_identical_on_numpy_and_torch():
    rng = np.random.default_rng(1)
    n = 16
    q = quantize(ReadoutParams(rng.normal(0, 0.5, n), rng.normal(0, 0.5, n), rng.normal(0, 1, n), 0.0))
    x = random_input(200, n, rng)
    a = readout_initial_state(np.zeros(n, np.int64))
    b = readout_initial_state(torch.zeros(n, dtype=torch.int64))
    tq = as_torch(q, torch.int64)
    for t in range(200):
        ya, a = readout_step_int(x[t], a, q)
        yb, b = readout_step_int(torch.as_tensor(x[t]), b, tq)
        np.testing.assert_array_equal(ya, yb.numpy())


def test_straight_through_shift_passes_scaled_gradient_and_exact_values():
    ops = ops_for(torch.zeros(1))
    x = torch.tensor([-1000.0, -3.0, -2.0, 2.0, 3.0, 1000.0], dtype=torch.float64, requires_grad=True)
    y = ops.shr(x, 2)
    np.testing.assert_array_equal(y.detach().numpy(), (x.detach().numpy().astype(np.int64) + 2) >> 2)
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 0.25))


def test_integer_step_refuses_narrow_integer_arrays():
    q = quantize(random_params(3, np.random.default_rng(0)))
    state = initial_state(np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="int64"):
        ltc_step_int(np.zeros(3, np.int32), state, q)
    with pytest.raises(TypeError, match="int64"):
        ltc_step_int(torch.zeros(3, dtype=torch.int32), initial_state(torch.zeros(3, dtype=torch.int64)),
                     as_torch(q, torch.int64))


def test_quantization_aware_training_gets_gradients_for_every_parameter():
    rng = np.random.default_rng(2)
    n = 16
    params = as_torch(quantize(random_params(n, rng)), torch.float64)
    params = type(params)(*(p.clone().requires_grad_() for p in params))
    x = torch.as_tensor(random_input(50, n, rng), dtype=torch.float64)
    state = initial_state(x[0])
    loss = torch.zeros((), dtype=torch.float64)
    for t in range(50):
        s, state = ltc_step_int(x[t], state, params)
        loss = loss + s.sum() + state.u.sum() / ONE
    loss.backward()
    for name, p in params._asdict().items():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


# ------------------------------------------------------------------- behaviour
def test_float_step_spikes_resets_and_raises_threshold():
    """A neuron driven hard fires, resets to 0, and its adaptation then grows."""
    p = LTCParams(mem_gate_i=0.0, mem_gate_u=0.0, mem_gate_bias=0.0, adp_gate_i=0.0, adp_gate_b=0.0,
                  adp_gate_bias=0.0)
    state = initial_state(np.zeros(1))
    s, state = ltc_step(np.array([1.0]), state, p)  # u = 0.5 * 1.0 > 0.1
    assert s[0] == 1 and state.u[0] == 0 and state.b[0] == 0
    s, state = ltc_step(np.array([0.0]), state, p)  # b = 0.5 * 0 + 0.5 * 1
    assert s[0] == 0 and state.b[0] == pytest.approx(0.5)


def test_readout_tracks_constant_input_monotonically():
    """Float: u -> I. Integer: u rises monotonically until the update rounds to zero, i.e. it
    stops within 2048 / tau_m LSB of I (the dead band of any rounded fixed-point integrator)."""
    rng = np.random.default_rng(3)
    n = 8
    p = ReadoutParams(rng.normal(0, 0.5, n), rng.normal(0, 0.5, n), rng.normal(0, 1, n), 0.25)
    q = quantize(p)
    f_state, i_state = readout_initial_state(np.zeros(n)), readout_initial_state(np.zeros(n, np.int64))
    f_trace, i_trace = [], []
    for _ in range(300):
        y, f_state = readout_step(np.full(n, 2.0), f_state, p)
        f_trace.append(y)
        y, i_state = readout_step_int(np.full(n, 128), i_state, q)
        i_trace.append(y)
    f_trace, i_trace = np.array(f_trace), np.array(i_trace)
    assert np.all(np.diff(f_trace, axis=0) >= 0) and np.all(np.diff(i_trace, axis=0) >= 0)
    np.testing.assert_allclose(f_trace[-1], 2.25, atol=1e-6)
    target = 2.25 * ONE
    i = np.full(n, target)
    z = (q.mem_gate_i * i + q.mem_gate_u * i_trace[-1] + 128) // 256 + q.mem_gate_bias
    tau = sigmoid_int(z.astype(np.int64))
    assert np.all(target - i_trace[-1] >= 0)
    assert np.all((target - i_trace[-1]) * tau < ONE // 2)  # no further update: the dead band
    np.testing.assert_array_equal(readout_step_int(np.full(n, 128), i_state, q)[0], i_trace[-1])


def test_integer_input_saturates_to_24_bits_instead_of_wrapping():
    """Inputs far beyond 24 bits act like the largest 24-bit input; states stay in range."""
    rng = np.random.default_rng(4)
    n = 8
    q = quantize(random_params(n, rng))._replace(b0=np.full(n, STATE_MAX), beta=np.full(n, 65535))
    huge, edge = initial_state(np.zeros(n, np.int64)), initial_state(np.zeros(n, np.int64))
    for t in range(100):
        sign = 1 if (t // 10) % 2 else -1
        _, huge = ltc_step_int(np.full(n, sign << 40, dtype=np.int64), huge, q)
        _, edge = ltc_step_int(np.full(n, sign * STATE_MAX, dtype=np.int64), edge, q)
        check_state(huge)
        for a, b in zip(huge, edge):
            np.testing.assert_array_equal(a, b)
    assert np.abs(huge.u).max() > STATE_MAX // 2


# ------------------------------------------------------------ integer vs float error
def test_one_integer_step_is_within_the_documented_bound_of_the_float_step():
    """From the same state, |du| <= (1.64 |I - u| + 0.5) / 4096 and |db| <= 2.14 / 4096; a
    spike decision differs only when the float membrane is that close to threshold."""
    rng = np.random.default_rng(5)
    n, steps = 128, 400
    q = quantize(random_params(n, rng))
    fp = dequantize(q)
    x = random_input(steps, n, rng)
    state = initial_state(np.zeros(n, np.int64))
    flips = 0
    for t in range(steps):
        f_state = LTCState(state.u / ONE, state.b / ONE, state.s.astype(np.float64))
        i = x[t] / 64.0 + fp.bias
        s_f, new_f = ltc_step(x[t] / 64.0, f_state, fp)
        s_i, state = ltc_step_int(x[t], state, q)
        du_bound = GATE_MAX_ERROR * np.abs(i - f_state.u) + 0.5 / ONE
        db_bound = GATE_MAX_ERROR + 0.5 / ONE
        assert np.all(np.abs(state.b / ONE - new_f.b) <= db_bound)
        same = s_f == s_i
        assert np.all(np.abs(state.u / ONE - new_f.u)[same] <= du_bound[same])
        if not same.all():
            u_float = f_state.u + (1 / (1 + np.exp(-(fp.mem_gate_i * i + fp.mem_gate_u * f_state.u
                                                    + fp.mem_gate_bias)))) * (i - f_state.u)
            theta_float = fp.b0 + fp.beta * new_f.b
            margin = du_bound + fp.beta * db_bound + 0.5 / ONE
            assert np.all(np.abs(u_float - theta_float)[~same] <= margin[~same])
            flips += int((~same).sum())
    assert flips < 1e-3 * n * steps


def test_free_running_integer_form_agrees_with_float_form_over_1000_steps():
    """Measured 99.96 % spike agreement (docs/ltc_fixed_point.md); asserted >= 99.5 %."""
    rng = np.random.default_rng(6)
    n, steps = 64, 1000
    q = quantize(random_params(n, rng))
    fp = dequantize(q)
    x = random_input(steps, n, rng)
    s_int, s_flt = initial_state(np.zeros(n, np.int64)), initial_state(np.zeros(n))
    agree = 0
    for t in range(steps):
        a, s_int = ltc_step_int(x[t], s_int, q)
        b, s_flt = ltc_step(x[t] / 64.0, s_flt, fp)
        agree += int((a == b).sum())
    assert agree / (n * steps) >= 0.995


def test_float_step_is_identical_on_numpy_and_torch():
    rng = np.random.default_rng(7)
    n = 16
    p = random_params(n, rng)
    tp = as_torch(p, torch.float64)
    x = random_input(100, n, rng) / 64.0
    a, b = initial_state(np.zeros(n)), initial_state(torch.zeros(n, dtype=torch.float64))
    for t in range(100):
        sa, a = ltc_step(x[t], a, p)
        sb, b = ltc_step(torch.as_tensor(x[t]), b, tp)
        np.testing.assert_array_equal(sa, sb.numpy())
        np.testing.assert_allclose(a.u, b.u.numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------ quantization, widths
def test_quantize_rounds_to_nearest_at_documented_scales():
    p = random_params(10, np.random.default_rng(8))
    back = dequantize(quantize(p))
    for name in LTCParams._fields:
        err = np.abs(np.asarray(getattr(back, name)) - np.asarray(getattr(p, name)))
        assert err.max() <= 0.5 / PARAM_SCALES[name], name
    assert quantize(p).beta == 7373 and quantize(p).b0 == 410
    assert LTCIntParams._field_defaults["beta"] == 7373 and LTCIntParams._field_defaults["b0"] == 410


def test_quantize_refuses_values_outside_the_widths_naming_the_parameter():
    p = random_params(3, np.random.default_rng(9))
    with pytest.raises(ValueError, match=r"'mem_gate_u' has values in \[.*, 2560\].*12-bit signed "
                                         r"range \[-2048, 2047\]"):
        quantize(p._replace(mem_gate_u=np.array([0.0, 10.0, -1.0])))
    with pytest.raises(ValueError, match=r"'beta'.*16-bit unsigned range \[0, 65535\]"):
        check_params(quantize(p)._replace(beta=-1))
    with pytest.raises(ValueError, match=r"'b' .*24-bit signed"):
        check_state(LTCState(u=0, b=np.array([-(1 << 23) - 1]), s=0))
    with pytest.raises(ValueError, match=r"'u' must hold integers"):
        check_state(ReadoutState(u=np.array([0.5])))
