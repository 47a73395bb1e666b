"""One call of a learner's function, described as data.

:func:`run_call` calls a function with a time limit and returns an :class:`Outcome`: the
value it returned, or the exception's class name and message, the learner's line that
raised and, for ``NotImplementedError``, which unwritten helper raised it. The checks
(:mod:`backprop_lib.checks._core`) turn an Outcome into PASS or a hint. In a notebook the
Outcome is made right here, in the learner's kernel; the instructor's grader makes it in
its sandbox (:mod:`backprop_lib.grade.worker`) with this same code and sends it back as
data, so a learner gets the same feedback both ways.

This module also identifies functions by where their code is defined
(:func:`reference_codes`), which is how a learner's call of the library's own answer is
recognised under any alias.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Outcome", "run_call", "time_limit", "TimedOut", "learner_line", "unwritten_helper",
           "is_learner_frame", "code_key", "reference_codes", "reference_name", "alias_key", "LIBRARY_DIR"]

LIBRARY_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_PARENT = os.path.dirname(LIBRARY_DIR)
TIMEOUT = "timeout"  # Outcome.error when the call ran out of time


@dataclass
class Outcome:
    """What one call of the learner's function did."""

    value: Any = None
    error: str | None = None        # the exception's class name (TIMEOUT: out of time); None: it returned
    message: str = ""               # str(exception)
    where: str = ""                 # " (line 3 of your code: `...`)": the learner's line that raised
    helper: str | None = None       # NotImplementedError raised by another learner function (unwritten helper)
    references: tuple = ()          # names of the task's references the call used (grader's sandbox only)
    changed: tuple = ()             # argument positions modified in a way the grader could not copy back

    @property
    def timed_out(self) -> bool:
        return self.error == TIMEOUT


class TimedOut(BaseException):
    """BaseException so a learner's bare ``except Exception`` cannot swallow it."""


def run_call(func: Callable, args: tuple, kwargs: dict, timeout: float | None) -> Outcome:
    """Call ``func(*args, **kwargs)`` within ``timeout`` seconds; never raises an Exception."""
    try:
        with time_limit(timeout):
            value = func(*args, **kwargs)
    except TimedOut:
        return Outcome(error=TIMEOUT)
    except NotImplementedError as exc:
        return Outcome(error="NotImplementedError", message=str(exc), where=learner_line(exc),
                       helper=unwritten_helper(exc, func))
    except Exception as exc:  # noqa: BLE001 (the learner's failure is data)
        return Outcome(error=type(exc).__name__, message=str(exc), where=learner_line(exc))
    return Outcome(value=value)


class time_limit:
    """Raise :class:`TimedOut` in the main thread after ``seconds``, again every second if
    it is swallowed (no limit in other threads)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.active = (
            seconds is not None
            and seconds > 0
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )

    def __enter__(self):
        if self.active:
            assert self.seconds is not None  # active implies a positive limit
            self.previous = signal.signal(signal.SIGALRM, self._handler)
            signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)
        return self

    @staticmethod
    def _handler(signum, frame):
        raise TimedOut()

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def learner_line(exc: BaseException) -> str:
    """' (line N of your code: `text`)' for the innermost frame outside backprop_lib."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "backprop_lib" not in f.filename.replace("\\", "/").split("/site-packages/")[-1]
            and "/numpy/" not in f.filename]
    if not mine:
        return ""
    frame = mine[-1]
    text = (frame.line or "").strip()
    cell = re.fullmatch(r"<cell (\d+)>", frame.filename)  # a notebook cell as the grader runs it
    if cell:
        where = f"line {frame.lineno} of cell {cell.group(1)}"
    elif frame.filename.startswith("<"):
        where = f"line {frame.lineno} of your code"
    else:
        where = f"{frame.filename}:{frame.lineno}"
    return f" ({where}: `{text}`)" if text else f" ({where})"


def unwritten_helper(exc: BaseException, func: Any) -> str | None:
    """The name of the learner's function that raised ``exc`` when it is not ``func`` itself."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_learner_frame(f.filename)]
    if not frames:
        return None
    raiser = frames[-1].name
    own = getattr(getattr(func, "__code__", None), "co_name", _name(func))
    return None if raiser in (own, "<module>", "<lambda>") else raiser


def is_learner_frame(filename: str) -> bool:
    """Code the learner wrote: notebook cells and files outside the library and installed packages."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    path = os.path.abspath(filename)
    if path.startswith(LIBRARY_DIR + os.sep):
        return False
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return not any(path.startswith(os.path.abspath(p) + os.sep) for p in prefixes)


# --------------------------------------------------------------------------- identifying functions


def code_key(code) -> tuple:
    """Identify a function's code by where it is defined (survives re-importing the module).

    Paths inside the library are relative to it, so the key is the same for the library the
    grader runs and the read-only copy its sandbox sees.
    """
    path = os.path.abspath(code.co_filename)
    if path.startswith(_LIBRARY_PARENT + os.sep):
        path = os.path.relpath(path, _LIBRARY_PARENT)
    return (path, code.co_firstlineno, code.co_name)


def reference_codes(ref: Any) -> set:
    """The code keys of a reference: a function, a method, or every method of a class."""
    if isinstance(ref, type):
        keys: set = set()
        for value in vars(ref).values():
            if isinstance(value, property):
                parts = [value.fget, value.fset, value.fdel]
            else:
                parts = [getattr(value, "__func__", value)]
            for part in parts:
                if part is not None and not isinstance(part, type) and hasattr(part, "__code__"):
                    keys |= reference_codes(part)
        return keys
    func = getattr(ref, "__func__", ref)
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    code = getattr(func, "__code__", None)
    return {code_key(code)} if code is not None else set()


def reference_name(ref: Any) -> str:
    """``module.qualname`` of a reference (how the grader names it to its sandbox)."""
    return f"{getattr(ref, '__module__', '?')}.{getattr(ref, '__qualname__', _name(ref))}"


def alias_key(func: Any, codes: set) -> tuple | None:
    """The code key in ``codes`` that ``func`` itself is (an alias, a ``functools.partial``,
    a bound method, a wrapper), or None."""
    seen = 0
    while func is not None and seen < 10:
        seen += 1
        if not isinstance(func, functools.partial):
            for key in reference_codes(func):
                if key in codes:
                    return key
        if isinstance(func, functools.partial):
            func = func.func
        else:
            func = getattr(func, "__wrapped__", None)
    return None
