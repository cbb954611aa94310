"""A temporal benchmark: spiking networks trained online and offline against a GRU and an LSTM.

Every model reads the same spike-coded sequences (default: MNIST-1D, one value per step
as a 16-level thermometer code, 40 steps; or digits one pixel per step with
``--dataset digits --encoding pixel``) for the same number of epochs, with a cosine
learning rate, one torch thread, for each seed:

- ``ltc-fptt``, ``ltc-bptt``, ``ltc-tbptt``: the recurrent LTC network
  (``16-H(recurrent)-10``, quantization-aware, i.e. the integers Lava runs) trained with
  FPTT (options ``--fptt-*``), BPTT and TBPTT (chunks of ``--tbptt-chunk``);
- ``cuba-bptt``: recurrent slayer CUBA layers, BPTT;
- ``gru``, ``lstm``: ``torch.nn.GRU`` / ``torch.nn.LSTM`` and a linear readout on the last
  step, BPTT, Adam (:mod:`lava_fptt.bench.baselines`), with the number of units whose
  parameter count is nearest the LTC network's (``--baseline-hidden`` sets it instead).

Each (model, seed) trains in a fresh process; one row per finished run is appended to
``OUT/runs.csv`` (test accuracy after the last epoch, trainable parameters, seconds per
epoch, peak resident memory of the process). Rerunning skips finished rows and resumes
unfinished spiking runs from their run directories (``OUT/runs/``), so a killed
benchmark continues where it stopped. The summary (mean and standard deviation over
seeds) is printed and written to ``OUT/summary.md``.

Run: ``python benchmarks/temporal.py [--epochs 15] [--seeds 0 1 2] [--models ...] [--out DIR]``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ("ltc-fptt", "ltc-bptt", "ltc-tbptt", "cuba-bptt", "gru", "lstm")
FIELDS = ("model", "seed", "epochs", "test_accuracy", "train_accuracy", "parameters", "seconds_per_epoch",
          "peak_mb", "settings")


def spiking_config(job: dict[str, Any]) -> Any:
    """The :class:`TrainConfig` of a spiking model's job."""
    from lava_fptt.data import DEFAULT_ENCODINGS, Encoding
    from lava_fptt.models.network import NetworkConfig
    from lava_fptt.training import TrainConfig

    default = DEFAULT_ENCODINGS[job["dataset"]]
    encoding = Encoding(job["encoding"] or default.kind, steps=default.steps, levels=default.levels)
    neuron, algo = job["model"].split("-")
    params: dict[str, Any] = {}
    optimizer, lr, batch = "adam", job["lr"], job["batch"]
    if algo == "fptt":
        params = {"chunk": job["fptt_chunk"], "late_weighting": job["fptt_late_weighting"],
                  **({"soft_target": True} if job.get("fptt_soft_target") else {}),
                  **({"alpha": job["fptt_alpha"]} if job.get("fptt_alpha") is not None else {}),
                  **({"clip": job["fptt_clip"] or None} if job.get("fptt_clip") is not None else {})}
        optimizer, lr, batch = job["fptt_optimizer"], job["fptt_lr"] or lr, job["fptt_batch"] or batch
    elif algo == "tbptt":
        params = {"chunk": job["tbptt_chunk"]}
    sizes = (job["channels"], job["hidden"], job["classes"])
    return TrainConfig(dataset=job["dataset"], data_samples=job["data_samples"], encoding=encoding,
                       network=NetworkConfig(sizes=sizes, model=neuron, recurrent=True,
                                             reset_frac=job.get("reset_frac", 0.0),
                                             readout_gate_bias=job.get("readout_gate_bias") if neuron == "ltc" else None),
                       algo=algo, algo_params=params, epochs=job["epochs"], batch_size=batch, lr=lr,
                       optimizer=optimizer, lr_schedule="cosine", loss_gain=job.get("loss_gain", 8.0),
                       seed=job["seed"])


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Train one (model, seed) in this process; the row for the CSV."""
    import torch

    torch.set_num_threads(1)
    if job["model"] in ("gru", "lstm"):
        row = train_baseline(job)
    else:
        from lava_fptt.training import train
        from lava_fptt.training.trainer import build_model

        config = spiking_config(job)
        result = train(config, job["run_dir"], progress=False)
        metrics = json.loads((pathlib.Path(job["run_dir"]) / "metrics.json").read_text())
        model = build_model(config)
        row = {"test_accuracy": result["test_accuracy"], "train_accuracy": result["train_accuracy"],
               "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
               "seconds_per_epoch": statistics.mean(m["seconds"] for m in metrics),
               "settings": f"{config.algo} {config.algo_params} {config.optimizer} lr {config.lr} "
                           f"batch {config.batch_size} reset {config.network.reset_frac} gain {config.loss_gain}"
                           f"{readout_setting(config.network)}"}
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"model": job["model"], "seed": job["seed"], "epochs": job["epochs"], **row, "peak_mb": peak_kb / 1024}


def readout_setting(network: Any) -> str:
    """`` readout gate B`` for an LTC network's settings column (B: its readout's initial gate bias)."""
    if network.model != "ltc":
        return ""
    from lava_fptt.neurons.ltc import READOUT_MEMORY_GATE_BIAS

    bias = READOUT_MEMORY_GATE_BIAS if network.readout_gate_bias is None else network.readout_gate_bias
    return f" readout gate {bias}"


def train_baseline(job: dict[str, Any]) -> dict[str, Any]:
    """A GRU or LSTM trained with BPTT and Adam on the same spikes, cosine learning rate."""
    import math

    import torch

    from lava_fptt.bench.baselines import RecurrentClassifier, evaluate, matched_hidden, parameter_count, train_batch
    from lava_fptt.data import DEFAULT_ENCODINGS, Encoding, load_dataset

    default = DEFAULT_ENCODINGS[job["dataset"]]
    encoding = Encoding(job["encoding"] or default.kind, steps=default.steps, levels=default.levels)
    train_data = load_dataset(job["dataset"], "train", encoding=encoding, data_samples=job["data_samples"])
    test_data = load_dataset(job["dataset"], "test", encoding=encoding, data_samples=job["data_samples"])
    torch.manual_seed(job["seed"])
    hidden = job["baseline_hidden"] or matched_hidden(job["model"], train_data.num_channels, train_data.num_classes,
                                                      ltc_parameters(job))
    model = RecurrentClassifier(job["model"], train_data.num_channels, hidden, train_data.num_classes)
    lr = job["baseline_lr"]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    seconds = []
    for epoch in range(job["epochs"]):
        began = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * epoch / job["epochs"]))
        model.train()
        for x, y in train_data.batches(job["batch"], shuffle=True, seed=job["seed"] * 1000 + epoch):
            train_batch(model, optimizer, x, y)
        seconds.append(time.perf_counter() - began)
    model.eval()
    return {"test_accuracy": evaluate(model, test_data), "train_accuracy": evaluate(model, train_data),
            "parameters": parameter_count(model), "seconds_per_epoch": statistics.mean(seconds),
            "settings": f"bptt adam lr {lr} batch {job['batch']} hidden {hidden}"}


def ltc_parameters(job: dict[str, Any]) -> int:
    """Trainable parameters of the job's recurrent LTC network (what the baselines are sized to)."""
    from lava_fptt.training.trainer import build_model

    model = build_model(spiking_config({**job, "model": "ltc-bptt"}))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def finished(csv_path: pathlib.Path) -> set[tuple[str, int, int]]:
    if not csv_path.exists():
        return set()
    with open(csv_path, newline="") as f:
        return {(r["model"], int(r["seed"]), int(r["epochs"])) for r in csv.DictReader(f)}


def append_row(csv_path: pathlib.Path, row: dict[str, Any]) -> None:
    new = not csv_path.exists()
    with open(csv_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        writer.writerow({k: row[k] for k in FIELDS})
        f.flush()
        os.fsync(f.fileno())


def summary(csv_path: pathlib.Path, epochs: int) -> str:
    """Markdown table: mean and spread over seeds per model, at ``epochs``."""
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epochs"]) == epochs]
    lines = ["| model | parameters | test accuracy % (mean ± std, seeds) | per seed | s / epoch | peak MB |",
             "|---|---|---|---|---|---|"]
    for model in MODELS:
        mine = [r for r in rows if r["model"] == model]
        if not mine:
            continue
        acc = [100 * float(r["test_accuracy"]) for r in mine]
        spread = statistics.stdev(acc) if len(acc) > 1 else 0.0
        lines.append(f"| {model} | {int(mine[0]['parameters']):,} | {statistics.mean(acc):.1f} ± {spread:.1f} "
                     f"({len(acc)}) | {' / '.join(f'{a:.1f}' for a in acc)} | "
                     f"{statistics.mean(float(r['seconds_per_epoch']) for r in mine):.1f} | "
                     f"{max(float(r['peak_mb']) for r in mine):.0f} |")
    return "\n".join(lines)


def main() -> None:
    from lava_fptt.cli.train import algo_default

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist1d", help="mnist1d (default) or digits")
    parser.add_argument("--encoding", help="the data set's default (mnist1d: pixel, one value per step)")
    parser.add_argument("--data-samples", type=int, help="mnist1d: a smaller draw (train and test together)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2,
                        help="learning rate of the spiking models but ltc-fptt (default: 1e-2)")
    parser.add_argument("--baseline-lr", type=float, default=3e-3, help="learning rate of the GRU and the LSTM")
    parser.add_argument("--baseline-hidden", type=int,
                        help="units of the GRU and the LSTM (default: the parameter count nearest the LTC network's)")
    parser.add_argument("--reset-frac", type=float, default=0.0,
                        help="LTC: the fraction of the membrane a spike removes (default: 0, no reset)")
    parser.add_argument("--loss-gain", type=float, default=8.0, help="spiking models: the readout's logit gain")
    parser.add_argument("--readout-gate-bias", type=float,
                        help="LTC: the readout's initial membrane-gate bias (default: the block's, -4)")
    parser.add_argument("--tbptt-chunk", type=int, default=8)
    parser.add_argument("--fptt-chunk", type=int, default=algo_default("fptt", "chunk"),
                        help="default: lava-fptt train --algo fptt's, %(default)s")
    parser.add_argument("--fptt-optimizer", default=algo_default("fptt", "optimizer"),
                        help="adam or adamax (default: lava-fptt train --algo fptt's, %(default)s)")
    parser.add_argument("--fptt-lr", type=float, default=algo_default("fptt", "lr"),
                        help="default: lava-fptt train --algo fptt's, %(default)s")
    parser.add_argument("--fptt-batch", type=int, default=algo_default("fptt", "batch_size"),
                        help="default: lava-fptt train --algo fptt's, %(default)s")
    parser.add_argument("--fptt-alpha", type=float, help="FPTT's regularizer strength (default: the method's, 0.1)")
    parser.add_argument("--fptt-clip", type=float,
                        help="FPTT's gradient norm clip, 0 for none (default: the method's, 1)")
    parser.add_argument("--fptt-soft-target", action="store_true",
                        help="FPTT: the sFPTT reference's soft target for early chunks")
    parser.add_argument("--fptt-late-weighting", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "temporal"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_job(json.loads(args.worker))))
        return
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "runs.csv"
    from lava_fptt.data import load_dataset, DEFAULT_ENCODINGS, Encoding

    default = DEFAULT_ENCODINGS[args.dataset]
    probe = load_dataset(args.dataset, "test", encoding=Encoding(args.encoding or default.kind, steps=default.steps,
                                                                  levels=default.levels), data_samples=args.data_samples)
    done = finished(csv_path)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for seed in args.seeds:
        for model in args.models:
            if (model, seed, args.epochs) in done:
                continue
            job = {key: value for key, value in vars(args).items() if key not in ("worker", "out", "models", "seeds")}
            job.update(model=model, seed=seed, channels=probe.num_channels, classes=probe.num_classes,
                       run_dir=str(out / "runs" / f"{model}-s{seed}-e{args.epochs}"))
            began = time.perf_counter()
            print(f"{model} seed {seed}: training {args.epochs} epochs ...", file=sys.stderr, flush=True)
            done_proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env,
                                       capture_output=True, text=True)
            if done_proc.returncode != 0:
                print(done_proc.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{model} seed {seed} failed (exit {done_proc.returncode})")
            row = json.loads(done_proc.stdout.strip().splitlines()[-1])
            append_row(csv_path, row)
            print(f"{model} seed {seed}: test {100 * row['test_accuracy']:.2f} % "
                  f"({time.perf_counter() - began:.0f} s)", file=sys.stderr, flush=True)
    table = summary(csv_path, args.epochs)
    header = (f"{args.dataset} ({probe.num_steps} steps, {probe.num_channels} channels, {len(probe)} test "
              f"sequences), {args.epochs} epochs, "
              f"hidden {args.hidden}, seeds {args.seeds}\n\n")
    (out / "summary.md").write_text(header + table + "\n")
    print(header + table)


if __name__ == "__main__":
    main()
