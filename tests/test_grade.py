"""The instructor's grader: a whole class of submissions, good, wrong and hostile.

The class (tests/grading_fixtures/classroom.py) is built from whatever solution notebooks
exist, plus a tiny test-only exercise, and graded ONCE with the real command line
(``--jobs 2``); the tests below read that run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_lib import grade
import backprop_lib.checks  # noqa: F401  (registers the course's checks)
from backprop_lib.checks import _core
from backprop_lib.checks._core import _ReferenceWatch, task
from backprop_lib.exercises import generate_notebook, render, task_cells

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_fixtures import classroom  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT = 5


@pytest.fixture
def isolated_registry():
    """Checks registered by a test are removed afterwards (other tests see the course's only)."""
    saved = dict(_core._REGISTRY)
    yield
    _core._REGISTRY.clear()
    _core._REGISTRY.update(saved)


def _points() -> dict[str, float]:
    """Max score of every task: the course's checks plus the demo exercise's (registry left as it was)."""
    saved = dict(_core._REGISTRY)
    try:
        grade._import_check_file(str(classroom.DEMO_CHECKS))
        return {name: check.points for name, check in _core._REGISTRY.items()}
    finally:
        _core._REGISTRY.clear()
        _core._REGISTRY.update(saved)
        sys.modules.pop(next((n for n in sys.modules if n.startswith("_backprop_grade_extra_")), ""), None)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _grade_cli(folder: Path, out: Path, canon: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "backprop_lib.grade", str(folder), "--out", str(out),
           "--exercises", str(ROOT / "exercises"), "--exercises", str(ROOT / "solutions"), "--exercises", str(canon),
           "--checks", str(classroom.DEMO_CHECKS), "--timeout", "60", "--cell-timeout", str(CELL_TIMEOUT),
           "--quiet", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    canon = classroom.write_canonical(base / "canonical")
    folder = base / "class"
    expected = classroom.build_class(folder, _points(), cell_timeout=CELL_TIMEOUT)
    before = _hashes(folder)
    out, wide = base / "grades.csv", base / "wide.csv"
    proc = _grade_cli(folder, out, canon, "--jobs", "2", "--wide", str(wide))
    return {"proc": proc, "rows": _read_csv(out) if out.exists() else [], "expected": expected,
            "before": before, "after": _hashes(folder), "folder": folder, "canon": canon, "wide": wide, "base": base}


def test_grading_a_class_exits_zero_even_though_submissions_fail(graded):
    assert graded["proc"].returncode == 0, graded["proc"].stderr


def test_csv_matches_the_expected_table_for_every_submission_and_task(graded):
    rows = graded["rows"]
    assert rows, graded["proc"].stderr
    assert {"submission", "task", "score", "max_score", "feedback"} <= set(rows[0])
    got = {(r["student"], r["exercise"], r["task"]): r for r in rows}
    assert len(got) == len(rows), "one row per submission and task"
    problems = []
    for e in graded["expected"]:
        row = got.get((e.student, e.exercise, e.task))
        if row is None:
            problems.append(f"{e.student}/{e.exercise}/{e.task}: no row")
            continue
        statuses = e.status if isinstance(e.status, tuple) else (e.status,)
        if float(row["score"]) != e.score or row["status"] not in statuses or e.hint not in row["feedback"]:
            problems.append(f"{e.student}/{e.exercise}/{e.task}: got {row['score']} {row['status']} "
                            f"{row['feedback']!r}; expected {e.score} {e.status} with {e.hint!r}")
    assert not problems, "\n".join(problems)
    assert len(rows) == len(graded["expected"])


def test_every_row_has_max_score_from_the_library_checks(graded):
    points = _points()
    for row in graded["rows"]:
        assert float(row["max_score"]) == points[row["task"]]
        assert 0 <= float(row["score"]) <= float(row["max_score"])


# The fixed table for notebook 01 (reference, untouched and realistic wrong answers).
NOTEBOOK_01 = [
    # student, task, score, status, hint
    ("reference", "central_diff", 1, "pass", ""),
    ("reference", "chain_rule_derivative", 1, "pass", ""),
    ("reference", "gradient_2d", 1, "pass", ""),
    ("reference", "stable_sigmoid_derivative", 1, "pass", ""),
    ("reference", "max_rel_error_check", 1, "pass", ""),
    ("untouched", "central_diff", 0, "not_implemented", "not implemented yet"),
    ("untouched", "chain_rule_derivative", 0, "not_implemented", "not implemented yet"),
    ("untouched", "gradient_2d", 0, "not_implemented", "not implemented yet"),
    ("untouched", "stable_sigmoid_derivative", 0, "not_implemented", "not implemented yet"),
    ("untouched", "max_rel_error_check", 0, "not_implemented", "not implemented yet"),
    ("wrong_a", "central_diff", 0, "fail", "you used the forward difference"),
    ("wrong_a", "chain_rule_derivative", 1, "pass", ""),
    ("wrong_a", "gradient_2d", 0, "fail", "you swapped the partial derivatives"),
    ("wrong_a", "stable_sigmoid_derivative", 1, "pass", ""),
    ("wrong_a", "max_rel_error_check", 0, "fail", "return the MAX over the points"),
    ("wrong_b", "central_diff", 1, "pass", ""),
    ("wrong_b", "chain_rule_derivative", 0, "fail", "you forgot the inner derivative"),
    ("wrong_b", "gradient_2d", 1, "pass", ""),
    ("wrong_b", "stable_sigmoid_derivative", 0, "fail", "you returned sigma(x) itself"),
    ("wrong_b", "max_rel_error_check", 1, "pass", ""),
]


@pytest.mark.skipif(not (ROOT / "solutions" / "01_chain_rule.ipynb").exists(), reason="notebook 01 not merged yet")
def test_notebook_01_reference_untouched_and_wrong_answers_match_the_fixed_table(graded):
    got = {(r["student"], r["task"]): r for r in graded["rows"] if r["exercise"] == "01_chain_rule"}
    table = [(s, t, float(sc), st, h) for s, t, sc, st, h in NOTEBOOK_01]
    actual = [(s, t, float(got[s, t]["score"]), got[s, t]["status"], h) for s, t, _, _, h in NOTEBOOK_01]
    assert actual == table
    for s, t, _, _, hint in NOTEBOOK_01:
        assert hint in got[s, t]["feedback"]


def test_every_graded_task_has_a_realistic_wrong_answer_with_its_hint():
    tasks = [t["task"] for path in classroom.solution_paths() for t in task_cells(json.loads(path.read_text()))]
    assert [t for t in tasks if t not in classroom.WRONG] == []
    assert all(hint for _, hint in classroom.WRONG.values())


def test_submissions_are_never_modified(graded):
    assert graded["before"] == graded["after"]


def test_wide_csv_has_one_row_per_student_and_a_total(graded):
    with open(graded["wide"], newline="", encoding="utf-8") as fh:
        wide = list(csv.reader(fh))
    header, body = wide[0], wide[1:]
    assert header[0] == "student" and header[-2:] == ["total", "max_total"]
    students = sorted({r["student"] for r in graded["rows"]})
    assert [line[0] for line in body] == students
    reference = dict(zip(header, next(line for line in body if line[0] == "reference")))
    assert reference["total"] == reference["max_total"]
    assert reference["grading_demo_slope"] == "2"


def test_summary_table_is_printed_per_student(graded):
    out = graded["proc"].stdout
    assert out.splitlines()[0].split()[:4] == ["student", "notebooks", "passed", "score"]
    assert any(line.startswith("reference ") for line in out.splitlines())
    assert "wrote" in out


def test_jobs_1_gives_the_same_rows_as_jobs_2(graded, tmp_path):
    folder = tmp_path / "subset"
    for student in ("wrong_a", "hostile_calls_reference", "hostile_empty_file"):
        src = graded["folder"] / student
        for nb in src.glob("*.ipynb"):
            (folder / student).mkdir(parents=True, exist_ok=True)
            (folder / student / nb.name).write_bytes(nb.read_bytes())
    out = tmp_path / "jobs1.csv"
    proc = _grade_cli(folder, out, graded["canon"], "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    one = _read_csv(out)
    two = [r for r in graded["rows"] if r["student"] in {p.name for p in folder.iterdir()}]
    assert one == two


# --------------------------------------------------------------------------- command line


def test_usage_errors_exit_with_status_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    canon = ["--exercises", str(classroom.write_canonical(tmp_path / "canonical"))]
    assert grade.main([str(tmp_path / "nope"), "--out", str(tmp_path / "g.csv"), *canon]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert grade.main([str(empty), "--out", str(tmp_path / "g.csv"), *canon]) == 2
    assert "no notebooks" in capsys.readouterr().err
    nb = tmp_path / "alice_90_grading_demo.ipynb"
    nb.write_text("{}")
    assert grade.main([str(nb), "--out", str(tmp_path / "missing" / "g.csv"), *canon]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert grade.main([str(nb), "--out", str(empty), *canon]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert grade.main([str(nb), "--out", str(tmp_path / "g.csv"), "--exercises", str(empty)]) == 2
    assert "no canonical exercise notebooks" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists() or (tmp_path / "g.csv").read_text() == ""


def test_students_are_folders_or_file_name_prefixes(tmp_path):
    (tmp_path / "alice").mkdir()
    for rel in ("alice/01_chain_rule.ipynb", "bob_01_chain_rule.ipynb", "carol-02_graph.ipynb",
                ".ipynb_checkpoints/x.ipynb", "alice/.ipynb_checkpoints/01_chain_rule-checkpoint.ipynb"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    subs = grade.find_submissions([str(tmp_path)], ["01_chain_rule", "02_graph"])
    assert [(s.label, s.student) for s in subs] == [
        ("alice/01_chain_rule.ipynb", "alice"), ("bob_01_chain_rule.ipynb", "bob"), ("carol-02_graph.ipynb", "carol")]


def test_exercise_is_identified_by_metadata_then_file_name():
    exercises = {"01_chain_rule": grade.Exercise("01_chain_rule", (("central_diff", "central_diff"),)),
                 "02_graph": grade.Exercise("02_graph", (("topo_sort", "topo_sort"),))}
    sub = grade.Submission(Path("bob_02_graph.ipynb"), "bob_02_graph.ipynb", "bob")
    meta = {"cells": [], "metadata": {"backprop_lib": {"exercise": "01_chain_rule"}}}
    assert grade._identify(meta, sub, exercises) == "01_chain_rule"
    assert grade._identify({"cells": []}, sub, exercises) == "02_graph"
    assert grade._identify(None, grade.Submission(Path("hw.ipynb"), "hw.ipynb", "x"), exercises) is None


def test_task_list_comes_from_the_canonical_notebook_not_the_submission(graded):
    canon = json.loads((graded["canon"] / "90_grading_demo.ipynb").read_text())
    tasks = [t["task"] for t in canon["metadata"]["backprop_lib"]["tasks"]]
    rows = [r for r in graded["rows"] if r["student"] == "hostile_missing_cell" and r["exercise"] == "90_grading_demo"]
    if rows:
        assert [r["task"] for r in rows] == tasks


# --------------------------------------------------------------------------- references= in @task


def test_reference_watch_flags_an_alias_called_by_the_learner_but_not_by_the_check():
    from backprop_lib.gradcheck import central_difference, forward_difference

    learner_ns: dict = {}
    exec(compile("from backprop_lib.gradcheck import central_difference as cd\n"
                 "def cheat(f, x, h):\n    return cd(f, x, h)\n"
                 "def honest(f, x, h):\n    return (f(x + h) - f(x - h)) / (2 * h)\n",
                 "<ipython-input-1-test>", "exec"), learner_ns)

    def check_body(fn):  # this file plays the check's part: its own calls of the reference are fine
        expected = central_difference(np.sin, 0.3, 1e-3)
        return fn(np.sin, 0.3, 1e-3) - expected

    for name, flagged in (("cheat", True), ("honest", False)):
        watch = _ReferenceWatch([central_difference, forward_difference], check_file=__file__)
        with watch:
            check_body(learner_ns[name])
        assert (watch.used is central_difference) == flagged, name
    assert sys.getprofile() is None


def test_task_with_references_scores_zero_when_the_reference_is_called(tmp_path, isolated_registry):
    import importlib.util

    source = '''
import numpy as np
from backprop_lib.gradcheck import central_difference
from backprop_lib.checks._core import call, expect_close, task

@task("test_grade_reference_demo", references=[central_difference])
def check(fn):
    expect_close(call(fn, np.sin, 0.3, 1e-3), central_difference(np.sin, 0.3, 1e-3), "slope")
    return "ok"
'''
    path = tmp_path / "ref_checks.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("test_grade_ref_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from backprop_lib.gradcheck import central_difference as cd

    assert module.check.run(lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h)).status == "pass"
    result = module.check.run(lambda f, x, h: cd(f, x, h))
    assert result.score == 0 and "reference implementation `backprop_lib.gradcheck.central_difference`" in result.message
    with pytest.raises(TypeError, match="references"):
        task("test_grade_bad_reference", references=[42])


# --------------------------------------------------------------------------- limits and odd files


def _demo_exercises(tmp_path) -> dict:
    return grade.load_exercises([classroom.write_canonical(tmp_path / "canonical")])


def test_a_notebook_past_its_wall_clock_limit_gets_zero_with_the_reason(tmp_path):
    exercises = _demo_exercises(tmp_path)
    nb = json.loads(classroom.DEMO_SOLUTION.read_text())
    nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": "import time\ntime.sleep(600)"})
    path = tmp_path / "slow_90_grading_demo.ipynb"
    path.write_text(render(nb))
    sub = grade.Submission(path, path.name, "slow")
    options = grade.Options(timeout=3, cell_timeout=60, check_files=[str(classroom.DEMO_CHECKS)])
    rows = grade.grade_submission(sub, exercises, _points(), options)
    assert [r["task"] for r in rows] == [t for t, _ in exercises["90_grading_demo"].tasks]
    assert all(r["score"] == 0 and r["status"] == "not_graded" for r in rows)
    assert all("time limit of 3 s" in r["feedback"] for r in rows)


def test_a_notebook_of_no_known_exercise_gets_one_row_saying_so(tmp_path):
    exercises = _demo_exercises(tmp_path)
    path = tmp_path / "homework.ipynb"
    path.write_text(render({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    rows = grade.grade_submission(grade.Submission(path, path.name, "x"), exercises, {}, grade.Options())
    assert len(rows) == 1 and rows[0]["status"] == "unknown_exercise"
    assert "could not tell which exercise" in rows[0]["feedback"]


def test_the_generated_exercise_metadata_identifies_a_renamed_file(tmp_path):
    exercises = _demo_exercises(tmp_path)
    nb = generate_notebook(json.loads(classroom.DEMO_SOLUTION.read_text()), "90_grading_demo.ipynb")
    sub = grade.Submission(tmp_path / "my homework.ipynb", "my homework.ipynb", "x")
    assert grade._identify(nb, sub, exercises) == "90_grading_demo"
