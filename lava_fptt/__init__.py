"""lava-fptt: train spiking networks online in lava-dl, export them through netx, run and learn in Lava.

The package is laid out in the order the data travels: ``data`` -> ``models`` (built from
``neurons`` and ``blocks``, driven through ``online``) -> ``training`` -> ``netx_export`` (a
top-level package) -> ``runtime`` (every Lava run) with ``proc`` (our Lava processes) -> ``onchip``.
This module stays light on purpose: ``lava_fptt.compat`` is imported at interpreter start-up.
"""

from . import compat

__version__ = "0.1.0"

# Normally installed at start-up by lava_fptt_compat.pth; repeated here (idempotent) so that
# running from a source tree without installing still gets the Lava fixes.
compat.install()
