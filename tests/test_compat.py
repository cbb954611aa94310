"""The Python 3.11 / CPU-torch compatibility hook: active, narrow, and faithful."""
from __future__ import annotations

import dataclasses
import subprocess
import sys


from lava_fptt import compat


def test_hook_is_installed_at_startup_for_programs_that_import_lava_first() -> None:
    code = ("import lava.proc.lif.process, lava.lib.dl.slayer, lava.lib.dl.netx, sys; "
            "print('lava_fptt' in sys.modules, any(type(f).__name__ == 'LavaCompatFinder' for f in sys.meta_path))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True"]  # the .pth imported the hook before lava, and it is on sys.meta_path


def test_encoder_defaults_keep_their_values_but_are_not_shared() -> None:
    from lava.magma.compiler.var_model import ByteEncoder, ChipEncoder, CoreEncoder

    a, b = CoreEncoder(), CoreEncoder()
    assert a.x == ByteEncoder() and a == b
    assert a.x is not b.x  # each instance owns its default, as default_factory gives
    assert ChipEncoder().z == ByteEncoder()
    assert dataclasses.dataclass is not None and dataclasses.dataclass.__module__ == "dataclasses"  # restored


def test_object_detection_is_deferred_not_removed() -> None:
    assert compat.needs_lazy_object_detection()  # no working torchvision here
    code = ("import lava.lib.dl.slayer as s\n"
            "print(s.obd.__name__, s.obd.__file__.endswith('__init__.py'), hasattr(s.obd, '__wrapped__'))\n"
            "for attempt in range(2):\n"
            "    try:\n        s.obd.YOLOBase\n    except Exception as e:\n        print(type(e).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    # its module attributes read without running it; a real name runs it, with its own error, every time
    assert out == ["lava.lib.dl.slayer.object_detection", "True", "False", "ModuleNotFoundError", "ModuleNotFoundError"]


def test_a_scan_of_every_module_does_not_run_object_detection() -> None:
    # inspect.getmodule reads __file__ of every module in sys.modules; torch does such a scan when it
    # first imports its compiler (at the first optimizer), so it must not run the deferred subpackage
    code = ("import inspect, sys, lava.lib.dl.slayer\n"
            "inspect.getmodule(sys._getframe(), '/no/such/file.py')\n"
            "print('lava.lib.dl.slayer.object_detection.boundingbox' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


def test_finder_ignores_every_other_module() -> None:
    finder = compat.LavaCompatFinder()
    assert finder.find_spec("lava.proc.lif.process", None) is None
    assert finder.find_spec("json", None) is None


def test_tolerant_dataclass_changes_only_unhashable_instance_defaults() -> None:
    @dataclasses.dataclass
    class Inner:
        value: int = 1

    class Outer:
        __annotations__ = {"inner": Inner, "number": int, "name": str}
        inner = Inner(7)
        number = 3
        name = "n"

    made = compat._tolerant_dataclass(dataclasses.dataclass)(Outer)
    first, second = made(), made()
    assert first.inner == Inner(7) and first.inner is not second.inner
    assert (first.number, first.name) == (3, "n")


def test_dataclass_fix_applies_only_from_python_3_11() -> None:
    assert compat.needs_dataclass_fix() == (sys.version_info >= (3, 11))
