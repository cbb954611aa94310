"""Our CUBA networks (a netx file or a training run) written as a NIR graph.

Each CUBA layer becomes a synapse node and a ``CubaLIF`` node. With the step ``dt`` (a
NIR graph counts time in seconds or any unit; one Lava step is ``dt`` of it), Lava's
fixed-point LIF (:mod:`netx_export.nir.discretize` states both systems) is the forward
Euler step of a ``CubaLIF`` with

- ``tau_syn = dt / (iDecay / 4096)``, ``tau_mem = dt / (vDecay / 4096)``;
- ``w_in = tau_syn / dt`` and ``r = tau_mem / dt``, so that each input adds exactly its
  weight to the current and the current enters the voltage unscaled, as in Lava;
- weights, threshold and bias in slayer's units (the file's integers / 64): ``Affine``
  (zero bias) or ``Conv2d`` weights, ``v_threshold = vThMant / 64``, and Lava's bias
  (added to the voltage each step) as ``v_leak = bias / 64 / (vDecay / 4096)``;
- ``v_reset = 0``; recurrent weights (``dense_rec``) as a ``Linear`` node from the neuron
  back to itself, as snnTorch writes recurrent layers.

A layer without voltage decay (``vDecay = 0``) and without current memory
(``iDecay = 4096``) is an ``IF`` node (``r = 1 / dt``, Lava's bias as the synapse's
bias); without voltage decay but with current memory it has no NIR form and is refused.
``pool`` layers become ``SumPool2d`` (their one weight goes into the neuron's ``w_in``),
``flatten`` layers ``Flatten``. Each neuron node states its integer threshold
(``lava_fptt_vth_mant`` in its metadata), which :func:`netx_export.nir.import_nir` uses
as the layer's scale, so that a network comes back with exactly its integers; the graph's
metadata states ``dt``. A graded readout (CUBA neurons that never spike, ``vThMant >=
2**17``: :mod:`netx_export.readout`) becomes the same synapse and a non-spiking
``CubaLI`` node (``I`` without decays) whose voltage is the readout's in slayer's units
(stated scale 64). LTC layers have no NIR primitive and are refused.
"""
from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from ..errors import NetworkFileError
from lava_fptt.blocks.netx_format import dataset_text, neuron_type
from ..loader import describe
from ..writer import write_atomic
from ..readout import GRADED_VTH_MANT
from .discretize import DECAY_UNITY, SCALE_KEY
from .graph import NIRGraphError

UNITS = 64
"""Weight units per 1.0 in slayer's CUBA (the file's integers / 64 are slayer's weights)."""
DEFAULT_DT = 1e-4
"""Default step: snnTorch's importer assumes it (``dt = 1e-4`` in ``snntorch.import_nir``)."""


def to_nir(path: str | pathlib.Path, dt: float = DEFAULT_DT) -> Any:
    """The CUBA network in the netx file ``path`` as a ``nir.NIRGraph`` (see the module docstring)."""
    import h5py
    import nir

    if not dt > 0:
        raise NIRGraphError(f"the time step dt must be positive, got {dt}")
    summary = describe(path)
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    shape: tuple[int, ...] = ()
    last = "input"
    with h5py.File(path, "r") as f:
        groups = f["layer"]
        for index in range(len(groups)):
            group = groups[str(index)]
            kind = dataset_text(group["type"][()])
            where = f"{summary.path}: layer {index}"
            neuron = neuron_type(group)
            if kind == "input":
                if neuron is not None:
                    raise NetworkFileError(f"{where}: an input layer with neurons has no NIR form here")
                shape = tuple(int(v) for v in group["shape"][()])
                continue
            if kind == "flatten":
                name = f"layer{index}"
                nodes[name] = nir.Flatten(input_type={"input": np.asarray(shape)}, start_dim=0, end_dim=-1)
                edges.append((last, name))
                last, shape = name, (int(np.prod(shape)),)
                continue
            if neuron != "CUBA":
                raise NetworkFileError(f"{where}: {neuron or 'no'} neuron; only CUBA layers have a NIR form "
                                       "(LTC has no NIR primitive)")
            if not shape:
                shape = (int(group["weight"].shape[-1]),) if kind.startswith("dense") else ()
                if not shape:
                    raise NetworkFileError(f"{where}: a {kind} first layer needs an input layer stating its shape")
            synapse, neuron_node, recurrent, shape = layer_nodes(group, kind, shape, dt, where)
            names = (f"layer{index}.synapse", f"layer{index}.neuron")
            nodes[names[0]], nodes[names[1]] = synapse, neuron_node
            edges += [(last, names[0]), (names[0], names[1])]
            if recurrent is not None:
                nodes[f"layer{index}.recurrent"] = recurrent
                edges += [(names[1], f"layer{index}.recurrent"), (f"layer{index}.recurrent", names[1])]
            last = names[1]
    first_shape = nodes[edges[0][1]].input_type["input"]
    nodes["input"] = nir.Input(input_type={"input": np.asarray(first_shape)})
    nodes["output"] = nir.Output(output_type={"output": np.asarray(shape)})
    edges.append((last, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt, "exporter": "lava-fptt"})


def layer_nodes(group: Any, kind: str, in_shape: tuple[int, ...], dt: float, where: str
                ) -> tuple[Any, Any, Any, tuple[int, ...]]:
    """Synapse node, neuron node, recurrent node (or None) and output shape of one CUBA layer group."""
    import nir

    cfg = {k: int(np.asarray(group[f"neuron/{k}"][()]).reshape(-1)[0]) for k in ("iDecay", "vDecay", "vThMant")}
    out_shape = tuple(int(v) for v in np.asarray(group["shape"][()]).reshape(-1))
    bias = np.zeros(out_shape) if "bias" not in group else np.broadcast_to(
        np.asarray(group["bias"][()], dtype=np.float64).reshape(-1, *([1] * (len(out_shape) - 1))), out_shape)
    scale = 1.0
    if kind in ("dense", "dense_rec"):
        weight = np.asarray(group["weight"][()], dtype=np.float64) / UNITS
        synapse = nir.Affine(weight=weight, bias=np.zeros(weight.shape[0]))
    elif kind == "conv":
        weight = np.asarray(group["weight"][()], dtype=np.float64).reshape(group["weight"].shape[:4]) / UNITS
        synapse = nir.Conv2d(input_shape=np.asarray(in_shape[1:]), weight=weight, stride=pairs(group, "stride"),
                             padding=pairs(group, "padding"), dilation=pairs(group, "dilation"),
                             groups=int(np.asarray(group["groups"][()]).reshape(-1)[0]), bias=np.zeros(weight.shape[0]))
        synapse.input_type = {"input": np.asarray(in_shape)}
    elif kind == "pool":
        kernel = pairs(group, "kernelSize")
        synapse = nir.SumPool2d(kernel_size=kernel, stride=pairs(group, "stride"), padding=pairs(group, "padding"))
        synapse.input_type = {"input": np.asarray(in_shape)}
        scale = float(np.asarray(group["weight"][()]).reshape(-1)[0]) / UNITS
    else:
        raise NetworkFileError(f"{where}: a {kind!r} layer has no NIR form here")
    a, b = cfg["iDecay"] / DECAY_UNITY, cfg["vDecay"] / DECAY_UNITY
    full = np.ones(out_shape)
    theta = full * cfg["vThMant"] / UNITS
    graded = cfg["vThMant"] >= GRADED_VTH_MANT  # a readout that never spikes: its voltage in slayer's units
    if graded and kind != "dense":
        raise NetworkFileError(f"{where}: a {kind} layer of neurons that never spike has no NIR form here")
    meta = {SCALE_KEY: UNITS if graded else cfg["vThMant"]}
    if b == 0:
        if a != 1:
            raise NetworkFileError(f"{where}: a CUBA neuron without voltage decay but with current memory "
                                   f"(iDecay {cfg['iDecay']}) has no NIR form")
        neuron = (nir.I(r=full / dt * scale, metadata=meta) if graded else
                  nir.IF(r=full / dt * scale, v_threshold=theta, v_reset=0 * full, metadata=meta))
        if np.any(bias):
            if kind not in ("dense", "dense_rec"):
                raise NetworkFileError(f"{where}: a bias on a {kind} layer of IF neurons is not exported")
            synapse = nir.Affine(weight=synapse.weight, bias=bias.reshape(-1) / UNITS / scale)
    else:
        if a == 0:
            raise NetworkFileError(f"{where}: a CUBA neuron whose current never decays (iDecay 0) has no NIR form")
        tau_syn, tau_mem = full * dt / a, full * dt / b
        leaky = {"tau_syn": tau_syn, "tau_mem": tau_mem, "r": tau_mem / dt, "v_leak": bias / UNITS / b,
                 "w_in": tau_syn / dt * scale, "metadata": meta}
        neuron = nir.CubaLI(**leaky) if graded else nir.CubaLIF(**leaky, v_threshold=theta, v_reset=0 * full)
    recurrent = None
    if kind == "dense_rec":
        recurrent = nir.Linear(weight=np.asarray(group["weight_rec"][()], dtype=np.float64) / UNITS)
    return synapse, neuron, recurrent, out_shape


def pairs(group: Any, key: str) -> np.ndarray:
    """A (H, W) pair from a netx group (slayer writes two values, or one for both)."""
    return np.broadcast_to(np.asarray(group[key][()]).reshape(-1), (2,)).astype(np.int64).copy()


def export_nir(source: str | pathlib.Path, out: str | pathlib.Path, dt: float = DEFAULT_DT) -> pathlib.Path:
    """Write the network of ``source`` (a netx file, or a run directory of ``lava-fptt train``) as NIR.

    A run directory is exported through its netx file (written to a temporary file
    first); the NIR file is written atomically.
    """
    import tempfile

    import nir

    source = pathlib.Path(source)
    if source.is_dir():
        from lava_fptt.training import load_run

        from ..writer import export_network

        _, model, _ = load_run(source)
        with tempfile.TemporaryDirectory() as tmp:
            graph = to_nir(export_network(model, pathlib.Path(tmp) / "network.net"), dt)
    else:
        graph = to_nir(source, dt)
    return write_atomic(out, lambda tmp: nir.write(tmp, graph))
