"""Build a small class of submissions for the grader's tests and benchmark.

For every solution notebook that exists (``solutions/*.ipynb`` and the test-only demo
exercise here) the class has: the reference solution (full marks), the untouched exercise
(zero, no crash), and two notebooks with realistic wrong answers (``wrong_a`` gets the
tasks at even positions wrong, ``wrong_b`` the odd ones: partial marks with the intended
hints). Then one notebook per hostile case, each made by editing the code cells of one of
those solution notebooks (the cases rotate over the exercises, so a new notebook is
covered without extra work). :func:`build_class` returns the expected table alongside.

Every student is a folder: ``<root>/<student>/<exercise>.ipynb``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

from backprop_lib.exercises import BEGIN, END, generate_notebook, render, task_cells

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEMO_SOLUTION = HERE / "solutions" / "90_grading_demo.ipynb"
DEMO_CHECKS = HERE / "demo_checks.py"

# Realistic wrong answers by task: (body, the hint the check should give). A body unpacks the
# arguments with `locals()` so it does not depend on the parameter names the notebook chose.
WRONG = {
    "central_diff": ("f, x, h = list(locals().values())\nreturn (f(x + h) - f(x)) / h",
                     "you used the forward difference"),
    "chain_rule_derivative": ("f, df, g, dg, x = list(locals().values())\nreturn df(g(x))",
                              "you forgot the inner derivative"),
    "gradient_2d": ("x, y = list(locals().values())\nc = np.cos(3 * x - y)\n"
                    "return np.array([x**2 - c, 2 * x * y + 3 * c])",
                    "you swapped the partial derivatives"),
    "stable_sigmoid_derivative": ("(x,) = list(locals().values())\nreturn np.exp(-np.logaddexp(0, -x))",
                                  "you returned sigma(x) itself"),
    "max_rel_error_check": ("f, df, xs, h = list(locals().values())\n"
                            "a = np.array([df(t) for t in xs])\n"
                            "n = np.array([(f(t + h) - f(t - h)) / (2 * h) for t in xs])\n"
                            "return float(np.mean(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))",
                            "return the MAX over the points"),
    "grading_demo_slope": ("f, x, h = list(locals().values())\nreturn (f(x + h) - f(x)) / h",
                           "forward difference"),
    "grading_demo_row_means": ("(X,) = list(locals().values())\nreturn X.sum(axis=1)", "you summed"),
    "grading_demo_sigmoid_grad": ("(z,) = list(locals().values())\nreturn 1 / (1 + np.exp(-z))",
                                  "you returned sigmoid(z) itself"),
}
GENERIC_WRONG = ("return None", "")  # a task without a realistic wrong answer here yet


@dataclass(frozen=True)
class Expect:
    """What one CSV row must say: score and status exactly, ``hint`` as a substring of the feedback."""

    student: str
    exercise: str
    task: str
    score: float
    status: str | tuple[str, ...]
    hint: str = ""


def solution_paths() -> list[Path]:
    return sorted((ROOT / "solutions").glob("*.ipynb")) + [DEMO_SOLUTION]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _set(cell: dict, text: str) -> None:
    cell["source"] = text


def _def_cell(nb: dict, function: str) -> int:
    pattern = re.compile(rf"^def\s+{re.escape(function)}\s*\(", re.MULTILINE)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and pattern.search(_src(cell)):
            return i
    raise LookupError(f"no cell defines {function}")


def replace_body(nb: dict, function: str, body: str) -> dict:
    """A copy of ``nb`` whose solution block in ``function`` is ``body`` (at the block's indent)."""
    nb = copy.deepcopy(nb)
    cell = nb["cells"][_def_cell(nb, function)]
    lines = _src(cell).split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(BEGIN))
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(END))
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    new = [indent + line for line in body.split("\n")]
    _set(cell, "\n".join(lines[:start] + new + lines[end + 1:]))
    return nb


def _insert_before_def(nb: dict, function: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    cell = nb["cells"][_def_cell(nb, function)]
    _set(cell, code + "\n" + _src(cell))
    return nb


def _tasks(solution: dict) -> list[tuple[str, str]]:
    return [(t["task"], t["function"]) for t in task_cells(solution)]


def _write(root: Path, student: str, name: str, nb: dict | bytes) -> Path:
    path = root / student / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        path.write_text(render(nb), encoding="utf-8")
    return path


def write_canonical(folder: Path) -> Path:
    """The demo exercise's canonical (generated) notebook, for ``--exercises``."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder.parent, folder.name, DEMO_SOLUTION.stem, generate_notebook(_load(DEMO_SOLUTION), DEMO_SOLUTION.name))
    return folder


def _all(student, name, tasks, score_of, status, hint=""):
    return [Expect(student, name, t, score_of(t), status, hint) for t, _ in tasks]


def build_class(root: Path, points: dict[str, float], *, hostile: bool = True,
                cell_timeout: float = 5.0) -> list[Expect]:
    """Write the class under ``root``; return the expected rows (``points``: task -> max score)."""
    expected: list[Expect] = []
    full = points.get
    solutions = [(p.stem, _load(p)) for p in solution_paths()]
    for name, sol in solutions:
        tasks = _tasks(sol)
        exercise = generate_notebook(sol, f"{name}.ipynb")
        _write(root, "reference", name, sol)
        expected += _all("reference", name, tasks, full, "pass")
        _write(root, "untouched", name, exercise)
        expected += _all("untouched", name, tasks, lambda t: 0, "not_implemented", "not implemented yet")
        for student, parity in (("wrong_a", 0), ("wrong_b", 1)):
            nb = sol
            for i, (task, function) in enumerate(tasks):
                if i % 2 == parity:
                    body, hint = WRONG.get(task, GENERIC_WRONG)
                    nb = replace_body(nb, function, body)
                    expected.append(Expect(student, name, task, 0, ("fail", "error"), hint))
                else:
                    expected.append(Expect(student, name, task, full(task), "pass"))
            _write(root, student, name, nb)
    if hostile:
        expected += _hostile(root, solutions, points, cell_timeout)
    return expected


def _hostile(root: Path, solutions: list[tuple[str, dict]], points: dict, cell_timeout: float) -> list[Expect]:
    """One notebook per hostile case; case i edits exercise i mod n, its task i mod (number of tasks)."""
    expected: list[Expect] = []

    def others_pass(student, name, tasks, target, status, hint, score=0):
        rows = []
        for t, _ in tasks:
            if t == target:
                rows.append(Expect(student, name, t, score, status, hint))
            else:
                rows.append(Expect(student, name, t, points[t], "pass"))
        return rows

    def untouched_plus(name, sol, code):
        ex = generate_notebook(sol, f"{name}.ipynb")
        ex["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                               "source": code})
        return ex

    cases = [
        "endless_loop", "uninterruptible_loop", "sys_exit", "os_exit", "kernel_crash", "syntax_error",
        "missing_cell", "renamed_function", "memory_hog", "exit_while_checked", "tamper_while_checked",
        "invalid_json", "empty_file", "fake_pass", "redefined_checks", "monkeypatched_checks",
        "numpy_tampering",
    ]
    for i, case in enumerate(cases):
        name, sol = solutions[i % len(solutions)]
        tasks = _tasks(sol)
        target, function = tasks[i % len(tasks)]
        student = f"hostile_{case}"
        missing = f"no function `{function}` was defined"
        if case == "endless_loop":
            nb = _insert_before_def(sol, function, "while True:\n    pass")
            expected += others_pass(student, name, tasks, target, "missing", f"did not finish within {cell_timeout:g} s")
        elif case == "uninterruptible_loop":
            nb = _insert_before_def(sol, function, "while True:\n    try:\n        while True:\n            pass\n"
                                                   "    except BaseException:\n        pass")
            expected += others_pass(student, name, tasks, target, "missing", "could not be interrupted), so it was skipped")
        elif case == "sys_exit":
            nb = _insert_before_def(sol, function, "import sys\nsys.exit(3)")
            expected += others_pass(student, name, tasks, target, "missing", "it called sys.exit(3)")
        elif case == "os_exit":
            nb = _insert_before_def(sol, function, "import os\nos._exit(1)")
            expected += others_pass(student, name, tasks, target, "missing", "exited with code 1")
        elif case == "kernel_crash":
            nb = _insert_before_def(sol, function, "import ctypes\nctypes.string_at(0)")
            expected += others_pass(student, name, tasks, target, "missing", "killed by SIGSEGV")
        elif case == "syntax_error":
            nb = _insert_before_def(sol, function, "def broken(:\n    pass")
            expected += others_pass(student, name, tasks, target, "missing", "SyntaxError")
        elif case == "missing_cell":
            nb = copy.deepcopy(sol)
            del nb["cells"][_def_cell(nb, function)]
            expected += others_pass(student, name, tasks, target, "missing", "Was it renamed or its cell deleted?")
        elif case == "renamed_function":
            nb = copy.deepcopy(sol)
            cell = nb["cells"][_def_cell(nb, function)]
            _set(cell, re.sub(rf"def\s+{function}\s*\(", f"def {function}_v2(", _src(cell)))
            expected += others_pass(student, name, tasks, target, "missing", f"{missing} when the notebook ran: the notebook has no")
        elif case == "memory_hog":
            nb = _insert_before_def(sol, function, "hog = bytearray(3 * 1024**3)  # over the --memory limit")
            expected += others_pass(student, name, tasks, target, "missing", "MemoryError")
        elif case == "exit_while_checked":
            nb = replace_body(sol, function, "import os\nos._exit(7)")
            expected += others_pass(student, name, tasks, target, "fail", "exited with code 7 (os._exit() or a crash) while your function was being checked")
        elif case == "tamper_while_checked":
            nb = replace_body(sol, function, "import backprop_lib.checks._core as core\n"
                                             "core.expect_array = core.expect_scalar = core.expect_close = lambda *a, **k: None\n"
                                             "return None")
            expected += others_pass(student, name, tasks, target, "fail", "your function replaced backprop_lib.checks._core.expect_")
        elif case in ("invalid_json", "empty_file"):
            data = render(sol).encode()[:200] if case == "invalid_json" else b""
            _write(root, student, name, data)
            hint = "not a valid notebook (JSON error" if case == "invalid_json" else "the file is empty"
            expected += _all(student, name, tasks, lambda t: 0, "unreadable", hint)
            continue
        elif case == "fake_pass":
            nb = generate_notebook(sol, f"{name}.ipynb")
            for cell in nb["cells"]:
                if "backprop_lib" in cell.get("metadata", {}):
                    _set(cell, f"print('PASS  {cell['metadata']['backprop_lib']['task']} (1/1): all good')")
            expected += _all(student, name, tasks, lambda t: 0, "not_implemented", "not implemented yet")
        elif case == "redefined_checks":
            code = "\n".join(f"def check_{t}(fn, **kw):\n    print('PASS')" for t, _ in tasks)
            nb = untouched_plus(name, sol, code + "\n" + "\n".join(f"check_{t}({f})" for t, f in tasks))
            expected += _all(student, name, tasks, lambda t: 0, "not_implemented", "not implemented yet")
        elif case == "monkeypatched_checks":
            code = ("import backprop_lib.checks as checks\nimport backprop_lib.checks._core as core\n"
                    "def fake(self, func):\n    return core.Result(self.task, self.points, self.points, 'ok', 'pass')\n"
                    "core.TaskCheck._evaluate = fake\ncore.TaskCheck.run = fake\n"
                    "core.grade = checks.grade = lambda t, f: core.Result(t, 1, 1, 'ok', 'pass')\n"
                    "for c in core._REGISTRY.values():\n    c._body = lambda fn: 'ok'")
            nb = untouched_plus(name, sol, code)
            expected += _all(student, name, tasks, lambda t: 0, "not_implemented", "not implemented yet")
        elif case == "numpy_tampering":
            code = ("import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
                    "np.isfinite = np.isnan\nimport sys, types\nimport backprop_lib, backprop_lib.gradcheck\n"
                    "sys.modules['backprop_lib.gradcheck'] = backprop_lib.gradcheck = types.ModuleType('fake')")
            nb = untouched_plus(name, sol, code)
            expected += _all(student, name, tasks, lambda t: 0, "not_implemented",
                             "numpy.allclose")
        else:  # pragma: no cover
            raise AssertionError(case)
        _write(root, student, name, nb)
    # The one case that needs a check declaring `references=`: the demo exercise's slope task.
    demo = _load(DEMO_SOLUTION)
    nb = replace_body(demo, "slope", "return cd(f, x, h)")
    nb = _insert_before_def(nb, "slope", "from backprop_lib.gradcheck import central_difference as cd")
    _write(root, "hostile_calls_reference", DEMO_SOLUTION.stem, nb)
    expected += others_pass("hostile_calls_reference", DEMO_SOLUTION.stem, _tasks(demo), "grading_demo_slope", "fail",
                            "calls the library's reference implementation `backprop_lib.gradcheck.central_difference`")
    return expected
