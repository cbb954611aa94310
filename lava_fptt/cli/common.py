"""Options shared by several subcommands."""
from __future__ import annotations

import argparse

from ..data import DATASETS, ENCODINGS, DEFAULT_ENCODINGS, Encoding


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="data set (default: digits, built in; others read from --data-dir)")
    parser.add_argument("--data-dir", help="directory with the data set's files (IDX or SHD HDF5); nothing is downloaded")
    parser.add_argument("--encoding", choices=ENCODINGS,
                        help="spike encoding: rate (pixels as spike trains), pixel (one pixel per step), "
                             "rows (one row per step), bins (binned events, SHD); default: the data set's own")
    parser.add_argument("--steps", type=int, help="time steps for rate/bins encodings")


def encoding_from(args: argparse.Namespace) -> Encoding:
    default = DEFAULT_ENCODINGS[args.dataset]
    return Encoding(args.encoding or default.kind, steps=args.steps or default.steps,
                    levels=default.levels, duration=default.duration)


def add_device(parser: argparse.ArgumentParser, default: str = "cpu") -> None:
    parser.add_argument("--device", default=default, metavar="{cpu,cuda,auto}",
                        help=f"where tensors live: cpu, cuda (or cuda:N), auto (cuda if torch sees a GPU); "
                             f"default {default}")
