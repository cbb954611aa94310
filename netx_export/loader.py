"""Reading a netx HDF5 file back: validation, description, and the Lava processes."""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any, Optional

from .errors import NetworkFileError


@dataclass(frozen=True)
class NetworkSummary:
    """What a network file holds: layer types and sizes, and lava-fptt metadata if present."""

    path: pathlib.Path
    layer_types: tuple[str, ...]
    num_inputs: int
    num_outputs: int
    metadata: dict[str, Any]

    @property
    def num_layers(self) -> int:
        return len(self.layer_types)


def _text(value: Any) -> str:
    if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        value = value[0]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def describe(path: str | pathlib.Path) -> NetworkSummary:
    """Validate ``path`` as a netx network file and summarise it, or raise NetworkFileError."""
    import h5py

    path = pathlib.Path(path)
    if not path.is_file():
        raise NetworkFileError(f"{path}: network file not found")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise NetworkFileError(f"{path}: not an HDF5 file") from None
    with f:
        if "layer" not in f or not isinstance(f["layer"], h5py.Group) or len(f["layer"]) == 0:
            raise NetworkFileError(f"{path}: not a netx network (no group 'layer' with numbered layers)")
        layers = f["layer"]
        names = sorted(layers, key=lambda n: int(n) if n.isdigit() else -1)
        if names != [str(i) for i in range(len(names))]:
            raise NetworkFileError(f"{path}: layers must be numbered 0..{len(names) - 1}, found {names}")
        types, num_inputs, num_outputs = [], None, None
        for name in names:
            group = layers[name]
            if "type" not in group:
                raise NetworkFileError(f"{path}: layer {name} has no 'type'")
            kind = _text(group["type"][()])
            types.append(kind)
            if kind == "dense":
                for key in ("weight", "inFeatures", "outFeatures", "neuron"):
                    if key not in group:
                        raise NetworkFileError(f"{path}: dense layer {name} has no '{key}'")
                if num_inputs is None:
                    num_inputs = int(group["inFeatures"][()])
                num_outputs = int(group["outFeatures"][()])
        if num_inputs is None:
            raise NetworkFileError(f"{path}: no dense layer found; layer types are {types}")
        metadata = json.loads(f.attrs["config"]) if "config" in f.attrs else {}
    return NetworkSummary(path, tuple(types), num_inputs, num_outputs, metadata)


def load_network(
    path: str | pathlib.Path, reset_interval: Optional[int] = None, reset_offset: int = 0
) -> Any:
    """Build the network in ``path`` as Lava processes (a ``netx.hdf5.Network``).

    With ``reset_interval`` every neuron's state is zeroed once per interval, layer by
    layer one step apart (netx's own reset scheme), which lets samples run back to back.
    """
    from lava.lib.dl import netx

    describe(path)
    return netx.hdf5.Network(net_config=str(path), reset_interval=reset_interval, reset_offset=reset_offset)
