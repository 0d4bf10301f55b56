"""Writing a benchmark's JSON results (shared by every script under ``benchmarks/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_results(path: Path, results: dict[str, Any], *, echo: bool = True) -> None:
    """Write ``results`` as indented JSON to ``path`` (folders created) and echo them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    path.write_text(text + "\n")
    if echo:
        print(text)
