"""Export through netx and run in Lava: plain lava-dl loads it, Lava reproduces torch spike for spike."""
from __future__ import annotations

import pathlib

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.training import RunDirError, load_run
from netx_export import NetworkFileError, describe, export_network
from netx_export.inference import run_in_lava, spike_match


@pytest.fixture(scope="module")
def exported(trained_cuba_run: pathlib.Path) -> pathlib.Path:
    _, model, _ = load_run(trained_cuba_run)
    return export_network(model, trained_cuba_run / "network.net", {"dataset": "digits"})


def test_chunked_forward_equals_whole_sequence(trained_cuba_run: pathlib.Path) -> None:
    _, model, _ = load_run(trained_cuba_run)
    x = torch.from_numpy(load_dataset("digits", "test", encoding=Encoding("rate", steps=12)).spikes(range(8)))
    whole = model.run(x)
    model.reset_state()
    pieces = torch.cat([model(x[..., t:t + 5]) for t in range(0, 12, 5)], dim=-1)
    assert torch.equal(whole, pieces) and whole.sum() > 0


def test_plain_lava_dl_netx_loads_the_file(exported: pathlib.Path) -> None:
    from lava.lib.dl import netx

    net = netx.hdf5.Network(net_config=str(exported))
    assert len(net) == 2 and net.inp.shape == (64,) and net.out.shape == (10,)
    summary = describe(exported)
    assert summary.layer_types == ("dense", "dense") and summary.metadata["dataset"] == "digits"


def test_lava_fixed_point_reproduces_torch_spike_for_spike(trained_cuba_run: pathlib.Path, exported: pathlib.Path) -> None:
    _, model, _ = load_run(trained_cuba_run)
    data = load_dataset("digits", "test", encoding=Encoding("rate", steps=12))
    inputs = data.spikes(range(25))
    reference = model.run(torch.from_numpy(inputs)).numpy()
    lava = run_in_lava(exported, inputs, "fixed")
    assert reference.sum() > 50  # the comparison is not between two silent networks
    np.testing.assert_array_equal(lava.spikes, reference)
    assert spike_match(lava.spikes, reference) == 1.0


def test_a_float_run_of_netx_cuba_layers_is_refused_before_lava_starts(exported: pathlib.Path) -> None:
    """netx's CUBA layers hold Loihi integer parameters that Lava's float LIF would misread."""
    inputs = load_dataset("digits", "test", encoding=Encoding("rate", steps=12)).spikes(range(3))
    with pytest.raises(NetworkFileError, match=r"layer 0 \(CUBA neuron\) runs in fixed point only"):
        run_in_lava(exported, inputs, "float")


def test_spike_match_counts_spikes_not_silence() -> None:
    a = np.zeros((1, 2, 10))
    b = a.copy()
    a[0, 0, :4] = 1
    b[0, 0, :2] = 1
    assert spike_match(a, b) == 0.5 and spike_match(a * 0, b * 0) == 1.0


def test_hdf5_file_that_is_not_a_network(tmp_path: pathlib.Path) -> None:
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(NetworkFileError, match=r"other.h5: not a netx network"):
        describe(tmp_path / "other.h5")
    (tmp_path / "text.net").write_text("hello")
    with pytest.raises(NetworkFileError, match=r"text.net: not an HDF5 file"):
        describe(tmp_path / "text.net")
    with pytest.raises(NetworkFileError, match="network file not found"):
        describe(tmp_path / "missing.net")


def test_input_size_mismatch_is_refused_before_lava_starts(exported: pathlib.Path) -> None:
    wrong = load_dataset("digits", "test", encoding=Encoding("pixel")).spikes(range(2))
    with pytest.raises(NetworkFileError, match=r"takes 64 input channels, the data has 16"):
        run_in_lava(exported, wrong)


def test_missing_or_incomplete_run_dir(tmp_path: pathlib.Path) -> None:
    with pytest.raises(RunDirError, match="run directory not found"):
        load_run(tmp_path / "nope")
    with pytest.raises(RunDirError, match="no config.json"):
        load_run(tmp_path)


def test_failed_export_leaves_no_file(tmp_path: pathlib.Path, trained_cuba_run: pathlib.Path) -> None:
    _, model, _ = load_run(trained_cuba_run)

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        export_network(model, tmp_path / "net.net", {"bad": Unserialisable()})
    assert list(tmp_path.iterdir()) == []
