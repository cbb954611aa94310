"""Reading a netx HDF5 file back: validation, description, and the Lava processes.

Files may hold CUBA layers (as lava-dl writes them) and LTC layers (our extension,
``docs/netx_ltc_format.md``). :func:`describe` validates and summarises a file before
anything is built; :func:`netx_export.builder.load_network` builds it (the builder reads
files through this module, never the other way round).
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any, Optional

from lava_fptt.kinds import KINDS, NeuronKind, built_here, by_netx_type

from .errors import NetworkFileError
from lava_fptt.blocks.netx_format import dataset_text, neuron_type
from .validate import check_netx_layer
from .readout import is_readout

@dataclass(frozen=True)
class NetworkSummary:
    """What a network file holds: layer types and sizes, and lava-fptt metadata if present."""

    path: pathlib.Path
    layer_types: tuple[str, ...]
    num_inputs: Optional[int]
    num_outputs: int
    metadata: dict[str, Any]
    neuron_types: tuple[Optional[str], ...] = ()
    cuba_readout: bool = False
    """The last layer is a graded CUBA readout: neurons that never spike, their voltage the output
    (:mod:`netx_export.readout`; lava-dl's ``cuba.Affine``)."""

    @property
    def num_layers(self) -> int:
        return len(self.layer_types)

    @property
    def num_blocks(self) -> int:
        """Layers that become Lava blocks (a ``flatten`` layer and a neuron-less ``input`` layer do not)."""
        return sum(1 for kind, neuron in zip(self.layer_types, self.neuron_types)
                   if kind != "flatten" and not (kind == "input" and neuron is None))

    @property
    def has_ltc(self) -> bool:
        """True when a layer has a neuron of our format extension (LTC, LTC_READOUT: :mod:`lava_fptt.kinds`)."""
        return any(built_here(t) is not None for t in self.neuron_types)

    @property
    def undelayed(self) -> bool:
        """True when a layer's kind is aligned without torch delays (:mod:`lava_fptt.kinds`: our neurons)."""
        return any(kind.alignment == "undelayed" for kind in self.kinds if kind is not None)

    @property
    def kinds(self) -> tuple[Optional[NeuronKind], ...]:
        """The registry's kind of each layer's neuron (None: no neuron, or one the registry does not know)."""
        return tuple(by_netx_type(t) for t in self.neuron_types)

    @property
    def output_kind(self) -> Optional[NeuronKind]:
        """The kind of the last layer's neurons (a graded CUBA readout: ``cuba_readout``)."""
        if self.cuba_readout:
            return KINDS["cuba_readout"]
        return self.kinds[-1] if self.kinds else None

    @property
    def graded_output(self) -> bool:
        """True when the last layer sends graded values (an LTC readout's ``u``, a CUBA readout's ``v``)."""
        kind = self.output_kind
        return kind is not None and kind.output == "graded"


def describe(path: str | pathlib.Path) -> NetworkSummary:
    """Validate ``path`` as a netx network file and summarise it, or raise NetworkFileError.

    Checks the layer numbering and types, every layer netx builds (weights, neuron
    parameters and sizes, :func:`netx_export.validate.check_netx_layer`) and that each
    dense layer takes as many inputs as the layer before it gives.
    """
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
        types, neurons, num_inputs, num_outputs = [], [], None, None
        for name in names:
            group = layers[name]
            if "type" not in group:
                raise NetworkFileError(f"{path}: layer {name} has no 'type'")
            kind = dataset_text(group["type"][()])
            types.append(kind)
            neurons.append(neuron_type(group))
            if built_here(neurons[-1]) is None:
                check_netx_layer(f"{path}: layer {name}", group, kind, neurons[-1])
            elif "weight" not in group:
                raise NetworkFileError(f"{path}: layer {name} has no 'weight'")
            sizes = _layer_sizes(group, kind)
            if sizes is not None and kind in ("dense", "dense_rec") and num_outputs is not None \
                    and sizes[0] != num_outputs:
                raise NetworkFileError(f"{path}: layer {name} takes {sizes[0]} inputs, but the layer before "
                                       f"gives {num_outputs}")
            if sizes is not None:
                if num_inputs is None and num_outputs is None:
                    num_inputs = sizes[0]
                num_outputs = sizes[1]
        if num_outputs is None:
            raise NetworkFileError(f"{path}: no layer with a known size; layer types are {types}")
        metadata = json.loads(f.attrs["config"]) if "config" in f.attrs else {}
        readout = is_readout(layers[names[-1]])
    return NetworkSummary(path, tuple(types), num_inputs, num_outputs, metadata, tuple(neurons), readout)


def _layer_sizes(group: Any, kind: str) -> Optional[tuple[Optional[int], int]]:
    """(inputs, outputs) of a layer group: from the weights of dense layers, from ``shape``
    for others (inputs unknown for a conv layer); None for layers without either."""
    import numpy as np

    if kind in ("dense", "dense_rec"):
        if "weight" not in group:
            return None
        shape = group["weight"].shape
        n_in = int(group["inFeatures"][()]) if "inFeatures" in group else int(shape[-1])
        n_out = int(group["outFeatures"][()]) if "outFeatures" in group else int(shape[0])
        return n_in, n_out
    if "shape" not in group or kind == "flatten":
        return None
    size = int(np.prod(group["shape"][()]))
    return (size if kind == "input" else None), size


def refuse_float_netx_layers(summary: NetworkSummary) -> None:
    """Refuse a floating-point run of layers that netx builds (CUBA and other non-LTC neurons).

    netx writes and reads Loihi integer neuron parameters (decays in 1/4096, threshold and
    current scaled by 2**6) and hands them to Lava's LIF unchanged; its ``floating_pt``
    model would read them as float decays and thresholds and compute something else
    (measured: 8 % accuracy, spike_match 0.11 on a trained digits network). Our LTC
    layers carry their own float form (dequantized), so they alone run in float.
    """
    for index, neuron in enumerate(summary.neuron_types):
        if neuron is not None and built_here(neuron) is None:
            raise NetworkFileError(
                f"{summary.path}: layer {index} ({neuron} neuron) runs in fixed point only: netx's "
                f"layers carry Loihi integer parameters, which Lava's floating-point model misreads; "
                f"use precision 'fixed'")
