"""slayer's ``Pool`` layers as Lava processes: what lava-dl 0.6's netx cannot build.

netx reads a ``pool`` layer and stops (``NotImplementedError: pool is not implemented``).
A slayer ``Pool`` block is sum pooling into CUBA neurons: every output neuron of channel
``c`` receives ``w`` times the spikes in its K x K window of channel ``c`` (slayer runs it
as a convolution with one shared weight ``w``). That is exactly a grouped convolution
with one group per channel and every kernel weight ``w``, so :func:`create_pool` builds
netx's own ``Conv`` block (Lava's ``Conv`` synapse, one step late like ``Dense``, into a
``LIF``/``LIFReset`` neuron with the layer's CUBA parameters, read by netx's own
``get_neuron_params``). Nothing of netx is changed or copied.

Supported: what slayer computes as pooling without crossing channels, i.e. kernel equal
to the stride, no padding and no dilation, and an input size that divides by the
kernel (slayer pads an odd size with zeros; Lava's convolution would drop the edge).
Anything else is refused naming the layer and the value.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .errors import NetworkFileError


def _value(group: Any, key: str) -> np.ndarray:
    """A dataset of a layer group read as an array: from an h5py group or netx's ``NetDict``
    (which hands back the keys it does not know, such as ``kernelSize``, wrapped)."""
    value = group[key]
    if hasattr(value, "f"):  # NetDict around an h5py dataset
        value = value.f
    return np.asarray(value[()] if hasattr(value, "dtype") and not isinstance(value, np.ndarray) else value)


def _pair(group: Any, key: str) -> tuple[int, int]:
    """A (height, width) pair from slayer's export (one value, or two in (height, width) order)."""
    values = np.atleast_1d(_value(group, key)).astype(int).tolist()
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])


def create_pool(layer_config: Any, input_shape: tuple[int, int, int], where: str,
                input_message_bits: int = 0, reset_interval: Optional[int] = None,
                reset_offset: int = 0) -> Any:
    """A netx ``Conv`` block computing the ``pool`` layer ``layer_config``.

    Parameters
    ----------
    layer_config :
        The layer's group as netx reads it (``netx.utils.NetDict``), written by slayer's
        ``Pool.export_hdf5``: ``shape`` (C, H, W), ``kernelSize``, ``stride``,
        ``padding``, ``dilation`` (height, width), ``weight`` [1, 1, K, K], ``neuron/...``.
    input_shape :
        Shape of the layer's input in Lava's (x, y, f) = (W, H, C) order.
    where :
        How errors name the layer (file and index).
    input_message_bits, reset_interval, reset_offset :
        As for netx's ``create_conv``.
    """
    from lava.lib.dl.netx.blocks.process import Conv
    from lava.lib.dl.netx.hdf5 import Network

    kernel, stride = _pair(layer_config, "kernelSize"), _pair(layer_config, "stride")
    padding, dilation = _pair(layer_config, "padding"), _pair(layer_config, "dilation")
    width, height, channels = (int(n) for n in input_shape)
    problems = []
    if stride != kernel:
        problems.append(f"stride {stride} differs from the kernel {kernel}")
    if padding != (0, 0) or dilation != (1, 1):
        problems.append(f"padding {padding} and dilation {dilation} (need 0 and 1)")
    if height % kernel[0] or width % kernel[1]:
        problems.append(f"the {height} x {width} input does not divide by the kernel {kernel}")
    weight = _value(layer_config, "weight")
    if weight.size != kernel[0] * kernel[1] or np.unique(weight).size != 1:
        problems.append(f"the weight is not one value over the {kernel} window (shape {weight.shape})")
    if problems:
        raise NetworkFileError(f"{where}: pool layer cannot be built: {'; '.join(problems)}")
    shape = tuple(int(n) for n in _value(layer_config, "shape")[::-1])  # (x, y, f)
    if shape != (width // kernel[1], height // kernel[0], channels):
        raise NetworkFileError(f"{where}: pool layer shape {shape[::-1]} does not follow from its input "
                               f"{(channels, height, width)} and kernel {kernel}")
    params = Network.get_neuron_params(layer_config["neuron"], reset_interval=reset_interval,
                                       reset_offset=reset_offset)
    # Lava's Conv weight: [out channels, kernel x, kernel y, in channels per group]; one group per channel.
    kernel_weight = np.full((channels, kernel[1], kernel[0], 1), weight.flat[0], dtype=np.int64)
    return Conv(input_shape=(width, height, channels), shape=shape, neuron_params=params, weight=kernel_weight,
                stride=np.array(kernel[::-1]), padding=np.array([0, 0]), dilation=np.array([1, 1]),
                groups=channels, input_message_bits=input_message_bits)
