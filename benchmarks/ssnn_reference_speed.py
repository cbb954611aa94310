"""Steps per second of the SSNN-BP reference simulator at MNIST size, and its weights, old code beside new.

    python benchmarks/ssnn_reference_speed.py [--baseline COMMIT] [--samples 100] [--batch 1]

784-128-10, T = 16, one stream (batch 1: the chip's own schedule) over ``--samples``
MNIST-sized samples (random intensities on 20 % of the pixels, seeded), one process per
code version, one torch thread. With ``--baseline`` the same run is repeated with the
code of COMMIT (a temporary git worktree); the table gives steps per second of each, the
ratio, and whether the weights after the same samples are bit-identical (SHA-256 of the
int64 weights). Results: ``benchmarks/results/ssnn_reference_speed.{md,json}``.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pathlib
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

    from lava_fptt.neurons.ssnn import quantize_probability

    from lava_fptt.onchip.config import SsnnConfig, initial_weights
    from lava_fptt.onchip.reference import ReferenceNetwork, make_streams

    torch.set_num_threads(1)
    rng = np.random.default_rng(15)
    x = rng.random((samples, SIZES[0])) * (rng.random((samples, SIZES[0])) < 0.2)
    y = rng.integers(0, SIZES[2], samples)
    config = SsnnConfig(n_in=SIZES[0], n_hidden=SIZES[1], n_out=SIZES[2], steps_per_sample=STEPS_PER_SAMPLE,
                        error_prob=1 << 14, seed=7)
    orders = np.stack([rng.permutation(samples) for _ in range(batch)])
    network = ReferenceNetwork(config, *initial_weights(config),
                               make_streams(quantize_probability(x), y, orders, "cpu"))
    steps = samples * STEPS_PER_SAMPLE
    began, began_cpu = time.perf_counter(), time.process_time()
    network.run(steps)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - began_cpu
    w1, w2 = network.weights()
    digest = hashlib.sha256(np.asarray(w1, np.int64).tobytes() + np.asarray(w2, np.int64).tobytes()).hexdigest()
    return {"steps": steps, "seconds": round(seconds, 3), "steps_per_s": round(steps / seconds, 1),
            "cpu_steps_per_s": round(steps / cpu_seconds, 1),
            "weights_sha256": digest}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--baseline", metavar="COMMIT", help="also measure the code of COMMIT, in the same run")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.samples, args.batch)))
        return
    from lava_fptt.bench import baseline, results

    rows = []
    with contextlib.ExitStack() as stack:
        if args.baseline:
            old = stack.enter_context(baseline.checkout(args.baseline))
            rows.append({"code": f"old ({baseline.describe(args.baseline)})", **measure(args.samples, args.batch, old)})
        rows.append({"code": "new (this tree)", **measure(args.samples, args.batch, None)})
    lines = [f"SSNN-BP reference, {'-'.join(map(str, SIZES))}, T={STEPS_PER_SAMPLE}, batch {args.batch}, "
             f"{args.samples} samples, 1 thread", "", "| code | steps | seconds | steps/s | steps per CPU second | weights (SHA-256) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['code']} | {r['steps']} | {r['seconds']} | {r['steps_per_s']} | {r['cpu_steps_per_s']} | "
              f"{r['weights_sha256'][:16]} |" for r in rows]
    if len(rows) == 2:
        lines += ["", f"- new / old steps per second: {rows[1]['steps_per_s'] / rows[0]['steps_per_s']:.2f}x "
                      f"(per CPU second: {rows[1]['cpu_steps_per_s'] / rows[0]['cpu_steps_per_s']:.2f}x)",
                  f"- weights bit-identical: {rows[0]['weights_sha256'] == rows[1]['weights_sha256']}"]
    text = "\n".join(lines) + "\n"
    results.write(args.out, "ssnn_reference_speed", text, rows)


if __name__ == "__main__":
    main()
