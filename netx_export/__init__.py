"""Export trained lava-fptt networks in lava-dl's netx HDF5 format and build them as Lava processes.

``writer`` writes the file by the network's own ``export_hdf5`` (CUBA layers exactly as
lava-dl writes them, so plain ``lava.lib.dl.netx.hdf5.Network`` loads them); ``loader``
validates and describes a file; ``builder`` builds its Lava processes (``load_network``;
``pool`` builds slayer's pooling layers, which netx 0.6 cannot; ``readout`` graded CUBA
readouts; layers of our neuron kinds as the registry, :mod:`lava_fptt.kinds`, says);
``inference`` runs a built network in Lava's CPU simulation on spike trains or images,
sample after sample, and compares it with torch; ``resources`` sizes a file against Loihi 2.
"""
from .errors import NetworkFileError
from .builder import load_network
from .loader import describe
from .writer import export_network

__all__ = ["NetworkFileError", "describe", "export_network", "load_network"]
