"""The neuron registry: one record per neuron kind, read by everything that handles neurons.

A :class:`NeuronKind` names, for one kind of neuron, its parameter specification
(:mod:`lava_fptt.neurons.spec`), its float and integer step functions and their parameter
and state tuples, its training blocks, its Lava process, its ``neuron/type`` in a netx
file, what it sends (spikes or graded values, and at what scale), how its network is
aligned in time against torch, and its register widths. The netx builder and loader
(:mod:`netx_export.builder`, :mod:`netx_export.loader`), the inference alignment
(:mod:`netx_export.inference`), the resource report (:func:`lava_fptt.loihi.neuron_bits`)
and the conformance tests read these records instead of branching on names; a new kind
registers here (:func:`register`) and gets all of them (``docs/adding_a_neuron.md``).

Time alignment: ``"delayed"`` networks (slayer's CUBA blocks) delay every block by one
step in torch as Lava's ``Dense`` does, so torch's step ``k`` is Lava's; ``"undelayed"``
ones (our neurons: they have a bias and adapt, so they are not at rest without input and
a delay would not commute with them) are read at each layer's pipeline depth.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from lava_fptt.neurons.fixed_point import Width
from lava_fptt.neurons.spec import Dynamics, Param, ParamSpec


@dataclass(frozen=True)
class NeuronKind:
    """Everything the library knows about one kind of neuron (module docstring)."""

    name: str
    netx_type: str
    """``neuron/type`` of its layers in a netx file."""
    params: ParamSpec
    """Its per-neuron parameters (for Lava's own CUBA neuron: the per-neuron registers of Lava's LIF)."""
    state_widths: dict[str, Width]
    output: str = "spikes"
    """``"spikes"`` (binary) or ``"graded"`` (a value every step)."""
    alignment: str = "undelayed"
    """``"delayed"`` or ``"undelayed"`` (module docstring)."""
    message_bits: int = 0
    """Bits of what it sends: 0 for spikes."""
    graded_unit: int = 1
    """A graded output's integer per float unit (its fixed-point value / this = torch's value)."""
    float_step: Optional[Callable[..., Any]] = None
    """``step(x, state, params) -> (output, state)`` in float (None: not defined here, e.g. Lava's own LIF)."""
    int_step: Optional[Callable[..., Any]] = None
    """The same step in the integer form, for numpy and torch ``int64`` arrays."""
    float_params: Optional[type] = None
    int_params: Optional[type] = None
    state: Optional[type] = None
    blocks: tuple[type, ...] = ()
    """Its training blocks (lava-dl style torch modules)."""
    process: Optional[type] = None
    """Its Lava process (None: netx's own). With ``int_params``, :mod:`netx_export.builder` builds its layers
    (our netx format, :mod:`lava_fptt.blocks.netx_format`) as a ``Dense`` into this process."""
    aliases: tuple[str, ...] = field(default=())
    """Other ``neuron/type`` names netx writes for the same neuron."""

    @classmethod
    def of(cls, name: str, netx_type: str, dynamics: Dynamics, *, blocks: tuple[type, ...], process: type,
           alignment: str = "undelayed") -> NeuronKind:
        """The record of a neuron kind defined by its :class:`~lava_fptt.neurons.spec.Dynamics`."""
        return cls(name, netx_type, dynamics.spec, dict(dynamics.state_widths),
                   output="graded" if dynamics.graded else "spikes", alignment=alignment,
                   message_bits=dynamics.message_bits, graded_unit=dynamics.graded_unit,
                   float_step=dynamics.float_step, int_step=dynamics.int_step, float_params=dynamics.float_params,
                   int_params=dynamics.int_params, state=dynamics.state, blocks=blocks, process=process)

    @property
    def neuron_bits(self) -> int:
        """Bits of state and per-neuron parameters one neuron holds (its neuron memory)."""
        return sum(w.bits for w in self.state_widths.values()) + self.params.bits

    @property
    def built_here(self) -> bool:
        """True when its layers are in our netx format, built by this library rather than netx."""
        return self.process is not None and self.int_params is not None


KINDS: dict[str, NeuronKind] = {}
"""Every registered neuron kind, by name."""


def register(kind: NeuronKind) -> NeuronKind:
    """Add ``kind`` to the registry (a name or netx type already taken is refused)."""
    taken = {k.netx_type for k in KINDS.values()}
    if kind.name in KINDS or (kind.built_here and kind.netx_type in taken):
        raise ValueError(f"neuron kind {kind.name!r} ({kind.netx_type}) is already registered")
    KINDS[kind.name] = kind
    return kind


def by_netx_type(neuron_type: Optional[str]) -> Optional[NeuronKind]:
    """The kind whose layers have this ``neuron/type`` (a graded CUBA readout is told apart by its
    threshold, :func:`netx_export.readout.is_readout`, not its type), or None."""
    for kind in KINDS.values():
        if neuron_type == kind.netx_type or neuron_type in kind.aliases:
            return kind
    return None


def built_here(neuron_type: Optional[str]) -> Optional[NeuronKind]:
    """The kind of a ``neuron/type`` whose layers this library builds (our format), or None."""
    kind = by_netx_type(neuron_type)
    return kind if kind is not None and kind.built_here else None


def _register_known() -> None:
    from lava_fptt.blocks.ltc import NETX_NEURON_TYPES, LTCDense, LTCReadout, LTCRecurrent
    from lava_fptt.models.lif import LIFDense, LIFRecurrent
    from lava_fptt.neurons import ltc
    from lava_fptt.neurons.lif import LIF_DYNAMICS
    from lava_fptt.proc.lif import PlainLIF
    from lava_fptt.proc.li.process import MESSAGE_BITS, VOLTAGE_UNIT, CubaLI
    from lava_fptt.proc.ltc.process import LTC, LTCReadout as LTCReadoutProcess

    lif_registers = ParamSpec("CUBA", (Param("bias_mant", 1, Width(13)),))  # du, dv, vth: one per layer
    lif_state = {"u": Width(24), "v": Width(24)}
    register(NeuronKind("cuba", "CUBA", lif_registers, lif_state, alignment="delayed", aliases=("LOIHI",)))
    register(NeuronKind("cuba_readout", "CUBA", lif_registers, lif_state, output="graded", alignment="delayed",
                        message_bits=MESSAGE_BITS, graded_unit=VOLTAGE_UNIT, process=CubaLI))
    register(NeuronKind.of("ltc", NETX_NEURON_TYPES["spiking"], ltc.LTC_DYNAMICS, blocks=(LTCDense, LTCRecurrent),
                           process=LTC))
    register(NeuronKind.of("ltc_readout", NETX_NEURON_TYPES["readout"], ltc.READOUT_DYNAMICS, blocks=(LTCReadout,),
                           process=LTCReadoutProcess))
    register(NeuronKind.of("lif", LIFDense.netx_type, LIF_DYNAMICS, blocks=(LIFDense, LIFRecurrent), process=PlainLIF))


_register_known()
