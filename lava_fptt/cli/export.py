"""``lava-fptt export``: write a trained run as a netx HDF5 network."""
from __future__ import annotations

import argparse
import pathlib
from typing import Any

from netx_export import export_network

from ..training import load_run
from .common import add_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export", help="write RUN_DIR/network.net in lava-dl's netx HDF5 format",
                            description="Export the trained network of RUN_DIR to RUN_DIR/network.net (netx HDF5). "
                                        "CUBA networks load with plain lava.lib.dl.netx.hdf5.Network.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by 'lava-fptt train'")
    parser.add_argument("--output", help="where to write the network (default: RUN_DIR/network.net)")
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    config, model, _ = load_run(args.run_dir)
    target = pathlib.Path(args.output or pathlib.Path(args.run_dir) / "network.net")
    metadata = {"dataset": config.dataset, "encoding": config.encoding.to_dict(),
                "data_seed": config.data_seed, "data_samples": config.data_samples}
    path = export_network(model, target, metadata)
    return {"network": str(path), "layers": len(model.layers), "sizes": list(config.network.sizes)}
