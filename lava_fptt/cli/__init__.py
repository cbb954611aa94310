"""``lava-fptt``: the command-line tool for the whole path, train -> export -> run in Lava.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> dict``. The dict is printed for people, or as exactly one JSON object on
stdout with ``--json``. Errors in the user's input print one line naming the problem
and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any, Optional, Sequence

from . import bench, demo, export, learn, nir, resources, run, train

COMMANDS = (train, export, run, learn, demo, bench, resources, nir)
USER_ERRORS = (ValueError, FileNotFoundError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lava-fptt",
        description="Train spiking networks online in lava-dl, export them through netx, run them in Lava.",
        epilog="Run 'lava-fptt COMMAND --help' for a command's options.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def print_human(result: dict[str, Any]) -> None:
    width = max(len(k) for k in result) if result else 0
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.4f}"
        elif isinstance(value, (list, dict)):
            continue
        print(f"{key:<{width}}  {value}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
    warnings.filterwarnings("ignore", message="Warning only once for all operators")
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(args)
    except USER_ERRORS as err:
        message = str(err).strip("'\"")
        if args.json:
            print(json.dumps({"error": message}))
        print(f"lava-fptt {args.command}: error: {message}", file=sys.stderr)
        return 2
    if result is None:  # a non-leading process of a data-parallel run: rank 0 reports
        return 0
    if args.json:
        print(json.dumps(result))
    else:
        print_human(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
