"""The feedback framework behind every ``check_<task>(func)`` in the exercise notebooks.

A check runs the learner's function on fixed-seed cases and prints one line:

    PASS  central_difference (1/1): <what was verified>
    FAIL  central_difference (0/1): <a hint naming the most likely mistake>

It never shows a traceback from inside the library. Every outcome is recorded as a
:class:`Result` (task id, score, max score, message) that the instructor's grader
collects with :func:`grade`.

Writing a check::

    @task("central_difference", points=1)
    def check_central_difference(fn):
        out = call(fn, np.sin, 0.3, 1e-3)          # timeout, exceptions, mutation handled
        expect_close(out, reference, "central_difference(np.sin, 0.3, 1e-3)",
                     mistakes={"you divided by h instead of 2h": 2 * reference})
        return "matches the central difference on 3 functions"

Inside a check, :func:`fail` (or a failed ``expect_*``) stops with a hint.

This module holds the verbs a check author uses (``task``, ``call``, ``fail``, ``expect_*``,
``Counted``); how a check guards against being fooled (the running check as a context
variable, the watch for calls of the library's own answer, functions that run in the
grader's sandbox) is in :mod:`._integrity`.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NoReturn

import numpy as np

from .._calling import Outcome, run_call
from . import _integrity
from ._integrity import CURRENT as _CURRENT, WATCH as _WATCH, RemoteCallable, ReferenceWatch as _ReferenceWatch
# Names the course's checks and tests import from here (the machinery lives in ._integrity).
from ._integrity import (code_key as _code_key, defined_in as _defined_in,  # noqa: F401
                         is_learner_frame as _is_learner_frame, learner_line as _learner_line,
                         reference_codes as _reference_codes, reference_name)
_LIBRARY_DIR, _CHECKS_DIR = _integrity.LIBRARY_DIR, _integrity._CHECKS_DIR

__all__ = [
    "Result",
    "Mistake",
    "task",
    "call",
    "fail",
    "expect_close",
    "expect_array",
    "expect_scalar",
    "Counted",
    "Outcome",
    "RemoteCallable",
    "grade",
    "registry",
    "results",
    "clear_results",
]

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Result:
    """The outcome of one check: what the grader records."""

    task: str
    score: float
    max_score: float
    message: str
    status: str  # "pass", "fail", "not_implemented", "error"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        label = {"pass": "PASS", "fail": "FAIL", "not_implemented": "TODO", "error": "FAIL"}[self.status]
        score = f"{self.score:g}/{self.max_score:g}"
        return f"{label}  {self.task} ({score}): {self.message}"


class Mistake(Exception):
    """Raised inside a check when the learner's function is wrong; the message is the hint."""


class _NotImplementedYet(Exception):
    pass


_REGISTRY: dict[str, "TaskCheck"] = {}
_RESULTS: dict[str, Result] = {}


def registry() -> dict[str, "TaskCheck"]:
    """All registered checks by task id (importing ``backprop_lib.checks`` registers them)."""
    return dict(_REGISTRY)


def results() -> dict[str, Result]:
    """The latest result of every check run in this process, by task id."""
    return dict(_RESULTS)


def clear_results() -> None:
    _RESULTS.clear()


def fail(hint: str) -> NoReturn:
    """Stop the current check with a hint for the learner."""
    raise Mistake(hint)


class TaskCheck:
    """A registered check: call it with the learner's function to print PASS or a hint."""

    def __init__(self, name: str, points: float, body: Callable[..., str | None], timeout: float):
        self.task = name
        self.points = float(points)
        self.timeout = timeout
        self._body = body
        self.references: tuple = ()  # set by @task(..., references=[...])
        self.takes_class = False     # set by @task(..., takes_class=True)
        functools.update_wrapper(self, body)

    def __call__(self, func: Any, *, quiet: bool = False) -> None:
        result = self.run(func)
        if not quiet:
            print(result)

    def run(self, func: Any) -> Result:
        """Run the check without printing; record and return the :class:`Result`."""
        result = self._evaluate(func)
        _RESULTS[self.task] = result
        return result

    def _evaluate(self, func: Any) -> Result:
        def outcome(status: str, message: str) -> Result:
            score = self.points if status == "pass" else 0.0
            return Result(self.task, score, self.points, message, status)

        if not callable(func):
            return outcome(
                "fail",
                f"expected your function, got {_describe(func)}. Pass the function itself, "
                f"without calling it: check_{self.task}(my_function), not check_{self.task}(my_function()).",
            )
        token = _CURRENT.set(self)
        watch = _ReferenceWatch(self.references, check_file=_defined_in(self._body)) if self.references else None
        if watch is not None and watch.is_reference(func):
            _CURRENT.reset(token)
            watch.used = watch.is_reference(func)
            return outcome("fail", watch.message(func))
        watch_token = _WATCH.set(watch)
        try:
            if watch is None:
                verified = self._body(func)
            else:
                with watch:
                    try:
                        verified = self._body(func)
                    except Exception:  # a call of the reference outweighs any other outcome
                        if watch.used is None:
                            raise
                if watch.used is not None:
                    return outcome("fail", watch.message(func))
        except _NotImplementedYet:
            return outcome(
                "not_implemented",
                f"not implemented yet: `{_name(func)}` still raises NotImplementedError. "
                "Replace the `raise NotImplementedError(...)` line with your code, run the cell, "
                "then run this check again.",
            )
        except Mistake as exc:
            return outcome("fail", str(exc))
        except Exception as exc:  # a bug the check did not foresee: still no traceback
            return outcome(
                "error",
                f"could not check your function: {type(exc).__name__}: {exc}. "
                "Check that it returns the type and shape the task asks for.",
            )
        finally:
            _WATCH.reset(watch_token)
            _CURRENT.reset(token)
        return outcome("pass", verified or "all cases match the reference")




def task(
    name: str,
    points: float = 1,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    references: "Iterable[Callable] | None" = None,
    takes_class: bool = False,
) -> Callable[[Callable], TaskCheck]:
    """Register a check for the graded task ``name`` (task ids are unique across the course).

    ``references`` lists the library's own implementations of what the task asks the
    learner to write (e.g. ``[backprop_lib.gradcheck.central_difference]``). A learner's
    function that calls one of them while it is checked, under any alias, scores 0 with a
    message saying so; the check itself may call them freely to compute expected values.

    ``takes_class``: the task asks for a CLASS, not a function. The instructor's grader then
    accepts a class under the task's name (its stand-in has ``is_class = True``); the check runs
    it only through :func:`call` with functions marked :func:`runs_with_learner_code`.
    """
    if not name.isidentifier():
        raise ValueError(f"task name must be a Python identifier, got {name!r}")
    refs = tuple(references or ())
    for ref in refs:
        if not _reference_codes(ref):
            raise TypeError(f"references must be Python functions, methods or classes, got {_describe(ref)}")

    def register(body: Callable) -> TaskCheck:
        if name in _REGISTRY:
            raise ValueError(f"task {name!r} is registered twice")
        check = TaskCheck(name, points, body, timeout)
        check.references = refs
        check.takes_class = takes_class
        _REGISTRY[name] = check
        return check

    return register


def grade(task_name: str, func: Any) -> Result:
    """Run the library's check for ``task_name`` on ``func`` and return its :class:`Result`."""
    if task_name not in _REGISTRY:
        raise ValueError(f"unknown task {task_name!r}; known tasks: {sorted(_REGISTRY)}")
    return _REGISTRY[task_name].run(func)


# --------------------------------------------------------------------------- calling


def call(func: Callable, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
    """Call the learner's ``func`` safely.

    - ``NotImplementedError`` -> the check reports "not implemented yet";
    - any other exception -> a hint naming the exception, the learner's line and the inputs;
    - longer than ``timeout`` seconds -> a hint about infinite loops;
    - an input array modified in place -> a hint about mutation.

    The call runs here (:func:`backprop_lib._calling.run_call`) or, in the instructor's grader,
    in its sandbox (:class:`RemoteCallable`); either way it is described by the same
    :class:`Outcome`, so the hints are the same.
    """
    if timeout is None:
        current = _CURRENT.get()
        timeout = current.timeout if current is not None else DEFAULT_TIMEOUT
    snapshot = [_snapshot(a) for a in args] + [_snapshot(v) for v in kwargs.values()]
    names = [f"argument {i + 1}" for i in range(len(args))] + [f"argument `{k}`" for k in kwargs]
    watch = _WATCH.get()
    program = _integrity.program_name(func) if args and isinstance(args[0], RemoteCallable) else None
    if isinstance(func, RemoteCallable):
        outcome = func.invoke(args, kwargs, timeout, watch.names if watch is not None else ())
    elif program is not None:
        # a checks function that drives the learner's function or class: it runs where that lives
        # (the grader's sandbox) and returns data; argument i of the call is argument i + 1 here
        outcome = args[0].invoke(args[1:], kwargs, timeout, watch.names if watch is not None else (), via=program)
        outcome.changed = tuple(i + 1 for i in outcome.changed)
    else:
        outcome = run_call(func, args, kwargs, timeout)
    if outcome.references and watch is not None and watch.used is None:
        name = outcome.references[0]
        watch.used = watch.by_name.get(name, name)
    if outcome.error is not None:
        _raise_for(outcome, func, timeout, args, kwargs)
    values = list(args) + list(kwargs.values())
    for i, (name, before, value) in enumerate(zip(names, snapshot, values)):
        if i in outcome.changed or (before is not None and not _same(before, value)):
            raise Mistake(
                f"your function modified its input ({name}) in place. Compute a new array instead "
                "(e.g. `x = x + 1` or `x.copy()`, not `x += 1` or `x[...] = ...` on an input)."
            )
    return outcome.value


def _raise_for(outcome: Outcome, func: Any, timeout: float, args: tuple, kwargs: dict):
    """The Mistake (or not-implemented signal) for a call that did not return."""
    if outcome.error == "NotImplementedError":
        if outcome.helper is not None:
            helper = outcome.helper
            raise Mistake(
                f"your function `{_name(func)}` calls `{helper}`, which still raises NotImplementedError: "
                f"write `{helper}` first (or write its lines into `{_name(func)}`), then run this check again."
            )
        raise _NotImplementedYet()
    if outcome.timed_out:
        raise Mistake(
            f"your function did not return within {timeout:g} s when called with "
            f"{_describe_args(args, kwargs)}. Is there a loop that never ends (e.g. a `while` whose "
            "condition never changes)?"
        )
    if outcome.error == "RecursionError":
        raise Mistake(
            "your function recursed too deeply (RecursionError). Does the recursion have a base case? "
            "For graph traversals, use an explicit stack instead of recursion."
        )
    raise Mistake(
        f"your function raised {outcome.error}: {outcome.message}{outcome.where} when called with "
        f"{_describe_args(args, kwargs)}."
    )


class Counted:
    """A function that counts its calls: pass it to the learner's function to see *how* it was
    computed (e.g. a chain-rule answer must not evaluate ``f`` near ``x``)."""

    #: The instructor's grader keeps it on its side: the sandboxed function calls back to it.
    __grader_callback__ = True

    def __init__(self, func: Callable, name: str | None = None):
        self.func = func
        self.calls: list[tuple] = []  # the positional arguments of every call
        self.__name__ = name or _name(func)

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        return self.func(*args, **kwargs)


def _snapshot(value: Any):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, dict)):
        try:
            return copy.deepcopy(value)
        except Exception:
            return None
    return None


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        )
    try:
        return _deep_equal(before, after)
    except Exception:
        return True


def _deep_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


# --------------------------------------------------------------------------- describing values


def _name(func: Any) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"the number {value!r}"
    if value is None:
        return "None (did you forget `return`?)"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if callable(value):
        return f"the function `{_name(value)}`"
    return f"a {type(value).__name__}"


def _describe_args(args, kwargs) -> str:
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return np.array2string(value, precision=4, separator=", ")
        return f"<array {value.shape} {value.dtype}>"
    if callable(value):
        return _name(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------- comparing


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _diagnose(out: np.ndarray, mistakes: Mapping[str, Any] | None, rtol: float, atol: float) -> str | None:
    for hint, wrong in (mistakes or {}).items():
        try:
            wrong = np.asarray(wrong, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if _close(out, wrong, rtol, atol):
            return hint
    return None


def expect_array(
    out: Any,
    expected: Any,
    what: str,
    *,
    mistakes: Mapping[str, Any] | None = None,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    dtype_float64: bool = True,
) -> np.ndarray:
    """Check that ``out`` is an array equal to ``expected``; else fail with the best hint.

    ``mistakes`` maps a hint to the value a typical wrong implementation returns;
    the first one that matches ``out`` is reported.
    """
    expected = np.asarray(expected, dtype=np.float64)
    arr = _checked_array(out, expected, what)
    arr64 = arr.astype(np.float64)
    if _close(arr64, expected, rtol, atol):
        if dtype_float64 and arr.dtype.kind == "f" and arr.dtype != np.float64:
            fail(
                f"{what} has the right values but dtype {arr.dtype}: keep float64 "
                "(float32 keeps only about 7 significant digits, so gradient checks fail)."
            )
        return arr64
    if arr.dtype.kind == "f" and arr.dtype != np.float64 and _close(arr64, expected, 1e-4, 1e-6):
        fail(
            f"{what} is only close to the answer, and its dtype is {arr.dtype}: compute in float64 "
            "(float32 loses precision after about 7 digits)."
        )
    hint = _diagnose(arr64, mistakes, rtol, atol) or _generic_diagnosis(arr64, expected, rtol, atol)
    if hint is None:
        _fail_largest_difference(arr64, expected, arr.dtype, what, rtol)
    fail(f"{what} is wrong: {hint}.")


def _checked_array(out: Any, expected: np.ndarray, what: str) -> np.ndarray:
    """``out`` as a finite numeric array of ``expected``'s shape, or a hint about what it is."""
    if out is None:
        fail(f"{what} returned None. Did you forget the `return` statement?")
    if isinstance(out, tuple) and expected.ndim > 0:
        fail(f"{what} returned a tuple of {len(out)} items; expected one array of shape {expected.shape}.")
    if isinstance(out, (list, tuple)):
        out = np.asarray(out)
    if not isinstance(out, (np.ndarray, np.generic, int, float)):
        fail(f"{what} should return a numpy array of shape {expected.shape}, got {_describe(out)}.")
    arr = np.asarray(out)
    if arr.dtype.kind not in "fiub":
        fail(f"{what} should return numbers, got an array of dtype {arr.dtype}.")
    if arr.shape != expected.shape:
        hint = _diagnose_shape(arr.shape, expected.shape)
        fail(f"{what} has shape {arr.shape}, expected {expected.shape}.{hint}")
    if arr.dtype.kind == "f" and np.any(~np.isfinite(arr)) and np.all(np.isfinite(expected)):
        bad = "NaN" if np.any(np.isnan(arr)) else "inf"
        fail(
            f"{what} contains {bad}. Look for a division by zero, a log of 0 or of a negative number, "
            "or an exp of a large number (use a numerically stable form)."
        )
    return arr


def _fail_largest_difference(arr64: np.ndarray, expected: np.ndarray, dtype: np.dtype, what: str,
                             rtol: float) -> NoReturn:
    """No known mistake: show the entry that is furthest off (in full when it prints alike)."""
    flat_out, flat_exp = arr64.ravel(), expected.ravel()
    i = int(np.argmax(np.abs(flat_out - flat_exp)))
    index = np.unravel_index(i, expected.shape) if expected.ndim else ()
    where = f" at index {tuple(int(j) for j in index)}" if expected.ndim else ""
    got, want = f"{flat_out[i]:.6g}", f"{flat_exp[i]:.6g}"
    if got == want:  # they print alike: say how far apart they are, and in which dtype
        rel = abs(flat_out[i] - flat_exp[i]) / max(abs(flat_exp[i]), 1e-300)
        got, want = f"{flat_out[i]:.17g}", f"{flat_exp[i]:.17g}"
        fail(f"{what} is close but not equal{where}: got {got}, expected {want} (relative error {rel:.1e}, "
             f"dtype {dtype}; the check allows {rtol:g}). Is a step computed in lower precision, "
             "rounded, or approximated (e.g. by a finite difference)?")
    fail(f"{what} is wrong{where}: got {got}, expected {want}.")


def _generic_diagnosis(out: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Mistakes any array task can make: a flipped sign, a transposed square matrix, a constant factor."""
    if not out.size or not np.any(expected):
        return None
    if _close(out, -expected, rtol, atol):
        return "the sign is flipped"
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and _close(out, expected.T, rtol, atol):
        return ("it is the transpose of the answer (for a square matrix the shape cannot tell): check the order of "
                "the product or a `.T`")
    mask = np.abs(expected) > atol
    if not np.any(mask):
        return None
    ratios = out[mask] / expected[mask]
    k = float(np.median(ratios))
    if np.isfinite(k) and abs(k - 1.0) > 1e-6 and k != 0.0 and _close(out, k * expected, rtol, atol):
        for value, name in ((2.0, "2"), (0.5, "1/2"), (-2.0, "-2"), (-0.5, "-1/2")):
            if abs(k - value) <= 1e-9 * abs(value):
                return f"every entry is {name} times the answer: look for a missing or extra factor {name.lstrip('-')}"
        return (f"every entry is {k:.6g} times the answer: a constant factor is missing or extra "
                "(a batch size N, a 1/N, a learning rate, a factor 2?)")
    return None


def _diagnose_shape(got: tuple, want: tuple) -> str:
    if len(got) == 2 and len(want) == 2 and got == want[::-1]:
        return " It is the transpose of what is needed: check the order of the matrix product or a missing `.T`."
    if len(got) == len(want) - 1 and got == want[1:]:
        return " Did you sum or average over the batch axis? This result keeps one value per example."
    if len(got) == len(want) - 1 and got == want[:-1]:
        return " You reduced the last axis; this result keeps it."
    if len(got) == len(want) + 1 and got[1:] == want:
        return " Did you forget to sum over the batch (axis 0)?"
    if len(want) == 0 and len(got) > 0:
        return " A single number was expected: reduce with a sum or mean."
    return ""


def expect_scalar(out: Any, expected: float, what: str, *, mistakes: Mapping[str, Any] | None = None,
                  rtol: float = 1e-7, atol: float = 1e-10) -> float:
    """Check that ``out`` is a real number equal to ``expected``; else fail with the best hint."""
    if isinstance(out, np.ndarray) and out.size == 1:
        out = out.reshape(())[()]
    if out is None:
        fail(f"{what} returned None. Did you forget the `return` statement?")
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, float, np.integer, np.floating)):
        fail(f"{what} should return a single number, got {_describe(out)}.")
    value = float(out)
    if math.isnan(value):
        fail(f"{what} returned NaN. Look for 0/0, log of a negative number, or inf - inf.")
    expect_array(np.float64(value), expected, what, mistakes=mistakes, rtol=rtol, atol=atol, dtype_float64=False)
    if isinstance(out, np.floating) and not isinstance(out, np.float64):
        fail(f"{what} is {type(out).__name__}; compute in float64 to keep full precision.")
    return value


def expect_close(out: Any, expected: Any, what: str, **kwargs: Any):
    """``expect_scalar`` for scalar ``expected``, ``expect_array`` otherwise."""
    if np.ndim(expected) == 0:
        return expect_scalar(out, float(expected), what, **kwargs)
    return expect_array(out, expected, what, **kwargs)

