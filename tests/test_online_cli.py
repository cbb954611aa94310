"""``lava-fptt train`` method options: stored in the run's config, refused where they do not apply."""
from __future__ import annotations

import json
import pathlib

import pytest

from lava_fptt.cli import main


def test_method_options_reach_the_config(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "--algo", "fptt", "--chunk", "2", "--alpha", "0.2", "--clip", "0", "--no-late-weighting",
                 "--epochs", "1", "--train-limit", "32", "--out", str(tmp_path / "run"), "--no-progress", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["epochs"] == 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["algo_params"] == {"chunk": 2, "alpha": 0.2, "clip": None, "late_weighting": False}


def test_sltt_k_takes_the_run_seed(tmp_path: pathlib.Path) -> None:
    assert main(["train", "--algo", "sltt-k", "--k", "3", "--seed", "4", "--epochs", "1", "--train-limit", "32",
                 "--out", str(tmp_path / "run"), "--no-progress", "--json"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["algo_params"] == {"k": 3, "seed": 4}


def test_sltt_takes_a_chunk(tmp_path: pathlib.Path) -> None:
    assert main(["train", "--algo", "sltt", "--chunk", "5", "--epochs", "1", "--train-limit", "32",
                 "--out", str(tmp_path / "run"), "--no-progress", "--json"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["algo_params"] == {"chunk": 5}


def test_an_option_of_another_method_is_a_user_error(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["train", "--algo", "sltt", "--clip", "1", "--out", str(tmp_path / "run"), "--json"])
    assert code == 2
    assert "takes no parameter clip" in json.loads(capsys.readouterr().out)["error"]
    assert not (tmp_path / "run").exists()


def test_ddp_outside_torchrun_is_a_user_error(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert main(["train", "--ddp", "--out", str(tmp_path / "run"), "--json"]) == 2
    assert "torchrun" in json.loads(capsys.readouterr().out)["error"]


def test_bench_memory_passes_the_sltt_chunk(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "memory", "--algos", "sltt", "sltt-k", "--steps", "4", "--batch", "2",
                 "--sltt-chunk", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["settings"]["params"] == {"sltt": {"chunk": 2}, "sltt-k": {"chunk": 2}}
    assert [row["algo"] for row in result["rows"]] == ["sltt", "sltt-k"]
