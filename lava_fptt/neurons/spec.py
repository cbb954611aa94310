"""A neuron's parameters declared once: name, scale, register width, trained or constant, initial value.

A :class:`ParamSpec` is the one list of a neuron kind's parameters. Everything else that
names them is derived from it or checked against it: the scales and widths of the integer
form, quantization and its inverse, the width checks, which parameters a training block
trains and how it starts them, the Var declarations of the Lava process, the memory
estimate of ``lava-fptt resources`` and the netx layer format
(:mod:`lava_fptt.blocks.netx_format`). Parameters and constants are distinct kinds, as in
Rockpool: a trained parameter is an ``nn.Parameter`` of the block, a constant a buffer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

import numpy as np

from lava_fptt.neurons.fixed_point import Width, check_all, to_numpy

Init = Union[float, tuple[float, float]]
"""A constant's value, or a trained parameter's normal draw ``(mean, std)`` per neuron (std 0: the mean)."""


@dataclass(frozen=True)
class Param:
    """One per-neuron parameter of a neuron kind."""

    name: str
    scale: int
    """The integer that stands for 1.0 in the integer form."""
    width: Width
    """The register the integer is stored in."""
    trainable: bool = True
    """Trained (an ``nn.Parameter`` of the training block) or a constant (a buffer)."""
    init: Init = 0.0

    @property
    def initial_value(self) -> float:
        """The value a constant has, or the mean a trained parameter is drawn around."""
        return float(self.init[0] if isinstance(self.init, tuple) else self.init)


@dataclass(frozen=True)
class ParamSpec:
    """The parameters of one neuron kind, in the order of its parameter tuples."""

    kind: str
    """How errors name a parameter: ``f"{kind} parameter 'name'"``."""
    params: tuple[Param, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def scales(self) -> dict[str, int]:
        return {p.name: p.scale for p in self.params}

    @property
    def widths(self) -> dict[str, Width]:
        return {p.name: p.width for p in self.params}

    @property
    def bits(self) -> int:
        """Register bits of one neuron's parameters (its share of neuron memory)."""
        return sum(p.width.bits for p in self.params)

    def __getitem__(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def quantize(self, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Integers nearest to float values (``round(value * scale)``, int64), checked against their widths."""
        q = {name: np.round(to_numpy(v).astype(np.float64) * self[name].scale).astype(np.int64)
             for name, v in values.items()}
        self.check(q)
        return q

    def dequantize(self, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The float values integers stand for (``value / scale``, float64)."""
        return {name: to_numpy(v).astype(np.float64) / self[name].scale for name, v in values.items()}

    def check(self, values: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` naming the first value that is not an integer within its width."""
        check_all(f"{self.kind} parameter", values, self.widths)

    def check_fields(self, float_type: type, int_type: type) -> None:
        """Raise ``TypeError`` unless the float and integer parameter tuples have exactly these fields, in
        order, and their defaults are the constants' values (integers: quantized)."""
        for tuple_type, scaled in ((float_type, False), (int_type, True)):
            fields = getattr(tuple_type, "_fields", ())
            if tuple(fields) != self.names:
                raise TypeError(f"{tuple_type.__name__} has fields {fields}; the {self.kind} specification "
                                f"declares {self.names}")
            for name, default in getattr(tuple_type, "_field_defaults", {}).items():
                value = self[name].initial_value
                expected = round(value * self[name].scale) if scaled else value
                if default != expected:
                    raise TypeError(f"{tuple_type.__name__}.{name} defaults to {default}; the {self.kind} "
                                    f"specification says {expected}")


@dataclass(frozen=True)
class Dynamics:
    """A neuron's dynamics as the rest of the library uses them: the step functions, the tuples they
    take, the parameter specification, the state widths and what the neuron sends.

    ``step(x, state, params) -> (output, state)``; ``x`` is the synaptic input of the step in
    weight units (a Lava ``Dense``'s output). The training block (:class:`lava_fptt.blocks.neuron.NeuronBlock`),
    the Lava process and its models (:mod:`lava_fptt.proc.neuron`, :func:`lava_fptt.proc.model_pair.model_pair`)
    and the neuron registry (:mod:`lava_fptt.kinds`) are built from it.
    """

    spec: ParamSpec
    float_params: type[Any]  # NamedTuple types: float and integer parameters, state
    int_params: type[Any]
    state: type[Any]
    float_step: Callable[..., Any]
    int_step: Callable[..., Any]
    state_widths: dict[str, Width]
    message_bits: int = 0
    """0: the neuron sends spikes; else a graded value of this many bits every step."""
    graded_unit: int = 1
    """A graded output's integer per float unit."""

    def __post_init__(self) -> None:
        self.spec.check_fields(self.float_params, self.int_params)

    @property
    def graded(self) -> bool:
        return self.message_bits > 0

    def check_state(self, state: Any) -> None:
        """Raise ``ValueError`` naming the first state that is not an integer within its width."""
        check_all(f"{self.spec.kind} state", state._asdict(), self.state_widths)
