"""One benchmark configuration in a fresh process: ``python -m lava_fptt.bench.worker ...`` prints one JSON row.

Order of events: imports, then the network, optimizer, method and one batch of random
input spikes (the data, the same for every method) are made; the peak is reset to the
current resident size (the baseline); one training pass runs; ``peak_mb`` is the peak
resident size during the pass minus the baseline, ``seconds`` its wall time and
``cpu_seconds`` the CPU time this process spent in it (on a shared machine the CPU time
is the steadier of the two: it does not count time spent waiting for a core).
"""
from __future__ import annotations

import argparse
import gc
import json
import time
from typing import Any, Callable

import torch

from . import memory, probe, spikingjelly


def network_config(network: str, sizes: tuple[int, ...]) -> Any:
    """The :class:`~lava_fptt.models.network.NetworkConfig` of a benchmark network."""
    from ..models.network import NetworkConfig

    if network == "conv":
        return NetworkConfig(sizes=(memory.CONV_INPUT[0], sizes[-1]), arch=memory.CONV_ARCH,
                             input_shape=memory.CONV_INPUT)
    return NetworkConfig(sizes=sizes)


def prepare(algo: str, sizes: tuple[int, ...], params: dict[str, Any],
            x: torch.Tensor, y: torch.Tensor, network: str = "dense",
            device: torch.device | str = "cpu") -> Callable[[], None]:
    """Build everything for ``algo`` on ``device`` (where ``x``, ``y`` are); return the training pass to measure."""
    if algo in spikingjelly.KINDS:
        net = spikingjelly.build(algo, sizes).to(device)
        adam = torch.optim.Adam(net.parameters(), lr=1e-3)
        return lambda: spikingjelly.train_pass(algo, net, adam, x, y)

    from ..models.network import SpikingNetwork
    from ..training import make_method
    from ..training.config import make_optimizer
    from ..training.engine import RateCrossEntropy

    config = network_config(network, sizes)
    model = SpikingNetwork(config)
    model.run(torch.zeros(1, *config.sample_shape, 1))  # slayer shapes its neurons on the first call
    model.to(device)
    optimizer = make_optimizer("adam", model.parameters(), lr=1e-3)  # as `lava-fptt train` makes it
    method = make_method(algo, **params)
    loss_fn = RateCrossEntropy(8.0, late_weighting=method.late_weighting)

    def train_pass() -> None:
        method.train_batch(model, x, y, loss_fn, optimizer)

    return train_pass


def measure(algo: str, steps: int, batch: int, sizes: tuple[int, ...], params: dict[str, Any],
            threads: int, seed: int = 0, network: str = "dense", device: str = "cpu") -> dict[str, Any]:
    """Peak memory growth (MB) and seconds of one training pass.

    On the CPU the peak is the process's resident size; on CUDA it is the GPU memory torch
    allocated (``torch.cuda.max_memory_allocated``), and the times wait for the GPU to finish.
    """
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    where = torch.device(device)
    cuda = where.type == "cuda"
    shape = network_config(network, sizes).sample_shape if algo not in spikingjelly.KINDS else (sizes[0],)
    x = (torch.rand(batch, *shape, steps) < 0.1).float().to(where)
    y = torch.randint(0, sizes[-1], (batch,)).to(where)
    train_pass = prepare(algo, sizes, params, x, y, network, where)
    gc.collect()
    if cuda:
        torch.cuda.synchronize(where)
        baseline = torch.cuda.memory_allocated(where) / 2**20
        torch.cuda.reset_peak_memory_stats(where)
    else:
        baseline = probe.rss_mb()
        exact = probe.reset_peak()
    start, start_cpu = time.perf_counter(), time.process_time()
    train_pass()
    if cuda:
        torch.cuda.synchronize(where)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    if cuda:
        peak, source = torch.cuda.max_memory_allocated(where) / 2**20 - baseline, "cuda_max_memory_allocated"
    else:
        peak, source = probe.peak_mb(exact) - baseline, "VmHWM" if exact else "ru_maxrss"
    return {"algo": algo, "network": network, "device": device, "steps": steps, "peak_mb": round(peak, 1),
            "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3), "baseline_mb": round(baseline, 1),
            "peak_source": source}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--algo", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 256, 10])
    parser.add_argument("--params", default="{}", help="method hyperparameters as JSON")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--network", choices=memory.NETWORKS, default="dense")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (resolved by the caller)")
    args = parser.parse_args()
    print(json.dumps(measure(args.algo, args.steps, args.batch, tuple(args.sizes), json.loads(args.params),
                             args.threads, network=args.network, device=args.device)))


if __name__ == "__main__":
    main()
