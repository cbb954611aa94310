"""Integer form of Lava's fixed-point ``Dense`` synapse, and weight quantization.

Lava's bit-accurate ``Dense`` (mixed-sign weights) keeps weights as even integers in
``[-256, 254]`` (an 8-bit mantissa times 2), sums them over the input, and shifts the
sum by the shared ``weight_exp``: ``<< weight_exp`` when positive, ``>> -weight_exp``
(toward -infinity) when negative. The sum is in weight units, 64 per 1.0 at
``weight_exp = 0`` (slayer's CUBA scale), so a float weight ``w`` is stored as
``2 * round(32 * w / 2**weight_exp)``.

:func:`dense_int` is that sum for numpy and torch (``int64``, or ``float64`` with
straight-through gradients for quantization-aware training), so the trainer computes
what Lava's ``Dense`` delivers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lava_fptt.neurons.backend import ops_for
from lava_fptt.neurons.fixed_point import Width, check_fits, to_numpy

WEIGHT_SCALE = 64
"""Weight units per 1.0 at ``weight_exp = 0``."""
WEIGHT_WIDTH = Width(9)
"""Dense weights: 9-bit signed and even, i.e. an 8-bit mantissa times 2: ``[-256, 254]``."""
WEIGHT_MAX = WEIGHT_WIDTH.hi - 1
WEIGHT_MIN = WEIGHT_WIDTH.lo
WEIGHT_EXP_WIDTH = Width(4)
"""The shared weight exponent, ``[-8, 7]``."""


def weight_integers(w: Any, weight_exp: int) -> Any:
    """``2 * round(32 * w / 2**weight_exp)``, not yet checked against the weight width.

    On torch tensors the rounding has a straight-through gradient.
    """
    return 2 * ops_for(w).round(w * ((WEIGHT_SCALE // 2) / 2.0 ** weight_exp))


def quantize_weights(w: Any, weight_exp: int = 0) -> np.ndarray:
    """Float weights as the integers of a Lava ``Dense`` with this ``weight_exp`` (int64 numpy).

    Raises ``ValueError`` naming the weights when they do not fit ``[-256, 254]``.
    """
    check_fits("Dense parameter", "weight_exp", weight_exp, WEIGHT_EXP_WIDTH)
    q = weight_integers(to_numpy(w).astype(np.float64), weight_exp).astype(np.int64)
    check_fits("Dense parameter", "weights", q, WEIGHT_WIDTH)
    return q


def dense_int(x: Any, weights: Any, weight_exp: int) -> Any:
    """What Lava's fixed-point ``Dense`` delivers for input ``x`` (``[..., C]``): ``[..., N]``.

    ``weights`` are the ``[N, C]`` integers of the process (see :func:`quantize_weights`).
    """
    a = x @ weights.T
    if weight_exp >= 0:
        return a * (1 << weight_exp)
    return ops_for(a).floor_shr(a, -weight_exp)
