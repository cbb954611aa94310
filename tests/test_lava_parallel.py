"""``run_in_lava(parallel=K)``: K copies side by side give every sample the spikes it gets alone (fixed point)."""
from __future__ import annotations

import pathlib

import h5py
import numpy as np
import pytest
import torch

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from netx_export import NetworkFileError, describe, export_network
from netx_export.inference import run_in_lava
from netx_export.parallel import block_diagonal, widen

pytestmark = pytest.mark.slow  # Lava runs


def spikes(n: int, channels: int, steps: int, seed: int, p: float = 0.3) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, channels, steps)) < p).astype(np.float32)


def cuba(recurrent: bool) -> SpikingNetwork:
    torch.manual_seed(1)
    net = SpikingNetwork(NetworkConfig(sizes=(16, 24, 6), recurrent=recurrent))
    net.run(torch.zeros(1, 16, 1))  # slayer shapes its neurons on the first call
    return net


def ltc() -> SpikingNetwork:
    torch.manual_seed(3)
    net = SpikingNetwork(NetworkConfig(sizes=(16, 12, 5), model="ltc", recurrent=True))
    with torch.no_grad():
        for layer in net.layers:  # active layers, also between samples
            layer.weight.mul_(3.0)
            layer.bias.add_(0.3)
    return net


@pytest.mark.parametrize("kind", ["cuba", "cuba-recurrent", "ltc"])
def test_copies_side_by_side_give_each_sample_its_own_spikes(tmp_path: pathlib.Path, kind: str) -> None:
    net = ltc() if kind == "ltc" else cuba(kind == "cuba-recurrent")
    path = export_network(net, tmp_path / "net.net")
    x = spikes(7, 16, 14, seed=5)  # 7 samples: the last group of 3 is padded with silence
    alone = run_in_lava(path, x, "fixed", record_hidden=True)
    together = run_in_lava(path, x, "fixed", record_hidden=True, parallel=3)
    assert (alone.output != 0).sum() > 20  # not two silent outputs
    np.testing.assert_array_equal(together.output, alone.output)
    assert len(together.hidden) == len(alone.hidden) == 1
    np.testing.assert_array_equal(together.hidden[0], alone.hidden[0])
    assert together.graded == alone.graded == (kind == "ltc")
    assert together.samples_per_s > 0 and together.total_steps == alone.total_steps // 7 * 3


def test_widen_makes_block_diagonal_weights_and_repeats_per_neuron_values(tmp_path: pathlib.Path) -> None:
    path = export_network(ltc(), tmp_path / "ltc.net")
    wide = widen(path, 4, tmp_path / "wide.net")
    with h5py.File(path) as f, h5py.File(wide) as g:
        w, big = f["layer/0/weight"][()], g["layer/0/weight"][()]
        assert big.shape == (4 * w.shape[0], 4 * w.shape[1])
        np.testing.assert_array_equal(big, block_diagonal(w, 4))
        np.testing.assert_array_equal(big[w.shape[0]:2 * w.shape[0], :w.shape[1]], 0)  # copies never mix
        for name in f["layer/0/neuron"]:
            one, four = f[f"layer/0/neuron/{name}"][()], g[f"layer/0/neuron/{name}"][()]
            per_neuron = np.ndim(one) == 1 and len(one) == w.shape[0]  # registers; not the 'type' string
            np.testing.assert_array_equal(four, np.concatenate([one] * 4) if per_neuron else one)
        assert g["layer/0/neuron/type"][()][0] == b"LTC"
        assert g.attrs["config"] == f.attrs["config"]
    summary = describe(wide)
    assert (summary.num_inputs, summary.num_outputs) == (64, 20)


def test_networks_with_spatial_layers_are_refused_naming_the_layer(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(0)
    net = SpikingNetwork(NetworkConfig(sizes=(1, 4), arch="conv:4:3,dense:8", input_shape=(1, 6, 6)))
    net.run(torch.zeros(1, 1, 6, 6, 1))
    path = export_network(net, tmp_path / "conv.net")
    with pytest.raises(NetworkFileError, match=r"layer 0 is a 'conv' layer; parallel copies"):
        run_in_lava(path, np.zeros((2, 1, 6, 6, 4), dtype=np.float32), parallel=2)
    with pytest.raises(ValueError, match="parallel must be >= 1"):
        run_in_lava(path, np.zeros((2, 1, 6, 6, 4), dtype=np.float32), parallel=0)


@pytest.mark.parametrize("kind, precision", [("cuba-recurrent", "fixed"), ("ltc", "fixed"), ("ltc", "float")])
def test_sparse_synapses_sum_binary_spikes_by_product_with_the_dense_synapses_results(
        tmp_path: pathlib.Path, kind: str, precision: str) -> None:
    """``sparse``: Lava Sparse synapses set to the product path (sparse_by_product) give Dense's outputs."""
    from lava.proc.sparse.process import Sparse

    from netx_export.builder import load_network

    path = export_network(ltc() if kind == "ltc" else cuba(recurrent=True), tmp_path / "net.net")
    built = load_network(path, reset_interval=16, precision=precision, sparse=True)
    synapses = [s for layer in built.layers for s in (layer.synapse, getattr(layer, "synapse_rec", None))
                if isinstance(s, Sparse)]
    assert len(synapses) >= 3 and all(int(s.num_message_bits.init) >= 1 for s in synapses)
    x = spikes(4, 16, 14, seed=9)
    dense = run_in_lava(path, x, precision, record_hidden=True)
    sparse = run_in_lava(path, x, precision, record_hidden=True, sparse=True)
    assert (dense.output != 0).sum() > 10
    np.testing.assert_array_equal(sparse.output, dense.output)
    np.testing.assert_array_equal(sparse.hidden[0], dense.hidden[0])
