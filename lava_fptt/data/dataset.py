"""A data set seen as spike trains: source + encoding, served in batches."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import torch

from .encoding import DEFAULT_ENCODINGS, Encoding
from .sources import DataError, EventSet, ImageSet, load_digits, load_idx_dataset, load_shd

DATASETS = tuple(DEFAULT_ENCODINGS)
BUILT_IN = ("digits",)
"""Data sets that ship with the installed packages and read no ``data_dir``."""


GENERATED = ("mnist1d",)
"""Data sets drawn by a generator: the only ones that take a data seed and a sample count."""


def load_source(name: str, split: str, data_dir: Optional[pathlib.Path] = None, data_seed: Optional[int] = None,
                data_samples: Optional[int] = None) -> ImageSet | EventSet:
    """The raw data set ``name`` ('digits', 'mnist1d', 'mnist', 'fashion-mnist', 'emnist', 'shd').

    ``data_seed`` and ``data_samples`` choose another draw of a generated data set
    (:data:`GENERATED`); for ``mnist1d`` ``data_dir`` is where its cache is kept.
    """
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    if name not in GENERATED and (data_seed is not None or data_samples is not None):
        raise DataError(f"{name}: a data seed and sample count apply only to generated data sets "
                        f"({', '.join(GENERATED)})")
    if name == "digits":
        return load_digits(split)
    if name == "mnist1d":
        from .mnist1d import load_mnist1d

        return load_mnist1d(split, data_dir, data_seed, data_samples)
    if data_dir is None:
        raise DataError(f"{name}: needs --data-dir, the directory holding its files (nothing is downloaded)")
    if name in ("mnist", "fashion-mnist", "emnist"):
        return load_idx_dataset(name, pathlib.Path(data_dir), split)
    if name == "shd":
        return load_shd(pathlib.Path(data_dir), split)
    raise DataError(f"unknown data set {name!r}; choose from digits, mnist1d, mnist, fashion-mnist, emnist, shd")


@dataclass
class SpikeDataset:
    """Samples of one split, encoded on demand into binary spikes [*input_shape, steps]."""

    source: ImageSet | EventSet
    encoding: Encoding
    split: str

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def num_classes(self) -> int:
        return self.source.num_classes

    @property
    def num_channels(self) -> int:
        return self.encoding.num_channels(self.source)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample without time: ``(channels,)``, or ``(1, H, W)`` in image layout."""
        return self.encoding.input_shape(self.source)

    @property
    def num_steps(self) -> int:
        return self.encoding.num_steps(self.source)

    @property
    def sample_shape(self) -> Optional[tuple[int, ...]]:
        """Shape of one image (None for event data)."""
        images = getattr(self.source, "images", None)
        return None if images is None else tuple(images.shape[1:])

    @property
    def labels(self) -> np.ndarray:
        return self.source.labels

    def __len__(self) -> int:
        return len(self.source)

    def spikes(self, index: np.ndarray | list[int]) -> np.ndarray:
        """float32 spikes [len(index), *input_shape, steps] of the given samples."""
        return self.encoding.encode(self.source, np.asarray(index, dtype=np.int64))

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        limit: Optional[int] = None,
        shard: tuple[int, int] = (0, 1),
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (spikes [B, *input_shape, T], labels [B]) tensors.

        ``shuffle`` draws the order from ``seed`` (give the epoch number for a new order
        each epoch); ``limit`` keeps the first samples of that order; ``shard=(rank,
        world)`` keeps every world-th batch, for data-parallel training.
        """
        order = np.arange(len(self))
        if shuffle:
            order = np.random.default_rng(seed).permutation(len(self))
        if limit is not None:
            order = order[:limit]
        rank, world = shard
        for number, start in enumerate(range(0, len(order), batch_size)):
            if number % world != rank:
                continue
            chosen = order[start: start + batch_size]
            yield torch.from_numpy(self.spikes(chosen)), torch.from_numpy(self.labels[chosen])

    def num_batches(self, batch_size: int, limit: Optional[int] = None, world: int = 1) -> int:
        n = len(self) if limit is None else min(limit, len(self))
        total = -(-n // batch_size)
        return -(-total // world)


def load_dataset(
    name: str,
    split: str = "train",
    data_dir: Optional[str | pathlib.Path] = None,
    encoding: Optional[Encoding] = None,
    data_seed: Optional[int] = None,
    data_samples: Optional[int] = None,
) -> SpikeDataset:
    """Load ``name`` ('digits', 'mnist1d', 'mnist', 'fashion-mnist', 'emnist', 'shd') as spike trains.

    ``encoding`` defaults to the data set's own (see ``DEFAULT_ENCODINGS``);
    ``data_seed`` and ``data_samples`` draw another sample of a generated data set (mnist1d).
    """
    if name not in DEFAULT_ENCODINGS:
        raise DataError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    if name in BUILT_IN and data_dir is not None:
        raise DataError(f"{name} is built in and reads no data directory; drop --data-dir {data_dir}")
    source = load_source(name, split, pathlib.Path(data_dir) if data_dir else None, data_seed, data_samples)
    return SpikeDataset(source, encoding or DEFAULT_ENCODINGS[name], split)


def load_splits(
    name: str, data_dir: Optional[str | pathlib.Path] = None, encoding: Optional[Encoding] = None,
    data_seed: Optional[int] = None, data_samples: Optional[int] = None,
) -> tuple[SpikeDataset, SpikeDataset]:
    """The train and test splits of ``name`` (as :func:`load_dataset`), refused when their
    samples differ in size, channels or classes (mixed files in ``data_dir``)."""
    train, test = (load_dataset(name, split, data_dir, encoding, data_seed, data_samples) for split in ("train", "test"))
    shapes = [split.sample_shape for split in (train, test)]
    if shapes[0] != shapes[1] or train.num_channels != test.num_channels or train.num_classes != test.num_classes:
        raise DataError(f"{name}{f' in {data_dir}' if data_dir else ''}: the train and test splits differ "
                        f"(samples {shapes[0]} / {shapes[1]}, {train.num_channels} / {test.num_channels} channels, "
                        f"{train.num_classes} / {test.num_classes} classes)")
    return train, test
