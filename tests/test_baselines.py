"""The GRU / LSTM anchors of the temporal benchmarks: sizes matched to a parameter budget, the LSTM's open forget gates."""
from __future__ import annotations

import pytest
import torch

from lava_fptt.bench.baselines import LSTM_FORGET_BIAS, RecurrentClassifier, matched_hidden, parameter_count


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_matched_hidden_gives_the_nearest_parameter_count(kind: str) -> None:
    budget = 20_648  # the recurrent LTC network 16-128-10
    hidden = matched_hidden(kind, 16, 10, budget)
    counts = {h: parameter_count(RecurrentClassifier(kind, 16, h, 10)) for h in (hidden - 1, hidden, hidden + 1)}
    assert abs(counts[hidden] - budget) == min(abs(c - budget) for c in counts.values())
    assert {"gru": 73, "lstm": 62}[kind] == hidden


def test_lstm_forget_gates_start_open_and_other_gates_keep_torch_initialisation() -> None:
    torch.manual_seed(0)
    rnn = RecurrentClassifier("lstm", 16, 8, 10).rnn
    bias = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()
    assert torch.equal(bias[8:16], torch.full((8,), LSTM_FORGET_BIAS))
    bound = 8 ** -0.5  # torch's uniform(-1/sqrt(H), 1/sqrt(H)) per bias vector
    assert bias[:8].abs().max() <= 2 * bound and bias[16:].abs().max() <= 2 * bound
    gru_bias = RecurrentClassifier("gru", 16, 8, 10).rnn.bias_ih_l0.detach()
    assert gru_bias.abs().max() <= bound
