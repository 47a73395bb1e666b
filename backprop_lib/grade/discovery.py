"""What to grade: the canonical exercises, the submitted notebooks, whose they are and which
exercise each one is.

* Exercises come from the canonical notebooks (``exercises/``, then ``solutions/``, or
  ``--exercises``): the task list is read there, never from a submission.
* A class folder has one sub-folder per student (``class/alice/01_chain_rule.ipynb``) or
  files named after the student (``class/alice_01_chain_rule.ipynb``). A folder without
  student sub-folders whose file names carry no student prefix is ONE student's folder
  (``grade class/alice``), and a single file belongs to its folder's student unless its name
  starts with a student prefix, so regrading keeps the student's name.
* Every file that is not graded is reported (a folder with only ``.py`` or ``.zip`` files
  still gives its student a row saying so).
* Which exercise a notebook is: the generator's metadata, else the tasks its check cells
  name, else its file name; none of these makes one "unknown exercise" row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = ["UsageError", "Exercise", "Submission", "Discovery", "load_exercises", "discover", "find_submissions",
           "identify", "read_notebook", "code_cells", "CHECK_CALL", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
CHECK_CALL = re.compile(r"^\s*check_(\w+)\(\s*([A-Za-z_]\w*)\s*\)\s*;?\s*$")
_PREFIX = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.@+]*?)[_-]+$")


class UsageError(Exception):
    """Bad command line: no such path, no notebooks, output not writable (exit status 2)."""


@dataclass(frozen=True)
class Exercise:
    """A canonical exercise notebook: its name and its graded tasks ``(task, function)`` in order."""

    name: str
    tasks: tuple[tuple[str, str], ...]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _tasks_of(nb: dict) -> list[tuple[str, str]]:
    meta = nb.get("metadata", {}).get("backprop_lib", {})
    tasks = meta.get("tasks") if isinstance(meta, dict) else None
    if tasks:
        return [(t["task"], t["function"]) for t in tasks]
    from ..exercises import task_cells

    return [(t["task"], t["function"]) for t in task_cells(nb)]


def load_exercises(dirs: Iterable[Path] | None = None) -> dict[str, Exercise]:
    """Canonical exercises by name, from ``exercises/`` then ``solutions/`` (first wins)."""
    dirs = list(dirs) if dirs is not None else [ROOT / "exercises", ROOT / "solutions"]
    found: dict[str, Exercise] = {}
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.ipynb")):
            if path.stem in found:
                continue
            try:
                nb = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"canonical notebook {path} cannot be read: {exc}") from None
            tasks = _tasks_of(nb)
            if tasks:
                found[path.stem] = Exercise(path.stem, tuple(tasks))
    return found


# --------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Submission:
    path: Path
    label: str    # as shown in the CSV: relative to the folder given, or the path given
    student: str


@dataclass
class Discovery:
    submissions: list[Submission] = field(default_factory=list)
    #: files that are not graded, by student ("": files of the class folder itself): (label, reason)
    ignored: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: students (folders) with no notebook at all
    no_notebook: list[str] = field(default_factory=list)


def _prefix_student(stem: str, names: list[str]) -> str | None:
    """``alice`` for ``alice_01_chain_rule`` (a student id, then ``_``/``-``, then the exercise)."""
    for name in sorted(names, key=len, reverse=True):
        for key in (name, name[:2]):
            i = stem.find(key)
            if i > 0 and (key == name or not stem[i + 2:i + 3].isdigit()):
                m = _PREFIX.match(stem[:i])
                if m:
                    return m.group(1)
    return None


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in rel.parts)


def discover(paths: list[str], exercise_names: Iterable[str]) -> Discovery:
    """Notebooks to grade (stable order), each with its student, and every file left out."""
    names = list(exercise_names)
    out = Discovery()
    for given in paths:
        root = Path(given)
        if root.is_dir():
            _discover_folder(root, f"{root.name}/" if len(paths) > 1 else "", names, out)
        elif root.is_file():
            if root.suffix != ".ipynb":
                raise UsageError(f"{given}: not a notebook (*.ipynb)")
            student = _prefix_student(root.stem, names) or root.resolve().parent.name
            out.submissions.append(Submission(root, root.as_posix(), student))
        else:
            raise UsageError(f"{given}: no such file or folder")
    if not out.submissions and not out.no_notebook:
        raise UsageError(f"no notebooks (*.ipynb) found in {' '.join(paths)}")
    return out


def _discover_folder(root: Path, prefix: str, names: list[str], out: Discovery) -> None:
    """Add a folder's notebooks to ``out`` (labels start with ``prefix``), its other files to
    ``out.ignored`` and its students without a notebook to ``out.no_notebook``."""
    per_student = _files_by_student(root, names)
    for student in sorted(per_student):
        notebooks = [p for p in per_student[student] if p.suffix == ".ipynb"]
        for path in per_student[student]:
            label = prefix + path.relative_to(root).as_posix()
            if path.suffix == ".ipynb":
                out.submissions.append(Submission(path, label, student))
            else:
                out.ignored.setdefault(student, []).append((label, _why_ignored(path)))
        if not notebooks and student:
            out.no_notebook.append(student)


def _files_by_student(root: Path, names: list[str]) -> dict[str, list[Path]]:
    """A folder's files by student: a subfolder each, a name prefix each (``alice_01.ipynb``), or
    the folder's own name when it holds one student's notebooks; "" for the class folder's own files."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and not _hidden(p.relative_to(root))]
    nested = {p.relative_to(root).parts[0] for p in files if len(p.relative_to(root).parts) > 1}
    top = [p for p in files if len(p.relative_to(root).parts) == 1]
    flat_prefixes = {_prefix_student(p.stem, names) for p in top if p.suffix == ".ipynb"}
    one_student = not nested and (None in flat_prefixes or not flat_prefixes or len(flat_prefixes) == 1
                                  and _looks_like_own_folder(root, flat_prefixes))
    per_student: dict[str, list[Path]] = {}
    for path in files:
        rel = path.relative_to(root)
        if len(rel.parts) > 1:
            student = rel.parts[0]
        elif one_student:
            student = root.resolve().name
        elif path.suffix != ".ipynb" and _prefix_student(path.stem, names) is None:
            student = ""  # a file of the class folder itself (a README, the roster): logged only
        else:
            student = _prefix_student(path.stem, names) or path.stem
        per_student.setdefault(student, []).append(path)
    return per_student


def _looks_like_own_folder(root: Path, prefixes: set) -> bool:
    """A flat folder whose notebooks all carry one prefix: that prefix is its student when it is
    the folder's own name (``alice/alice_01.ipynb``); a class of one otherwise."""
    (only,) = prefixes
    return only is not None and only.lower() == root.resolve().name.lower()


def _why_ignored(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".py", ".txt", ".md", ".html", ".pdf"):
        return f"not a notebook ({suffix} file): only .ipynb files are graded"
    if suffix in (".zip", ".gz", ".tar", ".7z", ".rar"):
        return "an archive: unpack it first, only .ipynb files are graded"
    return "not a notebook: only .ipynb files are graded"


def find_submissions(paths: list[str], exercise_names: Iterable[str]) -> list[Submission]:
    """The notebooks of :func:`discover` alone."""
    return discover(paths, exercise_names).submissions


# --------------------------------------------------------------------------- one notebook


def read_notebook(path: Path) -> tuple[Any, str | None]:
    """``(notebook, None)`` or ``(None, reason it cannot be read)``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"
    if not raw.strip():
        return None, "the file is empty (0 bytes of notebook)" if not raw else "the file is empty (only whitespace)"
    try:
        nb = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark (some editors write one) is fine
    except UnicodeDecodeError:
        return None, "the file is not text (not UTF-8): not a Jupyter notebook"
    except json.JSONDecodeError as exc:
        return None, f"the file is not a valid notebook (JSON error at line {exc.lineno}: {exc.msg})"
    except ValueError as exc:  # not a syntax error: e.g. an integer literal longer than Python converts
        return None, f"the file is not a valid notebook ({str(exc)[:100]})"
    except RecursionError:
        return None, "the file is not a valid notebook (nested too deeply)"
    if isinstance(nb, dict) and isinstance(nb.get("worksheets"), list) and "cells" not in nb:
        nb = _from_v3(nb)  # an old (nbformat 3) notebook
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, "the file is JSON but not a Jupyter notebook (no list of cells)"
    return nb, None


def _from_v3(nb: dict) -> dict:
    """The cells of an nbformat 3 notebook (``worksheets`` of cells with ``input``) as version 4 has them."""
    cells = []
    for sheet in nb["worksheets"]:
        for cell in sheet.get("cells", []) if isinstance(sheet, dict) else []:
            if not isinstance(cell, dict):
                continue
            kind = cell.get("cell_type")
            source = cell.get("input", "") if kind == "code" else cell.get("source", "")
            cells.append({"cell_type": "code" if kind == "code" else "markdown", "metadata": cell.get("metadata", {}),
                          "source": source})
    return {"cells": cells, "metadata": nb.get("metadata", {})}


def _check_tasks(nb: Any) -> set[str]:
    """Tasks named by the notebook's check cells (their metadata or ``check_<task>(f)``)."""
    seen: set[str] = set()
    if not (isinstance(nb, dict) and isinstance(nb.get("cells"), list)):
        return seen
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            continue
        meta = cell["metadata"] if isinstance(cell.get("metadata"), dict) else {}
        info = meta.get("backprop_lib")
        if isinstance(info, dict) and isinstance(info.get("task"), str):
            seen.add(info["task"])
        m = CHECK_CALL.match(_source(cell).strip())
        if m:
            seen.add(m.group(1))
    return seen


def identify(nb: Any, path: Path, exercises: dict[str, Exercise]) -> tuple[str | None, str]:
    """``(exercise, how it was recognised)``: metadata, then check cells, then the file name."""
    if isinstance(nb, dict):
        meta = nb.get("metadata", {})
        meta = meta.get("backprop_lib", {}) if isinstance(meta, dict) else {}
        name = meta.get("exercise") if isinstance(meta, dict) else None
        if isinstance(name, str) and name in exercises:
            return name, "metadata"
    seen = _check_tasks(nb)
    if seen:
        best = max(exercises.values(), key=lambda ex: len(seen & {t for t, _ in ex.tasks}), default=None)
        if best is not None and seen & {t for t, _ in best.tasks}:
            return best.name, "check cells"
    if isinstance(nb, dict) and not seen and _foreign(nb):
        return None, "it has no exercise metadata and no check cells of this course"
    stem = path.stem
    for name in sorted(exercises, key=len, reverse=True):
        if name in stem:
            return name, "file name"
    numbers = set(re.findall(r"(?<!\d)(\d\d)(?!\d)", stem))
    by_number = [name for name in exercises if name[:2] in numbers]
    if len(by_number) == 1:
        return by_number[0], "file name"
    return None, "neither its metadata, its check cells nor its file name names an exercise"


def _foreign(nb: dict) -> bool:
    """A readable notebook with code but nothing of this course (another course's notebook)."""
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    return bool(cells) and not any("backprop_lib" in _source(c) or "NotImplementedError" in _source(c) for c in cells)


def code_cells(nb: dict) -> list[dict]:
    """The code cells to run, numbered from 1 over all cells, without the check cells."""
    cells = []
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        meta = cell["metadata"] if isinstance(cell.get("metadata"), dict) else {}
        if isinstance(meta.get("backprop_lib"), dict) or CHECK_CALL.match(source.strip()):
            continue  # the submission's own check cells: the grader runs the library's checks instead
        cells.append({"index": index, "source": source})
    return cells
