"""Run every numbered tutorial headless, one after another, each in a fresh process (``make tutorials``).

Each ``tutorials/NN_*.py`` runs as a script with ``tutorials/`` as its working directory
and ``MPLBACKEND=Agg``; it writes its figures to ``tutorials/figures/NN_*.png`` and its
run directories under ``tutorials/runs/NN/`` (both removed first, so nothing is resumed
from an earlier run). A tutorial fails when it exits non-zero (its own asserts), runs
past ``--timeout`` seconds, or writes no figure. Prints the wall time of each and a
summary; exits 1 if any failed.

Run: ``python tools/run_tutorials.py [--only 01 03] [--timeout 300]``.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

TUTORIALS = pathlib.Path(__file__).resolve().parent.parent / "tutorials"


def run_one(script: pathlib.Path, timeout: float) -> tuple[bool, float, list[str], str]:
    """(passed, seconds, figures written, reason) for one tutorial script."""
    number = script.name[:2]
    figures = TUTORIALS / "figures"
    figures.mkdir(exist_ok=True)
    for old in figures.glob(f"{number}_*"):
        old.unlink()
    shutil.rmtree(TUTORIALS / "runs" / number, ignore_errors=True)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    began = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, script.name], cwd=TUTORIALS, env=env, timeout=timeout)
        reason = "" if done.returncode == 0 else f"exit status {done.returncode}"
    except subprocess.TimeoutExpired:
        reason = f"ran past {timeout:.0f} s"
    seconds = time.perf_counter() - began
    written = sorted(str(p.relative_to(TUTORIALS.parent)) for p in figures.glob(f"{number}_*"))
    if not reason and not written:
        reason = "wrote no figure"
    return not reason, seconds, written, reason


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only these tutorials (by number)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per tutorial (default 300)")
    args = parser.parse_args()
    scripts = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.name[:2] in args.only]
    if not scripts:
        print("no tutorials found", file=sys.stderr)
        return 1
    results = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        passed, seconds, written, reason = run_one(script, args.timeout)
        results.append((script.name, passed, seconds, written, reason))
        print(f"=== {script.name}: {'ok' if passed else 'FAILED (' + reason + ')'} in {seconds:.1f} s; "
              f"figures: {', '.join(written) or 'none'}", flush=True)
    print("\ntutorial                               result   seconds")
    for name, passed, seconds, _, reason in results:
        print(f"{name:38s} {'ok' if passed else 'FAILED':8s} {seconds:7.1f}{'  ' + reason if reason else ''}")
    failed = sum(not r[1] for r in results)
    print(f"total {sum(r[2] for r in results):.1f} s; {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
