"""Checks of the layers netx builds (CUBA/LOIHI, SDNN, RF neurons), before anything is built.

netx hands a file's numbers to Lava as they are: a NaN or 1e9 weight, a threshold of 0 or
2**40, a decay of 5000 all build and run, and the network then computes something else
(measured: accuracy 0.05-0.15, ``spike_match`` 0 to 0.79, exit status 0). netx itself only
clips weights beyond 8 bits, with a printed warning. :func:`check_netx_layer` refuses such
a layer with one line naming the file, the layer, the field and the range it must be in;
:func:`netx_export.loader.describe` calls it for every layer that is not ours (LTC layers
are checked by :mod:`netx_export.builder` against their own registers).

The ranges are those of what netx builds (``lava/lib/dl/netx/hdf5.py``) in Lava's
fixed-point models (``lava/proc/lif/models.py``, ``lava/proc/dense/models.py``):

- weights (dense, dense_rec, conv, pool): integers in [-256, 254], an 8-bit mantissa scaled by
  2 (netx would clip others); delays: integers in [0, 62] (netx would clip);
- CUBA/LOIHI neurons: ``iDecay`` and ``vDecay`` integers in [0, 4096] (of 4096; netx passes
  ``du = iDecay - 1``, ``dv = vDecay``), ``vThMant`` in [1, 2**17 - 1] (Lava LIF's 17-bit
  ``vth``; a graded readout, :mod:`.readout`, in [2**17, 2**18 - 1], a threshold it never
  reaches), a ``bias`` within the 13-bit signed ``bias_mant``;
- a dense layer's weight is ``[out, in]`` (or 1-D, which netx reshapes), its sizes agree
  with ``inFeatures``/``outFeatures``/``shape`` and with the layer before.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from lava_fptt.kinds import KINDS

from .errors import NetworkFileError
from .readout import GRADED_VTH_MANT, NEVER

NETX_NEURONS = ("CUBA", "LOIHI", "SDNN")
"""Neuron types netx builds by name; netx also builds every type whose name contains 'RF'."""
WEIGHT_RANGE = (-256, 254)
DELAY_RANGE = (0, 62)
DECAY_RANGE = (0, 4096)
THRESHOLD_RANGE = (1, (1 << 17) - 1)
BIAS_RANGE = (-(1 << 12), (1 << 12) - 1)
CUBA_FIELDS = ("iDecay", "vDecay", "vThMant")
WEIGHTED = ("dense", "dense_rec", "conv", "pool")


def is_netx_neuron(neuron: str) -> bool:
    """True for the neuron types netx itself builds."""
    return neuron in NETX_NEURONS or "RF" in neuron


def check_numbers(where: str, name: str, values: Any, low: Optional[float] = None,
                  high: Optional[float] = None) -> np.ndarray:
    """``values`` as an array of finite integers within [low, high], or NetworkFileError
    naming ``where`` and ``name``; the message shows the range found, never the array."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise NetworkFileError(f"{where}: {name} must be numbers, found dtype {array.dtype}")
    if array.size == 0:
        return array
    if not np.isfinite(array).all():
        raise NetworkFileError(f"{where}: {name} holds NaN or infinite values")
    if (array != np.round(array)).any():
        raise NetworkFileError(f"{where}: {name} must hold integers, found {array[array != np.round(array)].flat[0]}")
    if (low is not None and array.min() < low) or (high is not None and array.max() > high):
        found = f"is {_number(array.flat[0])}" if array.size == 1 else \
            f"holds values in [{_number(array.min())}, {_number(array.max())}]"
        raise NetworkFileError(f"{where}: {name} must be in [{low}, {high}], {found}")
    return array


def _number(value: Any) -> str:
    """An integral value without a decimal point or exponent (2**40 as 1099511627776)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def dense_sizes(where: str, group: Any) -> tuple[int, int]:
    """(inputs, outputs) of a dense layer, checked against its weight's shape."""
    weight = group["weight"]
    if weight.ndim not in (1, 2):
        raise NetworkFileError(f"{where}: weight has shape {weight.shape}; a dense layer's weight is [out, in]")
    declared_out = int(np.prod(group["shape"][()])) if "shape" in group else None
    n_out = int(group["outFeatures"][()]) if "outFeatures" in group else declared_out or int(weight.shape[0])
    if weight.ndim == 1:
        if n_out < 1 or weight.shape[0] % n_out:
            raise NetworkFileError(f"{where}: a 1-D weight of {weight.shape[0]} values is no [out={n_out}, in] matrix")
        shape: tuple[int, ...] = (n_out, weight.shape[0] // n_out)
    else:
        shape = tuple(int(s) for s in weight.shape)
    n_in = int(group["inFeatures"][()]) if "inFeatures" in group else shape[1]
    if shape != (n_out, n_in) or declared_out not in (None, n_out):
        raise NetworkFileError(f"{where}: weight has shape {tuple(weight.shape)}, but the layer declares "
                               f"{n_in} inputs and {n_out} outputs")
    if "weight_rec" in group and tuple(group["weight_rec"].shape) != (n_out, n_out):
        raise NetworkFileError(f"{where}: weight_rec has shape {tuple(group['weight_rec'].shape)}, "
                               f"needs {(n_out, n_out)}")
    return n_in, n_out


def check_netx_layer(where: str, group: Any, kind: str, neuron: Optional[str]) -> None:
    """Refuse a layer (h5py group of ``kind``, built by netx) whose numbers Lava would misread."""
    if neuron is not None and not is_netx_neuron(neuron):
        raise NetworkFileError(f"{where}: unknown neuron type {neuron!r}; netx builds "
                               f"{', '.join(NETX_NEURONS)} and RF types, this package "
                               f"{', '.join(k.netx_type for k in KINDS.values() if k.built_here)}")
    if kind in ("dense", "dense_rec"):
        if "weight" not in group:
            raise NetworkFileError(f"{where}: dense layer has no 'weight'")
        dense_sizes(where, group)
    if kind in WEIGHTED:
        for name in ("weight", "weight_rec"):
            if name in group:
                check_numbers(where, name, group[name][()], *WEIGHT_RANGE)
        if "delay" in group:
            check_numbers(where, "delay", group["delay"][()], *DELAY_RANGE)
    elif "weight" in group:
        check_numbers(where, "weight", group["weight"][()])
    if neuron in ("CUBA", "LOIHI"):
        missing = [f"neuron/{name}" for name in CUBA_FIELDS if name not in group["neuron"]]
        if missing:
            raise NetworkFileError(f"{where}: {neuron} neuron lacks {', '.join(missing)}")
        check_numbers(where, "neuron/iDecay", group["neuron/iDecay"][()], *DECAY_RANGE)
        check_numbers(where, "neuron/vDecay", group["neuron/vDecay"][()], *DECAY_RANGE)
        threshold = np.asarray(group["neuron/vThMant"][()])
        graded_readout = kind == "dense" and threshold.size == 1 and GRADED_VTH_MANT <= threshold.item() <= NEVER
        if not graded_readout:  # a graded readout's threshold is one it never reaches (.readout)
            check_numbers(where, "neuron/vThMant", threshold, *THRESHOLD_RANGE)
        if "bias" in group:
            check_numbers(where, "bias", group["bias"][()], *BIAS_RANGE)
    elif "bias" in group:
        check_numbers(where, "bias", group["bias"][()])


def require_neurons(path: Any, layer_types: tuple[str, ...], neuron_types: tuple[Optional[str], ...]) -> None:
    """Refuse a weighted layer without a neuron group for a spiking run: netx would put a
    non-spiking integrator there (``vThMant`` 2**17), so no spikes would come out of it."""
    for index, (kind, neuron) in enumerate(zip(layer_types, neuron_types)):
        if kind in WEIGHTED and neuron is None:
            raise NetworkFileError(f"{path}: layer {index} ({kind}) has no neuron group; netx would build a "
                                   f"non-spiking integrator in its place, so no spikes can be read from it")
