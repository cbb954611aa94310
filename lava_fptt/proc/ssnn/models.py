"""ProcessModels of the SSNN-BP processes: ``fixed_pt`` (bit-accurate) and ``floating_pt``.

The fixed-point models are thin: each step they call the functions of
:mod:`lava_fptt.neurons.ssnn`, the very functions the reference simulator calls,
on int64 numpy arrays. Within a step a synapse first sends what it accumulated in the
previous step (as Lava's Dense does), then receives, accumulates with the current weights,
and applies its coincidence update in the learning phase (``lrn_guard``/``run_lrn``).

The floating-point models run the same algorithm without quantisation: real-valued
probabilities and weights, numpy's generator instead of the xorshift streams, exact
softmax sampling. They are for prototyping; only the fixed-point models match the
reference bit for bit.
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_fptt.neurons import ssnn as ar
from lava_fptt.neurons.ssnn import STREAM_BACKWARD, STREAM_ENCODER, STREAM_ERROR, STREAM_FORWARD, STREAM_WTA

from lava_fptt.proc.ssnn.process import CompositeNeuron, SsnnDense, SsnnEncoder, WtaOutput

SPIKE = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=1)
SPIKE_IN = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=1)
SUM = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=ar.ACCUMULATOR_BITS)
SUM_IN = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=ar.ACCUMULATOR_BITS)
FSPIKE = LavaPyType(PyOutPort.VEC_DENSE, float)
FSPIKE_IN = LavaPyType(PyInPort.VEC_DENSE, float)


def _int(bits: int) -> LavaPyType:
    return LavaPyType(np.ndarray, np.int64, precision=bits)


def _float() -> LavaPyType:
    return LavaPyType(np.ndarray, float)


def _recv(port: PyInPort) -> np.ndarray:
    return port.recv().astype(np.int64)


def _rng(params: dict, stream: int) -> np.random.Generator:
    return np.random.default_rng([params.get("seed", 0), stream, params.get("copy", 0)])


# ----------------------------------------------------------------------------- encoder
class _EncoderVars(PyLoihiProcessModel):
    labels: np.ndarray = _int(13)
    order: np.ndarray = _int(32)
    steps_per_sample: np.ndarray = _int(17)
    label_delay: np.ndarray = _int(8)

    def _schedule(self) -> tuple[int, int, int]:
        return self.time_step, int(self.steps_per_sample[0]), int(self.label_delay[0])


@implements(proc=SsnnEncoder, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySsnnEncoderFixed(_EncoderVars):
    """Bernoulli input spikes from 17-bit integer probabilities and a 32-bit xorshift per input."""

    s_out: PyOutPort = SPIKE
    label_out: PyOutPort = SPIKE
    intensity: np.ndarray = _int(ar.PROB_BITS + 1)
    state: np.ndarray = _int(ar.STATE_BITS)

    def run_spk(self) -> None:
        time_step, period, delay = self._schedule()
        self.state, spikes, label = ar.encoder_step(
            self.state, self.intensity, self.labels, self.order, time_step, period, delay,
            self.proc_params["n_classes"])
        self.s_out.send(spikes.astype(np.int32))
        self.label_out.send(label.astype(np.int32))


@implements(proc=SsnnEncoder, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySsnnEncoderFloat(_EncoderVars):
    """Bernoulli input spikes with real-valued probabilities."""

    s_out: PyOutPort = FSPIKE
    label_out: PyOutPort = FSPIKE
    intensity: np.ndarray = _float()
    state: np.ndarray = _int(ar.STATE_BITS)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.rng = _rng(proc_params, STREAM_ENCODER)

    def run_spk(self) -> None:
        time_step, period, delay = self._schedule()
        sample = ar.presented(self.order, (time_step - 1) // period)
        probability = self.intensity[max(int(sample), 0)] / ar.PROB_ONE * (sample >= 0)
        self.s_out.send((self.rng.random(probability.shape) < probability).astype(float))
        wave = time_step - delay
        labelled = ar.presented(self.order, (wave - 1) // period if wave >= 1 else -1)
        label = self.labels[int(labelled)] if labelled >= 0 else -1
        self.label_out.send(ar.one_hot(np.asarray(label), self.proc_params["n_classes"]).astype(float))


# ----------------------------------------------------------------------------- composite neuron
@implements(proc=CompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyCompositeNeuronFixed(PyLoihiProcessModel):
    """Integer hard sigmoid, slope gate delay line, gradient spikes from two xorshift streams."""

    a_in: PyInPort = SUM_IN
    b_pos_in: PyInPort = SUM_IN
    b_neg_in: PyInPort = SUM_IN
    s_out: PyOutPort = SPIKE
    g_pos_out: PyOutPort = SPIKE
    g_neg_out: PyOutPort = SPIKE
    act_shift: np.ndarray = _int(5)
    grad_gain: np.ndarray = _int(12)
    gates: np.ndarray = _int(1)
    fwd_state: np.ndarray = _int(ar.STATE_BITS)
    bwd_state: np.ndarray = _int(ar.STATE_BITS)

    def run_spk(self) -> None:
        a_in, b_pos, b_neg = _recv(self.a_in), _recv(self.b_pos_in), _recv(self.b_neg_in)
        self.fwd_state, spikes, gate = ar.hidden_forward(self.fwd_state, a_in, int(self.act_shift[0]))
        old_gate, self.gates = ar.delay_line(self.gates, gate)
        self.bwd_state, g_pos, g_neg = ar.hidden_backward(
            self.bwd_state, old_gate, b_pos, b_neg, int(self.grad_gain[0]))
        self.s_out.send(spikes.astype(np.int32))
        self.g_pos_out.send(g_pos.astype(np.int32))
        self.g_neg_out.send(g_neg.astype(np.int32))


@implements(proc=CompositeNeuron, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyCompositeNeuronFloat(PyLoihiProcessModel):
    """Real-valued hard sigmoid and gradient-spike probabilities."""

    a_in: PyInPort = FSPIKE_IN
    b_pos_in: PyInPort = FSPIKE_IN
    b_neg_in: PyInPort = FSPIKE_IN
    s_out: PyOutPort = FSPIKE
    g_pos_out: PyOutPort = FSPIKE
    g_neg_out: PyOutPort = FSPIKE
    act_shift: np.ndarray = _int(5)
    grad_gain: np.ndarray = _int(12)
    gates: np.ndarray = _float()
    fwd_state: np.ndarray = _int(ar.STATE_BITS)
    bwd_state: np.ndarray = _int(ar.STATE_BITS)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.fwd_rng = _rng(proc_params, STREAM_FORWARD)
        self.bwd_rng = _rng(proc_params, STREAM_BACKWARD)

    def run_spk(self) -> None:
        a_in, b_pos, b_neg = self.a_in.recv(), self.b_pos_in.recv(), self.b_neg_in.recv()
        probability = np.clip(0.5 + a_in * 2.0 ** int(self.act_shift[0]) / ar.PROB_ONE, 0.0, 1.0)
        spikes = (self.fwd_rng.random(probability.shape) < probability).astype(float)
        old_gate, self.gates = ar.delay_line(self.gates, ((probability > 0) & (probability < 1)).astype(float))
        delta = old_gate * (b_pos - b_neg)
        fire = self.bwd_rng.random(delta.shape) < np.minimum(np.abs(delta) * int(self.grad_gain[0]) / ar.PROB_ONE, 1.0)
        self.s_out.send(spikes)
        self.g_pos_out.send((fire & (delta > 0)).astype(float))
        self.g_neg_out.send((fire & (delta < 0)).astype(float))


# ----------------------------------------------------------------------------- learning synapse
class _DenseModel(PyLoihiProcessModel):
    """Shared by both precisions: send the previous step's sums, receive, accumulate, learn."""

    learning: np.ndarray = _int(1)
    weights: np.ndarray  # declared with their precision by each model below
    pre: np.ndarray
    a_buff: np.ndarray
    b_pos_buff: np.ndarray
    b_neg_buff: np.ndarray

    def run_spk(self) -> None:
        self.a_out.send(self.a_buff)
        self.b_pos_out.send(self.b_pos_buff)
        self.b_neg_out.send(self.b_neg_buff)
        spikes = self._recv(self.s_in)
        self.e_pos, self.e_neg = self._recv(self.e_pos_in), self._recv(self.e_neg_in)
        self.a_buff = ar.accumulate(spikes, self.weights)
        self.b_pos_buff = ar.back_accumulate(self.e_pos, self.weights)
        self.b_neg_buff = ar.back_accumulate(self.e_neg, self.weights)
        self.old_pre, self.pre = ar.delay_line(self.pre, spikes)

    def lrn_guard(self) -> bool:
        return bool(self.learning[0])

    def run_lrn(self) -> None:
        self.weights = ar.coincidence_update(self.weights, self.old_pre, self.e_pos, self.e_neg)


@implements(proc=SsnnDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PySsnnDenseFixed(_DenseModel):
    """9-bit signed weights, 24-bit sums (never exceeded: the fan-in is bounded)."""

    s_in: PyInPort = SPIKE_IN
    e_pos_in: PyInPort = SPIKE_IN
    e_neg_in: PyInPort = SPIKE_IN
    a_out: PyOutPort = SUM
    b_pos_out: PyOutPort = SUM
    b_neg_out: PyOutPort = SUM
    weights: np.ndarray = _int(ar.WEIGHT_BITS)
    pre: np.ndarray = _int(1)
    a_buff: np.ndarray = _int(ar.ACCUMULATOR_BITS)
    b_pos_buff: np.ndarray = _int(ar.ACCUMULATOR_BITS)
    b_neg_buff: np.ndarray = _int(ar.ACCUMULATOR_BITS)

    @staticmethod
    def _recv(port: PyInPort) -> np.ndarray:
        return _recv(port)


@implements(proc=SsnnDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySsnnDenseFloat(_DenseModel):
    """Real-valued weights with the same +-1 coincidence steps, saturating at +-WEIGHT_MAX."""

    s_in: PyInPort = FSPIKE_IN
    e_pos_in: PyInPort = FSPIKE_IN
    e_neg_in: PyInPort = FSPIKE_IN
    a_out: PyOutPort = FSPIKE
    b_pos_out: PyOutPort = FSPIKE
    b_neg_out: PyOutPort = FSPIKE
    weights: np.ndarray = _float()
    pre: np.ndarray = _float()
    a_buff: np.ndarray = _float()
    b_pos_buff: np.ndarray = _float()
    b_neg_buff: np.ndarray = _float()

    @staticmethod
    def _recv(port: PyInPort) -> np.ndarray:
        return port.recv()


# ----------------------------------------------------------------------------- WTA output
@implements(proc=WtaOutput, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "bit_accurate_loihi")
class PyWtaOutputFixed(PyLoihiProcessModel):
    """Gumbel-max winner-take-all with a 1024-entry noise table; gated error streams."""

    a_in: PyInPort = SUM_IN
    label_in: PyInPort = SPIKE_IN
    s_out: PyOutPort = SPIKE
    e_pos_out: PyOutPort = SPIKE
    e_neg_out: PyOutPort = SPIKE
    out_shift: np.ndarray = _int(5)
    error_prob: np.ndarray = _int(ar.PROB_BITS + 1)
    gumbel: np.ndarray = _int(12)
    wta_state: np.ndarray = _int(ar.STATE_BITS)
    err_state: np.ndarray = _int(ar.STATE_BITS)

    def run_spk(self) -> None:
        a_in, label = _recv(self.a_in), _recv(self.label_in)
        self.wta_state, winner = ar.winner_take_all(self.wta_state, a_in, int(self.out_shift[0]), self.gumbel)
        self.err_state, e_pos, e_neg = ar.error_streams(self.err_state, winner, label, int(self.error_prob[0]))
        self.s_out.send(winner.astype(np.int32))
        self.e_pos_out.send(e_pos.astype(np.int32))
        self.e_neg_out.send(e_neg.astype(np.int32))


@implements(proc=WtaOutput, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyWtaOutputFloat(PyLoihiProcessModel):
    """Exact softmax sampling (Gumbel-max with real Gumbel noise)."""

    a_in: PyInPort = FSPIKE_IN
    label_in: PyInPort = FSPIKE_IN
    s_out: PyOutPort = FSPIKE
    e_pos_out: PyOutPort = FSPIKE
    e_neg_out: PyOutPort = FSPIKE
    out_shift: np.ndarray = _int(5)
    error_prob: np.ndarray = _int(ar.PROB_BITS + 1)
    gumbel: np.ndarray = _int(12)
    wta_state: np.ndarray = _int(ar.STATE_BITS)
    err_state: np.ndarray = _int(ar.STATE_BITS)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.wta_rng = _rng(proc_params, STREAM_WTA)
        self.err_rng = _rng(proc_params, STREAM_ERROR)

    def run_spk(self) -> None:
        a_in, label = self.a_in.recv(), self.label_in.recv()
        logits = a_in * 2.0 ** int(self.out_shift[0]) / (1 << ar.LOGIT_FRAC)
        winner = np.zeros_like(logits)
        winner[np.argmax(logits + self.wta_rng.gumbel(size=logits.shape))] = 1.0
        gate = float(self.err_rng.random() < int(self.error_prob[0]) / ar.PROB_ONE) * label.sum()
        self.s_out.send(winner)
        self.e_pos_out.send(winner * gate)
        self.e_neg_out.send(label * gate)
