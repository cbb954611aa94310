"""lava-fptt: train spiking networks online in lava-dl, export them through netx, run and learn in Lava.

The package is laid out in the order the data travels:
``data`` -> ``models`` -> ``training`` -> ``netx_export`` (top-level package) -> ``lava_run`` -> ``onchip``.
This module stays light on purpose: ``lava_fptt.compat`` is imported at interpreter start-up.
"""

__version__ = "0.1.0"
