"""Which of the sFPTT reference's settings close LTC-FPTT's gap to BPTT: chunk, optimizer, loss schedule.

Trains the recurrent LTC network with FPTT under each variant below (and BPTT as the
anchor) through ``benchmarks/temporal.py`` (same data, network, epochs, cosine learning
rate, seeds), each variant in its own folder ``OUT/<variant>/`` (resumable), and prints
one table of test accuracy per variant:

- ``chunk 1 / adamax / late``: the reference's settings (an update every step, Adamax,
  the loss of step t weighted by t/T);
- ``chunk 8 / adam / late``: this project's former FPTT settings;
- ``bptt``: the offline anchor;
- ``chunk 8 / adamax / late``, ``chunk 8 / adam / flat`` (no late weighting),
  ``chunk 1 / adam / late``: one setting changed at a time;
- ``... / lr 1e-2``: the learning rate (3e-3 elsewhere) for FPTT and BPTT.

Variants run in this order and each row is printed when its runs are done, so a
benchmark stopped early still answers the first questions.

Run: ``python benchmarks/fptt_ablation.py [--epochs 4] [--data-samples 1000] [--seeds 0] [--out DIR]``.
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
VARIANTS: dict[str, tuple[str, list[str]]] = {  # the reference, the former default, the anchor, then one change each
    "chunk 1 / adamax / late": ("ltc-fptt", ["--fptt-chunk", "1", "--fptt-optimizer", "adamax"]),
    "chunk 8 / adam / late": ("ltc-fptt", ["--fptt-chunk", "8", "--fptt-optimizer", "adam"]),
    "bptt": ("ltc-bptt", []),
    "chunk 8 / adamax / late": ("ltc-fptt", ["--fptt-chunk", "8", "--fptt-optimizer", "adamax"]),
    "chunk 8 / adam / flat": ("ltc-fptt", ["--fptt-chunk", "8", "--fptt-optimizer", "adam", "--no-fptt-late-weighting"]),
    "chunk 1 / adam / late": ("ltc-fptt", ["--fptt-chunk", "1", "--fptt-optimizer", "adam"]),
    "chunk 8 / adam / late / lr 1e-2": ("ltc-fptt", ["--fptt-chunk", "8", "--fptt-optimizer", "adam",
                                                     "--fptt-lr", "1e-2"]),
    "bptt / lr 1e-2": ("ltc-bptt", ["--lr", "1e-2"]),
    "chunk 1 / adamax / late / lr 1e-2": ("ltc-fptt", ["--fptt-chunk", "1", "--fptt-optimizer", "adamax",
                                                       "--fptt-lr", "1e-2"]),
    "chunk 1 / adam / late / lr 1e-2": ("ltc-fptt", ["--fptt-chunk", "1", "--fptt-optimizer", "adam",
                                                     "--fptt-lr", "1e-2"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--data-samples", type=int, default=1000, help="mnist1d draw size (default: 1000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--out", default=str(HERE / "results" / "fptt_ablation"))
    args = parser.parse_args()
    common = ["--epochs", str(args.epochs), "--data-samples", str(args.data_samples), "--lr", str(args.lr),
              "--seeds", *map(str, args.seeds)]
    rows = []
    for name, (model, options) in VARIANTS.items():
        folder = pathlib.Path(args.out) / name.replace(" / ", "_").replace(" ", "")
        subprocess.run([sys.executable, str(HERE / "temporal.py"), "--models", model, *common, *options,
                        "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
        with open(folder / "runs.csv", newline="") as f:
            acc = [100 * float(r["test_accuracy"]) for r in csv.DictReader(f) if int(r["epochs"]) == args.epochs]
        rows.append(f"| {name} | {statistics.mean(acc):.1f} | {' / '.join(f'{a:.1f}' for a in acc)} |")
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"mnist1d draw of {args.data_samples}, {args.epochs} epochs, seeds {args.seeds}, lr {args.lr}\n")
    print("| variant | test accuracy % (mean) | per seed |\n|---|---|---|\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
