"""The netx layer format of our neurons (LTC, its readout, any kind with a parameter specification):
the writer and the reader side by side (``docs/netx_ltc_format.md``).

A layer is a netx ``dense`` (or ``dense_rec``) group: the integers of its ``Dense``
synapses (``weight``, ``weight_rec``, int16) and their shared ``weightExp``, and a
``neuron`` group with its ``type``, whether it sends graded values (``gradedSpike``,
``messageBits``) and one int32 dataset per parameter of the neuron's specification
(:mod:`lava_fptt.neurons.spec`), one value per neuron. The training blocks write it
(``export_hdf5``); :mod:`netx_export.builder` reads it back into Lava processes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from lava_fptt.neurons.dense import WEIGHT_EXP_WIDTH, WEIGHT_WIDTH
from lava_fptt.neurons.fixed_point import check_fits
from lava_fptt.neurons.spec import ParamSpec


@dataclass(frozen=True)
class NetxLayer:
    """What a layer of our neurons holds: ``Dense`` integers, their exponent, the neuron's integer parameters."""

    weight: np.ndarray
    weight_rec: Optional[np.ndarray]
    weight_exp: int
    params: Any
    """The neuron's integer parameter tuple."""


def write_layer(group: Any, neuron_type: str, message_bits: int, layer: NetxLayer) -> None:
    """Write ``layer`` into the h5py group ``group``: a netx dense layer of ``neuron_type`` neurons.

    ``message_bits`` 0: the neurons send spikes; else graded values of that many bits.
    """
    out_features, in_features = layer.weight.shape
    kind = "dense" if layer.weight_rec is None else "dense_rec"
    group.create_dataset("type", (1,), "S10", [kind.encode("ascii")])
    group.create_dataset("shape", data=np.array([out_features]))
    group.create_dataset("inFeatures", data=in_features)
    group.create_dataset("outFeatures", data=out_features)
    group.create_dataset("weight", data=layer.weight.astype(np.int16))
    if layer.weight_rec is not None:
        group.create_dataset("weight_rec", data=layer.weight_rec.astype(np.int16))
    group.create_dataset("weightExp", data=layer.weight_exp)
    neuron = group.create_group("neuron")
    neuron.create_dataset("type", (1,), "S16", [neuron_type.encode("ascii")])
    neuron.create_dataset("gradedSpike", data=message_bits > 0)
    neuron.create_dataset("messageBits", data=message_bits)
    for name, value in layer.params._asdict().items():
        neuron.create_dataset(name, data=np.asarray(value).astype(np.int32))


def read_layer(group: Any, spec: ParamSpec, param_type: type[Any]) -> NetxLayer:
    """The layer in the h5py group ``group``, its integers checked against their registers.

    Raises ``ValueError`` naming what is missing or out of range (the caller adds the file and layer).
    """
    kind = dataset_text(group["type"][()]) if "type" in group else None
    if kind not in ("dense", "dense_rec"):
        raise ValueError(f"{spec.kind} neurons need a 'dense' or 'dense_rec' layer, found {kind!r}")
    missing = [k for k in ("weight", "weightExp") if k not in group]
    missing += [f"neuron/{f}" for f in param_type._fields if f not in group["neuron"]]
    if kind == "dense_rec" and "weight_rec" not in group:
        missing.append("weight_rec")
    if missing:
        raise ValueError(f"{spec.kind} layer lacks {', '.join(missing)}")
    weight = np.asarray(group["weight"][()], dtype=np.int64)
    weight_rec = np.asarray(group["weight_rec"][()], dtype=np.int64) if kind == "dense_rec" else None
    weight_exp = int(group["weightExp"][()])
    out_features = weight.shape[0]
    check_fits("Dense parameter", "weightExp", weight_exp, WEIGHT_EXP_WIDTH)
    check_fits("Dense parameter", "weight", weight, WEIGHT_WIDTH)
    if weight_rec is not None:
        check_fits("Dense parameter", "weight_rec", weight_rec, WEIGHT_WIDTH)
        if weight_rec.shape != (out_features, out_features):
            raise ValueError(f"weight_rec has shape {weight_rec.shape}, needs {(out_features, out_features)}")
    params = param_type(*(np.asarray(group[f"neuron/{f}"][()], dtype=np.int64) for f in param_type._fields))
    bad = [f for f, v in params._asdict().items() if v.shape != (out_features,)]
    if bad:
        raise ValueError(f"neuron parameters {bad} are not one value per neuron ({out_features})")
    return NetxLayer(weight, weight_rec, weight_exp, params)


def dataset_text(value: Any) -> str:
    """A string read from a dataset: slayer writes an ``S10`` array of one, others a scalar."""
    if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        value = value[0]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def neuron_type(group: Any) -> Optional[str]:
    """``neuron/type`` of an h5py layer group, or None when the layer has no neuron."""
    if "neuron" not in group or "type" not in group["neuron"]:
        return None
    return dataset_text(group["neuron"]["type"][()])
