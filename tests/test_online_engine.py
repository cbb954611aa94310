"""The engine's chunked forward: chunks of any length reproduce the whole-sequence forward exactly."""
from __future__ import annotations

import pytest
import torch

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from lava_fptt.training.engine import SpikeRecord, chunks, trainable

torch.set_num_threads(1)


def network(sizes: tuple[int, ...], seed: int = 0) -> SpikingNetwork:
    torch.manual_seed(seed)
    model = SpikingNetwork(NetworkConfig(sizes=sizes))
    model.run(torch.zeros(1, sizes[0], 1))
    return model


def spikes(batch: int, channels: int, steps: int, rate: float = 0.3, seed: int = 1) -> torch.Tensor:
    return (torch.rand(batch, channels, steps, generator=torch.Generator().manual_seed(seed)) < rate).float()


def test_chunks_cover_the_sequence_in_order() -> None:
    assert list(chunks(7, 3)) == [(0, 3), (3, 6), (6, 7)]
    assert list(chunks(4, 1)) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    with pytest.raises(ValueError):
        list(chunks(4, 0))


@pytest.mark.parametrize("sizes", [(16, 24, 10), (16, 32, 24, 10)])
@pytest.mark.parametrize("chunk", [1, 3, 8, 40])
def test_chunked_forward_equals_whole_sequence_forward(sizes: tuple[int, ...], chunk: int) -> None:
    model = network(sizes)
    x = spikes(6, sizes[0], 40)
    whole = model.run(x)
    assert whole.sum() > 20  # the comparison is about real spikes, not silence
    model.reset_state()
    with torch.no_grad():
        parts = [model(x[..., start:stop]) for start, stop in chunks(40, chunk)]
    assert torch.equal(torch.cat(parts, dim=-1), whole)


def test_output_of_a_one_step_chunk_carries_gradient_to_every_layer() -> None:
    """The pipeline delay sits at the input, so step t's whole spatial path is in one call."""
    model = network((16, 32, 24, 10))
    x = spikes(8, 16, 12, rate=0.5)
    model.reset_state()
    for step in range(12):
        model(x[..., step: step + 1]).sum().backward()
        model.detach_state()
    for name, p in trainable(model).items():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_first_outputs_are_silent_for_the_pipeline_delay() -> None:
    """An L-layer network answers step t with the input of step t - L, as Lava's pipeline does."""
    model = network((16, 24, 10))
    out = model.run(spikes(4, 16, 10, rate=1.0))
    assert out[..., :2].sum() == 0


def test_spike_record_fills_a_sequence_without_graphs() -> None:
    record = SpikeRecord(5)
    record.add(torch.ones(2, 3, 2, requires_grad=True) * 1.0, 0)
    record.add(torch.zeros(2, 3, 3), 2)
    assert record.spikes.dtype == torch.bool and not record.spikes.requires_grad
    assert record.spikes.shape == (2, 3, 5)
    assert record.spikes[..., :2].sum() == 12 and record.spikes[..., 2:].sum() == 0


def test_spike_record_keeps_graded_values_exactly() -> None:
    record = SpikeRecord(3)
    record.add(torch.ones(1, 2, 1), 0)
    record.add(torch.full((1, 2, 2), 0.5), 1)
    assert record.spikes.dtype == torch.float32
    assert record.spikes.tolist() == [[[1.0, 0.5, 0.5], [1.0, 0.5, 0.5]]]
