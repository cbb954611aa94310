"""Trainable parameters in one flat tensor, so that an update is a few operations, not a few per parameter.

An online method that updates every step (FPTT with chunks of one step) runs the
optimizer, the gradient clip and its own regularizer once per time step. Over a list of
parameters each of those is a loop (or a multi-tensor kernel) whose fixed cost per call
is paid per parameter; on the small networks trained here that cost, not the arithmetic,
was the update's time (about 2.5 ms per step for 14 tensors, measured,
``docs/temporal-benchmark.md``). :class:`FlatParameters` lays the parameters out as
consecutive views of one tensor, and their gradients as views of another: the model
computes with its parameters as before, autograd accumulates into the gradient views in
place, and an update is a handful of operations on two vectors.

:func:`flat_optimizer` builds a torch optimizer (Adam, Adamax) over that one vector. Its
``zero_grad`` zeroes the gradient vector in place (the parameters' ``.grad`` stay views of
it), its ``step`` refuses to run when a parameter no longer lives in the vector (some code
replaced its ``.data``: the update would be lost), and its ``load_state_dict`` also takes
a state saved by the same optimizer over the separate parameters (runs written before).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable, Optional

import torch

Parameter = torch.nn.Parameter


class FlatParameters:
    """``params`` re-seated as consecutive views of one tensor (``vector``), their gradients as views
    of ``vector.grad``. Values are kept; the parameter objects stay the model's."""

    def __init__(self, params: Iterable[Parameter]) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("no parameters to lay out")
        first = self.params[0]
        for p in self.params:
            if p.dtype != first.dtype or p.device != first.device or p.is_sparse or not p.is_leaf:
                raise ValueError("flat parameters need dense leaf tensors of one dtype and device")
        sizes = [p.numel() for p in self.params]
        with torch.no_grad():
            self.vector = Parameter(torch.cat([p.detach().reshape(-1) for p in self.params]))
        self.vector.grad = torch.zeros_like(self.vector)
        self._grads = [g.view_as(p) for g, p in zip(self.vector.grad.split(sizes), self.params)]
        for p, data, grad in zip(self.params, self.vector.data.split(sizes), self._grads):
            p.data = data.view_as(p)
            p.grad = grad
        self._pointers = [p.data_ptr() for p in self.params]

    @property
    def grad(self) -> torch.Tensor:
        """The gradients of all parameters, one vector (what ``backward`` accumulates into)."""
        grad = self.vector.grad
        assert grad is not None  # set in __init__; backward accumulates into it
        return grad

    def covers(self, params: Iterable[torch.Tensor]) -> bool:
        """Whether ``params`` are exactly these parameters, in this order."""
        params = list(params)
        return len(params) == len(self.params) and all(a is b for a, b in zip(params, self.params))

    def zero_grad(self) -> None:
        """Zero the gradient vector; any parameter whose ``.grad`` was replaced gets its view back."""
        self.grad.zero_()
        for p, grad in zip(self.params, self._grads):
            if p.grad is not grad:
                p.grad = grad

    def check(self) -> None:
        """Raise ``RuntimeError`` if a parameter's values no longer live in the vector."""
        for index, (p, pointer) in enumerate(zip(self.params, self._pointers)):
            if p.data_ptr() != pointer:
                raise RuntimeError(f"parameter {index} (shape {tuple(p.shape)}) was given new storage after the "
                                   "optimizer was made; its updates would be lost: make the optimizer after "
                                   "the last change to the model's parameters")

    def merged_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """An optimizer ``state_dict`` over the separate parameters, as the same optimizer's state over
        the vector (per-parameter tensors concatenated in order); one over the vector unchanged."""
        groups = state["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params) or len(self.params) == 1:
            return state
        ids = groups[0]["params"]
        per_param = [state["state"].get(i, {}) for i in ids]
        if not all(per_param):
            return {"state": {}, "param_groups": [{**groups[0], "params": [0]}]}
        merged = {key: torch.cat([s[key].reshape(-1) for s in per_param]) if _per_element(value)
                  else copy.deepcopy(value) for key, value in per_param[0].items()}
        return {"state": {0: merged}, "param_groups": [{**groups[0], "params": [0]}]}


def _per_element(value: Any) -> bool:
    """Whether an optimizer state entry holds one value per parameter element (not a step count)."""
    return torch.is_tensor(value) and value.dim() > 0


class _FlatOptimizer(torch.optim.Optimizer):
    """The mixin of :func:`flat_optimizer`'s classes: a torch optimizer over ``flat.vector``."""

    flat: FlatParameters

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero the gradients in place (``set_to_none`` is ignored: the gradients are views of one vector)."""
        self.flat.zero_grad()

    @torch.no_grad()
    def step(self, closure: Optional[Any] = None) -> Any:
        self.flat.check()
        return super().step(closure)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(self.flat.merged_state(state_dict))


class FlatAdam(_FlatOptimizer, torch.optim.Adam):
    """Adam over one flat vector (torch's fused kernel)."""

    def __init__(self, flat: FlatParameters, lr: float) -> None:
        self.flat = flat
        torch.optim.Adam.__init__(self, [flat.vector], lr=lr, fused=True)


class FlatAdamax(_FlatOptimizer, torch.optim.Adamax):
    """Adamax over one flat vector (the single-tensor path: one tensor needs no multi-tensor kernel)."""

    def __init__(self, flat: FlatParameters, lr: float) -> None:
        self.flat = flat
        torch.optim.Adamax.__init__(self, [flat.vector], lr=lr, foreach=False)


FLAT_OPTIMIZERS: dict[str, Callable[[FlatParameters, float], _FlatOptimizer]] = {"adam": FlatAdam,
                                                                                   "adamax": FlatAdamax}


def flat_optimizer(name: str, params: Iterable[Parameter], lr: float) -> _FlatOptimizer:
    """The optimizer ``name`` ('adam' or 'adamax') over ``params`` laid out as :class:`FlatParameters`."""
    return FLAT_OPTIMIZERS[name](FlatParameters(params), lr)


def flat_parameters(optimizer: torch.optim.Optimizer, params: Iterable[torch.Tensor]) -> Optional[FlatParameters]:
    """The :class:`FlatParameters` ``optimizer`` updates if they are exactly ``params``, else None."""
    flat = getattr(optimizer, "flat", None)
    return flat if isinstance(flat, FlatParameters) and flat.covers(params) else None
