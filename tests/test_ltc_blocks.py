"""LTC training blocks: the quantized forward is the deployed integer network, state handling."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.io.source import RingBuffer as Source

from lava_fptt.blocks import LTCDense, LTCReadout, LTCRecurrent
from lava_fptt.neurons.dense import dense_int, quantize_weights
from lava_fptt.neurons.ltc import (
    ONE,
    LTCParams,
    initial_state,
    ltc_step,
    ltc_step_int,
    quantize,
    readout_initial_state,
    readout_step_int,
)
from lava_fptt.proc.ltc import LTC, LTCReadout as LavaReadout


def spikes(batch: int, n: int, steps: int, rate: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, n, steps, generator=g) < rate).float()


def make_net(seed: int, weight_exp: int = 0) -> tuple[LTCRecurrent, LTCReadout]:
    torch.manual_seed(seed)
    hidden, readout = LTCRecurrent(12, 10, weight_exp=weight_exp), LTCReadout(10, 3, weight_exp=weight_exp)
    with torch.no_grad():  # livelier than the default start, so the comparisons are not vacuous
        hidden.weight.mul_(4.0)
        hidden.mem_gate_bias.add_(2.0)
    return hidden, readout


def test_quantized_forward_is_the_integer_form_step_by_step():
    hidden, readout = make_net(0, weight_exp=-1)
    x = spikes(2, 12, 120, 0.3, seed=1)
    with torch.no_grad():
        s = hidden(x)
        y = readout(s)
    w, w_rec = hidden.integer_weights()
    w_out, _ = readout.integer_weights()
    p, p_out = hidden.integer_params(), readout.integer_params()
    xs = x.numpy().astype(np.int64)
    st, st_out = initial_state(np.zeros((2, 10), np.int64)), readout_initial_state(np.zeros((2, 3), np.int64))
    for t in range(x.shape[2]):
        a = dense_int(xs[:, :, t], w, -1) + dense_int(st.s, w_rec, -1)
        s_t, st = ltc_step_int(a, st, p)
        u_t, st_out = readout_step_int(dense_int(s_t, w_out, -1), st_out, p_out)
        np.testing.assert_array_equal(s[:, :, t].numpy(), s_t)
        np.testing.assert_array_equal(y[:, :, t].numpy() * ONE, u_t)
    assert 0.02 < s.mean() < 0.5


def test_exported_integers_run_in_lava_fixed_pt_exactly_like_the_trained_blocks():
    """LTCRecurrent -> LTCReadout in Lava (input -> Dense -> LTC + recurrent Dense -> Dense ->
    readout): Lava layer k at step t + k equals block k at step t, for 300 steps."""
    hidden, readout = make_net(2)
    steps = 300
    x = spikes(1, 12, steps, 0.3, seed=3)
    with torch.no_grad():
        s = hidden(x)
        y = readout(s)
    w, w_rec = hidden.integer_weights()
    w_out, _ = readout.integer_weights()
    source = Source(data=x[0].numpy().astype(np.int32))
    d_in, d_rec, d_out = Dense(weights=w), Dense(weights=w_rec), Dense(weights=w_out)
    ltc = LTC(shape=(10,), params=hidden.integer_params())
    out = LavaReadout(shape=(3,), params=readout.integer_params())
    s_sink, y_sink = Sink(shape=(10,), buffer=steps), Sink(shape=(3,), buffer=steps)
    source.s_out.connect(d_in.s_in)
    d_in.a_out.connect(ltc.a_in)
    ltc.s_out.connect(d_rec.s_in)
    d_rec.a_out.connect(ltc.a_in)
    ltc.s_out.connect(d_out.s_in)
    d_out.a_out.connect(out.a_in)
    ltc.s_out.connect(s_sink.a_in)
    out.s_out.connect(y_sink.a_in)
    try:
        source.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        lava_s, lava_y = s_sink.data.get(), y_sink.data.get()
    finally:
        source.stop()
    assert 0.02 < s.mean() < 0.5
    np.testing.assert_array_equal(lava_s[:, 1:], s[0, :, :-1].numpy())
    np.testing.assert_array_equal(lava_y[:, 2:], y[0, :, :-2].numpy() * ONE)


def test_float_mode_runs_the_float_form():
    torch.manual_seed(4)
    block = LTCRecurrent(6, 5, quantized=False)
    x = spikes(3, 6, 40, 0.4, seed=5)
    with torch.no_grad():
        got = block(x)
        p = LTCParams(*(getattr(block, f) for f in LTCParams._fields))
        state = initial_state(torch.zeros(3, 5))
        for t in range(40):
            s, state = ltc_step(x[:, :, t] @ block.weight.T + state.s @ block.rec_weight.T, state, p)
            torch.testing.assert_close(got[:, :, t], s)


def test_the_readout_starts_with_a_memory_of_a_whole_sequence_and_hidden_layers_with_a_short_one():
    """A readout driven for one step and then left alone keeps about 1/e of its charge after ~55 steps
    (membrane gate sigmoid(-4)); a hidden layer's membrane gate starts near sigmoid(-2) (~8 steps)."""
    torch.manual_seed(0)
    readout, hidden = LTCReadout(4, 2000, quantized=False), LTCRecurrent(4, 2000, quantized=False)
    assert abs(readout.mem_gate_bias.mean().item() + 4.0) < 0.05
    assert abs(hidden.mem_gate_bias.mean().item() + 2.0) < 0.05
    with torch.no_grad():
        readout.weight.fill_(1.0)
        readout.mem_gate_i.zero_()
        readout.mem_gate_u.zero_()
        x = torch.zeros(1, 4, 56)
        x[:, :, 0] = 1.0
        u = readout(x)[0]
    kept = (u[:, 55] / u[:, 0]).median().item()
    assert 0.25 < kept < 0.45  # (1 - sigmoid(-4))**55 = 0.37


def test_the_readout_memory_is_a_network_setting_refused_for_other_models():
    from lava_fptt.models.network import NetworkConfig, build_network

    torch.manual_seed(0)
    net = build_network(NetworkConfig(sizes=(4, 8, 1000), model="ltc", readout_gate_bias=-2.0))
    readout = [m for m in net.modules() if isinstance(m, LTCReadout)][0]
    assert abs(readout.mem_gate_bias.mean().item() + 2.0) < 0.05
    with pytest.raises(ValueError, match="readout_gate_bias is an LTC readout's setting"):
        NetworkConfig(sizes=(4, 8, 10), model="cuba", readout_gate_bias=-2.0)
    with pytest.raises(ValueError, match=r"memory_gate_bias must be in \[-8.0, 8.0\]"):
        LTCReadout(4, 3, memory_gate_bias=9.0)


@pytest.mark.parametrize("quantized", [True, False])
def test_chunks_with_carried_state_equal_one_long_run(quantized):
    torch.manual_seed(6)
    block = LTCRecurrent(8, 6, quantized=quantized)
    with torch.no_grad():
        block.weight.mul_(4.0)
    x = spikes(2, 8, 60, 0.3, seed=7)
    with torch.no_grad():
        whole = block(x)
        block.reset_state()
        parts = torch.cat([block(x[:, :, i:i + 20]) for i in range(0, 60, 20)], dim=-1)
        block.reset_state()
        again = block(x[:, :, :20])
    assert whole.sum() > 0
    torch.testing.assert_close(parts, whole)
    torch.testing.assert_close(again, whole[:, :, :20])


def test_reset_accepts_a_new_batch_size_and_a_carried_state_refuses_one():
    block = LTCDense(4, 3)
    block(spikes(5, 4, 3, 0.5, seed=8))
    with pytest.raises(ValueError, match="reset_state"):
        block(spikes(2, 4, 3, 0.5, seed=9))
    block.reset_state()
    assert block(spikes(2, 4, 3, 0.5, seed=9)).shape == (2, 3, 3)
    with pytest.raises(ValueError, match=r"\[batch, 4, time\]"):
        block(torch.zeros(2, 5, 3))


@pytest.mark.parametrize("quantized", [True, False])
def test_detach_state_cuts_the_graph_between_chunks(quantized):
    torch.manual_seed(10)
    block, readout = LTCRecurrent(8, 6, quantized=quantized), LTCReadout(6, 2, quantized=quantized)
    x = spikes(2, 8, 20, 0.5, seed=11)
    readout(block(x[:, :, :10])).sum().backward()
    block.detach_state()
    readout.detach_state()
    block.zero_grad()
    readout(block(x[:, :, 10:])).sum().backward()  # would raise if the first graph were reached
    assert all(p.grad is not None for p in block.parameters())


@pytest.mark.parametrize("quantized", [True, False])
def test_training_reduces_a_loss_and_reaches_every_parameter(quantized):
    """A few Adam steps fit a readout target through both blocks; every parameter gets gradient."""
    torch.manual_seed(12)
    hidden, readout = LTCRecurrent(10, 16, quantized=quantized), LTCReadout(16, 2, quantized=quantized)
    with torch.no_grad():
        hidden.weight.mul_(4.0)
    x = spikes(8, 10, 30, 0.3, seed=13)
    target = torch.stack([x[:, :5].mean(1), x[:, 5:].mean(1)], dim=1).cumsum(-1) / 10
    params = [*hidden.parameters(), *readout.parameters()]
    optim = torch.optim.Adam(params, lr=0.02)
    losses = []
    for _ in range(40):
        hidden.reset_state()
        readout.reset_state()
        loss = (readout(hidden(x)) - target).pow(2).mean()
        optim.zero_grad()
        loss.backward()
        if not losses:
            grads = {name: p.grad for name, p in [*hidden.named_parameters(), *readout.named_parameters()]}
            assert all(g is not None and g.abs().sum() > 0 for g in grads.values()), \
                [n for n, g in grads.items() if g is None or g.abs().sum() == 0]
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_integer_views_match_the_quantizers_and_saturate_at_the_widths():
    torch.manual_seed(14)
    hidden = LTCRecurrent(12, 10, weight_exp=-2)
    w, _ = hidden.integer_weights()
    np.testing.assert_array_equal(w, quantize_weights(hidden.weight.detach(), -2))
    np.testing.assert_array_equal(hidden.integer_params().adp_gate_bias,
                                  quantize(LTCParams(*(getattr(hidden, f).detach()
                                                       for f in LTCParams._fields))).adp_gate_bias)
    with torch.no_grad():  # far beyond the registers: training saturates, never wraps
        hidden.mem_gate_i.fill_(100.0)
        hidden.weight.fill_(-10.0)
    assert (hidden.integer_params().mem_gate_i == 2047).all()
    assert (hidden.integer_weights()[0] == -256).all()
