"""On-chip learning in Lava (fixed_pt) against the reference simulator, same seeds.

Learns digits with the Lava processes (one compiled network for the whole stream) and with
the reference simulator at batch 1, checks that both end with identical integer weights, and
prints Lava's test accuracy and learning throughput. Writes ssnn_lava_learning.json and the
Lava run's network and accuracy plot into the output folder (default benchmarks/results/).

    python benchmarks/ssnn_lava_learning.py                  # all 1,438 training samples, T=16
    python benchmarks/ssnn_lava_learning.py --samples 200
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

from lava_fptt.onchip.learn import learn
from lava_fptt.onchip.storage import load_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=None, help="training samples (default: all)")
    parser.add_argument("--steps", type=int, default=16, help="steps per sample T")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(__file__).parent / "results")
    args = parser.parse_args()

    runs = {}
    for engine in ("lava", "reference"):
        runs[engine] = learn("digits", engine=engine, steps_per_sample=args.steps, epochs=args.epochs,
                             samples=args.samples, hidden=args.hidden, seed=args.seed,
                             out_dir=args.out / f"ssnn_lava_learning_{engine}", progress=True, evaluations=5)
    lava_net, reference_net = (load_network(runs[engine]["network"]) for engine in ("lava", "reference"))
    identical = bool(np.array_equal(lava_net[1], reference_net[1]) and np.array_equal(lava_net[2], reference_net[2]))
    lava, reference = runs["lava"], runs["reference"]
    summary = {
        "train_samples_presented": lava["train_samples"] * lava["epochs"], "steps": lava["steps"],
        "identical_weights": identical, "lava_accuracy": lava["accuracy"],
        "reference_accuracy": reference["accuracy"], "ann_baseline_accuracy": lava["ann_baseline_accuracy"],
        "lava_steps_per_s": lava["steps_per_s"], "lava_samples_per_s": lava["samples_per_s"],
        "reference_steps_per_s": reference["steps_per_s"], "reference_samples_per_s": reference["samples_per_s"],
        "config": lava["config"], "lava_curve": lava["curve"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ssnn_lava_learning.json").write_text(json.dumps(summary, indent=2))
    print(f"samples presented {summary['train_samples_presented']}, steps {summary['steps']}, "
          f"identical weights Lava vs reference: {identical}")
    print(f"Lava fixed_pt: test accuracy {100 * lava['accuracy']:.2f}%, {lava['samples_per_s']:.1f} samples/s, "
          f"{lava['steps_per_s']:.0f} steps/s (compile and start-up included)")
    print(f"reference (batch 1): {reference['samples_per_s']:.1f} samples/s, {reference['steps_per_s']:.0f} steps/s; "
          f"ANN baseline {100 * lava['ann_baseline_accuracy']:.2f}%")


if __name__ == "__main__":
    main()
