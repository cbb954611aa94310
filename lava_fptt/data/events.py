"""Event streams of the shape of public neuromorphic data sets, made offline from built-in data.

N-MNIST (Orchard et al., 2015) was recorded by an event camera moved in three saccades
(an isosceles triangle) in front of MNIST digits: two polarity channels (OFF, ON) on a
34 x 34 sensor. It cannot be downloaded here. :func:`saccade_events` makes streams of
the same shape and of the same origin, from scikit-learn's 8 x 8 digits: each digit is
upsampled to 24 x 24 (3 x 3 blocks, intensities 0..1), moved along the three legs of a
triangle, one pixel per step, and a pixel emits an ON (OFF) event in a step when its
intensity rose (fell), with probability ``gain`` times the change (at most 1). The
result is ``[N, 2, 34, 34, steps]`` (binary), deterministic for a given seed.

:func:`tactile_events` makes streams of the Braille data set's shape (12 taxels): each
taxel has its own event probability per step and short bursts, drawn per sample.
Neither stream is the real data set; they feed a network trained on the real one with
inputs of its form, e.g. to compare two simulations of that network on the same inputs.
"""
from __future__ import annotations

import numpy as np

SENSOR = 34
DIGIT = 24


def triangle_path(steps: int) -> np.ndarray:
    """Offsets (row, column) of the digit for each step: three saccades along a triangle."""
    corners = np.array([(2, 2), (8, 5), (2, 8), (2, 2)], dtype=np.float64)
    legs = np.array_split(np.arange(steps), 3)
    path = []
    for leg, (start, end) in zip(legs, zip(corners[:-1], corners[1:])):
        for k in range(len(leg)):
            path.append(start + (end - start) * (k + 1) / len(leg))
    return np.round(np.array(path)).astype(int)


def saccade_events(count: int, steps: int = 24, gain: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` N-MNIST-shaped event streams ``[count, 2, 34, 34, steps]`` and their digit labels."""
    from sklearn.datasets import load_digits

    if count < 1 or steps < 3 or gain <= 0:
        raise ValueError(f"saccade_events needs count >= 1, steps >= 3, gain > 0; got {count}, {steps}, {gain}")
    digits = load_digits()
    rng = np.random.default_rng(seed)
    index = rng.choice(len(digits.images), size=count, replace=count > len(digits.images))
    images = np.kron(digits.images[index] / 16.0, np.ones((1, 3, 3)))
    path = triangle_path(steps + 1)
    frames = np.zeros((count, steps + 1, SENSOR, SENSOR))
    for t, (dy, dx) in enumerate(path):
        frames[:, t, dy:dy + DIGIT, dx:dx + DIGIT] = images
    change = np.diff(frames, axis=1)  # [count, steps, 34, 34]
    draw = rng.random(change.shape)
    on = draw < gain * np.clip(change, 0, None)
    off = draw < gain * np.clip(-change, 0, None)
    events = np.stack([off, on], axis=1).astype(np.float64)  # [count, 2, steps, 34, 34]
    return events.transpose(0, 1, 3, 4, 2).copy(), digits.target[index]


def tactile_events(count: int, steps: int = 100, taxels: int = 12, seed: int = 0) -> np.ndarray:
    """``count`` streams ``[count, taxels, steps]``: per-taxel rates up to 0.2 per step, with bursts."""
    if count < 1 or steps < 1 or taxels < 1:
        raise ValueError(f"tactile_events needs count, steps, taxels >= 1; got {count}, {steps}, {taxels}")
    rng = np.random.default_rng(seed)
    rate = rng.uniform(0.0, 0.2, size=(count, taxels, 1))
    burst = np.zeros((count, taxels, steps))
    for n in range(count):
        for start in rng.integers(0, steps, size=3):
            burst[n, rng.integers(0, taxels, size=4), start:start + 5] = 0.6
    return (rng.random((count, taxels, steps)) < np.maximum(rate, burst)).astype(np.float64)
