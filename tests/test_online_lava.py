"""Networks trained by every method, exported through netx, run in Lava spike for spike."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.network import NetworkConfig
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import export_network
from netx_export.inference import run_in_lava, spike_match

PARAMS = {"bptt": {}, "tbptt": {"chunk": 8}, "sltt": {}, "sltt-k": {"k": 4}, "fptt": {"chunk": 2}}


@pytest.mark.slow
@pytest.mark.parametrize("algo", list(PARAMS))
def test_trained_network_runs_in_lava_spike_for_spike(algo: str, tmp_path: pathlib.Path) -> None:
    torch.set_num_threads(1)
    encoding = Encoding("rate", steps=16)
    config = TrainConfig(dataset="digits", encoding=encoding, network=NetworkConfig(sizes=(64, 48, 10)),
                         algo=algo, algo_params=PARAMS[algo], epochs=1, batch_size=32, train_limit=96)
    train(config, tmp_path / "run", progress=False)
    _, model, _ = load_run(tmp_path / "run")
    network = export_network(model, tmp_path / "network.net")

    data = load_dataset("digits", "test", encoding=encoding)
    inputs = data.spikes(np.arange(20))
    lava = run_in_lava(network, inputs, "fixed")
    reference = model.run(torch.from_numpy(inputs)).numpy()
    assert reference.sum() > 50  # a comparison of real activity
    assert spike_match(lava.spikes, reference) == 1.0
