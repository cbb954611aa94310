"""MNIST-1D: a published temporal benchmark generated offline, cached after first use.

Greydanus, "Scaling down deep learning" (arXiv 2011.14439). The ``mnist1d`` package
builds the data set procedurally from ten templates inside the package
(``make_dataset(get_dataset_args())``), so nothing is downloaded. Its documented default
arguments give 5,000 sequences of 40 real values (about -3..3, normalised to mean 0 and
standard deviation 1 over the whole set), split 4,000 train / 1,000 test; the package
draws them with seed 42. Other draws: ``seed`` and ``num_samples``.

Published test accuracy on the default set (the package's README): logistic regression
32 %, MLP 68 %, CNN 94 %, GRU 91 %.

Read one value per step it is a 40-step sequence task. Here the values become
intensities in [0, 1] by the fixed map ``clip((v - VALUE_RANGE[0]) / width, 0, 1)``
(about 1 % of values lie outside the range and saturate), held as an
:class:`~lava_fptt.data.sources.ImageSet` of shape ``[N, 1, 40]``; the ``pixel``
encoding then feeds one value per step, thermometer-coded (the data set's default
encoding, 16 levels), and Lava is fed the very same arrays.

The cache is one ``.npz`` file per draw in ``cache_dir`` (``--data-dir``, else
``$LAVA_FPTT_CACHE``, else ``~/.cache/lava-fptt``), written atomically; a file that
cannot be read or does not hold the expected arrays and shapes is refused with a
:class:`~lava_fptt.data.sources.DataError` naming it.
"""
from __future__ import annotations

import os
import pathlib
import random
import zipfile
from typing import Any, Optional

import numpy as np

from .sources import DataError, ImageSet

DEFAULT_SEED = 42
"""The package's documented default seed (``get_dataset_args()``)."""
DEFAULT_SAMPLES = 5000
"""The package's documented default ``num_samples`` (4,000 train + 1,000 test)."""
TRAIN_SPLIT = 0.8
SEQUENCE_LENGTH = 40
NUM_CLASSES = 10
VALUE_RANGE = (-3.0, 3.0)
"""Values mapped to intensities 0 and 1 (the 1st and 99th percentiles of the default set are
about -2.8 and 2.8)."""
CACHE_ENV = "LAVA_FPTT_CACHE"
CACHE_KEYS = ("x", "y", "x_test", "y_test")


def default_cache_dir() -> pathlib.Path:
    """``$LAVA_FPTT_CACHE`` if set, else ``~/.cache/lava-fptt``."""
    return pathlib.Path(os.environ.get(CACHE_ENV) or pathlib.Path.home() / ".cache" / "lava-fptt")


def split_sizes(num_samples: int) -> tuple[int, int]:
    """(train, test) sizes of a draw of ``num_samples``, as the package splits it."""
    total = (num_samples // NUM_CLASSES) * NUM_CLASSES  # the package makes num_samples // 10 per class
    train = int(total * TRAIN_SPLIT)
    return train, total - train


def generate(seed: int = DEFAULT_SEED, num_samples: int = DEFAULT_SAMPLES) -> dict[str, np.ndarray]:
    """Run the package's generator with its default arguments except ``seed`` and ``num_samples``.

    The generator seeds Python's and numpy's global random state; both are restored
    afterwards, so calling this does not change the caller's random draws.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:  # pragma: no cover - the package is a dependency
        raise DataError(f"mnist1d: the 'mnist1d' package is needed to generate the data set ({err})") from None
    args = get_dataset_args()
    args.seed, args.num_samples = int(seed), int(num_samples)
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return {key: np.asarray(data[key]) for key in CACHE_KEYS}


def cache_path(cache_dir: pathlib.Path, seed: int, num_samples: int) -> pathlib.Path:
    return pathlib.Path(cache_dir) / f"mnist1d_seed{seed}_n{num_samples}.npz"


def read_cache(path: pathlib.Path, num_samples: int) -> dict[str, np.ndarray]:
    """The arrays of a cache file, checked against the shapes a draw of ``num_samples`` has."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {key: np.asarray(f[key]) for key in CACHE_KEYS if key in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: corrupt MNIST-1D cache ({err}); delete it to regenerate") from None
    missing = [key for key in CACHE_KEYS if key not in data]
    if missing:
        raise DataError(f"{path}: corrupt MNIST-1D cache, missing {', '.join(missing)}; delete it to regenerate")
    n_train, n_test = split_sizes(num_samples)
    expected = {"x": (n_train, SEQUENCE_LENGTH), "y": (n_train,),
                "x_test": (n_test, SEQUENCE_LENGTH), "y_test": (n_test,)}
    for key, shape in expected.items():
        if data[key].shape != shape:
            raise DataError(f"{path}: MNIST-1D cache array {key!r} has shape {data[key].shape}, expected {shape}; "
                            "delete it to regenerate")
    for key in ("y", "y_test"):
        labels = data[key]
        if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0
                            or labels.max() >= NUM_CLASSES):
            raise DataError(f"{path}: MNIST-1D cache array {key!r} holds labels outside 0..{NUM_CLASSES - 1}")
    if not all(np.isfinite(data[key]).all() for key in ("x", "x_test")):
        raise DataError(f"{path}: MNIST-1D cache holds non-finite values; delete it to regenerate")
    return data


def write_cache(data: dict[str, Any], path: pathlib.Path) -> None:
    """Write atomically: a temporary file beside ``path``, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def to_intensity(values: np.ndarray) -> np.ndarray:
    """Real values -> intensities in [0, 1] by the fixed map of :data:`VALUE_RANGE` (float32)."""
    lo, hi = VALUE_RANGE
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def load_mnist1d(split: str, cache_dir: Optional[pathlib.Path] = None, seed: Optional[int] = None,
                 num_samples: Optional[int] = None) -> ImageSet:
    """One split of the MNIST-1D draw (``seed``, ``num_samples``) as intensities ``[N, 1, 40]``.

    Generated on first use (a few seconds) and cached in ``cache_dir`` (see module docstring).
    """
    seed = DEFAULT_SEED if seed is None else int(seed)
    num_samples = DEFAULT_SAMPLES if num_samples is None else int(num_samples)
    if num_samples < 2 * NUM_CLASSES:
        raise DataError(f"mnist1d: data samples must be >= {2 * NUM_CLASSES} (two per class), got {num_samples}")
    if seed < 0:
        raise DataError(f"mnist1d: data seed must be >= 0, got {seed}")
    path = cache_path(pathlib.Path(cache_dir) if cache_dir else default_cache_dir(), seed, num_samples)
    if path.exists():
        data = read_cache(path, num_samples)
    else:
        data = generate(seed, num_samples)
        try:
            write_cache(data, path)
        except OSError as err:
            raise DataError(f"{path}: cannot write the MNIST-1D cache ({err})") from None
    x, y = (data["x"], data["y"]) if split == "train" else (data["x_test"], data["y_test"])
    return ImageSet("mnist1d", to_intensity(x)[:, None, :], y.astype(np.int64), NUM_CLASSES)
