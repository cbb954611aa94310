"""The networks lava-fptt trains: a config (:mod:`.network`), CUBA and LTC stacks, conv networks, user classes, netx files.

Importing the package registers every neuron model a dense stack can be made of
(:data:`lava_fptt.models.network.MODEL_KINDS`): the modules that define them register themselves.
"""
from . import lif, ltc  # noqa: F401  (register the LIF and LTC models)
