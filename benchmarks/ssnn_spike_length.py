"""SSNN-BP accuracy against spike-train length T, with the back-prop ANN as the reference line.

For each T the reference simulator learns the digits training split from the same seeded
initial weights (same epochs, hidden size and per-sample learning rate) and is tested on
the test split; the ANN baseline is the same architecture trained with back-prop for the
same epochs. Prints a table and writes ssnn_spike_length.{csv,md,png} into the output
folder (default benchmarks/results/).

    python benchmarks/ssnn_spike_length.py                      # T = 4 8 16 32 64
    python benchmarks/ssnn_spike_length.py --lengths 8 64 --epochs 5
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import time

import torch

from lava_fptt.onchip.learn import learn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16, help="reference streams whose updates are summed")
    parser.add_argument("--errors-per-sample", type=float, default=16.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rows = []
    for length in args.lengths:
        began = time.perf_counter()
        result = learn(args.dataset, args.data_dir, "reference", steps_per_sample=length, epochs=args.epochs,
                       hidden=args.hidden, seed=args.seed, progress=False, batch=args.batch,
                       errors_per_sample=args.errors_per_sample, evaluations=5)
        rows.append({
            "T": length, "accuracy": result["accuracy"], "ann_baseline": result["ann_baseline_accuracy"],
            "difference": result["accuracy"] - result["ann_baseline_accuracy"],
            "steps_per_s": result["steps_per_s"], "seconds": time.perf_counter() - began,
        })
        row = rows[-1]
        print(f"T={length:4d}  accuracy {100 * row['accuracy']:6.2f}%  ANN {100 * row['ann_baseline']:6.2f}%  "
              f"difference {100 * row['difference']:+6.2f} points  ({row['seconds']:.0f} s)", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / "ssnn_spike_length"
    with open(f"{stem}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [f"SSNN-BP on {args.dataset} (test split), hidden {args.hidden}, {args.epochs} epochs, "
             f"batch {args.batch}, seed {args.seed}", "",
             "| T | SSNN-BP accuracy (%) | ANN baseline (%) | difference (points) |", "|---|---|---|---|"]
    lines += [f"| {r['T']} | {100 * r['accuracy']:.2f} | {100 * r['ann_baseline']:.2f} | "
              f"{100 * r['difference']:+.2f} |" for r in rows]
    pathlib.Path(f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    _plot(rows, pathlib.Path(f"{stem}.png"), args)
    print(f"wrote {stem}.csv, .md, .png")


def _plot(rows: list[dict], path: pathlib.Path, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["T"] for r in rows], [100 * r["accuracy"] for r in rows], "o-", label="SSNN-BP (reference simulator)")
    ax.axhline(100 * rows[-1]["ann_baseline"], color="gray", linestyle="--", label="ANN baseline (back-prop)")
    ax.set_xscale("log", base=2)
    ax.set_xticks([r["T"] for r in rows], [str(r["T"]) for r in rows])
    ax.set_xlabel("spike-train length T (steps per sample)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"SSNN-BP on {args.dataset}: accuracy vs spike-train length")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
