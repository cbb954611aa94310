"""The SSNN-BP network as connected Lava processes, and a session that runs it in pieces.

One compiled network learns from a whole stream of samples: the encoder holds the data and
the presentation order, so no sample needs a recompile. :class:`LavaSession` runs it a
number of steps at a time (the learning rate can be changed between pieces, as a host
would between epochs), reads the weights, and always stops the runtime, also on errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.io.sink import RingBuffer as Sink

from lava_fptt.runtime import run_steps, stop_runtime
from lava_fptt.neurons.ssnn import GATE_DELAY, HIDDEN_PRE_DELAY, INPUT_PRE_DELAY, LABEL_DELAY
from lava_fptt.onchip.config import SsnnConfig

import lava_fptt.proc.ssnn.models  # noqa: F401  (the ProcessModels, found by Lava next to the Processes)
from lava_fptt.proc.ssnn.process import CompositeNeuron, SsnnDense, SsnnEncoder, WtaOutput

RECORDED_PORTS = {
    "x": ("encoder", "s_out"), "h": ("hidden", "s_out"), "winner": ("output", "s_out"),
    "e_pos": ("output", "e_pos_out"), "e_neg": ("output", "e_neg_out"),
    "g_pos": ("hidden", "g_pos_out"), "g_neg": ("hidden", "g_neg_out"),
}


@dataclass
class SsnnNetwork:
    """The five processes of a 2-layer network and, when recording, one sink per spike stream."""

    encoder: SsnnEncoder
    dense1: SsnnDense
    hidden: CompositeNeuron
    dense2: SsnnDense
    output: WtaOutput
    sinks: dict[str, Sink] = field(default_factory=dict)


def build_network(
    config: SsnnConfig, w1: np.ndarray, w2: np.ndarray, intensity: np.ndarray, order: np.ndarray,
    labels: Optional[np.ndarray] = None, record_steps: int = 0,
) -> SsnnNetwork:
    """Create and connect the processes; ``record_steps`` > 0 adds sinks holding that many steps."""
    c = config
    if np.asarray(intensity).ndim != 2 or np.asarray(intensity).shape[1] != c.n_in:
        raise ValueError(f"intensity must be [samples, {c.n_in}] for n_in={c.n_in}, "
                         f"got shape {np.asarray(intensity).shape}")
    net = SsnnNetwork(
        encoder=SsnnEncoder(intensity=intensity, order=order, labels=labels, n_classes=c.n_out,
                            steps_per_sample=c.steps_per_sample, label_delay=LABEL_DELAY, seed=c.seed),
        dense1=SsnnDense(weights=w1, pre_delay=INPUT_PRE_DELAY),
        hidden=CompositeNeuron(shape=(c.n_hidden,), act_shift=c.act_shift, grad_gain=c.grad_gain,
                               gate_delay=GATE_DELAY, seed=c.seed),
        dense2=SsnnDense(weights=w2, pre_delay=HIDDEN_PRE_DELAY),
        output=WtaOutput(shape=(c.n_out,), out_shift=c.out_shift, error_prob=c.error_prob, seed=c.seed),
    )
    if (net.dense1.weights.shape != (c.n_hidden, c.n_in)) or (net.dense2.weights.shape != (c.n_out, c.n_hidden)):
        raise ValueError(f"weights must be [{c.n_hidden}, {c.n_in}] and [{c.n_out}, {c.n_hidden}], got "
                         f"{net.dense1.weights.shape} and {net.dense2.weights.shape}")
    net.encoder.s_out.connect(net.dense1.s_in)
    net.dense1.a_out.connect(net.hidden.a_in)
    net.hidden.s_out.connect(net.dense2.s_in)
    net.dense2.a_out.connect(net.output.a_in)
    net.encoder.label_out.connect(net.output.label_in)
    net.output.e_pos_out.connect(net.dense2.e_pos_in)
    net.output.e_neg_out.connect(net.dense2.e_neg_in)
    net.dense2.b_pos_out.connect(net.hidden.b_pos_in)
    net.dense2.b_neg_out.connect(net.hidden.b_neg_in)
    net.hidden.g_pos_out.connect(net.dense1.e_pos_in)
    net.hidden.g_neg_out.connect(net.dense1.e_neg_in)
    if record_steps > 0:
        for name, (process, port) in RECORDED_PORTS.items():
            out_port = getattr(getattr(net, process), port)
            net.sinks[name] = Sink(shape=out_port.shape, buffer=record_steps)
            out_port.connect(net.sinks[name].a_in)
    return net


class LavaSession:
    """Runs a built network piece by piece under one run configuration; use as a context
    manager so the runtime is stopped however the block ends."""

    def __init__(self, network: SsnnNetwork, select_tag: str = "fixed_pt") -> None:
        if select_tag not in ("fixed_pt", "floating_pt"):
            raise ValueError(f"select_tag must be 'fixed_pt' or 'floating_pt', got {select_tag!r}")
        self.network, self.run_cfg, self.steps, self._started = network, Loihi2SimCfg(select_tag=select_tag), 0, False

    def __enter__(self) -> LavaSession:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop(clean=exc_type is None)

    def run(self, steps: int) -> None:
        """Advance ``steps`` time steps (compiling on the first call)."""
        self._started = True
        run_steps(self.network.encoder, steps, self.run_cfg)  # fails fast, and stops Lava, if a model raises
        self.steps += steps

    def set_error_prob(self, error_prob: int) -> None:
        """Change the learning rate (the output layer's error probability) between pieces."""
        value = np.array([error_prob], dtype=np.int64)
        if self._started:
            self.network.output.error_prob.set(value)
        else:
            self.network.output.error_prob.init = value

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Current (W1, W2) as int64 arrays."""
        get = lambda var: np.rint(var.get()).astype(np.int64)  # noqa: E731
        return get(self.network.dense1.weights), get(self.network.dense2.weights)

    def records(self) -> dict[str, np.ndarray]:
        """Recorded spikes per stream as int8 [n, steps] (needs ``record_steps`` >= steps run)."""
        return {name: np.rint(sink.data.get()[:, : self.steps]).astype(np.int8)
                for name, sink in self.network.sinks.items()}

    def stop(self, clean: bool = True) -> None:
        """End the runtime; ``clean=False`` after an exception (Ctrl-C, SIGTERM, a failure),
        which may have left it mid-run or half started (:func:`lava_fptt.runtime.stop_runtime`)."""
        if self._started:
            self._started = False
            stop_runtime(self.network.encoder, clean)
