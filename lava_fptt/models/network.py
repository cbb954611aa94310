"""The networks lava-fptt trains, built from a plain config, and the engine's view of them.

A network is an ordinary lava-dl network (a :class:`~lava_fptt.models.chain.BlockChain`
of slayer CUBA blocks with ``delay_shift`` on, of LTC blocks, or a user's own class)
that the training engine drives through :func:`lava_fptt.online.wrap`: ``reset_state()``
before a new batch, ``forward(x)`` on a chunk continuing from the carried state,
``detach_state()`` at a chunk boundary. :class:`SpikingNetwork` is that wrapped
network for a :class:`NetworkConfig`; its ``net`` is the lava-dl network, which exports
itself (``net.export_hdf5``).

``NetworkConfig`` names one of:

- a dense stack, ``sizes=(C, H1, ..., K)``: ``model='cuba'`` slayer ``Dense`` blocks (hidden
  ``Recurrent`` blocks with ``recurrent``; :func:`~lava_fptt.models.cuba.cuba_stack`), or
  ``model='ltc'`` LTC blocks ending in a readout (:mod:`lava_fptt.models.ltc`);
- a convolutional CUBA network, ``arch`` in the layer syntax of :mod:`lava_fptt.models.conv`,
  for inputs ``input_shape`` (C, H, W), with ``sizes=(C, K)``;
- a user's class, ``source`` (:mod:`lava_fptt.models.user`), built from a file;
- a network file to fine-tune, ``init`` (:mod:`lava_fptt.models.netx_file`): a netx file
  of CUBA layers (e.g. a NIR graph imported by ``lava-fptt nir import``) as slayer blocks.

``source`` and ``init`` networks are rebuilt from their file, which a run directory keeps
a copy of (:attr:`NetworkConfig.source_copy`).

A network says what its output is (``output_kind``): ``"spikes"`` (CUBA: the class is the
output neuron with most spikes over the sequence) or ``"readout"`` (LTC: graded readout
values, the class is the largest readout at the last step). :func:`predict` applies the
rule, the same function the Lava run applies to what Lava produces.

Time alignment of CUBA networks: each Lava synapse delivers one step late, so an L-block
network in Lava answers step t with what the input did at step t - L; slayer's
``delay_shift`` gives every block the same one-step delay, so torch and Lava agree step
for step (the adapter moves those delays to the network's input for chunked training:
:mod:`lava_fptt.online.adapter`).
"""
from __future__ import annotations

import pathlib
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Optional

import torch

from ..online import OnlineNetwork
from ..online.output import predict  # noqa: F401  (re-exported: lava_fptt.models.network.predict)
from .conv import arch_layout, conv_network
from .cuba import CubaParams, cuba_stack
from .netx_file import INITIAL_FILE, NetworkFile, describe_netx
from .user import USER_FILE, UserNetwork, describe_file



@dataclass(frozen=True)
class NetworkConfig:
    """Enough to rebuild the network: a dense stack (``sizes``), an ``arch`` or a user's ``source``."""

    sizes: tuple[int, ...] = (64, 128, 10)
    """Dense stacks: input channels, hidden sizes, classes. ``arch`` and ``source`` networks:
    (input channels, classes)."""
    model: str = "cuba"
    cuba: CubaParams = field(default_factory=CubaParams)
    weight_scale: float = 2.0
    recurrent: bool = False
    """Hidden layers with recurrent weights, ``s[t] = f(W x[t] + R s[t-1])``: slayer's
    ``cuba.Recurrent`` (CUBA) or ``LTCRecurrent`` (LTC); the output layer stays feed-forward."""
    quantized: bool = True
    """LTC and LIF: quantization-aware training in the deployed integer arithmetic."""
    weight_exp: int = 0
    """LTC and LIF: shared exponent of every deployed ``Dense`` (weights reach 4 * 2**weight_exp)."""
    reset_frac: float = 0.0
    """LTC only: fraction of the membrane a spike removes in the hidden layers. 0 (no reset: the
    adaptive threshold alone limits firing) trains several times faster on sequences than the
    reference's hard reset (1.0); see ``docs/ltc_training.md``."""
    readout_gate_bias: Optional[float] = None
    """LTC only: mean initial membrane-gate bias of the readout (None: the block's default, -4, a memory
    of about 55 steps; -2 gives the hidden layers' 8 steps). See ``docs/temporal-benchmark.md``."""
    arch: Optional[str] = None
    """A convolutional CUBA network in the layer syntax of :mod:`lava_fptt.models.conv`."""
    input_shape: Optional[tuple[int, ...]] = None
    """Shape of one input sample without time: (C,) or (C, H, W). Default: ``(sizes[0],)``."""
    source: Optional[UserNetwork] = None
    """A user's network class (its file is the run directory's copy, ``network.py``)."""
    init: Optional[NetworkFile] = None
    """A netx file to start from and fine-tune (its file is the run directory's copy, ``initial.net``)."""

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {models()}, got {self.model!r}")
        if len(self.sizes) < 2 or any(int(s) < 1 for s in self.sizes):
            raise ValueError(f"sizes needs an input and at least one layer, all >= 1; got {self.sizes}")
        if self.recurrent and len(self.sizes) < 3:
            raise ValueError(f"recurrent=True needs a hidden layer (the output layer is never recurrent); "
                             f"sizes {self.sizes} has none")
        if self.arch is not None and (self.source is not None or self.model != "cuba" or self.recurrent):
            raise ValueError("arch builds a CUBA network of its own: no source, model 'ltc' or recurrent with it")
        if self.init is not None and (self.source is not None or self.arch is not None or self.model != "cuba"
                                      or self.recurrent):
            raise ValueError("init builds the network of a netx file: no source, arch, model 'ltc' or recurrent "
                             "with it")
        if self.readout_gate_bias is not None and self.model != "ltc":
            raise ValueError(f"readout_gate_bias is an LTC readout's setting; model {self.model!r} has no such readout")
        if self.arch is not None:
            arch_layout(self.arch)  # refuses a bad architecture now, naming the layer

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one input sample without time."""
        return tuple(self.input_shape) if self.input_shape is not None else (self.sizes[0],)

    @property
    def kind(self) -> str:
        """``"stack"``, ``"arch"``, ``"user"`` or ``"file"`` (``init``)."""
        if self.init is not None:
            return "file"
        return "user" if self.source is not None else "arch" if self.arch is not None else "stack"

    @property
    def source_copy(self) -> Optional[str]:
        """Name of the run directory's copy of the file the network is built from (None: built from the config)."""
        return {"user": USER_FILE, "file": INITIAL_FILE}.get(self.kind)

    def described(self, path: pathlib.Path) -> NetworkConfig:
        """This config with its source file's description (hash) taken from ``path`` (e.g. a run's copy)."""
        if self.source is not None:
            return replace(self, source=describe_file(path, self.source.class_name))
        return replace(self, init=describe_netx(path)) if self.kind == "file" else self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        data = dict(data)
        data["sizes"] = tuple(data["sizes"])
        data["cuba"] = CubaParams(**data.get("cuba", {}))
        if data.get("input_shape") is not None:
            data["input_shape"] = tuple(data["input_shape"])
        if data.get("source") is not None:
            data["source"] = UserNetwork(**data["source"])
        if data.get("init") is not None:
            data["init"] = NetworkFile(**data["init"])
        return cls(**data)


def build_network(config: NetworkConfig, source_file: Optional[pathlib.Path] = None) -> torch.nn.Module:
    """The lava-dl network ``config`` names (not wrapped); a user's class or a netx file from ``source_file``."""
    if config.source_copy is not None and source_file is None:
        raise ValueError(f"the network is built from a file ({config.kind}): give its file (a run directory "
                         f"keeps it as {config.source_copy})")
    if config.init is not None and source_file is not None:
        from .netx_file import build as build_from_file

        return build_from_file(pathlib.Path(source_file), config.init)
    if config.source is not None and source_file is not None:
        from .user import build as build_user

        return build_user(pathlib.Path(source_file), config.source)
    if config.arch is not None:
        return conv_network(config.arch, config.sample_shape, config.sizes[-1], config.cuba, config.weight_scale)
    return MODEL_KINDS[config.model].build(config)


def network_layout(config: NetworkConfig, source_file: Optional[pathlib.Path] = None) -> str:
    """The input layout the network of ``config`` wants: ``"image"`` or ``"flat"`` (read from its first block)."""
    if config.arch is not None:
        return arch_layout(config.arch)
    if config.source_copy is not None:
        return OnlineNetwork(build_network(config, source_file)).input_layout
    return "flat"


class SpikingNetwork(OnlineNetwork):
    """The network of a :class:`NetworkConfig`, wrapped for the engine (:class:`~lava_fptt.online.OnlineNetwork`).

    Constructing it with a dense stack's config returns the network class its model
    registered (:data:`MODEL_KINDS`; an LTC config: an :class:`~lava_fptt.models.ltc.LTCNetwork`).
    ``source_file`` is the file of a user's class (``config.source``).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> SpikingNetwork:
        config = args[0] if args else kwargs.get("config")
        if cls is SpikingNetwork and isinstance(config, NetworkConfig) and config.kind == "stack":
            return super().__new__(MODEL_KINDS[config.model].network)
        return super().__new__(cls)

    def __init__(self, config: NetworkConfig, source_file: Optional[pathlib.Path] = None) -> None:
        super().__init__(build_network(config, source_file))
        self.config = config

    @property
    def layers(self) -> list[torch.nn.Module]:
        """The network's blocks in order (the lava-dl blocks themselves)."""
        return [adapter.block for adapter in self.blocks]


@dataclass(frozen=True)
class ModelKind:
    """A neuron model a dense stack (``NetworkConfig(model=name, sizes=...)``) can be made of.

    Registered (:func:`register_model`) by the module that defines the model, so that this
    module needs none of them: CUBA here, LTC in :mod:`lava_fptt.models.ltc` (imported
    by the package, so every model is registered once ``lava_fptt.models`` is imported).
    """

    name: str
    build: Callable[[NetworkConfig], torch.nn.Module]
    """The (unwrapped) lava-dl network of a dense-stack config."""
    network: type[SpikingNetwork] = SpikingNetwork
    """The class :class:`SpikingNetwork` returns for such a config."""


MODEL_KINDS: dict[str, ModelKind] = {}
"""Every neuron model a dense stack can be made of, by name."""


def register_model(kind: ModelKind) -> None:
    """Make ``kind`` a choice of ``NetworkConfig.model`` (and of ``lava-fptt train --model``)."""
    MODEL_KINDS[kind.name] = kind


def models() -> tuple[str, ...]:
    """The names ``NetworkConfig.model`` accepts."""
    return tuple(MODEL_KINDS)


register_model(ModelKind("cuba", lambda config: cuba_stack(config.sizes, config.cuba, config.weight_scale,
                                                           config.recurrent)))


OLD_KEY = re.compile(r"^layers\.(\d+)\.(?:block\.)?")


def migrate_state_dict(state: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A checkpoint's model state in today's names.

    Runs written before networks became lava-dl block chains stored ``layers.<i>.block.<name>``
    (CUBA) and ``layers.<i>.<name>`` (LTC); those are the chain's ``blocks.<i>.<name>``, the
    same parameters (``prefix`` goes in front: ``"net."`` for names seen through the
    adapter, as a method's per-parameter state is keyed). Other states are returned as they are.
    """
    if not any(OLD_KEY.match(key) for key in state):
        return state
    return {OLD_KEY.sub(prefix + r"blocks.\1.", key): value for key, value in state.items()}
