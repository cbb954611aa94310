"""Data-parallel training: two processes under torchrun (gloo, CPU) stay in step for every method."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
STEPS = 10  # as in ddp_online_worker.py
EXPECTED_ALLREDUCES = {"bptt": 1, "tbptt": 3, "sltt": 1, "sltt-chunk": 1, "sltt-k": 1, "sltt-k-chunk": 1,
                       "fptt": STEPS, "fptt-chunk": 4}


def torchrun(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run(TORCHRUN + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("ddp") / "results.json"
    torchrun([str(ROOT / "tests" / "ddp_online_worker.py"), "--out", str(out)], out.parent)
    return json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("method", list(EXPECTED_ALLREDUCES))
def test_ranks_stay_identical_and_match_one_process_on_the_whole_batch(ddp_results: dict, method: str) -> None:
    result = ddp_results["methods"][method]
    assert ddp_results["world"] == 2
    assert result["moved"] > 1e-3  # training changed the weights
    assert result["params_spread"] == 0.0 and result["grads_spread"] == 0.0
    assert result["params_vs_single"] < 1e-5 and result["grads_vs_single"] < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("method", list(EXPECTED_ALLREDUCES))
def test_gradients_are_reduced_once_per_optimizer_step(ddp_results: dict, method: str) -> None:
    """SLTT and SLTT-K run all backward passes but the last in no_sync(): one all-reduce per batch."""
    assert ddp_results["methods"][method]["allreduces_per_batch"] == EXPECTED_ALLREDUCES[method]


@pytest.mark.slow
def test_cli_trains_data_parallel_under_torchrun(tmp_path: pathlib.Path) -> None:
    run_dir = tmp_path / "run"
    done = torchrun(["-m", "lava_fptt.cli", "train", "--ddp", "--algo", "sltt", "--epochs", "1",
                     "--train-limit", "128", "--batch-size", "32", "--out", str(run_dir), "--json"], tmp_path)
    printed = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1  # rank 0 reports, rank 1 stays quiet
    result = json.loads(printed[0])
    assert result["processes"] == 2 and result["epochs"] == 1
    assert (run_dir / "checkpoint.pt").is_file() and (run_dir / "metrics.json").is_file()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["algo"] == "sltt"
