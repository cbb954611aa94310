"""Neuron dynamics as pure step functions on explicit state (float and integer forms).

No module state and no training logic: the training blocks, the Lava ProcessModels and
the tests all call these functions, so there is one definition of each neuron.
"""
from lava_fptt.neurons.dense import dense_int, quantize_weights
from lava_fptt.neurons.ltc import (
    LTCIntParams,
    LTCParams,
    LTCState,
    ReadoutIntParams,
    ReadoutParams,
    ReadoutState,
    check_params,
    check_state,
    dequantize,
    initial_state,
    ltc_step,
    ltc_step_int,
    quantize,
    readout_initial_state,
    readout_step,
    readout_step_int,
    sigmoid_int,
)

__all__ = [
    "LTCIntParams",
    "LTCParams",
    "LTCState",
    "ReadoutIntParams",
    "ReadoutParams",
    "ReadoutState",
    "check_params",
    "check_state",
    "dense_int",
    "dequantize",
    "initial_state",
    "ltc_step",
    "ltc_step_int",
    "quantize",
    "quantize_weights",
    "readout_initial_state",
    "readout_step",
    "readout_step_int",
    "sigmoid_int",
]
