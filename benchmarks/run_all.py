"""Run every benchmark script in this folder, one after another, each in its own process.

Each script prints its table and writes its files under ``benchmarks/results/``.
Usage: ``python benchmarks/run_all.py [NAME ...]`` (names without ``.py``; default: all).
"""
from __future__ import annotations

import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).parent


def main(names: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != pathlib.Path(__file__).name)
    if names:
        scripts = [p for p in scripts if p.stem in names]
    status = 0
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        began = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(f"== {script.stem}: exit {code}, {time.perf_counter() - began:.0f} s ==", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
