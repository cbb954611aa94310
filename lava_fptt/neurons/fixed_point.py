"""Bit widths of integer parameters and states, and the check that values fit them.

Loihi-style hardware stores every parameter and state in a register of fixed width.
A value that does not fit must be refused where it enters, with a message that names
it: wrapping it silently (as two's complement registers would) changes the model
without anyone noticing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True)
class Width:
    """An integer register: ``bits`` wide, two's complement when ``signed``."""

    bits: int
    signed: bool = True

    @property
    def lo(self) -> int:
        """Smallest representable value."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        """Largest representable value."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def __str__(self) -> str:
        return f"{self.bits}-bit {'signed' if self.signed else 'unsigned'}"


def to_numpy(value: Any) -> np.ndarray:
    """A numpy view of a Python number, numpy array or torch tensor."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def check_fits(kind: str, name: str, value: Any, width: Width) -> None:
    """Raise ``ValueError`` unless every element of ``value`` is an integer within ``width``.

    ``kind`` and ``name`` make the message, e.g. ``"LTC parameter 'beta'"``.
    """
    arr = to_numpy(value)
    if arr.size == 0:
        return
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        bad = arr[arr != np.round(arr)]  # also catches NaN; infinities fail the range test
        if bad.size:
            raise ValueError(f"{kind} '{name}' must hold integers ({width}), "
                             f"got non-integer values such as {bad.flat[0]}")
    lo, hi = arr.min(), arr.max()
    if lo < width.lo or hi > width.hi:
        raise ValueError(f"{kind} '{name}' has values in [{int(lo)}, {int(hi)}], outside "
                         f"its {width} range [{width.lo}, {width.hi}]")


def check_all(kind: str, values: Mapping[str, Any], widths: Mapping[str, Width]) -> None:
    """:func:`check_fits` for every named value that has a width in ``widths``."""
    for name, value in values.items():
        check_fits(kind, name, value, widths[name])
