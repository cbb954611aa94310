"""Saving and loading a learned SSNN-BP network: integer weights plus its configuration."""
from __future__ import annotations

import json
import pathlib

import numpy as np

from ..files import atomic_path
from ..neurons.ssnn import check_weights
from .config import SsnnConfig


def save_network(path: str | pathlib.Path, config: SsnnConfig, w1: np.ndarray, w2: np.ndarray) -> pathlib.Path:
    """Write ``w1``, ``w2`` (int16) and the config (JSON) into one .npz file, atomically; return its path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, w1=np.asarray(w1, dtype=np.int16), w2=np.asarray(w2, dtype=np.int16),
                 config=np.array(json.dumps(config.to_dict())))
    return path


def load_network(path: str | pathlib.Path) -> tuple[SsnnConfig, np.ndarray, np.ndarray]:
    """Read a file written by :func:`save_network`; the weights are validated against the config.

    Raises ``FileNotFoundError``, or ``ValueError`` naming the file when it is not such a
    network (truncated, corrupt, other contents, weights that do not fit the config).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "network file not found", str(path))
    try:
        with np.load(path) as data:
            config = SsnnConfig(**json.loads(str(data["config"])))
            w1 = check_weights("w1", data["w1"], (config.n_hidden, config.n_in))
            w2 = check_weights("w2", data["w2"], (config.n_out, config.n_hidden))
    except Exception as err:  # a damaged .npz raises BadZipFile, EOFError, KeyError, ValueError, ...
        raise ValueError(f"{path}: not an SSNN-BP network file ({type(err).__name__}: {err})") from None
    return config, w1, w2
