"""``lava-fptt run``: run a netx network in Lava's CPU simulation and report accuracy."""
from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from netx_export import describe
from netx_export.inference import PRECISIONS, accuracy, compare_with_torch, run_in_lava

from ..data import DEFAULT_ENCODINGS, Encoding, load_dataset
from ..training import load_run
from .common import add_data, add_json, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run a network file in Lava and report accuracy",
                            description="Build NETWORK as Lava processes and run test samples one after another "
                                        "in Lava's CPU simulation (fixed point by default). With --reference, "
                                        "also run the trained torch model on the same samples and compare "
                                        "output spikes step by step (LTC networks: hidden spikes and the "
                                        "readout's graded values).")
    parser.add_argument("network", metavar="NETWORK", help="a netx HDF5 network file")
    add_data(parser)
    parser.add_argument("--samples", type=positive_int, default=100, help="test samples to run (default: 100)")
    parser.add_argument("--precision", choices=sorted(PRECISIONS), default="fixed",
                        help="fixed: bit-accurate fixed-point models (default); float: floating-point models")
    parser.add_argument("--parallel", type=positive_int, default=1, metavar="K",
                        help="run K copies of the network side by side in one Lava run, K samples per step "
                             "(dense networks; same spikes per sample as K=1, default: 1)")
    parser.add_argument("--reference", metavar="RUN_DIR", help="compare with the torch model of this run directory")
    add_json(parser)
    parser.set_defaults(handler=run)


def encoding_for(args: argparse.Namespace, summary: Any) -> Encoding:
    """The encoding the network was trained with, unless the user names one; images when the
    file's first layer is a conv or pool layer."""
    metadata = summary.metadata
    if metadata.get("dataset") == args.dataset and "encoding" in metadata and not (args.encoding or args.steps):
        return Encoding(**metadata["encoding"])
    default = DEFAULT_ENCODINGS[args.dataset]
    first = next((kind for kind in summary.layer_types if kind != "input"), None)
    return Encoding(args.encoding or default.kind, steps=args.steps or default.steps, levels=default.levels,
                    duration=default.duration, layout="image" if first in ("conv", "pool") else "flat")


def draw_for(args: argparse.Namespace, metadata: dict[str, Any]) -> dict[str, Any]:
    """The generated data set's draw (seed, samples): as given, else as the network was trained on."""
    same = metadata.get("dataset") == args.dataset
    return {key: getattr(args, key, None) if getattr(args, key, None) is not None
            else (metadata.get(key) if same else None) for key in ("data_seed", "data_samples")}


def run(args: argparse.Namespace) -> dict[str, Any]:
    summary = describe(args.network)
    data = load_dataset(args.dataset, "test", args.data_dir, encoding_for(args, summary),
                        **draw_for(args, summary.metadata))
    index = np.arange(min(args.samples, len(data)))
    inputs, labels = data.spikes(index), data.labels[index]
    lava = run_in_lava(args.network, inputs, args.precision, progress=not args.no_progress, parallel=args.parallel)
    kind = "readout" if lava.graded else "spikes"
    result: dict[str, Any] = {"network": str(summary.path), "samples": len(index), "precision": args.precision,
                              "parallel": args.parallel, "accuracy": accuracy(lava.output, labels, kind),
                              "steps_per_s": lava.steps_per_s, "samples_per_s": lava.samples_per_s,
                              "start_s": lava.start_s}
    if args.reference:
        _, model, _ = load_run(args.reference)
        result.update(compare_with_torch(lava, model, inputs, labels))
    return result
