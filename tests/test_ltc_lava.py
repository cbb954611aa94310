"""The LTC Lava processes against the step functions of lava_fptt.neurons.ltc.

Every Lava run is stopped in a ``finally``. The reference simulations below reproduce
the network's wiring: a Lava ``Dense`` delivers ``W @ s[t-1]`` at step ``t`` (zero at
the first step), so each feed-forward layer sees its input one step later and a
recurrent ``Dense`` gives exactly the ``W_r s_{t-1}`` of the LTC equations.
"""
from __future__ import annotations

import re
import time

import numpy as np
import pytest
import torch

from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source
from lava.proc.monitor.process import Monitor

from lava_fptt.neurons.ltc import (
    LTCIntParams,
    LTCParams,
    ReadoutIntParams,
    ReadoutParams,
    dequantize,
    initial_state,
    ltc_step,
    ltc_step_int,
    quantize,
    readout_initial_state,
    readout_step,
    readout_step_int,
)
from lava_fptt.proc.ltc import LTC, LTCReadout


def random_params(n: int, rng: np.random.Generator) -> LTCParams:
    """Float LTC parameters in the range training starts from (gates mostly unsaturated)."""
    return LTCParams(
        mem_gate_i=rng.normal(0.0, 0.5, n), mem_gate_u=rng.normal(0.0, 0.5, n),
        mem_gate_bias=rng.normal(0.0, 1.0, n), adp_gate_i=rng.normal(0.0, 0.5, n),
        adp_gate_b=rng.normal(0.0, 0.5, n), adp_gate_bias=rng.normal(2.0, 1.0, n),
        bias=rng.normal(0.0, 0.1, n),
    )


def random_readout_params(n: int, rng: np.random.Generator) -> ReadoutParams:
    return ReadoutParams(mem_gate_i=rng.normal(0.0, 0.5, n), mem_gate_u=rng.normal(0.0, 0.5, n),
                         mem_gate_bias=rng.normal(0.0, 1.0, n), bias=rng.normal(0.0, 0.1, n))


def random_weights(n_out: int, n_in: int, rng: np.random.Generator) -> np.ndarray:
    """Dense weights as Lava's fixed-point Dense keeps them (mixed sign: even, in [-256, 254])."""
    return 2 * rng.integers(-128, 128, (n_out, n_in))


def delayed(w: np.ndarray, spikes: torch.Tensor, t: int) -> torch.Tensor:
    """What a Lava Dense delivers at step ``t``: ``w @ spikes[t-1]``, zero at ``t = 0``."""
    if t == 0:
        return torch.zeros(w.shape[0], dtype=spikes.dtype)
    return torch.as_tensor(w, dtype=spikes.dtype) @ spikes[t - 1]


def run_lava(procs_to_run, num_steps: int, tag: str, read) -> dict:
    """Run the network of ``procs_to_run``, call ``read()`` for the results, always stop."""
    try:
        procs_to_run.run(condition=RunSteps(num_steps=num_steps), run_cfg=Loihi2SimCfg(select_tag=tag))
        return read()
    finally:
        procs_to_run.stop()


def test_fixed_pt_network_matches_torch_integer_form_every_step_for_1000_steps():
    """Headline: input -> Dense -> LTC (with recurrent Dense) -> Dense -> LTC -> Dense -> readout.

    Spikes of both LTC layers, the readout's graded output and every state (u, b, s of
    both layers; u of the readout) are identical at every one of 1000 steps.
    """
    rng = np.random.default_rng(1234)
    steps, n_in, n1, n2, n3 = 1000, 12, 10, 8, 3
    inp = (rng.random((n_in, steps)) < 0.25).astype(np.int32)
    w1, wr, w2, w3 = (random_weights(*shape, rng) for shape in ((n1, n_in), (n1, n1), (n2, n1), (n3, n2)))
    p1, p2 = quantize(random_params(n1, rng)), quantize(random_params(n2, rng))
    p3 = quantize(random_readout_params(n3, rng))

    source = Source(data=inp)
    d1, dr, d2, d3 = Dense(weights=w1), Dense(weights=wr), Dense(weights=w2), Dense(weights=w3)
    l1, l2 = LTC(shape=(n1,), params=p1), LTC(shape=(n2,), params=p2)
    out = LTCReadout(shape=(n3,), params=p3)
    sinks = {name: Sink(shape=(n,), buffer=steps) for name, n in (("s1", n1), ("s2", n2), ("y", n3))}
    source.s_out.connect(d1.s_in)
    d1.a_out.connect(l1.a_in)
    l1.s_out.connect(dr.s_in)
    dr.a_out.connect(l1.a_in)
    l1.s_out.connect(d2.s_in)
    d2.a_out.connect(l2.a_in)
    l2.s_out.connect(d3.s_in)
    d3.a_out.connect(out.a_in)
    l1.s_out.connect(sinks["s1"].a_in)
    l2.s_out.connect(sinks["s2"].a_in)
    out.s_out.connect(sinks["y"].a_in)
    monitors = {}
    for proc, var in ((l1, "u"), (l1, "b"), (l2, "u"), (l2, "b"), (l2, "s"), (out, "u")):
        monitors[(proc.name, var)] = Monitor()
        monitors[(proc.name, var)].probe(getattr(proc, var), steps)

    def read() -> dict:
        got = {name: sink.data.get().T.astype(np.int64) for name, sink in sinks.items()}
        for (name, var), mon in monitors.items():
            got[(name, var)] = mon.get_data()[name][var].astype(np.int64)
        got["end_u1"] = l1.u.get().astype(np.int64)
        return got

    start = time.perf_counter()
    lava = run_lava(source, steps, "fixed_pt", read)
    lava_seconds = time.perf_counter() - start

    # Reference: the integer step functions on torch int64 tensors.
    ti = lambda q: type(q)(*(torch.as_tensor(v) for v in q))  # noqa: E731
    t1, t2, t3 = ti(p1), ti(p2), ti(p3)
    x_in = torch.as_tensor(inp.T, dtype=torch.int64)
    s1 = torch.zeros(steps, n1, dtype=torch.int64)
    s2 = torch.zeros(steps, n2, dtype=torch.int64)
    y = torch.zeros(steps, n3, dtype=torch.int64)
    st1 = initial_state(torch.zeros(n1, dtype=torch.int64))
    st2 = initial_state(torch.zeros(n2, dtype=torch.int64))
    st3 = readout_initial_state(torch.zeros(n3, dtype=torch.int64))
    ref = {key: [] for key in monitors}
    for t in range(steps):
        s1[t], st1 = ltc_step_int(delayed(w1, x_in, t) + delayed(wr, s1, t), st1, t1)
        s2[t], st2 = ltc_step_int(delayed(w2, s1, t), st2, t2)
        y[t], st3 = readout_step_int(delayed(w3, s2, t), st3, t3)
        for (name, var) in monitors:
            state = {l1.name: st1, l2.name: st2, out.name: st3}[name]
            ref[(name, var)].append(getattr(state, var).clone())

    # the comparison means something only if the layers are active
    assert 0.02 < s1.float().mean() < 0.5 and 0.02 < s2.float().mean() < 0.5
    assert y.abs().max() > 4096 // 4
    np.testing.assert_array_equal(lava["s1"], s1.numpy())
    np.testing.assert_array_equal(lava["s2"], s2.numpy())
    np.testing.assert_array_equal(lava["y"], y.numpy())
    for key, trace in ref.items():
        np.testing.assert_array_equal(lava[key], torch.stack(trace).numpy(), err_msg=str(key))
    np.testing.assert_array_equal(lava["end_u1"], st1.u.numpy())
    assert lava_seconds < 60


def test_fixed_pt_states_read_with_get_match_after_each_run():
    """Runs of a few steps at a time; ``Var.get()`` of u, b, s after each agrees with numpy int64."""
    rng = np.random.default_rng(7)
    n_in, n, chunks, chunk = 6, 5, 8, 5
    steps = chunks * chunk
    inp = (rng.random((n_in, steps)) < 0.4).astype(np.int32)
    w = random_weights(n, n_in, rng)
    params = quantize(random_params(n, rng))
    source, dense, ltc = Source(data=inp), Dense(weights=w), LTC(shape=(n,), params=params)
    source.s_out.connect(dense.s_in)
    dense.a_out.connect(ltc.a_in)

    state = initial_state(np.zeros(n, dtype=np.int64))
    x_in = inp.T.astype(np.int64)
    fired = 0
    try:
        for c in range(chunks):
            ltc.run(condition=RunSteps(num_steps=chunk), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
            for t in range(c * chunk, (c + 1) * chunk):
                x = w @ x_in[t - 1] if t > 0 else np.zeros(n, dtype=np.int64)
                spikes, state = ltc_step_int(x, state, params)
                fired += int(spikes.sum())
            for var in ("u", "b", "s"):
                np.testing.assert_array_equal(getattr(ltc, var).get().astype(np.int64),
                                              getattr(state, var), err_msg=f"{var} after run {c}")
    finally:
        ltc.stop()
    assert fired > 0


def test_floating_pt_models_match_torch_float_form():
    """input -> Dense -> LTC -> Dense -> readout in Lava floating_pt vs the float steps on torch."""
    rng = np.random.default_rng(3)
    steps, n_in, n1, n2 = 100, 10, 8, 3
    inp = (rng.random((n_in, steps)) < 0.3).astype(float)
    w1, w2 = rng.normal(0.0, 1.0, (n1, n_in)), rng.normal(0.0, 1.0, (n2, n1))
    p1, p2 = random_params(n1, rng), random_readout_params(n2, rng)
    source, d1, d2 = Source(data=inp), Dense(weights=w1), Dense(weights=w2)
    l1, out = LTC(shape=(n1,), params=p1), LTCReadout(shape=(n2,), params=p2)
    s_sink, y_sink = Sink(shape=(n1,), buffer=steps), Sink(shape=(n2,), buffer=steps)
    source.s_out.connect(d1.s_in)
    d1.a_out.connect(l1.a_in)
    l1.s_out.connect(d2.s_in)
    d2.a_out.connect(out.a_in)
    l1.s_out.connect(s_sink.a_in)
    out.s_out.connect(y_sink.a_in)
    got_s, got_y, got_b = run_lava(source, steps, "floating_pt",
                                   lambda: (s_sink.data.get().T, y_sink.data.get().T, l1.b.get()))

    tf = lambda p: type(p)(*(torch.as_tensor(v, dtype=torch.float64) for v in p))  # noqa: E731
    t1, t2 = tf(p1), tf(p2)
    x_in = torch.as_tensor(inp.T)
    s1 = torch.zeros(steps, n1, dtype=torch.float64)
    y = torch.zeros(steps, n2, dtype=torch.float64)
    st1 = initial_state(torch.zeros(n1, dtype=torch.float64))
    st2 = readout_initial_state(torch.zeros(n2, dtype=torch.float64))
    for t in range(steps):
        s1[t], st1 = ltc_step(delayed(w1, x_in, t), st1, t1)
        y[t], st2 = readout_step(delayed(w2, s1, t), st2, t2)
    assert 0 < s1.mean() < 0.5
    np.testing.assert_array_equal(got_s, s1.numpy())
    np.testing.assert_allclose(got_y, y.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got_b, st1.b.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("mem_gate_i", 2048, "[-2048, 2047]"),
    ("adp_gate_bias", -40000, "[-32768, 32767]"),
    ("beta", -1, "[0, 65535]"),
    ("b0", 1 << 23, "[-8388608, 8388607]"),
])
def test_process_refuses_integer_parameters_out_of_range(field, value, allowed):
    params = quantize(random_params(4, np.random.default_rng(0)))._replace(**{field: value})
    with pytest.raises(ValueError, match=f"'{field}'.*{value}.*" + re.escape(allowed)):
        LTC(shape=(4,), params=params)


def test_process_refuses_bad_initial_state_and_non_integer_parameters():
    params = quantize(random_params(4, np.random.default_rng(0)))
    state = initial_state(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"LTC state 'u'.*8388608.*24-bit signed"):
        LTC(shape=(4,), params=params, state=state._replace(u=np.full(4, 1 << 23)))
    with pytest.raises(ValueError, match=r"LTC state 's'.*1-bit unsigned"):
        LTC(shape=(4,), params=params, state=state._replace(s=np.full(4, 2)))
    with pytest.raises(ValueError, match=r"'bias' must hold integers"):
        LTC(shape=(4,), params=params._replace(bias=0.5))
    readout = quantize(random_readout_params(2, np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"'mem_gate_u'.*-5000"):
        LTCReadout(shape=(2,), params=readout._replace(mem_gate_u=np.array([-5000, 0])))


def test_process_exposes_parameters_as_vars_and_reports_its_arithmetic():
    rng = np.random.default_rng(0)
    fp = random_params(3, rng)
    q = quantize(fp)
    fixed, floating = LTC(shape=(3,), params=q), LTC(shape=(3,), params=fp)
    assert fixed.fixed_point and not floating.fixed_point
    np.testing.assert_array_equal(fixed.mem_gate_bias.init, q.mem_gate_bias)
    np.testing.assert_array_equal(fixed.beta.init, np.full(3, LTCIntParams._field_defaults["beta"]))
    np.testing.assert_allclose(dequantize(q).beta, 7373 / 4096)
    assert isinstance(LTCReadout(shape=(2,), params=ReadoutIntParams(1, 2, 3)).u.init, np.ndarray)
    with pytest.raises(TypeError, match="LTCParams or LTCIntParams"):
        LTC(shape=(3,), params=ReadoutParams(1.0, 2.0, 3.0))
