"""Run directories: checkpoints written atomically, read with clear errors, resumed only as the same run.

A run directory holds ``config.json`` and, once an epoch has completed, ``checkpoint.pt``.
:func:`resume_state` decides what a new call of ``train`` on it may do: start afresh
(no checkpoint yet: nothing was trained), continue (same config), or stop with an error
naming every difference, so that no run silently continues under a mixed configuration.
The one change allowed is more epochs under a constant learning rate: the continued run
is then the run that would have been trained with that many epochs from the start.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import pathlib
from typing import Any, Optional

import torch

from ..files import atomic_path, write_text_atomic
from .config import TrainConfig

CHECKPOINT, CONFIG = "checkpoint.pt", "config.json"
STATE_KEYS = ("model", "optimizer", "method", "metrics", "epoch")

__all__ = ["CHECKPOINT", "CONFIG", "DivergedError", "RunDirError", "check_finite", "load", "read_config",
           "resume_state", "save_atomic", "write_text_atomic"]


class RunDirError(ValueError):
    """A run directory is missing, incomplete, corrupt, or belongs to a different config."""


class DivergedError(ValueError):
    """Training produced a non-finite loss or parameter (nothing of it is saved)."""


def save_atomic(state: dict[str, Any], path: pathlib.Path) -> None:
    """torch.save to a temporary file beside ``path``, fsync, then rename over it.

    The state is serialized in memory and written by Python, so a full disk raises an
    ``OSError`` naming ``path`` (torch's own file writer reports it as an unclear RuntimeError).
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with atomic_path(path, fsync=True) as tmp:
        tmp.write_bytes(buffer.getbuffer())


def load(path: pathlib.Path) -> dict[str, Any]:
    """A checkpoint written by :func:`save_atomic`; :class:`RunDirError` naming the file when
    it is missing, empty, truncated, corrupt or not a training checkpoint."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch.load raises many kinds on damaged files (EOFError, UnpicklingError, ...)
        raise RunDirError(f"{path}: not a readable checkpoint (empty, truncated or corrupt: "
                          f"{type(err).__name__}: {err})") from None
    missing = [key for key in STATE_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise RunDirError(f"{path}: not a checkpoint of 'lava-fptt train' (no {', '.join(missing)})")
    return state


def read_config(path: pathlib.Path) -> TrainConfig:
    """The :class:`TrainConfig` in ``path``; :class:`RunDirError` naming the file when it is not one."""
    path = pathlib.Path(path)
    try:
        return TrainConfig.from_json(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"{path}: not found") from None
    except (ValueError, TypeError, KeyError, AttributeError) as err:  # bad JSON, fields or values
        raise RunDirError(f"{path}: not a valid run config ({type(err).__name__}: {err})") from None


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a.b": value}`` for the leaves of nested dicts."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else key))
    return flat


def config_differences(saved: TrainConfig, config: TrainConfig) -> dict[str, tuple[Any, Any]]:
    """``{field: (saved value, new value)}`` for every field that differs (nested fields dotted)."""
    old, new = (_flat(json.loads(json.dumps(dataclasses.asdict(c)))) for c in (saved, config))
    return {key: (old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)}


def resume_state(run_dir: pathlib.Path, config: TrainConfig) -> Optional[dict[str, Any]]:
    """The checkpoint to continue ``config``'s run from, or None to start it afresh.

    Refuses (:class:`RunDirError`) a run directory that holds a run of another config,
    a cosine schedule stretched over other epochs, or more epochs done than asked for.
    """
    run_dir = pathlib.Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: exists and is not a directory")
    if not (run_dir / CHECKPOINT).exists():
        return None  # no epoch completed: nothing trained to continue or to mix with
    if not (run_dir / CONFIG).exists():
        raise RunDirError(f"{run_dir}: has a {CHECKPOINT} but no {CONFIG}; choose another --out")
    saved = read_config(run_dir / CONFIG)
    state = load(run_dir / CHECKPOINT)
    done = int(state["epoch"])
    differences = config_differences(saved, config)
    epochs = differences.pop("epochs", None)
    if differences:
        listed = "; ".join(f"{key} {old!r} there, {new!r} now" for key, (old, new) in differences.items())
        raise RunDirError(f"{run_dir}: holds a run with a different config ({listed}); rerun with its options "
                          f"to resume, or choose another --out")
    if epochs is not None and config.lr_schedule != "constant":
        raise RunDirError(f"{run_dir}: its {config.lr_schedule} learning-rate schedule spans {saved.epochs} epochs; "
                          f"--epochs {config.epochs} would continue under another schedule; choose another --out")
    if done > config.epochs:
        raise RunDirError(f"{run_dir}: {done} epochs are done already, more than --epochs {config.epochs}")
    return state


def check_finite(model: torch.nn.Module, mean_loss: float, epoch: int) -> None:
    """Raise :class:`DivergedError` when the epoch's mean loss or a parameter is NaN or infinite."""
    bad = [name for name, p in model.named_parameters() if not bool(torch.isfinite(p).all())]
    if math.isfinite(mean_loss) and not bad:
        return
    where = f"; non-finite parameters: {', '.join(bad[:4])}{' ...' if len(bad) > 4 else ''}" if bad else ""
    raise DivergedError(f"epoch {epoch}: training diverged (mean loss {mean_loss}{where}); nothing of this epoch "
                        f"was saved; lower --lr, --loss-gain or the method's options")
