"""Rules every notebook of the course keeps: what the learner sees and what nbval compares.

- nbval's markers are cell tags (``nbval-ignore-output``, ``nbval-skip``), never comments in
  the code a learner reads;
- a cell that shows an interactive widget is tagged, so nbval does not compare a live view
  (a progress bar is not interactive: its cell's printed numbers stay compared);
- a cell that quotes the library's source is *not* tagged: nbval compares the quote with the
  current source, so a change to the library fails the notebook test until it is re-run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
NOTEBOOKS = EXECUTED + sorted((ROOT / "exercises").glob("*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip"}


def _cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        yield index, cell, source


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_nbval_markers_are_cell_tags_not_comments_the_learner_reads(path):
    offending = [i for i, cell, source in _cells(path)
                 if cell["cell_type"] == "code" and "NBVAL_" in source.upper().replace("-", "_")]
    assert not offending, f"{_name(path)}: cells {offending} carry an nbval comment; use a cell tag instead"


@pytest.mark.parametrize("path", EXECUTED, ids=_name)
def test_cells_that_show_widgets_are_tagged_to_ignore_their_output(path):
    untagged = []
    for i, cell, _ in _cells(path):
        if cell["cell_type"] != "code":
            continue
        shows_widget = any(WIDGET_MIME in out.get("data", {})
                           and not "".join(out["data"].get("text/plain", "")).startswith("IntProgress(")
                           for out in cell.get("outputs", []))
        if shows_widget and not NBVAL_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            untagged.append(i)
    assert not untagged, f"{_name(path)}: cells {untagged} show a widget but are compared by nbval"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_quoted_library_source_is_compared_by_nbval(path):
    hidden = [i for i, cell, source in _cells(path)
              if cell["cell_type"] == "code" and ("library_line(" in source or "getsource(" in source)
              and NBVAL_TAGS & set(cell.get("metadata", {}).get("tags", []))]
    assert not hidden, (f"{_name(path)}: cells {hidden} quote the library's source but nbval ignores "
                        "their output, so the quote can go stale")


LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_no_notebook_cites_sources_the_course_does_not_define(path):
    """Primary sources only: "the essays" (the course's commissioning notes) mean nothing to a learner."""
    cited = [i for i, _, source in _cells(path) if "essay" in source.lower()]
    assert not cited, f"{_name(path)}: cells {cited} mention 'essays'; cite the primary work instead"


@pytest.mark.parametrize("path", LECTURES, ids=_name)
def test_every_lecture_ends_with_a_list_of_its_primary_references(path):
    cells = [(cell, source) for _, cell, source in _cells(path) if source.strip()]
    cell, source = cells[-1]
    assert cell["cell_type"] == "markdown" and source.lstrip().startswith("## References"), (
        f"{_name(path)}: the last cell must be the '## References' section")
    entries = [line for line in source.splitlines() if line.startswith("- ")]
    assert len(entries) >= 3, f"{_name(path)}: the References list has {len(entries)} entries"
    for entry in entries:  # a dated work, or documentation at its address
        assert re.search(r"\((19|20)\d\d\)", entry) or "https://" in entry, (
            f"{_name(path)}: reference with neither a year nor an address: {entry}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_code_cells_compile_without_warnings(path):
    """No invalid escape sequence ("$\\delta$" in a plain string) and no other compile-time warning:
    Python 3.12+ prints them to stderr, which nbval then reports as unexpected output."""
    import warnings

    for index, cell, source in _cells(path):
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(code, f"{_name(path)} cell {index}", "exec")
