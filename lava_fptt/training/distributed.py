"""Data-parallel training across processes (``torchrun``), with gloo on CPU.

Launch: ``torchrun --nproc_per_node N -m lava_fptt.cli train --ddp ...``. Every process
builds the same model, wraps it in ``DistributedDataParallel`` and trains on its own
share of each epoch's batches; DDP averages gradients at every synchronised backward,
so parameters stay equal on all ranks. Only rank 0 writes the run directory.

Two details matter for our models: the neurons keep their state in registered buffers,
so DDP must not copy rank 0's buffers to the others before each forward (each rank's
state belongs to its own samples; the one copy at wrap time is harmless, every batch
starts from rest); and every rank must run the same number of batches (a
rank with one batch more would wait forever in its all-reduce), so each epoch keeps
``len(batches) // world`` batches per rank and skips the rest.
"""
from __future__ import annotations

import inspect
import os
from typing import Any

import torch
import torch.distributed as dist


def launched_by_torchrun() -> bool:
    """Whether this process was started by torchrun (or another launcher setting WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init() -> tuple[int, int]:
    """Join the process group torchrun set up (gloo); return (rank, world size)."""
    if not launched_by_torchrun():
        raise ValueError("--ddp needs a torchrun launch, e.g. torchrun --nproc_per_node 2 -m lava_fptt.cli train --ddp ...")
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size()


def rank_and_world() -> tuple[int, int]:
    """(rank, world size); (0, 1) outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` in DDP when a process group of more than one rank is running; else as is."""
    if rank_and_world()[1] == 1:
        return model
    ddp = torch.nn.parallel.DistributedDataParallel
    # torch >= 2.13 names the per-forward buffer sync forward_sync_buffers; older torch broadcast_buffers
    option = "forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(ddp).parameters else "broadcast_buffers"
    options: dict[str, Any] = {option: False}
    return ddp(model, **options)


def sum_over_ranks(values: list[float]) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (the values themselves without a group)."""
    if rank_and_world()[1] == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor)
    return tensor.tolist()


def from_rank0(value: Any) -> Any:
    """Rank 0's ``value`` on every rank."""
    if rank_and_world()[1] == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    if rank_and_world()[1] > 1:
        dist.barrier()
