"""Graded checks for the exercise notebooks, one module per notebook.

In a notebook::

    from backprop_lib.checks.chain_rule import check_central_difference
    check_central_difference(central_difference)   # prints PASS or a hint

Importing this package registers every check (each module in this folder), so
``registry()`` and ``grade(task, func)`` see them all: a new notebook's checks need
only a new module here.
"""

import importlib
import pkgutil

from ._core import Mistake, Result, clear_results, grade, registry, results, task

__all__ = ["Mistake", "Result", "clear_results", "grade", "registry", "results", "task"]

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
