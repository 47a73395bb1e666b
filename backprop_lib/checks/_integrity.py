"""How a check knows that it is not being fooled: the integrity machinery behind :mod:`._core`.

A check author never calls anything here; :mod:`._core` (``task``, ``call``, ``fail``,
``expect_*``) does:

* which check is running, and its watch, are context variables (:mod:`contextvars`), so a
  check run in a thread of the instructor's grader never sees another thread's;
* :class:`ReferenceWatch` notices, with ``sys.setprofile``, a learner's call of the library's
  own answer to the task (``references=`` in :func:`._core.task`), under any alias;
* :class:`RemoteCallable` is a learner's function that runs elsewhere: the grader's sandbox
  (:mod:`backprop_lib.grade.verdicts`) runs it and returns an
  :class:`~backprop_lib._calling.Outcome` (data), so the verdict is decided out of the
  learner's reach while the check reads exactly as it does in a notebook.
"""

from __future__ import annotations

import contextvars
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .._calling import (LIBRARY_DIR, Outcome, alias_key, code_key, is_learner_frame, learner_line,
                        reference_codes, reference_name)

if TYPE_CHECKING:
    from ._core import TaskCheck

__all__ = ["LIBRARY_DIR", "CURRENT", "WATCH", "RemoteCallable", "runs_with_learner_code", "program_name",
           "ReferenceWatch", "defined_in", "reference_codes",
           "reference_name", "is_learner_frame", "learner_line", "code_key", "Outcome"]

DEFAULT_TIMEOUT = 10.0

#: Which check is running (for the timeout default of :func:`._core.call`).
CURRENT: contextvars.ContextVar["TaskCheck | None"] = contextvars.ContextVar("backprop_lib_check", default=None)
#: The running check's watch for calls of the task's references (None: the task has none).
WATCH: contextvars.ContextVar["ReferenceWatch | None"] = contextvars.ContextVar("backprop_lib_watch", default=None)


class RemoteCallable:
    """A learner's function that runs somewhere else: the instructor's grader runs it in a
    sandbox and :func:`call` asks it for an :class:`Outcome` (data) instead of calling it here.

    ``invoke`` must run the function on ``args``/``kwargs``, copy back into them whatever the
    call modified, and return the Outcome. ``alias_of`` names the reference (see
    :func:`task`) that the function itself is, if any.

    With ``via`` (the full name of a checks function marked with :func:`runs_with_learner_code`),
    ``invoke`` runs ``via(function, *args, **kwargs)`` where the function lives instead: a check
    that must drive the learner's CLASS (build objects with it, call their methods) does so in a
    function of its module that returns plain data.
    """

    __name__ = "function"
    alias_of: str | None = None

    def invoke(self, args: tuple, kwargs: dict, timeout: float, references: tuple = (),
               via: str | None = None) -> Outcome:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # a check that calls the function directly
        current = CURRENT.get()
        outcome = self.invoke(args, kwargs, current.timeout if current is not None else DEFAULT_TIMEOUT)
        if outcome.error is not None:
            raise RuntimeError(f"{outcome.error}: {outcome.message}")
        return outcome.value



def runs_with_learner_code(func: Callable) -> Callable:
    """Mark a function of a checks module as one that :func:`._core.call` may run with the
    learner's function (or class) as its first argument: ``call(func, learner, *args)``.

    In a notebook it simply runs here; in the instructor's grader it runs in the sandbox, next
    to the learner's code, and only its (plain-data) return value comes back. It must take only
    data besides the learner's object and return only data.
    """
    func.__runs_with_learner_code__ = True  # type: ignore[attr-defined]
    return func


def program_name(func: Any) -> str | None:
    """``module.qualname`` of a :func:`runs_with_learner_code` function of the checks, else None."""
    module = getattr(func, "__module__", "") or ""
    if not getattr(func, "__runs_with_learner_code__", False) or not module.startswith("backprop_lib.checks."):
        return None
    qualname = getattr(func, "__qualname__", "")
    return f"{module}.{qualname}" if qualname.isidentifier() else None


_CHECKS_DIR = os.path.dirname(os.path.abspath(__file__))


def defined_in(func: Any) -> str | None:
    code = getattr(func, "__code__", None)
    return None if code is None or code.co_filename.startswith("<") else code.co_filename


class ReferenceWatch:
    """Notice, with ``sys.setprofile``, a call to a reference made by the learner's code.

    A call counts as the learner's when, walking up the stack from the reference, a frame of
    the learner's code comes before any frame of a check (frames of numpy, the standard library
    and the rest of backprop_lib are looked through). Matching is by code location, so an alias
    (``from backprop_lib.gradcheck import central_difference as cd``) or a copy of the module
    made before a re-import is caught too.
    """

    def __init__(self, references: Iterable[Callable], check_file: str | None = None):
        self.references = tuple(references)
        self.check_dirs = (_CHECKS_DIR + os.sep,)
        self.check_file = os.path.abspath(check_file) if check_file else None
        self.codes: dict[tuple, Any] = {}
        for ref in self.references:
            for key in reference_codes(ref):
                self.codes[key] = ref
        #: The references by name, as the grader's sandbox reports them.
        self.by_name = {reference_name(ref): ref for ref in self.references}
        self.names = tuple(self.by_name)
        self.used: Any = None
        self._seen: dict[Any, bool] = {}

    def is_reference(self, func: Any) -> Any:
        """The reference that ``func`` itself is (an alias such as ``my_sort = topological_order``,
        a ``functools.partial`` of one, a bound method), or None."""
        if isinstance(func, RemoteCallable):
            return self.by_name.get(func.alias_of) if func.alias_of else None
        key = alias_key(func, set(self.codes))
        return None if key is None else self.codes[key]

    def _profile(self, frame, event, arg):
        if event != "call" or self.used is not None:
            return
        code = frame.f_code
        hit = self._seen.get(code)
        if hit is None:
            hit = self._seen[code] = code_key(code) in self.codes
        if not hit:
            return
        caller = frame.f_back
        while caller is not None:
            filename = caller.f_code.co_filename
            path = os.path.abspath(filename)
            if path.startswith(self.check_dirs) or path == self.check_file:
                return
            if is_learner_frame(filename):
                self.used = self.codes[code_key(code)]
                return
            caller = caller.f_back

    def __enter__(self):
        self._previous = sys.getprofile()
        self._hook = self._profile  # one bound method, so `is` below compares like with like
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        if sys.getprofile() is not self._hook and self.used is None:
            self.used = "sys.setprofile"
        sys.setprofile(self._previous)
        return False

    def message(self, func: Any) -> str:
        if self.used == "sys.setprofile":
            return (f"your function `{_name(func)}` changed sys.setprofile while it was checked; "
                    "the check cannot verify it, so it scores 0.")
        ref = self.used
        where = f"{getattr(ref, '__module__', '?')}.{getattr(ref, '__qualname__', _name(ref))}"
        return (f"your function `{_name(func)}` calls the library's reference implementation `{where}`, "
                "which is what this task asks you to write yourself: it scores 0. "
                "Write the computation in your own code.")


def _name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)
