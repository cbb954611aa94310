"""The plain LIF neuron (:mod:`lava_fptt.neurons.lif`) as a Lava process with its float and fixed-point models.

Ports ``a_in`` (synaptic input), ``a_rec`` (recurrent input, discarded at reset steps),
``s_out`` (spikes); Vars ``decay``, ``threshold``, ``bias``, ``v``, ``s``; reset as
:class:`~lava_fptt.proc.neuron.NeuronProcess`. Lava finds the models in this module.
"""
from __future__ import annotations

from lava_fptt.neurons.lif import LIF_DYNAMICS
from lava_fptt.proc.model_pair import model_pair
from lava_fptt.proc.neuron import NeuronProcess


class PlainLIF(NeuronProcess):
    """A layer of plain LIF neurons; ``LIFParams`` run the ``floating_pt`` model, ``LIFIntParams`` ``fixed_pt``."""

    dynamics = LIF_DYNAMICS


PyPlainLIFModelFloat, PyPlainLIFModelFixed = model_pair(PlainLIF, __name__, LIF_DYNAMICS)
