"""Checkpoints written atomically: a crash mid-write never replaces a good checkpoint."""
from __future__ import annotations

import os
import pathlib
import tempfile
from typing import Any

import torch


def save_atomic(state: dict[str, Any], path: pathlib.Path) -> None:
    """torch.save to a temporary file beside ``path``, fsync, then rename over it."""
    path = pathlib.Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(text: str, path: pathlib.Path) -> None:
    """Write a small text file (config, metrics) so readers never see half of it."""
    path = pathlib.Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def load(path: pathlib.Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)
