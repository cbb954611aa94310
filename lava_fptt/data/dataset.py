"""A data set seen as spike trains: source + encoding, served in batches."""
from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import torch

from .encoding import DEFAULT_ENCODINGS, Encoding
from .sources import DataError, EventSet, ImageSet, load_source

DATASETS = tuple(DEFAULT_ENCODINGS)
BUILT_IN = ("digits",)
"""Data sets that ship with the installed packages and read no ``data_dir``."""


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
