"""A float simulation of a NIR graph, step by step, from the graph itself.

The reference the imported Lava network is compared with. It walks the NIR nodes (not
the layers the importer makes of them) in float64: every node computes its output from
the sum of its inputs each step; an edge that closes a loop (a recurrent matrix) carries
the previous step's output, every other edge the current step's. Neurons follow the
forward-Euler equations with step ``dt`` stated in :mod:`netx_export.nir.discretize`
(the same ones snnTorch, Norse and Sinabs run), spike where ``v > v_threshold`` and reset
to ``v_reset``. ``reset='subtract'`` instead subtracts the threshold, the rule some
frameworks train with although NIR cannot state it (to measure what that changes).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .graph import GRADED, SPIKING, SYNAPSES, NIRGraphError, apply_linear, flatten_subgraphs, node_error

RESETS = ("zero", "subtract")


def order(nodes: dict[str, Any], edges: list[tuple[str, str]], start: str) -> tuple[list[str], set[tuple[str, str]]]:
    """Nodes reachable from ``start`` in execution order, and the edges that close loops (run delayed)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    done: list[str] = []
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(name: str) -> None:  # depth-first; an edge to a node still open is a loop's back edge
        state[name] = 1
        for nxt in succ[name]:
            if state.get(nxt) == 1:
                back.add((name, nxt))
            elif nxt not in state:
                visit(nxt)
        state[name] = 2
        done.append(name)

    visit(start)
    return done[::-1], back


def simulate(graph: Any, inputs: np.ndarray, dt: float, reset: str = "zero") -> dict[str, np.ndarray]:
    """Run ``inputs`` [N, *input shape, T] through ``graph``; outputs of every neuron node.

    Returns ``{node name: [N, *shape, T]}``: spikes (0/1) of spiking neurons, voltages of
    ``LI`` / ``CubaLI`` / ``I`` nodes, and the graph's output under ``'output'``.
    """
    import torch

    if reset not in RESETS:
        raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
    nodes, edges = flatten_subgraphs(graph)
    start = next(n for n, v in nodes.items() if type(v).__name__ == "Input")
    end = next(n for n, v in nodes.items() if type(v).__name__ == "Output")
    names, back = order(nodes, edges, start)
    sources = {n: [a for a, b in edges if b == n] for n in names}
    x = torch.as_tensor(np.asarray(inputs, dtype=np.float64))
    steps = x.shape[-1]
    state: dict[str, dict[str, Any]] = {n: {} for n in names}
    previous: dict[str, Any] = {}
    record: dict[str, list[Any]] = {n: [] for n in names if type(nodes[n]).__name__ in SPIKING + GRADED}
    record[end] = []
    for t in range(steps):
        current: dict[str, Any] = {}
        for name in names:
            node = nodes[name]
            kind = type(node).__name__
            if kind == "Input":
                current[name] = x[..., t]
                continue
            total = None
            for src in sources[name]:
                value = previous.get(src) if (src, name) in back else current[src]
                if value is None:  # a loop's first step: nothing sent yet
                    continue
                total = value if total is None else total + value
            if total is None:
                raise node_error(name, node, "receives nothing")
            if kind == "Output":
                current[name] = total
            elif kind in SYNAPSES:
                current[name] = apply_linear(name, node, total)
            elif kind in SPIKING + GRADED:
                current[name] = neuron_step(name, node, total, state[name], dt, reset)
            else:
                raise node_error(name, node, "no float simulation for this node type")
            if name in record:
                record[name].append(current[name])
        previous = current
    result = {n: torch.stack(v, dim=-1).numpy() for n, v in record.items() if n != end}
    result["output"] = torch.stack(record[end], dim=-1).numpy()
    return result


def neuron_step(name: str, node: Any, i: Any, state: dict[str, Any], dt: float, reset: str) -> Any:
    """One forward-Euler step of a NIR neuron node on input ``i``; updates ``state``."""
    import torch

    kind = type(node).__name__

    def p(field: str, default: float = 0.0) -> Any:
        value = getattr(node, field, None)
        return torch.as_tensor(np.asarray(default if value is None else value, dtype=np.float64))

    v = state.get("v", torch.zeros_like(i))
    if kind in ("CubaLIF", "CubaLI"):
        current = state.get("i", torch.zeros_like(i))
        current = current + dt / p("tau_syn") * (p("w_in", 1.0) * i - current)
        state["i"] = current
        v = v + dt / p("tau_mem") * (p("v_leak") - v + p("r", 1.0) * current)
    elif kind in ("LIF", "LI"):
        v = v + dt / p("tau") * (p("v_leak") - v + p("r", 1.0) * i)
    elif kind in ("IF", "I"):
        v = v + dt * p("r", 1.0) * i
    else:
        raise NIRGraphError(f"node '{name}' ({kind}): not a neuron")
    if kind in GRADED:
        state["v"] = v
        return v
    threshold = p("v_threshold")
    spikes = (v > threshold).to(v.dtype)
    if reset == "zero":
        v = torch.where(spikes > 0, p("v_reset") * torch.ones_like(v), v)
    else:
        v = v - spikes * threshold
    state["v"] = v
    return spikes

