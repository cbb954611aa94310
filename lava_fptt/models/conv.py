"""Convolutional CUBA networks from a short layer syntax (``lava-fptt train --arch``).

An architecture is a comma-separated list of layers, input first; the output layer (a
dense layer with one neuron per class) is appended to it:

- ``conv:F:K[:S[:P]]``: ``slayer.block.cuba.Conv`` with F output channels, a K x K kernel,
  stride S (default 1) and zero padding P (default K // 2, which keeps the size at stride 1);
- ``pool:K``: ``slayer.block.cuba.Pool``, sum pooling over K x K windows with stride K,
  weight 1 per input spike (the input size must divide by K);
- ``flatten``: ``slayer.block.cuba.Flatten``; inserted by itself before a dense layer
  (or the output layer) that follows a conv or pool layer;
- ``dense:N``: ``slayer.block.cuba.Dense`` with N neurons.

For example ``conv:8:3,conv:16:3:2,dense:64`` on 1 x 8 x 8 images with 10 classes builds
conv (8 x 8 x 8), strided conv (16 x 4 x 4), flatten, dense 64, dense 10. Every block
keeps slayer's default ``delay_shift``; the network is a
:class:`~lava_fptt.models.chain.BlockChain` trained through :func:`lava_fptt.online.wrap`
and exported by its blocks' own ``export_hdf5``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .chain import BlockChain
from .cuba import CubaParams

POOL_WEIGHT = 1.0
"""Weight of every pooling synapse (slayer's ``weight_scale`` of ``Pool``): one input spike adds 1."""


@dataclass(frozen=True)
class LayerSpec:
    """One layer of an architecture: ``kind`` and its integers (see the module docstring)."""

    kind: str
    features: int = 0
    kernel: int = 0
    stride: int = 1
    padding: int = 0

    def __str__(self) -> str:
        if self.kind == "conv":
            return f"conv:{self.features}:{self.kernel}:{self.stride}:{self.padding}"
        if self.kind == "pool":
            return f"pool:{self.kernel}"
        return "flatten" if self.kind == "flatten" else f"dense:{self.features}"


def _layer(text: str) -> LayerSpec:
    kind, *fields = text.strip().split(":")
    usage = {"conv": "conv:F:K[:S[:P]]", "pool": "pool:K", "flatten": "flatten", "dense": "dense:N"}
    if kind not in usage:
        raise ValueError(f"architecture layer {text.strip()!r}: unknown kind {kind!r}; "
                         f"layers are {', '.join(usage.values())}")
    try:
        numbers = [int(v) for v in fields]
    except ValueError:
        raise ValueError(f"architecture layer {text.strip()!r}: fields must be integers ({usage[kind]})") from None
    counts = {"conv": (2, 4), "pool": (1, 1), "flatten": (0, 0), "dense": (1, 1)}[kind]
    if not counts[0] <= len(numbers) <= counts[1] or any(n < 0 for n in numbers) or \
            any(n < 1 for n in numbers[:3 if kind == "conv" else 1]):
        raise ValueError(f"architecture layer {text.strip()!r}: expected {usage[kind]} with positive sizes")
    if kind == "conv":
        features, kernel, *rest = numbers
        stride = rest[0] if rest else 1
        padding = rest[1] if len(rest) > 1 else kernel // 2
        return LayerSpec("conv", features, kernel, stride, padding)
    if kind == "pool":
        return LayerSpec("pool", kernel=numbers[0], stride=numbers[0])
    return LayerSpec(kind, features=numbers[0] if numbers else 0)


def parse_arch(text: str) -> tuple[LayerSpec, ...]:
    """The layers of an architecture string; raises ``ValueError`` naming the bad layer."""
    layers: list[LayerSpec] = []
    flat = False
    for part in text.split(","):
        if not part.strip():
            raise ValueError(f"architecture {text!r}: empty layer (two commas, or a comma at an end)")
        layer = _layer(part)
        if layer.kind in ("conv", "pool", "flatten") and flat:
            raise ValueError(f"architecture {text!r}: {layer} comes after the network was flattened")
        flat = flat or layer.kind in ("flatten", "dense")
        layers.append(layer)
    return tuple(layers)


def arch_layout(text: str) -> str:
    """``"image"`` when the architecture starts with a conv, pool or flatten layer, else ``"flat"``."""
    return "image" if parse_arch(text)[0].kind in ("conv", "pool", "flatten") else "flat"


def conv_network(arch: str, input_shape: tuple[int, ...], num_classes: int, params: CubaParams,
                 weight_scale: float = 2.0) -> BlockChain:
    """The slayer CUBA network of ``arch`` for inputs ``input_shape`` (C, H, W), ending in ``num_classes`` neurons.

    Raises ``ValueError`` when a layer does not fit the size it receives (a kernel larger
    than the image, a pool that does not divide it).
    """
    from lava.lib.dl import slayer

    cuba = slayer.block.cuba
    neuron = params.to_slayer
    if arch_layout(arch) == "image" and len(input_shape) != 3:
        raise ValueError(f"architecture {arch!r} starts with an image layer; the input shape must be (C, H, W), "
                         f"got {tuple(input_shape)}")
    shape: Any = tuple(input_shape)
    blocks = []
    for layer in parse_arch(arch):
        where = f"architecture {arch!r}, layer {layer}"
        if layer.kind == "conv":
            channels, height, width = shape
            size = [(n + 2 * layer.padding - layer.kernel) // layer.stride + 1 for n in (height, width)]
            if min(size) < 1:
                raise ValueError(f"{where}: kernel {layer.kernel} does not fit the {height} x {width} input")
            blocks.append(cuba.Conv(neuron(), channels, layer.features, layer.kernel, stride=layer.stride,
                                    padding=layer.padding, weight_scale=weight_scale))
            shape = (layer.features, *size)
        elif layer.kind == "pool":
            channels, height, width = shape
            if height % layer.kernel or width % layer.kernel:
                raise ValueError(f"{where}: the {height} x {width} input does not divide by {layer.kernel}")
            blocks.append(cuba.Pool(neuron(), layer.kernel, weight_scale=POOL_WEIGHT))
            shape = (channels, height // layer.kernel, width // layer.kernel)
        elif layer.kind == "flatten":
            blocks.append(cuba.Flatten())
            shape = (int(shape[0] * shape[1] * shape[2]),)
        else:
            if len(shape) == 3:  # a dense layer after conv or pool: flatten first
                blocks.append(cuba.Flatten())
                shape = (int(shape[0] * shape[1] * shape[2]),)
            blocks.append(cuba.Dense(neuron(), shape[0], layer.features, weight_scale=weight_scale))
            shape = (layer.features,)
    if len(shape) != 1:
        blocks.append(cuba.Flatten())
        shape = (int(shape[0] * shape[1] * shape[2]),)
    blocks.append(cuba.Dense(neuron(), shape[0], num_classes, weight_scale=weight_scale))
    return BlockChain(blocks)
