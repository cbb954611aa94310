"""Building a netx HDF5 network, CUBA and LTC layers mixed, as Lava processes.

:class:`Network` walks the file's ``layer/0 ... layer/n-1`` groups in order and makes
one Lava block per layer:

- layers whose neuron is one of netx's own (CUBA/LOIHI, SDNN, RF) are made by netx's
  layer constructors (``netx.hdf5.Network.create_input``, ``create_conv``,
  ``create_dense``), so they are exactly the blocks plain netx builds;
- ``pool`` layers (slayer's ``Pool`` blocks), which netx 0.6 cannot build, become netx's
  own ``Conv`` block computing the same sum pooling (:func:`netx_export.pool.create_pool`);
- a last ``dense`` layer of CUBA neurons that never spike (``vThMant >= 2**17``, as
  lava-dl writes its ``cuba.Affine`` readout) becomes netx's ``Dense`` block into a
  :class:`~lava_fptt.proc.li.CubaLI`, which sends its voltage as a graded value
  (:func:`netx_export.readout.create_readout`);
- ``dense``/``dense_rec`` layers whose ``neuron/type`` is a kind of the neuron registry built
  here (:mod:`lava_fptt.kinds`: ``LTC``, ``LTC_READOUT``; ``docs/netx_ltc_format.md``) become a
  :class:`NeuronLayer`: a Lava ``Dense`` (plus a recurrent ``Dense`` from the layer back to
  itself, into the neuron's ``a_rec``) feeding the kind's process (e.g.
  :class:`~lava_fptt.proc.ltc.LTC`, :class:`~lava_fptt.proc.ltc.LTCReadout`).

Blocks are chained output to input (a ``flatten`` layer reshapes the previous block's
output as netx does). A file whose first layer is a conv or pool layer needs the input's
shape: from an ``input`` layer, the ``input_shape`` argument in (x, y, f) order, or the
(C, H, W) ``input_shape`` lava-fptt writes into the file's ``config`` attribute. The network process exposes ``inp``, ``out`` and ``layers``, like
``netx.hdf5.Network``; ``out_message_bits`` says whether ``out`` carries binary
spikes (0) or graded values (24 for the LTC readout's ``u`` and a CUBA readout's ``v``).

Per-sample reset follows netx's scheme for every layer kind: with ``reset_interval``
set, created layer ``k`` (counting from 0) zeroes its neuron state at the Lava time
steps ``t`` with ``t % reset_interval == (reset_offset + 1 + k) % reset_interval``.
"""
from __future__ import annotations

import pathlib
import warnings
from typing import Any, NamedTuple, Optional

import numpy as np

from lava.magma.core.decorator import implements
from lava.magma.core.model.sub.model import AbstractSubProcessModel
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_fptt.blocks.netx_format import dataset_text, neuron_type, read_layer
from lava_fptt.kinds import KINDS, built_here
from lava_fptt.neurons.dense import WEIGHT_SCALE

from .errors import NetworkFileError
from .loader import describe, refuse_float_netx_layers
from .pool import create_pool
from .readout import create_readout, is_readout

PRECISIONS = ("fixed", "float")

# Lava's compiler looks for ProcessModels by importing every file in the directory of a
# Process's module as a top-level module; this package's other files use relative
# imports, so each import fails with a UserWarning on every run, although the models it
# needs (here) are found. Only that warning, for this package, is silenced.
warnings.filterwarnings("ignore", message=r"Cannot import module '<module '\w+' from '.*netx_export",
                        category=UserWarning)


class NeuronLayer(AbstractProcess):
    """One layer of our neurons (LTC, its readout, any kind the registry builds here) of a network file:
    ``Dense`` (+ recurrent ``Dense``) into the kind's Lava process (:mod:`lava_fptt.kinds`).

    Parameters
    ----------
    weight, weight_rec : np.ndarray
        Dense integers ``[out, in]`` and ``[out, out]`` (None: feed-forward only).
    weight_exp : int
        Shared exponent of both Dense synapses.
    params : a kind's integer parameter tuple (e.g. LTCIntParams, ReadoutIntParams)
        Integer neuron parameters; their type names the neuron kind (spiking or graded).
    precision : 'fixed' or 'float'
        'fixed' builds the integer processes (run with ``select_tag='fixed_pt'``);
        'float' builds float ones with the values the integers stand for.
    reset_interval, reset_offset, input_message_bits :
        As for netx blocks.
    sparse : bool
        Lava ``Sparse`` synapses instead of ``Dense`` (the same integers; faster for
        mostly-zero weights, such as :mod:`netx_export.parallel`'s block-diagonal copies).

    Ports ``inp``, ``out``; sub-processes ``synapse``, ``synapse_rec`` (or None), ``neuron``.
    """

    def __init__(self, *, weight: np.ndarray, weight_rec: Optional[np.ndarray], weight_exp: int,
                 params: NamedTuple, precision: str = "fixed",
                 reset_interval: Optional[int] = None, reset_offset: int = 0,
                 input_message_bits: int = 0, name: Optional[str] = None, sparse: bool = False) -> None:
        from lava.proc.dense.process import Dense
        from lava.proc.sparse.process import Sparse
        from scipy.sparse import csr_matrix

        super().__init__(name=name)
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        out_features, in_features = weight.shape
        self.shape = (out_features,)
        kind = next((k for k in KINDS.values() if k.int_params is not None and isinstance(params, k.int_params)), None)
        if kind is None or kind.process is None or kind.float_params is None:
            raise TypeError(f"no neuron kind of the registry has parameters {type(params).__name__}")
        self.kind = kind
        self.readout = kind.output == "graded"
        self.input_message_bits = input_message_bits
        self.output_message_bits = kind.message_bits

        def synapse(w: np.ndarray, message_bits: int) -> Dense | Sparse:
            kind, matrix = (Sparse, csr_matrix) if sparse else (Dense, np.asarray)
            if precision == "fixed":
                return kind(weights=matrix(w), weight_exp=weight_exp, num_weight_bits=8,
                            num_message_bits=message_bits)
            return kind(weights=matrix(w * (2.0 ** weight_exp / WEIGHT_SCALE)), num_message_bits=message_bits)

        neuron_params = params if precision == "fixed" else kind.float_params(
            **kind.params.dequantize(params._asdict()))
        self.synapse = synapse(weight, input_message_bits)
        self.neuron = kind.process(
            shape=self.shape, params=neuron_params, reset_interval=reset_interval, reset_offset=reset_offset)
        self.synapse_rec = None if weight_rec is None else synapse(weight_rec, 0)
        self.inp = InPort(shape=(in_features,))
        self.out = OutPort(shape=self.shape)
        self.inp.connect(self.synapse.s_in)
        self.synapse.a_out.connect(self.neuron.a_in)
        if self.synapse_rec is not None:
            self.neuron.s_out.connect(self.synapse_rec.s_in)
            self.synapse_rec.a_out.connect(self.neuron.a_rec)
        self.neuron.s_out.connect(self.out)


@implements(proc=NeuronLayer, protocol=LoihiProtocol)
class NeuronLayerModel(AbstractSubProcessModel):
    """The layer is its sub-processes, created and connected by the process itself."""

    def __init__(self, _: AbstractProcess) -> None:
        pass


def neuron_layer(group: Any, path: pathlib.Path, index: int, precision: str, reset_interval: Optional[int],
                 reset_offset: int, input_message_bits: int, sparse: bool = False) -> NeuronLayer:
    """An :class:`NeuronLayer` from an h5py layer group in our format, for the neuron kind its ``neuron/type``
    names in the registry (:func:`lava_fptt.kinds.built_here`; read by :func:`lava_fptt.blocks.netx_format.read_layer`)."""
    kind = built_here(neuron_type(group))
    assert kind is not None and kind.int_params is not None  # the caller checked
    try:
        layer = read_layer(group, kind.params, kind.int_params)
        return NeuronLayer(weight=layer.weight, weight_rec=layer.weight_rec, weight_exp=layer.weight_exp,
                        params=layer.params, precision=precision, reset_interval=reset_interval,
                        reset_offset=reset_offset, input_message_bits=input_message_bits, sparse=sparse)
    except ValueError as err:
        raise NetworkFileError(f"{path}: layer {index}: {err}") from None


def load_network(
    path: str | pathlib.Path, reset_interval: Optional[int] = None, reset_offset: int = 0,
    precision: str = "fixed", num_layers: Optional[int] = None, input_shape: Optional[tuple[int, ...]] = None,
    sparse: bool = False,
) -> Any:
    """Build the network in ``path`` as Lava processes (a :class:`netx_export.builder.Network`).

    CUBA (and other netx) layers are netx's own blocks, LTC layers ours; see
    :mod:`netx_export.builder`. With ``reset_interval`` every neuron's state is zeroed
    once per interval, layer by layer one step apart (netx's own reset scheme), which
    lets samples run back to back. ``precision`` ('fixed' or 'float') is the arithmetic
    of the LTC layers; ``num_layers`` builds only the first layers (as netx's argument);
    ``input_shape`` (x, y, f) is the input of a file that starts with a conv or pool layer
    (default: the shape lava-fptt wrote into the file); ``sparse`` builds dense layers'
    synapses as Lava ``Sparse`` processes (the same integers).
    """
    summary = describe(path)
    if precision == "float":
        refuse_float_netx_layers(summary)
    return Network(path, num_layers=num_layers, reset_interval=reset_interval, reset_offset=reset_offset,
                   precision=precision, input_shape=input_shape, sparse=sparse)


class Network(AbstractProcess):
    """The network of a netx HDF5 file as Lava processes; CUBA and LTC layers may be mixed.

    Parameters
    ----------
    net_config : str or path
        The network file.
    num_layers : int, optional
        Build only the first ``num_layers`` layer groups (as netx's argument).
    reset_interval, reset_offset : int
        Per-sample reset, netx's scheme (module docstring); None: no reset.
    precision : 'fixed' or 'float'
        Arithmetic of the LTC layers (CUBA blocks choose theirs from the run config).
    input_message_bits : int
        Bits of the input messages (0: binary spikes).
    input_shape : tuple of 3 ints, optional
        Input shape in (x, y, f) order for a file that starts with a conv or pool layer
        and has no input layer (as netx's argument; default: the file's ``config``).
    sparse : bool
        Dense layers' synapses as Lava ``Sparse`` processes (netx's ``sparse_synapse``;
        the same integers, faster for mostly-zero weights).

    Attributes: ``layers`` (the blocks in order), ``inp``, ``out``, ``in_layer``,
    ``out_layer``, ``out_message_bits``.
    """

    def __init__(self, net_config: str | pathlib.Path, num_layers: Optional[int] = None,
                 reset_interval: Optional[int] = None, reset_offset: int = 0, precision: str = "fixed",
                 input_message_bits: int = 0, input_shape: Optional[tuple[int, ...]] = None,
                 sparse: bool = False) -> None:
        super().__init__(net_config=str(net_config), num_layers=num_layers, input_message_bits=input_message_bits)
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.filename = str(net_config)
        self.layers = _build(pathlib.Path(net_config), num_layers, reset_interval, reset_offset, precision,
                             input_message_bits, input_shape, sparse)
        if not self.layers:
            raise NetworkFileError(f"{net_config}: no layer to build")
        if sparse:
            sparse_by_product(self.layers)
        self.in_layer, self.out_layer = self.layers[0], self.layers[-1]
        self.inp = InPort(shape=self.in_layer.inp.shape)
        self.out = OutPort(shape=self.out_layer.out.shape)
        self.inp.connect(self.in_layer.inp)
        self.out_layer.out.connect(self.out)
        self.out_message_bits = int(self.out_layer.output_message_bits)

    def __len__(self) -> int:
        return len(self.layers)


def sparse_by_product(layers: list[AbstractProcess]) -> None:
    """Make the blocks' Lava ``Sparse`` synapses that receive binary spikes sum by a matrix-vector product.

    Lava's ``Sparse`` models sum the weights of the active inputs as columns taken out of
    the CSR matrix when spikes are binary (``num_message_bits`` 0), which costs far more
    than the product it stands for (measured here: 47 against 242 steps per second for 32
    copies of a 64-128-10 network side by side, :mod:`netx_export.parallel`; 280 against
    540 for one copy), and as the product
    ``W @ s`` when they are graded. For spikes of 0 and 1 both are the same sums of the
    same weights (exact integers in fixed point; in float, the same row entries added in
    the same order, the others times zero), so binary inputs take the product path. Only
    the synapse's choice of sum changes: its ports, weights and messages stay as built.
    """
    from lava.proc.sparse.process import Sparse

    for layer in layers:
        for name in ("synapse", "synapse_rec"):
            synapse = getattr(layer, name, None)
            if isinstance(synapse, Sparse) and int(np.asarray(synapse.num_message_bits.init).item()) == 0:
                synapse.num_message_bits.init = 1


@implements(proc=Network, protocol=LoihiProtocol)
class NetworkModel(AbstractSubProcessModel):
    """The network is its blocks, created and connected by the process itself."""

    def __init__(self, _: AbstractProcess) -> None:
        pass


def _build(path: pathlib.Path, num_layers: Optional[int], reset_interval: Optional[int], reset_offset: int,
           precision: str, input_message_bits: int, input_shape: Optional[tuple[int, ...]] = None,
           sparse: bool = False) -> list[AbstractProcess]:
    """The blocks of the file in order, chained output to input."""
    from lava.lib.dl import netx
    from lava.lib.dl.netx.utils import NetDict

    creators = netx.hdf5.Network
    config = NetDict(str(path))  # netx's reader, for netx's constructors
    try:
        return _walk(path, config, creators, num_layers, reset_interval, reset_offset, precision, input_message_bits,
                     input_shape, sparse)
    finally:
        config.f.close()


def file_input_shape(path: pathlib.Path) -> Optional[tuple[int, ...]]:
    """The (x, y, f) input shape lava-fptt wrote into the file's ``config`` attribute, if any."""
    input_shape = describe(path).metadata.get("input_shape")
    return tuple(int(n) for n in input_shape[::-1]) if input_shape and len(input_shape) == 3 else None


def _walk(path: pathlib.Path, config: Any, creators: Any, num_layers: Optional[int], reset_interval: Optional[int],
          reset_offset: int, precision: str, input_message_bits: int, input_shape: Optional[tuple[int, ...]],
          sparse: bool = False) -> list[AbstractProcess]:
    import h5py

    layers: list[AbstractProcess] = []
    if input_shape is None:
        input_shape = file_input_shape(path)
    flatten_next = False
    offset = reset_offset + 1  # Lava's time steps count from 1, as in netx
    resets = {"reset_interval": reset_interval}
    with h5py.File(path, "r") as f:
        groups = f["layer"]
        count = len(groups) if num_layers is None else min(num_layers, len(groups))
        for index in range(count):
            group, layer_config = groups[str(index)], config["layer"][index]
            kind = dataset_text(group["type"][()])
            neuron = neuron_type(group)
            if built_here(neuron) is not None:
                block = neuron_layer(group, path, index, precision, reset_interval, offset, input_message_bits, sparse)
            elif kind == "input":
                if neuron is None:  # a shape declaration only
                    input_shape = tuple(int(v) for v in group["shape"][()][::-1])
                    continue
                block, _ = creators.create_input(layer_config, reset_offset=offset, **resets)
            elif kind in ("conv", "pool"):
                shape = layers[-1].shape if layers else input_shape
                if shape is None:
                    raise NetworkFileError(f"{path}: layer {index} is a {kind} layer with no known input shape; "
                                           "give input_shape in (x, y, f) order")
                if kind == "conv":
                    block, _ = creators.create_conv(layer_config, input_shape=shape,
                                                    input_message_bits=input_message_bits, reset_offset=offset,
                                                    **resets)
                else:
                    block = create_pool(layer_config, tuple(shape), f"{path}: layer {index}",
                                        input_message_bits=input_message_bits, reset_offset=offset, **resets)
            elif kind == "flatten":
                flatten_next = True
                continue
            elif is_readout(group):
                if index < len(groups) - 1:
                    raise NetworkFileError(f"{path}: layer {index} is a graded readout (CUBA neurons that never "
                                           "spike, vThMant >= 2**17) followed by more layers; only the last layer "
                                           "may send graded values")
                block = create_readout(layer_config, input_message_bits=input_message_bits, reset_offset=offset,
                                       **resets)
            elif kind in ("dense", "dense_rec"):
                block, _ = creators.create_dense(layer_config, input_message_bits=input_message_bits,
                                                 reset_offset=offset, rec=kind == "dense_rec",
                                                 sparse_synapse=sparse, **resets)
            else:
                raise NetworkFileError(f"{path}: layer {index} has type {kind!r}, which cannot be built "
                                       "(netx does not implement it either); build fewer layers with num_layers")
            if layers:
                source = layers[-1].out
                if flatten_next:
                    source = source.transpose([2, 1, 0]).flatten()
                source.connect(block.inp)
            flatten_next = False
            layers.append(block)
            offset += 1
            input_message_bits = block.output_message_bits
    return layers
