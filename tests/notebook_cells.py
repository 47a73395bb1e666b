"""What the claims tests read from a committed lecture notebook: the printed output of one code cell,
or one Markdown cell (imported by tests/test_claims_*.py; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _one_cell(notebook: Path, kind: str, marker: str) -> dict:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == kind and marker in "".join(c["source"])]
    assert len(cells) == 1, f"expected one {kind} cell containing {marker!r} in {notebook.name}, found {len(cells)}"
    return cells[0]


def stream_output(notebook: Path, marker: str) -> str:
    """The printed output of ``notebook``'s one code cell whose source contains ``marker``."""
    cell = _one_cell(notebook, "code", marker)
    return "".join("".join(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")


def markdown_containing(notebook: Path, marker: str) -> str:
    """The text of ``notebook``'s one Markdown cell that contains ``marker``."""
    return "".join(_one_cell(notebook, "markdown", marker)["source"])
