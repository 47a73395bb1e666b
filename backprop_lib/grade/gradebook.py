"""The gradebook: the roster, the CSV files and the totals.

* ``grades.csv`` (long): one row per submission and task (:data:`COLUMNS`).
* ``--wide``: one row per student, one column per task of every exercise (the best score
  over the student's submissions), ``total`` and ``max_total`` (every task of every
  exercise, submitted or not). The summary table prints the same totals.
* ``--lms``: one row per student and one column per exercise, in the CSV layout Canvas's
  gradebook import reads (``Student, ID, SIS User ID, SIS Login ID, Section``, then one
  column per assignment); Moodle's "Import grades from CSV" maps ``SIS User ID`` (or
  ``SIS Login ID``) to a user field and each exercise column to a grade item.
* ``--roster``: ``id,name,email`` (or ``login``); students with no submission get a row
  saying so and zeros, submissions that match no student are listed as unmatched.
* ``--update``: replace one student's rows in an existing ``grades.csv``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .discovery import Exercise, UsageError

__all__ = ["COLUMNS", "Student", "Roster", "read_roster", "read_rows", "write_csv", "totals", "write_wide_csv",
           "write_lms_csv", "merge_rows", "task_order"]

COLUMNS = ["student", "submission", "exercise", "task", "score", "max_score", "status", "feedback"]


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""


class Roster:
    """Who is in the class, and which roster student a folder or file-name prefix is."""

    def __init__(self, students: list[Student]):
        self.students = students
        self._keys: dict[str, Student] = {}
        for s in students:
            for key in (s.id, s.email, s.email.split("@")[0] if "@" in s.email else "", s.name):
                k = _norm(key)
                if k:
                    self._keys.setdefault(k, s)

    def match(self, key: str) -> Student | None:
        return self._keys.get(_norm(key))

    def by_id(self) -> dict[str, Student]:
        return {s.id: s for s in self.students}


def _norm(text: str) -> str:
    return re.sub(r"[\s_.\-]+", "", text.strip().lower())


_ID_COLUMNS = ("id", "student_id", "student", "sis user id", "username", "login")
_NAME_COLUMNS = ("name", "full name", "student name")
_EMAIL_COLUMNS = ("email", "e-mail", "login", "username", "sis login id")


def read_roster(path: Path) -> Roster:
    """Read ``id,name,email`` (header names are matched loosely; ``login`` works for ``email``)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
            id_col = next((header[c] for c in _ID_COLUMNS if c in header), None)
            if id_col is None:
                raise UsageError(f"--roster {path}: no id column (expected a header such as id,name,email)")
            name_col = next((header[c] for c in _NAME_COLUMNS if c in header), None)
            email_col = next((header[c] for c in _EMAIL_COLUMNS if c in header and header[c] != id_col), None)
            students, seen = [], set()
            for line in reader:
                sid = (line.get(id_col) or "").strip()
                if not sid:
                    continue
                if sid in seen:
                    raise UsageError(f"--roster {path}: student id {sid!r} appears twice")
                seen.add(sid)
                students.append(Student(sid, (line.get(name_col) or "").strip() if name_col else "",
                                        (line.get(email_col) or "").strip() if email_col else ""))
    except OSError as exc:
        raise UsageError(f"--roster {path}: {exc.strerror or exc}") from None
    if not students:
        raise UsageError(f"--roster {path}: no students")
    return Roster(students)


def _fmt(x: float) -> str:
    return f"{float(x):g}"


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({**{k: r.get(k, "") for k in COLUMNS}, "score": _fmt(r["score"]),
                             "max_score": _fmt(r["max_score"])})


def read_rows(path: Path) -> list[dict]:
    """The rows of an existing ``grades.csv`` (for ``--update``)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != COLUMNS:
                raise UsageError(f"--update {path}: not a grades CSV of this grader (columns {reader.fieldnames})")
            rows = list(reader)
    except OSError as exc:
        raise UsageError(f"--update {path}: {exc.strerror or exc}") from None
    for r in rows:
        try:
            r["score"], r["max_score"] = float(r["score"]), float(r["max_score"])
        except ValueError:
            raise UsageError(f"--update {path}: a score is not a number") from None
    return rows


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` without the students of ``new``, plus ``new``, ordered by student (stable)."""
    regraded = {r["student"] for r in new}
    kept = [r for r in old if r["student"] not in regraded]
    return sorted(kept + new, key=lambda r: r["student"])


def task_order(exercises: dict[str, Exercise]) -> list[tuple[str, str]]:
    """``(exercise, task)`` of every graded task, in course order."""
    return [(name, task) for name in sorted(exercises) for task, _ in exercises[name].tasks]


@dataclass
class Totals:
    student: str
    best: dict[str, float]          # task -> best score
    total: float
    max_total: float
    by_exercise: dict[str, float]   # exercise -> sum of its best task scores
    passed: int
    notebooks: int
    problems: list[str]


def totals(rows: list[dict], exercises: dict[str, Exercise], points: dict[str, float],
           students: Iterable[str] | None = None) -> dict[str, Totals]:
    """Per student: the best score of each task over their submissions and the totals over
    EVERY task of every exercise (unsubmitted ones count as 0); duplicates never add up."""
    order = task_order(exercises)
    max_total = sum(points.get(task, 0.0) for _, task in order)
    names = sorted(set(students or ()) | {r["student"] for r in rows})
    out = {}
    for student in names:
        mine = [r for r in rows if r["student"] == student]
        best: dict[str, float] = {}
        passed: set[str] = set()
        for r in mine:
            if r["task"] and r["exercise"] in exercises:
                best[r["task"]] = max(best.get(r["task"], 0.0), float(r["score"]))
                if r["status"] == "pass":
                    passed.add(r["task"])
        by_exercise = {name: sum(best.get(t, 0.0) for t, _ in ex.tasks) for name, ex in exercises.items()}
        problems = sorted({r["status"] for r in mine if r["status"] in (
            "missing", "not_graded", "unreadable", "unknown_exercise", "error", "no_submission", "no_notebook",
            "ignored_file", "unmatched")})
        out[student] = Totals(student, best, sum(best.values()), max_total, by_exercise, len(passed),
                              len({r["submission"] for r in mine if r["submission"] and r["status"] != "ignored_file"}),
                              problems)
    return out


def write_wide_csv(rows: list[dict], path: Path, exercises: dict[str, Exercise], points: dict[str, float],
                   roster: Roster | None = None) -> None:
    order = task_order(exercises)
    table = totals(rows, exercises, points, [s.id for s in roster.students] if roster else None)
    by_id = roster.by_id() if roster else {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        extra = ["name", "email"] if roster else []
        writer.writerow(["student", *extra, *[task for _, task in order], "total", "max_total"])
        for student, t in table.items():
            info = by_id.get(student)
            names = [info.name, info.email] if info else ["", ""] if roster else []
            writer.writerow([student, *names, *[_fmt(t.best.get(task, 0.0)) for _, task in order],
                             _fmt(t.total), _fmt(t.max_total)])


def write_lms_csv(rows: list[dict], path: Path, exercises: dict[str, Exercise], points: dict[str, float],
                  roster: Roster | None = None) -> None:
    """Canvas's gradebook CSV layout (also read by Moodle's CSV grade import), one column per exercise."""
    table = totals(rows, exercises, points, [s.id for s in roster.students] if roster else None)
    by_id = roster.by_id() if roster else {}
    names = sorted(exercises)
    max_of = {name: sum(points.get(t, 0.0) for t, _ in exercises[name].tasks) for name in names}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         *[f"{name} ({_fmt(max_of[name])})" for name in names]])
        writer.writerow(["Points Possible", "", "", "", "", *[_fmt(max_of[name]) for name in names]])
        for student, t in table.items():
            if roster is not None and student not in by_id:
                continue  # unmatched submissions have no roster id to upload under
            info = by_id.get(student, Student(student))
            writer.writerow([info.name or student, "", info.id, info.email, "",
                             *[_fmt(t.by_exercise[name]) for name in names]])
