"""The exercise generator: solutions/ -> exercises/, and the in-sync check `make test` relies on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backprop_lib import exercises as gen

ROOT = Path(__file__).resolve().parent.parent


def code(src, **meta):
    return {"cell_type": "code", "id": meta.pop("id", "c"), "metadata": meta, "source": src,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "PASS\n"}], "execution_count": 3}


def md(src, id="m"):
    return {"cell_type": "markdown", "id": id, "metadata": {}, "source": src}


def notebook(*cells):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}


SOLUTION_CELL = (
    "def double(x):\n"
    "    \"\"\"Return 2x.\"\"\"\n"
    "    ### BEGIN SOLUTION\n"
    "    y = 2 * x\n"
    "    return y\n"
    "    ### END SOLUTION\n"
)


def test_solution_block_becomes_a_not_implemented_stub_at_the_same_indent():
    nb = gen.generate_notebook(notebook(code(SOLUTION_CELL, id="sol")), "01_demo.ipynb")
    src = "".join(nb["cells"][0]["source"])
    assert "2 * x" not in src and "BEGIN SOLUTION" not in src
    assert '    raise NotImplementedError("double: replace this line with your code")' in src
    assert src.startswith('def double(x):\n    """Return 2x."""\n    # YOUR CODE HERE\n')
    compile(src, "<stub>", "exec")  # the stub is valid Python


def test_stub_raises_not_implemented_error_when_called():
    nb = gen.generate_notebook(notebook(code(SOLUTION_CELL)), "01_demo.ipynb")
    namespace = {}
    exec("".join(nb["cells"][0]["source"]), namespace)
    with pytest.raises(NotImplementedError, match="double"):
        namespace["double"](3)


def test_outputs_and_execution_counts_are_stripped_and_cell_ids_kept():
    nb = gen.generate_notebook(notebook(code("x = 1\n", id="keep-me", execution={"t": 1})), "01_demo.ipynb")
    cell = nb["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None
    assert cell["id"] == "keep-me"
    assert "execution" not in cell["metadata"]


def test_markdown_solution_becomes_a_prompt():
    nb = gen.generate_notebook(notebook(md("Answer:\n### BEGIN SOLUTION\nIt is 42.\n### END SOLUTION\n")), "x.ipynb")
    src = "".join(nb["cells"][0]["source"])
    assert "42" not in src and "*Write your answer here.*" in src


def test_check_cells_get_task_metadata_and_the_notebook_lists_its_tasks():
    nb = gen.generate_notebook(
        notebook(code(SOLUTION_CELL, id="sol"), code("check_double_it(double)\n", id="chk")), "01_demo.ipynb"
    )
    assert nb["cells"][1]["metadata"]["backprop_lib"] == {"task": "double_it", "function": "double"}
    assert nb["metadata"]["backprop_lib"] == {
        "exercise": "01_demo", "tasks": [{"task": "double_it", "function": "double"}]
    }


def test_generation_does_not_modify_the_solution_notebook():
    solution = notebook(code(SOLUTION_CELL))
    before = json.dumps(solution, sort_keys=True)
    gen.generate_notebook(solution, "x.ipynb")
    assert json.dumps(solution, sort_keys=True) == before


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
        ("x = 1\n### END SOLUTION\n", "without a matching"),
    ],
)
def test_malformed_markers_name_the_notebook_and_cell(source, message):
    with pytest.raises(gen.MarkerError, match=message) as info:
        gen.generate_notebook(notebook(md("intro"), code(source, id="bad-cell")), "07_broken.ipynb")
    assert "07_broken.ipynb" in str(info.value) and "cell 1" in str(info.value) and "bad-cell" in str(info.value)


def write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gen.render(nb), encoding="utf-8")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "backprop_lib.exercises", *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_cli_generates_then_check_passes_then_detects_edits_and_stale_files(tmp_path):
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    write(sol / "01_demo.ipynb", notebook(code(SOLUTION_CELL, id="sol")))
    dirs = ["--solutions", str(sol), "--exercises", str(ex)]

    assert run_cli("--check", *dirs).returncode == 1  # missing
    assert run_cli(*dirs).returncode == 0
    ok = run_cli("--check", *dirs)
    assert ok.returncode == 0, ok.stderr

    # editing the solution without regenerating is caught, naming notebook and cell
    write(sol / "01_demo.ipynb", notebook(code(SOLUTION_CELL.replace("2 * x", "x + x") + "z = 0\n", id="sol")))
    stale = run_cli("--check", *dirs)
    assert stale.returncode == 1
    assert "01_demo.ipynb" in stale.stderr and "cell 0 (id sol)" in stale.stderr

    # an exercise without a solution is reported, then removed by regeneration
    assert run_cli(*dirs).returncode == 0
    write(ex / "99_orphan.ipynb", notebook())
    orphan = run_cli("--check", *dirs)
    assert orphan.returncode == 1 and "99_orphan.ipynb" in orphan.stderr
    assert run_cli(*dirs).returncode == 0
    assert not (ex / "99_orphan.ipynb").exists()


def test_cli_reports_malformed_markers_without_a_traceback(tmp_path):
    sol = tmp_path / "solutions"
    write(sol / "02_bad.ipynb", notebook(code("### BEGIN SOLUTION\n", id="x")))
    result = run_cli("--solutions", str(sol), "--exercises", str(tmp_path / "exercises"))
    assert result.returncode == 2
    assert "02_bad.ipynb" in result.stderr and "Traceback" not in result.stderr


def test_generation_is_deterministic():
    nb = notebook(code(SOLUTION_CELL), code("check_double_it(double)"))
    assert gen.render(gen.generate_notebook(nb, "a.ipynb")) == gen.render(gen.generate_notebook(nb, "a.ipynb"))


def test_repository_exercises_are_in_sync_with_solutions():
    problems = gen.check_all(ROOT / "solutions", ROOT / "exercises")
    assert not problems, "exercises/ is out of date; run `make exercises`:\n" + "\n".join(problems)


def test_every_solution_notebook_has_graded_tasks_with_registered_checks():
    from backprop_lib.checks import registry

    known = registry()
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        tasks = gen.task_cells(json.loads(path.read_text(encoding="utf-8")))
        assert 4 <= len(tasks) <= 8, f"{path.name} has {len(tasks)} graded tasks, expected 4-8 (COURSE.md)"
        for t in tasks:
            assert t["task"] in known, f"{path.name}: check_{t['task']} is not a registered check"


def test_exercise_notebooks_contain_no_solutions_or_outputs():
    for path in sorted((ROOT / "exercises").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            assert gen.BEGIN not in src and gen.END not in src, path.name
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
