"""``lava-fptt train``: train a spiking network and write a run directory."""
from __future__ import annotations

import argparse
from typing import Any

from ..data import load_dataset
from ..models.network import MODELS, NetworkConfig
from ..training import METHODS, TrainConfig, train
from .common import add_data, add_json, encoding_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="train a network (writes checkpoint, config, metrics, plot)",
                            description="Train a spiking network in lava-dl and write RUN_DIR with an atomically "
                                        "written checkpoint, config.json, metrics.json and training.png. "
                                        "Running again on the same RUN_DIR resumes after the last completed epoch.")
    parser.add_argument("--model", choices=MODELS, default="cuba",
                        help="neuron model: cuba (slayer CUBA layers) or ltc (LTC layers, graded readout); default cuba")
    parser.add_argument("--recurrent", action="store_true", help="ltc: hidden layers with recurrent weights")
    parser.add_argument("--reset-frac", type=float, default=0.0,
                        help="ltc: fraction of the membrane a spike removes (0: none, default; 1: hard reset)")
    parser.add_argument("--algo", choices=sorted(METHODS), default="bptt", help="training method (default: bptt)")
    add_data(parser)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer sizes (default: 128)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs (default: 8)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (default: 3e-3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--train-limit", type=int, help="use only the first N training samples per epoch")
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory to create or resume")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> dict[str, Any]:
    encoding = encoding_from(args)
    probe = load_dataset(args.dataset, "test", args.data_dir, encoding)
    sizes = (probe.num_channels, *args.hidden, probe.num_classes)
    config = TrainConfig(dataset=args.dataset, data_dir=args.data_dir, encoding=encoding,
                         network=NetworkConfig(sizes=sizes, model=args.model, recurrent=getattr(args, "recurrent", False),
                                               reset_frac=getattr(args, "reset_frac", 0.0)),
                         algo=args.algo,
                         epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         train_limit=args.train_limit)
    return train(config, args.out, progress=not args.no_progress)
