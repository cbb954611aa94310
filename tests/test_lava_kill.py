"""Killing the command line during a Lava run (``kill``, ``timeout``, a scheduler, ``kill -9``)
leaves no Lava process and no shared-memory segment of that run behind.

Each test starts the real ``lava-fptt`` in a subprocess (stdout piped), waits until Lava's
processes run, notes them and the ``/dev/shm`` segments they map, sends the signal and
then waits a bounded time for every one of them to be gone. SIGTERM is turned into a
clean stop (one-line error, exit 143); after SIGKILL the processes Lava forked die with
their parent (``PR_SET_PDEATHSIG``, :mod:`lava_fptt.runtime`) and Python's resource
tracker unlinks the segments nobody freed.
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import psutil
import pytest

from lava_fptt.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                                   reason="the parent-death binding is Linux's prctl")]
CLI = [sys.executable, "-m", "lava_fptt.cli"]
STARTUP_S = 300.0
"""Seconds allowed for the command to import, compile and start Lava on a busy 2-core machine."""
GONE_S = 30.0
"""Seconds within which the run's processes and segments must be gone after the signal."""


@pytest.fixture(scope="module")
def network(trained_cuba_run: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("kill") / "network.net"
    assert main(["export", str(trained_cuba_run), "--output", str(path), "--json"]) == 0
    return path


def lava_processes(parent: psutil.Process) -> list[psutil.Process]:
    """Lava's processes under ``parent`` once they run (at least an actor, a service and the
    shared-memory manager), after a moment for the run to get going."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if len(parent.children(recursive=True)) >= 3:
            time.sleep(1.0)
            return parent.children(recursive=True)
        time.sleep(0.2)
    raise AssertionError(f"Lava did not start within {STARTUP_S:.0f} s")


def segments_of(processes: list[psutil.Process]) -> set[str]:
    """The /dev/shm files the processes map and that exist."""
    names: set[str] = set()
    for process in processes:
        try:
            names.update(m.path.split(" ")[0] for m in process.memory_maps() if m.path.startswith("/dev/shm/"))
        except psutil.Error:
            continue
    return {name for name in names if os.path.exists(name)}


def leftovers(processes: list[psutil.Process], segments: set[str]) -> tuple[list[int], list[str]]:
    """(pids still running, segments still there), waiting up to :data:`GONE_S` for none."""
    deadline = time.monotonic() + GONE_S
    while True:
        alive = [p.pid for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        left = sorted(s for s in segments if os.path.exists(s))
        if not (alive or left) or time.monotonic() > deadline:
            return alive, left
        time.sleep(0.2)


COMMANDS = {
    "run": lambda net: ["run", str(net), "--samples", "359", "--steps", "100", "--json"],  # minutes of Lava
    "learn --engine lava": lambda net: ["learn", "--engine", "lava", "--samples", "400", "--steps-per-sample", "16",
                                        "--hidden", "32", "--json"],
}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_killed_lava_run_leaves_nothing(command: str, sig: signal.Signals, network: pathlib.Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(CLI + COMMANDS[command](network), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, start_new_session=True)
    try:
        children = lava_processes(psutil.Process(process.pid))
        segments = segments_of(children)
        assert segments, "the run maps no shared memory: nothing to check"
        process.send_signal(sig)
        out, err = process.communicate(timeout=GONE_S)  # would hang if orphans kept the pipes open
    finally:
        if process.poll() is None:
            process.kill()
    alive, left = leftovers(children, segments)
    assert (alive, left) == ([], []), f"left after {sig.name}: processes {alive}, segments {left}"
    if sig == signal.SIGTERM:
        assert process.returncode == 143
        assert json.loads(out) == {"error": "terminated (SIGTERM); stopped cleanly"}
        assert err.decode().strip().splitlines()[-1] == (
            f"lava-fptt {command.split()[0]}: error: terminated (SIGTERM); stopped cleanly")
        assert "Traceback" not in err.decode()
    else:
        assert process.returncode == -signal.SIGKILL and out == b""
