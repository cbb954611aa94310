"""What every subcommand promises, checked through the real ``lava-fptt`` in a subprocess with
stdout piped: ``--json`` prints exactly one JSON object and nothing else on stdout, bad
input is one line on stderr and exit status 2, a reader that goes away ends the command
quietly, and ``--threads`` sets torch's threads."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import torch

from lava_fptt.cli import build_parser, leaf_parsers, main
from lava_fptt.cli.common import DEFAULT_THREADS, error_message

CLI = [sys.executable, "-m", "lava_fptt.cli"]


def lava_fptt(*argv: str, cwd: pathlib.Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """The command line in a fresh process, stdout and stderr piped (neither is a terminal)."""
    return subprocess.run(CLI + list(argv), capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def one_json_object(stdout: str) -> dict:
    """The single JSON object that is all of ``stdout``."""
    lines = stdout.splitlines()
    assert len(lines) == 1, f"stdout must be one JSON object and nothing else, got {lines}"
    return json.loads(lines[0])


def subcommands() -> list[str]:
    """Every runnable subcommand, as its words after ``lava-fptt`` (e.g. 'bench memory')."""
    return sorted(leaf.prog.split(" ", 1)[1] for leaf in leaf_parsers(build_parser()))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A run directory trained and exported through the command line, with --json and progress on."""
    run = tmp_path_factory.mktemp("contracts") / "run"
    done = lava_fptt("train", "--steps", "8", "--hidden", "16", "--train-limit", "64", "--epochs", "2",
                     "--out", str(run), "--json")
    assert done.returncode == 0, done.stderr
    assert one_json_object(done.stdout)["epochs"] == 2  # the "epoch N" lines went to stderr
    assert "epoch 2: loss" in done.stderr
    assert lava_fptt("export", str(run), "--json").returncode == 0
    return run


@pytest.mark.slow
@pytest.mark.parametrize("argv, key", [
    (["export", "{run}", "--output", "{tmp}/copy.net"], "network"),
    (["run", "{run}/network.net", "--samples", "3", "--reference", "{run}"], "spike_match"),
    (["resources", "{run}/network.net"], "cores"),
    (["learn", "--samples", "40", "--steps-per-sample", "4", "--hidden", "8", "--out", "{tmp}/ssnn"], "accuracy"),
    (["demo", "--epochs", "1", "--samples", "3", "--out", "{tmp}/demo"], "spike_match"),
    (["bench", "memory", "--algos", "bptt", "--steps", "8", "--batch", "2"], "rows"),
], ids=lambda v: v[0] if isinstance(v, list) else None)
def test_every_command_prints_one_json_object(argv: list[str], key: str, trained: pathlib.Path,
                                              tmp_path: pathlib.Path) -> None:
    done = lava_fptt(*[a.format(run=trained, tmp=tmp_path) for a in argv], "--json")
    assert done.returncode == 0, done.stderr
    assert key in one_json_object(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("command", subcommands())
def test_usage_errors_of_every_command_are_one_json_object_and_one_line(command: str) -> None:
    done = lava_fptt(*command.split(), "--no-such-option", "--json")
    assert done.returncode == 2
    error = one_json_object(done.stdout)["error"]
    assert error.endswith(f"(see 'lava-fptt {command} --help')")  # a missing argument, or the unknown option
    assert done.stderr.splitlines() == [f"lava-fptt {command}: error: {error}"]


def test_every_command_has_the_shared_options() -> None:
    for leaf in leaf_parsers(build_parser()):
        assert {"--json", "--threads", "--no-progress"} <= set(leaf._option_string_actions), leaf.prog


def test_threads_default_to_one_and_follow_the_option(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    before = torch.get_num_threads()
    try:
        assert main(["resources", str(tmp_path / "missing.net")]) == 2
        assert torch.get_num_threads() == DEFAULT_THREADS == 1
        assert main(["resources", str(tmp_path / "missing.net"), "--threads", "2"]) == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert main(["resources", "x.net", "--threads", "0"]) == 2
    assert "argument --threads: must be an integer >= 1, got 0" in capsys.readouterr().err


@pytest.mark.slow
def test_a_reader_that_goes_away_ends_the_command_quietly(trained: pathlib.Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written (as after `| head`)
    done = subprocess.run(CLI + ["resources", str(trained / "network.net")], stdout=write, stderr=subprocess.PIPE,
                          text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


@pytest.mark.parametrize("err, message", [
    (KeyError("no 'neuron' group"), "no 'neuron' group"),
    (ValueError("neuron type 'none'"), "neuron type 'none'"),  # a closing quote is kept
    (FileExistsError(17, "File exists", "/tmp/x"), "/tmp/x: File exists"),
    (ValueError("two\nlines"), "two lines"),
])
def test_error_messages_are_one_line(err: BaseException, message: str) -> None:
    assert error_message(err) == message
