"""Steps per second of the SSNN-BP reference simulator at MNIST size, and its weights, old code beside new.

    python benchmarks/ssnn_reference_speed.py [--baseline COMMIT] [--samples 100] [--batch 1] [--repeats 5]

784-128-10, T = 16, one stream (batch 1: the chip's own schedule) over ``--samples``
MNIST-sized samples (random intensities on 20 % of the pixels, seeded), one process per
measurement, one thread. With ``--baseline`` the code of COMMIT (a temporary git worktree)
is measured beside this tree ``--repeats`` times, old and new interleaved (their order
alternating from one repeat to the next) so that both see the same load on a shared
machine. Each process reports the CPU seconds and wall seconds of the run alone (after a
warm-up run of two samples, which loads or compiles what the code compiles); the table gives
steps per CPU second and per wall second of each, every repeat's ratio, their median and
minimum, and whether the weights after the same samples are bit-identical (SHA-256 of the
int64 weights). Results: ``benchmarks/results/ssnn_reference_speed.{md,json}``.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from typing import Any, Optional

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SIZES = (784, 128, 10)
STEPS_PER_SAMPLE = 16


def worker(samples: int, batch: int) -> dict[str, Any]:
    """One measurement with whatever ``lava_fptt`` this process imports."""
    import numpy as np
    import torch

    from lava_fptt.onchip.config import SsnnConfig, initial_weights
    try:
        from lava_fptt.neurons.ssnn import quantize_probability
    except ImportError:  # code older than 2a70302 kept it beside the config
        from lava_fptt.onchip.config import quantize_probability  # type: ignore[attr-defined,no-redef]
    from lava_fptt.onchip.reference import ReferenceNetwork, make_streams

    torch.set_num_threads(1)
    rng = np.random.default_rng(15)
    x = rng.random((samples, SIZES[0])) * (rng.random((samples, SIZES[0])) < 0.2)
    y = rng.integers(0, SIZES[2], samples)
    config = SsnnConfig(n_in=SIZES[0], n_hidden=SIZES[1], n_out=SIZES[2], steps_per_sample=STEPS_PER_SAMPLE,
                        error_prob=1 << 14, seed=7)
    orders = np.stack([rng.permutation(samples) for _ in range(batch)])
    streams = make_streams(quantize_probability(x), y, orders, "cpu")
    began = time.perf_counter()  # warm-up: whatever the code compiles or loads on first use
    ReferenceNetwork(config, *initial_weights(config), streams).run(2 * STEPS_PER_SAMPLE)
    warmup = time.perf_counter() - began
    network = ReferenceNetwork(config, *initial_weights(config), streams)
    steps = samples * STEPS_PER_SAMPLE
    began, began_cpu = time.perf_counter(), time.process_time()
    network.run(steps)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - began_cpu
    w1, w2 = network.weights()
    digest = hashlib.sha256(np.asarray(w1, np.int64).tobytes() + np.asarray(w2, np.int64).tobytes()).hexdigest()
    return {"steps": steps, "seconds": round(seconds, 4), "cpu_seconds": round(cpu_seconds, 4),
            "steps_per_s": round(steps / seconds, 1), "cpu_steps_per_s": round(steps / cpu_seconds, 1),
            "warmup_seconds": round(warmup, 3), "weights_sha256": digest}


def measure(samples: int, batch: int, code: Optional[pathlib.Path]) -> dict[str, Any]:
    """:func:`worker` in a fresh process, importing ``lava_fptt`` from ``code`` (None: this tree)."""
    from lava_fptt.bench import baseline

    env = {**(baseline.environment(code) if code else os.environ), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-W", "ignore", __file__, "--worker", "--samples", str(samples),
                           "--batch", str(batch)], capture_output=True, text=True, env=env,
                          cwd=str(code) if code else None)
    if done.returncode != 0:
        raise RuntimeError(f"measurement failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(samples: int, batch: int, repeats: list[dict[str, Any]], load: tuple[float, float]) -> str:
    """The Markdown table of the repeats (old beside new when there is a baseline) and its summary."""
    head = (f"SSNN-BP reference, {'-'.join(map(str, SIZES))}, T={STEPS_PER_SAMPLE}, batch {batch}, {samples} samples "
            f"({samples * STEPS_PER_SAMPLE} steps), 1 thread; load average {load[0]:.2f} before, {load[1]:.2f} after")
    if "old" not in repeats[0]:
        lines = [head, "", "| repeat | steps per CPU second | steps per second | warm-up s | weights (SHA-256) |",
                 "|---|---|---|---|---|"]
        lines += [f"| {i + 1} | {r['new']['cpu_steps_per_s']} | {r['new']['steps_per_s']} | "
                  f"{r['new']['warmup_seconds']} | {r['new']['weights_sha256'][:16]} |" for i, r in enumerate(repeats)]
        return "\n".join(lines) + "\n"
    lines = [head, "", f"old: {repeats[0]['old_code']}; new: this tree", "",
             "| repeat | old steps/CPU s | new steps/CPU s | new / old (CPU) | old steps/s | new steps/s | "
             "new / old (wall) | weights bit-identical |", "|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(repeats):
        old, new = r["old"], r["new"]
        lines.append(f"| {i + 1} | {old['cpu_steps_per_s']} | {new['cpu_steps_per_s']} | {r['cpu_ratio']:.2f}x | "
                     f"{old['steps_per_s']} | {new['steps_per_s']} | {r['wall_ratio']:.2f}x | {r['identical']} |")
    cpu = [r["cpu_ratio"] for r in repeats]
    wall = [r["wall_ratio"] for r in repeats]
    lines += ["", f"- new / old per CPU second: median {statistics.median(cpu):.2f}x, minimum {min(cpu):.2f}x "
                  f"(per wall second: median {statistics.median(wall):.2f}x, minimum {min(wall):.2f}x)",
              f"- weights bit-identical in every repeat: {all(r['identical'] for r in repeats)}",
              f"- new code's warm-up (first {2 * STEPS_PER_SAMPLE} steps, compiled-loop load or compile included): "
              f"{', '.join(str(r['new']['warmup_seconds']) for r in repeats)} s"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="measurements of each code, interleaved")
    parser.add_argument("--baseline", metavar="COMMIT", help="also measure the code of COMMIT, in the same run")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.samples, args.batch)))
        return
    if min(args.samples, args.batch, args.repeats) < 1:
        parser.error("--samples, --batch and --repeats must be at least 1")
    from lava_fptt.bench import baseline, results

    load_before = os.getloadavg()[0]
    repeats: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(baseline.checkout(args.baseline)) if args.baseline else None
        for i in range(args.repeats):
            if old is None:
                repeats.append({"new": measure(args.samples, args.batch, None)})
                continue
            first_old = i % 2 == 0  # alternate which code goes first
            codes = (old, None) if first_old else (None, old)
            measured = [measure(args.samples, args.batch, code) for code in codes]
            o, n = measured if first_old else measured[::-1]
            repeats.append({"old_code": baseline.describe(args.baseline), "old": o, "new": n,
                            "cpu_ratio": n["cpu_steps_per_s"] / o["cpu_steps_per_s"],
                            "wall_ratio": n["steps_per_s"] / o["steps_per_s"],
                            "identical": o["weights_sha256"] == n["weights_sha256"]})
            print(f"repeat {i + 1}/{args.repeats}: new / old {repeats[-1]['cpu_ratio']:.2f}x per CPU second",
                  file=sys.stderr)
    load = (load_before, os.getloadavg()[0])
    results.write(args.out, "ssnn_reference_speed", _table(args.samples, args.batch, repeats, load),
                  {"samples": args.samples, "batch": args.batch, "load_average": load, "repeats": repeats})


if __name__ == "__main__":
    main()
