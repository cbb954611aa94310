"""Peak memory and time of one training pass per method and sequence length, each in a fresh process.

Setting (fixed so rows compare): 3 dense CUBA layers 64-256-256-10, batch 64, random
input spikes (10% per channel and step), Adam (ours: the trainer's, over one flat parameter vector,
:func:`lava_fptt.training.config.make_optimizer`), one training pass over one batch; or,
with ``network="conv"``, the convolutional network :data:`CONV_ARCH` on random 1 x 8 x 8
input images (conv, pool, conv, flatten, dense: slayer CUBA blocks through the online
adapter, the network of tutorial 6). Our
methods run with their defaults (fptt: an update every step; sltt-k: k = 4; sltt and
sltt-k: chunks of 32 steps, or those of ``Settings.params``, see :func:`sltt_chunk`). Rows
``sj-fptt`` and ``sj-sltt`` are SpikingJelly 2.0 on an equivalent LIF network (see
:mod:`.spikingjelly`); without SpikingJelly they are skipped with the reason.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from . import baseline, spikingjelly

OURS = ("bptt", "tbptt", "sltt", "sltt-k", "fptt")
ALGOS = OURS + spikingjelly.KINDS
CONV_ARCH = "conv:8:3,pool:2,conv:16:3"
"""The convolutional benchmark network on 1 x 8 x 8 images (with its dense output layer of 10)."""
CONV_INPUT = (1, 8, 8)
NETWORKS = ("dense", "conv")


@dataclass(frozen=True)
class Settings:
    """What every row shares."""

    sizes: tuple[int, ...] = (64, 256, 256, 10)
    batch: int = 64
    threads: int = 1
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-algo hyperparameters
    network: str = "dense"
    """``"dense"`` (``sizes``) or ``"conv"`` (:data:`CONV_ARCH` on 1 x 8 x 8 images; ours only)."""
    device: str = "cpu"
    """Where every row runs: ``cpu`` or ``cuda[:N]``."""

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise ValueError(f"benchmark network must be one of {', '.join(NETWORKS)}, got {self.network!r}")


def sltt_chunk(chunk: Optional[int]) -> dict[str, dict[str, Any]]:
    """``Settings.params`` giving SLTT and SLTT-K chunks of ``chunk`` steps (None: their default)."""
    return {} if chunk is None else {algo: {"chunk": chunk} for algo in ("sltt", "sltt-k")}


def measure(algo: str, steps: int, settings: Settings, timeout: Optional[float] = None,
            code: Optional[pathlib.Path] = None) -> dict[str, Any]:
    """One row, measured in a fresh Python process (with ``code``: that checkout's ``lava_fptt``)."""
    command = [sys.executable, "-W", "ignore", "-m", "lava_fptt.bench.worker", "--algo", algo,
               "--steps", str(steps), "--batch", str(settings.batch), "--threads", str(settings.threads),
               "--params", json.dumps(settings.params.get(algo, {})), "--network", settings.network,
               "--sizes", *map(str, settings.sizes)]
    if settings.device != "cpu":
        command += ["--device", settings.device]
    env = {**(baseline.environment(code) if code else os.environ), "OMP_NUM_THREADS": str(settings.threads),
           "MKL_NUM_THREADS": str(settings.threads)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=str(code) if code else None)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark {algo} at T={steps} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(algos: list[str], steps: list[int], settings: Settings = Settings(), repeats: int = 1,
        progress: bool = False, old: Optional[tuple[str, pathlib.Path, list[str]]] = None) -> dict[str, Any]:
    """Rows for every (algo, steps); with ``repeats`` > 1 the fastest times and the largest peak.

    ``old`` = (commit, checkout, algos): those of our methods are also measured with the
    checkout's code, in the same run, as rows ``old-<algo>`` (:mod:`.baseline`).
    Returns ``{"rows": [...], "skipped": [{"algo", "reason"}], "settings": {...}}``.
    """
    unknown = sorted(set(algos) - set(ALGOS))
    if unknown:
        raise ValueError(f"unknown benchmark algo {', '.join(unknown)}; choose from {', '.join(ALGOS)}")
    if repeats < 1 or any(t < 1 for t in steps):
        raise ValueError("repeats and steps must be >= 1")
    if settings.network == "conv" and any(a in spikingjelly.KINDS for a in algos):
        raise ValueError("the SpikingJelly rows have a dense network only; leave them out with --network conv")
    reason = spikingjelly.unavailable() if any(a in spikingjelly.KINDS for a in algos) else None
    skipped = [{"algo": a, "reason": reason} for a in algos if a in spikingjelly.KINDS and reason]
    rows = []
    jobs: list[tuple[str, str, Any]] = [(algo, algo, None) for algo in algos]
    if old is not None:
        jobs += [(f"old-{a}", a, old[1]) for a in old[2]]
    for t in steps:
        for label, algo, code in jobs:
            if reason and algo in spikingjelly.KINDS:
                continue
            tries = [measure(algo, t, settings, code=code) for _ in range(repeats)]
            row = {"algo": label, "steps": t, "peak_mb": max(r["peak_mb"] for r in tries),
                   "seconds": min(r["seconds"] for r in tries), "cpu_seconds": min(r["cpu_seconds"] for r in tries)}
            rows.append(row)
            if progress:
                print(f"{algo:>8} T={t:<5} peak {row['peak_mb']:8.1f} MB  {row['seconds']:8.2f} s "
                      f"(cpu {row['cpu_seconds']:.2f} s)", file=sys.stderr)
    return {"rows": rows, "skipped": skipped,
            "settings": {"sizes": list(settings.sizes), "batch": settings.batch, "threads": settings.threads,
                         "repeats": repeats, "params": settings.params, "network": settings.network,
                         "device": settings.device, **({"old": old[0]} if old else {}),
                         **({"arch": CONV_ARCH, "input": list(CONV_INPUT)} if settings.network == "conv" else {})}}


def growth(result: dict[str, Any]) -> dict[str, Any]:
    """How each method's peak grows from the shortest to the longest T of ``result``, against BPTT.

    Returns ``{"steps": (low, high), "rows": [{"algo", "low_mb", "high_mb", "growth_mb",
    "of_bptt_growth"}], "bptt_over_fptt": peak ratio at the longest T}`` (ratios None
    where a row is missing).
    """
    rows = result["rows"]
    steps = sorted({r["steps"] for r in rows})
    low, high = steps[0], steps[-1]

    def peak(algo: str, t: int) -> Optional[float]:
        return next((r["peak_mb"] for r in rows if r["algo"] == algo and r["steps"] == t), None)

    def grown(algo: str) -> Optional[float]:
        a, b = peak(algo, low), peak(algo, high)
        return None if a is None or b is None else b - a

    bptt = grown("bptt")
    out = []
    for algo in dict.fromkeys(r["algo"] for r in rows):
        g = grown(algo)
        out.append({"algo": algo, "low_mb": peak(algo, low), "high_mb": peak(algo, high), "growth_mb": g,
                    "of_bptt_growth": None if g is None or not bptt else g / bptt})
    bptt_high, fptt_high = peak("bptt", high), peak("fptt", high)
    return {"steps": (low, high), "rows": out,
            "bptt_over_fptt": None if bptt_high is None or not fptt_high else bptt_high / fptt_high}


def growth_lines(result: dict[str, Any]) -> list[str]:
    """:func:`growth` as lines of text."""
    summary = growth(result)
    low, high = summary["steps"]
    lines = []
    for row in summary["rows"]:
        if row["growth_mb"] is None:
            continue
        share = "" if row["of_bptt_growth"] is None else f" = {100 * row['of_bptt_growth']:.1f} % of BPTT's growth"
        lines.append(f"{row['algo']}: peak {row['low_mb']:.1f} MB at T={low} -> {row['high_mb']:.1f} MB at "
                     f"T={high}, growth {row['growth_mb']:+.1f} MB{share}")
    if summary["bptt_over_fptt"] is not None:
        lines.append(f"BPTT peak / FPTT peak at T={high}: {summary['bptt_over_fptt']:.1f}x")
    return lines
