"""Raw data sets: images or spike events with labels, read from what is available offline.

Nothing here downloads. ``digits`` ships with scikit-learn; MNIST-family IDX files and
Spiking Heidelberg Digits HDF5 files are read from a directory the user names. Every
file is validated (magic number, dimensions, counts, size) and a problem is reported
as :class:`DataError` naming the file.
"""
from __future__ import annotations

import gzip
import pathlib
import zlib
from dataclasses import dataclass
from typing import Optional

import numpy as np


class DataError(ValueError):
    """A data file is missing, corrupt, or does not match what was expected."""


@dataclass(frozen=True)
class ImageSet:
    """Images with intensities in [0, 1], shape [N, H, W], and integer labels [N]."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    num_classes: int

    def __post_init__(self) -> None:
        if self.images.ndim != 3 or len(self.images) != len(self.labels):
            raise DataError(
                f"{self.name}: expected images [N, H, W] and N labels, got "
                f"{self.images.shape} and {self.labels.shape}"
            )

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class EventSet:
    """Spike events per sample (times in seconds, channel indices) with labels."""

    name: str
    times: list
    units: list
    labels: np.ndarray
    num_classes: int
    num_channels: int

    def __len__(self) -> int:
        return len(self.labels)


DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def load_digits(split: str) -> ImageSet:
    """scikit-learn's 8x8 handwritten digits (1,797 samples), a fixed seeded 80/20 split.

    Pixel values 0..16 are scaled to [0, 1]. The permutation uses seed 0, so the split is
    the same on every machine and in every run: 1,438 training and 359 test samples.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels))
    n_test = int(round(DIGITS_TEST_FRACTION * len(labels)))
    chosen = order[:n_test] if split == "test" else order[n_test:]
    return ImageSet("digits", images[chosen], labels[chosen], 10)


IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: pathlib.Path, expected_ndim: int) -> np.ndarray:
    """Read one IDX file (raw or .gz), validating magic number, dimensions and size."""
    path = pathlib.Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as err:  # unreadable, or a damaged .gz
        raise DataError(f"{path}: cannot read ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in IDX_DTYPES:
        raise DataError(f"{path}: unknown IDX data type 0x{type_code:02x}")
    if ndim != expected_ndim:
        raise DataError(f"{path}: expected {expected_ndim} dimensions, the header says {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(
            f"{path}: size {len(raw)} bytes does not match header dimensions {dims} "
            f"({expected} bytes expected); the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


IDX_PREFIXES = {
    ("mnist", "train"): "train",
    ("mnist", "test"): "t10k",
    ("fashion-mnist", "train"): "train",
    ("fashion-mnist", "test"): "t10k",
}
EMNIST_CLASSES = {"balanced": 47, "byclass": 62, "bymerge": 47, "digits": 10, "letters": 26, "mnist": 10}


def _find(data_dir: pathlib.Path, stem: str) -> pathlib.Path:
    for folder in (data_dir, data_dir / "raw"):
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    raise DataError(f"{data_dir}: no file {stem} or {stem}.gz")


def load_idx_dataset(name: str, data_dir: pathlib.Path, split: str, emnist_split: str = "balanced") -> ImageSet:
    """MNIST, Fashion-MNIST or EMNIST from standard IDX files in ``data_dir``.

    File names are the distributions' own: ``train-images-idx3-ubyte[.gz]`` and
    ``t10k-...`` for MNIST and Fashion-MNIST, ``emnist-<split>-train-images-idx3-ubyte``
    for EMNIST (whose images are stored transposed and are turned upright here; its
    ``letters`` labels 1..26 become 0..25).
    """
    data_dir = pathlib.Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: data directory not found")
    if name == "emnist":
        if emnist_split not in EMNIST_CLASSES:
            raise DataError(f"emnist split must be one of {sorted(EMNIST_CLASSES)}, got {emnist_split!r}")
        prefix = f"emnist-{emnist_split}-{split}"
    else:
        prefix = IDX_PREFIXES[(name, split)]
    images_path = _find(data_dir, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(data_dir, f"{prefix}-labels-idx1-ubyte")
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(f"{images_path}: {len(images)} images but {labels_path} has {len(labels)} labels")
    if len(labels) == 0:
        raise DataError(f"{images_path}: holds no images")
    if name == "emnist":
        images = images.transpose(0, 2, 1)
        if emnist_split == "letters":
            labels = labels - 1
        num_classes = EMNIST_CLASSES[emnist_split]
    else:
        num_classes = 10
    if labels.min() < 0 or labels.max() >= num_classes:
        raise DataError(f"{labels_path}: labels outside 0..{num_classes - 1}")
    return ImageSet(name, images.astype(np.float32) / 255.0, labels, num_classes)


SHD_CHANNELS = 700
SHD_CLASSES = 20


def load_shd(data_dir: pathlib.Path, split: str) -> EventSet:
    """Spiking Heidelberg Digits from ``shd_train.h5`` / ``shd_test.h5`` in ``data_dir``."""
    import h5py

    path = pathlib.Path(data_dir) / f"shd_{split}.h5"
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("spikes/times", "spikes/units", "labels") if k not in f]
            if missing:
                raise DataError(f"{path}: not an SHD file, missing {', '.join(missing)}")
            times = [np.asarray(t, dtype=np.float64) for t in f["spikes/times"]]
            units = [np.asarray(u, dtype=np.int64) for u in f["spikes/units"]]
            labels = np.asarray(f["labels"], dtype=np.int64)
    except OSError as err:
        raise DataError(f"{path}: not a readable HDF5 file ({err})") from None
    if not (len(times) == len(units) == len(labels)):
        raise DataError(f"{path}: {len(times)} time arrays, {len(units)} unit arrays, {len(labels)} labels")
    for i, (t, u) in enumerate(zip(times, units)):
        if len(t) != len(u):
            raise DataError(f"{path}: sample {i} has {len(t)} times but {len(u)} units")
        if len(u) and (u.min() < 0 or u.max() >= SHD_CHANNELS):
            raise DataError(f"{path}: sample {i} has units outside 0..{SHD_CHANNELS - 1}")
    if len(labels) and (labels.min() < 0 or labels.max() >= SHD_CLASSES):
        raise DataError(f"{path}: labels outside 0..{SHD_CLASSES - 1}")
    return EventSet("shd", times, units, labels, SHD_CLASSES, SHD_CHANNELS)


def load_source(name: str, split: str, data_dir: Optional[pathlib.Path] = None) -> ImageSet | EventSet:
    """The raw data set ``name`` ('digits', 'mnist', 'fashion-mnist', 'emnist', 'shd')."""
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    if name == "digits":
        return load_digits(split)
    if data_dir is None:
        raise DataError(f"{name}: needs --data-dir, the directory holding its files (nothing is downloaded)")
    if name in ("mnist", "fashion-mnist", "emnist"):
        return load_idx_dataset(name, pathlib.Path(data_dir), split)
    if name == "shd":
        return load_shd(pathlib.Path(data_dir), split)
    raise DataError(f"unknown data set {name!r}; choose from digits, mnist, fashion-mnist, emnist, shd")
