"""Every realistic answer of tests/answers/ as a submitted notebook, to grade in the sandbox.

The answer tables are run in-process by tests/test_answers.py; here each row becomes a
notebook (the solution notebook with the answer's cell added at the end), so the grader's
sandboxed path can be compared with the same verdicts and hints:

    .venv/bin/python tests/grading_fixtures/answers_class.py CLASS_DIR   # writes the class
    .venv/bin/python -m backprop_lib.grade CLASS_DIR --out g.csv --jobs 2
    .venv/bin/python tests/grading_fixtures/answers_class.py CLASS_DIR --compare g.csv
"""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from answers import exercise_tasks, tables  # noqa: E402

from backprop_lib.exercises import render  # noqa: E402


def rows():
    for exercise, answers in sorted(tables().items()):
        for i, answer in enumerate(answers):
            if answer.function is None or answer.function == exercise_tasks(exercise)[answer.task]:
                yield f"{exercise[:2]}_{i:03d}", exercise, answer


def build(folder: Path) -> int:
    n = 0
    for student, exercise, answer in rows():
        nb = json.loads((ROOT / "solutions" / f"{exercise}.ipynb").read_text(encoding="utf-8"))
        nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                            "source": textwrap.dedent(answer.source)})
        path = folder / student / f"{exercise}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(nb), encoding="utf-8")
        n += 1
    return n


def compare(csv_path: Path) -> list[str]:
    with open(csv_path, newline="", encoding="utf-8") as fh:
        got = {(r["student"], r["task"]): r for r in csv.DictReader(fh)}
    problems = []
    for student, _exercise, answer in rows():
        r = got.get((student, answer.task))
        if r is None:
            problems.append(f"{student} {answer}: no row")
        elif answer.hint is None and r["status"] != "pass":
            problems.append(f"{student} {answer}: {r['status']}: {r['feedback']}")
        elif answer.hint is not None and (r["status"] != answer.status or answer.hint not in r["feedback"]):
            problems.append(f"{student} {answer}: {r['status']}: {r['feedback']} (expected {answer.status} "
                            f"with {answer.hint!r})")
    return problems


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "--compare":
        found = compare(Path(sys.argv[3]))
        print("\n".join(found))
        print(f"{len(found)} mismatches")
        sys.exit(1 if found else 0)
    print(f"{build(folder)} notebooks written to {folder}")
