"""Generate the student notebooks in ``exercises/`` from ``solutions/``.

``solutions/NN_name.ipynb`` is the single source of truth. In its code cells a
solution is wrapped in markers::

    def central_difference(f, x, h):
        ### BEGIN SOLUTION
        return (f(x + h) - f(x - h)) / (2 * h)
        ### END SOLUTION

and the generator replaces the block with a stub at the same indentation::

        # YOUR CODE HERE
        raise NotImplementedError("central_difference: replace this line with your code")

In Markdown cells the block becomes *Write your answer here.* Outputs and
execution counts are stripped, cell ids kept. Each check cell (a cell whose code is
``check_<task>(<function>)``) gets metadata ``{"backprop_lib": {"task": ..., "function": ...}}``
and the notebook lists its tasks in ``metadata["backprop_lib"]["tasks"]``: the grader
uses them to run the library's checks, whatever a submission's own cells say.

Usage::

    python -m backprop_lib.exercises            # rewrite exercises/ from solutions/
    python -m backprop_lib.exercises --check    # exit 1, naming notebook and cell, if out of date
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

__all__ = ["MarkerError", "generate_notebook", "generate_all", "check_all", "render", "task_cells"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CHECK_CELL = re.compile(r"^\s*(check_(\w+))\(\s*([A-Za-z_]\w*)\s*\)\s*;?\s*$")
METADATA_KEY = "backprop_lib"
ROOT = Path(__file__).resolve().parent.parent


class MarkerError(ValueError):
    """Malformed solution markers (unclosed, nested, or END without BEGIN)."""


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _stub(indent: str, cell: dict, function: str | None) -> list[str]:
    if cell["cell_type"] == "markdown":
        return [f"{indent}*Write your answer here.*"]
    what = f"{function}: replace" if function else "Replace"
    return [
        f"{indent}# YOUR CODE HERE",
        f'{indent}raise NotImplementedError("{what} this line with your code")',
    ]


def _strip_solutions(source: str, where: str, cell: dict) -> str:
    out: list[str] = []
    inside_since: int | None = None
    function: str | None = None
    for lineno, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        m = re.match(r"\s*def\s+([A-Za-z_]\w*)\s*\(", line)
        if m and inside_since is None:
            function = m.group(1)
        if stripped.startswith(BEGIN):
            if inside_since is not None:
                raise MarkerError(f"{where}, line {lineno}: nested '{BEGIN}' "
                                  f"(the block opened on line {inside_since} is not closed)")
            inside_since = lineno
            out.extend(_stub(line[: len(line) - len(line.lstrip())], cell, function))
        elif stripped.startswith(END):
            if inside_since is None:
                raise MarkerError(f"{where}, line {lineno}: '{END}' without a matching '{BEGIN}'")
            inside_since = None
        elif inside_since is None:
            out.append(line)
    if inside_since is not None:
        raise MarkerError(f"{where}, line {inside_since}: '{BEGIN}' is never closed by '{END}'")
    return "\n".join(out)


def task_cells(nb: dict) -> list[dict]:
    """The graded tasks of a notebook, in order: ``[{"task", "function", "cell_id"}]``."""
    tasks = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        m = CHECK_CELL.match(_source(cell).strip())
        if m:
            tasks.append({"task": m.group(2), "function": m.group(3), "cell_id": cell.get("id")})
    return tasks


def generate_notebook(solution: dict, name: str = "<notebook>") -> dict:
    """Return the exercise notebook for a solution notebook (input left unchanged)."""
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.get("cells", [])):
        where = f"{name}, cell {index} (id {cell.get('id', '?')})"
        source = _source(cell)
        if cell["cell_type"] in ("code", "markdown") and (BEGIN in source or END in source):
            source = _strip_solutions(source, where, cell)
        cell["source"] = source.splitlines(keepends=True)  # as nbformat stores it
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            meta = {k: v for k, v in cell.get("metadata", {}).items()
                    if k not in ("execution", "scrolled", METADATA_KEY)}
            m = CHECK_CELL.match(source.strip())
            if m:
                meta[METADATA_KEY] = {"task": m.group(2), "function": m.group(3)}
            cell["metadata"] = meta
    tasks = [{"task": t["task"], "function": t["function"]} for t in task_cells(nb)]
    nb.setdefault("metadata", {})[METADATA_KEY] = {"exercise": Path(name).stem, "tasks": tasks}
    nb["metadata"].pop("widgets", None)
    return nb


def render(nb: dict) -> str:
    """Serialise like Jupyter/nbformat do (indent 1, sorted keys), so saved files stay stable."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _pairs(solutions: Path, exercises: Path):
    for path in sorted(solutions.glob("*.ipynb")):
        yield path, exercises / path.name


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MarkerError(f"{path}: not a valid notebook (JSON error: {exc})") from None


def generate_all(solutions: Path = ROOT / "solutions", exercises: Path = ROOT / "exercises") -> list[Path]:
    """Write every exercise notebook; returns the paths written. Removes stale exercises."""
    exercises.mkdir(exist_ok=True)
    written = []
    for src, dst in _pairs(solutions, exercises):
        text = render(generate_notebook(_load(src), src.name))
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.write_text(text, encoding="utf-8")
            written.append(dst)
    wanted = {p.name for p in solutions.glob("*.ipynb")}
    for stale in exercises.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
            written.append(stale)
    return written


def check_all(solutions: Path = ROOT / "solutions", exercises: Path = ROOT / "exercises") -> list[str]:
    """Problems that make exercises/ differ from what the generator makes (empty: in sync)."""
    problems = []
    for src, dst in _pairs(solutions, exercises):
        expected = generate_notebook(_load(src), src.name)
        if not dst.exists():
            problems.append(f"{dst} is missing (generated from {src})")
            continue
        actual = _load(dst)
        if render(actual) == render(expected) and dst.read_text(encoding="utf-8") == render(expected):
            continue
        problems.append(f"{dst} is out of date: {_first_difference(actual, expected)}")
    wanted = {p.name for p in solutions.glob("*.ipynb")}
    for extra in sorted(exercises.glob("*.ipynb")):
        if extra.name not in wanted:
            problems.append(f"{extra} has no solution notebook in {solutions}")
    return problems


def _first_difference(actual: dict, expected: dict) -> str:
    a_cells, e_cells = actual.get("cells", []), expected.get("cells", [])
    for i, (a, e) in enumerate(zip(a_cells, e_cells)):
        if a != e:
            keys = sorted(k for k in set(a) | set(e) if a.get(k) != e.get(k))
            return f"cell {i} (id {e.get('id', '?')}) differs in {', '.join(keys)}"
    if len(a_cells) != len(e_cells):
        return f"it has {len(a_cells)} cells, the solution notebook gives {len(e_cells)}"
    if actual.get("metadata") != expected.get("metadata"):
        return "notebook metadata differs"
    return "formatting differs (regenerate it)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backprop_lib.exercises", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check_all(args.solutions, args.exercises)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("Run `make exercises` (python -m backprop_lib.exercises) to regenerate.", file=sys.stderr)
                return 1
            print(f"exercises/ is in sync with {len(list(args.solutions.glob('*.ipynb')))} solution notebooks")
            return 0
        written = generate_all(args.solutions, args.exercises)
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("exercises/ already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
