"""Run under ``torchrun --nproc_per_node 2``: each method on DDP, checked against the other rank and one process.

Not a test module itself (pytest does not collect it); ``test_online_ddp.py`` launches it.
Every rank trains the same network on its own half of each batch. After every batch the
ranks compare their parameters and gradients (all-gather), and rank 0 compares them with
one plain process trained on the whole batches. A communication hook counts DDP's
gradient all-reduces. Rank 0 writes the differences and counts as JSON.
"""

import argparse
import copy
import json

import torch
import torch.distributed as dist
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from lava_fptt.training import distributed, make_method
from lava_fptt.training.engine import RateCrossEntropy, trainable

METHODS = {"bptt": {}, "tbptt": {"chunk": 4}, "sltt": {"chunk": 1}, "sltt-chunk": {"chunk": 3}, "sltt-k": {"k": 3},
           "sltt-k-chunk": {"k": 3, "chunk": 3}, "fptt": {}, "fptt-chunk": {"chunk": 3}}
SIZES, STEPS, HALF, BATCHES = (16, 32, 10), 10, 6, 2


def flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def spread_over_ranks(vector: torch.Tensor) -> float:
    """Largest difference between this vector on any two ranks."""
    gathered = [torch.empty_like(vector) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, vector)
    return max(float((g - gathered[0]).abs().max()) for g in gathered)


def check(name: str, params: dict, rank: int, world: int) -> dict[str, float]:
    algo = name.split("-chunk")[0]
    torch.manual_seed(0)
    single = SpikingNetwork(NetworkConfig(sizes=SIZES))
    single.run(torch.zeros(1, SIZES[0], 1))
    model = distributed.wrap(copy.deepcopy(single))
    initial = flat([p.detach().clone() for p in trainable(single).values()])
    method, reference = make_method(algo, **params), make_method(algo, **params)
    loss_fn = RateCrossEntropy(8.0, late_weighting=method.late_weighting)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    single_optimizer = torch.optim.Adam(single.parameters(), lr=1e-2)
    reductions = []

    def counting_allreduce(state: object, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
        reductions.append(bucket.index())
        return allreduce_hook(state, bucket)

    model.register_comm_hook(None, counting_allreduce)
    result = {"params_spread": 0.0, "grads_spread": 0.0, "params_vs_single": 0.0, "grads_vs_single": 0.0}
    for number in range(BATCHES):
        g = torch.Generator().manual_seed(100 + number)
        x = (torch.rand(HALF * world, SIZES[0], STEPS, generator=g) < 0.5).float()
        y = torch.randint(0, SIZES[-1], (HALF * world,), generator=g)
        mine = slice(rank * HALF, (rank + 1) * HALF)
        method.train_batch(model, x[mine], y[mine], loss_fn, optimizer)
        reference.train_batch(single, x, y, loss_fn, single_optimizer)
        weights = flat([p.detach() for p in trainable(model).values()])
        grads = flat([p.grad for p in trainable(model).values()])
        result["params_spread"] = max(result["params_spread"], spread_over_ranks(weights))
        result["grads_spread"] = max(result["grads_spread"], spread_over_ranks(grads))
        result["params_vs_single"] = max(result["params_vs_single"], float(
            (weights - flat([p.detach() for p in trainable(single).values()])).abs().max()))
        result["grads_vs_single"] = max(result["grads_vs_single"], float(
            (grads - flat([p.grad for p in trainable(single).values()])).abs().max()))
    result["moved"] = float((weights - initial).abs().max())
    result["allreduces_per_batch"] = len(reductions) / BATCHES
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = distributed.rank_and_world()
    results = {name: check(name, params, rank, world) for name, params in METHODS.items()}
    if rank == 0:
        with open(args.out, "w") as f:
            json.dump({"world": world, "methods": results}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
