"""Grade a folder of submitted exercise notebooks with the library's own checks.

Usage::

    python -m backprop_lib.grade SUBMISSIONS... --out grades.csv [--wide totals.csv]
                                 [--timeout 120] [--cell-timeout 30] [--memory 2048] [--jobs 2]

``SUBMISSIONS`` is a folder (searched recursively for ``*.ipynb``; one sub-folder or one
file-name prefix per student, e.g. ``alice/01_chain_rule.ipynb`` or
``alice_01_chain_rule.ipynb``) or a list of notebook files.

How a submission is graded:

1. Its exercise is read from the notebook metadata written by the generator
   (``metadata["backprop_lib"]["exercise"]``), else from its file name. The list of tasks
   comes from the canonical notebook in ``exercises/`` (or ``solutions/``), never from the
   submission, so deleting a task's cells cannot remove the task.
2. A fresh Python process (an IPython shell, the engine of the Jupyter kernel) runs the
   submission's code cells in order, except its check cells. A cell that raises, calls
   ``sys.exit()`` or runs longer than ``--cell-timeout`` is stopped and the next cell runs.
   The process has a wall-clock limit (``--timeout``, for the whole notebook) and an
   address-space limit (``--memory`` MiB). If a cell ends the process (``os._exit``, a
   crash, an endless loop that ignores interrupts) the notebook is run again without it.
3. In the same process the grader restores anything the notebook replaced in numpy,
   the builtins or ``backprop_lib``, imports ``backprop_lib.checks`` afresh, looks up each
   task's function by the name the exercise gives it and runs the library's check on it.
   What the submission's own check cells print is never read.

The CSV has one row per submission and task (a notebook that cannot run still gets a row
per task, scored 0, with the reason): ``student, submission, exercise, task, score,
max_score, status, feedback``. ``status`` is the check's (``pass``, ``fail``,
``not_implemented``, ``error``) or the grader's (``missing``: no such function;
``not_graded``: the process ended or ran out of time first; ``unreadable``: not a notebook;
``unknown_exercise``). The exit status is 0 once grading completed, whatever the
submissions did; 2 for a usage error.

This is process isolation with time and memory limits, not a security boundary: code in a
submission runs with the instructor's permissions.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = ["COLUMNS", "Exercise", "Submission", "load_exercises", "find_submissions", "grade_submission",
           "grade_all", "write_csv", "write_wide_csv", "summary_table", "main"]

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_PARENT = str(Path(__file__).resolve().parent.parent)
COLUMNS = ["student", "submission", "exercise", "task", "score", "max_score", "status", "feedback"]
CHECK_CALL = re.compile(r"^\s*check_(\w+)\(\s*([A-Za-z_]\w*)\s*\)\s*;?\s*$")
MAX_ATTEMPTS = 3
KILL_GRACE = 3.0  # seconds past a cell's limit before the parent kills the process


class UsageError(Exception):
    """Bad command line: no such path, no notebooks, output not writable (exit status 2)."""


# --------------------------------------------------------------------------- exercises


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
    from .exercises import task_cells

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


def _load_registry(check_files: list[str]) -> dict[str, float]:
    """Points of every registered task (importing the library's checks and any extra files)."""
    from .checks import registry

    for path in check_files:
        _import_check_file(path)
    return {name: check.points for name, check in registry().items()}


def _import_check_file(path: str):
    import importlib.util

    name = "_backprop_grade_extra_" + re.sub(r"\W", "_", str(Path(path).resolve()))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"--checks {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Submission:
    path: Path
    label: str  # as shown in the CSV: relative to the folder given, or the path given
    student: str


def _student_from_stem(stem: str, exercise_names: Iterable[str]) -> str | None:
    for name in sorted(exercise_names, key=len, reverse=True):
        i = stem.find(name)
        if i >= 0:
            rest = (stem[:i].strip("_-. ") or stem[i + len(name):].strip("_-. "))
            return rest or None
    return stem


def find_submissions(paths: list[str], exercise_names: Iterable[str]) -> list[Submission]:
    """Notebooks to grade, in a stable order, each with its student (folder or file-name prefix)."""
    names = list(exercise_names)
    subs: list[Submission] = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            prefix = f"{root.name}/" if len(paths) > 1 else ""
            for nb in sorted(root.rglob("*.ipynb")):
                rel = nb.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not nb.is_file():
                    continue  # .ipynb_checkpoints and hidden folders
                if len(rel.parts) > 1:
                    student = rel.parts[0]
                else:
                    student = _student_from_stem(nb.stem, names) or root.name
                subs.append(Submission(nb, prefix + rel.as_posix(), student))
        elif root.is_file():
            student = _student_from_stem(root.stem, names) or root.resolve().parent.name
            subs.append(Submission(root, root.as_posix(), student))
        else:
            raise UsageError(f"{given}: no such file or folder")
    if not subs:
        raise UsageError(f"no notebooks (*.ipynb) found in {' '.join(paths)}")
    return subs


def _identify(nb: dict | None, sub: Submission, exercises: dict[str, Exercise]) -> str | None:
    if isinstance(nb, dict):
        meta = nb.get("metadata", {})
        meta = meta.get("backprop_lib", {}) if isinstance(meta, dict) else {}
        name = meta.get("exercise") if isinstance(meta, dict) else None
        if isinstance(name, str) and name in exercises:
            return name
    stem = sub.path.stem
    for name in sorted(exercises, key=len, reverse=True):
        if name in stem:
            return name
    numbers = set(re.findall(r"(?<!\d)(\d\d)(?!\d)", stem))
    by_number = [name for name in exercises if name[:2] in numbers]
    if len(by_number) == 1:
        return by_number[0]
    if isinstance(nb, dict) and isinstance(nb.get("cells"), list):  # by the tasks its check cells name
        seen = set()
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
            task = meta.get("backprop_lib", {}).get("task") if isinstance(meta.get("backprop_lib"), dict) else None
            m = CHECK_CALL.match(_source(cell).strip()) if isinstance(cell, dict) else None
            seen |= {t for t in (task, m.group(1) if m else None) if t}
        matches = [name for name, ex in exercises.items() if seen & {t for t, _ in ex.tasks}]
        if len(matches) == 1:
            return matches[0]
    return None


# --------------------------------------------------------------------------- grading one submission


@dataclass
class Options:
    timeout: float = 120.0
    cell_timeout: float = 30.0
    task_timeout: float = 60.0
    memory_mb: int = 2048
    check_files: list[str] = field(default_factory=list)


def _row(sub: Submission, exercise: str, task: str, score: float, max_score: float, status: str, feedback: str):
    return {"student": sub.student, "submission": sub.label, "exercise": exercise, "task": task,
            "score": score, "max_score": max_score, "status": status, "feedback": " ".join(feedback.split())}


def _defining_cell(cells: list[dict], function: str) -> int | None:
    pattern = re.compile(rf"^(?:def\s+{re.escape(function)}\s*\(|{re.escape(function)}\s*=)", re.MULTILINE)
    found = None
    for cell in cells:
        if pattern.search(cell["source"]):
            found = cell["index"]
    return found


def _describe_end(returncode: int | None, killed_for: str | None) -> str:
    if killed_for:
        return killed_for
    if returncode is None:
        return "the process did not report"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        extra = {"SIGSEGV": " (a crash in compiled code)", "SIGKILL": " (killed, perhaps out of memory)",
                 "SIGABRT": " (aborted, perhaps out of memory)"}.get(name, "")
        return f"the Python process was killed by {name}{extra}"
    return f"the Python process exited with code {returncode} (os._exit() or a crash)"


def grade_submission(sub: Submission, exercises: dict[str, Exercise], points: dict[str, float],
                     options: Options) -> list[dict]:
    """Rows for one submission: one per task of its exercise (never raises for a bad submission)."""
    try:
        raw = sub.path.read_bytes()
    except OSError as exc:
        raw, read_error = None, f"cannot read the file: {exc.strerror or exc}"
    else:
        read_error = None
    nb: Any = None
    if raw is not None and not raw.strip():
        read_error = "the file is empty (0 bytes of notebook)" if not raw else "the file is empty (only whitespace)"
    elif raw is not None:
        try:
            nb = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            read_error = "the file is not text (not UTF-8): not a Jupyter notebook"
        except ValueError as exc:
            read_error = f"the file is not a valid notebook (JSON error at line {exc.lineno}: {exc.msg})"
        else:
            if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
                read_error, nb = "the file is JSON but not a Jupyter notebook (no list of cells)", None

    name = _identify(nb, sub, exercises)
    if name is None:
        reason = read_error or "the notebook has no exercise metadata and its file name names no exercise"
        return [_row(sub, "", "", 0, 0, "unknown_exercise",
                     f"could not tell which exercise this is: {reason}. Known exercises: {', '.join(sorted(exercises))}.")]
    exercise = exercises[name]
    if read_error is not None:
        return [_row(sub, name, task, 0, points.get(task, 0), "unreadable", f"not graded: {read_error}.")
                for task, _ in exercise.tasks]

    cells = []
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        if isinstance(meta.get("backprop_lib"), dict) or CHECK_CALL.match(source.strip()):
            continue  # the submission's own check cells: the grader runs the library's checks instead
        cells.append({"index": index, "source": source})

    outcome = _run_with_retries(cells, exercise, options)
    rows = []
    for task, function in exercise.tasks:
        max_score = points.get(task, 0.0)
        if task in outcome.results:
            r = outcome.results[task]
            feedback = r["message"]
            if r["status"] == "missing":
                feedback = _missing_reason(function, cells, outcome)
            if outcome.notes:
                feedback += " Note: " + " ".join(outcome.notes)
            rows.append(_row(sub, name, task, r["score"], points.get(task, r["max_score"]), r["status"], feedback))
        elif task in outcome.fatal_tasks:
            rows.append(_row(sub, name, task, 0, max_score, "fail", outcome.fatal_tasks[task]))
        else:
            rows.append(_row(sub, name, task, 0, max_score, "not_graded", f"not graded: {outcome.stopped}."))
    return rows


@dataclass
class _Outcome:
    results: dict[str, dict] = field(default_factory=dict)
    cell_errors: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    fatal_tasks: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stopped: str = "the notebook did not finish"


def _missing_reason(function: str, cells: list[dict], outcome: _Outcome) -> str:
    where = _defining_cell(cells, function)
    head = f"no function `{function}` was defined when the notebook ran"
    if where is None:
        return (f"{head}: the notebook has no `def {function}(...)`. Was it renamed or its cell deleted? "
                "Keep the name the exercise gives it.")
    if where in outcome.skipped:
        return f"{head}: the cell that defines it (cell {where}) {outcome.skipped[where]}, so it was skipped."
    if where in outcome.cell_errors:
        return f"{head}: the cell that defines it (cell {where}) failed: {outcome.cell_errors[where]}."
    return f"{head}: cell {where} mentions it but did not define it at the top level of the notebook."


def _run_with_retries(cells: list[dict], exercise: Exercise, options: Options) -> _Outcome:
    outcome = _Outcome()
    deadline = time.monotonic() + options.timeout
    for _attempt in range(MAX_ATTEMPTS):
        remaining = deadline - time.monotonic()
        if remaining <= 1.0:
            outcome.stopped = f"the notebook used up its time limit of {options.timeout:g} s"
            break
        tasks = [{"task": t, "function": f} for t, f in exercise.tasks
                 if t not in outcome.results and t not in outcome.fatal_tasks]
        events, returncode, killed_for = _run_worker(cells, tasks, outcome.skipped, remaining, options)
        current_cell = current_task = None
        finished = False
        for ev in events:
            kind = ev.get("event")
            if kind == "cell_start":
                current_cell = ev["index"]
            elif kind == "cell_end":
                current_cell = None
                if ev.get("error"):
                    outcome.cell_errors[ev["index"]] = ev["error"]
                else:
                    outcome.cell_errors.pop(ev["index"], None)
            elif kind == "cell_skipped":
                outcome.skipped.setdefault(ev["index"], ev["reason"])
            elif kind == "restored":
                note = ev["message"]
                if note not in outcome.notes:
                    outcome.notes.append(note)
            elif kind == "task_start":
                current_task = ev["task"]
            elif kind == "task":
                current_task = None
                outcome.results[ev["task"]] = ev
            elif kind == "done":
                finished = True
        if finished:
            return outcome
        how = _describe_end(returncode, killed_for)
        if current_cell is not None:
            outcome.skipped[current_cell] = f"stopped the notebook ({how})"
            outcome.stopped = f"{how} while running cell {current_cell}"
        elif current_task is not None:
            outcome.fatal_tasks[current_task] = (
                f"the check could not finish: {how} while your function was being checked. "
                "Does it loop forever, exit, or use too much memory?")
            outcome.stopped = f"{how} while grading"
        else:
            outcome.stopped = f"{how} before grading could start"
            break
    return outcome


def _run_worker(cells, tasks, skipped, budget: float, options: Options):
    """Run one attempt in a fresh process; return (events, returncode, killed_for)."""
    with tempfile.TemporaryDirectory(prefix="backprop_grade_") as tmp:
        job_path = os.path.join(tmp, "job.json")
        result_path = os.path.join(tmp, "events.jsonl")
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        open(result_path, "w").close()
        job = {"cells": cells, "tasks": tasks, "skip": {str(k): v for k, v in skipped.items()},
               "result": result_path, "cell_timeout": options.cell_timeout, "memory_mb": options.memory_mb,
               "check_files": [str(Path(p).resolve()) for p in options.check_files],
               "library_parent": LIBRARY_PARENT}
        with open(job_path, "w", encoding="utf-8") as fh:
            json.dump(job, fh)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONFAULTHANDLER", "PYTHONSTARTUP")}
        env.update({"MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                    "IPYTHONDIR": os.path.join(tmp, "ipython")})
        code = (f"import sys; sys.path.insert(0, {LIBRARY_PARENT!r}); "
                "from backprop_lib.grade import _worker; _worker(sys.argv[1])")
        proc = subprocess.Popen([sys.executable, "-c", code, job_path], cwd=work, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        start = time.monotonic()
        killed_for = None
        reader = _EventReader(result_path)
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            reader.poll()
            if now - start > budget:
                killed_for = f"the notebook did not finish within its time limit of {options.timeout:g} s"
            elif reader.phase == "cell" and now - reader.since > options.cell_timeout + KILL_GRACE:
                killed_for = f"it did not finish within {options.cell_timeout:g} s and could not be interrupted"
            elif reader.phase == "task" and now - reader.since > options.task_timeout:
                killed_for = f"it ran past the limit of {options.task_timeout:g} s per task"
            if killed_for:
                _kill(proc)
                break
        _kill(proc)  # also any child processes left in the session
        reader.poll()
        return reader.events, proc.returncode, killed_for


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class _EventReader:
    """Reads the worker's JSON-lines event file as it grows; tracks the current phase."""

    def __init__(self, path: str):
        self.path = path
        self.offset = 0
        self.buffer = b""
        self.events: list[dict] = []
        self.phase = "start"
        self.since = time.monotonic()
        self.count = 0

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            return
        self.offset += len(data)
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            self.events.append(event)
            self.count += 1
            kind = event.get("event")
            phase = {"cell_start": "cell", "task_start": "task"}.get(kind, "between")
            self.phase, self.since = phase, time.monotonic()


# --------------------------------------------------------------------------- grading many


def grade_all(subs: list[Submission], exercises: dict[str, Exercise], points: dict[str, float],
              options: Options, jobs: int = 1, progress=None) -> list[dict]:
    """Grade every submission (``jobs`` at a time); rows in submission order."""
    done = [0]
    lock = threading.Lock()

    def one(sub: Submission) -> list[dict]:
        start = time.monotonic()
        try:
            rows = grade_submission(sub, exercises, points, options)
        except Exception as exc:  # a bug in the grader must not stop the others
            rows = [_row(sub, "", "", 0, 0, "error", f"the grader failed on this notebook: {type(exc).__name__}: {exc}")]
        if progress is not None:
            with lock:
                done[0] += 1
                score = sum(float(r["score"]) for r in rows)
                total = sum(float(r["max_score"]) for r in rows)
                progress(f"[{done[0]}/{len(subs)}] {sub.label}: {score:g}/{total:g} "
                         f"({time.monotonic() - start:.1f} s)")
        return rows

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        per_sub = list(pool.map(one, subs))
    return [row for rows in per_sub for row in rows]


def _fmt(x: float) -> str:
    return f"{float(x):g}"


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "score": _fmt(row["score"]), "max_score": _fmt(row["max_score"])})


def _students(rows: list[dict]) -> list[str]:
    return sorted({r["student"] for r in rows})


def write_wide_csv(rows: list[dict], path: Path, exercises: dict[str, Exercise]) -> None:
    """One row per student, one column per task (the best score over their submissions), total."""
    order = [t for name in sorted(exercises) for t, _ in exercises[name].tasks]
    seen = {r["task"] for r in rows if r["task"]}
    tasks = [t for t in order if t in seen]
    best: dict[tuple[str, str], float] = {}
    maxima: dict[str, float] = {}
    for r in rows:
        if r["task"]:
            key = (r["student"], r["task"])
            best[key] = max(best.get(key, 0.0), float(r["score"]))
            maxima[r["task"]] = float(r["max_score"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *tasks, "total", "max_total"])
        for student in _students(rows):
            scores = [best.get((student, t), 0.0) for t in tasks]
            writer.writerow([student, *map(_fmt, scores), _fmt(sum(scores)), _fmt(sum(maxima[t] for t in tasks))])


def summary_table(rows: list[dict]) -> str:
    """Per student: notebooks, tasks passed, score, and how many rows the grader could not score."""
    lines = [("student", "notebooks", "passed", "score", "%", "problems")]
    for student in _students(rows):
        mine = [r for r in rows if r["student"] == student]
        score = sum(float(r["score"]) for r in mine)
        total = sum(float(r["max_score"]) for r in mine)
        passed = sum(r["status"] == "pass" for r in mine)
        problems = sorted({r["status"] for r in mine if r["status"] in ("missing", "not_graded", "unreadable",
                                                                          "unknown_exercise", "error")})
        lines.append((student, str(len({r["submission"] for r in mine})), f"{passed}/{len(mine)}",
                      f"{score:g}/{total:g}", f"{100 * score / total:.0f}" if total else "-", ", ".join(problems)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = io.StringIO()
    for i, line in enumerate(lines):
        out.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n")
        if i == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    return out.getvalue()


def _check_writable(path: Path, flag: str) -> None:
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder, not a file")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {path}: the folder {path.parent} does not exist")
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {path} is not writable: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backprop_lib.grade",
        description="Grade submitted exercise notebooks with the library's checks; write a CSV.")
    parser.add_argument("submissions", nargs="+", help="a folder of notebooks (searched recursively) or notebook files")
    parser.add_argument("--out", required=True, type=Path, help="the CSV to write: one row per submission and task")
    parser.add_argument("--wide", type=Path, help="also write a CSV with one row per student and one column per task")
    parser.add_argument("--timeout", type=float, default=120.0, help="wall-clock seconds per notebook (default 120)")
    parser.add_argument("--cell-timeout", type=float, default=30.0, help="seconds per cell (default 30)")
    parser.add_argument("--task-timeout", type=float, default=60.0, help="seconds per graded task (default 60)")
    parser.add_argument("--memory", type=int, default=2048, help="address-space limit per notebook in MiB (default 2048)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel (default 1)")
    parser.add_argument("--exercises", type=Path, action="append",
                        help="folder of canonical notebooks (default: exercises/ then solutions/ of the course)")
    parser.add_argument("--checks", action="append", default=[],
                        help="a Python file with extra @task checks (for tasks not in backprop_lib.checks)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    try:
        if args.jobs < 1 or args.timeout <= 0 or args.cell_timeout <= 0 or args.memory < 64:
            raise UsageError("--jobs must be >= 1, timeouts > 0 and --memory >= 64 (MiB)")
        exercises = load_exercises(args.exercises)
        if not exercises:
            raise UsageError("no canonical exercise notebooks found; pass --exercises FOLDER")
        for path in args.checks:
            if not Path(path).is_file():
                raise UsageError(f"--checks {path}: no such file")
        points = _load_registry(args.checks)
        subs = find_submissions(args.submissions, exercises)
        _check_writable(args.out, "--out")
        if args.wide is not None:
            _check_writable(args.wide, "--wide")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = Options(timeout=args.timeout, cell_timeout=args.cell_timeout, task_timeout=args.task_timeout,
                      memory_mb=args.memory, check_files=list(args.checks))
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    rows = grade_all(subs, exercises, points, options, jobs=args.jobs, progress=progress)
    write_csv(rows, args.out)
    if args.wide is not None:
        write_wide_csv(rows, args.wide, exercises)
    print(summary_table(rows), end="")
    print(f"wrote {args.out} ({len(rows)} rows from {len(subs)} notebooks)"
          + (f" and {args.wide}" if args.wide is not None else ""))
    return 0


# --------------------------------------------------------------------------- the worker (runs in the child)


class _CellTimeout(BaseException):
    """Raised in the main thread when a cell runs past its limit (BaseException: hard to swallow)."""


def _describe_exception(exc: BaseException, cell_timeout: float) -> str:
    if isinstance(exc, _CellTimeout):
        return f"it did not finish within {cell_timeout:g} s (an endless loop?) and was stopped"
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({'' if exc.code is None else repr(exc.code)}), which was ignored"
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno} of the cell)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x...", text)
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _snapshot_modules(prefixes: tuple[str, ...], extra: tuple[str, ...] = ("builtins", "math"),
                      exclude: tuple[str, ...] = ()) -> dict:
    """{(module, attr) or (module, class, attr): object} of public attributes, to spot and undo monkeypatches.

    The modules themselves are remembered too (under ``("sys.modules", name)``), so replacing
    ``sys.modules["backprop_lib.gradcheck"]`` is undone as well. The checks, re-imported for
    every task, are left out.
    """
    snap: dict[tuple, Any] = {}
    for modname, module in list(sys.modules.items()):
        if module is not None and modname.startswith(prefixes) and not modname.startswith(_FRESH):
            snap[("sys.modules", modname)] = module
    for modname, module in list(sys.modules.items()):
        if module is None or not (modname in extra or modname.startswith(prefixes)):
            continue
        if modname == "backprop_lib.grade" or (exclude and modname.startswith(exclude)):
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            if attr.startswith("_") or (isinstance(value, type(sys)) and str(getattr(value, "__name__", "")).startswith(_FRESH)):
                continue
            snap[(modname, attr)] = value
            if (isinstance(value, type) and getattr(value, "__module__", "") == modname
                    and modname.startswith(("backprop_lib", "_backprop_grade_extra_"))):
                for cattr, cvalue in list(vars(value).items()):
                    if not (cattr.startswith("__") and cattr not in _DUNDERS):
                        snap[(modname, attr, cattr)] = cvalue
    return snap


_DUNDERS = {"__init__", "__call__", "__add__", "__mul__", "__sub__", "__truediv__", "__pow__", "__neg__",
            "__radd__", "__rmul__", "__rsub__", "__rtruediv__", "__eq__", "__hash__", "__repr__", "__getitem__"}


_FRESH = ("backprop_lib.checks", "_backprop_grade_extra_")


def _restore(snap: dict) -> list[str]:
    """Put back every snapshotted attribute that was replaced or deleted; return their names."""
    changed = []
    for key, value in snap.items():
        if key[0] == "sys.modules":
            if sys.modules.get(key[1]) is not value:
                sys.modules[key[1]] = value
                changed.append(f"sys.modules[{key[1]!r}]")
            continue
        module = sys.modules.get(key[0])
        if module is None:
            continue
        target = module if len(key) == 2 else vars(module).get(key[1])
        if target is None:
            continue
        attr = key[-1]
        current = (vars(target) if len(key) == 3 else vars(module)).get(attr, _MISSING)
        if current is value:
            continue
        try:
            setattr(target, attr, value)
        except (AttributeError, TypeError):
            continue
        changed.append(".".join(key))
    return changed


_MISSING = object()


def _worker(job_path: str) -> None:
    """Run a submission's cells, then grade its tasks; write events as JSON lines (child process)."""
    import builtins
    import importlib
    import resource

    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    os.unlink(job_path)
    fd = os.open(job["result"], os.O_WRONLY | os.O_APPEND)
    dumps = json.dumps
    write = os.write

    def emit(**event):
        write(fd, (dumps(event) + "\n").encode("utf-8"))

    limit = int(job["memory_mb"]) * 1024 * 1024
    for res, value in ((resource.RLIMIT_AS, limit), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass
    sys.setrecursionlimit(3000)
    saved_path, saved_meta_path = list(sys.path), list(sys.meta_path)
    saved_hooks, saved_import = list(sys.path_hooks), builtins.__import__

    # Import the checks (and with them every library module they use) before any submission
    # code runs, then remember how numpy, the builtins and the library looked.
    import numpy  # noqa: F401

    importlib.import_module("backprop_lib.checks")
    for path in job["check_files"]:
        _import_check_file(path)
    # The checks themselves are re-imported fresh for every task, so they are not in this snapshot.
    snapshot = _snapshot_modules(("numpy", "backprop_lib"), exclude=_FRESH)

    try:
        from IPython.core.interactiveshell import InteractiveShell

        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False  # no history database shared by parallel graders
        shell = InteractiveShell.instance(config=config, colors="nocolor")
        user_ns = shell.user_ns

        def run_cell(source: str):
            result = shell.run_cell(source, store_history=False, silent=False)
            return result.error_before_exec or result.error_in_exec
    except ImportError:  # plain exec when IPython is not installed
        shell = None
        user_ns = {"__name__": "__main__"}

        def run_cell(source: str):
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            try:
                exec(compile("\n".join(lines), "<notebook cell>", "exec"), user_ns)
            except BaseException as exc:  # noqa: BLE001 (the submission's failure is data)
                return exc
            return None

    cell_timeout = float(job["cell_timeout"])

    def on_alarm(signum, frame):
        raise _CellTimeout()

    skip = job["skip"]
    for cell in job["cells"]:
        index = cell["index"]
        if str(index) in skip:
            continue
        emit(event="cell_start", index=index)
        error = None
        try:
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, cell_timeout, 1.0)  # re-fires each second if swallowed
            try:
                error = run_cell(cell["source"])
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:  # noqa: BLE001
            error = exc
        emit(event="cell_end", index=index,
             error=None if error is None else _describe_exception(error, cell_timeout))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)

    # Undo whatever the submission changed in the import system, numpy, builtins and the library.
    builtins.__import__ = saved_import
    sys.path[:], sys.meta_path[:], sys.path_hooks[:] = saved_path, saved_meta_path, saved_hooks
    sys.path_importer_cache.clear()
    sys.setprofile(None)
    sys.settrace(None)
    changed = _restore(snapshot)
    if changed:
        shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
        emit(event="restored", message=f"the notebook replaced {shown}; the grader put the originals back.")
    importlib.invalidate_caches()

    def fresh_checks():
        for name in [n for n in sys.modules if n == "backprop_lib.checks" or n.startswith("backprop_lib.checks.")
                     or n.startswith("_backprop_grade_extra_")]:
            del sys.modules[name]
        importlib.import_module("backprop_lib.checks")
        for path in job["check_files"]:
            _import_check_file(path)
        core = sys.modules["backprop_lib.checks._core"]
        expected = os.path.join(job["library_parent"], "backprop_lib")
        if not os.path.abspath(core.__file__).startswith(expected + os.sep):
            raise RuntimeError(f"backprop_lib.checks was imported from {core.__file__}, not {expected}")
        return core

    for item in job["tasks"]:
        task, function = item["task"], item["function"]
        emit(event="task_start", task=task)
        if function not in user_ns:
            emit(event="task", task=task, score=0, max_score=0, status="missing", message="")
            continue
        func = user_ns[function]
        fresh_snapshot: dict = {}
        try:
            core = fresh_checks()
            fresh_snapshot = {k: v for k, v in _snapshot_modules(_FRESH, extra=()).items() if k[0] != "sys.modules"}
            max_score = core._REGISTRY[task].points if task in core._REGISTRY else 0.0
            result = core.grade(task, func)
            score, status, message = result.score, result.status, result.message
        except BaseException as exc:  # noqa: BLE001 (SystemExit etc. from the learner's function)
            score, status = 0.0, "error"
            max_score = locals().get("max_score", 0.0)
            message = f"the check stopped: your function raised {_describe_exception(exc, cell_timeout)}."
        sys.setprofile(None)
        sys.settrace(None)
        signal.setitimer(signal.ITIMER_REAL, 0)
        tampered = _restore(snapshot) + _restore(fresh_snapshot)
        if tampered:
            score, status = 0.0, "fail"
            message = (f"your function replaced {', '.join(tampered[:3])} while it was checked; "
                       "that is not allowed, so this task scores 0.")
        emit(event="task", task=task, score=float(score), max_score=float(max_score), status=status, message=message)
    emit(event="done")
    os._exit(0)  # skip the submission's atexit handlers and threads


if __name__ == "__main__":
    sys.exit(main())
