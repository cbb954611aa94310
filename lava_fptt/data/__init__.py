"""Data sets and their encoding into spike trains; nothing else in the package reads data files."""
from .dataset import DATASETS, SpikeDataset, load_dataset
from .encoding import DEFAULT_ENCODINGS, ENCODINGS, Encoding
from .sources import DataError, EventSet, ImageSet, read_idx

__all__ = [
    "DATASETS", "DEFAULT_ENCODINGS", "ENCODINGS", "DataError", "Encoding", "EventSet",
    "ImageSet", "SpikeDataset", "load_dataset", "read_idx",
]
