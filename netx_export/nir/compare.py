"""An imported network in Lava against a float simulation of its NIR graph, layer by layer.

:func:`compare_in_lava` runs the netx file in Lava's fixed-point simulation with every
layer recorded (:func:`netx_export.inference.run_in_lava`) and sets each layer's spikes
beside a reference's (the float simulation :func:`netx_export.nir.simulate`, or a peer
such as snnTorch), step by step on the same inputs. Lava runs with the graph's timing
(``delayed=False``): each layer starts from rest when a sample's first input reaches it
and is read at its own pipeline depth, so its step ``t`` is the graph's step ``t``, biased
layers included. A graded readout (``LI``, ``CubaLI``, ``I``) is compared by its values.
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..inference import run_in_lava, spike_match
from ..loader import describe
from .importer import readout_scale


@dataclass(frozen=True)
class LayerMatch:
    """One layer: ``spike_match`` (|A and B| / |A or B| over all spikes), ``agreement``
    (fraction of identical neuron-step entries, silences included) and spike counts."""

    name: str
    spike_match: float
    agreement: float
    lava_spikes: int
    reference_spikes: int


@dataclass(frozen=True)
class ReadoutMatch:
    """A graded readout: the largest difference of its values (``max_abs_diff``), that over the
    largest reference magnitude (``relative``, the worst case), the mean difference over the mean
    reference magnitude (``mean_relative``), and the fraction of identical values."""

    name: str
    max_abs_diff: float
    relative: float
    mean_relative: float
    identical: float


@dataclass(frozen=True)
class Comparison:
    """Per-layer matches (spiking layers; ``readout`` for a graded last layer), and the
    fraction of samples whose predicted class is the same in Lava and in the reference
    (:func:`classes`)."""

    layers: tuple[LayerMatch, ...]
    same_class: float
    lava_classes: np.ndarray
    reference_classes: np.ndarray
    readout: Optional[ReadoutMatch] = None

    def to_dict(self) -> dict[str, Any]:
        """The per-layer matches, the readout's and ``same_class`` as plain data (JSON)."""
        return {"layers": [m.__dict__ for m in self.layers], "same_class": self.same_class,
                **({"readout": self.readout.__dict__} if self.readout else {})}


def classes(output: np.ndarray, graded: bool = False) -> np.ndarray:
    """Predicted class of each sample (lowest index on ties): the output with most spikes, or for a
    graded readout the largest value at the last step (:func:`lava_fptt.online.output.predict`)."""
    output = output.reshape(len(output), -1, output.shape[-1])
    return output[..., -1].argmax(axis=-1) if graded else output.sum(axis=-1).argmax(axis=-1)


def readout_match(name: str, lava: np.ndarray, reference: np.ndarray) -> ReadoutMatch:
    """A graded readout's :class:`ReadoutMatch` of two value arrays of the same size."""
    lava, reference = lava.reshape(reference.shape), np.asarray(reference, dtype=np.float64)
    diff = np.abs(lava - reference)
    peak, mean = float(np.abs(reference).max()), float(np.abs(reference).mean())
    return ReadoutMatch(name, float(diff.max()), float(diff.max()) / peak if peak else 0.0,
                        float(diff.mean()) / mean if mean else 0.0, float((lava == reference).mean()))


def match(name: str, lava: np.ndarray, reference: np.ndarray) -> LayerMatch:
    """One layer's :class:`LayerMatch` of two spike arrays [N, ...] of the same size."""
    lava, reference = lava.reshape(reference.shape[0], -1) > 0, reference.reshape(reference.shape[0], -1) > 0
    return LayerMatch(name, spike_match(lava, reference), float((lava == reference).mean()), int(lava.sum()),
                      int(reference.sum()))


def lava_layers(network: str | pathlib.Path, inputs: np.ndarray) -> list[np.ndarray]:
    """Every layer of ``network`` in Lava (fixed point) [N, size, T], step ``t`` of each being its answer to
    input step ``t`` as in the graph (no pipeline delays; :func:`run_in_lava` with ``delayed=False``).

    Spikes; a graded readout's values in the imported graph's voltage units
    (:func:`netx_export.nir.importer.readout_scale`; slayer's units for a file not imported from NIR).
    """
    result = run_in_lava(network, inputs, "fixed", record_hidden=True, delayed=False)
    output = result.output
    if result.graded:
        output = output * (readout_scale(network) or 1.0)
    return [*result.hidden, output]


def compare(spikes: list[np.ndarray], reference: dict[str, np.ndarray], names: list[str],
            graded: bool = False) -> Comparison:
    """Layers ``spikes`` (in order) against ``reference[name]`` for the layer ``names`` in order;
    ``graded``: the last layer is a graded readout (compared by value, classes by the readout rule)."""
    if len(spikes) != len(names):
        raise ValueError(f"{len(spikes)} layers, {len(names)} names given")
    spiking = names[:-1] if graded else names
    layers = tuple(match(name, s, reference[name]) for name, s in zip(spiking, spikes))
    readout = readout_match(names[-1], spikes[-1], reference[names[-1]]) if graded else None
    mine, theirs = classes(spikes[-1], graded), classes(reference[names[-1]], graded)
    return Comparison(layers, float((mine == theirs).mean()), mine, theirs, readout)


def compare_in_lava(network: str | pathlib.Path, inputs: np.ndarray, reference: dict[str, np.ndarray],
                    names: list[str]) -> Comparison:
    """Lava's layers of ``network`` (:func:`lava_layers`) against ``reference`` (:func:`compare`)."""
    return compare(lava_layers(network, inputs), reference, names, graded=describe(network).graded_output)
