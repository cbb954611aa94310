"""``lava-fptt train``: train a spiking network and write a run directory."""
from __future__ import annotations

import argparse
import pathlib
import sys
from typing import Any, Optional

from ..data import load_dataset
from ..models.network import NetworkConfig, models
from ..models.netx_file import INITIAL_FILE, describe_netx
from ..models.user import USER_FILE, describe_file, parse_spec
from ..training import METHODS, TrainConfig, distributed, train
from ..training.config import OPTIMIZERS
from ..training.methods.sltt import DEFAULT_CHUNK
from ..device import resolve_device
from .common import add_data, add_device, add_json, encoding_from, positive_int

# Options passed to the method under the same name, and only when given on the command line.
METHOD_OPTIONS = ("chunk", "k", "alpha", "clip", "mse_weight", "late_weighting", "soft_target")
DEFAULT_LR = 3e-3
GENERAL_DEFAULTS: dict[str, Any] = {"optimizer": "adam", "lr": DEFAULT_LR, "batch_size": 32}
"""Optimizer, learning rate and batch size of every method unless :data:`ALGO_DEFAULTS` says otherwise."""
ALGO_DEFAULTS: dict[str, dict[str, Any]] = {"fptt": {"chunk": 8, "batch_size": 8}}
"""Defaults of a method's command line where the measured best differs from the general ones (FPTT:
chunks of 8 steps and batches of 8, with Adam at 3e-3, the settings measured best on MNIST-1D (15
epochs) and on digits one pixel per step (40 epochs), ``docs/temporal-benchmark.md``)."""


def algo_default(algo: str, name: str) -> Any:
    """The default of option ``name`` (``optimizer``, ``lr``, ``batch_size``, or a method option such as
    ``chunk`` where :data:`ALGO_DEFAULTS` sets one) for method ``algo``."""
    return ALGO_DEFAULTS.get(algo, {}).get(name, GENERAL_DEFAULTS.get(name))


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="train a network (writes checkpoint, config, metrics, plot)",
                            description="Train a spiking network in lava-dl and write RUN_DIR with an atomically "
                                        "written checkpoint, config.json, metrics.json and training.png. "
                                        "Running again on the same RUN_DIR resumes after the last completed epoch.")
    parser.add_argument("--model", choices=models(), default="cuba",
                        help="neuron model: cuba (slayer CUBA layers) or ltc (LTC layers, graded readout); default cuba")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--arch", metavar="LAYERS",
                       help="a convolutional CUBA network instead of --hidden, e.g. conv:8:3,conv:16:3:2,dense:64 "
                            "(layers conv:F:K[:S[:P]], pool:K, flatten, dense:N; the output layer is added; "
                            "docs/online-training.md); the data come as images [N, 1, H, W, T]")
    shape.add_argument("--network", metavar="FILE.py:CLASS",
                       help="train your own lava-dl network class (constructed with no arguments; slayer CUBA blocks "
                            "and/or lava-fptt LTC blocks); the data layout is read from its first block, and "
                            f"RUN_DIR keeps a copy of FILE.py ({USER_FILE}) for resume, export and run")
    shape.add_argument("--init", metavar="NET.net",
                       help="fine-tune the network of a netx file of CUBA layers, e.g. a NIR graph imported with "
                            "'lava-fptt nir import' (convolutional ones included): its layers become slayer blocks "
                            "with the file's weights, thresholds and decays, which Lava runs spike for spike; "
                            f"RUN_DIR keeps a copy ({INITIAL_FILE}) for resume, export and run (docs/nir.md)")
    parser.add_argument("--recurrent", action="store_true",
                        help="cuba and ltc: hidden layers with recurrent weights, s[t] = f(W x[t] + R s[t-1]) "
                             "(the output layer stays feed-forward)")
    parser.add_argument("--reset-frac", type=float, default=0.0,
                        help="ltc: fraction of the membrane a spike removes (0: none, default; 1: hard reset)")
    parser.add_argument("--readout-gate-bias", type=float, metavar="B",
                        help="ltc: mean initial membrane-gate bias of the readout, tau_m ~ sigmoid(B) (default -4: "
                             "a memory of about 55 steps, best for FPTT and on MNIST-1D; -2: about 8 steps, better "
                             "for BPTT on digits one pixel per step; docs/temporal-benchmark.md)")
    parser.add_argument("--algo", choices=sorted(METHODS), default="bptt", help="training method (default: bptt)")
    add_data(parser)
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden layer sizes of a dense stack (default: 128)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs (default: 8)")
    parser.add_argument("--batch-size", type=positive_int, help=f"batch size (default: {GENERAL_DEFAULTS['batch_size']}, "
                                                        f"for fptt {ALGO_DEFAULTS['fptt']['batch_size']})")
    parser.add_argument("--lr", type=float, help=f"learning rate (default: {DEFAULT_LR})")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                        help="adam, or adamax (the sFPTT reference's); default adam")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="constant, or cosine decay from --lr to 0 over the epochs (default: constant)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--train-limit", type=int, help="use only the first N training samples per epoch")
    parser.add_argument("--loss-gain", type=float, default=8.0,
                        help="cross-entropy logits = gain x output: spike rate (CUBA) or readout at the last step (LTC); default 8")
    group = parser.add_argument_group("method options (passed only when given; defaults are the method's)")
    group.add_argument("--chunk", type=int,
                       help="tbptt, fptt, sltt, sltt-k: steps per chunk (defaults: tbptt 16, fptt "
                            f"{ALGO_DEFAULTS['fptt']['chunk']}, sltt and sltt-k "
                            f"{DEFAULT_CHUNK}; sltt on LTC networks always runs one step per call)")
    group.add_argument("--k", type=int, help="sltt-k: steps with a backward pass per batch (default: 4)")
    group.add_argument("--alpha", type=float, help="fptt: regularizer strength alpha (default: 0.1)")
    group.add_argument("--clip", type=float, help="fptt: gradient norm clip, 0 for none (default: 1)")
    group.add_argument("--mse-weight", type=float, help="sltt, sltt-k: weight of the MSE term (default: 0.05)")
    group.add_argument("--late-weighting", action=argparse.BooleanOptionalAction,
                       help="weight a chunk's loss by t/T (default: on for fptt, off otherwise)")
    group.add_argument("--soft-target", action=argparse.BooleanOptionalAction,
                       help="fptt: add the sFPTT reference's soft target for early chunks to the late-weighted "
                            "loss (default: off)")
    parser.add_argument("--ddp", action="store_true",
                        help="data-parallel training; launch with torchrun --nproc_per_node N -m lava_fptt.cli train --ddp")
    add_device(parser)
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory to create or resume")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json(parser)
    parser.set_defaults(handler=run)


def method_params(args: argparse.Namespace) -> dict[str, Any]:
    """The method's hyperparameters given on the command line (stored in ``TrainConfig.algo_params``)."""
    params = {name: getattr(args, name) for name in METHOD_OPTIONS if getattr(args, name, None) is not None}
    chunk = algo_default(args.algo, "chunk")
    if chunk is not None:
        params.setdefault("chunk", chunk)
    if params.get("clip") == 0:
        params["clip"] = None
    if args.algo == "sltt-k":
        params["seed"] = args.seed
    return params


def run(args: argparse.Namespace) -> Optional[dict[str, Any]]:
    """Train; under ``--ddp`` only rank 0 returns a result (the others print nothing)."""
    if getattr(args, "ddp", False):
        rank, _ = distributed.init()
    elif distributed.launched_by_torchrun():
        raise ValueError("launched by torchrun with several processes: add --ddp (else they would share RUN_DIR)")
    else:
        rank = 0
    encoding = encoding_from(args)
    draw = {"data_seed": getattr(args, "data_seed", None), "data_samples": getattr(args, "data_samples", None)}
    probe = load_dataset(args.dataset, "test", args.data_dir, encoding, **draw)
    network, source_file = network_config(args, probe.num_channels, probe.num_classes)
    config = TrainConfig(dataset=args.dataset, data_dir=args.data_dir, **draw, encoding=encoding, network=network,
                         algo=args.algo, algo_params=method_params(args), epochs=args.epochs,
                         batch_size=args.batch_size or algo_default(args.algo, "batch_size"),
                         lr=args.lr or algo_default(args.algo, "lr"),
                         optimizer=getattr(args, "optimizer", None) or algo_default(args.algo, "optimizer"),
                         lr_schedule=getattr(args, "lr_schedule", "constant"),
                         loss_gain=getattr(args, "loss_gain", 8.0),
                         seed=args.seed,
                         train_limit=args.train_limit)
    result = train(config, args.out, progress=not args.no_progress, source_file=source_file,
                   device=resolve_device(getattr(args, "device", "cpu")))
    return result if rank == 0 else None


def network_config(args: argparse.Namespace, channels: int, classes: int) -> tuple[NetworkConfig, Optional[pathlib.Path]]:
    """The network of the command line (a dense stack, ``--arch``, ``--network`` or ``--init``) and its file."""
    arch, spec, init = getattr(args, "arch", None), getattr(args, "network", None), getattr(args, "init", None)
    if (arch or spec or init) and (args.hidden or getattr(args, "recurrent", False) or args.model != "cuba"):
        option = "--arch" if arch else "--network" if spec else "--init"
        raise ValueError(f"{option} describes the whole network: leave out --hidden, --recurrent and --model")
    if init:
        path = pathlib.Path(init)
        if not path.is_file():
            raise ValueError(f"--init {init}: network file not found")
        copy = pathlib.Path(args.out) / INITIAL_FILE
        if copy.is_file() and describe_netx(copy) != describe_netx(path):
            print(f"lava-fptt train: {path} differs from the run's copy; resuming with {copy}", file=sys.stderr)
        return NetworkConfig(sizes=(channels, classes), init=describe_netx(path)), path
    if spec:
        path, class_name = parse_spec(spec)
        copy = pathlib.Path(args.out) / USER_FILE
        source = describe_file(path, class_name)
        if copy.is_file() and describe_file(copy, class_name) != source:
            print(f"lava-fptt train: {path} differs from the run's copy; resuming with {copy}", file=sys.stderr)
        return NetworkConfig(sizes=(channels, classes), source=source), path
    if arch:
        return NetworkConfig(sizes=(channels, classes), arch=arch), None
    sizes = (channels, *(args.hidden or [128]), classes)
    return NetworkConfig(sizes=sizes, model=args.model, recurrent=getattr(args, "recurrent", False),
                         reset_frac=getattr(args, "reset_frac", 0.0),
                         readout_gate_bias=getattr(args, "readout_gate_bias", None)), None
