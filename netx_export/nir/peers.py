"""Running a NIR graph in snnTorch and Norse, the peers used to cross-check imports and exports.

snnTorch and Norse are test dependencies (``requirements/test.txt``), imported only here
and only when called, with a clear error when they are missing. Norse 1.1's importer
(``norse.torch.from_nir``, forward Euler with the ``dt`` it is given) runs recurrent
graphs such as the Braille network, which snnTorch's fails on. snnTorch's importer (``snntorch.import_nir``,
snnTorch 1.0.0) builds a ``torch.fx`` module whose children are named after the graph's
nodes; two of its mappings do not follow NIR and are replaced here, node by node:

- ``IF`` becomes ``snn.Leaky(beta=0.9)`` with reset by subtraction and no hidden state
  (``init_hidden=False``, so it returns a tuple its own graph cannot pass on). NIR's
  ``IF`` has no leak and resets to ``v_reset``: we put ``snn.Leaky(beta=1, threshold,
  reset_mechanism='zero', reset_delay=False, init_hidden=True)`` in its place (``r`` is
  asserted to be 1 by snnTorch itself);
- ``Flatten(start_dim=0)`` flattens the batch too (NIR counts dimensions without the
  batch): replaced by ``Flatten(start_dim=1)``.

``CubaLIF``, ``Affine``, ``Conv2d`` and ``SumPool2d`` are used as snnTorch builds them
(``SumPool2d`` as nirtorch's ``LPPool2d(1)``, a sum of absolute values, equal to the sum
on spikes). snnTorch assumes ``dt = 1e-4`` for ``CubaLIF`` and ``LIF`` nodes.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any

import numpy as np


def snntorch_module(graph: Any) -> Any:
    """``snntorch.import_nir.import_from_nir(graph)`` with the two repairs of the module docstring."""
    import copy

    import torch

    try:
        import snntorch as snn
        from snntorch.import_nir import import_from_nir
    except ImportError as err:
        raise RuntimeError("snnTorch is needed to cross-check with a peer: pip install -r requirements/test.txt "
                           f"({err})") from None
    with contextlib.redirect_stdout(sys.stderr):  # snnTorch prints progress on stdout
        module = import_from_nir(copy.deepcopy(graph))
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind == "IF":
            threshold = float(np.unique(node.v_threshold)[0])
            setattr(module, name, snn.Leaky(beta=1.0, threshold=threshold, reset_mechanism="zero",
                                            reset_delay=False, init_hidden=True))
        elif kind == "Flatten":
            setattr(module, name, torch.nn.Flatten(start_dim=1))
    return module


def run_snntorch(graph: Any, inputs: np.ndarray, record: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Run ``inputs`` [N, *input shape, T] through snnTorch's import of ``graph``, one call per step.

    Returns ``{'output': [N, outputs, T]}`` and, for each node name in ``record``, that
    node's output [N, *shape, T] (spikes of its neuron module).
    """
    module = snntorch_module(graph)
    return run_steps(lambda x, state: (module(x), None), {n: getattr(module, n) for n in record}, inputs)


def norse_module(graph: Any, dt: float) -> Any:
    """``norse.torch.from_nir(graph, dt=dt)`` (Norse 1.1 runs recurrent graphs; its ``Flatten``
    keeps NIR's ``start_dim=0``, which flattens the batch, so graphs with ``Flatten`` fail there)."""
    try:
        import norse.torch as norse
    except ImportError as err:
        raise RuntimeError("Norse is needed to cross-check with a peer: pip install --no-deps -r "
                           f"requirements/test.txt ({err})") from None
    with contextlib.redirect_stdout(sys.stderr):
        return norse.from_nir(graph, dt=dt)


def run_norse(graph: Any, inputs: np.ndarray, dt: float, record: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """As :func:`run_snntorch`, through Norse's import of ``graph`` with step ``dt``."""
    module = norse_module(graph, dt)
    modules = dict(module.named_children())
    return run_steps(module, {n: modules[n.replace(".", "_")] for n in record}, inputs)


def run_steps(step: Any, record: dict[str, Any], inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Call ``step(x_t, state) -> (output, state)`` for every step of ``inputs``, recording the
    outputs of the ``record`` modules (forward hooks; a module returning a tuple gives its first element)."""
    import torch

    seen: dict[str, list[Any]] = {name: [] for name in record}
    for name, mod in record.items():
        mod.register_forward_hook(
            lambda _m, _i, out, name=name: seen[name].append(out[0] if isinstance(out, tuple) else out))
    x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
    outputs, state = [], None
    with torch.no_grad():
        for t in range(x.shape[-1]):
            out, state = step(x[..., t], state)
            outputs.append(out[0] if isinstance(out, tuple) else out)
    result = {name: torch.stack(v, dim=-1).numpy() for name, v in seen.items()}
    result["output"] = torch.stack(outputs, dim=-1).numpy()
    return result
