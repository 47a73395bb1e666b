"""What learners actually write, one row per answer, for every graded task of the course.

Each exercise notebook ``NN_name`` has a table ``tests/answers/nbNN_name.py`` with a list
``ANSWERS`` of :class:`Answer` rows:

* a **wrong** answer (``hint`` is a fragment of the feedback it must get): a realistic mistake
  written as a learner would write it, which the check must reject (score 0) with a hint that
  names that mistake, not just the bare values;
* a **correct alternative** (``hint=None``): another way the task text allows (a loop instead of
  vectorised code, other names, another valid convention the text names), which must pass.

``source`` is the code of the learner's cell: it defines the task's function (and anything it
needs that the notebook does not define). It runs in a namespace where every code cell of the
solution notebook, except the check cells, has run: the setup imports, the given helpers and the
reference answers of the other tasks (so a table row can also replace a helper the task calls).
``tests/test_answers.py`` runs every row through the library's check and also requires, for
every task, at least three wrong answers and one correct alternative.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The feedback that only repeats numbers: a rejection must say more than this.
BARE_VALUES = re.compile(r"^[^:]* is wrong( at index \([^)]*\))?: got [^,]+, expected [^.]+\.?$")


@dataclass(frozen=True)
class Answer:
    task: str                 # the task id (as in ``check_<task>``)
    label: str                # what the learner did, e.g. "forward difference instead of central"
    source: str               # the learner's cell
    hint: str | None          # a fragment of the expected hint; None = a correct alternative that must pass
    status: str = "fail"      # the expected status of a wrong answer: "fail" (or "error")
    function: str | None = None  # the function to check, if not the task's function in the notebook

    def __str__(self) -> str:
        kind = "ok" if self.hint is None else "wrong"
        return f"{self.task}[{kind}: {self.label}]"


def exercise_tasks(exercise: str) -> dict[str, str]:
    """task id -> function name, from the generated exercise notebook's metadata."""
    nb = json.loads((ROOT / "exercises" / f"{exercise}.ipynb").read_text(encoding="utf-8"))
    return {t["task"]: t["function"] for t in nb["metadata"]["backprop_lib"]["tasks"]}


@lru_cache(maxsize=None)
def _solution_cells(exercise: str) -> tuple[str, ...]:
    nb = json.loads((ROOT / "solutions" / f"{exercise}.ipynb").read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if re.match(r"^\s*check_\w+\(\s*\w+\s*\)\s*;?\s*$", src):
            continue  # the check cells: the test runs the library's check itself
        cells.append(src)
    return tuple(cells)


def namespace(exercise: str) -> dict:
    """A fresh namespace in which every non-check code cell of the solution notebook has run."""
    import matplotlib

    matplotlib.use("Agg")
    ns: dict = {"__name__": "__main__"}
    for src in _solution_cells(exercise):
        exec(compile(src, f"<solutions/{exercise}>", "exec"), ns)  # noqa: S102 - our own notebook
    return ns


def learner_function(answer: Answer, exercise: str):
    """Run the answer's cell after the solution notebook's cells; return the function to check."""
    ns = namespace(exercise)
    exec(compile(textwrap.dedent(answer.source), "<learner cell>", "exec"), ns)  # noqa: S102
    name = answer.function or exercise_tasks(exercise)[answer.task]
    return ns[name]


def tables() -> dict[str, list[Answer]]:
    """exercise name -> its ANSWERS, for every table module in this package."""
    out = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__name__}.{info.name}")
        out[module.EXERCISE] = list(module.ANSWERS)
    return out
