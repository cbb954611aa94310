"""Data sets, file validation and spike encodings."""
from __future__ import annotations

import gzip
import pathlib

import h5py
import numpy as np
import pytest

from lava_fptt.data import DataError, Encoding, load_dataset, read_idx


def write_idx(path: pathlib.Path, array: np.ndarray, compress: bool = False) -> pathlib.Path:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def make_mnist(folder: pathlib.Path, n: int = 12, compress: bool = False) -> None:
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 28, 28)), compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n), compress)


def test_digits_split_is_fixed_and_disjoint() -> None:
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert (len(train), len(test)) == (1438, 359)
    again = load_dataset("digits", "test")
    np.testing.assert_array_equal(test.source.images, again.source.images)
    train_rows = {r.tobytes() for r in train.source.images}
    assert sum(r.tobytes() in train_rows for r in test.source.images) < 5  # digits has a few exact duplicates


def test_rate_code_gives_floor_t_p_evenly_spaced_spikes() -> None:
    data = load_dataset("digits", "test", encoding=Encoding("rate", steps=16))
    spikes = data.spikes([0, 1, 2])
    assert spikes.shape == (3, 64, 16)
    expected = np.floor(data.source.images[:3].reshape(3, -1) * 16 + 1e-9)
    np.testing.assert_array_equal(spikes.sum(-1), expected)
    assert set(np.unique(spikes)) <= {0.0, 1.0}


def test_pixel_encoding_reads_one_pixel_per_step_as_a_thermometer() -> None:
    data = load_dataset("digits", "test", encoding=Encoding("pixel", levels=16))
    spikes = data.spikes([5])[0]
    assert spikes.shape == (16, 64)
    np.testing.assert_array_equal(spikes.sum(0), np.rint(data.source.images[5].reshape(-1) * 16))
    assert np.all(np.diff(spikes, axis=0) <= 0)  # channel k+1 never fires without channel k


def test_rows_encoding_has_one_row_per_step() -> None:
    data = load_dataset("digits", "test", encoding=Encoding("rows", levels=4))
    assert data.spikes([0]).shape == (1, 8 * 4, 8)
    image = data.source.images[0]
    np.testing.assert_array_equal(data.spikes([0])[0].sum(0), np.rint(image * 4).sum(1))


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_read_raw_or_gzip(tmp_path: pathlib.Path, compress: bool) -> None:
    make_mnist(tmp_path, compress=compress)
    data = load_dataset("mnist", "train", data_dir=tmp_path)
    assert len(data) == 12 and data.source.images.shape == (12, 28, 28)
    assert data.num_channels == 784 and float(data.source.images.max()) <= 1.0


def test_truncated_idx_file_is_named_in_the_error(tmp_path: pathlib.Path) -> None:
    path = write_idx(tmp_path / "x-images-idx3-ubyte", np.zeros((4, 28, 28)))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"x-images-idx3-ubyte.*truncated or corrupt"):
        read_idx(path, 3)


def test_bad_magic_and_wrong_dimensions(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x12\x34\x08\x03" + bytes(20))
    with pytest.raises(DataError, match="bad magic"):
        read_idx(bad, 3)
    labels = write_idx(tmp_path / "labels", np.zeros(5))
    with pytest.raises(DataError, match="expected 3 dimensions"):
        read_idx(labels, 3)


def test_image_and_label_counts_must_agree(tmp_path: pathlib.Path) -> None:
    make_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(11))
    with pytest.raises(DataError, match="12 images but .* has 11 labels"):
        load_dataset("mnist", "train", data_dir=tmp_path)


def test_missing_directory_and_missing_files(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError, match="data directory not found"):
        load_dataset("mnist", "train", data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError, match="no file train-images-idx3-ubyte"):
        load_dataset("fashion-mnist", "train", data_dir=tmp_path)
    with pytest.raises(DataError, match="needs --data-dir"):
        load_dataset("mnist", "train")


def test_emnist_images_are_turned_upright(tmp_path: pathlib.Path) -> None:
    image = np.zeros((1, 28, 28))
    image[0, 0, 5] = 255  # stored transposed: row 0, column 5 -> row 5, column 0
    write_idx(tmp_path / "emnist-balanced-test-images-idx3-ubyte", image)
    write_idx(tmp_path / "emnist-balanced-test-labels-idx1-ubyte", np.array([46]))
    data = load_dataset("emnist", "test", data_dir=tmp_path)
    assert data.source.images[0, 5, 0] == 1.0 and data.num_classes == 47


def write_shd(path: pathlib.Path, samples: list[tuple[list[float], list[int]]], labels: list[int]) -> None:
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.float32))
        units = f.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (t, u) in enumerate(samples):
            times[i], units[i] = np.array(t, np.float32), np.array(u, np.uint16)
        f["labels"] = np.array(labels, np.uint8)


def test_shd_events_are_binned(tmp_path: pathlib.Path) -> None:
    write_shd(tmp_path / "shd_test.h5", [([0.0, 0.015, 0.999], [3, 3, 699]), ([0.5], [0])], [1, 19])
    data = load_dataset("shd", "test", data_dir=tmp_path)
    spikes = data.spikes([0, 1])
    assert spikes.shape == (2, 700, 100) and spikes.sum() == 4
    assert spikes[0, 3, 0] == 1 and spikes[0, 3, 1] == 1 and spikes[0, 699, 99] == 1 and spikes[1, 0, 50] == 1


def test_shd_file_that_is_not_shd(tmp_path: pathlib.Path) -> None:
    with h5py.File(tmp_path / "shd_train.h5", "w") as f:
        f["labels"] = np.zeros(3)
    with pytest.raises(DataError, match=r"shd_train.h5: not an SHD file, missing spikes/times"):
        load_dataset("shd", "train", data_dir=tmp_path)
    (tmp_path / "shd_test.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match=r"shd_test.h5: not a readable HDF5 file"):
        load_dataset("shd", "test", data_dir=tmp_path)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(DataError, match="unknown data set 'cifar'"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="encoding must be one of"):
        Encoding("phase")


def test_idx_images_come_in_image_shape_for_convolutional_networks(tmp_path: pathlib.Path) -> None:
    make_mnist(tmp_path)
    image = load_dataset("mnist", "test", tmp_path, Encoding("rate", steps=5, layout="image"))
    flat = load_dataset("mnist", "test", tmp_path, Encoding("rate", steps=5))
    assert image.input_shape == (1, 28, 28) and image.num_channels == 1
    spikes = image.spikes([0, 3])
    assert spikes.shape == (2, 1, 28, 28, 5) and spikes.sum() > 0
    np.testing.assert_array_equal(spikes.reshape(2, 784, 5), flat.spikes([0, 3]))
