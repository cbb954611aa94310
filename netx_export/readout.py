"""Graded readout layers: CUBA neurons that never spike, whose voltage is the network's output.

A non-spiking leaky integrator (NIR's ``LI``, ``CubaLI`` and ``I``; lava-dl's own
``slayer.block.cuba.Affine``, a dense synapse into CUBA neurons whose voltage is the
block's output) is the CUBA neuron below its threshold. lava-dl writes such a block as
a netx ``dense`` layer of ``CUBA`` neurons with ``vThMant = 2**18 - 1``: Lava's voltage
register holds at most ``2**23 - 1`` and the LIF fires above ``vThMant << 6``, so any
``vThMant >= 2**17`` is a threshold that can never be reached. This project writes
its graded readouts the same way (``docs/nir.md``), so that the file is lava-dl's own:

- plain ``lava.lib.dl.netx.hdf5.Network`` builds it as LIF neurons that never spike
  (the voltage is there, readable by a probe, but nothing leaves the layer);
- :func:`create_readout` (what :mod:`netx_export.builder` builds for such a layer)
  makes netx's own ``Dense`` block with a :class:`~lava_fptt.proc.li.CubaLI` neuron
  instead: the same registers and Lava's own arithmetic, sending the voltage ``v`` as
  a 24-bit graded value every step.

The value sent is Lava's voltage register, ``lava_fptt.proc.li.process.VOLTAGE_UNIT`` (4096) per unit of slayer's
voltage (the file's weights count 64 per unit, the state 6 bits more); a readout can
only be a network's last layer (graded values would reach the next layer's 16-bit
synaptic input at that scale), which the builder checks.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from lava_fptt.blocks.netx_format import dataset_text, neuron_type

GRADED_VTH_MANT = 1 << 17
"""``vThMant`` from which a CUBA neuron can never spike (``vThMant << 6`` exceeds the 24-bit voltage)."""
NEVER = (1 << 18) - 1
"""The ``vThMant`` lava-dl's ``cuba.Affine`` writes, and this project too, for a graded readout."""


def is_readout(group: Any) -> bool:
    """True for a layer group of CUBA neurons whose threshold can never be reached (module docstring)."""
    if neuron_type(group) != "CUBA" or dataset_text(group["type"][()]) != "dense" or "vThMant" not in group["neuron"]:
        return False
    return scalar(group["neuron"]["vThMant"][()]) >= GRADED_VTH_MANT


def scalar(value: Any) -> int:
    """An integer register read from a netx file (written as a scalar or a one-element array)."""
    return int(np.asarray(value).reshape(-1)[0])


def create_readout(layer_config: Any, input_message_bits: int = 0, reset_interval: Optional[int] = None,
                   reset_offset: int = 0) -> Any:
    """netx's ``Dense`` block over the layer's integer weights (and bias) into :class:`~lava_fptt.proc.li.CubaLI`.

    ``layer_config`` is the layer group as netx reads it (``netx.utils.NetDict``); the
    weights go through netx's own ``optimize_weight_bits`` as in its ``create_dense``,
    the neuron registers are those netx gives a CUBA layer (``du = iDecay - 1``,
    ``dv = vDecay``, ``bias_exp = 6``), and the periodic reset is netx's scheme.
    """
    from lava.lib.dl.netx.blocks.process import Dense
    from lava.lib.dl.netx.utils import optimize_weight_bits

    from lava_fptt.proc.li import CubaLI
    from lava_fptt.proc.li.process import MESSAGE_BITS

    neuron = layer_config["neuron"]
    weight = np.asarray(layer_config["weight"])
    shape = (int(np.prod(layer_config["shape"])),)
    if weight.ndim == 1:
        weight = weight.reshape(shape[0], -1)
    weight, num_weight_bits, weight_exponent, sign_mode = optimize_weight_bits(weight)
    params: dict[str, Any] = {"neuron_proc": CubaLI, "bias_key": "bias_mant", "du": scalar(neuron["iDecay"]) - 1,
                              "dv": scalar(neuron["vDecay"]), "bias_exp": 6, "num_message_bits": MESSAGE_BITS,
                              "reset_interval": reset_interval, "reset_offset": reset_offset}
    block = {"shape": shape, "neuron_params": params, "weight": weight, "num_weight_bits": num_weight_bits,
             "weight_exponent": weight_exponent, "sign_mode": sign_mode, "input_message_bits": input_message_bits}
    if "bias" in layer_config.keys():
        block["bias"] = np.asarray(layer_config["bias"])
    return Dense(**block)
