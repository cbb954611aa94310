"""Training throughput of LTC networks before and after the fast quantization-aware step, CUBA and a GRU.

Every case trains the same shape of problem: a batch of 32 random spike trains of 40
steps on 16 channels (MNIST-1D read one value per step), a hidden layer of 128 units
and 10 classes. Cases:

- ``ltc`` (this checkout) and ``ltc-old`` (the LTC code of ``--baseline``, a commit
  before the fast step, extracted with ``git archive`` into a temporary folder and
  imported from there): a recurrent LTC network, quantization-aware, trained with BPTT
  and with FPTT (an update every step, the reference's setting; and chunks of 8 steps), Adam as each version's
  trainer builds it (``make_optimizer`` where the code has it);
- ``ltc-prev`` (with ``--previous REV``): the LTC code of another commit, extracted the same
  way, e.g. the one before a change, to show what the change did to each method;
- ``cuba-rec``: recurrent slayer CUBA, BPTT;
- ``gru``: ``torch.nn.GRU`` of 128 units and a linear readout, BPTT.

Each case runs in a fresh process with one torch thread: one warm-up batch, then
``--batches`` timed batches. Throughput is sample-steps per CPU second of that process
(``batch * steps * batches / CPU time``; on a shared machine CPU time does not count
waiting for a core). Cases are run ``--repeats`` times interleaved and the best is kept.
Ratios are against ``ltc-old`` with the same method and against the GRU, all measured in
this one run.

Run: ``python benchmarks/train_throughput.py [--repeats 3] [--batches 5] [--baseline REV] [--previous REV]``.
Writes ``benchmarks/results/train_throughput.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BASELINE = "483febb"
"""The last commit whose LTC blocks ran quantization-aware training as composed torch operations."""
CASES = [("ltc-old", "bptt"), ("ltc", "bptt"), ("ltc-old", "fptt"), ("ltc", "fptt"), ("ltc-old", "fptt8"),
         ("ltc", "fptt8"), ("cuba-rec", "bptt"), ("gru", "bptt")]
CHUNKS = {"fptt": 1, "fptt8": 8}
"""FPTT cases: chunks of one step (the reference's update every step) and of 8 (the CLI's default)."""


def worker(model: str, algo: str, batch: int, steps: int, inputs: int, hidden: int, batches: int) -> dict[str, Any]:
    """Train ``batches`` batches after one warm-up; CPU and wall seconds of the timed ones."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = (torch.rand(batch, inputs, steps) < 0.3).float()
    y = torch.randint(0, 10, (batch,))
    if model == "gru":
        from lava_fptt.bench.baselines import RecurrentClassifier, train_batch

        net = RecurrentClassifier("gru", inputs, hidden, 10)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

        def one() -> None:
            train_batch(net, optimizer, x, y)
    else:
        from lava_fptt.models.network import NetworkConfig, SpikingNetwork
        from lava_fptt.training.engine import sequence_loss
        from lava_fptt.training.methods import make_method

        kind = "cuba" if model == "cuba-rec" else "ltc"
        net = SpikingNetwork(NetworkConfig(sizes=(inputs, hidden, 10), model=kind, recurrent=True))
        net.run(torch.zeros(1, inputs, 1))
        try:  # the optimizer this version's trainer builds (one flat vector where it can)
            from lava_fptt.training.config import make_optimizer
        except ImportError:  # older code: torch's Adam over the parameters
            optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        else:
            optimizer = make_optimizer("adam", net.parameters(), 1e-3)
        method = make_method("fptt", chunk=CHUNKS[algo]) if algo in CHUNKS else make_method(algo)
        loss_fn = sequence_loss(net.output_kind, 8.0, late_weighting=method.late_weighting)

        def one() -> None:
            method.train_batch(net, x, y, loss_fn, optimizer)
    one()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        one()
    return {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
            "sample_steps": batch * steps * batches}


def extract(rev: str, into: pathlib.Path) -> pathlib.Path:
    """The packages ``lava_fptt`` and ``netx_export`` of commit ``rev`` under ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "old.tar"
    with open(archive, "wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "lava_fptt", "netx_export"], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


def run_case(model: str, algo: str, args: argparse.Namespace, sources: dict[str, pathlib.Path]) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if model in sources:  # the LTC code of another commit
        env["PYTHONPATH"] = str(sources[model])
    job = {"model": "ltc" if model in sources else model, "algo": algo, "batch": args.batch,
           "steps": args.steps, "inputs": args.inputs, "hidden": args.hidden, "batches": args.batches}
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--inputs", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batches", type=int, default=5, help="timed batches per case (default: 5)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of every case; the best is kept")
    parser.add_argument("--baseline", default=BASELINE, help=f"commit of the old LTC code (default: {BASELINE})")
    parser.add_argument("--previous", help="also time the LTC code of this commit (cases ltc-prev)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(**json.loads(args.worker))))
        return
    best: dict[str, float] = {}
    rates: dict[str, list[float]] = {}
    cases = CASES
    with tempfile.TemporaryDirectory() as tmp:
        sources = {"ltc-old": extract(args.baseline, pathlib.Path(tmp) / "old")}
        if args.previous:
            sources["ltc-prev"] = extract(args.previous, pathlib.Path(tmp) / "prev")
            cases = [c for algo in ("bptt", "fptt", "fptt8") for c in (("ltc-old", algo), ("ltc-prev", algo),
                                                                        ("ltc", algo))] + CASES[-2:]
        for repeat in range(args.repeats):
            for model, algo in cases:
                r = run_case(model, algo, args, sources)
                rate = r["sample_steps"] / r["cpu_s"]
                key = f"{model} {algo}"
                best[key] = max(best.get(key, 0.0), rate)
                rates.setdefault(key, []).append(rate)
                print(f"[{repeat + 1}/{args.repeats}] {key:<14} {rate:9.0f} sample-steps/CPU s "
                      f"(wall {r['sample_steps'] / r['wall_s']:.0f})", file=sys.stderr, flush=True)
    gru = best["gru bptt"]
    print(f"\nbatch {args.batch}, {args.steps} steps, {args.inputs}-{args.hidden}-10, one thread, "
          f"best of {args.repeats}; baseline {args.baseline}" + (f", previous {args.previous}" if args.previous
                                                                  else "") + "\n")
    print("| case | sample-steps / CPU s | / old LTC (same method) | same, per repeat | / previous | / GRU |")
    print("|---|---|---|---|---|---|")
    rows = []
    for key, rate in best.items():
        model, algo = key.split()
        old = best.get(f"ltc-old {algo}") if model in ("ltc", "ltc-prev") else None
        prev = best.get(f"ltc-prev {algo}") if model == "ltc" else None
        spread = [r / o for r, o in zip(rates[key], rates.get(f"ltc-old {algo}", []))] if old else []
        rows.append({"case": key, "sample_steps_per_cpu_s": round(rate), "per_repeat": [round(r) for r in rates[key]],
                     "vs_old": old and round(rate / old, 2), "vs_previous": prev and round(rate / prev, 2),
                     "vs_gru": round(rate / gru, 3)})
        print(f"| {key} | {rate:.0f} | {f'{rate / old:.2f}x' if old else ''} | "
              f"{f'{min(spread):.2f}x to {max(spread):.2f}x' if spread else ''} | "
              f"{f'{rate / prev:.2f}x' if prev else ''} | {rate / gru:.3f} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "train_throughput.json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
