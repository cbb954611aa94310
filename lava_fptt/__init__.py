"""lava-fptt: train spiking networks online in lava-dl, export them through netx, run and learn in Lava.

The package is laid out in the order the data travels:
``data`` -> ``models`` -> ``training`` -> ``netx_export`` (top-level package) -> ``lava_run`` -> ``onchip``.
This module stays light on purpose: ``lava_fptt.compat`` is imported at interpreter start-up.
"""

from . import compat

__version__ = "0.1.0"

# Normally installed at start-up by lava_fptt_compat.pth; repeated here (idempotent) so that
# running from a source tree without installing still gets the Lava fixes.
compat.install()
