"""Lava Processes for the LTC spiking neuron and its non-spiking readout.

A process is built from a parameter tuple of :mod:`lava_fptt.neurons.ltc`; its type
fixes the arithmetic:

- float parameters (:class:`LTCParams`, :class:`ReadoutParams`) are for the
  ``floating_pt`` models,
- integer parameters (:class:`LTCIntParams`, :class:`ReadoutIntParams`) for the
  bit-accurate ``fixed_pt`` models. Every integer parameter and initial state is
  checked against its register width here, at construction; a value that does not
  fit raises ``ValueError`` naming it.

Each parameter and state field becomes a ``Var`` of the neuron shape with the same
name, so ``proc.u.get()`` reads the membrane and a ``Monitor`` can probe any of them.
The gates read the neuron's own previous ``u`` and ``b``, which are Vars of the
process: no extra ports.

Periodic reset (``reset_interval``, ``reset_offset``), with the semantics of Lava's
``LIFReset``: at every time step ``t`` (Lava counts from 1) with
``t % reset_interval == reset_offset % reset_interval`` the state (``u``, ``b``, ``s``;
the readout's ``u``) is set to zero before that step's update. netx staggers these
offsets by one step per layer so that samples can run back to back.

Recurrent input goes to ``a_rec`` (``a_in`` would do for the arithmetic: both are summed).
The separate port makes the reset exact for recurrent layers: at a reset step a
recurrent ``Dense`` still delivers ``W_r s`` of the step before, i.e. of the previous
sample, whereas a fresh start has ``s[-1] = 0``; the model discards ``a_rec`` at reset
steps. An unconnected ``a_rec`` contributes zero.

Input ``a_in`` is the synaptic sum of the step, e.g. from a Lava ``Dense``; with
integer parameters it is in weight units (64 stands for 1.0, the scale slayer's CUBA
exports weights at, with ``weight_exp = 0``), and the neuron shifts it ``<< 6`` into
its 4096-per-unit state scale. Lava's ``Dense`` delivers the sum of the spikes of
step ``t`` at step ``t + 1``.
"""
from __future__ import annotations

from lava_fptt.neurons.ltc import LTC_DYNAMICS, READOUT_DYNAMICS
from lava_fptt.proc.neuron import NeuronProcess


class LTC(NeuronProcess):
    """A layer of Liquid-Time-Constant spiking neurons (see :mod:`lava_fptt.neurons.ltc`).

    Parameters
    ----------
    shape : tuple of int
        Shape of the neuron population.
    params : LTCParams or LTCIntParams
        Float parameters (``floating_pt`` model) or integer ones (``fixed_pt`` model);
        scalars broadcast to ``shape``.
    state : LTCState, optional
        Initial ``u``, ``b`` and previous spikes ``s``; zero by default.
    reset_interval, reset_offset : int, optional
        Zero the state at steps ``t`` with ``t % reset_interval == reset_offset``
        (as Lava's ``LIFReset``); no reset when ``reset_interval`` is None (default).

    Ports: ``a_in`` (synaptic input), ``a_rec`` (recurrent synaptic input, discarded at
    reset steps), ``s_out`` (binary spikes).
    Vars: the fields of the parameter tuple and ``u``, ``b``, ``s``.
    """

    dynamics = LTC_DYNAMICS


class LTCReadout(NeuronProcess):
    """A layer of non-spiking liquid leaky integrators; ``s_out`` carries ``u`` as a graded value.

    Parameters are :class:`ReadoutParams` (float) or :class:`ReadoutIntParams` (integer),
    state :class:`ReadoutState`; otherwise as :class:`LTC`. With integer parameters the
    output is ``u`` at the 24-bit state scale (4096 stands for 1.0).
    """

    dynamics = READOUT_DYNAMICS
