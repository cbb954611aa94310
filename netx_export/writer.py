"""Writing a trained network to a netx HDF5 file, atomically."""
from __future__ import annotations

import json
import pathlib
from typing import Any, Callable, Optional

import torch

from lava_fptt.files import atomic_path

FORMAT = "lava-fptt/1"


def write_atomic(path: str | pathlib.Path, fill: Callable[[str], None]) -> pathlib.Path:
    """Call ``fill(tmp)`` to write a file beside ``path``, then rename it into place
    (:func:`lava_fptt.files.atomic_path`).

    A failure (or an interruption) never leaves a half-written file at ``path``.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fill(str(tmp))
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
    network. A network with NaN or infinite parameters (a diverged training run) is refused.
    """
    import h5py

    bad = [name for name, p in network.named_parameters() if not bool(torch.isfinite(p).all())]
    if bad:
        raise ValueError(f"the network has NaN or infinite parameters ({', '.join(bad[:4])}): its training "
                         "diverged; nothing exported")

    info: dict[str, Any] = {}
    config, input_shape = getattr(network, "config", None), getattr(network, "input_shape", None)
    if config is not None:
        info["network"] = config.to_dict()
    if input_shape:
        info["input_shape"] = list(input_shape)
    writer: Any = network  # a lava-dl network: it writes itself

    def fill(tmp: str) -> None:
        writer.export_hdf5(tmp)
        with h5py.File(tmp, "a") as f:
            f.attrs["format"] = FORMAT
            f.attrs["config"] = json.dumps({**info, **(metadata or {})})

    return write_atomic(path, fill)
