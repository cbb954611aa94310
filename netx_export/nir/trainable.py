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

Convolutional files need slayer ``Conv`` / ``Pool`` blocks in the training engine, which
this project opens to any lava-dl network separately; they are refused here.
"""
from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
import torch

from lava_fptt.models.network import NetworkConfig, SpikingNetwork

from ..errors import NetworkFileError
from ..loader import dataset_text, describe
from .export import UNITS


def trainable_network(path: str | pathlib.Path) -> SpikingNetwork:
    """The CUBA dense network in the netx file ``path`` as a trainable :class:`SpikingNetwork`."""
    import h5py

    summary = describe(path)
    kinds = list(summary.layer_types)
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
            load_layer(layer.block, group)
    return network


def load_layer(block: Any, group: Any) -> None:
    """Weights and neuron parameters of one netx layer group into a slayer CUBA block."""
    def weight_of(synapse: Any, key: str) -> None:
        w = torch.as_tensor(np.asarray(group[key][()], dtype=np.float32) / UNITS)
        synapse.weight.data = w.reshape(synapse.weight.shape)

    if dataset_text(group["type"][()]) == "dense_rec":
        weight_of(block.input_synapse, "weight")
        weight_of(block.recurrent_synapse, "weight_rec")
    else:
        weight_of(block.synapse, "weight")
    neuron = block.neuron
    # slayer's threshold is a read-only property over ``_threshold`` (set once in its constructor,
    # with the surrogate width ``tau_rho = tau_grad * threshold``); both are set as it sets them.
    tau_grad = neuron.tau_rho / neuron._threshold
    neuron._threshold = float(np.asarray(group["neuron/vThMant"][()]).reshape(-1)[0]) / UNITS
    neuron.tau_rho = tau_grad * neuron._threshold
    neuron.current_decay.data.fill_(float(np.asarray(group["neuron/iDecay"][()]).reshape(-1)[0]))
    neuron.voltage_decay.data.fill_(float(np.asarray(group["neuron/vDecay"][()]).reshape(-1)[0]))
