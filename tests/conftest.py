"""Shared fixtures. Test files have unique names and there is no tests/__init__.py: the Lava
wheels install a top-level package ``tests`` that would otherwise shadow ours."""
from __future__ import annotations

import json
import pathlib
from typing import Any, Callable

import pytest
import torch


@pytest.fixture(scope="session")
def trained_cuba_run(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A small CUBA network trained for one epoch on part of digits (BPTT)."""
    from lava_fptt.data import Encoding
    from lava_fptt.models.network import NetworkConfig
    from lava_fptt.training import TrainConfig, train

    run_dir = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    config = TrainConfig(encoding=Encoding("rate", steps=12), network=NetworkConfig(sizes=(64, 48, 10)),
                         epochs=1, train_limit=512)
    train(config, run_dir, progress=False)
    return run_dir


@pytest.fixture
def export_and_run(capsys: pytest.CaptureFixture[str]) -> Callable[[pathlib.Path, int], dict[str, Any]]:
    """``lava-fptt export RUN_DIR``, then ``lava-fptt run`` of its file on ``samples`` test samples
    against the run (``--reference``): the run command's JSON result."""
    from lava_fptt.cli import main

    def export_then_run(run_dir: pathlib.Path, samples: int) -> dict[str, Any]:
        capsys.readouterr()
        assert main(["export", str(run_dir), "--json"]) == 0
        network = json.loads(capsys.readouterr().out)["network"]
        assert main(["run", network, "--samples", str(samples), "--reference", str(run_dir), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    return export_then_run
