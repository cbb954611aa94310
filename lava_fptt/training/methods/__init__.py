"""Training methods over the engine, one module per family. Each documents its source and cost.

K: tbptt's and fptt's chunk, sltt-k's chosen steps; C: sltt's chunk (one step per call for
networks without a spatial-gradient mode). SLTT's backward over a chunk carries no gradient
between its steps.

| method  | optimizer steps per batch | backward passes | memory in T |
|---------|---------------------------|-----------------|-------------|
| bptt    | 1                         | 1 over T steps  | grows (all T steps kept) |
| tbptt   | T / K                     | T / K over K    | constant (one chunk kept) |
| sltt    | 1                         | T / C over C    | constant (one chunk kept) |
| sltt-k  | 1                         | <= K over C     | constant (one chunk kept) |
| fptt    | T / K                     | T / K over K    | constant (+2 copies of the weights) |
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from ..engine import Method
from .bptt import BPTT, TBPTT
from .fptt import FPTT
from .sltt import SLTT, SLTTK

METHODS: dict[str, Callable[..., Method]] = {
    "bptt": BPTT, "tbptt": TBPTT, "sltt": SLTT, "sltt-k": SLTTK, "fptt": FPTT,
}


def make_method(name: str, **params: Any) -> Method:
    """The method called ``name``, configured with its hyperparameters."""
    if name not in METHODS:
        raise ValueError(f"unknown training method {name!r}; choose from {', '.join(METHODS)}")
    accepted = set(inspect.signature(METHODS[name]).parameters)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"method {name!r} takes no parameter {', '.join(unknown)}; "
                         f"it takes {', '.join(sorted(accepted)) or 'none'}")
    return METHODS[name](**params)


__all__ = ["BPTT", "FPTT", "METHODS", "SLTT", "SLTTK", "TBPTT", "make_method"]
