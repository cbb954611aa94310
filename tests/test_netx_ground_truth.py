"""lava-dl's shipped trained networks, built through our loader, reproduce their recorded ground truth.

The files and recordings ship in lava-dl's wheel (``site-packages/tests/lava/lib/dl/netx``).
Each test feeds what lava-dl's own test feeds and compares what it compares
(``test_hdf5.py``: tinynet, ntidigits; ``test_hdf5_nx.py``: pilotnet_lif, a Loihi-only
test there, run here in Lava's bit-accurate CPU simulation), but builds the network with
:func:`netx_export.load_network`, whose builder walks the layers itself and makes
netx's blocks for CUBA/LOIHI layers (and ours for LTC layers).
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from lava_fptt.runtime import lava_session, run_steps
from netx_export import NetworkFileError, load_network

import lava.lib.dl.netx as _netx  # noqa: E402

SITE_PACKAGES = pathlib.Path(_netx.__file__).parents[4]  # .../site-packages/lava/lib/dl/netx/__init__.py
ROOT = SITE_PACKAGES / "tests/lava/lib/dl/netx"
DEADLINE = 1800.0
"""Seconds before a run counts as deadlocked: generous, ntidigits' 3000 steps take minutes on a busy machine."""
pytestmark = pytest.mark.skipif(not (ROOT / "tiny.net").is_file(), reason=f"lava-dl's test fixtures not found at {ROOT}")


def fixed_pt():
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag="fixed_pt")


def test_tinynet_output_spikes_match_ground_truth() -> None:
    from lava.proc import io

    steps_per_sample = 17
    net = load_network(ROOT / "tiny.net")
    assert [type(layer).__name__ for layer in net.layers] == ["Input", "Conv", "Conv"]
    num_steps = steps_per_sample + len(net)
    sink = io.sink.RingBuffer(shape=net.out_layer.out.shape, buffer=num_steps)
    net.out_layer.out.connect(sink.a_in)
    for i, layer in enumerate(net.layers):  # lava-dl's test resets u and v this way
        for var in (layer.neuron.u, layer.neuron.v):
            io.reset.Reset(interval=steps_per_sample, offset=i - 1).connect_var(var)
    net.in_layer.neuron.bias_mant.init = np.load(ROOT / "gts/tinynet/input_bias.npy")
    with lava_session(net):
        run_steps(net, num_steps, fixed_pt(), deadline_s=DEADLINE)
        output = sink.data.get()
    ground_truth = np.load(ROOT / "gts/tinynet/output.npy")[0].transpose([2, 1, 0, 3])[..., 1:]
    assert ground_truth.sum() == 92  # the comparison is between two non-silent outputs
    np.testing.assert_array_equal(output[..., 2:17], ground_truth)


def test_ntidigits_with_axonal_delays_matches_ground_truth_and_plain_netx() -> None:
    """lava-dl's check (last output step vs ground truth step 1 over 3000 steps), and
    every spike of the first 400 steps identical to plain netx's network."""
    from lava.lib.dl import netx
    from lava.proc import io

    folder = ROOT / "gts/ntidigits"
    inputs = np.load(folder / "input.npy")
    ground_truth = np.load(folder / "output.npy")

    def run(net, steps: int) -> np.ndarray:
        source = io.source.RingBuffer(data=inputs[:, :steps])
        sink = io.sink.RingBuffer(shape=net.out_layer.shape, buffer=steps)
        source.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        with lava_session(net):
            run_steps(net, steps, fixed_pt(), deadline_s=DEADLINE)
            return sink.data.get()

    output = run(load_network(folder / "ntidigits.net", num_layers=5), inputs.shape[1])
    assert output.shape == ground_truth.shape == (242, 3000) and output.sum() > 1000
    np.testing.assert_array_equal(output[:, -1], ground_truth[:, 1])
    plain = run(netx.hdf5.Network(net_config=str(folder / "ntidigits.net"), num_layers=5), 400)
    assert plain.sum() > 100
    np.testing.assert_array_equal(output[:, :400], plain)


def test_pilotnet_lif_currents_of_every_layer_match_ground_truth() -> None:
    """lava-dl checks one layer's current ``u`` after 15 steps (on Loihi); here every layer."""
    folder = ROOT / "gts/pilotnet_lif"
    steps = 15
    net = load_network(folder / "network.net", reset_interval=16)
    assert [type(layer).__name__ for layer in net.layers] == ["Input"] + ["Conv"] * 5 + ["Dense"] * 4
    net.in_layer.neuron.bias_mant.init = np.load(folder / "image.npy").astype(int)
    with lava_session(net):
        run_steps(net, steps, fixed_pt(), deadline_s=DEADLINE)
        currents = [layer.neuron.u.get() for layer in net.layers[1:]]
    names = [f"conv-{i}" for i in range(5)] + [f"fc-{i}" for i in range(4)]
    nonzero = 0
    for name, current in zip(names, currents):
        expected = np.load(folder / f"{name}-u.npy")[..., steps - 1]
        np.testing.assert_array_equal(current, expected, err_msg=name)
        nonzero += int(np.count_nonzero(expected))
    assert nonzero > 1000


def test_a_layer_type_netx_cannot_build_is_refused_with_its_index() -> None:
    with pytest.raises(NetworkFileError, match=r"layer 5 has type 'average'"):
        load_network(ROOT / "gts/ntidigits/ntidigits.net")
