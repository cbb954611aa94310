"""Where a benchmark script leaves its results: a Markdown table and the JSON it was made from."""
from __future__ import annotations

import json
import pathlib
from typing import Any


def write(out: pathlib.Path, name: str, text: str, data: Any) -> None:
    """Write ``out/name.md`` (``text``) and ``out/name.json`` (``data``), creating ``out``; print ``text``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(text)
    (out / f"{name}.json").write_text(json.dumps(data, indent=2))
    print(text)
