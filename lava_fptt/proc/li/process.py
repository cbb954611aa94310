"""``CubaLI``: Lava's CUBA compartment without the spike, sending its voltage as a graded value.

A non-spiking leaky integrator (NIR's ``LI``, ``CubaLI`` and ``I`` nodes; lava-dl's
``slayer.block.cuba.Affine`` readout) computes what Lava's fixed-point LIF computes
below its threshold:

    u <- u (4096 - du - 1) / 4096 + (a_in << 6)      (truncated toward zero; du + 1 = iDecay)
    v <- v (4096 - dv) / 4096 + u + (bias_mant << bias_exp)

and never spikes: every step it sends ``v`` itself (a signed 24-bit graded value, the
state at 4096 per unit of slayer's voltage) on ``s_out``. The arithmetic is Lava's own
(the model reuses ``AbstractPyLifModelFixed.subthr_dynamics``), so a ``CubaLI`` holds
exactly the voltage of a LIF with the same registers and an unreachable threshold,
which is how lava-dl writes such a layer (``vThMant = 2**18 - 1``, see
``docs/nir.md``). Vars ``u``, ``v``, ``du``, ``dv``, ``bias_mant``, ``bias_exp`` are
those of Lava's ``AbstractLIF``.

Periodic reset as Lava's ``LIFReset``: with ``reset_interval`` set, ``u`` and ``v`` are
zeroed before the update of every step ``t`` (from 1) with
``t % reset_interval == reset_offset % reset_interval``.
"""
from __future__ import annotations

from typing import Any, Optional

from lava.magma.core.process.process import LogConfig
from lava.proc.lif.process import AbstractLIF

MESSAGE_BITS = 24
"""Width of the graded value ``s_out`` sends (Lava's voltage register)."""
VOLTAGE_UNIT = 1 << 12
"""Lava's voltage register per unit of slayer's voltage (weights at 64 per unit, 6 fraction bits more)."""


class CubaLI(AbstractLIF):
    """Non-spiking CUBA neurons whose ``s_out`` sends the voltage ``v`` every step (module docstring).

    Parameters are Lava's LIF registers (``du``, ``dv`` 12 bits, ``bias_mant`` 13 bits,
    ``bias_exp`` 3 bits); ``reset_interval`` (None: never) and ``reset_offset`` as
    Lava's ``LIFReset``. Fixed point only (``select_tag='fixed_pt'``).
    """

    def __init__(self, *, shape: tuple[int, ...], u: Any = 0, v: Any = 0, du: int = 0, dv: int = 0,
                 bias_mant: Any = 0, bias_exp: Any = 0, reset_interval: Optional[int] = None,
                 reset_offset: int = 0, name: Optional[str] = None, log_config: Optional[LogConfig] = None) -> None:
        if reset_interval is not None and reset_interval < 1:
            raise ValueError(f"reset_interval must be >= 1 or None, got {reset_interval}")
        super().__init__(shape=shape, u=u, v=v, du=du, dv=dv, bias_mant=bias_mant, bias_exp=bias_exp, name=name,
                         log_config=log_config, reset_interval=reset_interval, reset_offset=reset_offset)
