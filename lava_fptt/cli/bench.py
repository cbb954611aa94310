"""``lava-fptt bench memory``: peak memory and time of one training pass per method and sequence length."""
from __future__ import annotations

import argparse
from typing import Any

from ..bench import memory
from .common import add_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="benchmarks of the training methods",
                            description="Benchmarks of the training methods, each configuration in a fresh process.")
    kinds = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    mem = kinds.add_parser("memory", help="peak memory growth and seconds of one training pass",
                           description=memory.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mem.add_argument("--algos", nargs="+", choices=memory.ALGOS, default=["bptt", "sltt", "sltt-k", "fptt"],
                     metavar="ALGO", help=f"methods to measure, of {', '.join(memory.ALGOS)} "
                                          "(default: bptt sltt sltt-k fptt)")
    mem.add_argument("--steps", nargs="+", type=int, default=[128, 512, 2048], help="sequence lengths T")
    mem.add_argument("--batch", type=int, default=64, help="batch size (default: 64)")
    mem.add_argument("--repeats", type=int, default=1,
                     help="runs per configuration; the fastest time and the largest peak are kept (default: 1)")
    mem.add_argument("--sltt-chunk", type=int, metavar="N",
                     help="sltt, sltt-k: steps per network call and backward (default: the methods' default)")
    mem.add_argument("--network", choices=memory.NETWORKS, default="dense",
                     help=f"dense: CUBA 64-256-256-10 (default); conv: {memory.CONV_ARCH} plus a dense output "
                          "of 10 on 1 x 8 x 8 images (slayer blocks through the online adapter)")
    mem.add_argument("--progress", action="store_true", help="print each row on stderr as it is measured")
    add_json(mem)
    mem.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = memory.Settings(batch=args.batch, threads=args.threads, params=memory.sltt_chunk(args.sltt_chunk),
                               network=args.network)
    result = memory.run(args.algos, args.steps, settings, repeats=args.repeats, progress=args.progress)
    if not args.json:  # a readable table for people; --json gives the rows as data
        for row in result["rows"]:
            print(f"{row['algo']:>8}  T={row['steps']:<6} peak {row['peak_mb']:9.1f} MB  {row['seconds']:9.3f} s")
        for skip in result["skipped"]:
            print(f"{skip['algo']:>8}  skipped: {skip['reason']}")
        if len({row["steps"] for row in result["rows"]}) > 1:
            print("\n".join(memory.growth_lines(result)))
    return {"rows": len(result["rows"]), "skipped": len(result["skipped"])} if not args.json else \
        {**result, "growth": memory.growth(result)}
