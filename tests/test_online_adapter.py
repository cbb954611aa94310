"""The online adapter on a network written as lava-dl's tutorials write one: exactness and refusals.

The network (``tutorials/digits_convnet.py``) is conv -> pool -> conv -> flatten -> dense of
``slayer.block.cuba`` blocks with ``delay_shift`` left at its default; the reference is always
the unwrapped network's own whole-sequence forward (and backward), from rest.
"""
from __future__ import annotations

import copy
import importlib.util
import pathlib

import h5py
import pytest
import torch

from lava_fptt.online import UnsupportedNetworkError, wrap
from lava_fptt.training import BPTT, SLTT, SLTTK, RateCrossEntropy

torch.set_num_threads(1)
PARAMS = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03, "requires_grad": False}
STEPS = 20


def _tutorial_network() -> type:
    """The network class of ``tutorials/digits_convnet.py`` (as lava-dl's tutorials write one)."""
    path = pathlib.Path(__file__).resolve().parents[1] / "tutorials" / "digits_convnet.py"
    spec = importlib.util.spec_from_file_location("digits_convnet_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Network


ConvNet = _tutorial_network()


def conv_net(seed: int = 0) -> ConvNet:
    torch.manual_seed(seed)
    return ConvNet()


def images(batch: int = 6, seed: int = 1, rate: float = 0.4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(batch, 1, 8, 8, STEPS, generator=g) < rate).float()
    return x, torch.randint(0, 10, (batch,), generator=g)


def trained_grads(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in net.parameters() if p.requires_grad]


@pytest.mark.parametrize("chunk", [1, 3, STEPS])
def test_chunks_equal_the_unwrapped_whole_sequence_forward_spike_for_spike(chunk: int) -> None:
    net = conv_net()
    x, _ = images()
    with torch.no_grad():
        whole = net(x)
    assert whole.sum() > 20  # real spikes, not silence
    model = wrap(net)
    assert model.delay == 4 and model.input_layout == "image" and model.spatial_chunks
    model.reset_state()
    with torch.no_grad():
        parts = torch.cat([model(x[..., t:t + chunk]) for t in range(0, STEPS, chunk)], dim=-1)
    assert torch.equal(parts, whole)


def test_bptt_through_the_engine_equals_the_unwrapped_forward_and_backward() -> None:
    x, y = images()
    loss_fn = RateCrossEntropy(8.0)
    plain = conv_net()
    expected = loss_fn(plain(x), y, 0, STEPS)
    expected.backward()
    net = conv_net()
    model = wrap(net)
    loss, spikes = BPTT().train_batch(model, x, y, loss_fn, torch.optim.SGD(model.parameters(), lr=0.0))
    assert loss == pytest.approx(expected.item(), rel=1e-6)
    got, want = trained_grads(net), trained_grads(plain)
    assert len(got) == 3 and all(g.abs().sum() > 0 for g in want)  # two conv and one dense weight
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("method", [SLTT(chunk=4), SLTT(chunk=STEPS, late_weighting=True), SLTTK(k=5, chunk=3)])
def test_sltt_chunked_gradient_equals_its_one_step_per_call_gradient(method: SLTT) -> None:
    x, y = images(batch=8)
    results = []
    for spatial in (False, True):  # False: SLTT's reference path, one plain call per step
        net = conv_net()
        model = wrap(net)
        model.spatial_chunks = spatial
        if isinstance(method, SLTTK):
            method.generator.manual_seed(0)
        loss, spikes = copy.deepcopy(method).train_batch(model, x, y, RateCrossEntropy(8.0),
                                                         torch.optim.SGD(model.parameters(), lr=0.0))
        results.append((loss, spikes, trained_grads(net)))
    (loss_ref, spikes_ref, grads_ref), (loss, spikes, grads) = results
    assert all(g.abs().sum() > 0 for g in grads_ref)  # every block's weight learns from every step's path
    assert loss == pytest.approx(loss_ref, rel=1e-6) and torch.equal(spikes, spikes_ref)
    for a, b in zip(grads, grads_ref):
        # float32 sums over the steps in another order (one product per chunk or per step):
        # equal up to a few roundings of the largest gradient entry
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6 * float(b.abs().max()))


def test_the_users_network_is_left_as_it_was_found() -> None:
    net = conv_net()
    x, _ = images()
    with torch.no_grad():
        before = net(x)
    conv = net.blocks[0]
    state = conv.neuron.current_state.clone()  # what slayer's own call left (zeros of its batch)
    model = wrap(net)
    model.reset_state()
    with torch.no_grad():
        model(x[..., :7])  # leaves carried state in the adapter, none in the network
    assert conv.delay_shift and not conv.neuron.persistent_state and "forward" not in conv.__dict__
    assert torch.equal(conv.neuron.current_state, state) and not state.any()
    with torch.no_grad():
        assert torch.equal(net(x), before)
    assert [name for name, _ in model.named_parameters()] == [f"net.{name}" for name, _ in net.named_parameters()]


def test_export_is_the_networks_own_and_refuses_a_network_without_one(tmp_path) -> None:
    net = conv_net()
    model = wrap(net)
    model.run(images()[0])
    model.export_hdf5(str(tmp_path / "a.net"))
    net.export_hdf5(str(tmp_path / "b.net"))
    with h5py.File(tmp_path / "a.net") as a, h5py.File(tmp_path / "b.net") as b:
        assert [a[f"layer/{i}/type"][0] for i in range(5)] == [b"conv", b"pool", b"conv", b"flatten", b"dense"]
        assert (a["layer/2/weight"][()] == b["layer/2/weight"][()]).all()
    bare = wrap(torch.nn.Sequential(*conv_net().blocks))
    with pytest.raises(UnsupportedNetworkError, match="has no export_hdf5"):
        bare.export_hdf5(str(tmp_path / "c.net"))


# ------------------------------------------------------------------------------------------- refusals

def _chain(*blocks: torch.nn.Module) -> torch.nn.Module:
    return torch.nn.Sequential(*blocks)


def _cuba() -> object:
    from lava.lib.dl import slayer

    return slayer.block.cuba


def test_a_learnable_axonal_delay_is_refused_naming_the_block() -> None:
    cuba = _cuba()
    net = _chain(cuba.Dense(PARAMS, 8, 8), cuba.Dense(PARAMS, 8, 4, delay=True))
    with pytest.raises(UnsupportedNetworkError, match=r"^block 1 \('1', slayer\.block\.cuba\.Dense\): has a "
                                                      r"learnable axonal delay \(delay=True\)"):
        wrap(net)


def test_other_neuron_families_are_refused_naming_the_block_and_what_is_supported() -> None:
    from lava.lib.dl import slayer

    sigma_delta = slayer.block.sigma_delta.Dense({"threshold": 0.1, "activation": torch.nn.functional.relu}, 8, 4)
    with pytest.raises(UnsupportedNetworkError, match=r"^block 1 \('1', slayer\.block\.sigma_delta\.Dense\): has a "
                                                      r"neuron of family 'sigma_delta'; .*cuba.*LTC"):
        wrap(_chain(_cuba().Dense(PARAMS, 8, 8), sigma_delta))


def test_unsupported_block_kinds_normalization_and_biased_inputs_are_refused() -> None:
    from lava.lib.dl import slayer

    cuba = _cuba()
    with pytest.raises(UnsupportedNetworkError, match=r"block 0 .*KWTA.*supported: cuba.Input"):
        wrap(_chain(cuba.KWTA(PARAMS, 8, 4, 1)))
    with pytest.raises(UnsupportedNetworkError, match=r"block 0 .*normalization"):
        wrap(_chain(cuba.Dense({**PARAMS, "norm": slayer.neuron.norm.MeanOnlyBatchNorm}, 8, 4)))
    with pytest.raises(UnsupportedNetworkError, match=r"block 0 .*Input.*bias"):
        wrap(_chain(cuba.Input(PARAMS, bias=0.5), cuba.Dense(PARAMS, 8, 4)))
    with pytest.raises(UnsupportedNetworkError, match=r"slayer neuron outside a block"):
        wrap(_chain(cuba.Dense(PARAMS, 8, 4), slayer.neuron.cuba.Neuron(**PARAMS)))
    with pytest.raises(UnsupportedNetworkError, match="holds no lava-dl blocks"):
        wrap(torch.nn.Linear(3, 3))


def test_ltc_blocks_mixed_with_delaying_cuba_blocks_are_refused() -> None:
    from lava_fptt.blocks.ltc import LTCReadout

    with pytest.raises(UnsupportedNetworkError, match=r"block 1 .*LTCReadout.*mixes .*delay_shift"):
        wrap(_chain(_cuba().Dense(PARAMS, 8, 8), LTCReadout(8, 4)))


def test_a_block_run_twice_per_call_is_refused_when_it_happens() -> None:
    class Twice(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = _cuba().Dense(PARAMS, 8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block(self.block(x))

    model = wrap(Twice())
    with pytest.raises(UnsupportedNetworkError, match=r"block 0 \('block', .*Dense\) ran 2 times in one call"):
        model(torch.zeros(1, 8, 3))
    assert "forward" not in model.net.block.__dict__  # left as found even so


def test_the_input_layout_is_read_from_the_first_block() -> None:
    cuba = _cuba()
    assert wrap(conv_net()).input_layout == "image"
    assert wrap(_chain(cuba.Dense(PARAMS, 8, 4))).input_layout == "flat"
    assert wrap(_chain(cuba.Input(PARAMS), cuba.Pool(PARAMS, 2))).input_layout == "image"
    assert wrap(_chain(cuba.Dense(PARAMS, (8, 8, 1), 4))).input_layout == "image"  # a dense synapse over an image


def test_a_tuple_output_and_a_changed_batch() -> None:
    class Counting(torch.nn.Module):  # returns (spikes, event rates), as lava-dl's tutorials with count_log do
        def __init__(self) -> None:
            super().__init__()
            self.block = _cuba().Dense(PARAMS, 8, 4)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = self.block(x)
            return x, x.mean().reshape(1)

    model = wrap(Counting())
    out = model(torch.ones(2, 8, 5))
    assert out.shape == (2, 4, 5)
    with pytest.raises(ValueError, match="batch size changed from 2 to 3 without reset_state"):
        model(torch.ones(3, 8, 1))
