"""Encodings of samples into binary spike trains [N, channels, steps] (or [N, C, H, W, steps]).

An encoding is a deterministic function: the same sample always gives the same spikes,
so training in torch and running in Lava see identical input by construction (the Lava
run feeds the very arrays these functions return). All spikes are binary (0/1), which
any netx network accepts as unary input spikes.

- ``rate``: every pixel is a channel; intensity p in [0, 1] fires at evenly spaced steps,
  ``spike[t] = floor((t + 1) p) - floor(t p)``, i.e. round-free, ``floor(T p)`` spikes.
- ``pixel``: one pixel per step in raster order (T = H*W); the pixel's intensity is
  thermometer-coded on ``levels`` channels (channel k fires when the intensity, in
  ``levels`` steps, exceeds k).
- ``rows``: one image row per step (T = H); each pixel thermometer-coded, W*levels channels.
- ``bins``: spike events (SHD) binned into ``steps`` bins over ``duration`` seconds;
  a channel fires in a bin when it had at least one event there.

Layout. ``layout="flat"`` gives ``[N, channels, steps]``. ``layout="image"`` gives the
rate code in image shape, ``[N, 1, H, W, steps]`` (one channel: the images are grey),
for networks whose first block is a convolution or pooling; the spikes are the same
numbers as the flat rate code's, in the layout those blocks take. The trainer reads the
layout from the network (:func:`lava_fptt.training.trainer.resolve`) and stores it with
the run, so training, evaluation and the Lava run see the same arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Any

import numpy as np

from .sources import DataError, EventSet, ImageSet

ENCODINGS = ("rate", "pixel", "rows", "bins")
LAYOUTS = ("flat", "image")


@dataclass(frozen=True)
class Encoding:
    """How samples become spike trains. ``steps`` applies to ``rate`` and ``bins`` only;
    ``layout="image"`` (``rate`` only) keeps the image's shape."""

    kind: str = "rate"
    steps: int = 16
    levels: int = 16
    duration: float = 1.0
    layout: str = "flat"

    def __post_init__(self) -> None:
        if self.kind not in ENCODINGS:
            raise DataError(f"encoding must be one of {ENCODINGS}, got {self.kind!r}")
        if self.steps < 1 or self.levels < 1 or self.duration <= 0:
            raise DataError(f"encoding needs steps >= 1, levels >= 1, duration > 0; got {self}")
        if self.layout not in LAYOUTS:
            raise DataError(f"encoding layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.layout == "image" and self.kind != "rate":
            raise DataError(f"encoding {self.kind!r} gives flat channels; a network whose first block is a "
                            "convolution or pooling takes images: use the 'rate' encoding")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def num_steps(self, data: ImageSet | EventSet) -> int:
        if self.kind == "pixel":
            return int(np.prod(_images(data, self.kind).shape[1:]))
        if self.kind == "rows":
            return int(_images(data, self.kind).shape[1])
        return self.steps

    def num_channels(self, data: ImageSet | EventSet) -> int:
        if self.layout == "image":
            return 1
        if self.kind == "bins":
            return _events(data).num_channels
        if self.kind == "rate":
            return int(np.prod(_images(data, self.kind).shape[1:]))
        if self.kind == "pixel":
            return self.levels
        return int(_images(data, self.kind).shape[2]) * self.levels

    def input_shape(self, data: ImageSet | EventSet) -> tuple[int, ...]:
        """Shape of one encoded sample without time: ``(channels,)``, or ``(1, H, W)`` for images."""
        if self.layout == "image":
            return (1, *(int(n) for n in _images(data, self.kind).shape[1:]))
        return (self.num_channels(data),)

    def encode(self, data: ImageSet | EventSet, index: np.ndarray) -> np.ndarray:
        """Spikes of the samples ``index``: float32 array [len(index), *input_shape, steps]."""
        if self.kind == "bins":
            if not isinstance(data, EventSet):
                raise DataError(f"{data.name}: encoding 'bins' needs spike events (shd)")
            return bin_events(data, index, self.steps, self.duration)
        if not isinstance(data, ImageSet):
            raise DataError(f"{data.name}: encoding {self.kind!r} needs images; use 'bins'")
        images = data.images[index]
        if self.kind == "rate":
            return rate_code(images.reshape(len(index), *self.input_shape(data)), self.steps)
        if self.kind == "pixel":
            flat = images.reshape(len(index), -1)  # [N, T]
            return thermometer(flat, self.levels)  # [N, levels, T]
        rows = thermometer(images.transpose(0, 2, 1), self.levels)  # [N, levels, W, H]: time = row
        return rows.reshape(len(index), -1, images.shape[1])


def rate_code(intensity: np.ndarray, steps: int) -> np.ndarray:
    """[N, ...] intensities in [0, 1] -> [N, ..., steps] evenly spaced binary spikes."""
    p = np.clip(intensity, 0.0, 1.0)[..., None]
    t = np.arange(steps + 1, dtype=np.float64)
    counts = np.floor(t * p + 1e-9)
    return np.diff(counts, axis=-1).astype(np.float32)


def thermometer(intensity: np.ndarray, levels: int) -> np.ndarray:
    """[N, ...] intensities in [0, 1] -> [N, levels, ...]: channel k fires when round(levels p) > k."""
    quantized = np.rint(np.clip(intensity, 0.0, 1.0) * levels)
    k = np.arange(levels).reshape((1, levels) + (1,) * (intensity.ndim - 1))
    return (quantized[:, None] > k).astype(np.float32)


def bin_events(data: EventSet, index: np.ndarray, steps: int, duration: float) -> np.ndarray:
    """Bin each sample's events into ``steps`` bins of ``duration / steps`` seconds."""
    out = np.zeros((len(index), data.num_channels, steps), dtype=np.float32)
    for row, i in enumerate(index):
        times, units = data.times[i], data.units[i]
        keep = (times >= 0) & (times < duration)
        bins = np.minimum((times[keep] / duration * steps).astype(np.int64), steps - 1)
        out[row, units[keep], bins] = 1.0
    return out


DEFAULT_ENCODINGS = {
    "digits": Encoding("rate", steps=16),
    "mnist1d": Encoding("pixel", levels=16),  # one value per step (T = 40), thermometer-coded
    "mnist": Encoding("rate", steps=32),
    "fashion-mnist": Encoding("rate", steps=32),
    "emnist": Encoding("rate", steps=32),
    "shd": Encoding("bins", steps=100, duration=1.0),
}


def _images(data: ImageSet | EventSet, kind: str) -> np.ndarray:
    """The images of an image data set (``kind`` encodes images)."""
    if not isinstance(data, ImageSet):
        raise ValueError(f"encoding {kind!r} encodes images; {data.name} holds spike events: use 'bins'")
    return data.images


def _events(data: ImageSet | EventSet) -> EventSet:
    """An event data set (the 'bins' encoding)."""
    if not isinstance(data, EventSet):
        raise ValueError(f"encoding 'bins' encodes spike events; {data.name} holds images")
    return data
