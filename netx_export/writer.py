"""Writing a trained network to a netx HDF5 file, atomically."""
from __future__ import annotations

import json
import os
import pathlib
import tempfile
from typing import Any, Callable, Optional

import torch

FORMAT = "lava-fptt/1"


def write_atomic(path: str | pathlib.Path, fill: Callable[[str], None]) -> pathlib.Path:
    """Call ``fill(tmp)`` to write a file beside ``path``, then rename it into place.

    A failure (or an interruption) never leaves a half-written file at ``path``.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        fill(tmp)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_network(network: torch.nn.Module, path: str | pathlib.Path,
                   metadata: Optional[dict[str, Any]] = None) -> pathlib.Path:
    """Write ``network`` to ``path`` in netx's HDF5 format, by the network's own ``export_hdf5``.

    ``network`` is a lava-dl network with ``export_hdf5(filename)`` (lava-dl's blocks
    write the layers ``layer/0 ... layer/n-1`` as lava-dl writes them), or an
    :class:`~lava_fptt.online.OnlineNetwork` wrapping one. Our metadata (network config,
    data encoding, the input shape (C, H, W) of a network that starts with a conv or
    pool layer, which netx needs in (x, y, f) order) goes into the root attribute
    ``config``, which netx ignores. The file is written beside its destination and
    renamed into place (:func:`write_atomic`), so a failure never leaves a half-written
    network.
    """
    import h5py

    info: dict[str, Any] = {}
    if getattr(network, "config", None) is not None:
        info["network"] = network.config.to_dict()
    if getattr(network, "input_shape", None):
        info["input_shape"] = list(network.input_shape)

    def fill(tmp: str) -> None:
        network.export_hdf5(tmp)
        with h5py.File(tmp, "a") as f:
            f.attrs["format"] = FORMAT
            f.attrs["config"] = json.dumps({**info, **(metadata or {})})

    return write_atomic(path, fill)
