"""The instructor's grader: ``python -m backprop_lib.grade SUBMISSIONS --out grades.csv``.

One module per job:

* :mod:`.discovery` - which notebooks, whose, which exercise (and every file left out);
* :mod:`.gradebook` - the roster, the CSV files, the totals, ``--update``, ``--lms``;
* :mod:`.sandbox` - bubblewrap (or the fallback), the worker process and its limits;
* :mod:`.worker` - the untrusted side: runs the notebook, calls its functions, returns data;
* :mod:`.wire`, :mod:`.exchange` - the data-only channel between them;
* :mod:`.verdicts` - the library's checks, run in the grader on the data the sandbox returns;
* :mod:`.static` - what the source shows (calls of the library's own answer, tampering);
* :mod:`.reports` - the summary table, the feedback files, the log;
* :mod:`.cli` - the command line.

The names below are imported lazily, so the sandboxed worker (which imports
``backprop_lib.grade.worker``) loads neither the checks nor the grader's side.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "main": "cli", "grade_all": "cli", "load_points": "cli", "import_check_file": "cli",
    "Exercise": "discovery", "Submission": "discovery", "UsageError": "discovery", "load_exercises": "discovery",
    "discover": "discovery", "find_submissions": "discovery", "identify": "discovery",
    "Options": "verdicts", "grade_notebook": "verdicts", "NotebookReport": "verdicts",
    "COLUMNS": "gradebook", "read_roster": "gradebook",
    "detect": "sandbox",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
