"""Compatibility of lava-nc 0.10 and lava-dl 0.6 with Python 3.11 and a CPU-only torch.

Both Lava packages were last released for Python 3.10 and torch 2.3 with a working
torchvision. On this project's platform two things break, and this module is the
only place that deals with them. Each fix is applied lazily, to exactly one
module, and only when the problem is present; otherwise nothing happens.

1. ``lava.magma.compiler.var_model`` declares dataclass fields whose defaults are
   instances of another (unhashable) dataclass, e.g. ``x: ByteEncoder =
   ByteEncoder()``. Python 3.11 rejects such defaults with ``ValueError: mutable
   default ... use default_factory``, so no Lava process can be imported. While
   that one module executes, :func:`dataclasses.dataclass` is wrapped so that an
   unhashable dataclass-instance default becomes ``field(default_factory=...)``
   returning a copy of it: the fields and their default values stay as written.
   Applied only on Python >= 3.11.

2. ``lava.lib.dl.slayer`` imports its ``object_detection`` subpackage eagerly, and
   that imports OpenCV and torchvision. No CPU build of torchvision exists here
   and the CUDA builds fail at import against the CPU torch. The subpackage's
   execution is therefore deferred (:class:`_DeferredLoader`): ``slayer`` imports,
   and the subpackage runs, with its usual errors, when one of its names is first
   used. Its module attributes (``__file__``, ``__path__``, ...) stay readable without
   running it, because tools scan every module in ``sys.modules`` for them
   (``inspect.getmodule``, called when torch first imports its compiler, e.g. at the
   first optimizer); :class:`importlib.util.LazyLoader` ran the subpackage on such a
   scan and failed it. Applied only when ``torchvision`` or ``cv2`` cannot be imported.

The fixes are installed as an import hook (:func:`install`) by the file
``lava_fptt_compat.pth`` that the package installs into site-packages, so they
hold for any program in the environment, including one that imports ``lava``
before ``lava_fptt`` and Lava's own test suites. This module imports nothing
heavy: it runs at interpreter start-up.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Callable, Optional, Sequence

VAR_MODEL = "lava.magma.compiler.var_model"
OBJECT_DETECTION = "lava.lib.dl.slayer.object_detection"


def needs_dataclass_fix() -> bool:
    """Python 3.11 started rejecting unhashable dataclass field defaults."""
    return sys.version_info >= (3, 11)


def needs_lazy_object_detection() -> bool:
    """True when slayer's object-detection subpackage cannot be imported.

    It needs OpenCV and a torchvision that matches the installed torch. Called
    only when slayer itself is being imported, so torch is already loaded.
    """
    for name in ("cv2", "torchvision"):
        try:
            importlib.import_module(name)
        except Exception:  # broken builds raise RuntimeError, not only ImportError
            return True
    return False


def _copying_factory(default: Any) -> Callable[[], Any]:
    def factory() -> Any:
        return copy.deepcopy(default)

    return factory


def _with_default_factories(cls: type) -> type:
    """Turn unhashable dataclass-instance defaults of ``cls`` into default factories."""
    for name in getattr(cls, "__annotations__", {}):
        default = cls.__dict__.get(name, dataclasses.MISSING)
        if (
            dataclasses.is_dataclass(default)
            and not isinstance(default, type)
            and type(default).__hash__ is None
        ):
            setattr(cls, name, dataclasses.field(default_factory=_copying_factory(default)))
    return cls


def _tolerant_dataclass(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``dataclasses.dataclass`` to apply :func:`_with_default_factories` first."""

    def dataclass(cls: Optional[type] = None, /, **kwargs: Any) -> Any:
        if cls is None:
            return lambda c: original(_with_default_factories(c), **kwargs)
        return original(_with_default_factories(cls), **kwargs)

    return dataclass


class _WrappingLoader(importlib.abc.Loader):
    """A loader that creates the module as the one it wraps does; subclasses change how it runs."""

    def __init__(self, wrapped: importlib.abc.Loader) -> None:
        self.wrapped = wrapped

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:
        return self.wrapped.create_module(spec)


class _DataclassDefaultsLoader(_WrappingLoader):
    """Executes a module while ``dataclasses.dataclass`` tolerates instance defaults."""

    def exec_module(self, module: ModuleType) -> None:
        original = dataclasses.dataclass
        dataclasses.dataclass = _tolerant_dataclass(original)
        try:
            self.wrapped.exec_module(module)
        finally:
            dataclasses.dataclass = original


class _DeferredLoader(_WrappingLoader):
    """Runs a package the first time one of its names is used, not at import.

    Until then the module holds only what the import system sets (``__file__``,
    ``__path__``, ``__spec__``, ...); a module-level ``__getattr__`` answers any other
    dunder name with ``AttributeError`` (as a plain module does) and any other name by
    running the package in the module's namespace (tried again at the next use if it fails).
    """

    def exec_module(self, module: ModuleType) -> None:
        wrapped = self.wrapped

        def run_on_first_use(name: str) -> Any:
            if name.startswith("__") and name.endswith("__"):
                raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
            del module.__dict__["__getattr__"]
            try:
                wrapped.exec_module(module)
            except BaseException:
                module.__dict__["__getattr__"] = run_on_first_use
                raise
            return getattr(module, name)

        module.__dict__["__getattr__"] = run_on_first_use


class LavaCompatFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that re-wraps the loader of the two affected modules."""

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]],
        target: Optional[ModuleType] = None,
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname == VAR_MODEL and needs_dataclass_fix():
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = _DataclassDefaultsLoader(spec.loader)
            return spec
        if fullname == OBJECT_DETECTION and needs_lazy_object_detection():
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = _DeferredLoader(spec.loader)
            return spec
        return None


def installed() -> bool:
    """Whether the import hook is active in this interpreter."""
    return any(isinstance(finder, LavaCompatFinder) for finder in sys.meta_path)


def install() -> None:
    """Activate the hook (idempotent). Modules imported earlier are not affected."""
    if not installed():
        sys.meta_path.insert(0, LavaCompatFinder())
