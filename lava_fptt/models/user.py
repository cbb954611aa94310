"""A user's own network class, read from a Python file (``lava-fptt train --network FILE.py:CLASS``).

The class is constructed with no arguments and wrapped by :func:`lava_fptt.online.wrap`.
A training run keeps a copy of the file in its run directory (:data:`USER_FILE`), and
the run's config records the class name and the copy's SHA-256, so resuming, exporting
and running the run in Lava rebuild the network from the copy, whatever happens to the
original file afterwards.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import shutil
import sys
import tempfile
from dataclasses import dataclass

import torch

USER_FILE = "network.py"
"""Name of the copy of a user's network file in a run directory."""


@dataclass(frozen=True)
class UserNetwork:
    """Which class of which file: ``class_name`` in a file whose content hashes to ``sha256``."""

    class_name: str
    sha256: str


def parse_spec(spec: str) -> tuple[pathlib.Path, str]:
    """``"path/to/file.py:ClassName"`` -> (path, class name); ``ValueError`` for any other form."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise ValueError(f"--network {spec!r}: expected FILE.py:CLASS, e.g. my_net.py:Network")
    return pathlib.Path(path), name


def file_sha256(path: pathlib.Path) -> str:
    """SHA-256 of a file's bytes; ``ValueError`` naming the file when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise ValueError(f"{path}: cannot read the network file ({err.strerror})") from None


def describe_file(path: pathlib.Path, class_name: str) -> UserNetwork:
    """The :class:`UserNetwork` of ``class_name`` in ``path`` as it is now."""
    return UserNetwork(class_name, file_sha256(path))


def build(path: pathlib.Path, source: UserNetwork) -> torch.nn.Module:
    """Import ``path``, check it is the file ``source`` names, construct ``source.class_name()``.

    The module is imported under a name of its own (from the hash), so two different
    files, or two versions of one, never share a module.
    """
    digest = file_sha256(path)
    if digest != source.sha256:
        raise ValueError(f"{path}: this is not the network file the run was trained with (its content changed); "
                         "use the run directory's copy")
    name = f"lava_fptt_user_network_{digest[:16]}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"{path}: not a Python file that can be imported")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as err:
            raise ValueError(f"{path}: importing it failed: {type(err).__name__}: {err}") from None
        sys.modules[name] = module
    cls = getattr(module, source.class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, torch.nn.Module):
        raise ValueError(f"{path}: has no torch.nn.Module class named {source.class_name}")
    try:
        return cls()
    except Exception as err:
        raise ValueError(f"{path}: {source.class_name}() failed: {type(err).__name__}: {err}") from None


def keep_copy(path: pathlib.Path, run_dir: pathlib.Path, name: str = USER_FILE) -> pathlib.Path:
    """Copy the network file into ``run_dir`` as ``name`` (atomically) unless the copy is there already."""
    target = run_dir / name
    if target.exists():
        return target
    handle, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=run_dir)
    os.close(handle)
    try:
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return target
