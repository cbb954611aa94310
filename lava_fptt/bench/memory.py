"""Peak memory and time of one training pass per method and sequence length, each in a fresh process.

Setting (fixed so rows compare): 3 dense CUBA layers 64-256-256-10, batch 64, random
input spikes (10% per channel and step), Adam, one training pass over one batch. Our
methods run with their defaults (fptt: an update every step; sltt-k: k = 4; sltt and
sltt-k: chunks of 32 steps, or those of ``Settings.params``, see :func:`sltt_chunk`). Rows
``sj-fptt`` and ``sj-sltt`` are SpikingJelly 2.0 on an equivalent LIF network (see
:mod:`.spikingjelly`); without SpikingJelly they are skipped with the reason.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from . import spikingjelly

OURS = ("bptt", "tbptt", "sltt", "sltt-k", "fptt")
ALGOS = OURS + spikingjelly.KINDS


@dataclass(frozen=True)
class Settings:
    """What every row shares."""

    sizes: tuple[int, ...] = (64, 256, 256, 10)
    batch: int = 64
    threads: int = 1
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-algo hyperparameters


def sltt_chunk(chunk: Optional[int]) -> dict[str, dict[str, Any]]:
    """``Settings.params`` giving SLTT and SLTT-K chunks of ``chunk`` steps (None: their default)."""
    return {} if chunk is None else {algo: {"chunk": chunk} for algo in ("sltt", "sltt-k")}


def measure(algo: str, steps: int, settings: Settings, timeout: Optional[float] = None) -> dict[str, Any]:
    """One row, measured in a fresh Python process."""
    command = [sys.executable, "-W", "ignore", "-m", "lava_fptt.bench.worker", "--algo", algo,
               "--steps", str(steps), "--batch", str(settings.batch), "--threads", str(settings.threads),
               "--params", json.dumps(settings.params.get(algo, {})), "--sizes", *map(str, settings.sizes)]
    env = {**os.environ, "OMP_NUM_THREADS": str(settings.threads)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark {algo} at T={steps} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(algos: list[str], steps: list[int], settings: Settings = Settings(), repeats: int = 1,
        progress: bool = False) -> dict[str, Any]:
    """Rows for every (algo, steps); with ``repeats`` > 1 the fastest times and the largest peak.

    Returns ``{"rows": [...], "skipped": [{"algo", "reason"}], "settings": {...}}``.
    """
    unknown = sorted(set(algos) - set(ALGOS))
    if unknown:
        raise ValueError(f"unknown benchmark algo {', '.join(unknown)}; choose from {', '.join(ALGOS)}")
    if repeats < 1 or any(t < 1 for t in steps):
        raise ValueError("repeats and steps must be >= 1")
    reason = spikingjelly.unavailable() if any(a in spikingjelly.KINDS for a in algos) else None
    skipped = [{"algo": a, "reason": reason} for a in algos if a in spikingjelly.KINDS and reason]
    rows = []
    for t in steps:
        for algo in algos:
            if reason and algo in spikingjelly.KINDS:
                continue
            tries = [measure(algo, t, settings) for _ in range(repeats)]
            row = {"algo": algo, "steps": t, "peak_mb": max(r["peak_mb"] for r in tries),
                   "seconds": min(r["seconds"] for r in tries), "cpu_seconds": min(r["cpu_seconds"] for r in tries)}
            rows.append(row)
            if progress:
                print(f"{algo:>8} T={t:<5} peak {row['peak_mb']:8.1f} MB  {row['seconds']:8.2f} s "
                      f"(cpu {row['cpu_seconds']:.2f} s)", file=sys.stderr)
    return {"rows": rows, "skipped": skipped,
            "settings": {"sizes": list(settings.sizes), "batch": settings.batch, "threads": settings.threads,
                         "repeats": repeats, "params": settings.params}}
