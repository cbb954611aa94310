"""K copies of a dense network side by side in one file, so that one Lava run advances K samples per step.

Lava's CPU simulation costs mostly per step and per process (messages between OS
processes), little per neuron: a network of a few hundred neurons runs about as many
steps per second as one several times wider. :func:`widen` therefore writes a netx file
holding ``copies`` independent copies of a network, layer by layer:

- a ``dense`` / ``dense_rec`` layer's weights become block-diagonal (copy ``k`` reads
  inputs ``k * I .. (k + 1) * I - 1`` and drives neurons ``k * O .. (k + 1) * O - 1``),
  recurrent weights too, so no copy sees another's spikes;
- per-neuron arrays (bias, delays, an LTC layer's neuron registers) are repeated once per
  copy; scalar parameters (slayer's shared CUBA decays and threshold) stay as they are;
- everything else (types, exponents, the file's metadata) is copied unchanged.

Every integer is the original's and every neuron's arithmetic is elementwise, so each
copy computes exactly what the original network computes on its own sample
(``tests/test_lava_parallel.py`` checks spikes, CUBA and LTC, fixed point, against
one sample at a time). :func:`netx_export.inference.run_in_lava` uses it for ``parallel > 1``.
Layers with a spatial structure (conv, pool, flatten) are refused: their copies would
need a channel layout netx does not build.
"""
from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from .errors import NetworkFileError
from lava_fptt.blocks.netx_format import dataset_text
from .loader import describe

DENSE_KINDS = ("dense", "dense_rec")
PER_NEURON = ("bias", "delay")
"""Layer datasets holding one value per output neuron (repeated per copy when they do)."""


def block_diagonal(weight: np.ndarray, copies: int) -> np.ndarray:
    """``copies`` copies of ``weight`` [O, I] on the diagonal of a [copies * O, copies * I] matrix of zeros."""
    out, inp = weight.shape
    wide = np.zeros((copies * out, copies * inp), dtype=weight.dtype)
    for k in range(copies):
        wide[k * out:(k + 1) * out, k * inp:(k + 1) * inp] = weight
    return wide


def repeat_per_neuron(values: np.ndarray, neurons: int, copies: int) -> np.ndarray:
    """``values`` repeated per copy if it holds one entry per neuron (first axis), else unchanged."""
    if values.ndim >= 1 and values.shape[0] == neurons:
        return np.concatenate([values] * copies, axis=0)
    return values


def widen(path: str | pathlib.Path, copies: int, out: str | pathlib.Path) -> pathlib.Path:
    """Write ``copies`` copies of the dense network in ``path`` side by side into ``out`` (module docstring)."""
    import h5py

    if copies < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    summary = describe(path)
    spatial = [i for i, kind in enumerate(summary.layer_types) if kind not in DENSE_KINDS + ("input",)]
    if spatial:
        raise NetworkFileError(f"{summary.path}: layer {spatial[0]} is a {summary.layer_types[spatial[0]]!r} layer; "
                               "parallel copies are built for networks of dense layers only (run it with parallel 1)")
    out = pathlib.Path(out)
    with h5py.File(path, "r") as source, h5py.File(out, "w") as target:
        for key, value in source.attrs.items():
            target.attrs[key] = value
        for name in source:
            if name != "layer":
                source.copy(source[name], target, name=name)
        layers = target.create_group("layer")
        for index in sorted(source["layer"], key=int):
            _widen_layer(source["layer"][index], layers.create_group(index), copies)
    return out


def _widen_layer(source: Any, target: Any, copies: int) -> None:
    kind = dataset_text(source["type"][()])
    neurons = _neurons(source, kind)
    for key, value in source.attrs.items():
        target.attrs[key] = value

    def copy(src: Any, dst: Any) -> None:
        for name, item in src.items():
            if hasattr(item, "items"):  # a sub-group (neuron/...)
                copy(item, dst.create_group(name))
                continue
            data = item[()]
            if name in ("weight", "weight_rec") and kind in DENSE_KINDS:
                data = block_diagonal(np.asarray(data), copies)
            elif name in ("shape", "inFeatures", "outFeatures"):
                data = _wider_size(name, data, copies)
            elif src.name.endswith("/neuron") or name in PER_NEURON:
                data = repeat_per_neuron(np.asarray(data), neurons, copies) if neurons else data
            dst.create_dataset(name, data=data)
            for key, value in item.attrs.items():
                dst[name].attrs[key] = value

    copy(source, target)


def _neurons(group: Any, kind: str) -> int:
    """Output neurons of a layer (0 if it states none)."""
    if kind in DENSE_KINDS and "weight" in group:
        return int(group["weight"].shape[0])
    return int(np.prod(group["shape"][()])) if "shape" in group else 0


def _wider_size(name: str, data: Any, copies: int) -> Any:
    """A flat layer's ``shape`` (its one axis longer than 1) or feature count, times copies."""
    if name == "shape":
        shape = np.array(data, copy=True).reshape(-1)
        longer = np.flatnonzero(shape > 1)
        if len(longer) > 1:
            raise NetworkFileError(f"a layer of shape {tuple(shape)} is not flat; parallel copies are built for "
                                   "networks of dense layers only (run it with parallel 1)")
        shape[longer[0] if len(longer) else 0] *= copies
        return shape.reshape(np.shape(data))
    return np.asarray(data) * copies
