"""FPTT's reference options: the optimizer choice and the command line's defaults for --algo fptt."""
from __future__ import annotations

import argparse

import pytest
import torch

from lava_fptt.cli import train as train_cli
from lava_fptt.training import TrainConfig
from lava_fptt.training.config import make_optimizer


def test_optimizers_by_name_are_torch_ones_over_one_flat_vector() -> None:
    params = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2, 2))]
    adamax = make_optimizer("adamax", params, 0.01)
    assert isinstance(adamax, torch.optim.Adamax) and adamax.defaults["lr"] == 0.01
    assert [p.numel() for p in adamax.param_groups[0]["params"]] == [7]
    assert isinstance(make_optimizer("adam", params, 0.01), torch.optim.Adam)
    mixed = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3, dtype=torch.float64))]
    fallback = make_optimizer("adam", mixed, 0.01)  # cannot share one vector: torch's multi-tensor Adam
    assert fallback.defaults["foreach"] is True and len(fallback.param_groups[0]["params"]) == 2
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer("sgd", params, 0.01)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="sgd")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_cli.add_parser(parser.add_subparsers())
    return parser.parse_args(["train", "--out", "unused", *argv])


def config_of(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> TrainConfig:
    """The TrainConfig the command would train, without training."""
    seen = {}
    monkeypatch.setattr(train_cli, "train", lambda config, out, progress, **_: seen.setdefault("config", config))
    train_cli.run(parse(argv))
    return seen["config"]


def test_fptt_defaults_to_the_measured_best_and_options_override_them(monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_of(["--algo", "fptt"], monkeypatch)
    assert (config.optimizer, config.algo_params["chunk"], config.lr, config.batch_size) == ("adam", 8, 3e-3, 8)
    config = config_of(["--algo", "fptt", "--optimizer", "adamax", "--chunk", "1", "--lr", "0.01",
                        "--batch-size", "64"], monkeypatch)
    assert (config.optimizer, config.algo_params["chunk"], config.lr, config.batch_size) == ("adamax", 1, 0.01, 64)
    config = config_of(["--algo", "bptt"], monkeypatch)
    assert (config.optimizer, config.algo_params, config.lr, config.batch_size) == ("adam", {}, train_cli.DEFAULT_LR, 32)


def test_the_readout_memory_option_reaches_the_network_config(monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_of(["--model", "ltc", "--recurrent", "--readout-gate-bias", "-2"], monkeypatch)
    assert config.network.readout_gate_bias == -2.0
    assert config_of(["--model", "ltc"], monkeypatch).network.readout_gate_bias is None  # the block's default
