"""The instructor's grader: a whole class of submissions, good, wrong, hostile and real-life messy.

The class (tests/grading_fixtures/classroom.py) is built from whatever solution notebooks
exist, plus a tiny test-only exercise, and graded ONCE with the real command line
(``--jobs 2``); the tests below read that run. Where bubblewrap works, the class also has
the seven escapes of issue 16; each must leave the scores, the other students' files, the
output files and the library untouched, and no process behind.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backprop_lib import grade
import backprop_lib.checks  # noqa: F401  (registers the course's checks)
from backprop_lib.checks import _core
from backprop_lib.checks._core import _ReferenceWatch, task
from backprop_lib.exercises import generate_notebook, render, task_cells
from backprop_lib.grade import cli, discovery, sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_fixtures import classroom  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "backprop_lib"
CELL_TIMEOUT = 5
SANDBOX = sandbox.detect()
needs_bwrap = pytest.mark.skipif(not SANDBOX.sandboxed, reason=f"no sandbox here: {SANDBOX.warning} (make sandbox)")


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
        cli.import_check_file(str(classroom.DEMO_CHECKS))
        return {name: check.points for name, check in _core._REGISTRY.items()}
    finally:
        _core._REGISTRY.clear()
        _core._REGISTRY.update(saved)
        sys.modules.pop(next((n for n in sys.modules if n.startswith("_backprop_grade_extra_")), ""), None)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _grade_cli(folder, out, canon: Path, *extra: str) -> subprocess.CompletedProcess:
    folders = [str(f) for f in (folder if isinstance(folder, list) else [folder])]
    cmd = [sys.executable, "-m", "backprop_lib.grade", *folders,
           "--exercises", str(ROOT / "exercises"), "--exercises", str(ROOT / "solutions"), "--exercises", str(canon),
           "--checks", str(classroom.DEMO_CHECKS), "--timeout", "60", "--cell-timeout", str(CELL_TIMEOUT),
           "--quiet", *([] if out is None else ["--out", str(out)]), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


def _daemons() -> list[int]:
    """Processes named like the hostile daemon, anywhere on this machine."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == classroom.DAEMON_NAME:
                found.append(int(comm.parent.name))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    canon = classroom.write_canonical(base / "canonical")
    folder = base / "class"
    points = _points()
    expected = classroom.build_class(folder, points, cell_timeout=CELL_TIMEOUT)
    expected += classroom.workflow(folder, points)
    if SANDBOX.sandboxed:
        expected += classroom.escapes(folder, points)
    before, library_before = _hashes(folder), _hashes(LIBRARY)
    around_before = sorted(p.name for p in base.iterdir())
    out, wide = base / "grades.csv", base / "wide.csv"
    started = time.monotonic()
    proc = _grade_cli(folder, out, canon, "--jobs", "2", "--wide", str(wide), "--feedback", str(base / "feedback"))
    seconds = time.monotonic() - started
    out_hash = hashlib.sha256(out.read_bytes()).hexdigest() if out.exists() else None
    time.sleep(2.0)  # a daemon that survived would strike now
    return {"proc": proc, "rows": _read_csv(out) if out.exists() else [], "expected": expected,
            "before": before, "after": _hashes(folder), "folder": folder, "canon": canon, "wide": wide, "base": base,
            "library_before": library_before, "library_after": _hashes(LIBRARY), "out": out, "out_hash": out_hash,
            "out_hash_later": hashlib.sha256(out.read_bytes()).hexdigest() if out.exists() else None,
            "around_before": around_before, "daemons": _daemons(), "seconds": seconds}


def test_grading_a_class_exits_zero_even_though_submissions_fail(graded):
    assert graded["proc"].returncode == 0, graded["proc"].stderr


def _match(rows: list[dict], e) -> dict | None:
    found = [r for r in rows if (r["student"], r["exercise"], r["task"]) == (e.student, e.exercise, e.task)
             and (not e.submission or Path(r["submission"]).name == e.submission)]
    statuses = e.status if isinstance(e.status, tuple) else (e.status,)
    return next((r for r in found if r["status"] in statuses), found[0] if found else None)


def test_csv_matches_the_expected_table_for_every_submission_and_task(graded):
    rows = graded["rows"]
    assert rows, graded["proc"].stderr
    assert list(rows[0]) == grade.COLUMNS
    problems = []
    for e in graded["expected"]:
        row = _match(rows, e)
        if row is None:
            problems.append(f"{e.student}/{e.exercise}/{e.task}: no row")
            continue
        statuses = e.status if isinstance(e.status, tuple) else (e.status,)
        if float(row["score"]) != e.score or row["status"] not in statuses or e.hint not in row["feedback"]:
            problems.append(f"{e.student}/{e.exercise}/{e.task}: got {row['score']} {row['status']} "
                            f"{row['feedback']!r}; expected {e.score} {e.status} with {e.hint!r}")
    assert not problems, "\n".join(problems)
    assert len(rows) == len(graded["expected"])
    keys = [(r["student"], r["submission"], r["task"]) for r in rows if r["task"]]
    assert len(keys) == len(set(keys)), "one row per submission and task"


def test_every_row_has_max_score_from_the_library_checks(graded):
    points = _points()
    for row in graded["rows"]:
        if row["task"]:
            assert float(row["max_score"]) == points[row["task"]]
        assert 0 <= float(row["score"]) <= float(row["max_score"])


# --------------------------------------------------------------------------- escapes


@needs_bwrap
def test_escapes_leave_other_students_files_untouched(graded):
    assert graded["before"] == graded["after"]
    assert not (graded["base"].parent / "pwned.txt").exists()
    assert sorted(p.name for p in graded["base"].iterdir()) == sorted(
        graded["around_before"] + ["grades.csv", "wide.csv", "feedback", "grades.log"])


@needs_bwrap
def test_escapes_leave_the_library_untouched(graded):
    assert graded["library_before"] == graded["library_after"]


@needs_bwrap
def test_escapes_leave_the_output_untouched_and_no_process_behind(graded):
    assert graded["out_hash"] == graded["out_hash_later"]
    assert "hostile,100" not in graded["out"].read_text()
    assert graded["daemons"] == []


@needs_bwrap
def test_escape_students_score_only_what_their_code_earns(graded):
    rows = [r for r in graded["rows"] if r["student"].startswith("escape_")]
    assert len({r["student"] for r in rows}) == 8
    earned = {r["student"]: sum(float(x["score"]) for x in rows if x["student"] == r["student"]) for r in rows}
    assert earned["escape_forged_results"] == earned["escape_import_module"] == earned["escape_audit_hook"] == 0
    assert earned["escape_outside"] == earned["escape_write_library"] == earned["escape_run_solutions"] == 0
    assert "forged" not in " ".join(r["feedback"] for r in rows)


def test_the_summary_warns_when_there_is_no_sandbox(tmp_path):
    nb = tmp_path / "alice" / "90_grading_demo.ipynb"
    nb.parent.mkdir()
    nb.write_text(classroom.DEMO_SOLUTION.read_text())
    out = tmp_path / "g.csv"
    proc = _grade_cli(tmp_path / "alice", out, classroom.write_canonical(tmp_path / "canonical"), "--sandbox", "none")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: the sandbox was turned off" in proc.stdout
    assert "WARNING: the sandbox was turned off" in (tmp_path / "g.log").read_text()
    assert [r["score"] for r in _read_csv(out)] == ["2", "1", "1"]


# --------------------------------------------------------------------------- the realistic class


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


def test_wide_csv_totals_agree_with_the_summary_and_count_every_exercise(graded):
    with open(graded["wide"], newline="", encoding="utf-8") as fh:
        wide = list(csv.reader(fh))
    header, body = wide[0], wide[1:]
    assert header[0] == "student" and header[-2:] == ["total", "max_total"]
    students = sorted({r["student"] for r in graded["rows"]})
    assert [line[0] for line in body] == students
    by_student = {line[0]: dict(zip(header, line)) for line in body}
    points = _points()
    everything = sum(points[t] for t in header[1:-2])
    assert all(float(line["max_total"]) == everything for line in by_student.values())
    assert by_student["reference"]["total"] == by_student["reference"]["max_total"]
    assert by_student["reference"]["grading_demo_slope"] == "2"
    # a duplicate counts once (its best), another course's notebook adds nothing
    assert float(by_student["duplicate"]["total"]) == 4
    assert float(by_student["othercourse"]["total"]) == 0
    summary = {line.split()[0]: line.split() for line in graded["proc"].stdout.splitlines()[2:] if line.strip()}
    for student, line in by_student.items():
        assert summary[student][3] == f"{float(line['total']):g}/{float(line['max_total']):g}", student


def test_summary_table_is_printed_per_student_with_the_counts(graded):
    out = graded["proc"].stdout
    assert out.splitlines()[0].split()[:4] == ["student", "notebooks", "passed", "score"]
    assert any(line.startswith("reference ") for line in out.splitlines())
    assert "files ignored" in out and "wrote" in out


def test_feedback_has_a_readable_file_per_student(graded):
    folder = graded["base"] / "feedback"
    students = {r["student"] for r in graded["rows"]}
    assert {p.stem for p in folder.glob("*.md")} == students == {p.stem for p in folder.glob("*.html")}
    text = (folder / "wrong_a.md").read_text()
    assert "you used the forward difference" in text and "Total:" in text and "what to do next" in text
    assert "Traceback" not in "".join(p.read_text() for p in folder.glob("*.md"))


def test_the_log_records_limits_restarts_and_the_students_output(graded):
    log = (graded["base"] / "grades.log").read_text()
    assert "sandbox:" in log and "limits:" in log
    assert "hostile_os_exit" in log and "running it again without it" in log
    assert "ignored: pyonly/01_chain_rule.py" in log
    assert "--- the notebook's stdout/stderr ---" in log


def test_jobs_1_gives_the_same_rows_as_jobs_2(graded, tmp_path):
    folder = tmp_path / "subset"
    for student in ("wrong_a", "hostile_calls_reference", "hostile_empty_file"):
        for nb in (graded["folder"] / student).glob("*.ipynb"):
            (folder / student).mkdir(parents=True, exist_ok=True)
            (folder / student / nb.name).write_bytes(nb.read_bytes())
    out = tmp_path / "jobs1.csv"
    proc = _grade_cli(folder, out, graded["canon"], "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    one = _read_csv(out)
    two = [r for r in graded["rows"] if r["student"] in {p.name for p in folder.iterdir()}]
    assert one == two


# --------------------------------------------------------------------------- the workflow: roster, LMS, regrade


def test_roster_feedback_lms_and_regrading_one_student_in_place(tmp_path):
    canon = classroom.write_canonical(tmp_path / "canonical")
    demo = json.loads(classroom.DEMO_SOLUTION.read_text())
    course = tmp_path / "class"
    (course / "alice").mkdir(parents=True)
    (course / "alice" / "chainrule_final.ipynb").write_text(render(demo))       # renamed: metadata says which
    wrong = classroom.replace_body(demo, "row_means", classroom.WRONG["grading_demo_row_means"][0])
    (course / "Bob.Smith").mkdir()
    (course / "Bob.Smith" / "Copy of 90_grading_demo.ipynb").write_text(render(wrong))
    (course / "mallory").mkdir()
    (course / "mallory" / "90_grading_demo.ipynb").write_text(render(demo))
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nalice,Alice A,alice@example.org\ns002,Bob Smith,bob.smith@example.org\n"
                      "carol,Carol C,carol@example.org\n")
    out, lms, wide = tmp_path / "grades.csv", tmp_path / "lms.csv", tmp_path / "wide.csv"
    only_demo = ["--exercises", str(canon)]
    cmd = [sys.executable, "-m", "backprop_lib.grade", str(course), "--out", str(out), "--roster", str(roster),
           "--lms", str(lms), "--wide", str(wide), "--feedback", str(tmp_path / "fb"), "--checks",
           str(classroom.DEMO_CHECKS), "--quiet", *only_demo]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = _read_csv(out)
    assert {r["student"] for r in rows} == {"alice", "s002", "carol", "mallory"}
    assert [r["status"] for r in rows if r["student"] == "carol"] == ["no_submission"]
    assert "1 on the roster without a submission (carol)" in proc.stdout
    assert "1 submissions matching no student on the roster (mallory/90_grading_demo.ipynb)" in proc.stdout
    with open(lms, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert table[0][5] == "90_grading_demo (4)" and table[1][5] == "4"
    assert [line[2] for line in table[2:]] == ["alice", "carol", "s002"]        # unmatched mallory: no roster id
    assert [line[5] for line in table[2:]] == ["4", "0", "3"]
    assert (tmp_path / "fb" / "carol.md").read_text().count("Not submitted") == 1
    assert "Bob Smith" in (tmp_path / "fb" / "s002.html").read_text()
    # Bob fixes his notebook; regrade him alone, by his folder, updating the gradebook in place
    (course / "Bob.Smith" / "Copy of 90_grading_demo.ipynb").write_text(render(demo))
    others = [r for r in rows if r["student"] != "s002"]
    cmd = [sys.executable, "-m", "backprop_lib.grade", str(course / "Bob.Smith"), "--update", str(out),
           "--roster", str(roster), "--checks", str(classroom.DEMO_CHECKS), "--quiet", *only_demo]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    again = _read_csv(out)
    assert [r for r in again if r["student"] != "s002"] == others
    s002 = [(r["score"], r["status"]) for r in again if r["student"] == "s002"]
    assert s002 == [("2", "pass"), ("1", "pass"), ("1", "pass")]
    # a single file keeps its student's name (its folder), whatever the file is called
    cmd[3] = str(course / "alice" / "chainrule_final.ipynb")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert {r["student"] for r in _read_csv(out)} == {"alice", "s002", "carol", "mallory"}


# --------------------------------------------------------------------------- command line and discovery


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
    assert grade.main([str(nb), *canon]) == 2
    assert "--out" in capsys.readouterr().err
    bad = tmp_path / "roster.csv"
    bad.write_text("who,what\n")
    assert grade.main([str(nb), "--out", str(tmp_path / "g.csv"), "--roster", str(bad), *canon]) == 2
    assert "no id column" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists() or (tmp_path / "g.csv").read_text() == ""


def test_students_are_folders_or_file_name_prefixes(tmp_path):
    (tmp_path / "alice").mkdir()
    for rel in ("alice/01_chain_rule.ipynb", "bob_01_chain_rule.ipynb", "carol-02_graph.ipynb",
                ".ipynb_checkpoints/x.ipynb", "alice/.ipynb_checkpoints/01_chain_rule-checkpoint.ipynb",
                "dave/notes.txt", "README.md"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    found = discovery.discover([str(tmp_path)], ["01_chain_rule", "02_graph"])
    assert [(s.label, s.student) for s in found.submissions] == [
        ("alice/01_chain_rule.ipynb", "alice"), ("bob_01_chain_rule.ipynb", "bob"), ("carol-02_graph.ipynb", "carol")]
    assert found.no_notebook == ["dave"] and found.ignored["dave"][0][0] == "dave/notes.txt"
    assert found.ignored[""] == [("README.md", "not a notebook (.md file): only .ipynb files are graded")]


def test_one_students_folder_or_file_keeps_the_students_name(tmp_path):
    alice = tmp_path / "class" / "alice"
    alice.mkdir(parents=True)
    for name in ("chainrule_final.ipynb", "Copy of 02_graph.ipynb", "lab 03 - attempt 02.ipynb"):
        (alice / name).write_text("{}")
    names = ["01_chain_rule", "02_graph", "03_delta"]
    assert {s.student for s in discovery.discover([str(alice)], names).submissions} == {"alice"}
    for name in ("chainrule_final.ipynb", "Copy of 02_graph.ipynb"):
        assert discovery.discover([str(alice / name)], names).submissions[0].student == "alice"
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "bob_02_graph.ipynb").write_text("{}")
    assert discovery.discover([str(flat / "bob_02_graph.ipynb")], names).submissions[0].student == "bob"


def test_exercise_is_identified_by_metadata_then_check_cells_then_file_name():
    exercises = {"01_chain_rule": grade.Exercise("01_chain_rule", (("central_diff", "central_diff"),)),
                 "02_graph": grade.Exercise("02_graph", (("topo_sort", "topo_sort"),))}
    meta = {"cells": [], "metadata": {"backprop_lib": {"exercise": "01_chain_rule"}}}
    assert grade.identify(meta, Path("bob_02_graph.ipynb"), exercises)[0] == "01_chain_rule"
    checks = {"cells": [{"cell_type": "code", "source": "check_topo_sort(my_sort)", "metadata": {}}], "metadata": {}}
    assert grade.identify(checks, Path("lab 01 - attempt 02.ipynb"), exercises)[0] == "02_graph"
    assert grade.identify({"cells": []}, Path("bob_02_graph.ipynb"), exercises)[0] == "02_graph"
    foreign = {"cells": [{"cell_type": "code", "source": "print(1)", "metadata": {}}], "metadata": {}}
    assert grade.identify(foreign, Path("01_intro_to_python.ipynb"), exercises)[0] is None
    assert grade.identify(None, Path("hw.ipynb"), exercises)[0] is None


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
    assert result.score == 0
    assert "reference implementation `backprop_lib.gradcheck.central_difference`" in result.message
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
    options = grade.Options(timeout=3, cell_timeout=60)
    report = grade.grade_notebook(sub, exercises, _points(), options, SANDBOX)
    rows = report.rows
    assert [r["task"] for r in rows] == [t for t, _ in exercises["90_grading_demo"].tasks]
    assert all(r["score"] == 0 and r["status"] == "not_graded" for r in rows)
    assert all("time limit of 3 s" in r["feedback"] for r in rows)


def test_a_notebook_of_no_known_exercise_gets_one_row_saying_so(tmp_path):
    exercises = _demo_exercises(tmp_path)
    path = tmp_path / "homework.ipynb"
    path.write_text(render({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    rows = grade.grade_notebook(grade.Submission(path, path.name, "x"), exercises, {}, grade.Options(), SANDBOX).rows
    assert len(rows) == 1 and rows[0]["status"] == "unknown_exercise"
    assert "could not tell which exercise" in rows[0]["feedback"]


def test_the_generated_exercise_metadata_identifies_a_renamed_file(tmp_path):
    exercises = _demo_exercises(tmp_path)
    nb = generate_notebook(json.loads(classroom.DEMO_SOLUTION.read_text()), "90_grading_demo.ipynb")
    assert grade.identify(nb, tmp_path / "my homework.ipynb", exercises) == ("90_grading_demo", "metadata")


def test_only_marked_checks_functions_run_with_the_learner_code_in_the_sandbox():
    """``call(program, learner_class, ...)``: the grader asks the sandbox to run ``program`` (a checks
    function marked ``runs_with_learner_code``) on the learner's object; nothing else is run there."""
    from backprop_lib.checks import computational_graph as cg
    from backprop_lib.checks._integrity import RemoteCallable, program_name
    from backprop_lib.grade import worker

    name = "backprop_lib.checks.computational_graph._run_program"
    assert program_name(cg._run_program) == name and worker._program(name) is cg._run_program
    assert program_name(cg._reference) is None and program_name(len) is None
    for bad in ("backprop_lib.checks.computational_graph._reference", "backprop_lib.engine.Value", "os.system",
                "backprop_lib.checks._core.call", None, 3):
        assert worker._program(bad) is None
    assert _core.registry()["graph_own_engine"].takes_class and not _core.registry()["graph_pow_backward"].takes_class

    class Stand(RemoteCallable):  # the grader's stand-in for a learner's class, as verdicts.RemoteFunction
        is_class = True

        def __init__(self):
            self.calls = []

        def invoke(self, args, kwargs, timeout, references=(), via=None):
            self.calls.append(via)
            program = worker._program(via)
            return _core.run_call(program, (cg.Value, *args), kwargs, timeout)

    stand = Stand()
    out = _core.call(cg._run_program, stand, [0.5, 2.0], [("*", 0, 1)])
    assert stand.calls == [name] and out == {"data": [0.5, 2.0, 1.0], "grad": [2.0, 0.5, 1.0]}


def test_a_class_task_is_graded_through_the_sandbox_with_the_learners_class(tmp_path):
    """Exercise 02's capstone (the learner's class Scalar) and its forward-mode task (a callback f),
    graded in the sandbox on the solution and on a Scalar whose backward assigns instead of adding."""
    exercises = grade.load_exercises([ROOT / "solutions"])
    nb = json.loads((ROOT / "solutions" / "02_computational_graph.ipynb").read_text())
    wrong = copy.deepcopy(nb)
    cell = next(c for c in wrong["cells"] if c["cell_type"] == "code" and "class Scalar" in "".join(c["source"]))
    source = "".join(cell["source"])
    assert source.count("+= ") >= 1
    cell["source"] = source.replace(".grad += ", ".grad = ")
    rows = {}
    for student, book in (("right", nb), ("wrong", wrong)):
        path = tmp_path / student / "02_computational_graph.ipynb"
        path.parent.mkdir()
        path.write_text(render(book))
        report = grade.grade_notebook(grade.Submission(path, path.name, student), exercises, _points(),
                                      grade.Options(timeout=600, cell_timeout=120), SANDBOX)
        rows[student] = {r["task"]: r for r in report.rows}
    assert rows["right"]["graph_own_engine"]["status"] == "pass", rows["right"]["graph_own_engine"]
    assert rows["right"]["graph_forward_mode"]["status"] == "pass", rows["right"]["graph_forward_mode"]
    got = rows["wrong"]["graph_own_engine"]
    assert got["status"] == "fail" and "+=" in got["feedback"], got
