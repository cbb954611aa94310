"""Memory and time of the training methods versus sequence length: table, JSON and plot.

    python benchmarks/memory.py [--steps 128 512 2048] [--algos ...] [--repeats 1] [--sltt-chunk N]
    python benchmarks/memory.py --network conv --batch 32 --steps 64 1024 --algos bptt sltt sltt-k fptt
    python benchmarks/memory.py --baseline 1a574f3          # also the old code's rows, same run
    python benchmarks/memory.py --device cuda               # on a GPU (tools/gpu_check.sh)

Runs :mod:`lava_fptt.bench.memory` (each configuration in a fresh process) and writes
``benchmarks/results/memory.{json,md,png}``: peak resident memory growth and seconds of
one training pass per method and T (wall and CPU time), ratios against BPTT measured in
the same run, and
SpikingJelly 2.0's FPTT and SLTT side by side (skipped, with the reason, if it is not
installed; see benchmarks/requirements.txt). With ``--baseline COMMIT`` the methods of
``--old-algos`` also run with the code of that commit (a temporary git worktree), rows
``old-<method>``, so that old and new are compared under the same load.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import pathlib
from typing import Any, Optional

from lava_fptt.bench import baseline, memory
from lava_fptt.device import resolve_device

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DEFAULT_ALGOS = ["bptt", "tbptt", "sltt", "sltt-k", "fptt", "sj-fptt", "sj-sltt"]


def cell(rows: list[dict[str, Any]], algo: str, steps: int, key: str) -> Optional[float]:
    for row in rows:
        if row["algo"] == algo and row["steps"] == steps:
            return row[key]
    return None


def ratio(a: Optional[float], b: Optional[float]) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def table(result: dict[str, Any]) -> str:
    """Markdown: one row per (algo, T), with ratios against BPTT at the same T."""
    rows = result["rows"]
    lines = ["| method | T | peak memory (MB) | seconds (wall) | seconds (CPU) | BPTT peak / peak | "
             "CPU seconds / BPTT's |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        bptt_peak = cell(rows, "bptt", row["steps"], "peak_mb")
        bptt_cpu = cell(rows, "bptt", row["steps"], "cpu_seconds")
        lines.append(f"| {row['algo']} | {row['steps']} | {row['peak_mb']:.1f} | {row['seconds']:.2f} | "
                     f"{row['cpu_seconds']:.2f} | {ratio(bptt_peak, row['peak_mb'])} | "
                     f"{ratio(row['cpu_seconds'], bptt_cpu)} |")
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> list[str]:
    """The figures the project tracks, computed from the rows."""
    rows = result["rows"]
    steps = sorted({r["steps"] for r in rows})
    low, high = steps[0], steps[-1]
    lines = []
    for algo in ("bptt", "sltt", "sltt-k", "fptt", "sj-fptt", "sj-sltt"):
        a, b = cell(rows, algo, low, "peak_mb"), cell(rows, algo, high, "peak_mb")
        if a is not None and b is not None:
            lines.append(f"{algo}: peak at T={high} / peak at T={low} = {ratio(b, a)}")
    for t in steps:
        for key in ("cpu_seconds", "seconds"):
            lines.append(f"T={t}, {key}: SLTT / BPTT = "
                         f"{ratio(cell(rows, 'sltt', t, key), cell(rows, 'bptt', t, key))}; "
                         f"ours / SpikingJelly: FPTT "
                         f"{ratio(cell(rows, 'fptt', t, key), cell(rows, 'sj-fptt', t, key))}, SLTT "
                         f"{ratio(cell(rows, 'sltt', t, key), cell(rows, 'sj-sltt', t, key))}")
    for algo in dict.fromkeys(r["algo"][4:] for r in rows if r["algo"].startswith("old-")):
        for t in steps:
            old, new = cell(rows, f"old-{algo}", t, "cpu_seconds"), cell(rows, algo, t, "cpu_seconds")
            old_peak, new_peak = cell(rows, f"old-{algo}", t, "peak_mb"), cell(rows, algo, t, "peak_mb")
            lines.append(f"T={t}, {algo}: old / new CPU seconds = {ratio(old, new)}; "
                         f"peak MB new / old = {ratio(new_peak, old_peak)}")
    lines += [f"{s['algo']} skipped: {s['reason']}" for s in result["skipped"]]
    return lines


def plot(result: dict[str, Any], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_mem, ax_time) = plt.subplots(1, 2, figsize=(11, 4))
    for algo in dict.fromkeys(r["algo"] for r in result["rows"]):
        rows = sorted((r for r in result["rows"] if r["algo"] == algo), key=lambda r: r["steps"])
        style = "--" if algo.startswith("sj-") else "-"
        ax_mem.plot([r["steps"] for r in rows], [r["peak_mb"] for r in rows], style, marker="o", label=algo)
        ax_time.plot([r["steps"] for r in rows], [r["cpu_seconds"] for r in rows], style, marker="o", label=algo)
    settings = result["settings"]
    for ax, label in ((ax_mem, "peak memory growth (MB)"), (ax_time, "CPU seconds per training pass")):
        ax.set(xscale="log", yscale="log", xlabel="sequence length T", ylabel=label)
        ax.grid(True, which="both", alpha=0.3)
    ax_mem.legend(fontsize=8)
    network = settings.get("arch") or f"dense {'-'.join(map(str, settings['sizes']))}"
    fig.suptitle(f"one training pass, {network}, batch {settings['batch']}, {settings['threads']} thread(s), "
                 f"{settings.get('device', 'cpu')}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", nargs="+", type=int, default=[128, 512, 2048])
    parser.add_argument("--algos", nargs="+", choices=memory.ALGOS, default=DEFAULT_ALGOS)
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration (fastest time, largest peak)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--network", choices=memory.NETWORKS, default="dense",
                        help=f"dense (64-256-256-10) or conv ({memory.CONV_ARCH} + dense 10 on 1 x 8 x 8 images)")
    parser.add_argument("--sltt-chunk", type=int, metavar="N",
                        help="sltt, sltt-k: steps per network call and backward (default: the methods' default)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda[:N] or auto (default: cpu)")
    parser.add_argument("--baseline", metavar="COMMIT", help="also run --old-algos with the code of COMMIT")
    parser.add_argument("--old-algos", nargs="+", choices=memory.OURS, default=["bptt", "sltt", "fptt"])
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()
    settings = memory.Settings(batch=args.batch, threads=args.threads, params=memory.sltt_chunk(args.sltt_chunk),
                               network=args.network, device=str(resolve_device(args.device)))
    if args.network == "conv":  # the SpikingJelly rows have an equivalent of the dense network only
        args.algos = [a for a in args.algos if not a.startswith("sj-")]
    with contextlib.ExitStack() as stack:
        old = None
        if args.baseline:
            old = (baseline.describe(args.baseline), stack.enter_context(baseline.checkout(args.baseline)),
                   args.old_algos)
        result = memory.run(args.algos, args.steps, settings, repeats=args.repeats, progress=True, old=old)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = summary(result) + memory.growth_lines(result)
    text = table(result) + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    name = ("memory" if args.network == "dense" else f"memory-{args.network}") + (
        "" if settings.device == "cpu" else "-" + settings.device.replace(":", ""))
    (args.out / f"{name}.md").write_text(text)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    plot(result, args.out / f"{name}.png")
    print(text)
    print(f"written: {args.out / name}.md, .json, .png")


if __name__ == "__main__":
    main()
