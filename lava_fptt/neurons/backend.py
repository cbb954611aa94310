"""The few array operations a neuron step needs, for numpy and for torch.

A step function in :mod:`lava_fptt.neurons` is written once and runs on numpy arrays
(inside Lava ProcessModels) and on torch tensors (training). Arithmetic operators
(``+ - *``, comparisons, ``abs``) behave the same on both libraries; everything else
goes through an :class:`ArrayOps` picked by :func:`ops_for` from the type of an input.

Integer arithmetic has operations whose gradient depends on the dtype, e.g.
:meth:`ArrayOps.shr`, a right shift by ``n`` bits rounded to nearest (ties toward
+infinity), i.e. ``(x + 2**(n-1)) >> n``:

- on integer arrays (numpy or torch ``int64``) it is exactly that shift; numpy and
  torch both shift negative ``int64`` arithmetically (toward -infinity);
- on floating torch tensors it computes the same value (exact in ``float64`` for
  integers below 2**52) with a straight-through gradient of ``2**-n``. This is how
  quantization-aware training runs the very integer arithmetic of the deployed
  model while still passing gradients.

torch is imported only when a torch tensor is seen, so Lava's processes, which use
numpy only, do not pay for importing it.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any, Protocol, Sequence

import numpy as np


class ArrayOps(Protocol):
    """What a step function may call beyond Python's arithmetic operators."""

    def shr(self, x: Any, n: int) -> Any:
        """Right shift by ``n`` rounded to nearest (straight-through gradient on floats)."""

    def floor_shr(self, x: Any, n: int) -> Any:
        """Right shift by ``n`` rounded toward -infinity (straight-through gradient on floats)."""

    def index_shr(self, x: Any, n: int) -> Any:
        """``x >> n`` (floor) as an integer index; carries no gradient."""

    def round(self, x: Any) -> Any:
        """Nearest integer, ties to even, of a float array (straight-through gradient on torch)."""

    def clip(self, x: Any, lo: int | float, hi: int | float) -> Any:
        """Saturate ``x`` to ``[lo, hi]``."""

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """Elementwise ``a if cond else b``."""

    def lookup(self, table: Sequence[int], index: Any, like: Any) -> Any:
        """``table[index]`` elementwise, in the dtype (and device) of ``like``."""

    def take(self, table: np.ndarray, index: Any) -> Any:
        """``table[index]`` elementwise for an int64 numpy ``table``, as an integer array of ``index``'s library."""

    def is_float(self, x: Any) -> bool:
        """Whether ``x`` holds floating-point values (integers computed with straight-through gradients)."""

    def spike(self, v: Any, scale: float) -> Any:
        """Heaviside ``v > 0`` in the dtype of ``v``; on float torch tensors with a
        surrogate gradient evaluated at ``v / scale``."""

    def sigmoid(self, x: Any) -> Any:
        """Logistic function of a floating array."""

    def zeros_like(self, x: Any) -> Any:
        """Zeros shaped, typed and placed like ``x`` (outside any autograd graph)."""


class NumpyOps:
    """numpy implementation: integer arrays must be ``int64``; float arrays holding integers
    get the same values (exact below 2**52), as on torch, without gradients."""

    def shr(self, x: np.ndarray, n: int) -> np.ndarray:
        if self.is_float(x):
            return np.floor(x * 2.0 ** -n + 0.5)
        return (x + (1 << (n - 1))) >> n

    def floor_shr(self, x: np.ndarray, n: int) -> np.ndarray:
        if self.is_float(x):
            return np.floor(x * 2.0 ** -n)
        return x >> n

    def index_shr(self, x: np.ndarray, n: int) -> np.ndarray:
        return x >> n

    def round(self, x: np.ndarray) -> np.ndarray:
        return np.round(x)

    def clip(self, x: np.ndarray, lo: int | float, hi: int | float) -> np.ndarray:
        return np.clip(x, lo, hi)

    def where(self, cond: np.ndarray, a: Any, b: Any) -> np.ndarray:
        return np.where(cond, a, b)

    def lookup(self, table: Sequence[int], index: np.ndarray, like: np.ndarray) -> np.ndarray:
        return _numpy_table(tuple(table), np.dtype(like.dtype))[index]

    def take(self, table: np.ndarray, index: np.ndarray) -> np.ndarray:
        return table[index]

    def is_float(self, x: np.ndarray) -> bool:
        return bool(np.issubdtype(np.asarray(x).dtype, np.floating))

    def spike(self, v: np.ndarray, scale: float) -> np.ndarray:
        return (v > 0).astype(v.dtype)

    def sigmoid(self, x: np.ndarray) -> np.ndarray:
        # tanh form: no overflow warning for large |x|
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    def zeros_like(self, x: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)


class TorchOps:
    """torch implementation: exact on ``int64``, straight-through on floats."""

    def __init__(self) -> None:
        from lava_fptt.neurons.surrogate import spike_fn

        self._torch = _torch()
        self._spike_fn = spike_fn

    def shr(self, x: Any, n: int) -> Any:
        if not x.is_floating_point():
            return (x + (1 << (n - 1))) >> n
        scaled = x * (2.0 ** -n)
        return scaled + (self._torch.floor(scaled + 0.5) - scaled).detach()

    def floor_shr(self, x: Any, n: int) -> Any:
        if not x.is_floating_point():
            return x >> n
        scaled = x * (2.0 ** -n)
        return scaled + (self._torch.floor(scaled) - scaled).detach()

    def index_shr(self, x: Any, n: int) -> Any:
        if not x.is_floating_point():
            return x >> n
        return self._torch.floor(x.detach() * (2.0 ** -n)).long()

    def round(self, x: Any) -> Any:
        return x + (self._torch.round(x) - x).detach()

    def clip(self, x: Any, lo: int | float, hi: int | float) -> Any:
        return self._torch.clamp(x, lo, hi)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return self._torch.where(cond, a, b)

    def lookup(self, table: Sequence[int], index: Any, like: Any) -> Any:
        return _torch_table(tuple(table), like.dtype, like.device)[index.long()]

    def take(self, table: np.ndarray, index: Any) -> Any:
        return _torch_array(table, index.device)[index]

    def is_float(self, x: Any) -> bool:
        return bool(x.is_floating_point())

    def spike(self, v: Any, scale: float) -> Any:
        if not v.is_floating_point():
            return (v > 0).to(v.dtype)
        return self._spike_fn(v / scale)

    def sigmoid(self, x: Any) -> Any:
        return self._torch.sigmoid(x)

    def zeros_like(self, x: Any) -> Any:
        return self._torch.zeros_like(x)


def _torch() -> Any:
    import torch

    return torch


@lru_cache(maxsize=None)
def _numpy_table(table: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    return np.asarray(table, dtype=dtype)


@lru_cache(maxsize=None)
def _torch_table(table: tuple[int, ...], dtype: Any, device: Any) -> Any:
    return _torch().tensor(table, dtype=dtype, device=device)


_TORCH_ARRAYS: dict[tuple[int, Any], Any] = {}


def _torch_array(table: np.ndarray, device: Any) -> Any:
    """A torch copy of a read-only module-level numpy table, made once per device."""
    key = (id(table), device)
    if key not in _TORCH_ARRAYS:
        _TORCH_ARRAYS[key] = _torch().from_numpy(np.array(table)).to(device)
    return _TORCH_ARRAYS[key]


_NUMPY = NumpyOps()


@lru_cache(maxsize=1)
def _torch_ops() -> TorchOps:
    return TorchOps()


def ops_for(x: Any) -> ArrayOps:
    """The operations for the array library of ``x`` (torch tensor or numpy array)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return _torch_ops()
    return _NUMPY


def check_int64(*arrays: Any) -> None:
    """Refuse integer arrays narrower than 64 bits.

    Integer steps multiply 24-bit states by 12- and 16-bit factors; in a narrower
    dtype those products would overflow silently.
    """
    for x in arrays:
        dtype = x.dtype
        if isinstance(x, np.ndarray):
            narrow = np.issubdtype(dtype, np.integer) and dtype.itemsize != 8
        else:
            torch = _torch()
            narrow = dtype in (torch.int8, torch.uint8, torch.int16, torch.int32)
        if narrow:
            raise TypeError(f"integer arithmetic needs int64 arrays, got {dtype}")
