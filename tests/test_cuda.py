"""On a CUDA GPU: every method, the LTC blocks and the SSNN-BP reference, against the CPU.

Skipped where torch sees no CUDA GPU (this project's CI and development machines have
none); ``tools/gpu_check.sh`` runs them on a machine that has one.
"""
from __future__ import annotations

import copy
import os
import pathlib

import numpy as np
import pytest
import torch

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from lava_fptt.neurons.ssnn import quantize_probability
from lava_fptt.onchip.config import SsnnConfig, initial_weights
from lava_fptt.onchip.reference import ReferenceNetwork, make_streams
from lava_fptt.training import make_method
from lava_fptt.training.engine import RateCrossEntropy, sequence_loss

CUDA = torch.device(os.environ.get("LAVA_FPTT_TEST_DEVICE", "cuda"))
"""The device under test; LAVA_FPTT_TEST_DEVICE=cpu runs the same checks on the CPU (a dry run of the tests)."""
pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(CUDA.type == "cuda" and not torch.cuda.is_available(),
                                 reason="needs a CUDA GPU; torch sees none here")]


def batch(channels: int = 16, steps: int = 24, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (torch.rand(size, channels, steps, generator=g) < 0.3).float(), torch.randint(0, 4, (size,), generator=g)


def network(model: str = "cuba") -> SpikingNetwork:
    torch.manual_seed(0)
    net = SpikingNetwork(NetworkConfig(sizes=(16, 32, 4), model=model))
    net.run(torch.zeros(1, 16, 1))
    return net


def test_cuba_forward_on_cuda_gives_the_cpu_spikes():
    """slayer's CUDA kernels against its CPU arithmetic (ours compiled): the same integers, the same spikes."""
    x, _ = batch()
    net = network()
    on_cpu = net.run(x)
    on_gpu = copy.deepcopy(net).to(CUDA).run(x.to(CUDA)).cpu()
    assert on_cpu.sum() > 0
    assert torch.equal(on_gpu, on_cpu)


@pytest.mark.parametrize("algo", ["bptt", "tbptt", "sltt", "sltt-k", "fptt"])
@pytest.mark.parametrize("model", ["cuba", "ltc"])
def test_every_method_trains_on_cuda(algo: str, model: str):
    x, y = (t.to(CUDA) for t in batch())
    net = network(model).to(CUDA)
    method = make_method(algo, **({"k": 6} if algo == "sltt-k" else {}))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    loss_fn = sequence_loss(net.output_kind, late_weighting=method.late_weighting)
    losses = [method.train_batch(net, x, y, loss_fn, optimizer)[0] for _ in range(12)]
    assert all(p.device.type == CUDA.type for p in net.parameters())
    assert min(losses[-3:]) < 0.9 * losses[0]


def test_ltc_blocks_on_cuda_compute_the_cpu_integers():
    """The LTC blocks' quantization-aware forward is integer arithmetic in float64: exact on any device."""
    x, _ = batch()
    net = network("ltc")
    want = net.run(x)
    got = copy.deepcopy(net).to(CUDA).run(x.to(CUDA)).cpu()
    assert torch.equal(got, want)


def test_ssnn_reference_on_cuda_ends_with_the_cpu_weights():
    rng = np.random.default_rng(1)
    x, y = rng.random((40, 64)) * (rng.random((40, 64)) < 0.3), rng.integers(0, 10, 40)
    config = SsnnConfig(n_in=64, n_hidden=32, n_out=10, steps_per_sample=8, error_prob=1 << 14)
    w1, w2 = initial_weights(config)
    weights, orders = [], np.stack([np.arange(40), rng.permutation(40)])  # two copies
    for device in ("cpu", CUDA):
        streams = make_streams(quantize_probability(x), y, orders, device)
        net = ReferenceNetwork(config, w1, w2, streams)
        net.run(40 * 8)
        weights.append(net.weights())
    assert not np.array_equal(weights[0][0], w1)
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_training_on_cuda_writes_a_run_the_cpu_loads(tmp_path: pathlib.Path):
    from lava_fptt.data import Encoding
    from lava_fptt.training import TrainConfig, load_run, train

    config = TrainConfig(encoding=Encoding("rate", steps=8), network=NetworkConfig(sizes=(64, 24, 10)),
                         algo="fptt", epochs=1, train_limit=64)
    result = train(config, tmp_path / "run", progress=False, device=CUDA)
    _, model, _ = load_run(tmp_path / "run")
    assert result["epochs"] == 1 and all(p.device.type == "cpu" for p in model.parameters())


def test_rate_loss_runs_where_its_inputs_are():
    out = torch.rand(4, 3, 5, device=CUDA)
    assert RateCrossEntropy(8.0)(out, torch.tensor([0, 1, 2, 0], device=CUDA), 0, 5).device.type == CUDA.type
