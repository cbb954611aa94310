"""NIR (Neuromorphic Intermediate Representation) in and out of netx networks.

``import_nir`` turns a NIR graph trained elsewhere (Sinabs, snnTorch, Norse, ...) into a
netx HDF5 network of CUBA layers, with the quantization error per layer
(:mod:`.importer`, :mod:`.graph`, :mod:`.discretize`); :func:`simulate` runs the graph
itself in float, the reference for Lava's run (:mod:`.simulate`); ``export_nir`` writes
our CUBA networks as NIR (:mod:`.export`). ``docs/nir.md`` explains the mapping.
"""
from .graph import NIRGraphError
from .importer import ImportReport, import_nir
from .simulate import simulate

__all__ = ["ImportReport", "NIRGraphError", "import_nir", "simulate"]
