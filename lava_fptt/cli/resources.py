"""``lava-fptt resources``: what a trained network needs on Loihi 2 (neurons, synapses, memory, cores)."""
from __future__ import annotations

import argparse
from typing import Any

from .common import add_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "resources", help="resource report of a network file at Loihi 2's published per-core limits",
        description="Per layer: neurons, synapses, synaptic memory, neuron memory and the Loihi 2 cores "
                    "needed at the published per-core limits (an estimate: dense weight storage, one layer "
                    "per core group; no Loihi hardware or Intel compiler is involved). NETWORK is a netx "
                    "file from 'lava-fptt export' or an SSNN-BP network.npz from 'lava-fptt learn --out'.")
    parser.add_argument("network", metavar="NETWORK", help="a netx HDF5 network file or an SSNN-BP .npz")
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from netx_export.resources import resource_report

    report = resource_report(args.network)
    if args.json:
        return report.to_dict()
    print(report.table())
    for note in report.notes:
        print(f"- {note}")
    return {"neurons": report.neurons, "synapses": report.synapses,
            "synaptic_memory_kib": report.synaptic_memory_bytes / 1024, "cores": report.cores,
            "chips": report.chips}
