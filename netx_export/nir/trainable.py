"""An imported network as a trainable lava-dl (slayer) network, to fine-tune here before export.

:func:`trainable_network` reads a netx file of CUBA ``dense`` layers (hidden layers all
``dense_rec`` or all ``dense``, no bias), such as :func:`netx_export.nir.import_nir`
writes for feed-forward and recurrent graphs, into a
:class:`~lava_fptt.models.network.SpikingNetwork` of slayer CUBA blocks: the file's
integer weights become slayer weights (integer / 64, which slayer's 8-bit quantization
keeps exactly), and every layer's neuron gets its own threshold (``vThMant / 64``) and
decays (``iDecay``, ``vDecay``). The network then computes what Lava computes, spike for
spike, and trains with any method of :mod:`lava_fptt.training` (``make_method('fptt')``,
``'sltt'``, ...) through ``method.train_batch``; :func:`netx_export.export_network`
writes it back. The per-layer neuron parameters live in the blocks, not in the network's
config, so keep the module itself (``torch.save``) rather than a run directory.

Any imported file, convolutional ones included, becomes a plain lava-dl network with
:func:`slayer_network`: slayer's own ``Conv``, ``Pool``, ``Flatten``, ``Dense`` and
``Recurrent`` CUBA blocks (``delay_shift`` on, as lava-dl's tutorials build them) chained
in a :class:`~lava_fptt.models.chain.BlockChain`, computing what Lava computes spike for
spike. ``lava_fptt.online.wrap`` makes it a model FPTT and SLTT train; the blocks' own
``export_hdf5`` writes it back. :func:`fine_tune` does both for arrays in memory;
``lava-fptt train --init NET.net`` (:mod:`lava_fptt.models.netx_file`) for a data set.
:func:`trainable_network` refuses convolutional files.
"""
from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import torch

from lava_fptt.models.chain import BlockChain
from lava_fptt.models.network import NetworkConfig, SpikingNetwork

from ..errors import NetworkFileError
from lava_fptt.blocks.netx_format import dataset_text
from ..loader import describe
from ..readout import is_readout
from .export import UNITS


def trainable_network(path: str | pathlib.Path) -> SpikingNetwork:
    """The CUBA dense network in the netx file ``path`` as a trainable :class:`SpikingNetwork`."""
    import h5py

    summary = describe(path)
    kinds = list(summary.layer_types)
    if summary.cuba_readout:
        raise NetworkFileError(f"{summary.path}: ends in a graded readout, which SpikingNetwork's dense stacks do "
                               "not have; slayer_network builds it (as slayer's cuba.Affine)")
    if any(k not in ("dense", "dense_rec") for k in kinds) or any(n != "CUBA" for n in summary.neuron_types):
        raise NetworkFileError(f"{summary.path}: only networks of CUBA dense layers become trainable here "
                               f"(layers {kinds}, neurons {list(summary.neuron_types)})")
    hidden = set(kinds[:-1])
    if kinds[-1] != "dense" or len(hidden) > 1:
        raise NetworkFileError(f"{summary.path}: hidden layers must be all dense or all dense_rec and the output "
                               f"layer dense, found {kinds}")
    with h5py.File(path, "r") as f:
        groups = [f["layer"][str(i)] for i in range(len(kinds))]
        if any("bias" in g for g in groups):
            raise NetworkFileError(f"{summary.path}: layers with a bias have no slayer CUBA dense equivalent here")
        sizes = (int(groups[0]["weight"].shape[1]), *(int(g["weight"].shape[0]) for g in groups))
        network = SpikingNetwork(NetworkConfig(sizes=sizes, recurrent=hidden == {"dense_rec"}))
        network.run(torch.zeros(1, sizes[0], 1))  # slayer shapes its neurons on the first call
        for layer, group in zip(network.layers, groups):
            load_layer(layer, group)
    return network


def load_layer(block: Any, group: Any) -> None:
    """Weights and neuron parameters of one netx layer group into a slayer CUBA block."""
    def weight_of(synapse: Any, key: str) -> None:
        """The file's integers / 64 (slayer's 8-bit quantization keeps them), broadcast to the
        synapse's weight shape (a pool layer's one kernel serves every channel)."""
        w = torch.as_tensor(np.asarray(group[key][()], dtype=np.float32) / UNITS)
        synapse.weight.data = w.reshape(*w.shape, *([1] * (synapse.weight.dim() - w.dim()))).expand_as(
            synapse.weight).clone()

    if dataset_text(group["type"][()]) == "dense_rec":
        weight_of(block.input_synapse, "weight")
        weight_of(block.recurrent_synapse, "weight_rec")
    else:
        weight_of(block.synapse, "weight")
    neuron = block.neuron
    if not is_readout(group):  # a graded readout (slayer's Affine) keeps the threshold -1 that turns spikes off
        # slayer's threshold is a read-only property over ``_threshold`` (set once in its constructor,
        # with the surrogate width ``tau_rho = tau_grad * threshold``); both are set as it sets them.
        tau_grad = neuron.tau_rho / neuron._threshold
        neuron._threshold = float(np.asarray(group["neuron/vThMant"][()]).reshape(-1)[0]) / UNITS
        neuron.tau_rho = tau_grad * neuron._threshold
    neuron.current_decay.data.fill_(float(np.asarray(group["neuron/iDecay"][()]).reshape(-1)[0]))
    neuron.voltage_decay.data.fill_(float(np.asarray(group["neuron/vDecay"][()]).reshape(-1)[0]))


def slayer_network(path: str | pathlib.Path) -> BlockChain:
    """The CUBA network in the netx file ``path`` as slayer blocks (see the module docstring).

    A last layer that never spikes (a graded readout, :mod:`netx_export.readout`)
    becomes slayer's ``cuba.Affine``, whose output is its neurons' voltage, and the
    chain's ``output_kind`` is then ``"readout"`` (class: largest value at the last
    step). Layers with a bias are refused (slayer's CUBA blocks add none), as are
    non-CUBA neurons.
    """
    import h5py
    from lava.lib.dl import slayer

    summary = describe(path)
    blocks: list[torch.nn.Module] = []
    with h5py.File(path, "r") as f:
        for index in range(summary.num_layers):
            group = f["layer"][str(index)]
            kind = dataset_text(group["type"][()])
            where = f"{summary.path}: layer {index}"
            if kind == "input":
                continue
            if kind == "flatten":
                blocks.append(slayer.block.cuba.Flatten())
                continue
            if summary.neuron_types[index] != "CUBA" or "bias" in group:
                raise NetworkFileError(f"{where}: only CUBA layers without bias become slayer blocks here")
            params = {"threshold": integer(group, "neuron/vThMant") / UNITS,
                      "current_decay": integer(group, "neuron/iDecay") / 4096,
                      "voltage_decay": integer(group, "neuron/vDecay") / 4096}
            shape = np.asarray(group["weight"].shape)
            if is_readout(group):
                block = slayer.block.cuba.Affine(params, int(shape[1]), int(shape[0]))
            elif kind == "dense":
                block = slayer.block.cuba.Dense(params, int(shape[1]), int(shape[0]))
            elif kind == "dense_rec":
                block = slayer.block.cuba.Recurrent(params, int(shape[1]), int(shape[0]))
            elif kind == "conv":
                block = slayer.block.cuba.Conv(params, int(shape[1]), int(shape[0]), tuple(int(k) for k in shape[2:]),
                                               stride=pair_of(group, "stride"), padding=pair_of(group, "padding"),
                                               dilation=pair_of(group, "dilation"), groups=integer(group, "groups"))
            elif kind == "pool":
                block = slayer.block.cuba.Pool(params, tuple(int(k) for k in shape[2:]), stride=pair_of(group, "stride"),
                                               padding=pair_of(group, "padding"))
            else:
                raise NetworkFileError(f"{where}: a {kind!r} layer has no slayer block here")
            load_layer(block, group)
            blocks.append(block)
    return BlockChain(blocks, output_kind="readout" if summary.cuba_readout else "spikes")


def fine_tune(path: str | pathlib.Path, inputs: np.ndarray, labels: np.ndarray, algo: str = "sltt", epochs: int = 1,
              lr: float = 1e-3, batch_size: int = 32, loss_gain: float = 8.0, seed: int = 0, progress: bool = False,
              **options: Any) -> tuple[Any, list[float]]:
    """The network of the netx file ``path`` trained online on ``inputs`` [N, ..., T] and ``labels`` [N].

    The file becomes slayer blocks (:func:`slayer_network`) wrapped for the online engine
    (:func:`lava_fptt.online.wrap`); ``algo`` (``'sltt'``, ``'fptt'``, ``'sltt-k'``,
    ``'tbptt'``, ``'bptt'``, with ``options`` as :func:`lava_fptt.training.make_method`
    takes them) trains it with Adam for ``epochs`` passes over shuffled batches, with the
    loss of the network's output kind (spike rates, or a graded readout's last step).
    For arrays in memory (e.g. event streams); ``lava-fptt train --init NET.net`` does the
    same with a data set, in a resumable run directory. Returns the trained network
    (export it with :func:`netx_export.export_network`) and the mean loss of every epoch.
    """
    from tqdm.auto import tqdm

    from lava_fptt.online import wrap
    from lava_fptt.training import make_method, sequence_loss

    if len(inputs) != len(labels) or len(inputs) == 0:
        raise ValueError(f"fine_tune needs as many labels as inputs (at least one), got {len(inputs)} inputs "
                         f"and {len(labels)} labels")
    torch.manual_seed(seed)
    model = wrap(slayer_network(path))
    method = make_method(algo, **options)
    loss_fn = sequence_loss(model.output_kind, loss_gain, late_weighting=method.late_weighting)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = torch.as_tensor(inputs, dtype=torch.float32), torch.as_tensor(labels, dtype=torch.long)
    order = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        batches = torch.randperm(len(x), generator=order).split(batch_size)
        total = 0.0
        for batch in tqdm(batches, desc=f"fine-tune epoch {epoch + 1}/{epochs} [{algo}]", disable=not progress,
                          leave=False):
            loss, _ = method.train_batch(model, x[batch], y[batch], loss_fn, optimizer)
            total += loss * len(batch)
        losses.append(total / len(x))
    model.reset_state()
    return model, losses


def integer(group: Any, key: str) -> int:
    """A scalar integer dataset (slayer writes some as one-element arrays)."""
    return int(np.asarray(group[key][()]).reshape(-1)[0])


def pair_of(group: Any, key: str) -> tuple[int, int]:
    """An (H, W) pair from a netx group."""
    height, width = (int(v) for v in np.broadcast_to(np.asarray(group[key][()]).reshape(-1), (2,)))
    return height, width
