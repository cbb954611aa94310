"""The lava-fptt command line: one JSON object with --json, clear errors, resumable training."""
from __future__ import annotations

import json
import pathlib

import h5py
import numpy as np
import pytest

from lava_fptt.cli import main
from lava_fptt.training import methods

TRAIN = ["train", "--model", "cuba", "--algo", "bptt", "--dataset", "digits", "--steps", "8",
         "--hidden", "24", "--train-limit", "128", "--no-progress", "--json"]


def run_json(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, f"expected exactly one line of JSON on stdout, got {out}"
    return code, json.loads(out[0])


def test_train_export_run_print_one_json_object_each(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    code, trained = run_json(capsys, TRAIN + ["--epochs", "1", "--out", str(tmp_path / "run")])
    assert code == 0 and trained["run_dir"] == str(tmp_path / "run") and 0.0 <= trained["test_accuracy"] <= 1.0
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"checkpoint.pt", "config.json", "metrics.json",
                                                            "training.png"}
    code, exported = run_json(capsys, ["export", str(tmp_path / "run"), "--json"])
    assert code == 0 and exported["network"] == str(tmp_path / "run" / "network.net")
    code, ran = run_json(capsys, ["run", exported["network"], "--dataset", "digits", "--samples", "10",
                                  "--reference", str(tmp_path / "run"), "--json"])
    assert code == 0 and ran["spike_match"] == 1.0 and ran["accuracy"] == ran["reference_accuracy"]
    assert ran["samples"] == 10 and ran["steps_per_s"] > 0


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = str(tmp_path / "run")
    assert run_json(capsys, TRAIN + ["--epochs", "1", "--out", out])[0] == 0
    first = json.loads((tmp_path / "run" / "metrics.json").read_text())
    calls = {"n": 0}
    original = methods.BPTT.train_batch

    def interrupted(self, *args, **kwargs):  # the user presses Ctrl-C during epoch 2
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(methods.BPTT, "train_batch", interrupted)
    code, error = run_json(capsys, TRAIN + ["--epochs", "2", "--out", out])
    assert code == 130 and error == {"error": "interrupted (Ctrl-C); stopped cleanly"}
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == first  # epoch 1 intact
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setattr(methods.BPTT, "train_batch", original)
    code, resumed = run_json(capsys, TRAIN + ["--epochs", "2", "--out", out])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert code == 0 and resumed["epochs"] == 2 and metrics[0] == first[0] and len(metrics) == 2


def test_resuming_with_a_different_config_is_refused(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    out = str(tmp_path / "run")
    main(TRAIN + ["--epochs", "1", "--out", out])
    capsys.readouterr()
    code, error = run_json(capsys, TRAIN + ["--epochs", "1", "--lr", "0.1", "--out", out])
    assert code == 2 and "different config" in error["error"]


@pytest.mark.parametrize("argv, message", [
    (["export", "/nonexistent/run", "--json"], "/nonexistent/run: run directory not found"),
    (["run", "/nonexistent/net.net", "--json"], "/nonexistent/net.net: network file not found"),
    (["train", "--dataset", "mnist", "--out", "/tmp/x", "--json"], "mnist: needs --data-dir"),
    (["learn", "--steps-per-sample", "0", "--json"], "steps_per_sample"),
])
def test_bad_input_is_one_clear_error(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    code, error = run_json(capsys, argv)
    assert code == 2 and message in error["error"]


def test_run_refuses_a_file_that_is_not_a_network(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    with h5py.File(tmp_path / "weights.h5", "w") as f:
        f["w"] = np.zeros(4)
    code, error = run_json(capsys, ["run", str(tmp_path / "weights.h5"), "--json"])
    assert code == 2 and "not a netx network" in error["error"]


def test_run_refuses_data_of_the_wrong_size(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    main(TRAIN + ["--epochs", "1", "--out", str(tmp_path / "run")])
    main(["export", str(tmp_path / "run"), "--json"])
    capsys.readouterr()
    code, error = run_json(capsys, ["run", str(tmp_path / "run" / "network.net"), "--encoding", "pixel", "--json"])
    assert code == 2 and "takes 64 input channels, the data has 16" in error["error"]
