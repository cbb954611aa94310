"""Running a network file in Lava's CPU simulation, sample after sample.

All samples run back to back in one Lava run. Each sample gets a window of
``steps + num_layers`` steps: its spikes, then ``num_layers`` empty steps that let the
last input drain through the pipeline (each Lava ``Dense`` delays by one step). Every
layer is reset once per window (netx's ``reset_interval``), staggered by one step per
layer so that each layer starts the new sample from rest exactly when the sample's
first input reaches it. Output step k of a window then equals step k of the torch
model (whose layers apply the same one-step delay), so the two can be compared spike
for spike.
"""
from __future__ import annotations

import pathlib
import time
from dataclasses import dataclass

import numpy as np

from lava_fptt.runtime import lava_session, run_steps

from .errors import NetworkFileError
from .loader import describe, load_network

PRECISIONS = {"fixed": "fixed_pt", "float": "floating_pt"}


@dataclass(frozen=True)
class LavaResult:
    """Output spikes [N, outputs, steps] and the simulation speed."""

    spikes: np.ndarray
    steps_per_s: float
    total_steps: int


def run_config(precision: str) -> object:
    """Lava run configuration selecting fixed-point or floating-point neuron and synapse models.

    netx tags its block sub-process models ``fixed_pt`` only, although they merely compose
    Lava's LIF and Dense. For floating point, those composite models are named explicitly
    so that the neurons and synapses inside them resolve to their ``floating_pt`` models.
    """
    from lava.lib.dl.netx import hdf5
    from lava.lib.dl.netx.blocks import models, process
    from lava.magma.core.run_configs import Loihi2SimCfg

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
    if precision == "fixed":
        return Loihi2SimCfg(select_tag="fixed_pt")
    composites = {hdf5.Network: hdf5.PyNetworkModel, process.Dense: models.PyDenseModel,
                  process.Input: models.PyInputModel, process.Conv: models.PyConvModel}
    return Loihi2SimCfg(select_tag="floating_pt", exception_proc_model_map=composites)


def run_in_lava(path: str | pathlib.Path, inputs: np.ndarray, precision: str = "fixed") -> LavaResult:
    """Run ``inputs`` [N, channels, steps] (binary spikes) through the network in ``path``."""
    from lava.proc.io.sink import RingBuffer as SpikeSink
    from lava.proc.io.source import RingBuffer as SpikeSource

    config = run_config(precision)
    summary = describe(path)
    if inputs.ndim != 3 or inputs.shape[1] != summary.num_inputs:
        raise NetworkFileError(
            f"{summary.path}: the network takes {summary.num_inputs} input channels, "
            f"the data has {inputs.shape[1] if inputs.ndim == 3 else inputs.shape} "
            "(wrong data set or encoding for this network?)"
        )
    num_samples, channels, steps = inputs.shape
    depth = summary.num_layers
    window = steps + depth
    stream = np.zeros((channels, num_samples * window), dtype=np.float64)
    for i in range(num_samples):
        stream[:, i * window: i * window + steps] = inputs[i]

    network = load_network(path, reset_interval=window, reset_offset=(1 - depth) % window)
    source = SpikeSource(data=stream)
    sink = SpikeSink(shape=network.out.shape, buffer=num_samples * window)
    source.s_out.connect(network.inp)
    network.out.connect(sink.a_in)
    with lava_session(network):
        start = time.perf_counter()
        run_steps(network, num_samples * window, config)
        elapsed = time.perf_counter() - start
        recorded = sink.data.get()
    windows = recorded.reshape(summary.num_outputs, num_samples, window).transpose(1, 0, 2)
    return LavaResult(windows[..., :steps].astype(np.float32), num_samples * window / elapsed, num_samples * window)


def spike_match(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of spikes that are identical: |a AND b| / |a OR b| (1.0 when neither spikes)."""
    a, b = a > 0, b > 0
    either = np.logical_or(a, b).sum()
    return 1.0 if either == 0 else float(np.logical_and(a, b).sum() / either)
