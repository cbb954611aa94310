"""Training blocks for the LTC neuron in slayer's style: synapse + neuron on ``[batch, features, time]``.

``LTCDense`` (feed-forward), ``LTCRecurrent`` (feed-forward plus recurrent weights) and
``LTCReadout`` (non-spiking liquid integrator) hold weights and neuron parameters and
call the step functions of :mod:`lava_fptt.neurons.ltc`; they own no dynamics.

Engine interface: a block keeps its state between calls; ``forward(x)`` runs a chunk
of ``T`` steps from the carried state; ``reset_state()`` makes the next call start from
zero state for whatever batch arrives; ``detach_state()`` cuts the carried state from
the autograd graph.

Two arithmetics, chosen by ``quantized``:

- ``quantized=True`` (quantization-aware training, the default): weights and parameters
  are rounded to the integers the Lava ``fixed_pt`` model will hold (straight-through
  gradients), saturated to their register widths, and every step runs the integer
  arithmetic (:func:`dense_int`, :func:`ltc_step_int`): a chunk is one autograd node
  (:mod:`lava_fptt.neurons.ltc_train`) whose forward runs the integer step functions and
  whose backward is their straight-through gradient written out. The
  forward pass therefore computes exactly what the exported network computes in Lava;
  :meth:`integer_weights` and :meth:`integer_params` give those integers. Inputs must
  be integers (spikes, or graded integer messages).
- ``quantized=False``: the float form (:func:`ltc_step`), in the input's dtype.

Time alignment: a block's output at step ``t`` depends on its input at step ``t``.
In Lava each ``Dense`` delays by one step, so layer ``k`` of the deployed network
produces at step ``t + k`` what block ``k`` produces at ``t``; a recurrent ``Dense``
gives ``W_r s[t-1]`` in both.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional

import numpy as np
import torch
from torch import nn

from lava_fptt.neurons.ltc import (
    LTC_SPEC,
    ONE,
    READOUT_SPEC,
    LTCIntParams,
    LTCParams,
    LTCState,
    ReadoutIntParams,
    ReadoutParams,
    ReadoutState,
    ltc_step,
    readout_step,
)
from lava_fptt.blocks.netx_format import NetxLayer, write_layer
from lava_fptt.blocks.neuron import StatefulBlock
from lava_fptt.neurons.spec import ParamSpec
from lava_fptt.neurons.ltc_train import (
    QAT_DTYPE,
    LTCChunk,
    ReadoutChunk,
    as_tensor,
    ltc_layer,
    quantize_params,
    quantize_weight,
    readout_layer,
)

NETX_NEURON_TYPES = {"spiking": "LTC", "readout": "LTC_READOUT"}
"""``neuron/type`` of LTC layers in a netx HDF5 file (format: ``docs/netx_ltc_format.md``)."""
READOUT_MESSAGE_BITS = 24
"""The readout sends its 24-bit membrane ``u`` as a graded message."""

GATE_BIAS_RANGE = (-8.0, 8.0)
"""Gate pre-activations saturate at +-8 (the sigmoid table's range): a bias past them is meaningless."""


def gate_init(spec: ParamSpec) -> dict[str, tuple[float, float]]:
    """(mean, std) of the normal initialization per gate parameter of ``spec``
    (:data:`lava_fptt.neurons.ltc.LTC_SPEC`, ``READOUT_SPEC``): gates start mostly driven by their bias,
    in the spiking layers with ``tau_m ~ sigmoid(-2) = 0.12`` (a membrane memory of about 8 steps) and
    ``tau_adp ~ sigmoid(2) = 0.88`` (adaptation decaying over about 8 steps), in the readout with
    ``tau_m ~ sigmoid(-4)`` (about 55 steps)."""
    return {p.name: p.init for p in spec.params if isinstance(p.init, tuple)}


class _LiquidBlock(StatefulBlock):
    """Weights, per-neuron parameters, carried state and the time loop shared by all blocks."""

    _spec: ParamSpec
    _float_params: type[NamedTuple]
    _int_params: type[NamedTuple]
    _state_type: type[NamedTuple]

    def __init__(self, in_features: int, out_features: int, *, recurrent: bool, quantized: bool,
                 weight_exp: int, constants: dict[str, float] | None = None,
                 gate_means: dict[str, float] | None = None) -> None:
        super().__init__()
        constants = constants or {}
        self.in_features, self.out_features = in_features, out_features
        self.quantized = quantized
        self.weight_exp = weight_exp
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.rec_weight = None
        if recurrent:
            bound = 1.0 / math.sqrt(out_features)
            self.rec_weight = nn.Parameter(
                torch.empty(out_features, out_features).uniform_(-bound, bound))
        gates = gate_init(self._spec)
        for name, mean in (gate_means or {}).items():
            gates[name] = (mean, gates[name][1])
        for name in self._int_params._fields:
            if name in gates:
                mean, std = gates[name]
                self.register_parameter(name, nn.Parameter(torch.randn(out_features) * std + mean))
            elif name == "bias":
                self.bias = nn.Parameter(torch.zeros(out_features))
            else:  # constants b0, beta (as in the reference) and reset_frac: fixed, not trained
                default = float(constants.get(name, self._float_params._field_defaults[name]))
                self.register_buffer(name, torch.full((out_features,), default))
        self._state: NamedTuple | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run ``T`` steps: ``x [B, in_features, T] -> [B, out_features, T]``."""
        if x.dim() != 3 or x.shape[1] != self.in_features:
            raise ValueError(f"{type(self).__name__} expects [batch, {self.in_features}, time], "
                             f"got {list(x.shape)}")
        out = self._quantized_forward(x) if self.quantized else self._float_forward(x)
        return self._output(out).to(x.dtype)

    def _quantized_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The deployed integers: weights, parameters, ``Dense`` and neurons of the whole chunk as one
        autograd node (:mod:`lava_fptt.neurons.ltc_train`)."""
        state = self._carried_state(x.shape[0], None, x.device)  # the layer reads any float dtype
        out, self._state = self._layer(x.permute(2, 0, 1), self._raw_params(), state)
        return out.permute(1, 2, 0)

    def _float_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The float form, step by step."""
        state = self._carried_state(x.shape[0], x.dtype, x.device)
        params = self._float_params(*(getattr(self, f).to(x.dtype) for f in self._float_params._fields))
        w = self.weight.to(x.dtype)
        w_rec = None if self.rec_weight is None else self.rec_weight.to(x.dtype)
        out = []
        for t in range(x.shape[2]):
            a = x[:, :, t] @ w.T
            if w_rec is not None:
                a = a + state.s @ w_rec.T
            y, state = self._step(a, state, params)
            out.append(y)
        self._state = state
        return torch.stack(out, dim=-1)

    # ------------------------------------------------- chunks without autograd
    @torch.no_grad()
    def chunk_forward(self, x: np.ndarray) -> Any:
        """The quantized forward of ``x [T, B, C]`` (numpy) from the carried state, without autograd.

        Returns the layer's :class:`~lava_fptt.neurons.ltc_train.LTCChunk` (or ``ReadoutChunk``),
        for :meth:`chunk_output` and :meth:`chunk_backward`; the state after it is carried
        (detached), and the gradient of the state it started from is not followed (as after
        ``detach_state()``). For :meth:`lava_fptt.models.ltc.LTCNetwork.forward_backward`.
        """
        state = self._carried_state(x.shape[1], None, torch.device("cpu"))
        chunk, self._state = self._chunk(x, self._raw_params(), state)
        return chunk

    def _add_grads(self, g_w: np.ndarray, g_w_rec: Optional[np.ndarray], g_params: np.ndarray) -> None:
        """Accumulate float64 gradients of the weights, the recurrent weights and the raw parameters
        (``[P, N]``) into the trainable parameters' ``.grad`` as autograd does: rounded to the
        parameter's dtype, then added (set when there is none)."""
        params = self._parameters  # the module's own table: no attribute lookup per parameter
        pairs = [(params["weight"], g_w), (params.get("rec_weight"), g_w_rec)]
        pairs += [(params.get(name), g) for name, g in zip(self._int_params._fields, g_params)]  # buffers: None
        for param, grad in pairs:
            if param is not None and param.requires_grad and grad is not None:
                if param.grad is None:
                    param.grad = as_tensor(grad, param)
                else:
                    into = param.grad.numpy()
                    into += grad.astype(into.dtype)

    # -------------------------------------------------------------- integer view
    def integer_weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The Dense integers used in quantized mode: feed-forward and recurrent (or None)."""
        w = quantize_weight(self.weight, self.weight_exp)[0]
        w_rec = None if self.rec_weight is None else quantize_weight(self.rec_weight, self.weight_exp)[0]
        return w, w_rec

    def integer_params(self) -> NamedTuple:
        """The integer neuron parameters used in quantized mode, as int64 numpy arrays."""
        ints, _ = quantize_params(self._raw_params(), self._int_params._fields)
        return self._int_params(*ints)

    def export_hdf5(self, group: Any) -> None:
        """Write this layer into the netx HDF5 group ``group`` (format: ``docs/netx_ltc_format.md``).

        The layer is a netx ``dense`` (or ``dense_rec``) layer whose neuron is ``LTC`` or
        ``LTC_READOUT``; weights and parameters are the integers of :meth:`integer_weights`
        and :meth:`integer_params`, i.e. what quantized training computed with.
        """
        spiking = self._int_params is LTCIntParams
        write_layer(group, NETX_NEURON_TYPES["spiking" if spiking else "readout"], 0 if spiking else READOUT_MESSAGE_BITS,
                    NetxLayer(*self.integer_weights(), self.weight_exp, self.integer_params()))

    # ---------------------------------------------------------------- internals
    def _carried_state(self, batch: int, dtype: Optional[torch.dtype], device: torch.device) -> NamedTuple:
        """The state before this call (zeros at first), in ``dtype`` (None: as carried; zeros in
        :data:`QAT_DTYPE`)."""
        if self._state is None:
            zeros = torch.zeros(batch, self.out_features, dtype=dtype or QAT_DTYPE, device=device)
            return self._state_type(*(zeros for _ in self._state_type._fields))
        if self._state[0].shape[0] != batch:
            raise ValueError(f"carried state has batch size {self._state[0].shape[0]}, input has "
                             f"{batch}: call reset_state() between batches")
        return self._state if dtype is None else type(self._state)(*(v.to(dtype) for v in self._state))

    def _raw_params(self) -> torch.Tensor:
        """The float neuron parameters stacked ``[P, N]`` in the order of the integer parameter type."""
        return torch.stack([getattr(self, name) for name in self._int_params._fields])


class _SpikingBlock(_LiquidBlock):
    _spec = LTC_SPEC
    _float_params = LTCParams
    _int_params = LTCIntParams
    _state_type = LTCState

    def _step(self, a: torch.Tensor, state: LTCState, params: NamedTuple) -> tuple[torch.Tensor, LTCState]:
        return ltc_step(a, state, params)

    def _layer(self, x: torch.Tensor, raw: torch.Tensor, state: LTCState) -> tuple[torch.Tensor, LTCState]:
        return ltc_layer(x, self.weight, self.rec_weight, raw, state, self.weight_exp)

    def _output(self, spikes: torch.Tensor) -> torch.Tensor:
        return spikes

    def _chunk(self, x: np.ndarray, raw: torch.Tensor, state: LTCState) -> tuple[LTCChunk, LTCState]:
        chunk = LTCChunk(x, self.weight, self.rec_weight, raw, state.u, state.b, state.s, self.weight_exp)
        return chunk, LTCState(torch.from_numpy(chunk.u), torch.from_numpy(chunk.b),
                               torch.from_numpy(chunk.spikes[-1]))

    def chunk_output(self, chunk: LTCChunk) -> np.ndarray:
        """What :meth:`forward` returns for the chunk, as ``[T, B, N]``: the spikes, in the input's dtype."""
        return chunk.spikes

    def chunk_backward(self, chunk: LTCChunk, grad: np.ndarray, need_x: bool) -> np.ndarray:
        """Accumulate the gradients of the chunk's loss into the parameters' ``.grad`` from that of
        :meth:`chunk_output` (``grad [T, B, N]``); return that of the input ``[T, B, C]`` (in its
        dtype; zeros unless ``need_x``), as autograd through :meth:`forward` computes them."""
        zeros = np.zeros(chunk.u.shape)  # the carried state after the chunk does not reach the loss
        g_x, g_w, g_w_rec, g_params, *_ = chunk.backward(grad, zeros, zeros, need_x, False)
        self._add_grads(g_w, g_w_rec, g_params)
        return g_x.astype(chunk.x.dtype)


class LTCDense(_SpikingBlock):
    """Dense synapse + LTC spiking neurons: ``[B, in, T] -> spikes [B, out, T]``.

    ``weight_exp`` is the shared exponent of the deployed ``Dense`` (weights resolve
    ``2**(weight_exp + 1) / 64`` and reach ``4 * 2**weight_exp``). ``reset_frac`` is
    the fraction of the membrane a spike removes (1: hard reset, 0: none), a fixed
    constant of the layer.
    """

    def __init__(self, in_features: int, out_features: int, *, quantized: bool = True,
                 weight_exp: int = 0, reset_frac: float = 1.0) -> None:
        super().__init__(in_features, out_features, recurrent=False, quantized=quantized,
                         weight_exp=weight_exp, constants={"reset_frac": reset_frac})


class LTCRecurrent(_SpikingBlock):
    """Dense synapse + recurrent synapse (``W_r s[t-1]``) + LTC spiking neurons."""

    def __init__(self, in_features: int, out_features: int, *, quantized: bool = True,
                 weight_exp: int = 0, reset_frac: float = 1.0) -> None:
        super().__init__(in_features, out_features, recurrent=True, quantized=quantized,
                         weight_exp=weight_exp, constants={"reset_frac": reset_frac})


class LTCReadout(_LiquidBlock):
    """Dense synapse + non-spiking liquid integrators: ``[B, in, T] -> u [B, out, T]``.

    The output is the membrane in float units (in quantized mode the integer ``u / 4096``).
    """

    _spec = READOUT_SPEC
    _float_params = ReadoutParams
    _int_params = ReadoutIntParams
    _state_type = ReadoutState

    def __init__(self, in_features: int, out_features: int, *, quantized: bool = True,
                 weight_exp: int = 0, memory_gate_bias: Optional[float] = None) -> None:
        """``memory_gate_bias``: mean initial bias of the membrane gate, ``tau_m ~ sigmoid(bias)``
        (None: the readout's specification, -4, a memory of about 55 steps; -2, the hidden layers',
        about 8)."""
        gate_means = None
        if memory_gate_bias is not None:
            if not GATE_BIAS_RANGE[0] <= memory_gate_bias <= GATE_BIAS_RANGE[1]:
                raise ValueError(f"readout memory_gate_bias must be in [{GATE_BIAS_RANGE[0]}, {GATE_BIAS_RANGE[1]}] "
                                 f"(the gate saturates beyond), got {memory_gate_bias}")
            gate_means = {"mem_gate_bias": memory_gate_bias}
        super().__init__(in_features, out_features, recurrent=False, quantized=quantized,
                         weight_exp=weight_exp, gate_means=gate_means)

    def _step(self, a: torch.Tensor, state: ReadoutState, params: NamedTuple) -> tuple[torch.Tensor, ReadoutState]:
        return readout_step(a, state, params)

    def _layer(self, x: torch.Tensor, raw: torch.Tensor, state: ReadoutState
               ) -> tuple[torch.Tensor, ReadoutState]:
        return readout_layer(x, self.weight, raw, state, self.weight_exp)

    def _output(self, u: torch.Tensor) -> torch.Tensor:
        return u / ONE if self.quantized else u

    def _chunk(self, x: np.ndarray, raw: torch.Tensor, state: ReadoutState) -> tuple[ReadoutChunk, ReadoutState]:
        chunk = ReadoutChunk(x, self.weight, raw, state.u, self.weight_exp)
        return chunk, ReadoutState(torch.from_numpy(chunk.u[-1].astype(np.float64)))

    def chunk_output(self, chunk: ReadoutChunk) -> np.ndarray:
        """What :meth:`forward` returns for the chunk before the cast to the input's dtype, as
        ``[T, B, K]``: ``u / 4096`` (float64)."""
        return chunk.u / ONE

    def chunk_backward(self, chunk: ReadoutChunk, grad: np.ndarray, need_x: bool) -> np.ndarray:
        """As :meth:`LTCDense.chunk_backward` (the output being ``u / 4096``)."""
        g_x, g_w, g_params, _ = chunk.backward(grad / ONE, need_x)
        self._add_grads(g_w, None, g_params)
        return g_x.astype(chunk.x.dtype)
