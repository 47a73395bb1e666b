"""What the grader writes for people: the summary table, a feedback file per student and the run's log."""

from __future__ import annotations

import html
import io
import platform
import time
from pathlib import Path
from typing import Sequence

from .discovery import Exercise
from .gradebook import Roster, totals

__all__ = ["summary_table", "write_feedback", "Log", "NEXT_STEP"]

#: What a student should do next, by status.
NEXT_STEP = {
    "pass": "Nothing: this task is done.",
    "fail": "Read the hint, fix the function, run its check cell again until it prints PASS.",
    "error": "Make the function return the type and shape the task asks for, then run its check cell.",
    "not_implemented": "Write the function (replace the `raise NotImplementedError` line) and run its check cell.",
    "missing": "Keep the function under the name the exercise gives it, in a cell that runs without errors.",
    "not_graded": "Make the notebook run from top to bottom within the time limit (Restart & Run All).",
    "unreadable": "Submit the notebook file itself (.ipynb, saved from Jupyter), not an empty or broken file.",
    "unknown_exercise": "Submit the exercise notebook from exercises/ (keep its file name or its metadata).",
    "no_submission": "Submit your notebooks.",
    "no_notebook": "Submit the .ipynb notebook files (not .py exports or archives).",
    "ignored_file": "Only .ipynb notebooks are graded.",
}


def _fmt(x: float) -> str:
    return f"{float(x):g}"


def summary_table(rows: list[dict], exercises: dict[str, Exercise], points: dict[str, float],
                  roster: Roster | None = None, unmatched: Sequence[str] = (), warning: str | None = None) -> str:
    """One line per student (the same totals as the wide CSV), then the counts."""
    table = totals(rows, exercises, points, [s.id for s in roster.students] if roster else None)
    n_tasks = sum(len(ex.tasks) for ex in exercises.values())
    lines = [("student", "notebooks", "passed", "score", "%", "problems")]
    for student, t in table.items():
        lines.append((student, str(t.notebooks), f"{t.passed}/{n_tasks}", f"{t.total:g}/{t.max_total:g}",
                       f"{100 * t.total / t.max_total:.0f}" if t.max_total else "-", ", ".join(t.problems)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = io.StringIO()
    if warning:
        out.write(_banner(warning))
    for i, line in enumerate(lines):
        out.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n")
        if i == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    submitted = {r["student"] for r in rows if r["status"] not in ("no_submission",)}
    no_sub = sorted(s for s in table if s not in submitted)
    notebooks = len({(r["student"], r["submission"]) for r in rows
                     if r["submission"] and r["status"] not in ("ignored_file", "no_notebook")})
    ignored = sum(r["status"] == "ignored_file" for r in rows)
    out.write(f"\n{len(table)} students, {notebooks} notebooks graded")
    if roster is not None:
        out.write(f"; {len(no_sub)} on the roster without a submission"
                  + (f" ({', '.join(no_sub[:10])}{', ...' if len(no_sub) > 10 else ''})" if no_sub else ""))
        out.write(f"; {len(unmatched)} submissions matching no student on the roster"
                  + (f" ({', '.join(unmatched[:10])}{', ...' if len(unmatched) > 10 else ''})" if unmatched else ""))
    if ignored:
        out.write(f"; {ignored} files ignored (not notebooks)")
    out.write("\n")
    if warning:
        out.write(_banner(warning))
    return out.getvalue()


def _banner(warning: str) -> str:
    bar = "!" * 78
    return f"{bar}\n!! WARNING: {warning}\n{bar}\n"


# --------------------------------------------------------------------------- feedback


def write_feedback(folder: Path, rows: list[dict], exercises: dict[str, Exercise], points: dict[str, float],
                   roster: Roster | None = None) -> list[Path]:
    """``<folder>/<student>.md`` and ``.html`` for every student: per exercise and task the
    score, the status, the hint and what to do next; the totals."""
    folder.mkdir(parents=True, exist_ok=True)
    table = totals(rows, exercises, points, [s.id for s in roster.students] if roster else None)
    by_id = roster.by_id() if roster else {}
    written = []
    for student, t in table.items():
        mine = [r for r in rows if r["student"] == student]
        info = by_id.get(student)
        title = f"Feedback for {info.name} ({student})" if info and info.name else f"Feedback for {student}"
        md = [f"# {title}", "", f"**Total: {t.total:g} / {t.max_total:g}** "
              f"({100 * t.total / t.max_total:.0f}%)" if t.max_total else "", ""]
        body = []
        for name in sorted(exercises):
            ex_rows = [r for r in mine if r["exercise"] == name]
            got = t.by_exercise.get(name, 0.0)
            full = sum(points.get(task, 0.0) for task, _ in exercises[name].tasks)
            body.append((f"{name}: {got:g} / {full:g}", ex_rows, name))
        other = [r for r in mine if r["exercise"] not in exercises]
        if other:
            body.append(("Other files", other, ""))
        html_parts = [f"<h1>{html.escape(title)}</h1>",
                      f"<p><strong>Total: {t.total:g} / {t.max_total:g}</strong></p>" if t.max_total else ""]
        for heading, ex_rows, name in body:
            md += [f"## {heading}", ""]
            html_parts.append(f"<h2>{html.escape(heading)}</h2>")
            if not ex_rows:
                md += ["Not submitted.", ""]
                html_parts.append("<p>Not submitted.</p>")
                continue
            md += ["| task | score | status | feedback | what to do next |", "|---|---|---|---|---|"]
            html_parts.append("<table border=1 cellpadding=4><tr><th>file</th><th>task</th><th>score</th>"
                              "<th>status</th><th>feedback</th><th>what to do next</th></tr>")
            for r in ex_rows:
                cells = [r["task"] or "-", f"{_fmt(r['score'])}/{_fmt(r['max_score'])}", r["status"], r["feedback"],
                         NEXT_STEP.get(r["status"], "")]
                if len({x["submission"] for x in ex_rows}) > 1 or not name:
                    cells[0] = f"{r['task'] or '-'} ({r['submission']})"
                md.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
                html_parts.append("<tr><td>" + html.escape(r["submission"]) + "</td>"
                                  + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            md.append("")
            html_parts.append("</table>")
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in student) or "student"
        md_path, html_path = folder / f"{safe}.md", folder / f"{safe}.html"
        md_path.write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")
        html_path.write_text("<!doctype html><meta charset=utf-8><title>" + html.escape(title) + "</title>\n"
                             + "\n".join(html_parts) + "\n", encoding="utf-8")
        written += [md_path, html_path]
    return written


# --------------------------------------------------------------------------- the log


class Log:
    """The run's log file: what ran, the sandbox, limits hit, warnings, timings, student output."""

    OUTPUT_CHARS = 6000

    def __init__(self, path: Path | None):
        self.path = path
        self.lines: list[str] = []

    def write(self, text: str = "") -> None:
        self.lines.append(text)

    def header(self, argv: list[str], sandbox_mode: str, warning: str | None, options) -> None:
        self.write(f"backprop_lib.grade run at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        self.write(f"command: python -m backprop_lib.grade {' '.join(argv)}")
        self.write(f"python {platform.python_version()} on {platform.platform()}")
        self.write(f"sandbox: {sandbox_mode}")
        if warning:
            self.write(_banner(warning).rstrip())
        self.write(f"limits: {options.timeout:g} s per notebook, {options.cell_timeout:g} s per cell, "
                   f"{options.task_timeout:g} s per task, {options.memory_mb} MiB of memory")
        self.write()

    def notebook(self, report) -> None:
        sub = report.submission
        total = sum(r["score"] for r in report.rows)
        full = sum(r["max_score"] for r in report.rows)
        self.write(f"== {sub.label} (student {sub.student}; exercise {report.exercise or '?'}"
                   f"{', recognised by ' + report.recognised_by if report.recognised_by else ''}): "
                   f"{total:g}/{full:g} in {report.seconds:.1f} s, {report.attempts} run(s)")
        for event in report.events:
            self.write(f"   limit/restart: {event}")
        if report.output:
            text = report.output
            if len(text) > self.OUTPUT_CHARS:
                text = text[: self.OUTPUT_CHARS] + f"\n[... {len(report.output) - self.OUTPUT_CHARS} more characters]"
            self.write("   --- the notebook's stdout/stderr ---")
            self.write("\n".join("   | " + line for line in text.splitlines()))

    def save(self) -> None:
        if self.path is not None:
            self.path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
