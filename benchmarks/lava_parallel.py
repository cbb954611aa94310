"""Lava at test-set scale: ``run_in_lava(parallel=K)`` beside ``parallel=1`` on the same samples, in one run.

    python benchmarks/lava_parallel.py RUN/network.net [--samples 200] [--parallel 32 64] [--repeats 3]

Loads the test samples exactly as ``lava-fptt run NETWORK`` does (the encoding and draw
stored in the file), runs them once one sample at a time and once per K with K copies
of the network side by side (:func:`netx_export.inference.run_in_lava`), and prints per
K: steps and samples per second (the first step, which compiles the network and starts
Lava, left out and given as ``start_s``), the accuracy, the spike match against K = 1
(:func:`netx_export.inference.spike_match`) and the samples whose every output spike is
the same, samples per second over K = 1's, and the whole run's seconds (start included).
With ``--repeats N`` the Ks run in turn N times and each K's fastest run is kept (on a
shared machine one short run can lose half its speed to a neighbour); every run's
output is compared with K = 1's. Results:
``benchmarks/results/lava_parallel.{md,json}``.
"""
from __future__ import annotations

import argparse
import pathlib
from typing import Any

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def main() -> None:
    from lava_fptt.bench import results
    from lava_fptt.cli.common import add_data
    from lava_fptt.cli.run import accuracy, draw_for, encoding_for
    from lava_fptt.data import load_dataset
    from netx_export import describe
    from netx_export.inference import run_in_lava, spike_match

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("network", metavar="NETWORK", help="a netx HDF5 file of a dense network")
    add_data(parser)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--parallel", type=int, nargs="+", default=[32], metavar="K")
    parser.add_argument("--precision", choices=("fixed", "float"), default="fixed")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per K, taken in turn; each K's fastest is kept (the machine is shared)")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()
    summary = describe(args.network)
    data = load_dataset(args.dataset, "test", args.data_dir, encoding_for(args, summary),
                        **draw_for(args, summary.metadata))
    index = np.arange(min(args.samples, len(data)))
    inputs, labels = data.spikes(index), data.labels[index]
    kind = "readout" if summary.graded_output else "spikes"

    ks = [1] + [k for k in args.parallel if k != 1]
    best: dict[int, Any] = {}
    identical = {k: True for k in ks}
    alone = None
    for _ in range(args.repeats):  # K = 1, then each K, in turn: every K sees the same spells of load
        for k in ks:
            result = run_in_lava(args.network, inputs, args.precision, parallel=k)
            alone = alone if alone is not None else result.output
            identical[k] &= bool(np.array_equal(result.output, alone))
            if k not in best or result.steps_per_s > best[k].steps_per_s:
                best[k] = result
    rows: list[dict[str, Any]] = []
    for k in ks:
        result = best[k]
        same = [bool(np.array_equal(a, b)) for a, b in zip(result.output, alone)]
        seconds = result.start_s + (result.total_steps - 1) / result.steps_per_s  # the whole run, start included
        rows.append({"parallel": k, "lava_steps": result.total_steps, "steps_per_s": round(result.steps_per_s, 1),
                     "samples_per_s": round(result.samples_per_s, 2), "start_s": round(result.start_s, 2),
                     "accuracy": accuracy(result.output, labels, kind),
                     "spike_match_vs_1": spike_match(result.output, alone),
                     "identical_samples": sum(same), "every_run_identical": identical[k],
                     "samples_per_s_over_1": round(result.samples_per_s / best[1].samples_per_s, 2),
                     "run_s": round(seconds, 2)})
    lines = [f"{summary.path.name}: {len(index)} {args.dataset} test samples, {args.precision} point, "
             f"{inputs.shape[-1]} steps each, fastest of {args.repeats} runs per K", "",
             "| K | Lava steps | steps/s | samples/s | start s | accuracy | spike match vs K=1 | identical samples "
             "| every run identical | samples/s over K=1 | whole run s (start included) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['parallel']} | {r['lava_steps']} | {r['steps_per_s']} | {r['samples_per_s']} | {r['start_s']} | "
              f"{r['accuracy']:.3f} | {r['spike_match_vs_1']:.4f} | {r['identical_samples']}/{len(index)} | "
              f"{'yes' if r['every_run_identical'] else 'NO'} | "
              f"{r['samples_per_s_over_1']:.2f}x | {r['run_s']} |" for r in rows]
    text = "\n".join(lines) + "\n"
    results.write(args.out, "lava_parallel", text, rows)


if __name__ == "__main__":
    main()
