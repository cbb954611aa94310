"""Parameters outside Loihi's widths or the data's shape are refused with a clear ValueError."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from lava_fptt.onchip.config import SsnnConfig, initial_weights
from lava_fptt.onchip.lava_network import build_network
from lava_fptt.onchip.learn import learn
from lava_fptt.onchip.storage import save_network
from lava_fptt.proc.ssnn import CompositeNeuron, SsnnDense, SsnnEncoder, WtaOutput


@pytest.mark.parametrize("field, value, message", [
    ("act_shift", 9, r"act_shift must be in \[-16, 8\], got 9"),
    ("out_shift", -17, r"out_shift must be in \[-16, 8\]"),
    ("grad_gain", 4096, r"grad_gain must be in \[0, 4095\]"),
    ("error_prob", 65537, r"error_prob must be in \[0, 65536\]"),
    ("steps_per_sample", 0, r"steps_per_sample must be in \[1, 65536\]"),
    ("n_in", 40_000, r"n_in must be in \[1, 32896\]"),
    ("n_out", 1, r"n_out must be in \[2, 4096\]"),
    ("seed", -1, r"seed must be in \[0, 4294967295\]"),
    ("grad_gain", 2.5, r"grad_gain must be an integer"),
])
def test_config_refuses_values_outside_the_hardware_widths(field: str, value: object, message: str) -> None:
    kwargs = dict(n_in=64, n_hidden=16, n_out=10)
    kwargs[field] = value
    with pytest.raises(ValueError, match=message):
        SsnnConfig(**kwargs)


def test_processes_refuse_values_outside_the_hardware_widths() -> None:
    with pytest.raises(ValueError, match=r"weights must be in \[-255, 255\] \(signed 9-bit\)"):
        SsnnDense(weights=np.full((3, 4), 256), pre_delay=1)
    with pytest.raises(ValueError, match="weights must be integers"):
        SsnnDense(weights=np.zeros((3, 4)), pre_delay=1)
    with pytest.raises(ValueError, match=r"pre_delay must be in \[1, 256\]"):
        SsnnDense(weights=np.zeros((3, 4), dtype=int), pre_delay=0)
    with pytest.raises(ValueError, match=r"act_shift must be in \[-16, 8\]"):
        CompositeNeuron(shape=(4,), act_shift=20, grad_gain=1)
    with pytest.raises(ValueError, match=r"grad_gain must be in \[0, 4095\]"):
        CompositeNeuron(shape=(4,), act_shift=0, grad_gain=-1)
    with pytest.raises(ValueError, match="shape must be one-dimensional"):
        CompositeNeuron(shape=(4, 4), act_shift=0, grad_gain=1)
    with pytest.raises(ValueError, match=r"error_prob must be in \[0, 65536\]"):
        WtaOutput(shape=(10,), out_shift=0, error_prob=70_000)
    images = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"intensity must lie in \[0, 1\]"):
        SsnnEncoder(intensity=images + 1.5, order=np.arange(3), n_classes=2, steps_per_sample=4)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 1\]"):
        SsnnEncoder(intensity=images, order=np.arange(3), n_classes=2, steps_per_sample=4, labels=np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="order must be a non-empty 1-d array"):
        SsnnEncoder(intensity=images, order=np.array([0, 3]), n_classes=2, steps_per_sample=4)


def test_network_refuses_data_of_another_input_size() -> None:
    config = SsnnConfig(n_in=64, n_hidden=8, n_out=10)
    with pytest.raises(ValueError, match=r"intensity must be \[samples, 64\]"):
        build_network(config, *initial_weights(config), np.zeros((5, 784)), np.arange(5))


def _write_idx(folder: pathlib.Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.astype(np.uint8).tobytes())
    header = bytes([0, 0, 8, 1]) + len(labels).to_bytes(4, "big")
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(header + labels.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path: pathlib.Path) -> pathlib.Path:
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 20), ("t10k", 10)):
        _write_idx(tmp_path, prefix, rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n))
    return tmp_path


def test_learn_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="engine must be one of"):
        learn(engine="loihi", progress=False)
    with pytest.raises(ValueError, match=r"batch must be in \[1, 1\]"):
        learn(engine="lava", batch=2, progress=False)
    with pytest.raises(ValueError, match=r"steps_per_sample must be in \[1, 65536\]"):
        learn(steps_per_sample=0, progress=False)
    with pytest.raises(ValueError, match=r"hidden must be in \[1, 32768\]"):
        learn(hidden=0, progress=False)
    with pytest.raises(ValueError, match=r"samples must be in"):
        learn(samples=0, progress=False)
    with pytest.raises(ValueError, match="errors_per_sample must be in"):
        learn(errors_per_sample=0, progress=False)


def test_learn_refuses_labels_outside_the_classes(tmp_path: pathlib.Path) -> None:
    rng = np.random.default_rng(1)
    _write_idx(tmp_path, "train", rng.integers(0, 256, (6, 28, 28)), np.array([0, 1, 2, 12, 3, 4]))
    _write_idx(tmp_path, "t10k", rng.integers(0, 256, (4, 28, 28)), np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"labels outside 0\.\.9"):
        learn("mnist", data_dir=tmp_path, steps_per_sample=2, hidden=4, progress=False)


def test_learn_refuses_a_network_whose_input_size_does_not_fit(
    tiny_mnist: pathlib.Path, tmp_path: pathlib.Path,
) -> None:
    config = SsnnConfig(n_in=64, n_hidden=8, n_out=10)
    saved = save_network(tmp_path / "digits_net.npz", config, *initial_weights(config))
    with pytest.raises(ValueError, match="takes 64 inputs and 10 classes; data set 'mnist' has 784 inputs"):
        learn("mnist", data_dir=tiny_mnist, steps_per_sample=2, init=saved, progress=False)
