"""Driver of SSNN-BP on-chip learning: data in, learned network and measurements out.

:func:`learn` shows the training samples as one continuous stream (a new seeded order each
epoch) to either engine:

- ``'lava'``: the Lava processes under ``Loihi2SimCfg(select_tag='fixed_pt')``, one compiled
  network for the whole stream (batch 1: what one chip does);
- ``'reference'``: the reference simulator (one compiled loop on the CPU, torch on CUDA),
  bit-identical to Lava at ``batch=1``; ``batch > 1`` runs that many independent streams whose updates are summed at every step.

The stream is cut into ``evaluations`` pieces. After each piece the weights are read and the
test split is classified by the reference forward pass (the same integer arithmetic; the
weights are the engine's own), giving the accuracy curve against samples seen. The learning
rate (the output layer's error probability) starts at ``errors_per_sample / T`` and decays
linearly piece by piece, set between pieces as a host would set it on a chip.

With ``out_dir`` the directory is checked before any work (a file in the way or a read-only
place fails at once), and ``network.npz`` is rewritten atomically after every piece: an
interrupted run keeps the weights learned so far, and ``init`` continues from them (with a
new stream; the result is then not the one an uninterrupted run would have given).
"""
from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Optional

import numpy as np
from tqdm.auto import tqdm

from lava_fptt.data import load_splits

from ..neurons import ssnn as ar
from .ann import ann_baseline_accuracy
from ..neurons.ssnn import FLUSH_STEPS, MAX_SEED, check_int, quantize_probability
from .config import SsnnConfig, initial_weights
# Imported first on purpose: Lava sets multiprocessing's start method when it is imported,
# which fails once anything (e.g. tqdm's lock) has fixed the default context.
from .lava_network import LavaSession, build_network
from .reference import ReferenceNetwork, make_streams, predict
from ..files import atomic_path, write_text_atomic, writable_dir
from .storage import load_network, save_network

ENGINES = ("lava", "reference")


def _flat_images(dataset: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """(intensities [N, n_in] in [0, 1], labels [N], classes) of a loaded image data set."""
    images = getattr(dataset.source, "images", None)
    if images is None:
        raise ValueError(f"data set {dataset.name!r} has no images; SSNN-BP learns from intensities")
    labels = np.asarray(dataset.labels)
    classes = dataset.num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{dataset.name} {dataset.split}: labels must be in [0, {classes - 1}], "
                         f"got values in [{labels.min()}, {labels.max()}]")
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(np.int64), classes


def _orders(n: int, epochs: int, batch: int, seed: int) -> np.ndarray:
    """Presentation orders [batch, L]: each epoch a new permutation of the n samples, dealt out
    round-robin to the streams; -1 pads the last presentations of shorter streams."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n) for _ in range(epochs)])
    length = -(-len(order) // batch)
    padded = np.full(length * batch, -1, dtype=np.int64)
    padded[: len(order)] = order
    return padded.reshape(length, batch).T


class _ReferenceEngine:
    """The reference simulator behind the engine interface used by :func:`learn`."""

    def __init__(self, config: SsnnConfig, w1: np.ndarray, w2: np.ndarray, intensity: np.ndarray,
                 labels: np.ndarray, orders: np.ndarray, device: str) -> None:
        self.network = ReferenceNetwork(config, w1, w2, make_streams(intensity, labels, orders, device))

    def run(self, steps: int) -> None:
        self.network.run(steps)

    def set_error_prob(self, error_prob: int) -> None:
        self.network.error_prob = error_prob

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        return self.network.weights()

    def stop(self, clean: bool = True) -> None:
        """Nothing to release."""


def _plot(curve: list[dict[str, float]], ann: float, path: pathlib.Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([p["samples"] for p in curve], [100 * p["accuracy"] for p in curve], "o-", label="SSNN-BP")
    ax.axhline(100 * ann, color="gray", linestyle="--", label="ANN baseline (back-prop)")
    ax.set_xlabel("training samples seen")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def learn(
    dataset: str = "digits",
    data_dir: Optional[str | pathlib.Path] = None,
    engine: str = "reference",
    steps_per_sample: int = 16,
    epochs: int = 1,
    samples: Optional[int] = None,
    hidden: int = 128,
    seed: int = 0,
    out_dir: Optional[str | pathlib.Path] = None,
    progress: bool = True,
    *,
    batch: int = 1,
    errors_per_sample: float = 16.0,
    act_shift: int = 6,
    out_shift: int = 0,
    grad_gain: int = 1024,
    evaluations: int = 10,
    init: Optional[str | pathlib.Path] = None,
    ann_epochs: Optional[int] = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Learn ``dataset`` with SSNN-BP on ``engine`` and measure it.

    ``samples`` limits the training samples (the first of a seeded shuffle; None: all);
    ``epochs`` passes over them. ``errors_per_sample`` is the expected number of error steps
    per sample at the start (capped at T: then every labelled step emits errors). ``init``
    continues from a network saved by an earlier run (its sizes then override ``hidden``);
    ``device`` is the reference simulator's torch device. ``out_dir`` is checked first and gets
    ``network.npz`` after every piece (module docstring). Returns accuracy (final, test split),
    ann_baseline_accuracy (same architecture, back-prop, ``ann_epochs`` or the same epochs),
    steps_per_s and samples_per_s (training only), the curve (accuracy against samples seen),
    the config and, with ``out_dir``, the paths of network.npz, accuracy.png, result.json.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    check_int("steps_per_sample", steps_per_sample, 1, 1 << 16)
    check_int("epochs", epochs, 1, 1 << 16)
    check_int("hidden", hidden, 1, 1 << 15)
    check_int("seed", seed, 0, MAX_SEED)
    check_int("batch", batch, 1, 1 if engine == "lava" else 1 << 16)
    check_int("evaluations", evaluations, 1, 1 << 12)
    if samples is not None:
        check_int("samples", samples, 1, 1 << 31)
    if not 0 < errors_per_sample <= 1 << 16:
        raise ValueError(f"errors_per_sample must be in (0, 65536], got {errors_per_sample}")
    out = None if out_dir is None else writable_dir(out_dir)

    train_set, test_set = load_splits(dataset, data_dir)
    (x_train, y_train, classes), (x_test, y_test, _) = _flat_images(train_set), _flat_images(test_set)
    if samples is not None:
        chosen = np.random.default_rng(seed).permutation(len(x_train))[:samples]
        x_train, y_train = x_train[chosen], y_train[chosen]

    error_prob = min(ar.PROB_ONE, int(round(errors_per_sample / steps_per_sample * ar.PROB_ONE)))
    if init is not None:
        saved, w1, w2 = load_network(init)
        if saved.n_in != x_train.shape[1] or saved.n_out != classes:
            raise ValueError(f"network {init} takes {saved.n_in} inputs and {saved.n_out} classes; data set "
                             f"{dataset!r} has {x_train.shape[1]} inputs and {classes} classes")
        hidden = saved.n_hidden
    config = SsnnConfig(n_in=x_train.shape[1], n_hidden=hidden, n_out=classes, steps_per_sample=steps_per_sample,
                        act_shift=act_shift, out_shift=out_shift, grad_gain=grad_gain, error_prob=error_prob,
                        seed=seed)
    if init is None:
        w1, w2 = initial_weights(config)
    p_train, p_test = quantize_probability(x_train), quantize_probability(x_test)

    orders = _orders(len(x_train), epochs, batch, seed)
    length = orders.shape[1]
    bounds = np.linspace(0, length, min(evaluations, length) + 1).round().astype(int)
    trainer: LavaSession | _ReferenceEngine
    if engine == "lava":
        trainer = LavaSession(build_network(config, w1, w2, x_train, orders[0], y_train))
    else:
        trainer = _ReferenceEngine(config, w1, w2, p_train, y_train, orders, device)

    def accuracy(weights: tuple[np.ndarray, np.ndarray]) -> float:
        return float((predict(config, *weights, p_test, device=device) == y_test).mean())

    curve = [{"samples": 0, "accuracy": accuracy((w1, w2))}]
    train_seconds, steps = 0.0, 0
    bar = tqdm(total=int(length * steps_per_sample + FLUSH_STEPS), unit="step", disable=None if progress else True,
               desc=f"SSNN-BP {engine}")
    clean = False
    try:
        for piece, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
            trainer.set_error_prob(int(error_prob * (len(bounds) - 1 - piece) // (len(bounds) - 1)))
            piece_steps = int((stop - start) * steps_per_sample) + (FLUSH_STEPS if stop == length else 0)
            began = time.perf_counter()
            trainer.run(piece_steps)
            train_seconds += time.perf_counter() - began
            weights = trainer.weights()
            steps += piece_steps
            bar.update(piece_steps)
            seen = int(min(stop * batch, len(x_train) * epochs))
            curve.append({"samples": seen, "accuracy": accuracy(weights)})
            bar.set_postfix(accuracy=f"{curve[-1]['accuracy']:.3f}")
            if out is not None:  # the checkpoint: what was learned so far
                save_network(out / "network.npz", config, *weights)
        clean = True
    finally:
        bar.close()
        trainer.stop(clean)

    presented = len(x_train) * epochs
    ann = ann_baseline_accuracy(x_train, y_train, x_test, y_test, hidden, epochs=ann_epochs or epochs, seed=seed)
    result: dict[str, Any] = {
        "dataset": dataset, "engine": engine, "batch": batch, "epochs": epochs, "train_samples": len(x_train),
        "test_samples": len(x_test), "config": config.to_dict(), "accuracy": curve[-1]["accuracy"],
        "ann_baseline_accuracy": ann, "steps": steps, "train_seconds": train_seconds,
        "steps_per_s": steps / train_seconds, "samples_per_s": presented / train_seconds, "curve": curve,
    }
    if out is not None:
        result["network"] = str(out / "network.npz")
        _plot(curve, ann, out / "accuracy.png", f"SSNN-BP on {dataset}, T={steps_per_sample}, {engine}")
        result["plot"] = str(out / "accuracy.png")
        write_text_atomic(json.dumps(result, indent=2), out / "result.json")
    return result
