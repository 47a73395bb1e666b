"""``python -m backprop_lib.grade``: grade a class, write the gradebook, the feedback and the log.

Usage::

    python -m backprop_lib.grade SUBMISSIONS... --out grades.csv [--wide totals.csv] [--roster roster.csv]
        [--feedback feedback/] [--lms lms.csv] [--log grades.log] [--jobs 2]
    python -m backprop_lib.grade class/alice --update grades.csv      # regrade one student in place

The exit status is 0 once grading is complete, however badly the submissions behaved; 2 for
a usage error (no such folder, no notebooks, an output that cannot be written, a bad roster,
``--sandbox bwrap`` where bubblewrap cannot run).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import gradebook, reports, sandbox, verdicts
from .discovery import Discovery, Exercise, Submission, UsageError, discover, load_exercises
from .verdicts import NotebookReport, Options, grade_notebook, row

__all__ = ["main", "grade_all", "load_points", "import_check_file"]


def import_check_file(path: str):
    """Import an instructor's extra checks file (``--checks``) into the grader's process."""
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


def load_points(check_files: list[str]) -> dict[str, float]:
    """Points of every registered task (importing the library's checks and any extra files)."""
    from ..checks import registry

    for path in check_files:
        import_check_file(path)
    return {name: check.points for name, check in registry().items()}


def grade_all(subs: list[Submission], exercises: dict[str, Exercise], points: dict[str, float], options: Options,
              info: sandbox.SandboxInfo, jobs: int = 1, progress=None,
              library: sandbox.LibraryCopy | None = None) -> list[NotebookReport]:
    """Grade every submission (``jobs`` at a time); reports in submission order."""
    done = [0]
    lock = threading.Lock()

    def one(sub: Submission) -> NotebookReport:
        start = time.monotonic()
        try:
            report = grade_notebook(sub, exercises, points, options, info, library)
        except Exception as exc:  # noqa: BLE001 (a bug in the grader must not stop the others)
            report = NotebookReport(sub, [row(sub, "", "", 0, 0, "error",
                                              f"the grader failed on this notebook ({type(exc).__name__}); "
                                              "see the log")], events=[f"grader error: {type(exc).__name__}: {exc}"])
        if not info.sandboxed:
            with lock:
                sandbox.kill_orphans(keep=_live_children())
        if progress is not None:
            with lock:
                done[0] += 1
                score = sum(float(r["score"]) for r in report.rows)
                total = sum(float(r["max_score"]) for r in report.rows)
                progress(f"[{done[0]}/{len(subs)}] {sub.label}: {score:g}/{total:g} "
                         f"({time.monotonic() - start:.1f} s)")
        return report

    if jobs > 1:
        verdicts.serialise_warnings()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, subs))


def _live_children() -> set[int]:
    return set(sandbox.WorkerProcess.live)


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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m backprop_lib.grade",
        description="Grade submitted exercise notebooks with the library's checks, each in a sandbox; "
                    "write a gradebook, feedback per student and a log.")
    p.add_argument("submissions", nargs="+",
                   help="a class folder (one sub-folder or file-name prefix per student), one student's folder, "
                        "or notebook files")
    p.add_argument("--out", type=Path, help="the CSV to write: one row per submission and task")
    p.add_argument("--update", type=Path, help="an existing grades CSV: replace the rows of the students graded now")
    p.add_argument("--wide", type=Path, help="also write one row per student, one column per task, and the totals")
    p.add_argument("--roster", type=Path, help="CSV with id,name,email: every student appears; unmatched ones listed")
    p.add_argument("--feedback", type=Path, help="folder for one Markdown and one HTML feedback file per student")
    p.add_argument("--lms", type=Path, help="CSV for an LMS gradebook import (Canvas layout; Moodle reads it too)")
    p.add_argument("--log", type=Path, help="the run's log (default: next to the CSV, with .log)")
    p.add_argument("--timeout", type=float, default=120.0, help="wall-clock seconds per notebook (default 120)")
    p.add_argument("--cell-timeout", type=float, default=30.0, help="seconds per cell (default 30)")
    p.add_argument("--task-timeout", type=float, default=60.0, help="seconds per graded task (default 60)")
    p.add_argument("--memory", type=int, default=2048, help="address-space limit per notebook in MiB (default 2048)")
    p.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel (default 1)")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                   help="auto: bubblewrap when it works here, else process isolation with a warning (default); "
                        "bwrap: refuse to grade without it; none: process isolation only")
    p.add_argument("--exercises", type=Path, action="append",
                   help="folder of canonical notebooks (default: exercises/ then solutions/ of the course)")
    p.add_argument("--checks", action="append", default=[],
                   help="a Python file with extra @task checks (for tasks not in backprop_lib.checks)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Warnings the learners' functions raise are re-issued in the checks that record them; the
    # instructor's terminal is not the place for them.
    warnings.simplefilter("ignore")
    args = _parser().parse_args(argv)
    try:
        setup = _prepare(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    found, info, roster = setup.found, setup.info, setup.roster
    unmatched = _apply_roster(found, roster)
    options = Options(timeout=args.timeout, cell_timeout=args.cell_timeout, task_timeout=args.task_timeout,
                      memory_mb=args.memory, check_files=list(args.checks))
    log = reports.Log(args.log or setup.out.with_suffix(".log"))
    log.header(argv, "bubblewrap (" + " ".join(info.flags or ["no user namespace"]) + ")" if info.sandboxed
               else "NONE (process isolation only)", info.warning, options)
    log.write(f"jobs: {args.jobs} notebooks in parallel; {len(found.submissions)} notebooks found")
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    if info.warning and not args.quiet:
        print(f"WARNING: {info.warning}", file=sys.stderr, flush=True)
    started = time.monotonic()
    graded = _grade_found(setup, options, args.jobs, progress)
    rows = [r for report in graded for r in report.rows]
    rows += _other_rows(found, roster, rows + (setup.old_rows or []))
    rows.sort(key=lambda r: r["student"])
    _log_run(log, graded, found, unmatched)
    log.write(f"\ngraded {len(graded)} notebooks in {time.monotonic() - started:.1f} s")
    if setup.old_rows is not None:
        rows = gradebook.merge_rows(setup.old_rows, rows)
    written = _write_outputs(args, setup, rows)
    summary = reports.summary_table(rows, setup.exercises, setup.points, roster, unmatched, info.warning)
    log.write()
    log.write(summary)
    log.save()
    written.append(str(log.path))
    print(summary, end="")
    print(f"wrote {', '.join(written)} ({len(rows)} rows from {len(graded)} notebooks)")
    return 0


@dataclass
class _Setup:
    """What the command line names, read and checked before any notebook is graded."""
    exercises: dict[str, Exercise]
    points: dict[str, float]
    roster: gradebook.Roster | None
    found: Discovery
    old_rows: list[dict] | None  # the rows of --update's file
    out: Path                    # the CSV written (--out or --update)
    info: sandbox.SandboxInfo


def _prepare(args: argparse.Namespace) -> _Setup:
    """Check the options and read their files; UsageError (exit code 2) on any problem."""
    if args.out is None and args.update is None:
        raise UsageError("give --out grades.csv (or --update grades.csv to replace some students' rows)")
    if args.out is not None and args.update is not None:
        raise UsageError("give either --out or --update, not both")
    if args.jobs < 1 or args.timeout <= 0 or args.cell_timeout <= 0 or args.task_timeout <= 0 or args.memory < 64:
        raise UsageError("--jobs must be >= 1, timeouts > 0 and --memory >= 64 (MiB)")
    exercises = load_exercises(args.exercises)
    if not exercises:
        raise UsageError("no canonical exercise notebooks found; pass --exercises FOLDER")
    for path in args.checks:
        if not Path(path).is_file():
            raise UsageError(f"--checks {path}: no such file")
    points = load_points(args.checks)
    roster = gradebook.read_roster(args.roster) if args.roster else None
    found = discover(args.submissions, exercises)
    old_rows = gradebook.read_rows(args.update) if args.update is not None else None
    out = args.update if args.update is not None else args.out
    _check_writable(out, "--update" if args.update is not None else "--out")
    for flag, path in (("--wide", args.wide), ("--lms", args.lms), ("--log", args.log)):
        if path is not None:
            _check_writable(path, flag)
    if args.feedback is not None and args.feedback.exists() and not args.feedback.is_dir():
        raise UsageError(f"--feedback {args.feedback} is a file, not a folder")
    info = sandbox.detect(args.sandbox)
    if args.sandbox == "bwrap" and not info.sandboxed:
        raise UsageError(f"--sandbox bwrap: {info.warning}")
    return _Setup(exercises, points, roster, found, old_rows, out, info)


def _grade_found(setup: _Setup, options: Options, jobs: int, progress) -> list[NotebookReport]:
    """Grade every submission found; without a sandbox, from a private copy of the library, and
    no process a notebook started outlives the run."""
    library = None
    if not setup.info.sandboxed:
        library = sandbox.LibraryCopy()
        sandbox.become_subreaper()
    try:
        return grade_all(setup.found.submissions, setup.exercises, setup.points, options, setup.info, jobs,
                         progress, library)
    finally:
        if library is not None:
            library.remove()
            sandbox.kill_orphans(keep=set())


def _log_run(log: reports.Log, graded: list[NotebookReport], found: Discovery, unmatched: list[str]) -> None:
    for report in graded:
        log.notebook(report)
    for student, files in sorted(found.ignored.items()):
        for label, reason in files:
            log.write(f"ignored: {label} ({'student ' + student if student else 'the class folder'}): {reason}")
    for label in unmatched:
        log.write(f"unmatched: {label} matches no student on the roster")


def _write_outputs(args: argparse.Namespace, setup: _Setup, rows: list[dict]) -> list[str]:
    """Write the CSV and the optional --wide, --lms and --feedback outputs; return what was written."""
    gradebook.write_csv(rows, setup.out)
    written = [str(setup.out)]
    if args.wide is not None:
        gradebook.write_wide_csv(rows, args.wide, setup.exercises, setup.points, setup.roster)
        written.append(str(args.wide))
    if args.lms is not None:
        gradebook.write_lms_csv(rows, args.lms, setup.exercises, setup.points, setup.roster)
        written.append(str(args.lms))
    if args.feedback is not None:
        reports.write_feedback(args.feedback, rows, setup.exercises, setup.points, setup.roster)
        written.append(f"{args.feedback}/")
    return written


def _apply_roster(found: Discovery, roster: gradebook.Roster | None) -> list[str]:
    """Rename students to their roster id; return the submissions that match no student."""
    if roster is None:
        return []
    unmatched = []
    renamed = []
    for sub in found.submissions:
        student = roster.match(sub.student)
        if student is None:
            unmatched.append(sub.label)
            renamed.append(sub)
        else:
            renamed.append(Submission(sub.path, sub.label, student.id))
    found.submissions = renamed
    for key in list(found.ignored):
        student = roster.match(key)
        if student is not None and student.id != key:
            found.ignored.setdefault(student.id, []).extend(found.ignored.pop(key))
    found.no_notebook = [(student.id if (student := roster.match(s)) else s) for s in found.no_notebook]
    return unmatched


def _other_rows(found: Discovery, roster: gradebook.Roster | None, rows: list[dict]) -> list[dict]:
    """Rows for what was not graded: ignored files, folders without a notebook, roster students
    without a submission in ``rows`` (which, for ``--update``, includes the gradebook's rows)."""
    out = []
    for student, files in sorted(found.ignored.items()):
        for label, reason in files if student else ():  # the class folder's own files: in the log only
            out.append(row(Submission(Path(label), label, student), "", "", 0, 0, "ignored_file", reason))
    for student in found.no_notebook:
        names = ", ".join(Path(label).name for label, _ in found.ignored.get(student, []))
        out.append(row(Submission(Path(student), "", student), "", "", 0, 0, "no_notebook",
                       f"no notebook found: {names}" if names else "no notebook found"))
    if roster is not None:
        present = {r["student"] for r in rows} | {r["student"] for r in out}
        for s in roster.students:
            if s.id not in present:
                out.append(row(Submission(Path(""), "", s.id), "", "", 0, 0, "no_submission",
                               "no notebook was submitted"))
    return out
