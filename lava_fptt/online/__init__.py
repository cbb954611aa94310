"""Any lava-dl network, trained online.

``model = wrap(net)`` makes a user's lava-dl network (slayer CUBA blocks: Input, Dense,
Conv, Pool, Flatten, Affine, Recurrent; lava-fptt's LTC blocks) a model the training
engine drives in chunks; every training method then trains it::

    from lava_fptt.online import wrap
    from lava_fptt.training import FPTT, sequence_loss

    model = wrap(net)
    method = FPTT(chunk=1)
    loss, spikes = method.train_batch(model, x, y, sequence_loss(model.output_kind, late_weighting=True), optimizer)
    net.export_hdf5("network.net")   # lava-dl's own writer, as before

:mod:`.adapter` (the network) and :mod:`.blocks` (each block, the refusals) say how and why.
"""
from .adapter import OnlineNetwork, delay_steps, wrap
from .blocks import SUPPORTED_CUBA, UnsupportedNetworkError, find_blocks

__all__ = ["OnlineNetwork", "SUPPORTED_CUBA", "UnsupportedNetworkError", "delay_steps", "find_blocks", "wrap"]

