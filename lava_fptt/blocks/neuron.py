"""One training block for any neuron kind with :class:`~lava_fptt.neurons.spec.Dynamics`, in slayer's style.

A :class:`NeuronBlock` is a ``Dense`` synapse (plus, for a spiking kind, an optional
recurrent one, ``W_r s[t-1]``) into a layer of neurons, on ``[batch, features, time]``.
Everything that depends on the neuron comes from its ``dynamics``: which parameters are
trained (``nn.Parameter``, drawn from their declared initialization) and which are
constants (buffers), the float step, the integer step, what it sends. The block owns no
arithmetic. Engine interface as the LTC blocks (:mod:`lava_fptt.blocks.ltc`): it keeps its
state between calls; ``reset_state()``, ``detach_state()``.

- ``quantized=True`` (quantization-aware training, the default): weights and parameters
  are rounded to the integers the Lava ``fixed_pt`` model holds (straight-through
  gradients, 0 where a register saturates) and each step runs :func:`dense_int` and the
  integer step on float64 tensors holding integers, so the forward pass computes exactly
  what the exported network computes in Lava. (The LTC blocks run the same arithmetic
  through hand-written chunk kernels, :mod:`lava_fptt.neurons.ltc_train`, for speed.)
- ``quantized=False``: the float step, in the input's dtype.

Time alignment: no delay; in Lava each ``Dense`` delays by one step (the registry's
``"undelayed"`` alignment, :mod:`lava_fptt.kinds`).
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from lava_fptt.blocks.netx_format import NetxLayer, write_layer
from lava_fptt.neurons.dense import WEIGHT_MAX, WEIGHT_MIN, dense_int, weight_integers
from lava_fptt.neurons.spec import Dynamics

QAT_DTYPE = torch.float64
"""Integers in quantization-aware training are carried in float64 (exact up to 2**53)."""


class StatefulBlock(nn.Module):
    """A block that carries its neuron state (a NamedTuple of tensors, or None) from call to call."""

    _state: Any = None

    # ----------------------------------------------------------- engine interface
    def reset_state(self) -> None:
        """Forget the carried state; the next call starts from zero for its batch size."""
        self._state = None

    def detach_state(self) -> None:
        """Cut the carried state from the autograd graph (keeps its values)."""
        if self._state is not None:
            self._state = type(self._state)(*(v.detach() for v in self._state))


class NeuronBlock(StatefulBlock):
    """Dense synapse (+ recurrent with ``recurrent=True``) into neurons of one kind (module docstring).

    Subclasses set ``dynamics`` and ``netx_type`` (the ``neuron/type`` they export as).
    ``constants`` overrides the declared value of constant parameters (e.g. ``{"threshold": 1.5}``).
    """

    dynamics: Dynamics
    netx_type: str

    def __init__(self, in_features: int, out_features: int, *, recurrent: bool = False, quantized: bool = True,
                 weight_exp: int = 0, constants: Optional[dict[str, float]] = None) -> None:
        super().__init__()
        if recurrent and self.dynamics.graded:
            raise ValueError(f"{type(self).__name__}: a neuron that sends graded values has no recurrent synapse here")
        self.in_features, self.out_features = in_features, out_features
        self.quantized, self.weight_exp = quantized, weight_exp
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.rec_weight: Optional[nn.Parameter] = None
        if recurrent:
            bound = 1.0 / math.sqrt(out_features)
            self.rec_weight = nn.Parameter(torch.empty(out_features, out_features).uniform_(-bound, bound))
        constants = constants or {}
        for p in self.dynamics.spec.params:
            if not p.trainable:
                self.register_buffer(p.name, torch.full((out_features,), float(constants.get(p.name, p.initial_value))))
            elif isinstance(p.init, tuple):
                self.register_parameter(p.name, nn.Parameter(torch.randn(out_features) * p.init[1] + p.init[0]))
            else:
                self.register_parameter(p.name, nn.Parameter(torch.full((out_features,), float(p.init))))
        self._state: Any = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run ``T`` steps: ``x [B, in_features, T] -> [B, out_features, T]``."""
        if x.dim() != 3 or x.shape[1] != self.in_features:
            raise ValueError(f"{type(self).__name__} expects [batch, {self.in_features}, time], got {list(x.shape)}")
        dyn = self.dynamics
        if self.quantized:
            w, w_rec = self._integer_weights()
            out = self._run(x.to(QAT_DTYPE), w, w_rec, self._integer_param_tensors(), dyn.int_step,
                            lambda s, r: dense_int(s, r, self.weight_exp))
            if dyn.graded:
                out = out / dyn.graded_unit
        else:
            params = dyn.float_params(*(getattr(self, f).to(x.dtype) for f in dyn.spec.names))
            w_rec = None if self.rec_weight is None else self.rec_weight.to(x.dtype)
            out = self._run(x, self.weight.to(x.dtype), w_rec, params, dyn.float_step, lambda s, r: s @ r.T)
        return out.to(x.dtype)

    def _run(self, x: torch.Tensor, w: torch.Tensor, w_rec: Optional[torch.Tensor], params: Any, step: Any,
             synapse: Any) -> torch.Tensor:
        """The time loop: ``synapse(x_t, w)`` (+ ``synapse(s[t-1], w_rec)``) into ``step``."""
        if self._state is None:
            zeros = torch.zeros(x.shape[0], self.out_features, dtype=x.dtype, device=x.device)
            self._state = self.dynamics.state(*(zeros for _ in self.dynamics.state._fields))
        elif self._state[0].shape[0] != x.shape[0]:
            raise ValueError(f"carried state has batch size {self._state[0].shape[0]}, input has {x.shape[0]}: "
                             "call reset_state() between batches")
        state = type(self._state)(*(v.to(x.dtype) for v in self._state))
        out = []
        for t in range(x.shape[2]):
            a = synapse(x[:, :, t], w)
            if w_rec is not None:
                a = a + synapse(state.s, w_rec)
            y, state = step(a, state, params)
            out.append(y)
        self._state = state
        return torch.stack(out, dim=-1)

    # -------------------------------------------------------------- integer view
    def _integer_weights(self) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The ``Dense`` integers (float64, straight-through rounding, saturated to the 8-bit mantissa)."""
        def integers(w: torch.Tensor) -> torch.Tensor:
            return torch.clamp(weight_integers(w.to(QAT_DTYPE), self.weight_exp), WEIGHT_MIN, WEIGHT_MAX)

        return integers(self.weight), None if self.rec_weight is None else integers(self.rec_weight)

    def _integer_param_tensors(self) -> Any:
        """The integer parameters (float64, straight-through rounding, saturated to their widths)."""
        dyn = self.dynamics
        values = []
        for p in dyn.spec.params:
            v = getattr(self, p.name).to(QAT_DTYPE) * p.scale
            values.append(torch.clamp(v + (torch.round(v) - v).detach(), p.width.lo, p.width.hi))
        return dyn.int_params(*values)

    def integer_weights(self) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """The ``Dense`` integers used in quantized mode: feed-forward and recurrent (or None), int64."""
        w, w_rec = self._integer_weights()
        return _int64(w), None if w_rec is None else _int64(w_rec)

    def integer_params(self) -> Any:
        """The integer neuron parameters used in quantized mode, as int64 numpy arrays."""
        return self.dynamics.int_params(*(_int64(v) for v in self._integer_param_tensors()))

    def export_hdf5(self, group: Any) -> None:
        """Write this layer into the netx HDF5 group ``group`` (:mod:`lava_fptt.blocks.netx_format`)."""
        write_layer(group, self.netx_type, self.dynamics.message_bits,
                    NetxLayer(*self.integer_weights(), self.weight_exp, self.integer_params()))


def _int64(v: torch.Tensor) -> np.ndarray:
    """A tensor holding integers as an int64 numpy array."""
    return v.detach().cpu().numpy().astype(np.int64)
