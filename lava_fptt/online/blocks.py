"""How the online adapter drives each block of a lava-dl network: found, checked, carried.

A lava-dl (slayer) block runs a whole ``[batch, ..., time]`` tensor from the state its
neuron holds. Walking a sequence in chunks needs three things of every block, and this
module gives them, one class per kind of block:

- **carried neuron state.** During an adapter call the block's CUBA neuron runs with
  ``persistent_state`` on, starting from the state the adapter carried out of the
  previous call; afterwards the adapter takes that state back (slayer stores it
  detached, so a chunk boundary cuts temporal gradients) and puts the neuron's own
  buffers and flags back as they were. Between adapter calls the user's network is
  exactly the object it was: calling it directly runs slayer's own whole-sequence forward.
- **the one-step ``delay_shift`` taken out of the block.** slayer's ``step_delay`` writes
  into a view in place and fails with gradients on when a block is called step by step
  (``docs/online-training.md``). During an adapter call each block's ``delay_shift`` is
  off; :attr:`BlockAdapter.shift` says how many steps the block delayed, and the network
  adapter puts all of them, out of place, on one delay line at the network's input
  (:mod:`lava_fptt.online.adapter` says why that is exact and why the input is the place).
- **a spatial-only gradient mode** (SLTT) for every CUBA block. Inside it the neuron's
  dynamics run without gradients (same values, bit for bit) and the voltage gets the
  synaptic input's gradient at the same step only: ``v + (z - z.detach())``. That is the
  gradient of a one-step call from the detached state (slayer's leaky-integrator
  backward passes a step's output gradient to the same step's input unchanged), summed
  over the chunk's steps. A recurrent block also feeds its own spikes back detached.
- **fewer, cheaper operations per call**, which matter when the engine calls the network
  one step at a time (FPTT): outside SLTT's spatial mode a ``Dense`` block runs whole as one
  autograd node (:mod:`lava_fptt.neurons.cuba_dense`: quantized weights, product, neuron and
  spikes; its neuron is not touched at all), other blocks' CUBA neurons as one compiled node
  (:func:`lava_fptt.neurons.cuba_fast.fused_neuron`, or ``fused_dynamics``: same values and
  input gradient as slayer's), and a ``Dense`` synapse as one matrix product (:func:`dense_synapse`).

Blocks the adapter cannot carry exactly are refused when the network is wrapped, with
an error naming the block, its index and what is supported (:func:`find_blocks`).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import torch

from ..neurons import cuba_dense, cuba_fast

SUPPORTED_CUBA = ("Input", "Flatten", "Dense", "Conv", "Pool", "Affine", "Recurrent")
"""``lava.lib.dl.slayer.block.cuba`` classes the adapter drives."""
IMAGE_BLOCKS = ("Conv", "Pool", "Flatten")
"""Blocks whose input is an image ``[N, C, H, W, T]``; a network that starts with one wants images."""


class UnsupportedNetworkError(ValueError):
    """A network (or one of its blocks) that the online adapter cannot carry exactly."""


def _slayer() -> Any:
    from lava.lib.dl import slayer

    return slayer


def is_slayer_block(module: torch.nn.Module) -> bool:
    """True for lava-dl blocks: instances of the abstract block classes of ``slayer.block.base``."""
    base = _slayer().block.base
    return any(isinstance(module, cls) for name, cls in vars(base).items()
               if name.startswith("Abstract") and isinstance(cls, type) and issubclass(cls, torch.nn.Module))


def is_native_block(module: torch.nn.Module) -> bool:
    """True for blocks that carry their own state through the engine's calls (lava-fptt's LTC blocks)."""
    return callable(getattr(module, "reset_state", None)) and callable(getattr(module, "detach_state", None))


class BlockAdapter:
    """One block as the adapter drives it (base: a block with no state of its own, e.g. ``Flatten``).

    ``index`` counts the blocks of the network in the order they are registered; ``name``
    is the block's attribute path in the network. ``shift`` is the number of delay steps
    taken out of the block, ``spatial`` whether it has a spatial-only gradient mode.
    """

    shift = 0
    spatial = True
    counted = False
    """Whether the adapter counts the block's runs per call (to refuse a block run twice)."""

    def __init__(self, index: int, name: str, block: torch.nn.Module) -> None:
        self.index, self.name = index, name
        self.block: Any = block  # a slayer or lava-fptt block: attributes vary by kind (slayer is untyped)
        self.calls = 0

    @property
    def label(self) -> str:
        """How errors name the block: index, path in the network, class."""
        cls = type(self.block)
        return f"block {self.index} ('{self.name}', {cls.__module__.replace('lava.lib.dl.', '')}.{cls.__qualname__})"

    @property
    def kind(self) -> str:
        return type(self.block).__name__

    def image_input(self) -> Optional[bool]:
        """Whether the block takes images (True), flat channels (False), or either (None)."""
        return True if self.kind in IMAGE_BLOCKS else None

    def reset(self) -> None:
        """The next call starts from rest."""

    def detach(self) -> None:
        """Cut the carried state from the autograd graph."""

    def enter(self, spatial: bool) -> None:
        """Before a network call: install what drives the block (``spatial``: SLTT's mode)."""

    def exit(self) -> None:
        """After a network call: take the carried state back, leave the block as found."""


class NativeBlock(BlockAdapter):
    """A block that implements the engine's interface itself (``reset_state``, ``detach_state``).

    lava-fptt's LTC blocks are such blocks: they carry their own state, have no delay
    and no spatial-only mode (SLTT then runs one step per call).
    """

    spatial = False

    def image_input(self) -> Optional[bool]:
        return False

    def reset(self) -> None:
        self.block.reset_state()

    def detach(self) -> None:
        self.block.detach_state()


class CubaBlock(BlockAdapter):
    """A slayer CUBA block whose forward is synapse -> neuron (-> ``delay_shift``): Input, Dense,
    Conv, Pool, Affine. The block's own ``forward`` runs, with its shift off."""

    counted = True

    def __init__(self, index: int, name: str, block: torch.nn.Module) -> None:
        super().__init__(index, name, block)
        self.neuron = getattr(block, "neuron", None)
        self.shift = 1 if getattr(block, "delay_shift", False) else 0
        self._state: Optional[tuple[torch.Tensor, torch.Tensor]] = None
        self._found: dict[str, Any] = {}
        self._dense = cuba_dense.DenseBlock(block) if self.kind == "Dense" else None
        self._fused = False  # this call runs the block as one node (cuba_dense), the neuron untouched

    def image_input(self) -> Optional[bool]:
        if self.kind in ("Dense", "Affine"):  # a dense synapse over an image has a kernel of its size
            return tuple(self.block.synapse.kernel_size[:2]) != (1, 1)
        return super().image_input()

    def reset(self) -> None:
        self._state = None

    def enter(self, spatial: bool) -> None:
        self.block.forward = self._forward  # instance attribute: shadows the class's forward until exit()
        self._fused = (not spatial and self._dense is not None and not self.block.count_log
                       and cuba_dense.applies(self.block))
        if not self._fused:
            self._install(spatial)

    def exit(self) -> None:
        del self.block.forward
        if not self._fused:
            self._restore()

    def _install(self, spatial: bool) -> None:
        """Make the block's own forward carry the state: shift off, neuron persistent from the carried state."""
        block, neuron = self.block, self.neuron
        self._found = {"delay_shift": getattr(block, "delay_shift", None)}
        if self._found["delay_shift"] is not None:
            block.delay_shift = False
        for synapse in self._dense_synapses():
            synapse.forward = dense_synapse(synapse)
        if neuron is None:
            return
        self._found.update(persistent_state=neuron.persistent_state, current_state=neuron.current_state,
                           voltage_state=neuron.voltage_state)
        neuron.persistent_state = True
        if self._state is None:  # rest: one zero broadcasts to any batch, as slayer starts
            neuron.current_state = torch.zeros_like(neuron.current_state.reshape(-1)[:1])
            neuron.voltage_state = torch.zeros_like(neuron.voltage_state.reshape(-1)[:1])
        else:
            neuron.current_state, neuron.voltage_state = self._state
        if spatial:
            dynamics = cuba_fast.fused_dynamics(neuron) or type(neuron).dynamics.__get__(neuron)
            neuron.dynamics = spatial_dynamics(dynamics)
            return
        whole = cuba_fast.fused_neuron(neuron)
        if whole is not None:
            neuron.forward = whole
        else:
            neuron.dynamics = cuba_fast.fused_dynamics(neuron) or type(neuron).dynamics.__get__(neuron)

    def _restore(self) -> None:
        """Take the carried state back from the neuron; leave block and neuron as :meth:`_install` found them."""
        block, neuron = self.block, self.neuron
        for synapse in self._dense_synapses():
            synapse.__dict__.pop("forward", None)
        if self._found.get("delay_shift") is not None:
            block.delay_shift = self._found["delay_shift"]
        if neuron is None:
            return
        self._state = (neuron.current_state, neuron.voltage_state)
        neuron.__dict__.pop("dynamics", None)
        neuron.__dict__.pop("forward", None)
        neuron.persistent_state = self._found["persistent_state"]
        neuron.current_state = self._found["current_state"]
        neuron.voltage_state = self._found["voltage_state"]

    def _forward(self, x: torch.Tensor) -> Any:
        self.calls += 1
        if not self._fused:
            return type(self.block).forward(self.block, x)
        assert self._dense is not None  # _fused is set only for Dense blocks
        done = self._dense(x, self._state)
        if done is not None:
            spikes, self._state = done
            return spikes
        self._install(False)  # an input the one-node path does not take: slayer's own forward, this call
        try:
            return type(self.block).forward(self.block, x)
        finally:
            self._restore()

    def _dense_synapses(self) -> list[torch.nn.Module]:
        """The block's slayer ``Dense`` synapses of one neuron per input channel (kernel 1 x 1 x 1)."""
        found = (getattr(self.block, name, None) for name in ("synapse", "input_synapse", "recurrent_synapse"))
        return [s for s in found if s is not None and type(s).__name__ == "Dense" and type(s).__module__ == _slayer().synapse.layer.__name__
                and tuple(s.kernel_size) == (1, 1, 1) and s.groups == 1]


class CubaRecurrentBlock(CubaBlock):
    """slayer's ``cuba.Recurrent``: ``s[t] = f(W x[t] + R s[t-1])``, stepped here with carried spikes.

    slayer's own forward starts every call from zero spikes (its ``custom_recurrent``), so
    a sequence walked in chunks would lose ``R s[t-1]`` at each boundary. During an
    adapter call the block runs this loop instead: its own synapses (with their
    quantizing pre-hook) and neuron, one step at a time as slayer's loop calls them, the
    last spikes carried to the next call. Within a call the spikes stay in the graph
    (BPTT through ``R``); :meth:`detach` cuts them. The neuron's membrane gradient is
    cut at every step, as in slayer's own recurrent backward.
    """

    def __init__(self, index: int, name: str, block: torch.nn.Module) -> None:
        super().__init__(index, name, block)
        self._spikes: Optional[torch.Tensor] = None
        self._spatial = False

    def image_input(self) -> Optional[bool]:
        return False

    def reset(self) -> None:
        super().reset()
        self._spikes = None

    def detach(self) -> None:
        if self._spikes is not None:
            self._spikes = self._spikes.detach()

    def enter(self, spatial: bool) -> None:
        super().enter(spatial)
        self._spatial = spatial

    def _forward(self, x: torch.Tensor) -> Any:
        self.calls += 1
        block = self.block
        drive = block.input_synapse(x)
        if block.bias is not None:
            drive = drive + block.bias
        spikes = self._spikes if self._spikes is not None else drive.new_zeros(drive.shape[:-1])
        out = []
        for t in range(drive.shape[-1]):
            fed_back = spikes.detach() if self._spatial else spikes
            spikes = block.neuron(drive[..., t:t + 1] + block.recurrent_synapse(fed_back.unsqueeze(-1)))[..., 0]
            out.append(spikes)
        self._spikes = spikes
        result = torch.stack(out, dim=-1)
        return (result, (result > 0).to(result.dtype).mean()) if block.count_log else result


def dense_synapse(synapse: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """A forward for slayer's ``Dense`` synapse (kernel 1 x 1 x 1) as one matrix product.

    slayer runs it as a 3-D convolution, whose CPU cost (forward and backward) was the
    largest single item of a one-step call (``docs/speed.md``). This computes the same sum
    ``W x`` per step with the same (pre-hooked, quantized) weight and bias, as one 2-D product
    ``[B * T, C] x [C, O]`` (:func:`lava_fptt.neurons.cuba_dense.rows`): for spikes and slayer's
    quantized weights every partial sum
    is exact in float32, so the result equals the convolution's bit for bit; for other
    inputs it may differ in rounding. Inputs that are not ``[B, C, T]`` go to slayer's own.
    """
    def forward(x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            return type(synapse).forward(synapse, x)
        hook = synapse._pre_hook_fx
        weight = synapse.weight if hook is None else hook(synapse.weight)
        out = torch.nn.functional.linear(cuba_dense.rows(x), weight.reshape(weight.shape[0], -1), synapse.bias)
        return out.reshape(x.shape[0], x.shape[-1], -1).transpose(1, 2)

    return forward


def spatial_dynamics(dynamics: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
                     ) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """A neuron's ``dynamics`` with SLTT's spatial-only gradient (module docstring).

    The current and voltage are slayer's own, computed without gradients (and updating
    the carried state as usual); the voltage then gets ``z - z.detach()`` added: zero in
    the forward pass, and in the backward dv[t]/dz[t] = 1, dv[t]/dz[s] = 0 for s != t.
    The neuron's own ``spike`` then applies its surrogate at that voltage.
    """
    def run(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            current, voltage = dynamics(z)
        return current, voltage + (z - z.detach())

    return run


def _refusal(adapter: BlockAdapter, problem: str) -> UnsupportedNetworkError:
    return UnsupportedNetworkError(f"{adapter.label}: {problem}")


def _check_cuba(adapter: CubaBlock) -> None:
    """Refuse what a CUBA block may hold that chunked calls would not reproduce exactly."""
    block, neuron = adapter.block, adapter.neuron
    if getattr(block, "delay", None) is not None:
        raise _refusal(adapter, "has a learnable axonal delay (delay=True), which the online engine cannot "
                                "carry between chunks; build the block with delay=False")
    if neuron is not None and getattr(neuron, "norm", None) is not None:
        raise _refusal(adapter, "has a neuron normalization (norm=...), whose statistics span the steps of "
                                "a call, so chunks would change it; build the block without norm")
    if adapter.kind == "Input" and getattr(block, "bias", None) is not None:
        raise _refusal(adapter, "has a bias, so its neuron is not at rest without input and its delay "
                                "cannot move to the network input; build it without bias")


def adapter_for(index: int, name: str, block: torch.nn.Module) -> BlockAdapter:
    """The adapter of one block, or :class:`UnsupportedNetworkError` naming the block."""
    slayer = _slayer()
    if not is_slayer_block(block):
        return NativeBlock(index, name, block)
    probe = BlockAdapter(index, name, block)
    module = type(block).__module__
    if module != slayer.block.cuba.__name__:
        family = module.rsplit(".", 1)[-1]
        raise _refusal(probe, f"has a neuron of family '{family}'; the online engine carries CUBA blocks "
                              f"(slayer.block.cuba: {', '.join(SUPPORTED_CUBA)}) and lava-fptt's LTC blocks")
    if probe.kind not in SUPPORTED_CUBA:
        raise _refusal(probe, f"is a block kind the online engine does not carry; supported: "
                              f"{', '.join(f'cuba.{k}' for k in SUPPORTED_CUBA)}")
    if probe.kind == "Flatten":
        return probe
    adapter = CubaRecurrentBlock(index, name, block) if probe.kind == "Recurrent" else CubaBlock(index, name, block)
    _check_cuba(adapter)
    return adapter


def find_blocks(net: torch.nn.Module) -> list[BlockAdapter]:
    """The adapters of ``net``'s blocks in registration order; refuses what cannot be carried.

    Blocks are lava-dl (slayer) blocks and modules that carry their own state
    (``reset_state`` and ``detach_state``); modules inside a block belong to it. Any other
    module (containers, stateless torch layers) is left alone. A slayer neuron outside a
    block would carry state the adapter does not see and is refused.
    """
    if not isinstance(net, torch.nn.Module):
        raise UnsupportedNetworkError(f"expected a torch.nn.Module holding lava-dl blocks, got {type(net).__name__}")
    slayer = _slayer()
    if is_slayer_block(net) or is_native_block(net):  # a single block is a network of one
        return [adapter_for(0, type(net).__name__, net)]
    adapters: list[BlockAdapter] = []
    inside: set[str] = set()
    for name, module in net.named_modules():
        if module is net or any(name.startswith(prefix + ".") for prefix in inside):
            continue
        if is_slayer_block(module) or is_native_block(module):
            adapters.append(adapter_for(len(adapters), name, module))
            inside.add(name)
        elif isinstance(module, slayer.neuron.base.Neuron):
            raise UnsupportedNetworkError(f"'{name}' ({type(module).__qualname__}) is a slayer neuron outside a "
                                          "block; the online engine carries the state of neurons inside blocks")
    if not adapters:
        raise UnsupportedNetworkError(f"{type(net).__name__} holds no lava-dl blocks (slayer.block.cuba) "
                                      "and no lava-fptt LTC blocks")
    shifting = [a for a in adapters if a.shift]
    native = [a for a in adapters if isinstance(a, NativeBlock)]
    if shifting and native:
        raise _refusal(native[0], f"mixes lava-fptt LTC blocks with slayer blocks that delay their output "
                                  f"(delay_shift, e.g. {shifting[0].label}); LTC neurons are not at rest "
                                  "without input, so those delays cannot move to the network input")
    return adapters


def input_layout(adapters: list[BlockAdapter]) -> str:
    """``"image"`` when the first block that says so takes ``[N, C, H, W, T]``, else ``"flat"``."""
    for adapter in adapters:
        wants = adapter.image_input()
        if wants is not None:
            return "image" if wants else "flat"
    return "flat"
