"""The probes of a tester's hardening pass (issue 10), through the real ``lava-fptt`` in a subprocess
with stdout piped: every bad input is one line naming the problem and exit status 2 (one
JSON object under ``--json``), nothing runs on a corrupt network, no NaN is trained,
exported or run, and no work is lost or blocked by a refused or repeated command.
(Killed Lava runs: test_lava_kill.py; what every subcommand prints: test_cli_contracts.py.)"""
from __future__ import annotations

import gzip
import json
import os
import pathlib
import resource
import shutil
import signal
import subprocess
import sys
import time
from typing import Callable

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.cli import main
from lava_fptt.onchip.storage import load_network as load_ssnn
from lava_fptt.training import load_run
from netx_export import export_network

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "lava_fptt.cli"]
TINY = ["--steps", "8", "--hidden", "16", "--train-limit", "64", "--no-progress"]


def lava_fptt(*argv: str, preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(argv), capture_output=True, text=True, timeout=600, preexec_fn=preexec_fn,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def refused(done: subprocess.CompletedProcess, message: str) -> None:
    """Exit 2, stderr one line ``lava-fptt CMD: error: ...message...``, stdout the same as JSON."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and ": error: " in lines[0], lines
    assert message in lines[0], lines[0]
    assert json.loads(done.stdout) == {"error": lines[0].split(": error: ", 1)[1]}


@pytest.fixture(scope="module")
def network(trained_cuba_run: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("net") / "network.net"
    assert main(["export", str(trained_cuba_run), "--output", str(path), "--json"]) == 0
    return path


def edited(network: pathlib.Path, folder: pathlib.Path, edit: Callable[[h5py.File], None]) -> pathlib.Path:
    copy = folder / "edited.net"
    shutil.copy(network, copy)
    with h5py.File(copy, "a") as f:
        edit(f)
    return copy


def replace(key: str, value: object) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f[key]
        f[key] = value
    return edit


def weight(value: float) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        w = f["layer/1/weight"][()]
        w[0, 0] = value
        replace("layer/1/weight", w)(f)
    return edit


def narrower(f: h5py.File) -> None:
    replace("layer/1/weight", f["layer/1/weight"][()][:, :20])(f)
    replace("layer/1/inFeatures", 20)(f)


L1 = "layer 1: "
CORRUPT_NETWORKS = {
    "NaN weight": (weight(np.nan), L1 + "weight holds NaN or infinite values"),
    "1e9 weight": (weight(1e9), L1 + "weight must be in [-256, 254], holds values in [-"),
    "vThMant -80": (replace("layer/1/neuron/vThMant", -80), L1 + "neuron/vThMant must be in [1, 131071], is -80"),
    "vThMant 0": (replace("layer/1/neuron/vThMant", 0), L1 + "neuron/vThMant must be in [1, 131071], is 0"),
    "vThMant 2**40": (replace("layer/1/neuron/vThMant", 2 ** 40),
                      L1 + "neuron/vThMant must be in [1, 131071], is 1099511627776"),
    "vThMant 2**18": (replace("layer/1/neuron/vThMant", 2 ** 18),  # above a graded readout's 2**18 - 1
                      L1 + "neuron/vThMant must be in [1, 131071], is 262144"),
    "iDecay 5000": (replace("layer/1/neuron/iDecay", 5000), L1 + "neuron/iDecay must be in [0, 4096], is 5000"),
    "vDecay -5": (replace("layer/1/neuron/vDecay", -5), L1 + "neuron/vDecay must be in [0, 4096], is -5"),
    "no vDecay": (lambda f: f.__delitem__("layer/1/neuron/vDecay"), L1 + "CUBA neuron lacks neuron/vDecay"),
    "unknown neuron": (replace("layer/1/neuron/type", "FOO"), L1 + "unknown neuron type 'FOO'"),
    "narrower weight": (narrower, "layer 1 takes 20 inputs, but the layer before gives 48"),
    "3-D weight": (lambda f: replace("layer/1/weight", f["layer/1/weight"][()].reshape(10, 6, 8))(f),
                   L1 + "weight has shape (10, 6, 8); a dense layer's weight is [out, in]"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_NETWORKS))
def test_item2_corrupt_cuba_networks_are_refused_by_run_and_resources(
        case: str, network: pathlib.Path, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    edit, message = CORRUPT_NETWORKS[case]
    path = edited(network, tmp_path, edit)
    refused(lava_fptt("run", str(path), "--samples", "5", "--json"), f"{path}: {message}")
    assert main(["resources", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lava-fptt resources: error: {path}: {message}")


def test_item2_a_layer_without_neurons_is_refused_by_run(network: pathlib.Path, tmp_path: pathlib.Path) -> None:
    path = edited(network, tmp_path, lambda f: f.__delitem__("layer/1/neuron"))
    refused(lava_fptt("run", str(path), "--json"), f"{path}: layer 1 (dense) has no neuron group; netx would build "
                                                   "a non-spiking integrator in its place")


@pytest.mark.parametrize("argv, message", [
    (["--lr", "inf"], "argument --lr: must be a finite number, got inf"),
    (["--loss-gain", "nan"], "argument --loss-gain: must be a finite number, got nan"),
    (["--model", "ltc", "--reset-frac", "5"], "reset_frac (the fraction of the membrane a spike removes) must be "
                                              "in [0, 1], got 5.0"),
])
def test_item3_non_finite_or_out_of_range_training_options_are_refused(
        argv: list[str], message: str, tmp_path: pathlib.Path) -> None:
    refused(lava_fptt("train", *TINY, *argv, "--out", str(tmp_path / "run"), "--json"), message)
    assert not (tmp_path / "run").exists()


def test_item3_a_diverging_run_stops_before_saving_and_nan_is_never_exported(
        trained_cuba_run: pathlib.Path, tmp_path: pathlib.Path) -> None:
    run = tmp_path / "run"  # FPTT's regularizer overflows float32 at this alpha: NaN gradients
    refused(lava_fptt("train", *TINY, "--algo", "fptt", "--alpha", "1e300", "--epochs", "2", "--out", str(run),
                      "--json"), "epoch 1: training diverged (mean loss ")
    assert not (run / "checkpoint.pt").exists() and not list(run.glob(".*.tmp"))
    _, model, _ = load_run(trained_cuba_run)
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite parameters .* nothing exported"):
        export_network(model, tmp_path / "nan.net")
    assert not list(tmp_path.glob("*.net")) and not list(tmp_path.glob(".*.tmp"))


def test_item4_learn_checks_its_output_before_learning(tmp_path: pathlib.Path) -> None:
    in_the_way = tmp_path / "file"
    in_the_way.write_text("")
    refused(lava_fptt("learn", "--epochs", "50", "--out", str(in_the_way), "--json"),
            f"{in_the_way}: exists and is not a directory")


def test_item4_learn_keeps_a_checkpoint_when_interrupted(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "ssnn"
    process = subprocess.Popen(CLI + ["learn", "--epochs", "50", "--hidden", "16", "--steps-per-sample", "4",
                                      "--out", str(out), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 300
        while not (out / "network.npz").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143 and json.loads(stdout) == {"error": "terminated (SIGTERM); stopped cleanly"}
    config, w1, _ = load_ssnn(out / "network.npz")  # the weights learned so far, whole
    assert config.n_hidden == 16 and w1.shape == (16, 64)
    assert not list(out.glob(".*.tmp"))
    done = lava_fptt("learn", "--samples", "20", "--steps-per-sample", "4", "--init", str(out / "network.npz"),
                     "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["config"]["n_hidden"] == 16


def test_item4_run_directories_are_never_mixed_or_blocked(tmp_path: pathlib.Path) -> None:
    run = str(tmp_path / "run")
    refused(lava_fptt("train", *TINY, "--train-limit", "0", "--out", run, "--json"),
            "train_limit must be >= 1 (or None for all samples), got 0")
    assert not (tmp_path / "run").exists()  # nothing written: the corrected rerun is not blocked
    assert lava_fptt("train", *TINY, "--epochs", "1", "--out", run, "--json").returncode == 0
    refused(lava_fptt("train", *TINY, "--epochs", "1", "--lr", "0.1", "--out", run, "--json"),
            f"{run}: holds a run with a different config (lr 0.003 there, 0.1 now); rerun with its options")
    refused(lava_fptt("train", *TINY, "--epochs", "3", "--lr-schedule", "cosine", "--out", run, "--json"),
            "lr_schedule 'constant' there, 'cosine' now")
    stale = tmp_path / "run" / ".checkpoint.pt.killed.tmp"  # as a write killed with SIGKILL leaves it
    stale.write_bytes(b"half")
    more = lava_fptt("train", *TINY, "--epochs", "2", "--out", run, "--json")
    assert more.returncode == 0 and f"resuming {run} after epoch 1 of 2" in more.stderr
    assert not stale.exists()
    fresh = lava_fptt("train", *TINY, "--epochs", "2", "--out", str(tmp_path / "fresh"), "--json")
    resumed_metrics, fresh_metrics = (json.loads((tmp_path / name / "metrics.json").read_text())
                                      for name in ("run", "fresh"))
    assert fresh.returncode == 0
    assert [{k: v for k, v in m.items() if k != "seconds"} for m in resumed_metrics] == \
        [{k: v for k, v in m.items() if k != "seconds"} for m in fresh_metrics]  # the same run, not a mixed one
    refused(lava_fptt("train", *TINY, "--epochs", "1", "--out", run, "--json"),
            f"{run}: 2 epochs are done already, more than --epochs 1")


def test_item4_more_epochs_do_not_stretch_a_cosine_schedule(tmp_path: pathlib.Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    cosine = ["train", *TINY, "--lr-schedule", "cosine", "--out", str(run)]
    assert main([*cosine, "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main([*cosine, "--epochs", "2"]) == 2  # epoch 2 would follow a schedule over 2 epochs, epoch 1 over 1
    assert capsys.readouterr().err.splitlines() == [
        f"lava-fptt train: error: {run}: its cosine learning-rate schedule spans 1 epoch; --epochs 2 would continue "
        "under another schedule; choose another --out"]
    assert json.loads((run / "config.json").read_text())["epochs"] == 1


def idx(path: pathlib.Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes (gzip-compressed when the name ends in .gz)."""
    raw = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw += array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def mnist(folder: pathlib.Path, train: tuple[int, ...] = (30, 28, 28), test: tuple[int, ...] = (10, 28, 28),
          gz: bool = False) -> pathlib.Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, shape in (("train", train), ("t10k", test)):
        idx(folder / f"{prefix}-images-idx3-ubyte{'.gz' if gz else ''}", rng.integers(0, 256, shape))
        idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, shape[:1]))
    return folder


def damaged_copy(run: pathlib.Path, copy: pathlib.Path, name: str, data: bytes | None) -> pathlib.Path:
    """A copy of the run directory whose file ``name`` holds ``data`` (None: its first half)."""
    shutil.copytree(run, copy)
    whole = (copy / name).read_bytes()
    (copy / name).write_bytes(whole[: len(whole) // 2] if data is None else data)
    return copy


def full_disk() -> None:
    """In the child: files may grow to 8 KiB only (writes beyond fail with EFBIG, as on a full disk)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_item5_every_failure_is_one_line_and_exit_2(trained_cuba_run: pathlib.Path, network: pathlib.Path,
                                                    tmp_path: pathlib.Path) -> None:
    run = trained_cuba_run
    checkpoint = "checkpoint.pt: not a readable checkpoint (empty, truncated or corrupt: "
    for data, kind in ((b"", "EOFError"), (b"not a checkpoint" * 64, "UnpicklingError"), (None, "")):
        copy = damaged_copy(run, tmp_path / f"checkpoint_{kind or 'truncated'}", "checkpoint.pt", data)
        refused(lava_fptt("export", str(copy), "--json"), f"{copy}/{checkpoint}{kind}")
    copy = damaged_copy(run, tmp_path / "config", "config.json", b'{"dataset": "dig')
    refused(lava_fptt("export", str(copy), "--json"), f"{copy}/config.json: not a valid run config (JSONDecodeError")
    refused(lava_fptt("train", *TINY, "--out", str(network), "--json"), f"{network}: exists and is not a directory")
    refused(lava_fptt("train", *TINY, "--epochs", "1", "--out", str(tmp_path / "full"), "--json",
                      preexec_fn=full_disk), "/full/checkpoint.pt: File too large")
    assert not list((tmp_path / "full").glob(".*.tmp"))

    gz = mnist(tmp_path / "gz", gz=True)
    body = (gz / "train-images-idx3-ubyte.gz").read_bytes()
    (gz / "train-images-idx3-ubyte.gz").write_bytes(body[:10] + b"\xff" * 64 + body[74:])  # a damaged deflate body
    refused(lava_fptt("train", "--dataset", "mnist", "--data-dir", str(gz), "--out", str(tmp_path / "r"), "--json"),
            f"{gz}/train-images-idx3-ubyte.gz: cannot read (Error -3 while decompressing data")
    empty = mnist(tmp_path / "empty", train=(0, 28, 28))
    refused(lava_fptt("train", "--dataset", "mnist", "--data-dir", str(empty), "--out", str(tmp_path / "r"),
                      "--json"), f"{empty}/train-images-idx3-ubyte: holds no images")
    sizes = mnist(tmp_path / "sizes", test=(10, 27, 27))
    refused(lava_fptt("learn", "--dataset", "mnist", "--data-dir", str(sizes), "--json"),
            f"mnist in {sizes}: the train and test splits differ (samples (28, 28) / (27, 27)")
    (tmp_path / "half.npz").write_bytes(b"PK\x03\x04 half a zip")
    refused(lava_fptt("resources", str(tmp_path / "half.npz"), "--json"),
            f"{tmp_path / 'half.npz'}: not an SSNN-BP network file (BadZipFile")
    refused(lava_fptt("run", str(network), "--precision", "float", "--json"),
            "Lava's floating-point model misreads; use precision 'fixed'")  # the closing quote stays
    refused(lava_fptt("run", str(network), "--steps", "0", "--json"), "argument --steps: must be an integer >= 1, got 0")
    refused(lava_fptt("train", *TINY, "--data-dir", str(tmp_path), "--out", str(tmp_path / "r"), "--json"),
            f"digits is built in and reads no data directory; drop --data-dir {tmp_path}")
