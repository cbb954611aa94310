"""``lava-fptt demo``: train -> export -> run in Lava on the built-in digits, printing the three figures."""
from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any

from . import export, run, train
from .common import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="the whole path on digits: train (BPTT, CUBA) -> export -> run in Lava",
                            description="Train a CUBA network with BPTT on the built-in digits data, export it "
                                        "through netx and run it in Lava's fixed-point simulation against torch.")
    parser.add_argument("--out", default="runs/demo", metavar="RUN_DIR", help="run directory (default: runs/demo)")
    parser.add_argument("--epochs", type=positive_int, default=8, help="training epochs (default: 8)")
    parser.add_argument("--samples", type=positive_int, default=200, help="test samples run in Lava (default: 200)")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    common = dict(dataset="digits", data_dir=None, encoding=None, steps=None, json=args.json)
    trained = train.run(argparse.Namespace(**common, model="cuba", algo="bptt", hidden=[128], recurrent=False, epochs=args.epochs,
                                           batch_size=32, lr=3e-3, seed=0, train_limit=None, out=args.out,
                                           no_progress=args.no_progress))
    assert trained is not None  # one process: it is the lead
    exported = export.run(argparse.Namespace(run_dir=args.out, output=None, json=args.json))
    network = pathlib.Path(exported["network"])
    print(f"running {args.samples} test samples in Lava (fixed point)...", file=sys.stderr)
    ran = run.run(argparse.Namespace(**common, network=str(network), samples=args.samples, precision="fixed", parallel=1,
                                     reference=args.out, no_progress=args.no_progress))
    return {"run_dir": trained["run_dir"], "network": str(network), "test_accuracy": trained["test_accuracy"],
            "lava_samples": ran["samples"], "lava_accuracy": ran["accuracy"],
            "reference_accuracy": ran["reference_accuracy"], "spike_match": ran["spike_match"],
            "steps_per_s": ran["steps_per_s"]}
