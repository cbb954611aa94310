"""Loihi 2 resource report (lava_fptt.loihi) and its command ``lava-fptt resources``."""
from __future__ import annotations

import json
import pathlib

import h5py
import numpy as np
import pytest

from lava_fptt.cli import main
from lava_fptt.loihi import LOIHI2, CoreLimits, model_widths, neuron_bits
from netx_export.resources import resource_report
from lava_fptt.neurons.ltc import PARAM_WIDTHS
from lava_fptt.onchip.config import SsnnConfig
from lava_fptt.onchip.storage import save_network
from netx_export import NetworkFileError


def write_net(path: pathlib.Path, layers: list[dict]) -> pathlib.Path:
    """A minimal netx file: dense layers with a weight (and weight_rec) and a neuron (type; CUBA's parameters)."""
    with h5py.File(path, "w") as f:
        group = f.create_group("layer")
        for i, layer in enumerate(layers):
            g = group.create_group(str(i))
            g["type"] = np.array([layer.get("type", "dense").encode()], dtype="S10")
            g["weight"] = layer["weight"]
            if "weight_rec" in layer:
                g["weight_rec"] = layer["weight_rec"]
            g["neuron/type"] = np.array([layer["neuron"].encode()], dtype="S16")
            if layer["neuron"] == "CUBA":  # the parameters netx needs (and describe checks)
                g["neuron/iDecay"], g["neuron/vDecay"], g["neuron/vThMant"] = 1024, 128, 80
    return path


def test_counts_per_layer_and_totals(tmp_path: pathlib.Path) -> None:
    w0 = np.zeros((100, 64), dtype=np.int16)
    w0[:, :32] = 2
    net = write_net(tmp_path / "n.net", [
        {"weight": w0, "neuron": "CUBA"},
        {"type": "dense_rec", "weight": np.ones((20, 100)), "weight_rec": np.ones((20, 20)), "neuron": "LTC"},
        {"weight": np.ones((10, 20)), "neuron": "LTC_READOUT"},
    ])
    report = resource_report(net)
    first, rec, out = report.layers
    assert (first.neurons, first.fan_in, first.synapses, first.nonzero_synapses) == (100, 64, 6400, 3200)
    assert first.synaptic_memory_bytes == 6400 and first.neuron_memory_bytes == 100 * 61 // 8 + 1
    assert (rec.neurons, rec.fan_in, rec.synapses) == (20, 120, 20 * 120)
    assert neuron_bits("LTC") == 49 + sum(w.bits for w in PARAM_WIDTHS.values())
    assert (report.neurons, report.synapses, report.cores, report.chips) == (130, 6400 + 2400 + 200, 3, 1)
    assert all(layer.limited_by == "fits one core" for layer in report.layers)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["cores"] == 3 and data["limits"]["neurons_per_core"] == 8192 and len(data["layers"]) == 3
    assert report.table().count("\n") == 5  # header, rule, 3 layers, total


def test_cores_follow_the_binding_per_core_limit(tmp_path: pathlib.Path) -> None:
    many = write_net(tmp_path / "many.net", [{"weight": np.ones((20000, 1)), "neuron": "CUBA"}])
    layer = resource_report(many).layers[0]
    assert layer.cores == 3 and layer.limited_by == "neurons"  # 20,000 / 8,192
    wide = write_net(tmp_path / "wide.net", [{"weight": np.ones((256, 1024)), "neuron": "CUBA"}])
    layer = resource_report(wide).layers[0]
    assert layer.synaptic_memory_bytes == 256 * 1024 and layer.cores == 2 and layer.limited_by == "synaptic memory"
    tiny = CoreLimits("tiny", cores_per_chip=2, neurons_per_core=10, synaptic_memory_per_core=1 << 20,
                      memory_per_core=1 << 20, neurons_per_chip=20, synapses_per_chip=1 << 20)
    report = resource_report(many, tiny)
    assert report.cores == 2000 and report.chips == 1000


def test_ssnn_network_file(tmp_path: pathlib.Path) -> None:
    config = SsnnConfig(n_in=64, n_hidden=32, n_out=10)
    path = save_network(tmp_path / "network.npz", config, np.ones((32, 64), dtype=np.int64),
                        np.zeros((10, 32), dtype=np.int64))
    encoder, hidden, output = resource_report(path).layers
    assert (encoder.neurons, encoder.synapses) == (64, 0)
    assert (hidden.neurons, hidden.synapses, hidden.weight_bits) == (32, 64 * 32, 9)
    assert (output.neurons, output.synapses, output.nonzero_synapses) == (10, 2 * 320, 0)  # W2 and W2^T


def test_unreadable_files_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(NetworkFileError, match="network file not found"):
        resource_report(tmp_path / "missing.net")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an SSNN-BP network file"):
        resource_report(tmp_path / "bad.npz")


def test_model_widths_come_from_the_models_constants() -> None:
    widths = model_widths()
    assert set(widths) == {"CUBA (Lava LIF, fixed_pt)", "LTC", "LTC_READOUT", "SSNN-BP"}
    assert widths["LTC"]["beta"] == "16-bit unsigned" and widths["LTC"]["u, b, theta (states)"].startswith("24-bit")
    assert widths["SSNN-BP"]["weight W1, W2 (learning engine)"].startswith("9-bit signed")
    assert LOIHI2.cores_per_chip == 128 and LOIHI2.sources


def test_command_prints_one_json_object_and_refuses_bad_files(tmp_path: pathlib.Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    net = write_net(tmp_path / "n.net", [{"weight": np.ones((12, 8)), "neuron": "CUBA"}])
    assert main(["resources", str(net), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and json.loads(out[0])["neurons"] == 12
    assert main(["resources", str(net)]) == 0
    assert "| 0 | dense | CUBA | 12 |" in capsys.readouterr().out
    assert main(["resources", str(tmp_path / "missing.net")]) == 2
    assert "network file not found" in capsys.readouterr().err
