"""Running a network file in Lava's CPU simulation, sample after sample.

All samples run back to back in one Lava run. Each sample gets a window of
``steps + num_layers`` steps: its spikes, then ``num_layers`` empty steps that let the
last input drain through the pipeline (each Lava ``Dense`` delays by one step). Every
layer is reset once per window (netx's ``reset_interval``), staggered by one step per
layer so that each layer starts the new sample from rest exactly when the sample's
first input reaches it. Output step k of a window then equals step k of the torch
model (whose layers apply the same one-step delay), so the two can be compared spike
for spike.

Networks with LTC layers are aligned differently, because the LTC torch model has no
delays (its neurons have a bias, so they are not at rest under zero input): each layer
is reset exactly when the sample's first input reaches it, and each layer's steps are
read from the window at its own pipeline depth (:func:`run_in_lava`). Their readout is
graded: the result carries its ``u`` values, and the hidden layers' spikes.

Recurrent CUBA layers (netx's ``RecurrentDense``: ``neuron.s_out -> synapse_rec ->
neuron.a_in``) need one more step. At a layer's reset step its recurrent ``Dense`` still
delivers ``R s`` of the step before, the previous sample's last spikes, and that input
enters the freshly reset neuron (LIF has a single ``a_in``): samples after the first then
differed from torch (measured: spike_match 0.3-0.7 from sample 2 on). Silent steps
between samples cannot fix this, since a recurrent layer may keep itself firing. The run
therefore pauses after the step before each such reset and zeroes that ``Dense``'s
buffered output ``a_buff`` (:func:`recurrent_clears`); the netx blocks are left as
netx builds them. (The LTC process drops its separate recurrent input at resets itself.)
"""
from __future__ import annotations

import pathlib
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
from tqdm.auto import tqdm

from lava_fptt.proc.recorder import Recorder
from lava_fptt.runtime import lava_session, run_steps

from .errors import NetworkFileError
from .builder import load_network
from .loader import describe
from .validate import require_neurons

PRECISIONS = {"fixed": "fixed_pt", "float": "floating_pt"}
PROGRESS_PIECES = 20
"""With a progress bar, a run pauses about this many times. A pause costs about 25 ms here
(measured: 50 pauses in a run of 7,900 steps gave 0.92-0.94x the steps/s of the same run
without), so 20 cost about half a second, whatever the run's length. Without a terminal
there is no bar and no pause."""


@dataclass(frozen=True)
class LavaResult:
    """What Lava produced, per sample and aligned with the torch model's steps.

    ``output`` [N, outputs, steps]: the output layer's spikes (0/1), or for a network
    ending in an LTC readout its graded ``u`` in float units (the 24-bit integer / 4096
    in fixed point, exact in float64), for one ending in a graded CUBA readout its
    voltage in slayer's units (Lava's 24-bit ``v`` / 4096, :mod:`netx_export.readout`).
    ``hidden``: spikes [N, size, steps] of every hidden layer when recorded
    (:func:`run_in_lava`'s ``record_hidden``), else empty; hidden layer ``k``'s step ``t`` is the layer's own step ``t`` from the sample's start
    (for CUBA networks: without the torch model's input delay).
    """

    output: np.ndarray
    steps_per_s: float
    total_steps: int
    graded: bool = False
    hidden: tuple[np.ndarray, ...] = ()
    samples_per_s: float = 0.0
    """Samples per second at ``steps_per_s`` (``parallel`` samples advance together)."""
    start_s: float = 0.0
    """Seconds to compile the network, start Lava's processes and run the first step."""

    @property
    def spikes(self) -> np.ndarray:
        """The output (name kept for spiking networks)."""
        return self.output


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


def run_in_lava(path: str | pathlib.Path, inputs: np.ndarray, precision: str = "fixed",
                record_hidden: Optional[bool] = None, delayed: Optional[bool] = None,
                progress: bool = False, parallel: int = 1, sparse: bool = False) -> LavaResult:
    """Run ``inputs`` [N, channels, steps] or [N, C, H, W, steps] (binary spikes) through ``path``.

    Image-shaped inputs (C, H, W as torch orders them) feed a network whose first layer
    is a convolution (Lava's (W, H, C) order is handled here); a network with a dense
    first layer takes them flattened in (C, H, W) order. ``record_hidden`` records the
    spikes of every hidden layer (one Lava sink process each): None (default) for
    networks with LTC layers only, True for any network, False for none (e.g. to time
    the network alone). Hidden layers are flattened in (C, H, W) order and recorded by
    :class:`~lava_fptt.proc.recorder.Recorder` (one file per layer; Lava's own sink is read
    back one element per message, far too slow for convolution layers). ``progress``
    draws a bar of the samples done on stderr when it is a terminal; the run then pauses
    every :data:`PROGRESS_PIECES`-th of the samples to update it.

    Networks of CUBA layers follow the CUBA torch model (output step k of a window is
    torch step k, module docstring). Networks with LTC layers follow the LTC torch model,
    which has no delays: layer ``k`` (0-based) is reset at window step ``k + 1`` (Lava's
    step ``k + 2``), exactly when the sample's first input reaches it through ``k + 1``
    Dense synapses, and its step ``t`` appears at window step ``t + k + 1``; the readout
    (layer ``L - 1``) thus fills the last ``steps`` steps of the window. Hidden layer
    ``k`` of a CUBA network is read the same way, from window step ``k + 1``.
    Recurrent CUBA layers pause the run before each of their resets (module docstring);
    ``steps_per_s`` includes those pauses and leaves out the first step, whose call compiles
    the network and starts Lava (``start_s``).

    ``delayed`` chooses between the two: True follows a model that delays every block
    by one step (slayer's ``delay_shift``: the CUBA torch model), False one whose layers
    all run from the sample's first step (the LTC torch model, and the float simulation
    of a NIR graph: every layer, biased ones too, starts from rest when the sample's
    first input reaches it). Default: False for files with LTC layers, else True. A
    graded CUBA readout (lava-dl's ``cuba.Affine``, which has no ``delay_shift``) is read
    one step later under ``delayed``: torch's readout step ``k`` is window step ``k + 1``.

    ``parallel`` K > 1 runs K copies of a dense network side by side
    (:func:`netx_export.parallel.widen`): samples ``r*K .. r*K + K - 1`` share window ``r``,
    each on its own copy, and the result is split back per sample; the last group is padded
    with silent samples; the copies' block-diagonal weights run as Lava ``Sparse`` synapses
    (``sparse``, which any run may ask for). Each sample's output equals its run with
    ``parallel=1``.
    """
    if parallel != 1:
        return _run_parallel(path, inputs, precision, record_hidden, parallel, delayed, progress)
    from lava.proc.io.sink import RingBuffer as SpikeSink
    from lava.proc.io.source import RingBuffer as SpikeSource

    config = run_config(precision)
    summary = describe(path)
    require_neurons(summary.path, summary.layer_types, summary.neuron_types)
    channels = int(np.prod(inputs.shape[1:-1])) if inputs.ndim in (3, 5) else None
    if channels is None or (summary.num_inputs is not None and channels != summary.num_inputs):
        raise NetworkFileError(
            f"{summary.path}: the network takes {summary.num_inputs} input channels, "
            f"the data has {channels if channels is not None else inputs.shape} "
            "(wrong data set or encoding for this network?)"
        )
    num_samples, steps = inputs.shape[0], inputs.shape[-1]
    depth = summary.num_blocks
    window = steps + depth

    ltc = summary.undelayed
    undelayed = ltc if delayed is None else not delayed
    reset_offset = 1 if undelayed else (1 - depth) % window
    image_shape = tuple(inputs.shape[3:0:-1]) if inputs.ndim == 5 else None  # (x, y, f), for files without one
    network = load_network(path, reset_interval=window, reset_offset=reset_offset, precision=precision,
                           input_shape=image_shape, sparse=sparse)
    lava_shape = tuple(network.inp.shape)
    if len(lava_shape) == 3 and inputs.ndim != 5:
        raise NetworkFileError(f"{summary.path}: the network's first layer is a convolution over (W, H, C) = "
                               f"{lava_shape}; give inputs shaped [N, C, H, W, steps]")
    stream = np.zeros((*lava_shape, num_samples * window), dtype=np.float64)
    for i in range(num_samples):
        sample = inputs[i].transpose(2, 1, 0, 3) if len(lava_shape) == 3 else inputs[i].reshape(channels, steps)
        stream[..., i * window: i * window + steps] = sample
    source = SpikeSource(data=stream)
    total = num_samples * window
    sink = SpikeSink(shape=network.out.shape, buffer=total)
    source.s_out.connect(network.inp)
    network.out.connect(sink.a_in)
    with tempfile.TemporaryDirectory() as records:
        hidden_files = []
        if record_hidden or (record_hidden is None and ltc):
            for k, layer in enumerate(network.layers[:-1]):
                hidden_files.append(pathlib.Path(records) / f"layer{k}.npy")
                layer.out.connect(Recorder(shape=layer.out.shape, steps=total, path=hidden_files[-1]).a_in)
        with lava_session(network), tqdm(total=num_samples, unit="sample", desc=f"Lava ({precision} point)",
                                         disable=None if progress else True, leave=False) as bar:
            start = time.perf_counter()
            pauses = {} if bar.disable else progress_pauses(num_samples, window)
            pauses.update(recurrent_clears(network.layers, window, reset_offset, total))
            elapsed = run_pausing(network, total, config, pauses, lambda step: bar.update(step // window - bar.n))
            start_s = time.perf_counter() - start - elapsed
            recorded = sink.data.get()
        hidden_recorded = [np.load(f) for f in hidden_files]

    def per_sample(data: np.ndarray, first: int) -> np.ndarray:
        if data.ndim == 4:  # a convolution layer's (W, H, C): to torch's (C, H, W), flattened
            data = data.transpose(2, 1, 0, 3)
        windows = data.reshape(-1, num_samples, window).transpose(1, 0, 2)
        return windows[..., first: first + steps]

    graded = summary.graded_output
    output = per_sample(recorded, depth if undelayed else int(summary.cuba_readout)).astype(np.float64)
    if graded and precision == "fixed":
        assert summary.output_kind is not None  # graded: a kind of the registry
        output = output / summary.output_kind.graded_unit
    hidden = tuple(per_sample(h, k + 1).astype(np.float32) for k, h in enumerate(hidden_recorded))
    steps_per_s = (total - 1) / elapsed if total > 1 else total / start_s
    return LavaResult(output if graded else output.astype(np.float32), steps_per_s, total, graded, hidden,
                      steps_per_s * num_samples / total, start_s)


def _run_parallel(path: str | pathlib.Path, inputs: np.ndarray, precision: str, record_hidden: Optional[bool],
                  copies: int, delayed: Optional[bool], progress: bool) -> LavaResult:
    """:func:`run_in_lava` of ``copies`` copies side by side, split back per sample."""
    from .parallel import widen

    if copies < 1:
        raise ValueError(f"parallel must be >= 1, got {copies}")
    num_samples, steps = inputs.shape[0], inputs.shape[-1]
    flat = inputs.reshape(num_samples, -1, steps)
    groups = -(-num_samples // copies)
    padded = np.zeros((groups * copies, *flat.shape[1:]), dtype=flat.dtype)
    padded[:num_samples] = flat
    wide_inputs = padded.reshape(groups, copies * flat.shape[1], steps)
    with tempfile.TemporaryDirectory() as folder:
        wide = widen(path, copies, pathlib.Path(folder) / "parallel.net")
        result = run_in_lava(wide, wide_inputs, precision, record_hidden, delayed=delayed, progress=progress,
                             sparse=True)

    def split(data: np.ndarray) -> np.ndarray:
        per_copy = data.reshape(groups, copies, -1, data.shape[-1])
        return per_copy.reshape(groups * copies, -1, data.shape[-1])[:num_samples]

    return LavaResult(split(result.output), result.steps_per_s, result.total_steps, result.graded,
                      tuple(split(h) for h in result.hidden), result.steps_per_s * num_samples / result.total_steps,
                      result.start_s)


def recurrent_clears(layers: list[Any], window: int, reset_offset: int, total: int) -> dict[int, list[Any]]:
    """For each Lava step, the recurrent ``Dense`` synapses whose buffered output to zero after it.

    Layer ``k`` of ``layers`` (netx blocks as built with ``reset_offset``) is reset at the
    steps ``t`` (from 1) with ``t % window == (reset_offset + 1 + k) % window``
    (:mod:`netx_export.builder`). For each netx ``RecurrentDense`` the result maps every
    step ``t - 1`` before such a reset (``2 <= t <= total``) to its ``synapse_rec``.
    """
    from lava.lib.dl.netx.blocks.process import RecurrentDense

    clears: dict[int, list[Any]] = {}
    for k, layer in enumerate(layers):
        if isinstance(layer, RecurrentDense):
            first = (reset_offset + 1 + k) % window or window
            for reset in range(first, total + 1, window):
                if reset >= 2:
                    clears.setdefault(reset - 1, []).append(layer.synapse_rec)
    return clears


def progress_pauses(num_samples: int, window: int) -> dict[int, list[Any]]:
    """Steps (ends of sample windows) after which to pause to show progress, about
    :data:`PROGRESS_PIECES` of them, with nothing to clear."""
    every = max(1, -(-num_samples // PROGRESS_PIECES))
    return {i * window: [] for i in range(every, num_samples, every)}


def run_pausing(network: Any, total: int, config: object, pauses: dict[int, list[Any]],
                paused: Callable[[int], None] = lambda step: None) -> float:
    """Run ``total`` steps, pausing after each step in ``pauses`` to zero the buffered output
    ``a_buff`` of the synapses it lists, and calling ``paused(step)`` after every piece.

    Returns the seconds taken by the steps after the first: the first step's call also
    compiles the network and starts Lava's processes (seconds, whatever the run's length),
    so the rate of the steps after it is what a longer run would sustain.
    """
    done, began = 0, None
    for step in sorted(set(pauses) | ({1} if total > 1 else set())):
        run_steps(network, step - done, config)
        done = step
        for synapse in pauses.get(step, ()):
            synapse.a_buff.set(np.zeros(synapse.a_buff.shape))
        paused(done)
        if began is None:
            began = time.perf_counter()
    if total > done:
        run_steps(network, total - done, config)
        paused(total)
    return time.perf_counter() - began if began is not None else 0.0


def spike_match(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of spikes that are identical: |a AND b| / |a OR b| (1.0 when neither spikes)."""
    a, b = a > 0, b > 0
    either = np.logical_or(a, b).sum()
    return 1.0 if either == 0 else float(np.logical_and(a, b).sum() / either)


def accuracy(output: np.ndarray, labels: np.ndarray, kind: str) -> float:
    """Accuracy with the prediction rule of the output kind (:func:`lava_fptt.models.network.predict`)."""
    import torch

    from lava_fptt.online.output import predict

    return float((predict(torch.from_numpy(np.asarray(output)), kind).numpy() == labels).mean())


def compare_with_torch(lava: LavaResult, model: Any, inputs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Lava's result against the trained torch ``model`` (an :class:`~lava_fptt.online.OnlineNetwork`)
    on the same ``inputs`` and ``labels``: what ``lava-fptt run --reference`` reports.

    ``reference_accuracy``; for spiking outputs ``spike_match`` and ``identical_samples``; for graded
    outputs :func:`compare_graded` (hidden spikes compared when the model gives them: LTC networks).
    """
    import torch

    x = torch.from_numpy(inputs)
    reference = model.run(x).numpy()
    result: dict[str, Any] = {"reference_accuracy": accuracy(reference, labels, model.output_kind)}
    if lava.graded:
        spikes_of = getattr(model, "hidden_spikes", None)  # LTC networks
        hidden = None if spikes_of is None else [h.numpy() for h in spikes_of(x)]
        return {**result, **compare_graded(lava, reference, hidden)}
    return {**result, "spike_match": spike_match(lava.output, reference),
            "identical_samples": int(sum(np.array_equal(a, b) for a, b in zip(lava.output > 0, reference > 0)))}


def compare_graded(lava: Any, readout: np.ndarray, hidden: Optional[list[np.ndarray]]) -> dict[str, Any]:
    """Lava against torch for a network ending in a graded readout (LTC's, or CUBA neurons that never spike).

    ``spike_match``: :func:`spike_match` over the spikes of all hidden layers, when the
    torch model gives them (``hidden``; LTC networks; None: not compared).
    ``readout_match``: fraction of readout values (every sample, neuron and step)
    that are identical; ``readout_max_abs_diff`` the largest difference (float units).
    ``identical_samples``: samples whose hidden spikes and readout values are all identical.
    """
    readout = readout.astype(np.float64)
    same_readout = lava.output == readout
    identical = same_readout.all(axis=(1, 2))
    result: dict[str, Any] = {}
    if hidden is not None:
        for a, b in zip(lava.hidden, hidden):
            identical &= ((a > 0) == (b > 0)).all(axis=(1, 2))
        empty = [np.zeros((len(readout), 0))]  # no hidden layer: nothing to differ
        result["spike_match"] = spike_match(np.concatenate([h.reshape(len(h), -1) for h in lava.hidden] + empty, 1),
                                            np.concatenate([h.reshape(len(h), -1) for h in hidden] + empty, 1))
    return {**result, "readout_match": float(same_readout.mean()),
            "readout_max_abs_diff": float(np.abs(lava.output - readout).max()),
            "identical_samples": int(identical.sum())}
