"""Reference simulator of the SSNN-BP network in torch: the Lava schedule, the same integers.

It runs ``B`` independent copies of the network side by side (a leading batch axis on every
state), each with its own PRNG streams (copy ``b`` is seeded with ``copy=b``) and its own
presentation order of samples, all sharing one pair of weight matrices:

- ``B = 1`` is the chip: one stream of samples, every coincidence update applied at the
  step it happens. Given the same seeds it reproduces the Lava ``fixed_pt`` network spike
  for spike and weight for weight (tests/test_ssnn_lava_equivalence.py checks it).
- ``B > 1`` is a data-parallel mode for fast training: at every step the coincidence
  updates of all copies are summed and applied at once (then saturated), as if B chips
  shared one synaptic memory. It is not what one chip does, but it is defined exactly.

:meth:`ReferenceNetwork.step` calls the functions of :mod:`lava_fptt.neurons.ssnn` in the
order the Lava processes execute them within a step: that is the definition, on any torch
device. On the CPU the states live in numpy arrays (the very same functions run on them,
with far less overhead per operation than torch's), and :meth:`ReferenceNetwork.run`
advances them with :func:`~lava_fptt.onchip.reference_loop.run_steps`, the same step
compiled as one loop (numba), which at batch 1 is tens of times faster than the calls;
``step`` and ``run`` work on the same arrays and can be mixed. Weights after the same samples
are bit-identical to the torch-only form (``tests/test_ssnn_reference_speed.py``), and the
compiled loop equals ``step`` spike for spike (``tests/test_ssnn_reference_loop.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

import numpy as np
import torch

from ..neurons import ssnn as ar
from ..neurons.ssnn import (
    GATE_DELAY, HIDDEN_PRE_DELAY, INPUT_PRE_DELAY, LABEL_DELAY, STREAM_BACKWARD, STREAM_ENCODER,
    STREAM_ERROR, STREAM_FORWARD, STREAM_WTA, check_weights,
)
from .config import SsnnConfig
from .reference_loop import run_steps

RECORDED = ("x", "h", "winner", "e_pos", "e_neg", "g_pos", "g_neg")
_STATES = ("enc_state", "fwd_state", "bwd_state", "wta_state", "err_state", "a1", "a2", "b_pos", "b_neg", "pre1",
           "pre2", "gates")  # what the compiled loop advances in place, besides the weights


@dataclass
class Streams:
    """What the network is shown: samples and, per copy, the order in which they come."""

    intensity: Any  # [N, n_in] integer probabilities (torch.Tensor, or numpy on the CPU)
    labels: Any     # [N] class indices, -1 for none (no learning on that sample)
    orders: Any     # [B, L] sample indices per copy, -1 for silence


def make_streams(
    intensity: np.ndarray, labels: Optional[np.ndarray], orders: np.ndarray, device: str | torch.device
) -> Streams:
    """Tensors of integer intensities [N, n_in], labels [N] (None: unlabelled) and orders [B, L]."""
    labels = np.full(len(intensity), -1) if labels is None else labels
    as_tensor = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64), device=device)  # noqa: E731
    return Streams(as_tensor(intensity), as_tensor(labels), as_tensor(np.atleast_2d(orders)))


def _seeded(config: SsnnConfig, stream: int, n: int, copies: int, device: torch.device) -> torch.Tensor:
    rows = [ar.seed_states(config.seed, stream, n, copy) for copy in range(copies)]
    return torch.as_tensor(np.stack(rows), device=device)


class ReferenceNetwork:
    """B copies of the 2-layer SSNN-BP network, stepped exactly as the Lava processes step."""

    def __init__(
        self, config: SsnnConfig, w1: np.ndarray, w2: np.ndarray, streams: Streams, learn: bool = True
    ) -> None:
        c = config
        device = streams.orders.device
        copies = streams.orders.shape[0]
        self.config, self.streams, self.learn, self.time_step = c, streams, learn, 0
        self.error_prob = c.error_prob  # the learning rate, changeable between steps like the Lava Var
        self.w1: torch.Tensor | np.ndarray = torch.as_tensor(check_weights("w1", w1, (c.n_hidden, c.n_in)), device=device)
        self.w2: torch.Tensor | np.ndarray = torch.as_tensor(check_weights("w2", w2, (c.n_out, c.n_hidden)), device=device)
        self.table = torch.as_tensor(ar.gumbel_table(), device=device)
        zeros = lambda *shape: torch.zeros((copies, *shape), dtype=torch.int64, device=device)  # noqa: E731
        self.enc_state = _seeded(c, STREAM_ENCODER, c.n_in, copies, device)
        self.fwd_state = _seeded(c, STREAM_FORWARD, c.n_hidden, copies, device)
        self.bwd_state = _seeded(c, STREAM_BACKWARD, c.n_hidden, copies, device)
        self.wta_state = _seeded(c, STREAM_WTA, c.n_out, copies, device)
        self.err_state = _seeded(c, STREAM_ERROR, 1, copies, device)
        self.a1, self.a2 = zeros(c.n_hidden), zeros(c.n_out)          # synapses' forward buffers
        self.b_pos, self.b_neg = zeros(c.n_hidden), zeros(c.n_hidden)  # output synapses' backward buffers
        self.pre1 = zeros(INPUT_PRE_DELAY, c.n_in)
        self.pre2 = zeros(HIDDEN_PRE_DELAY, c.n_hidden)
        self.gates = zeros(GATE_DELAY, c.n_hidden)
        if device.type == "cpu":  # numpy arrays: the same integer functions, or the compiled loop, run on them
            for name, value in list(vars(self).items()):
                if isinstance(value, torch.Tensor):
                    setattr(self, name, value.numpy())
            self.streams = Streams(*(np.ascontiguousarray(t.numpy())
                                     for t in (streams.intensity, streams.labels, streams.orders)))

    def step(self) -> dict[str, torch.Tensor]:
        """Advance one time step; return the spikes every process emitted in it."""
        return {name: torch.from_numpy(value) if isinstance(value, np.ndarray) else value
                for name, value in self._step().items()}

    def _step(self) -> dict[str, Any]:
        c = self.config
        self.time_step += 1
        s = self.streams
        self.enc_state, x, label = ar.encoder_step(
            self.enc_state, s.intensity, s.labels, s.orders, self.time_step,
            c.steps_per_sample, LABEL_DELAY, c.n_out)
        # Hidden composite neurons: forward from the input synapses' buffer, backward from
        # the output synapses' buffers gated by the slope of 2 steps ago.
        self.fwd_state, h, gate = ar.hidden_forward(self.fwd_state, self.a1, c.act_shift)
        old_gate, self.gates = ar.delay_line(self.gates, gate)
        self.bwd_state, g_pos, g_neg = ar.hidden_backward(
            self.bwd_state, old_gate, self.b_pos, self.b_neg, c.grad_gain)
        # Output layer: stochastic winner-take-all, then the error streams.
        self.wta_state, winner = ar.winner_take_all(self.wta_state, self.a2, c.out_shift, self.table)
        self.err_state, e_pos, e_neg = ar.error_streams(self.err_state, winner, label, self.error_prob)
        # Synapses: new buffers with the weights of this step, then the learning phase.
        self.a1 = ar.accumulate(x, self.w1)
        self.a2 = ar.accumulate(h, self.w2)
        self.b_pos, self.b_neg = ar.back_accumulate(e_pos, self.w2), ar.back_accumulate(e_neg, self.w2)
        old_x, self.pre1 = ar.delay_line(self.pre1, x)
        old_h, self.pre2 = ar.delay_line(self.pre2, h)
        if self.learn:
            numpy = isinstance(self.w1, np.ndarray)  # the reference owns its weights: update them in place
            self.w1 = ar.coincidence_update(self.w1, old_x, g_pos, g_neg, in_place=numpy)
            self.w2 = ar.coincidence_update(self.w2, old_h, e_pos, e_neg, in_place=numpy)
        return dict(x=x, h=h, winner=winner, e_pos=e_pos, e_neg=e_neg, g_pos=g_pos, g_neg=g_neg)

    def run(self, steps: int, record: bool | Iterable[str] = False) -> dict[str, np.ndarray]:
        """Run ``steps`` steps; with ``record``, spikes as int8 arrays [B, n, steps] per name
        (True: every name of :data:`RECORDED`, or an iterable of some of them)."""
        names = RECORDED if record is True else tuple(record or ())
        unknown = set(names) - set(RECORDED)
        if unknown:
            raise ValueError(f"record: unknown spike names {sorted(unknown)}; expected some of {RECORDED}")
        if isinstance(self.w1, np.ndarray):
            return self._run_compiled(steps, names)
        records: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for _ in range(steps):
            spikes = self._step()
            for name in names:
                records[name].append(_numpy(spikes[name]).astype(np.int8))
        return {name: np.stack(values, axis=-1) for name, values in records.items()}

    def _run_compiled(self, steps: int, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """:meth:`run` on the CPU: the compiled loop on the numpy states, in place."""
        c, s = self.config, self.streams
        copies = s.orders.shape[0]
        sizes = dict(x=c.n_in, h=c.n_hidden, winner=c.n_out, e_pos=c.n_out, e_neg=c.n_out,
                     g_pos=c.n_hidden, g_neg=c.n_hidden)
        records = {name: np.zeros((copies, sizes[name], steps if name in names else 0), np.int8)
                   for name in RECORDED}
        for name in ("w1", "w2", *_STATES):  # the step functions may leave strided views; the loop wants C order
            setattr(self, name, np.ascontiguousarray(getattr(self, name)))
        run_steps(steps, self.time_step, c.steps_per_sample, LABEL_DELAY, c.act_shift, c.out_shift,
                  c.grad_gain, self.error_prob, self.learn, s.intensity, s.labels, s.orders, self.w1, self.w2,
                  self.table, *(getattr(self, name) for name in _STATES), *records.values())
        self.time_step += steps
        return {name: records[name] for name in names}

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Current (W1, W2) as int64 numpy arrays."""
        return _numpy(self.w1).astype(np.int64), _numpy(self.w2).astype(np.int64)


def _numpy(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.cpu().numpy()


def predict(
    config: SsnnConfig, w1: np.ndarray, w2: np.ndarray, intensity: np.ndarray,
    device: str | torch.device = "cpu", chunk: int = 4096,
) -> np.ndarray:
    """Class predictions [N] of a trained network: each sample gets its own copy, shown for
    ``steps_per_sample`` steps without learning; the prediction is the output neuron that won
    most often over the sample's T waves (ties go to the lowest index)."""
    period = config.steps_per_sample
    predictions = []
    for start in range(0, len(intensity), chunk):
        rows = np.asarray(intensity[start: start + chunk])
        streams = make_streams(rows, None, np.arange(len(rows))[:, None], device)
        network = ReferenceNetwork(config, w1, w2, streams, learn=False)
        network.run(LABEL_DELAY)  # the first waves reach the output after LABEL_DELAY steps
        winners = network.run(period, record=("winner",))["winner"]
        predictions.append(ar.argmax(winners.sum(axis=-1, dtype=np.int64)))
    return np.concatenate(predictions)
