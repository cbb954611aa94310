"""Convolutional CUBA networks: the --arch syntax, image-shaped data, export by lava-dl, Lava spike for spike.

Plain ``lava.lib.dl.netx.hdf5.Network`` loads the conv networks (given the input shape in
(x, y, f) order); networks with slayer ``Pool`` blocks, which netx 0.6 cannot build, run
through our loader (:mod:`netx_export.pool`).
"""
from __future__ import annotations

import json
import pathlib

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.conv import parse_arch
from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from netx_export import NetworkFileError, export_network, load_network
from netx_export.inference import run_in_lava

torch.set_num_threads(1)
STRIDED = "conv:8:3,conv:16:3:2,dense:32"
POOLED = "conv:8:3,pool:2,conv:16:3,dense:32"


def conv_network(arch: str, seed: int = 0, weight_scale: float = 3.0) -> SpikingNetwork:
    torch.manual_seed(seed)
    net = SpikingNetwork(NetworkConfig(sizes=(1, 10), arch=arch, input_shape=(1, 8, 8), weight_scale=weight_scale))
    net.run(torch.zeros(1, 1, 8, 8, 1))
    return net


def test_the_layer_syntax_builds_slayer_blocks_with_their_shapes() -> None:
    from lava.lib.dl import slayer

    assert [str(layer) for layer in parse_arch("conv:8:3, pool:2,conv:16:5:2:0,flatten,dense:64")] == \
        ["conv:8:3:1:1", "pool:2", "conv:16:5:2:0", "flatten", "dense:64"]
    net = conv_network(POOLED)
    cuba = slayer.block.cuba
    assert [type(b) for b in net.layers] == [cuba.Conv, cuba.Pool, cuba.Conv, cuba.Flatten, cuba.Dense, cuba.Dense]
    assert [tuple(b.neuron.shape) for b in net.layers if hasattr(b, "neuron")] == \
        [(8, 8, 8), (8, 4, 4), (16, 4, 4), (32,), (10,)]
    assert all(b.delay_shift for b in net.layers if hasattr(b, "delay_shift")) and net.delay == 5


@pytest.mark.parametrize("arch,message", [
    ("conv:8", r"'conv:8': expected conv:F:K\[:S\[:P\]\]"),
    ("conv:8:3,,dense:4", "empty layer"),
    ("lstm:4", "unknown kind 'lstm'"),
    ("dense:4,conv:8:3", "conv:8:3:1:1 comes after the network was flattened"),
    ("pool:3", r"layer pool:3: the 8 x 8 input does not divide by 3"),
    ("conv:4:9:1:0", r"kernel 9 does not fit the 8 x 8 input"),
])
def test_bad_architectures_are_refused_naming_the_layer(arch: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpikingNetwork(NetworkConfig(sizes=(1, 10), arch=arch, input_shape=(1, 8, 8)))


def test_image_rate_code_is_the_flat_rate_code_in_image_shape() -> None:
    flat = load_dataset("digits", "test")
    image = load_dataset("digits", "test", encoding=Encoding("rate", layout="image"))
    assert image.input_shape == (1, 8, 8) and flat.input_shape == (64,)
    a, b = image.spikes([0, 5, 9]), flat.spikes([0, 5, 9])
    assert a.shape == (3, 1, 8, 8, 16) and np.array_equal(a.reshape(3, 64, 16), b)
    with pytest.raises(ValueError, match="encoding 'pixel' gives flat channels"):
        Encoding("pixel", layout="image")


@pytest.mark.slow
@pytest.mark.parametrize("arch", [STRIDED, POOLED])
def test_lava_runs_conv_networks_spike_for_spike(arch: str, tmp_path: pathlib.Path) -> None:
    net = conv_network(arch)
    x = (torch.rand(4, 1, 8, 8, 16, generator=torch.Generator().manual_seed(2)) < 0.4).float()
    reference = net.run(x).numpy()
    path = export_network(net, tmp_path / "conv.net", {"dataset": "digits"})
    result = run_in_lava(path, x.numpy(), "fixed")
    assert reference.sum() > 30
    np.testing.assert_array_equal(result.spikes, reference)


def test_plain_netx_loads_the_conv_network_and_refuses_the_pool_one(tmp_path: pathlib.Path) -> None:
    from lava.lib.dl import netx

    strided = export_network(conv_network(STRIDED), tmp_path / "strided.net")
    plain = netx.hdf5.Network(net_config=str(strided), input_shape=(8, 8, 1))
    assert [type(layer).__name__ for layer in plain.layers] == ["Conv", "Conv", "Dense", "Dense"]
    pooled = export_network(conv_network(POOLED), tmp_path / "pooled.net")
    with pytest.raises(NotImplementedError, match="pool is not implemented"):
        netx.hdf5.Network(net_config=str(pooled), input_shape=(8, 8, 1))
    ours = load_network(pooled)  # the input shape comes from the file's config
    assert [type(layer).__name__ for layer in ours.layers] == ["Conv", "Conv", "Conv", "Dense", "Dense"]
    assert ours.layers[1].synapse.groups.init == 8 if hasattr(ours.layers[1].synapse.groups, "init") else True


def test_pool_layers_lava_cannot_compute_as_slayer_does_are_refused(tmp_path: pathlib.Path) -> None:
    path = export_network(conv_network(POOLED), tmp_path / "pooled.net")
    with h5py.File(path, "a") as f:
        del f["layer/1/stride"]
        f["layer/1/stride"] = np.array([1, 1])
    with pytest.raises(NetworkFileError, match=r"layer 1: pool layer cannot be built: stride \(1, 1\) differs "
                                               r"from the kernel \(2, 2\)"):
        load_network(path)
    with h5py.File(path, "a") as f:
        f.attrs["config"] = json.dumps({})
    with pytest.raises(NetworkFileError, match="layer 0 is a conv layer with no known input shape"):
        load_network(path)


@pytest.fixture(scope="module")
def trained_conv_run(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A pooled conv network trained through the CLI with SLTT for one epoch on part of digits."""
    from lava_fptt.cli import main

    run_dir = tmp_path_factory.mktemp("conv_run")
    assert main(["train", "--arch", POOLED, "--algo", "sltt", "--epochs", "1", "--train-limit", "128",
                 "--out", str(run_dir), "--no-progress", "--json"]) == 0
    return run_dir


@pytest.mark.slow
def test_cli_trains_exports_and_runs_a_conv_network_spike_for_spike(trained_conv_run: pathlib.Path,
                                                                    export_and_run) -> None:
    config = json.loads((trained_conv_run / "config.json").read_text())
    assert config["encoding"]["layout"] == "image" and config["network"]["input_shape"] == [1, 8, 8]
    result = export_and_run(trained_conv_run, 6)
    assert result["spike_match"] == 1.0 and result["identical_samples"] == 6
    assert result["accuracy"] == result["reference_accuracy"]
