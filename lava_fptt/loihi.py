"""Targeting Loihi 2: published per-core limits, the bit widths of each model, and resource reports.

No Loihi chip (and not Intel's proprietary Loihi backend for Lava) is available to this
project. What this module offers is the arithmetic a deployment would start from:

- :data:`LOIHI2`: the public per-chip and per-core figures of Loihi 2, with their sources;
- :func:`model_widths`: the register widths every model of this library uses, read from
  the constants the models themselves check against (one source of truth);
- :func:`layer_resources`: neurons, synapses, synaptic memory and neuron-state memory of
  one layer, and the cores it needs at the published per-core limits; :func:`ssnn_report`
  for an SSNN-BP ``network.npz`` from ``lava-fptt learn --out``.
  :func:`netx_export.resources.resource_report` reads either file (a netx HDF5 ``.net`` from
  ``lava-fptt export``, or the ``.npz``): files are read by ``netx_export``, not here.

The core count is an estimate from public numbers, not a placement by Intel's compiler:
every layer is placed on cores of its own (no sharing between layers), synapses are stored
densely (one weight per pair of neurons, no index, no compression), and a core's neuron
count, synaptic memory and total memory must each stay within its limit. Loihi 2 allocates
a core's memory flexibly between synapses, neuron state and microcode, and compresses
sparse synapses, so real counts can be lower (sparse weights) or higher (microcode, routing
tables, axon memory are not counted). See ``docs/loihi2.md``.
"""
from __future__ import annotations

import math
import pathlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CoreLimits:
    """Per-chip and per-core capacities of a neuromorphic chip, and where the numbers come from."""

    name: str
    cores_per_chip: int
    neurons_per_core: int
    synaptic_memory_per_core: int
    """bytes of synaptic memory a core can give to weights"""
    memory_per_core: int
    """bytes of a core's memory in all (synapses, neuron state and parameters, microcode, ...)"""
    neurons_per_chip: int
    synapses_per_chip: int
    sources: tuple[str, ...] = ()


LOIHI2 = CoreLimits(
    name="Loihi 2",
    cores_per_chip=128,
    neurons_per_core=8192,
    synaptic_memory_per_core=128 * 1024,
    memory_per_core=192 * 1024,
    neurons_per_chip=1_000_000,
    synapses_per_chip=120_000_000,
    sources=(
        "Intel Labs, 'Taking Neuromorphic Computing to the Next Level with Loihi 2', technology brief (2021): "
        "128 neuro-cores per chip, up to 1 million neurons and 120 million synapses per chip, up to 8,192 "
        "neurons per core (varies with the memory allocation), 192 KB of memory per core allocated flexibly",
        "G. Orchard et al., 'Efficient Neuromorphic Signal Processing with Loihi 2', IEEE SiPS 2021: "
        "programmable (microcode) neurons, graded spikes, 128 cores",
        "128 KB of synaptic memory per core: a figure from secondary sources (not in "
        "Intel's brief); taken as the upper bound of a core's memory given to weights",
    ),
)
"""Loihi 2's public figures (no Intel-internal data)."""


# ---------------------------------------------------------------------------
# Bit widths of each model
# ---------------------------------------------------------------------------
def model_widths() -> dict[str, dict[str, str]]:
    """Register widths of every model, ``{model: {quantity: width}}``, from the library's own constants.

    CUBA is Lava's fixed-point LIF as netx builds it (``lava/proc/lif/models.py``, Dense in
    ``lava/proc/dense/models.py``); LTC and its readout are ``lava_fptt.neurons.ltc``; SSNN-BP is
    ``lava_fptt.neurons.ssnn``.
    """
    from lava_fptt.neurons import dense
    from lava_fptt.neurons import ltc
    from lava_fptt.neurons import ssnn as ar

    cuba = {
        "weight": "8-bit mantissa (even integers in [-256, 254]) + shared exponent",
        "a_in (synaptic input)": "16-bit signed (in Lava's LIF), shifted << 6",
        "u (current), v (voltage)": "24-bit signed",
        "du, dv (decays)": "12-bit unsigned (of 4096)",
        "vth": "17-bit (mantissa << 6)",
        "bias": "13-bit mantissa + 3-bit exponent",
        "spike": "1 bit",
    }
    ltc_widths = {
        "weight (Dense)": f"{dense.WEIGHT_WIDTH} even ([-256, 254]: 8-bit mantissa x 2) + "
                          f"{dense.WEIGHT_EXP_WIDTH} shared exponent",
        "a_in, a_rec (graded input)": str(ltc.INPUT_WIDTH),
        "u, b, theta (states)": f"{ltc.STATE_WIDTH}, saturating",
        "gate outputs tau_m, tau_adp": "13-bit unsigned (0..4096)",
        "sigmoid table": f"{len(ltc.SIGMOID_TABLE)} words x 12 bits",
        "s (spike)": "1 bit",
    }
    ltc_widths.update({name: str(width) for name, width in ltc.PARAM_WIDTHS.items()})
    readout = {
        "weight (Dense)": ltc_widths["weight (Dense)"],
        "u (graded output)": f"{ltc.STATE_WIDTH} (sent as a 24-bit graded spike)",
    }
    readout.update({name: str(ltc.PARAM_WIDTHS[name]) for name in ltc.ReadoutIntParams._fields})
    ssnn = {
        "weight W1, W2 (learning engine)": f"{ar.WEIGHT_BITS}-bit signed (+-{ar.WEIGHT_MAX}), saturating",
        "dendritic sums z, b+, b-": f"<= {ar.ACCUMULATOR_BITS}-bit signed",
        "probabilities (intensity, p, error_prob)": f"{ar.PROB_BITS + 1}-bit unsigned (2**{ar.PROB_BITS} = 1.0)",
        "PRNG state (xorshift32)": f"{ar.STATE_BITS} bits per neuron and stream",
        "Gumbel table": f"{1 << ar.GUMBEL_BITS} words x 12 bits",
        "grad_gain": "12-bit unsigned",
        "act_shift, out_shift": "signed shifts in [-16, 8]",
        "spikes, gates, delay lines": "1 bit",
    }
    return {"CUBA (Lava LIF, fixed_pt)": cuba, "LTC": ltc_widths, "LTC_READOUT": readout, "SSNN-BP": ssnn}


def neuron_bits(neuron: str) -> int:
    """Bits of state and per-neuron parameters one neuron of this type holds (an estimate of
    its neuron memory; layer-wide constants such as CUBA's decays are not counted).

    ``neuron`` is a netx ``neuron/type``; the registry (:mod:`lava_fptt.kinds`) gives the kind's state
    and parameter widths. ``CUBA``: Lava LIF's ``u``, ``v`` (24 bits each) and ``bias_mant`` (13); ``none``
    (a layer without neuron group, where netx builds the same LIF as an integrator) likewise. ``LTC``:
    ``u``, ``b`` (24 each), ``s`` (1) and every parameter of :data:`lava_fptt.neurons.ltc.LTC_SPEC`.
    ``LTC_READOUT``: ``u`` and the readout's parameters. SSNN-BP: see :func:`ssnn_neuron_bits`.
    """
    from lava_fptt.kinds import by_netx_type

    kind = by_netx_type("CUBA" if neuron == "none" else neuron)
    if kind is None:
        raise ValueError(f"no neuron memory estimate for neuron type {neuron!r}")
    return kind.neuron_bits


def ssnn_neuron_bits(layer: str) -> int:
    """Bits per neuron of the SSNN-BP processes (``docs/ssnn_bp.md``): PRNG states, delay lines.

    ``encoder``: one 32-bit PRNG and a 17-bit intensity; ``hidden``: forward and backward
    PRNGs (32 each) and 2 slope-gate bits; ``output``: one 32-bit PRNG (the layer's shared
    error PRNG and the Gumbel table are counted once, not per neuron).
    """
    from lava_fptt.neurons import ssnn as ar

    per_layer = {"encoder": ar.STATE_BITS + ar.PROB_BITS + 1, "hidden": 2 * ar.STATE_BITS + 2,
                 "output": ar.STATE_BITS}
    if layer not in per_layer:
        raise ValueError(f"SSNN-BP layer must be one of {sorted(per_layer)}, got {layer!r}")
    return per_layer[layer]


# ---------------------------------------------------------------------------
# Resource report
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerResources:
    """What one layer needs, and the cores it takes at the limits it was computed for."""

    index: int
    kind: str
    neuron: str
    neurons: int
    fan_in: int
    synapses: int
    """weights stored for this layer's inputs (dense: every pair, recurrent weights included)"""
    nonzero_synapses: int
    weight_bits: int
    synaptic_memory_bytes: int
    neuron_memory_bytes: int
    cores: int
    limited_by: str
    """which per-core limit sets ``cores``: 'neurons', 'synaptic memory' or 'memory' ('fits one core')"""


@dataclass(frozen=True)
class ResourceReport:
    """Per-layer resources of a network and their totals against a chip's limits."""

    path: str
    format: str
    limits: CoreLimits
    layers: tuple[LayerResources, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()

    @property
    def neurons(self) -> int:
        return sum(layer.neurons for layer in self.layers)

    @property
    def synapses(self) -> int:
        return sum(layer.synapses for layer in self.layers)

    @property
    def synaptic_memory_bytes(self) -> int:
        return sum(layer.synaptic_memory_bytes for layer in self.layers)

    @property
    def cores(self) -> int:
        return sum(layer.cores for layer in self.layers)

    @property
    def chips(self) -> int:
        return max(1, math.ceil(self.cores / self.limits.cores_per_chip))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): the layers, the totals and the limits used."""
        return {"path": self.path, "format": self.format, "layers": [asdict(layer) for layer in self.layers],
                "neurons": self.neurons, "synapses": self.synapses,
                "synaptic_memory_bytes": self.synaptic_memory_bytes, "cores": self.cores, "chips": self.chips,
                "limits": asdict(self.limits), "notes": list(self.notes)}

    def table(self) -> str:
        """A Markdown table: one row per layer and a total row."""
        rows = ["| layer | type | neuron | neurons | fan-in | synapses (nonzero) | weight bits | synaptic memory "
                "| neuron memory | cores | limited by |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for layer in self.layers:
            rows.append(f"| {layer.index} | {layer.kind} | {layer.neuron} | {layer.neurons:,} | {layer.fan_in:,} "
                        f"| {layer.synapses:,} ({layer.nonzero_synapses:,}) | {layer.weight_bits} "
                        f"| {_kib(layer.synaptic_memory_bytes)} | {_kib(layer.neuron_memory_bytes)} "
                        f"| {layer.cores} | {layer.limited_by} |")
        rows.append(f"| total | | | {self.neurons:,} | | {self.synapses:,} | | {_kib(self.synaptic_memory_bytes)} "
                    f"| {_kib(sum(layer.neuron_memory_bytes for layer in self.layers))} | {self.cores} "
                    f"({self.cores / self.limits.cores_per_chip:.1%} of a chip) | |")
        return "\n".join(rows)


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def layer_resources(index: int, kind: str, neuron: str, weights: list[np.ndarray], weight_bits: int,
                    bits_per_neuron: int, limits: CoreLimits = LOIHI2, weight_copies: int = 1) -> LayerResources:
    """Resources of one layer of ``neurons = weights[0].shape[0]`` neurons fed by the weight
    matrices ``weights`` (each ``[neurons, inputs]``), stored ``weight_copies`` times.

    ``cores`` is the smallest count that keeps every core within the neuron limit, the
    synaptic-memory limit and the total-memory limit, with synapses and neurons spread evenly.
    """
    neurons = int(weights[0].shape[0])
    if any(w.ndim != 2 or w.shape[0] != neurons for w in weights):
        raise ValueError(f"layer {index}: weight matrices must all be [{neurons}, inputs], "
                         f"got {[tuple(w.shape) for w in weights]}")
    synapses = int(sum(w.size for w in weights)) * weight_copies
    nonzero = int(sum(np.count_nonzero(w) for w in weights)) * weight_copies
    synaptic_bytes = math.ceil(synapses * weight_bits / 8)
    neuron_bytes = math.ceil(neurons * bits_per_neuron / 8)
    needs = {
        "neurons": math.ceil(neurons / limits.neurons_per_core),
        "synaptic memory": math.ceil(synaptic_bytes / limits.synaptic_memory_per_core),
        "memory": math.ceil((synaptic_bytes + neuron_bytes) / limits.memory_per_core),
    }
    limited_by = max(needs, key=lambda k: needs[k])
    cores = max(1, needs[limited_by])
    if cores == 1:
        limited_by = "fits one core"
    return LayerResources(index=index, kind=kind, neuron=neuron, neurons=neurons,
                          fan_in=int(sum(w.shape[1] for w in weights)), synapses=synapses,
                          nonzero_synapses=nonzero, weight_bits=weight_bits, synaptic_memory_bytes=synaptic_bytes,
                          neuron_memory_bytes=neuron_bytes, cores=cores, limited_by=limited_by)


def ssnn_report(path: str | pathlib.Path, limits: CoreLimits = LOIHI2) -> ResourceReport:
    """Resources of an SSNN-BP network (the ``.npz`` ``lava-fptt learn --out`` writes) at ``limits``.

    A netx file is sized by :func:`netx_export.resources.resource_report`, which reads it.
    """
    from lava_fptt.neurons import ssnn as ar
    from lava_fptt.onchip.storage import load_network

    config, w1, w2 = load_network(path)
    encoder = np.zeros((config.n_in, 0), dtype=np.int64)  # neurons without input synapses
    layers = (
        layer_resources(0, "encoder", "SSNN encoder", [encoder], ar.WEIGHT_BITS, ssnn_neuron_bits("encoder"), limits),
        # W and its transpose: the forward sums use W, the backward sums W^T (docs/ssnn_bp.md)
        layer_resources(1, "dense", "SSNN hidden (3 compartments)", [w1], ar.WEIGHT_BITS,
                        ssnn_neuron_bits("hidden"), limits, weight_copies=1),
        layer_resources(2, "dense", "SSNN WTA output", [w2], ar.WEIGHT_BITS, ssnn_neuron_bits("output"), limits,
                        weight_copies=2),
    )
    notes = (f"weights: {ar.WEIGHT_BITS}-bit signed learning-engine weights, stored densely",
             "W2 is stored twice (W2 for the forward sums, W2^T for the backward sums to the hidden layer); "
             "W1 needs no transpose (no layer below it learns)",
             f"config: T={config.steps_per_sample}, act_shift={config.act_shift}, grad_gain={config.grad_gain}")
    return ResourceReport(str(path), "ssnn-npz", limits, layers, notes)
