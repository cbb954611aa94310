"""Write the API reference (``docs/api.md``) from the docstrings of the public modules (``make docs``).

For every module in :data:`MODULES`: its docstring, then each public class (signature,
docstring, public methods and properties) and function (signature, docstring) defined in
it, in source order; a module with ``__all__`` lists exactly those names. No third-party
tool: ``inspect`` and the docstrings are the source. ``--check`` exits 1 when the file
differs from what would be written (for a CI step or a pre-commit hook).

Run: ``python tools/api_reference.py [--out docs/api.md] [--check]``.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import pathlib
import re
import sys
import warnings
from typing import Any

MODULES = (
    ("Data", ["lava_fptt.data.dataset", "lava_fptt.data.encoding", "lava_fptt.data.sources",
              "lava_fptt.data.events", "lava_fptt.data.mnist1d"]),
    ("Neurons: one definition of each dynamics", ["lava_fptt.neurons.ltc", "lava_fptt.neurons.ltc_train",
                                                  "lava_fptt.neurons.dense", "lava_fptt.neurons.fixed_point",
                                                  "lava_fptt.neurons.spec", "lava_fptt.neurons.ssnn", "lava_fptt.kinds"]),
    ("Any lava-dl network, online", ["lava_fptt.online.adapter", "lava_fptt.online.blocks", "lava_fptt.online.output"]),
    ("Models and blocks", ["lava_fptt.models.network", "lava_fptt.models.chain", "lava_fptt.models.cuba",
                           "lava_fptt.models.conv", "lava_fptt.models.ltc", "lava_fptt.models.user",
                           "lava_fptt.blocks.ltc", "lava_fptt.blocks.netx_format"]),
    ("Training", ["lava_fptt.training.config", "lava_fptt.training.engine", "lava_fptt.training.methods",
                  "lava_fptt.training.methods.bptt", "lava_fptt.training.methods.sltt", "lava_fptt.training.methods.fptt",
                  "lava_fptt.training.trainer", "lava_fptt.training.checkpoint", "lava_fptt.training.distributed"]),
    ("Export and Lava inference", ["netx_export.writer", "netx_export.loader", "netx_export.validate",
                                   "netx_export.builder", "netx_export.pool", "netx_export.inference",
                                   "netx_export.errors"]),
    ("NIR in and out", ["netx_export.nir.importer", "netx_export.nir.graph", "netx_export.nir.discretize",
                        "netx_export.nir.simulate", "netx_export.nir.compare", "netx_export.nir.export",
                        "netx_export.nir.trainable", "netx_export.nir.peers"]),
    ("Lava processes", ["lava_fptt.proc.ltc.process", "lava_fptt.proc.ltc.models", "lava_fptt.proc.model_pair",
                        "lava_fptt.proc.ssnn.process",
                        "lava_fptt.proc.ssnn.models", "lava_fptt.proc.recorder.process",
                        "lava_fptt.proc.recorder.models"]),
    ("On-chip learning (SSNN-BP)", ["lava_fptt.onchip.learn", "lava_fptt.onchip.config",
                                    "lava_fptt.onchip.reference", "lava_fptt.onchip.lava_network",
                                    "lava_fptt.onchip.storage", "lava_fptt.onchip.ann"]),
    ("Loihi 2 targeting", ["lava_fptt.loihi", "netx_export.resources"]),
    ("Runtime, files, compatibility, benchmarks", ["lava_fptt.runtime", "lava_fptt.files", "lava_fptt.compat",
                                                   "lava_fptt.bench.memory", "lava_fptt.bench.baselines"]),
    ("Command line", ["lava_fptt.cli", "lava_fptt.cli.common"]),
)

HEADER = """# API reference

Generated from the docstrings by `python tools/api_reference.py` (`make docs`); do not
edit by hand. Public names of each module, in source order. The architecture these
modules form is in `docs/architecture.md`; the command line in the README.

"""


def clean(text: str) -> str:
    """Signatures without memory addresses (stable output)."""
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def doc(obj: Any) -> str:
    text = inspect.getdoc(obj) or ""
    return text.strip()


def signature(obj: Any) -> str:
    try:
        return clean(str(inspect.signature(obj)))
    except (TypeError, ValueError):
        return "(...)"


def public_members(module: Any) -> list[tuple[str, Any]]:
    """Classes and functions defined in ``module`` (or listed in its ``__all__``), in source order."""
    names = getattr(module, "__all__", None)
    members = []
    for name, obj in vars(module).items():
        if names is not None:
            if name not in names:
                continue
        elif name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            members.append((name, obj))

    def line(item: tuple[str, Any]) -> tuple[int, str]:
        try:
            return inspect.getsourcelines(item[1])[1], item[0]
        except (OSError, TypeError):
            return 10**9, item[0]

    return sorted(members, key=line)


def class_section(name: str, cls: type) -> list[str]:
    out = [f"#### class `{name}{signature(cls)}`", ""]
    if doc(cls):
        out += [doc(cls), ""]
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, property):
            text = doc(value)
            out += [f"- property `{attr}`" + (f": {text.splitlines()[0]}" if text else "")]
        elif inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
            func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            text = doc(func)
            out += [f"- `{attr}{signature(func)}`" + (f": {text}" if text else "")]
    out.append("")
    return [line.replace("\n", "\n  ") if line.startswith("- ") else line for line in out]


def module_section(name: str) -> list[str]:
    module = importlib.import_module(name)
    out = [f"### `{name}`", ""]
    if doc(module):
        out += [doc(module), ""]
    for member_name, obj in public_members(module):
        if inspect.isclass(obj):
            out += class_section(member_name, obj)
        else:
            out += [f"#### `{member_name}{signature(obj)}`", ""]
            if doc(obj):
                out += [doc(obj), ""]
    return out


def render() -> str:
    lines = [HEADER.rstrip("\n"), "", "## Contents", ""]
    for title, modules in MODULES:
        lines.append(f"- {title}: " + ", ".join(f"`{m}`" for m in modules))
    lines.append("")
    for title, modules in MODULES:
        lines += [f"## {title}", ""]
        for name in modules:
            lines += module_section(name)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("docs/api.md"))
    parser.add_argument("--check", action="store_true", help="exit 1 if --out is not up to date; write nothing")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run 'make docs'", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
