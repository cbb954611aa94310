"""Old code beside new in one benchmark run: a temporary checkout of an earlier commit.

Speed claims are made from ratios measured side by side in the same run (the machine's
load changes from hour to hour). :func:`checkout` makes a temporary ``git worktree`` of a
commit of this repository; :func:`environment` and the checkout as working directory make
a subprocess import ``lava_fptt`` from it instead of the installed tree (the environment,
Lava and lava-dl are the same for both).
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import tempfile
from typing import Iterator

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {REPOSITORY}: {done.stderr.strip()}")
    return done.stdout.strip()


@contextlib.contextmanager
def checkout(commit: str) -> Iterator[pathlib.Path]:
    """A temporary worktree of ``commit`` (any name git resolves), removed afterwards."""
    resolved = _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    folder = pathlib.Path(tempfile.mkdtemp(prefix="lava-fptt-baseline-"))
    _git("worktree", "add", "--detach", str(folder), resolved)
    try:
        yield folder
    finally:
        _git("worktree", "remove", "--force", str(folder))


def environment(code: pathlib.Path) -> dict[str, str]:
    """The current environment with ``code``'s ``lava_fptt`` first on the import path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))}


def describe(commit: str) -> str:
    """``commit`` as its short hash and date (for tables)."""
    return _git("log", "-1", "--format=%h (%cs)", commit)
