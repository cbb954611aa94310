"""NIR graph in, netx HDF5 network of CUBA layers out.

:func:`import_nir` reads a ``.nir`` file (or takes a ``nir.NIRGraph``), reads it as a
chain of layers (:mod:`netx_export.nir.graph`), discretizes each layer to Lava's
integers (:mod:`netx_export.nir.discretize`) and writes the file atomically. The layers
are written as lava-dl writes its own blocks (``dense``, ``dense_rec``, ``conv``,
``pool``, ``flatten``, and an ``input`` layer holding only the input shape before a
first convolution), with ``CUBA`` neurons, so plain ``lava.lib.dl.netx.hdf5.Network``
loads every file without a ``pool`` layer (lava-dl 0.6's netx does not build ``pool``;
the importer folds pooling into the next weighted layer wherever there is one).
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..writer import FORMAT, write_atomic
from .discretize import LoihiLayer, QuantizationError, discretize
from .graph import Chain, NIRGraphError, lower


@dataclass(frozen=True)
class LayerReport:
    """One imported layer: netx type, size, the NIR nodes it holds, its integers and their error.

    ``scale``: weight units per unit of the graph's (threshold-normalized) voltage; equal
    to ``v_th`` for spiking layers, and for a graded readout (``v_th`` unreachable) the
    factor between its output in slayer's units and the graph's voltage (``S v / 64``).
    """

    netx_type: str
    neuron: str
    nodes: tuple[str, ...]
    shape: tuple[int, ...]
    i_decay: int
    v_decay: int
    v_th: int
    scale: int
    error: QuantizationError

    def to_dict(self) -> dict[str, Any]:
        """The layer as plain data (JSON)."""
        return {**{k: v for k, v in self.__dict__.items() if k != "error"}, "error": self.error.to_dict()}


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_nir` wrote: the network file, the step ``dt`` it used, the layers."""

    network: pathlib.Path
    dt: float
    input_shape: tuple[int, ...]
    layers: tuple[LayerReport, ...]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON), what ``lava-fptt nir import --json`` prints."""
        return {"network": str(self.network), "dt": self.dt, "input_shape": list(self.input_shape),
                "layers": [layer.to_dict() for layer in self.layers]}


def read_graph(source: Any) -> Any:
    """A ``nir.NIRGraph`` from a path (or the graph itself), with a one-line error for a bad file."""
    import nir

    if isinstance(source, nir.NIRGraph):
        return source
    path = pathlib.Path(source)
    if not path.is_file():
        raise NIRGraphError(f"{path}: NIR file not found")
    try:
        graph = nir.read(str(path))
    except Exception as err:  # nir raises KeyError, OSError, ... for files that are not NIR graphs
        raise NIRGraphError(f"{path}: not a NIR graph ({type(err).__name__}: {err})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NIRGraphError(f"{path}: holds a single {type(graph).__name__} node, not a NIR graph")
    return graph


def to_loihi(graph: Any, dt: float, reset: str = "zero") -> tuple[Chain, list[LoihiLayer]]:
    """``graph`` as a chain of layers and their Lava integers (nothing written)."""
    chain = lower(graph)
    return chain, [discretize(layer, dt, reset) for layer in chain.layers]


def import_nir(source: Any, out: str | pathlib.Path, dt: float, reset: str = "zero",
               metadata: Optional[dict[str, Any]] = None) -> ImportReport:
    """Write the NIR graph ``source`` (path or ``nir.NIRGraph``) as the netx network ``out``.

    ``dt`` is the time step of one Lava step in the graph's time unit (a NIR graph
    states none; snnTorch's importer assumes 1e-4, Sinabs graphs count in steps, 1).
    ``reset`` declares the reset rule the graph was trained with, which NIR cannot
    state: ``'zero'`` (NIR's own rule, to ``v_reset``) or ``'subtract'`` (refused: Lava's
    LIF resets to zero). Everything is checked before the file is written; a refused
    graph writes nothing. A graph ending in a non-spiking ``CubaLI`` / ``LI`` / ``I``
    node becomes a network ending in a graded readout (:mod:`netx_export.readout`);
    its scale is recorded in the file's ``config`` (``nir.readout_scale``:
    :func:`readout_scale`).
    """
    graph = read_graph(source)
    chain, layers = to_loihi(graph, dt, reset)
    origin = str(source) if not hasattr(source, "nodes") else "NIRGraph"
    info = {"nir": {"source": origin, "dt": dt, "input_shape": list(chain.input_shape)}, **(metadata or {})}
    if layers[-1].layer.graded:
        info["nir"][READOUT_SCALE] = layers[-1].scale
    path = write_atomic(out, lambda tmp: write_netx(chain, layers, tmp, info))
    reports = tuple(LayerReport(netx_type(q), q.layer.neuron_type, q.layer.nodes, q.layer.out_shape,
                                q.i_decay, q.v_decay, q.v_th, q.scale, q.error) for q in layers)
    return ImportReport(path, dt, chain.input_shape, reports)


READOUT_SCALE = "readout_scale"
"""Key (under ``nir`` in the file's ``config``) of an imported graded readout's scale."""


def readout_scale(path: str | pathlib.Path) -> Optional[float]:
    """Graph voltage per unit of the graded output Lava gives (slayer's units) of an imported file:
    ``64 / S``; None for a file without an imported graded readout."""
    from ..loader import describe

    scale = describe(path).metadata.get("nir", {}).get(READOUT_SCALE)
    return None if scale is None else 64.0 / scale


def netx_type(q: LoihiLayer) -> str:
    """The netx layer type of ``q``: ``dense_rec`` for a dense layer with a recurrent matrix."""
    return "dense_rec" if q.weight_rec is not None else q.layer.kind


def write_netx(chain: Chain, layers: list[LoihiLayer], path: str, metadata: dict[str, Any]) -> None:
    """Write the layer groups (netx's format, see the module docstring) and our root attributes."""
    import h5py

    with h5py.File(path, "w") as f:
        groups = f.create_group("layer")
        index = 0

        def group() -> Any:
            nonlocal index
            index += 1
            return groups.create_group(str(index - 1))

        if chain.layers[0].kind in ("conv", "pool"):
            g = group()
            text(g, "type", "input")
            g.create_dataset("shape", data=np.asarray(chain.input_shape))
        for position, q in enumerate(layers):
            layer = q.layer
            if layer.kind == "dense" and len(layer.in_shape) == 3 and position > 0:
                g = group()
                text(g, "type", "flatten")
                g.create_dataset("shape", data=np.asarray([int(np.prod(layer.in_shape))]))
            write_layer(group(), q)
        f.attrs["format"] = FORMAT
        f.attrs["config"] = json.dumps(metadata)


def text(group: Any, name: str, value: str) -> None:
    """A string dataset the way slayer writes one (``S10``, one element)."""
    group.create_dataset(name, (1,), "S10", [value.encode("ascii")])


def write_layer(g: Any, q: LoihiLayer) -> None:
    """One ``dense`` / ``dense_rec`` / ``conv`` / ``pool`` group with its CUBA neuron."""
    layer = q.layer
    kind = netx_type(q)
    text(g, "type", kind)
    g.create_dataset("shape", data=np.asarray(layer.out_shape))
    if layer.kind == "dense":
        g.create_dataset("inFeatures", data=q.weight.shape[1])
        g.create_dataset("outFeatures", data=q.weight.shape[0])
        g.create_dataset("weight", data=q.weight)
        if q.weight_rec is not None:
            g.create_dataset("weight_rec", data=q.weight_rec)
    else:
        if layer.kind == "conv":
            g.create_dataset("inChannels", data=layer.in_shape[0])
            g.create_dataset("outChannels", data=layer.out_shape[0])
            weight = q.weight
            kernel = weight.shape[2:]
            g.create_dataset("groups", data=layer.groups)
        else:  # pool: slayer's Pool block writes its one weight as a [1, 1, kH, kW] kernel
            kernel = layer.kernel
            weight = np.full((1, 1, *kernel), int(q.weight), dtype=np.int64)
        g.create_dataset("kernelSize", data=np.asarray(kernel))
        g.create_dataset("stride", data=np.asarray(layer.stride))
        g.create_dataset("padding", data=np.asarray(layer.padding))
        g.create_dataset("dilation", data=np.asarray([1, 1]))
        g.create_dataset("weight", data=weight)
    if q.bias is not None:
        g.create_dataset("bias", data=q.bias)
    neuron = {"iDecay": q.i_decay, "vDecay": q.v_decay, "vThMant": q.v_th, "refDelay": 1, "gradedSpike": False}
    text(g, "neuron/type", "CUBA")
    for key, value in neuron.items():
        g.create_dataset(f"neuron/{key}", data=value)
