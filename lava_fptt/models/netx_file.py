"""A network that starts from a netx file (``lava-fptt train --init NET.net``): fine-tuning.

A netx file of CUBA layers (one that ``lava-fptt nir import`` wrote from a graph trained
in Sinabs, snnTorch, Norse..., one exported here, or lava-dl's own) becomes slayer's own
blocks with the file's integer weights and each layer's threshold and decays
(:func:`netx_export.nir.trainable.slayer_network`: ``Conv``, ``Pool``, ``Flatten``,
``Dense``, ``Recurrent``, and ``Affine`` for a graded readout). They compute what Lava
computes from the file, spike for spike, and the online engine trains them with any
method (FPTT, SLTT, ...) through :func:`lava_fptt.online.wrap`, as any lava-dl network;
the blocks' own ``export_hdf5`` writes the result back.

Like a user's class file (:mod:`lava_fptt.models.user`), the run directory keeps a copy
of the file (:data:`INITIAL_FILE`) and the config its SHA-256, so resuming, exporting and
running rebuild the network from the copy. The neuron parameters (thresholds, decays)
are the file's and are not trained; the checkpoint holds the trained weights.
"""
from __future__ import annotations

import pathlib
from dataclasses import dataclass

import torch

from .user import file_sha256

INITIAL_FILE = "initial.net"
"""Name of the copy of the starting netx file in a run directory."""


@dataclass(frozen=True)
class NetworkFile:
    """The netx file a network starts from: its content's SHA-256."""

    sha256: str


def describe_netx(path: pathlib.Path) -> NetworkFile:
    """The :class:`NetworkFile` of ``path`` as it is now."""
    return NetworkFile(file_sha256(pathlib.Path(path)))


def build(path: pathlib.Path, spec: NetworkFile) -> torch.nn.Module:
    """The slayer blocks of the netx file ``path``, which must be the file ``spec`` names."""
    from netx_export.nir.trainable import slayer_network

    if file_sha256(path) != spec.sha256:
        raise ValueError(f"{path}: this is not the network file the run started from (its content changed); "
                         f"use the run directory's copy ({INITIAL_FILE})")
    return slayer_network(path)
