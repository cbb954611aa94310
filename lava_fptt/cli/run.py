"""``lava-fptt run``: run a netx network in Lava's CPU simulation and report accuracy."""
from __future__ import annotations

import argparse
from typing import Any, Optional

import numpy as np
import torch

from netx_export import describe
from netx_export.inference import PRECISIONS, run_in_lava, spike_match

from ..data import DEFAULT_ENCODINGS, Encoding, load_dataset
from ..models.network import predict
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
        x = torch.from_numpy(inputs)
        reference = model.run(x).numpy()
        result["reference_accuracy"] = accuracy(reference, labels, model.output_kind)
        if lava.graded:
            hidden = [h.numpy() for h in model.hidden_spikes(x)] if hasattr(model, "hidden_spikes") else None
            result.update(compare_graded(lava, reference, hidden))
        else:
            result["spike_match"] = spike_match(lava.output, reference)
            result["identical_samples"] = int(sum(np.array_equal(a, b) for a, b in zip(lava.output > 0, reference > 0)))
    return result


def accuracy(output: np.ndarray, labels: np.ndarray, kind: str) -> float:
    """Accuracy with the prediction rule of the output kind (:func:`lava_fptt.models.network.predict`)."""
    return float((predict(torch.from_numpy(np.asarray(output)), kind).numpy() == labels).mean())


def compare_graded(lava: Any, readout: np.ndarray, hidden: Optional[list[np.ndarray]]) -> dict[str, Any]:
    """Lava against torch for a network ending in a graded readout (LTC's, or CUBA neurons that never spike).

    ``spike_match``: :func:`spike_match` over the spikes of all hidden layers, when the
    torch model gives them (``hidden``; LTC networks; None: not compared).
    ``readout_match``: fraction of readout values (every sample, neuron and step)
    that are identical; ``readout_max_abs_diff`` the largest difference (float units).
    ``identical_samples``: samples whose hidden spikes and readout values are all identical.
    """
    readout = readout.astype(np.float64)
    same_readout = lava.output == readout
    identical = same_readout.all(axis=(1, 2))
    result: dict[str, Any] = {}
    if hidden is not None:
        for a, b in zip(lava.hidden, hidden):
            identical &= ((a > 0) == (b > 0)).all(axis=(1, 2))
        empty = [np.zeros((len(readout), 0))]  # no hidden layer: nothing to differ
        result["spike_match"] = spike_match(np.concatenate([h.reshape(len(h), -1) for h in lava.hidden] + empty, 1),
                                            np.concatenate([h.reshape(len(h), -1) for h in hidden] + empty, 1))
    return {**result, "readout_match": float(same_readout.mean()),
            "readout_max_abs_diff": float(np.abs(lava.output - readout).max()),
            "identical_samples": int(identical.sum())}
