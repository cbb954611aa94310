"""``lava-fptt nir import|export``: NIR graphs in and out of netx networks."""
from __future__ import annotations

import argparse
import math
from typing import Any

from netx_export.nir import import_nir
from netx_export.nir.discretize import RESETS
from netx_export.nir.export import DEFAULT_DT, export_nir

from .common import add_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``nir import`` and ``nir export``."""
    parser = sub.add_parser("nir", help="NIR graphs in (to netx) and out (from our networks)",
                            description="Move networks between Lava and the frameworks that read and write NIR "
                                        "(Sinabs, snnTorch, Norse, Rockpool, ...). See docs/nir.md.")
    kinds = parser.add_subparsers(dest="direction", required=True, metavar="DIRECTION")
    imp = kinds.add_parser(
        "import", help="a NIR graph -> a netx HDF5 network of CUBA layers",
        description="Read MODEL.nir (Affine/Linear/Conv2d/SumPool2d/AvgPool2d/Flatten with CubaLIF, LIF or IF "
                    "neurons, feed-forward or with recurrent layers, optionally ending in a non-spiking CubaLI, LI "
                    "or I readout), discretize it with time step DT to Lava's "
                    "fixed-point CUBA LIF and write a netx network that plain lava-dl netx loads. Prints the "
                    "integer parameters and the quantization error of every layer. What Lava cannot represent "
                    "is refused with the node and the reason, and nothing is written.")
    imp.add_argument("model", metavar="MODEL.nir", help="the NIR graph")
    imp.add_argument("--out", required=True, metavar="NET.net", help="the netx network to write")
    imp.add_argument("--dt", type=float, required=True,
                     help="time step of one Lava step, in the graph's time unit; a NIR graph states none "
                          "(snnTorch writes graphs for dt 1e-4, Sinabs for 1: one step)")
    imp.add_argument("--reset", choices=RESETS, default="zero",
                     help="the reset rule the graph was trained with (NIR states only v_reset): zero (default, "
                          "NIR's rule) is kept; subtract is refused, Lava's LIF resets to zero")
    add_json(imp)
    imp.set_defaults(handler=run_import)
    exp = kinds.add_parser(
        "export", help="a run directory or netx network of CUBA layers -> a NIR graph",
        description="Write the CUBA network of RUN_DIR (a 'lava-fptt train' run) or NET.net as NIR: Affine / "
                    "Conv2d / SumPool2d / Flatten with CubaLIF (IF without decays) neurons, the time step stated "
                    "in the graph's metadata. LTC layers have no NIR primitive and are refused.")
    exp.add_argument("source", metavar="RUN_DIR|NET.net", help="a run directory or a netx network file")
    exp.add_argument("--out", required=True, metavar="MODEL.nir", help="the NIR file to write")
    exp.add_argument("--dt", type=float, default=DEFAULT_DT,
                     help=f"time step one Lava step stands for (default {DEFAULT_DT:g}, what snnTorch's importer "
                          "assumes)")
    add_json(exp)
    exp.set_defaults(handler=run_export)


def run_import(args: argparse.Namespace) -> dict[str, Any]:
    """Import, print the per-layer table (or return the whole report with ``--json``)."""
    report = import_nir(args.model, args.out, args.dt, args.reset)
    if args.json:
        return report.to_dict()
    print(f"{'layer':<12} {'netx':<9} {'neuron':<8} {'neurons':>7} {'iDecay':>6} {'vDecay':>6} {'vThMant':>7} "
          f"{'scale':>6} {'weight err':>10} {'decay err':>9}")
    for layer in report.layers:
        print(f"{layer.nodes[-1]:<12} {layer.netx_type:<9} {layer.neuron:<8} {math.prod(layer.shape):>7} "
              f"{layer.i_decay:>6} {layer.v_decay:>6} {layer.v_th:>7} {layer.scale:>6} {layer.error.weight:>10.2e} "
              f"{layer.error.decay:>9.2e}")
    return {"network": str(report.network), "layers": len(report.layers), "dt": report.dt}


def run_export(args: argparse.Namespace) -> dict[str, Any]:
    """Export and report the file written."""
    path = export_nir(args.source, args.out, args.dt)
    return {"nir": str(path), "dt": args.dt}
