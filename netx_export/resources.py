"""Sizing a trained network file against Loihi 2's per-core limits (``lava-fptt resources``).

The limits, the bit widths of each neuron model and the per-layer arithmetic are
:mod:`lava_fptt.loihi`'s; this module reads the files: a netx HDF5 network (validated by
:func:`netx_export.loader.describe`) or an SSNN-BP ``.npz`` (:func:`lava_fptt.loihi.ssnn_report`).
"""
from __future__ import annotations

import pathlib

import numpy as np

from lava_fptt.loihi import LOIHI2, CoreLimits, ResourceReport, layer_resources, neuron_bits, ssnn_report

from .errors import NetworkFileError
from .loader import describe


def resource_report(path: str | pathlib.Path, limits: CoreLimits = LOIHI2) -> ResourceReport:
    """Resources of the trained network in ``path`` at ``limits``.

    ``path`` is a netx HDF5 network (``.net``/``.h5``, CUBA and LTC dense layers; recurrent
    ``weight_rec`` counted) or an SSNN-BP ``.npz`` written by ``lava-fptt learn --out``.
    Raises ``ValueError`` (or ``netx_export.NetworkFileError``) for a file it cannot read.
    """
    path = pathlib.Path(path)
    if path.suffix == ".npz":
        return ssnn_report(path, limits)
    return _netx_report(path, limits)


def _netx_report(path: pathlib.Path, limits: CoreLimits) -> ResourceReport:
    import h5py

    summary = describe(path)  # validates the file
    layers = []
    with h5py.File(path, "r") as f:
        for index in range(summary.num_layers):
            group = f["layer"][str(index)]
            kind = summary.layer_types[index]
            if kind not in ("dense", "dense_rec"):
                if kind == "input":
                    continue  # an input layer holds no neurons of its own on a neuro-core
                raise NetworkFileError(f"{path}: layer {index} is {kind!r}; the report covers dense layers only")
            neuron = summary.neuron_types[index] or "none"
            weights = [np.asarray(group[name][()]) for name in ("weight", "weight_rec") if name in group]
            layers.append(layer_resources(index, kind, neuron, weights, weight_bits=8,
                                          bits_per_neuron=neuron_bits(neuron), limits=limits))
    notes = ("weights: Lava Dense, 8-bit mantissa per synapse, stored densely",
             "input spikes come from outside the network (host or another core) and are not counted",
             *(f"layer {layer.index} has no neuron group: netx builds a non-spiking integrator (a LIF with "
               f"threshold 2**17) there, counted as CUBA; it sends no spikes" for layer in layers
               if layer.neuron == "none"))
    return ResourceReport(str(path), "netx", limits, tuple(layers), notes)
