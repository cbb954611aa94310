"""FPTT's soft-target loss (the sFPTT reference's term for early chunks) and its wiring."""
from __future__ import annotations

import argparse
import math

import pytest
import torch

from lava_fptt.cli import train as train_cli
from lava_fptt.training import LastStepCrossEntropy, TrainConfig, make_method, train
from lava_fptt.training.soft_target import SoftTargetCrossEntropy


def chunk_output(logit_rows: list[list[float]], steps: int = 4) -> torch.Tensor:
    """[B, K, steps] readout whose last step holds the given values (earlier steps zero)."""
    output = torch.zeros(len(logit_rows), len(logit_rows[0]), steps)
    output[..., -1] = torch.tensor(logit_rows)
    return output


def test_last_chunk_is_the_plain_cross_entropy_and_early_ones_mix_in_the_soft_target() -> None:
    loss = SoftTargetCrossEntropy("readout", gain=2.0)
    output, target = chunk_output([[1.0, 0.0, 0.0], [0.0, 0.5, 0.0]]), torch.tensor([0, 2])
    last = loss(output, target, start=6, num_steps=10)
    assert last.item() == pytest.approx(LastStepCrossEntropy(gain=2.0)(output, target, 6, 10).item())
    # first chunk (steps 0-3 of 10): weight 0.4 on the hard target, 0.6 on the soft one, here still uniform
    early = SoftTargetCrossEntropy("readout", gain=2.0)(output, target, start=0, num_steps=10)
    log_p = torch.log_softmax(2.0 * output[..., -1], dim=-1)
    hard = -(log_p[0, 0] + log_p[1, 2]) / 2
    uniform = -log_p.mean(dim=-1).mean()
    assert early.item() == pytest.approx((0.4 * hard + 0.6 * uniform).item(), rel=1e-6)
    # gradients flow through both terms
    output.requires_grad_(True)
    SoftTargetCrossEntropy("readout", gain=2.0)(output, target, 0, 10).backward()
    assert output.grad is not None and output.grad[..., -1].abs().sum() > 0


def test_soft_targets_follow_the_wrong_outputs_of_each_class_per_chunk_end() -> None:
    loss = SoftTargetCrossEntropy("readout", gain=1.0, momentum=0.5)
    # class 0: both samples wrong (argmax 1); class 1: right (not averaged in); class 2 absent
    rows = [[0.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.0, 3.0, 0.0]]
    target = torch.tensor([0, 0, 1])
    loss(chunk_output(rows), target, start=0, num_steps=8)
    table = loss.targets[4].clone()
    probs = torch.softmax(torch.tensor(rows[:2]), dim=-1).mean(dim=0)
    torch.testing.assert_close(table[0], 0.5 * torch.full((3,), 1 / 3) + 0.5 * probs)
    torch.testing.assert_close(table[1:], torch.full((2, 3), 1 / 3))
    assert torch.allclose(table.sum(dim=-1), torch.ones(3))
    assert set(loss.targets) == {4}  # one table per chunk end; the last chunk keeps none
    loss(chunk_output(rows), target, start=4, num_steps=8)
    assert set(loss.targets) == {4}
    # the next batch's early chunk uses the moved table as the target of class 0
    output = chunk_output(rows).requires_grad_(True)
    value = loss(output, target, start=0, num_steps=8)
    log_p = torch.log_softmax(output[..., -1], dim=-1)
    expected = 0.5 * torch.nn.functional.nll_loss(log_p, target) - 0.5 * (table[target] * log_p).sum(-1).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)


def test_bad_soft_target_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="output kind"):
        SoftTargetCrossEntropy("membrane")
    with pytest.raises(ValueError, match="momentum"):
        SoftTargetCrossEntropy(momentum=1.0)


def config_of(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> TrainConfig:
    """The TrainConfig ``lava-fptt train ARGV`` would train, without training."""
    parser = argparse.ArgumentParser()
    train_cli.add_parser(parser.add_subparsers())
    seen = {}
    monkeypatch.setattr(train_cli, "train", lambda config, out, progress, **_: seen.setdefault("config", config))
    train_cli.run(parser.parse_args(["train", "--out", "unused", *argv]))
    return seen["config"]


@pytest.mark.slow  # one short epoch of training (about 10 s)
def test_fptt_trains_with_the_soft_target_from_the_command_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    config = config_of(monkeypatch, ["--algo", "fptt", "--soft-target", "--model", "ltc", "--recurrent", "--hidden", "16",
                        "--encoding", "pixel", "--epochs", "1", "--train-limit", "64", "--optimizer", "adamax",
                        "--batch-size", "32"])
    assert config.algo_params["soft_target"] is True and make_method("fptt", **config.algo_params).soft_target
    assert not make_method("fptt").soft_target
    monkeypatch.undo()
    starts: list[int] = []
    original = SoftTargetCrossEntropy.__call__

    def recorded(self: SoftTargetCrossEntropy, output: torch.Tensor, target: torch.Tensor, start: int,
                 num_steps: int) -> torch.Tensor:
        starts.append(start)
        return original(self, output, target, start, num_steps)

    monkeypatch.setattr(SoftTargetCrossEntropy, "__call__", recorded)
    result = train(config, tmp_path / "run", progress=False)
    assert starts == 2 * list(range(0, 64, 8))  # the loss of every chunk of 8 of the 64 steps, 2 batches of 32
    assert math.isfinite(result["train_accuracy"]) and 0.0 <= result["test_accuracy"] <= 1.0
