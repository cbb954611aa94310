"""Training runs: epochs over a data set, metrics, plots, and resumable checkpoints.

A run directory holds ``config.json`` (the full :class:`TrainConfig`), ``checkpoint.pt``
(model, optimizer and method state after the last completed epoch, written atomically),
``metrics.json`` (one record per epoch) and ``training.png`` (loss and accuracy per
epoch). Training an existing run directory with the same config resumes after its last
completed epoch. Under ``torchrun`` with ``--ddp`` the processes train one model
data-parallel (see :mod:`.distributed`). A run of a user's network class also holds a
copy of its file (``network.py``), a run that fine-tunes a netx file a copy of that file
(``initial.net``), from which resuming, exporting and running rebuild it.

The network decides how the data is laid out (``[N, C, T]``, or ``[N, C, H, W, T]`` for
a network whose first block is a conv or pool block: :func:`resolve`), and the
checkpoint holds the lava-dl network's own ``state_dict`` (``net.state_dict()``).
"""
from __future__ import annotations

import itertools
import json
import pathlib
import sys
import time
from dataclasses import replace
from typing import Any, Optional, Union

import torch
from tqdm.auto import tqdm

from ..data import SpikeDataset, load_dataset, load_splits
from ..files import atomic_path, remove_stale_temporaries, writable_dir
from ..models.network import SpikingNetwork, migrate_state_dict, network_layout, predict
from ..models.user import USER_FILE, keep_copy
from . import distributed
from .checkpoint import (CHECKPOINT, CONFIG, RunDirError, check_finite, load, read_config, resume_state, save_atomic,
                         write_text_atomic)
from .config import TrainConfig, epoch_lr, make_optimizer
from .engine import SequenceLoss, sequence_loss, unwrap
from .methods import make_method
from .soft_target import SoftTargetCrossEntropy

METRICS, PLOT = "metrics.json", "training.png"


def resolve(config: TrainConfig, source_file: Optional[pathlib.Path] = None) -> TrainConfig:
    """``config`` with the data layout the network wants and the input shape the data has.

    The layout is read from the network itself (its first block: images for conv and
    pool blocks), so a user's class needs no flag; the input shape of ``arch`` and user
    networks is the data's. Refuses a dense stack whose input size is not the data's.
    """
    layout = network_layout(config.network, source_file)
    config = replace(config, encoding=replace(config.encoding, layout=layout))
    probe = load_dataset(config.dataset, "test", config.data_dir, config.encoding,
                         data_seed=config.data_seed, data_samples=config.data_samples)
    network = config.network
    if network.kind == "stack" or network.input_shape is not None:
        if network.sample_shape != probe.input_shape:
            raise ValueError(f"{config.dataset} with encoding {config.encoding.kind!r} gives samples of shape "
                             f"{probe.input_shape}; the network takes {network.sample_shape}")
        return config
    return replace(config, network=replace(network, input_shape=probe.input_shape,
                                           sizes=(probe.input_shape[0], network.sizes[-1])))


def datasets(config: TrainConfig) -> tuple[SpikeDataset, SpikeDataset]:
    """The training and test splits of a resolved config (:func:`resolve`)."""
    return load_splits(config.dataset, config.data_dir, config.encoding, data_seed=config.data_seed,
                       data_samples=config.data_samples)


@torch.no_grad()
def evaluate(model: SpikingNetwork, data: SpikeDataset, batch_size: int = 256, limit: Optional[int] = None,
             device: Optional[torch.device] = None) -> float:
    """Test accuracy over whole sequences, with the network's own prediction rule (batches on ``device``)."""
    correct = total = 0
    for x, y in data.batches(batch_size, limit=limit):
        if device is not None:
            x, y = x.to(device), y.to(device)
        correct += int((model.predict(model.run(x)) == y).sum())
        total += len(y)
    return correct / max(total, 1)


def load_run(run_dir: str | pathlib.Path) -> tuple[TrainConfig, SpikingNetwork, dict[str, Any]]:
    """Config, trained network and checkpoint of a run directory."""
    run_dir = pathlib.Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: run directory not found")
    for name in (CONFIG, CHECKPOINT):
        if not (run_dir / name).is_file():
            raise RunDirError(f"{run_dir}: no {name} (not a training run, or no epoch completed yet)")
    config = read_config(run_dir / CONFIG)
    state = load(run_dir / CHECKPOINT)
    model = build_model(config, run_dir / (config.network.source_copy or USER_FILE))
    load_weights(model, state["model"], run_dir)
    return config, model, state


def load_weights(model: SpikingNetwork, weights: dict[str, Any], run_dir: pathlib.Path) -> None:
    """Load a checkpoint's network state (older runs' names migrated) or refuse it naming the run."""
    try:
        model.net.load_state_dict(migrate_state_dict(weights))
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise RunDirError(f"{run_dir}: the checkpoint does not fit the network its config describes ({first}); "
                          "it was written by another version of the network") from None


def build_model(config: TrainConfig, source_file: Optional[Union[str, pathlib.Path]] = None) -> SpikingNetwork:
    """A network for ``config`` whose lazily shaped slayer parts are initialised.

    ``source_file``: the file of a user's network class or the netx file to fine-tune
    (:attr:`~lava_fptt.models.network.NetworkConfig.source_copy`).
    """
    model = SpikingNetwork(config.network, pathlib.Path(source_file) if source_file else None)
    shape = config.network.sample_shape
    try:
        model.run(torch.zeros(1, *shape, 1))  # slayer sets neuron shapes on first call
    except (RuntimeError, AssertionError) as err:  # a network whose layers do not fit the data
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"the network cannot take samples of shape {shape} (x time): {first}") from None
    return model


def plot_metrics(metrics: list[dict[str, Any]], path: pathlib.Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [m["epoch"] for m in metrics]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, [m["train_loss"] for m in metrics], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax_acc.plot(epochs, [m["train_accuracy"] for m in metrics], marker="o", label="train")
    ax_acc.plot(epochs, [m["test_accuracy"] for m in metrics], marker="o", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1))
    ax_acc.legend()
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def train(config: TrainConfig, run_dir: str | pathlib.Path, progress: bool = True,
          source_file: Optional[Union[str, pathlib.Path]] = None,
          device: Union[str, torch.device] = "cpu") -> dict[str, Any]:
    """Train (or resume) the run in ``run_dir``; return the final metrics and paths.

    ``source_file`` is the file of a user's network class (``config.network.source``) or
    the netx file to fine-tune (``config.network.init``); the run keeps a copy and a
    resumed run uses its copy. The network is built (and a
    network the online engine cannot carry refused) before anything is written. Inside
    a process group (see :mod:`.distributed`) every rank trains its share of the
    batches through DDP and only rank 0 writes the run directory. ``device`` is where the
    network and the batches live (:func:`lava_fptt.device.resolve_device`; not part of the
    run's config: a run may resume on another device; checkpoints are read onto the CPU).
    """
    rank, world = distributed.rank_and_world()
    lead = rank == 0
    method = make_method(config.algo, **config.algo_params)  # refuse bad parameters before touching run_dir
    run_dir = pathlib.Path(run_dir)
    copy = config.network.source_copy
    if copy is not None and (run_dir / copy).is_file():  # resuming: the run's own copy
        source_file = run_dir / copy
        config = replace(config, network=config.network.described(source_file))
    config = resolve(config, pathlib.Path(source_file) if source_file else None)
    torch.manual_seed(config.seed)
    network = build_model(config, source_file)
    train_data, test_data = datasets(config)
    outputs = network.run(torch.zeros(1, *config.network.sample_shape, 1)).shape[1]
    if outputs != train_data.num_classes:
        raise ValueError(f"the network has {outputs} outputs; {config.dataset} has {train_data.num_classes} classes")
    per_rank = train_data.num_batches(config.batch_size, config.train_limit) // world
    if per_rank < 1:
        raise ValueError(f"fewer training batches than processes ({world}); lower --batch-size")
    state = resume_state(run_dir, config)  # refuses a run of another config before anything is written
    device = torch.device(device)
    if device.type != "cpu" and world > 1:
        raise ValueError("data-parallel training (--ddp) runs CPU processes; leave out --device or --ddp")
    network.to(device)
    optimizer = make_optimizer(config.optimizer, network.parameters(), config.lr)
    loss_fn: SequenceLoss = (SoftTargetCrossEntropy(network.output_kind, config.loss_gain)
                             if getattr(method, "soft_target", False)
                             else sequence_loss(network.output_kind, config.loss_gain, late_weighting=method.late_weighting))
    metrics: list[dict[str, Any]] = []
    start_epoch = 0
    if state is not None:
        load_weights(network, state["model"], run_dir)
        optimizer.load_state_dict(state["optimizer"])
        method.load_state_dict({key: migrate_state_dict(value, "net.") if isinstance(value, dict) else value
                                for key, value in state["method"].items()})
        metrics = state["metrics"]
        start_epoch = state["epoch"]
        if lead:
            tqdm.write(f"resuming {run_dir} after epoch {start_epoch} of {config.epochs}", file=sys.stderr)
    distributed.barrier()  # every rank has read the old config before rank 0 rewrites it
    if lead:
        writable_dir(run_dir)
        if copy is not None and source_file is not None:  # (build_network refused a missing one)
            keep_copy(pathlib.Path(source_file), run_dir, copy)
        for name in (CHECKPOINT, CONFIG, METRICS, PLOT):  # left by a process killed while writing
            remove_stale_temporaries(run_dir, name)
        write_text_atomic(config.to_json(), run_dir / CONFIG)
    model = distributed.wrap(network)

    for epoch in range(start_epoch, config.epochs):
        began = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = epoch_lr(config, epoch)
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        batches = train_data.batches(config.batch_size, shuffle=True, seed=config.seed * 1000 + epoch,
                                     limit=config.train_limit, shard=(rank, world))
        bar = tqdm(itertools.islice(batches, per_rank), total=per_rank,
                   desc=f"epoch {epoch + 1}/{config.epochs} [{config.algo}]",
                   disable=None if progress and lead else True, leave=False)
        for x, y in bar:
            x, y = x.to(device), y.to(device)
            loss, output = method.train_batch(model, x, y, loss_fn, optimizer)
            loss_sum += loss
            correct += int((predict(output, network.output_kind) == y).sum())
            seen += len(y)
            bar.set_postfix(loss=f"{loss:.3f}", acc=f"{correct / seen:.3f}")
        loss_sum, total_correct, total_seen = distributed.sum_over_ranks([loss_sum, correct, seen])
        correct, seen = int(total_correct), int(total_seen)
        check_finite(network, loss_sum / (per_rank * world), epoch + 1)  # the same on every rank
        unwrap(model).reset_state()
        model.eval()
        record = None
        if lead:
            record = {
                "epoch": epoch + 1,
                "train_loss": loss_sum / (per_rank * world),
                "train_accuracy": correct / max(seen, 1),
                "test_accuracy": evaluate(network, test_data, device=device),
                "seconds": time.perf_counter() - began,
            }
            if progress:
                tqdm.write(f"epoch {record['epoch']}: loss {record['train_loss']:.4f} "
                           f"train {record['train_accuracy']:.4f} test {record['test_accuracy']:.4f} "
                           f"({record['seconds']:.1f} s)", file=sys.stderr)
        metrics.append(distributed.from_rank0(record))
        if lead:
            save_atomic({"model": {k: v.cpu() for k, v in network.net.state_dict().items()},
                         "optimizer": optimizer.state_dict(),
                         "method": method.state_dict(), "metrics": metrics, "epoch": epoch + 1},
                        run_dir / CHECKPOINT)
            write_text_atomic(json.dumps(metrics, indent=2), run_dir / METRICS)
            plot_metrics(metrics, run_dir / PLOT, f"{config.network.model} / {config.algo} on {config.dataset}")
        distributed.barrier()

    if not metrics:
        raise RunDirError(f"{run_dir}: no epoch to train (epochs={config.epochs})")
    return {"run_dir": str(run_dir), "test_accuracy": metrics[-1]["test_accuracy"],
            "train_accuracy": metrics[-1]["train_accuracy"], "epochs": len(metrics),
            "seconds": sum(m["seconds"] for m in metrics), "processes": world}
