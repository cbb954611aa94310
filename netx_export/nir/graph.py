"""A NIR graph as a chain of layers that netx can hold: one synapse, one neuron population each.

netx describes a network as layers in order, each a synapse (``dense``, ``conv``,
``pool``; ``dense_rec`` adds a recurrent matrix) feeding a population of CUBA neurons.
A NIR graph is a general graph of nodes. :func:`lower` reads it as such a chain:

- the graph runs from its ``Input`` to its ``Output`` without branches; subgraphs
  (``NIRGraph`` nodes) are opened up first;
- an ``Affine`` / ``Linear`` node whose only input and only output is the same neuron
  node is that neuron's recurrent matrix (``dense_rec``);
- the linear nodes between two neuron nodes (``Affine``, ``Linear``, ``Conv2d``,
  ``SumPool2d``, ``AvgPool2d``, ``Flatten``) are composed into the next layer's synapse:
  into a dense matrix when they end in ``Affine`` / ``Linear`` (pooling and flattening
  folded in, exactly), into one convolution when they are pooling followed by
  ``Conv2d`` (the pooling folded into a larger, strided kernel, exactly), and into a
  ``pool`` layer when they are pooling alone;
- every layer ends in a ``CubaLIF``, ``LIF`` or ``IF`` node, the last one feeds ``Output``;
  the last one may instead be a non-spiking ``CubaLI``, ``LI`` or ``I`` node behind a
  dense synapse: a graded readout (:mod:`netx_export.readout`).

Folding pooling into the next weighted layer keeps such networks loadable by plain
lava-dl netx, which cannot build ``pool`` layers, and adds no pipeline step. Anything
else is refused by :class:`NIRGraphError`, one line naming the node and the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

SPIKING = ("CubaLIF", "LIF", "IF")
"""NIR spiking neuron nodes: Lava's CUBA LIF."""
GRADED = ("CubaLI", "LI", "I")
"""NIR non-spiking neuron nodes (their output is the voltage): a graded CUBA readout
(:mod:`netx_export.readout`), as a network's last layer only."""
NEURONS = SPIKING + GRADED
SYNAPSES = ("Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten")
"""NIR linear nodes that compose into a layer's synapse."""
POOLS = ("SumPool2d", "AvgPool2d")
REASONS = {
    "Delay": "per-synapse delays are not written by this importer",
    "Threshold": "a bare threshold has no membrane; Lava's LIF has no such neuron",
    "Scale": "an element-wise scale between layers has no netx layer",
    "Conv1d": "netx has no 1-D convolution layer",
}


class NIRGraphError(ValueError):
    """A NIR graph (or one of its nodes) that cannot become a netx network of CUBA layers."""


def node_error(name: str, node: Any, reason: str) -> NIRGraphError:
    """``node 'NAME' (TYPE): REASON`` as an error."""
    return NIRGraphError(f"node '{name}' ({type(node).__name__}): {reason}")


@dataclass(frozen=True)
class Layer:
    """One netx layer: the composed synapse of a run of NIR linear nodes and the neuron node after it.

    ``kind`` is ``'dense'``, ``'conv'`` or ``'pool'``. ``weight``: dense ``[out, in]``
    (input flattened in (C, H, W) order), conv ``[out, in, kH, kW]``, pool the scalar
    weight of every pooled input (1 for sum, 1/kernel area for average). ``bias``: one
    value per neuron (dense) or per output channel (conv), in the units of the synapse's
    output. ``weight_rec``: the recurrent matrix ``[out, out]`` or None. Shapes are NIR's
    (C, H, W) or (n,). ``stride``, ``padding``, ``kernel`` (pool), ``groups``: as for
    torch, per (H, W). ``nodes``: the NIR nodes folded into the layer, in order.
    """

    name: str
    kind: str
    neuron: Any
    weight: np.ndarray
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    nodes: tuple[str, ...]
    bias: Optional[np.ndarray] = None
    weight_rec: Optional[np.ndarray] = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    kernel: tuple[int, int] = (1, 1)
    groups: int = 1

    @property
    def neuron_type(self) -> str:
        """The NIR type of the layer's neuron node (``CubaLIF``, ``LIF``, ``IF``, ``CubaLI``, ``LI`` or ``I``)."""
        return type(self.neuron).__name__

    @property
    def graded(self) -> bool:
        """Whether the neurons send their voltage (``CubaLI``, ``LI``, ``I``) rather than spikes."""
        return self.neuron_type in GRADED


@dataclass(frozen=True)
class Chain:
    """A NIR graph read as layers: the input shape (C, H, W) or (n,), and the layers in order."""

    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]


def lower(graph: Any) -> Chain:
    """Read ``graph`` (a ``nir.NIRGraph``) as a :class:`Chain`, or raise :class:`NIRGraphError`."""
    nodes, edges = flatten_subgraphs(graph)
    inputs = [n for n, v in nodes.items() if type(v).__name__ == "Input"]
    outputs = [n for n, v in nodes.items() if type(v).__name__ == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise NIRGraphError(f"the graph needs exactly one Input and one Output node, found inputs {inputs} "
                            f"and outputs {outputs}")
    recurrent = recurrent_matrices(nodes, edges)
    edges = [e for e in edges if e[0] not in recurrent.values() and e[1] not in recurrent.values()]
    path = walk(nodes, edges, inputs[0], outputs[0], set(recurrent.values()))
    input_shape = shape = tuple(int(v) for v in nodes[inputs[0]].input_type["input"])
    layers: list[Layer] = []
    pending: list[str] = []
    for name in path[1:-1]:
        node = nodes[name]
        kind = type(node).__name__
        if kind in SYNAPSES:
            pending.append(name)
        elif kind in NEURONS:
            if not pending:
                raise node_error(name, node, "a neuron fed directly by another neuron or the input (no synapse "
                                             "between): netx layers start with a synapse")
            rec = recurrent.get(name)
            layer = compose(name, node, [(n, nodes[n]) for n in pending], shape,
                            None if rec is None else (rec, nodes[rec]))
            layers.append(layer)
            shape, pending = layer.out_shape, []
        else:
            raise node_error(name, node, REASONS.get(kind, "no equivalent among netx's CUBA layers"))
    if pending:
        raise node_error(pending[-1], nodes[pending[-1]], "the graph ends in a synapse with no neuron after it; "
                                                          "netx layers end in neurons")
    if not layers:
        raise NIRGraphError("the graph has no neuron node; nothing to build")
    for layer in layers:
        check_graded(layer, layer is layers[-1])
    return Chain(input_shape, tuple(layers))


def check_graded(layer: Layer, last: bool) -> None:
    """Refuse a graded (non-spiking) layer that is not the network's dense, feed-forward readout."""
    if not layer.graded:
        return
    if not last:
        raise node_error(layer.name, layer.neuron, "a non-spiking neuron (its output is a voltage) feeding "
                                                   "another layer: only a network's last layer may send graded "
                                                   "values in Lava")
    if layer.kind != "dense" or layer.weight_rec is not None:
        found = "a recurrent matrix" if layer.kind == "dense" else layer.kind
        raise node_error(layer.name, layer.neuron, f"a non-spiking readout needs a dense, feed-forward synapse "
                                                   f"(found {found})")


def flatten_subgraphs(graph: Any, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Nodes and edges of ``graph`` with every ``NIRGraph`` node opened up.

    A subgraph ``g``'s nodes become ``g.NAME``; edges into ``g`` go to the nodes its
    ``Input`` feeds, edges out of ``g`` leave from the node that feeds its ``Output``.
    """
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    entry: dict[str, list[str]] = {}
    exit_: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        if type(node).__name__ == "NIRGraph":
            inner, inner_edges = flatten_subgraphs(node, f"{prefix}{name}.")
            ins = [n for n, v in node.nodes.items() if type(v).__name__ == "Input"]
            outs = [n for n, v in node.nodes.items() if type(v).__name__ == "Output"]
            entry[name] = [b for a, b in inner_edges if a in {f"{prefix}{name}.{i}" for i in ins}]
            exit_[name] = [a for a, b in inner_edges if b in {f"{prefix}{name}.{o}" for o in outs}]
            boundary = {f"{prefix}{name}.{n}" for n in ins + outs}
            nodes.update({k: v for k, v in inner.items() if k not in boundary})
            edges += [(a, b) for a, b in inner_edges if a not in boundary and b not in boundary]
        else:
            nodes[f"{prefix}{name}"] = node
    for a, b in graph.edges:
        for source in exit_.get(a, [f"{prefix}{a}"]):
            for target in entry.get(b, [f"{prefix}{b}"]):
                edges.append((source, target))
    return nodes, list(dict.fromkeys(edges))


def recurrent_matrices(nodes: dict[str, Any], edges: list[tuple[str, str]]) -> dict[str, str]:
    """``{neuron: matrix}`` for every Affine/Linear node whose only input and output is that neuron."""
    found: dict[str, str] = {}
    for name, node in nodes.items():
        if type(node).__name__ not in ("Affine", "Linear"):
            continue
        sources = [a for a, b in edges if b == name]
        targets = [b for a, b in edges if a == name]
        if len(sources) == 1 and sources == targets and type(nodes[sources[0]]).__name__ in NEURONS:
            neuron = sources[0]
            if neuron in found:
                raise node_error(neuron, nodes[neuron], f"two recurrent matrices ({found[neuron]}, {name})")
            if type(node).__name__ == "Affine" and np.any(node.bias):
                raise node_error(name, node, "a recurrent matrix with a bias has no netx equivalent")
            found[neuron] = name
    return found


def walk(nodes: dict[str, Any], edges: list[tuple[str, str]], start: str, end: str, aside: set[str]) -> list[str]:
    """The node names from ``start`` to ``end``, refusing branches, joins, loops and stray nodes
    (other than those in ``aside``, the recurrent matrices)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a not in nodes or b not in nodes:
            raise NIRGraphError(f"edge ({a!r}, {b!r}) names a node the graph does not have")
        succ[a].append(b)
        pred[b].append(a)
    path, name = [start], start
    while name != end:
        if len(succ[name]) != 1:
            raise node_error(name, nodes[name], f"has {len(succ[name])} outputs {succ[name]}: only chains of layers "
                                                "(and recurrent loops of one matrix) can be imported")
        name = succ[name][0]
        if len(pred[name]) != 1:
            raise node_error(name, nodes[name], f"has {len(pred[name])} inputs {pred[name]}: only chains of layers "
                                                "(and recurrent loops of one matrix) can be imported")
        if name in path:
            raise node_error(name, nodes[name], "is part of a loop that is not a neuron's recurrent matrix")
        path.append(name)
    stray = sorted(set(nodes) - set(path) - aside)
    if stray:
        raise node_error(stray[0], nodes[stray[0]], "is not on the path from Input to Output")
    return path


def compose(name: str, neuron: Any, synapse: list[tuple[str, Any]], in_shape: tuple[int, ...],
            recurrent: Optional[tuple[str, Any]]) -> Layer:
    """The :class:`Layer` of ``neuron`` fed by the linear nodes ``synapse`` from ``in_shape``."""
    kinds = [type(node).__name__ for _, node in synapse]
    names = tuple(n for n, _ in synapse) + ((recurrent[0],) if recurrent else ()) + (name,)
    size = int(np.prod(np.asarray(neuron.output_type["output"])))
    if kinds[-1] in ("Affine", "Linear"):
        weight, bias, out_shape = dense_map(synapse, in_shape)
        layer = Layer(name, "dense", neuron, weight, in_shape, out_shape, names, bias=bias)
    elif kinds[-1] == "Conv2d":
        layer = conv_layer(name, neuron, synapse, in_shape, names)
    elif all(k in POOLS for k in kinds):
        layer = pool_layer(name, neuron, synapse, in_shape, names)
    else:
        last, node = synapse[-1]
        raise node_error(last, node, f"the synapse {' -> '.join(kinds)} before neuron '{name}' is not a "
                                     "dense, convolution or pooling layer")
    if int(np.prod(layer.out_shape)) != size:
        raise node_error(name, neuron, f"has {size} neurons, its synapse gives {int(np.prod(layer.out_shape))}")
    if recurrent is not None:
        rec_name, rec = recurrent
        if layer.kind != "dense":
            raise node_error(rec_name, rec, "recurrent matrices are supported on dense layers only (netx dense_rec)")
        if rec.weight.shape != (size, size):
            raise node_error(rec_name, rec, f"recurrent matrix of shape {rec.weight.shape}, needs {(size, size)}")
        layer = Layer(**{**layer.__dict__, "weight_rec": np.asarray(rec.weight, dtype=np.float64)})
    return layer


def dense_map(synapse: list[tuple[str, Any]], in_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The affine map of a run of linear nodes as a matrix on the flattened input, and its offset.

    Computed by applying the nodes to the zero input (the offset: all biases carried
    through) and to every unit input (offset + column), in float64.
    """
    import torch

    n_in = int(np.prod(in_shape))
    basis = torch.cat([torch.zeros(1, n_in), torch.eye(n_in)]).to(torch.float64).reshape(n_in + 1, *in_shape)
    out = basis
    for node_name, node in synapse:
        out = apply_linear(node_name, node, out)
    table = out.reshape(n_in + 1, -1).numpy()
    offset = table[0]
    return (table[1:] - offset).T.copy(), offset.copy(), (table.shape[1],)


def apply_linear(name: str, node: Any, x: Any) -> Any:
    """One NIR linear node on a batch ``x`` [B, *shape] (torch, float64): the graph's own semantics."""
    import torch
    import torch.nn.functional as F

    kind = type(node).__name__
    if kind in ("Affine", "Linear"):
        w = torch.as_tensor(np.asarray(node.weight, dtype=np.float64))
        if x.shape[1:] != (w.shape[1],):
            raise node_error(name, node, f"takes {w.shape[1]} inputs, receives shape {tuple(x.shape[1:])}")
        y = x @ w.T
        return y + torch.as_tensor(np.asarray(node.bias, dtype=np.float64)) if kind == "Affine" else y
    if kind == "Flatten":
        return x.reshape(x.shape[0], -1)
    if x.dim() != 4:
        raise node_error(name, node, f"needs (C, H, W) input, receives shape {tuple(x.shape[1:])}")
    if kind == "Conv2d":
        w = torch.as_tensor(np.asarray(node.weight, dtype=np.float64))
        bias = None if node.bias is None else torch.as_tensor(np.asarray(node.bias, dtype=np.float64))
        padding = node.padding if isinstance(node.padding, str) else tuple(int(p) for p in np.broadcast_to(node.padding, 2))
        return F.conv2d(x, w, bias, stride=pair(node.stride), padding=padding, dilation=pair(node.dilation),
                        groups=int(node.groups))
    if kind in POOLS:
        kernel, stride, padding = pair(node.kernel_size), pair(node.stride), pair(node.padding)
        y = F.avg_pool2d(x, kernel, stride, padding, count_include_pad=True)
        return y * (kernel[0] * kernel[1]) if kind == "SumPool2d" else y
    raise node_error(name, node, "not a linear node")


def pair(value: Any) -> tuple[int, int]:
    """A (H, W) pair from a scalar or a sequence of one or two."""
    arr = np.broadcast_to(np.asarray(value).reshape(-1), (2,))
    return int(arr[0]), int(arr[1])


def pool_params(name: str, node: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], float]:
    """Kernel and per-input weight of a pooling node that tiles its input exactly, or refuse."""
    kernel, stride, padding = pair(node.kernel_size), pair(node.stride), pair(node.padding)
    if stride != kernel or padding != (0, 0):
        raise node_error(name, node, f"pooling with stride {stride} and padding {padding}: only "
                                     "non-overlapping pooling (stride = kernel, no padding) is supported")
    if len(shape) != 3 or shape[1] % kernel[0] or shape[2] % kernel[1]:
        raise node_error(name, node, f"a {kernel} pooling of input {shape} leaves rows or columns out")
    weight = 1.0 if type(node).__name__ == "SumPool2d" else 1.0 / (kernel[0] * kernel[1])
    return kernel, weight


def conv_layer(name: str, neuron: Any, synapse: list[tuple[str, Any]], in_shape: tuple[int, ...],
               names: tuple[str, ...]) -> Layer:
    """Pooling nodes followed by one Conv2d, as one convolution on the unpooled input.

    Pooling by ``k`` (stride ``k``) then a convolution with kernel ``K``, stride ``s``,
    padding ``p`` equals one convolution with kernel ``k K`` (each weight repeated over
    a ``k x k`` block, times the pooling weight), stride ``k s`` and padding ``k p``.
    """
    *pools, (conv_name, conv) = synapse
    if [type(n).__name__ for _, n in pools if type(n).__name__ not in POOLS]:
        raise node_error(conv_name, conv, "a convolution after other linear nodes than pooling")
    if pair(conv.dilation) != (1, 1) or isinstance(conv.padding, str):
        raise node_error(conv_name, conv, "dilated convolutions and named padding are not supported")
    weight = np.asarray(conv.weight, dtype=np.float64)
    stride, padding = pair(conv.stride), pair(conv.padding)
    shape = in_shape
    factor = [1, 1]
    scale = 1.0
    for pool_name, pool in pools:
        kernel, w = pool_params(pool_name, pool, shape)
        shape = (shape[0], shape[1] // kernel[0], shape[2] // kernel[1])
        factor = [factor[0] * kernel[0], factor[1] * kernel[1]]
        scale *= w
    weight = np.repeat(np.repeat(weight, factor[0], axis=2), factor[1], axis=3) * scale
    stride = (stride[0] * factor[0], stride[1] * factor[1])
    padding = (padding[0] * factor[0], padding[1] * factor[1])
    if len(in_shape) != 3 or in_shape[0] != weight.shape[1] * int(conv.groups):
        raise node_error(conv_name, conv, f"takes {weight.shape[1] * int(conv.groups)} channels, receives "
                                          f"shape {in_shape}")
    out_h = (in_shape[1] + 2 * padding[0] - weight.shape[2]) // stride[0] + 1
    out_w = (in_shape[2] + 2 * padding[1] - weight.shape[3]) // stride[1] + 1
    bias = None if conv.bias is None or not np.any(conv.bias) else np.asarray(conv.bias, dtype=np.float64)
    return Layer(name, "conv", neuron, weight, in_shape, (weight.shape[0], out_h, out_w), names, bias=bias,
                 stride=stride, padding=padding, groups=int(conv.groups))


def pool_layer(name: str, neuron: Any, synapse: list[tuple[str, Any]], in_shape: tuple[int, ...],
               names: tuple[str, ...]) -> Layer:
    """Pooling nodes feeding a neuron directly: one netx ``pool`` layer."""
    shape, factor, scale = in_shape, [1, 1], 1.0
    for pool_name, pool in synapse:
        kernel, w = pool_params(pool_name, pool, shape)
        shape = (shape[0], shape[1] // kernel[0], shape[2] // kernel[1])
        factor = [factor[0] * kernel[0], factor[1] * kernel[1]]
        scale *= w
    kernel = (factor[0], factor[1])
    return Layer(name, "pool", neuron, np.asarray(scale), in_shape, shape, names, stride=kernel, kernel=kernel)
