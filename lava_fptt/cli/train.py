"""``lava-fptt train``: train a spiking network and write a run directory."""
from __future__ import annotations

import argparse
from typing import Any, Optional

from ..data import load_dataset
from ..models.network import MODELS, NetworkConfig
from ..training import METHODS, TrainConfig, distributed, train
from ..training.config import OPTIMIZERS
from ..training.methods.sltt import DEFAULT_CHUNK
from .common import add_data, add_json, encoding_from

# Options passed to the method under the same name, and only when given on the command line.
METHOD_OPTIONS = ("chunk", "k", "alpha", "clip", "mse_weight", "late_weighting")
ALGO_DEFAULTS: dict[str, dict[str, Any]] = {"fptt": {"optimizer": "adam", "chunk": 8, "lr": 1e-2}}
"""Defaults of a method's command line where the measured best differs from the general ones
(FPTT: the best of the ablation of the sFPTT reference's settings on MNIST-1D,
``docs/temporal-benchmark.md``)."""
DEFAULT_LR = 3e-3


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="train a network (writes checkpoint, config, metrics, plot)",
                            description="Train a spiking network in lava-dl and write RUN_DIR with an atomically "
                                        "written checkpoint, config.json, metrics.json and training.png. "
                                        "Running again on the same RUN_DIR resumes after the last completed epoch.")
    parser.add_argument("--model", choices=MODELS, default="cuba",
                        help="neuron model: cuba (slayer CUBA layers) or ltc (LTC layers, graded readout); default cuba")
    parser.add_argument("--recurrent", action="store_true",
                        help="cuba and ltc: hidden layers with recurrent weights, s[t] = f(W x[t] + R s[t-1]) "
                             "(the output layer stays feed-forward)")
    parser.add_argument("--reset-frac", type=float, default=0.0,
                        help="ltc: fraction of the membrane a spike removes (0: none, default; 1: hard reset)")
    parser.add_argument("--algo", choices=sorted(METHODS), default="bptt", help="training method (default: bptt)")
    add_data(parser)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer sizes (default: 128)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs (default: 8)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    parser.add_argument("--lr", type=float,
                        help=f"learning rate (default: {DEFAULT_LR}, for fptt {ALGO_DEFAULTS['fptt']['lr']})")
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
    parser.add_argument("--ddp", action="store_true",
                        help="data-parallel training; launch with torchrun --nproc_per_node N -m lava_fptt.cli train --ddp")
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory to create or resume")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json(parser)
    parser.set_defaults(handler=run)


def method_params(args: argparse.Namespace) -> dict[str, Any]:
    """The method's hyperparameters given on the command line (stored in ``TrainConfig.algo_params``)."""
    params = {name: getattr(args, name) for name in METHOD_OPTIONS if getattr(args, name, None) is not None}
    defaults = ALGO_DEFAULTS.get(args.algo, {})
    if "chunk" in defaults:
        params.setdefault("chunk", defaults["chunk"])
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
    sizes = (probe.num_channels, *args.hidden, probe.num_classes)
    config = TrainConfig(dataset=args.dataset, data_dir=args.data_dir, **draw, encoding=encoding,
                         network=NetworkConfig(sizes=sizes, model=args.model, recurrent=getattr(args, "recurrent", False),
                                               reset_frac=getattr(args, "reset_frac", 0.0)),
                         algo=args.algo, algo_params=method_params(args), epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr or ALGO_DEFAULTS.get(args.algo, {}).get("lr", DEFAULT_LR),
                         optimizer=getattr(args, "optimizer", None) or ALGO_DEFAULTS.get(args.algo, {}).get("optimizer", "adam"),
                         lr_schedule=getattr(args, "lr_schedule", "constant"),
                         loss_gain=getattr(args, "loss_gain", 8.0),
                         seed=args.seed,
                         train_limit=args.train_limit)
    result = train(config, args.out, progress=not args.no_progress)
    return result if rank == 0 else None
