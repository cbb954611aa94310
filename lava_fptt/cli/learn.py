"""``lava-fptt learn``: on-chip learning with SSNN-BP, in Lava or in the reference simulator."""
from __future__ import annotations

import argparse
from typing import Any

from ..data import DATASETS
from .common import add_device, add_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "learn", help="learn on chip with SSNN-BP (spike-based back-propagation)",
        description="Train a two-layer network entirely with spikes (SSNN-BP): stochastic input spikes, "
                    "composite neurons carrying forward activations and positive/negative gradient spikes, "
                    "spike-coincidence weight updates and a winner-take-all softmax output. "
                    "--engine lava runs the bit-accurate Lava processes; --engine reference runs the same "
                    "integer arithmetic as one compiled loop on the CPU, or in torch on CUDA (identical spikes and weights for the same seed), fast enough "
                    "for whole data sets. Also trains the ANN baseline (same architecture, back-prop).")
    parser.add_argument("--dataset", choices=[d for d in DATASETS if d != "shd"], default="digits",
                        help="data set (default: digits; others read from --data-dir)")
    parser.add_argument("--data-dir", help="directory with the IDX files of mnist / fashion-mnist / emnist")
    parser.add_argument("--engine", choices=("lava", "reference"), default="reference",
                        help="lava: Lava fixed-point processes; reference: reference simulator (default)")
    parser.add_argument("--steps-per-sample", type=int, default=16, help="spike-train length T per sample (default: 16)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training samples (default: 1)")
    parser.add_argument("--samples", type=int, help="training samples to use (default: all)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden neurons (default: 128)")
    parser.add_argument("--batch", type=int, default=1,
                        help="reference engine only: independent streams whose updates are summed (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and random generators (default: 0)")
    add_device(parser)
    parser.add_argument("--out", metavar="DIR",
                        help="write network.npz, accuracy.png and result.json here; checked before learning starts, "
                             "and network.npz is rewritten after every evaluation (a checkpoint)")
    parser.add_argument("--init", metavar="NETWORK",
                        help="start from the weights of a network.npz (e.g. the checkpoint of an interrupted run); "
                             "its sizes replace --hidden")
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ..device import resolve_device
    from ..onchip.learn import learn

    device = resolve_device(getattr(args, "device", "cpu"))
    if device.type != "cpu" and args.engine == "lava":
        raise ValueError("--device applies to --engine reference; Lava runs on the CPU")
    result = learn(dataset=args.dataset, data_dir=args.data_dir, engine=args.engine,
                   steps_per_sample=args.steps_per_sample, epochs=args.epochs, samples=args.samples,
                   hidden=args.hidden, seed=args.seed, out_dir=args.out, progress=not args.no_progress,
                   batch=args.batch, init=args.init, device=str(device))
    return result
