"""The API reference generator (tools/api_reference.py, ``make docs``) builds from the docstrings."""
from __future__ import annotations

import importlib.util
import pathlib

TOOL = pathlib.Path(__file__).resolve().parent.parent / "tools" / "api_reference.py"


def test_api_reference_renders_every_listed_module() -> None:
    spec = importlib.util.spec_from_file_location("api_reference", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.render()
    for _, names in module.MODULES:
        for name in names:
            assert f"### `{name}`" in text
    assert "#### `resource_report(" in text and "#### `train(" in text and " at 0x" not in text


def test_committed_api_reference_is_current() -> None:
    """docs/api.md is what the docstrings give now (regenerate with ``make docs``)."""
    spec = importlib.util.spec_from_file_location("api_reference", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (TOOL.parent.parent / "docs" / "api.md").read_text()
    assert module.render() == committed, "docs/api.md is out of date: run 'make docs'"
