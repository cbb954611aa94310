"""``lava-fptt run``: run a netx network in Lava's CPU simulation and report accuracy."""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from netx_export import describe
from netx_export.inference import PRECISIONS, run_in_lava, spike_match

from ..data import DEFAULT_ENCODINGS, Encoding, load_dataset
from ..training import load_run
from .common import add_data, add_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run a network file in Lava and report accuracy",
                            description="Build NETWORK as Lava processes and run test samples one after another "
                                        "in Lava's CPU simulation (fixed point by default). With --reference, "
                                        "also run the trained torch model on the same samples and compare "
                                        "output spikes step by step.")
    parser.add_argument("network", metavar="NETWORK", help="a netx HDF5 network file")
    add_data(parser)
    parser.add_argument("--samples", type=int, default=100, help="test samples to run (default: 100)")
    parser.add_argument("--precision", choices=sorted(PRECISIONS), default="fixed",
                        help="fixed: bit-accurate fixed-point models (default); float: floating-point models")
    parser.add_argument("--reference", metavar="RUN_DIR", help="compare with the torch model of this run directory")
    add_json(parser)
    parser.set_defaults(handler=run)


def encoding_for(args: argparse.Namespace, metadata: dict[str, Any]) -> Encoding:
    """The encoding the network was trained with, unless the user names one."""
    if args.encoding or args.steps:
        default = DEFAULT_ENCODINGS[args.dataset]
        return Encoding(args.encoding or default.kind, steps=args.steps or default.steps, levels=default.levels,
                        duration=default.duration)
    if metadata.get("dataset") == args.dataset and "encoding" in metadata:
        return Encoding(**metadata["encoding"])
    return DEFAULT_ENCODINGS[args.dataset]


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.samples < 1:
        raise ValueError(f"--samples must be >= 1, got {args.samples}")
    summary = describe(args.network)
    data = load_dataset(args.dataset, "test", args.data_dir, encoding_for(args, summary.metadata))
    index = np.arange(min(args.samples, len(data)))
    inputs, labels = data.spikes(index), data.labels[index]
    lava = run_in_lava(args.network, inputs, args.precision)
    predictions = lava.spikes.sum(-1).argmax(-1)
    result: dict[str, Any] = {"network": str(summary.path), "samples": len(index), "precision": args.precision,
                              "accuracy": float((predictions == labels).mean()),
                              "steps_per_s": lava.steps_per_s}
    if args.reference:
        _, model, _ = load_run(args.reference)
        reference = model.run(torch.from_numpy(inputs)).numpy()
        result["reference_accuracy"] = float((reference.sum(-1).argmax(-1) == labels).mean())
        result["spike_match"] = spike_match(lava.spikes, reference)
        result["identical_samples"] = int(sum(np.array_equal(a, b) for a, b in zip(lava.spikes > 0, reference > 0)))
    return result
