"""Data sets and their encoding into spike trains; nothing else in the package reads data files."""
from .dataset import BUILT_IN, DATASETS, SpikeDataset, load_dataset, load_splits
from .encoding import DEFAULT_ENCODINGS, ENCODINGS, Encoding
from .sources import DataError, EventSet, ImageSet, read_idx

__all__ = [
    "BUILT_IN", "DATASETS", "DEFAULT_ENCODINGS", "ENCODINGS", "DataError", "Encoding", "EventSet",
    "ImageSet", "SpikeDataset", "load_dataset", "load_splits", "read_idx",
]
