"""Test accuracy of every training method on digits read one pixel per step, and the Lava check.

    python benchmarks/accuracy.py [--epochs 6] [--hidden 128] [--seeds 0 1] [--lava-samples 100]
    python benchmarks/accuracy.py --encoding rate --tag rate   # the 16-step rate code, for contrast
    python benchmarks/accuracy.py --encoding rate --arch conv:8:3,conv:16:3:2 --tag conv   # a conv network

Same network (input channels -> hidden CUBA layer(s) -> 10, or the convolutional network
``--arch`` on the digits as 1 x 8 x 8 images), same data order,
same epochs, Adam, same learning rate and loss gain for every method unless given per
method (``--fptt-lr``). Each run is a normal run directory under
``benchmarks/results/accuracy-runs/``; each trained network is exported through netx and
run in Lava (fixed point) on the first ``--lava-samples`` test samples, against the torch
model, for ``spike_match``; a network that plain ``lava.lib.dl.netx`` can build (no pool
layer) is also built by it, to show the file is lava-dl's. Writes
``benchmarks/results/accuracy[-TAG].{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import time
from typing import Any, Optional

import numpy as np
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.network import NetworkConfig
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import export_network
from netx_export.inference import run_in_lava, spike_match

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
ALGOS = ["bptt", "tbptt", "sltt", "sltt-k", "fptt"]


def encoding(args: argparse.Namespace) -> Encoding:
    return Encoding("pixel") if args.encoding == "pixel" else Encoding("rate", steps=args.steps)


def method_params(algo: str, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    """Each method's hyperparameters for this comparison (defaults otherwise)."""
    steps = load_dataset("digits", "test", encoding=encoding(args)).num_steps
    return {"tbptt": {"chunk": args.chunk or max(1, steps // 4)}, "sltt-k": {"k": args.k or max(1, steps // 4), "seed": seed},
            "fptt": {"chunk": args.fptt_chunk}}.get(algo, {})


def lava_check(run_dir: pathlib.Path, samples: int) -> dict[str, Any]:
    """Export the run, run ``samples`` test samples in Lava, compare with the torch model."""
    config, model, _ = load_run(run_dir)
    network = export_network(model, run_dir / "network.net")
    data = load_dataset(config.dataset, "test", encoding=config.encoding)
    index = np.arange(min(samples, len(data)))
    inputs, labels = data.spikes(index), data.labels[index]
    lava = run_in_lava(network, inputs, "fixed")
    reference = model.run(torch.from_numpy(inputs)).numpy()
    return {"lava_samples": len(index), "spike_match": spike_match(lava.spikes, reference),
            "lava_accuracy": float((lava.spikes.sum(-1).argmax(-1) == labels).mean()),
            "torch_accuracy_same_samples": float((reference.sum(-1).argmax(-1) == labels).mean()),
            "plain_netx_layers": plain_netx_layers(network, data.input_shape)}


def plain_netx_layers(path: pathlib.Path, input_shape: tuple[int, ...]) -> Optional[list[str]]:
    """The blocks plain ``lava.lib.dl.netx.hdf5.Network`` builds from the file (None if it cannot)."""
    from lava.lib.dl import netx

    shape = tuple(input_shape[::-1]) if len(input_shape) == 3 else None  # (x, y, f) for netx
    try:
        return [type(b).__name__ for b in netx.hdf5.Network(net_config=str(path), input_shape=shape).layers]
    except NotImplementedError:  # e.g. pool layers: lava-dl 0.6's netx does not build them
        return None


def network(args: argparse.Namespace) -> NetworkConfig:
    """The dense network of ``--hidden``, or the convolutional one of ``--arch``."""
    channels = load_dataset("digits", "test", encoding=encoding(args)).num_channels
    if args.arch:
        return NetworkConfig(sizes=(1, 10), arch=args.arch)
    return NetworkConfig(sizes=(channels, *args.hidden, 10))


def run_one(algo: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    config = TrainConfig(dataset="digits", encoding=encoding(args), network=network(args), algo=algo,
                         algo_params=method_params(algo, args, seed), epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.fptt_lr if algo == "fptt" and args.fptt_lr else args.lr,
                         loss_gain=args.gain, seed=seed)
    run_dir = args.out / f"accuracy-runs{args.suffix}" / f"{algo}-seed{seed}"
    began = time.perf_counter()
    result = train(config, run_dir, progress=False)
    row = {"algo": algo, "seed": seed, "test_accuracy": result["test_accuracy"],
           "train_accuracy": result["train_accuracy"], "train_seconds": round(time.perf_counter() - began, 1),
           "lr": config.lr, "algo_params": config.algo_params}
    if args.lava_samples:
        row.update(lava_check(run_dir, args.lava_samples))
    print(json.dumps(row), flush=True)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """Mean over seeds per method; the gap to BPTT in points."""
    by_algo: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_algo.setdefault(row["algo"], []).append(row)
    bptt = statistics.mean(r["test_accuracy"] for r in by_algo["bptt"]) if "bptt" in by_algo else None
    lines = ["| method | params | test accuracy (%) | vs BPTT (points) | train accuracy (%) | train s | "
             "Lava spike_match | Lava / torch accuracy on those samples (%) |", "|---|---|---|---|---|---|---|---|"]
    for algo, runs in by_algo.items():
        test = [100 * r["test_accuracy"] for r in runs]
        mean = statistics.mean(test)
        spread = f" ± {statistics.stdev(test):.1f}" if len(test) > 1 else ""
        gap = "" if bptt is None else f"{mean - 100 * bptt:+.1f}"
        match = ", ".join(f"{r['spike_match']:.4f}" for r in runs if "spike_match" in r) or "n/a"
        lava = ", ".join(f"{100 * r['lava_accuracy']:.0f} / {100 * r['torch_accuracy_same_samples']:.0f}"
                         for r in runs if "lava_accuracy" in r) or "n/a"
        params = json.dumps({k: v for k, v in runs[0]["algo_params"].items() if k != "seed"})
        lines.append(f"| {algo} | {params} lr={runs[0]['lr']:g} | {mean:.1f}{spread} | {gap} | "
                     f"{statistics.mean(100 * r['train_accuracy'] for r in runs):.1f} | "
                     f"{statistics.mean(r['train_seconds'] for r in runs):.0f} | {match} | {lava} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", choices=ALGOS, default=ALGOS)
    parser.add_argument("--encoding", choices=["pixel", "rate"], default="pixel",
                        help="pixel: one pixel per step, T=64 (default); rate: every pixel a channel, --steps steps")
    parser.add_argument("--steps", type=int, default=16, help="steps of the rate code")
    parser.add_argument("--tag", help="suffix of the result files and run folder")
    parser.add_argument("--hidden", type=int, nargs="+", default=[128])
    parser.add_argument("--arch", help="a convolutional network in lava-fptt train --arch syntax (rate encoding)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--fptt-lr", type=float, help="FPTT's learning rate (it steps T/chunk times per batch)")
    parser.add_argument("--gain", type=float, default=8.0)
    parser.add_argument("--chunk", type=int, help="tbptt chunk (default: T/4)")
    parser.add_argument("--fptt-chunk", type=int, default=1)
    parser.add_argument("--k", type=int, help="sltt-k: steps with a backward per batch (default: T/4, as the "
                                                 "paper's 4 of 20 and 2 of 6)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--lava-samples", type=int, default=100, help="0: skip the Lava check")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()
    args.suffix = f"-{args.tag}" if args.tag else ""
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [run_one(algo, seed, args) for seed in args.seeds for algo in args.algos]
    settings = {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()}
    (args.out / f"accuracy{args.suffix}.json").write_text(json.dumps({"settings": settings, "rows": rows}, indent=2))
    data = load_dataset("digits", "test", encoding=encoding(args))
    shape = f"{args.arch} + dense 10 on 1 x 8 x 8 images" if args.arch else \
        f"{data.num_channels}-{'-'.join(map(str, args.hidden))}-10"
    text = (f"digits, {args.encoding} encoding (T={data.num_steps}, {data.num_channels} channels), network "
            f"{shape} CUBA, "
            f"{args.epochs} epochs, batch {args.batch_size}, Adam, loss gain {args.gain}, seeds {args.seeds}\n\n"
            + table(rows) + "\n")
    (args.out / f"accuracy{args.suffix}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
