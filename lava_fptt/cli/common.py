"""Options and contracts shared by the subcommands."""
from __future__ import annotations

import argparse
import math

from ..data import DATASETS, ENCODINGS, DEFAULT_ENCODINGS, Encoding

DEFAULT_THREADS = 1
"""torch threads per process unless ``--threads`` says otherwise. Measured on the project's
2-core machine under load: one BPTT epoch on digits took 4.6 s with 1 thread against 44 s
with 2 and 60 s with torch's default, with identical results (README, "Threads")."""


class UsageError(Exception):
    """A command line that argparse refused (unknown option, bad value)."""


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print exactly one JSON object on stdout (the result, or {\"error\": ...}); "
                             "everything else goes to stderr")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def finite_float(text: str) -> float:
    """argparse type: a float that is neither NaN nor infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """What every subcommand has: ``--json``, ``--threads``, ``--no-progress`` (each added
    unless the command declares it), and no NaN or infinite value for any float option."""
    options = parser._option_string_actions
    if "--json" not in options:
        add_json(parser)
    if "--threads" not in options:
        parser.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, metavar="N",
                            help=f"torch threads in this process (default: {DEFAULT_THREADS}; measured fastest "
                                 "for the network sizes here, more only pays on idle cores and large batches)")
    if "--no-progress" not in options:
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bars (bars are drawn on stderr, and only when it is a terminal)")
    for action in parser._actions:
        if action.type is float:
            action.type = finite_float


def apply_threads(threads: int) -> None:
    """Use ``threads`` torch threads in this process (see :data:`DEFAULT_THREADS`)."""
    import torch

    torch.set_num_threads(threads)


def error_message(err: BaseException) -> str:
    """One line naming the problem: ``FILE: reason`` for system errors, the text of others."""
    if isinstance(err, OSError) and err.filename is not None:
        text = f"{err.filename}: {err.strerror or err}"
    elif isinstance(err, KeyError) and err.args:
        text = str(err.args[0])
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="data set (default: digits; digits and mnist1d are built in, others read from --data-dir)")
    parser.add_argument("--data-dir", help="directory with the data set's files (IDX or SHD HDF5); nothing is downloaded")
    parser.add_argument("--encoding", choices=ENCODINGS,
                        help="spike encoding: rate (pixels as spike trains), pixel (one pixel per step), "
                             "rows (one row per step), bins (binned events, SHD); default: the data set's own")
    parser.add_argument("--steps", type=positive_int, help="time steps for rate/bins encodings")
    parser.add_argument("--data-seed", type=int,
                        help="mnist1d: seed of the generated draw (default: the package's, 42)")
    parser.add_argument("--data-samples", type=positive_int,
                        help="mnist1d: sequences drawn, train and test together, split 80/20 (default: 5000)")


def encoding_from(args: argparse.Namespace) -> Encoding:
    default = DEFAULT_ENCODINGS[args.dataset]
    return Encoding(args.encoding or default.kind, steps=args.steps or default.steps,
                    levels=default.levels, duration=default.duration)


def add_device(parser: argparse.ArgumentParser, default: str = "cpu") -> None:
    parser.add_argument("--device", default=default, metavar="{cpu,cuda,auto}",
                        help=f"where tensors live: cpu, cuda (or cuda:N), auto (cuda if torch sees a GPU); "
                             f"default {default}")
