"""Time to execute each notebook top to bottom, as a learner's "Run All" would.

Executes every notebook in notebooks/ and solutions/ in a fresh kernel, one after
the other (nothing is written back: nbclient runs an in-memory copy), and prints a
Markdown table: wall time per notebook (kernel start included), its slowest cell,
and the totals against the course's target (the whole course under 3 minutes).

    .venv/bin/python bench/notebooks.py [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 180.0  # the whole course (lecture + solution notebooks) on 2 cores
SLOW_CELL_S = 20.0


def cell_seconds(cell) -> float | None:
    ex = cell.get("metadata", {}).get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not start or not end:
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


class TimedClient(NotebookClient):
    """Also records each cell's wall time as the client sees it (queue + run + outputs)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wall: dict[int, float] = {}

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        start = time.perf_counter()
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        finally:
            self.wall[cell_index] = time.perf_counter() - start


def run(path: Path, timeout: float) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = TimedClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()[-1][:120]
    except Exception as exc:  # noqa: BLE001 - a timeout or a dead kernel is a result too
        error = f"{type(exc).__name__}: {str(exc)[:100]}"
    seconds = time.perf_counter() - start
    # the client's wall time per cell; the kernel's own timing when the client saw none
    cells = [(i, client.wall.get(i, cell_seconds(c))) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    timed = [(i, s) for i, s in cells if s is not None]
    slow_i, slow_s = max(timed, key=lambda t: t[1]) if timed else (None, 0.0)
    return {
        "path": path.relative_to(ROOT) if path.is_relative_to(ROOT) else path,
        "seconds": seconds,
        "cells": len(cells),
        "slowest_cell": slow_i,
        "slowest_s": slow_s,
        "over": [(i, s) for i, s in timed if s > SLOW_CELL_S],
        "overhead": seconds - sum(s for _, s in timed),
        "error": error,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--timeout", type=float, default=300.0, help="per cell, seconds")
    args = ap.parse_args()
    paths = [p.resolve() for p in args.notebooks] or (
        sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    )
    if not paths:
        print("No notebooks in notebooks/ or solutions/ yet.")
        return 0
    rows = [run(p, args.timeout) for p in paths]

    print("| notebook | code cells | run all (s) | kernel start/stop (s) | slowest cell (s) | status |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        slow = f"{r['slowest_s']:.1f} (cell {r['slowest_cell']})" if r["slowest_cell"] is not None else "-"
        status = "error: " + r["error"].replace("|", "\\|") if r["error"] else "ok"
        print(f"| `{r['path']}` | {r['cells']} | {r['seconds']:.1f} | {r['overhead']:.1f} | {slow} | {status} |")
    groups = {
        "lecture notebooks": [r for r in rows if str(r["path"]).startswith("notebooks")],
        "solution notebooks": [r for r in rows if str(r["path"]).startswith("solutions")],
    }
    print()
    total = sum(r["seconds"] for r in rows)
    for name, group in groups.items():
        if group:
            print(f"- {name}: {len(group)} in {sum(r['seconds'] for r in group):.1f} s")
    verdict = "within" if total < TARGET_S else "OVER"
    print(f"- whole course ({len(rows)} notebooks, one after the other): {total:.1f} s, "
          f"{verdict} the {TARGET_S:.0f} s target")
    for r in rows:
        for i, s in r["over"]:
            print(f"- slow: `{r['path']}` cell {i} took {s:.1f} s (> {SLOW_CELL_S:.0f} s)")
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
