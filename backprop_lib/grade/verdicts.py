"""Verdicts, decided in the grader's own process: run one submission in its sandbox and grade it.

The sandboxed worker (:mod:`backprop_lib.grade.worker`) runs the notebook and calls its
functions when asked; it returns only data. Here, out of its reach, the library's checks run
as they do in a notebook, except that the learner's function is a :class:`RemoteFunction`:
every ``call(fn, ...)`` of a check sends the arguments to the sandbox and gets back an
:class:`~backprop_lib._calling.Outcome` (the value, the exception, the arguments' new state).
The references, the expected values, the hints and the score never enter the sandbox.

A notebook that ends its process in a cell is run again without that cell, while its time
limit lasts; a function that ends the process while it is checked fails that task and the
notebook is run again for the tasks after it.
"""

from __future__ import annotations

import builtins
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._calling import Outcome
from ..checks import _core
from . import exchange, static
from .discovery import Exercise, Submission, code_cells, identify, read_notebook
from .sandbox import LibraryCopy, SandboxInfo, WorkerLost, WorkerProcess
from .wire import ChannelClosed, Encoder, ProtocolError, is_plain_function

__all__ = ["Options", "NotebookReport", "grade_notebook", "RemoteFunction", "row"]

#: Warning classes a reply may name (any other becomes a UserWarning).
_WARNINGS = {name: cls for name, cls in vars(builtins).items() if isinstance(cls, type) and issubclass(cls, Warning)}
_WARNINGS.update({name: getattr(np, name) for name in ("ComplexWarning", "RankWarning") if hasattr(np, name)})

#: Python's warnings machinery is process-wide: with --jobs 2, a warning re-issued for one
#: notebook must not land in another notebook's check that is recording warnings. Recording
#: (``warnings.catch_warnings``) and re-issuing take this lock (see :func:`serialise_warnings`).
_WARN_LOCK = threading.RLock()


class _SerialCatchWarnings(warnings.catch_warnings):
    def __enter__(self):
        _WARN_LOCK.acquire()
        try:
            return super().__enter__()
        except BaseException:
            _WARN_LOCK.release()
            raise

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            _WARN_LOCK.release()


def serialise_warnings() -> None:
    """Make ``warnings.catch_warnings`` blocks exclusive between the grader's threads."""
    warnings.catch_warnings = _SerialCatchWarnings  # type: ignore[misc, assignment]  # a patch, on purpose


KILL_GRACE = 3.0      # seconds past a cell's or call's own limit before the grader kills the process
CALL_GRACE = 5.0


@dataclass
class Options:
    timeout: float = 120.0       # wall clock per notebook
    cell_timeout: float = 30.0
    task_timeout: float = 60.0
    memory_mb: int = 2048
    check_files: list[str] = field(default_factory=list)


@dataclass
class NotebookReport:
    """Everything the grader learnt about one notebook: its rows and what the log shows."""

    submission: Submission
    rows: list[dict]
    exercise: str = ""
    recognised_by: str = ""
    seconds: float = 0.0
    attempts: int = 0
    events: list[str] = field(default_factory=list)   # limits hit, cells skipped, restarts
    output: str = ""                                     # the notebook's stdout/stderr (truncated)


def row(sub: Submission, exercise: str, task: str, score: float, max_score: float, status: str,
        feedback: str) -> dict:
    return {"student": sub.student, "submission": sub.label, "exercise": exercise, "task": task,
            "score": float(score), "max_score": float(max_score), "status": status,
            "feedback": " ".join(str(feedback).split())}


# --------------------------------------------------------------------------- the learner's function, remote


class RemoteFunction(_core.RemoteCallable):
    """The learner's function ``name`` as the checks see it: calling it runs it in the sandbox."""

    # Set by the grader when the notebook's code is known (for checks that read it); absent otherwise.
    __code__: Any
    __globals__: dict[str, Any]

    def __init__(self, session: "Session", name: str, display: str, alias_of: str | None):
        self._session, self._name = session, name
        self.__name__ = self.__qualname__ = display
        self.alias_of = alias_of
        self.is_class = False  # the notebook's name is a class (a task with takes_class=True)

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"

    def invoke(self, args: tuple, kwargs: dict, timeout: float, references: tuple = (),
               via: str | None = None) -> Outcome:
        return self._session.call(self._name, args, kwargs, timeout, references, via=via)


class _Source:
    """A notebook function's compiled code (never run): what a check that reads code sees."""

    def __init__(self, code):
        self.__code__ = code

    def __call__(self, *args, **kwargs):
        raise RuntimeError("the grader does not run the notebook's code in its own process")


def notebook_codes(cells: list[dict]) -> dict[str, Any]:
    """The code objects of the notebook's top-level functions, compiled (not run) the way the
    worker compiles them, by name (the last definition wins)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        transform: Callable[[str], str] = TransformerManager().transform_cell
    except ImportError:  # pragma: no cover
        def transform(src: str) -> str:
            return src
    out: dict[str, Any] = {}
    for cell in cells:
        try:
            module = compile(transform(cell["source"]), f"<cell {cell['index']}>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for const in module.co_consts:
            if hasattr(const, "co_name") and const.co_name.isidentifier():
                out[const.co_name] = const
    return out



def _resolve_class(module: str, qualname: str) -> type:
    """Only classes of backprop_lib that this process has imported already (no import here)."""
    if not (module == "backprop_lib" or module.startswith("backprop_lib.")) or module not in sys.modules:
        raise ProtocolError(f"class {module[:60]}.{qualname[:60]} is not one the grader knows")
    obj: Any = sys.modules[module]
    for part in qualname.split("."):
        if not part.isidentifier() or part.startswith("__"):
            raise ProtocolError("a class name is malformed")
        obj = getattr(obj, part, None)
    if not isinstance(obj, type):
        raise ProtocolError(f"no class {module[:60]}.{qualname[:60]}")
    return obj


class Session:
    """One worker process for one notebook, seen from the grader."""

    def __init__(self, info: SandboxInfo, options: Options, library_parent: str):
        self.options = options
        self.proc = WorkerProcess(info, options.memory_mb, library_parent)
        self.calls = 0
        self.task_deadline: float | None = None  # set while a task is checked (--task-timeout)

    # -- the cells
    def run_cells(self, cells: list[dict], deadline: float, cell_errors: dict[int, str]) -> tuple[str, int | None]:
        """Run the cells; ``("ready", None)``, ``("lost", cell)`` or ``("timeout", cell)``."""
        self.proc.send({"op": "job", "cells": cells, "cell_timeout": self.options.cell_timeout})
        expected = [c["index"] for c in cells]
        current: int | None = None
        cell_deadline = deadline
        while True:
            try:
                header, _ = self.proc.receive(min(deadline, cell_deadline))
            except ChannelClosed:  # out of time
                self.proc.killed_for = (
                    f"it did not finish within {self.options.cell_timeout:g} s and could not be interrupted"
                    if cell_deadline < deadline else
                    f"the notebook used up its time limit of {self.options.timeout:g} s")
                self.proc.kill()
                return ("timeout" if cell_deadline < deadline else "deadline"), current
            except WorkerLost:
                return "lost", current
            op = header.get("op")
            if op == "cell_start" and current is None and expected and header.get("index") == expected[0]:
                current = expected.pop(0)
                cell_deadline = time.monotonic() + self.options.cell_timeout + KILL_GRACE
            elif op == "cell_end" and current is not None and header.get("index") == current:
                error = header.get("error")
                if error is not None:
                    cell_errors[current] = _clean(error, 300)
                else:
                    cell_errors.pop(current, None)
                current, cell_deadline = None, deadline
            elif op == "ready" and current is None and not expected:
                return "ready", None
            else:  # anything out of order is a forgery or a broken worker
                self.proc.killed_for = ("the notebook's process sent messages out of order "
                                        "(was the channel tampered with?)")
                self.proc.kill()
                return "lost", current

    # -- the functions
    def lookup(self, name: str, references: tuple, classes: bool = False) -> dict:
        """What the notebook's ``name`` is; a class counts as callable only with ``classes``
        (a task that asks for a class, ``@task(..., takes_class=True)``)."""
        self.proc.send({"op": "lookup", "name": name, "refs": list(references), "classes": classes})
        try:
            header, _ = self.proc.receive(time.monotonic() + 30)
        except ChannelClosed:  # a worker that stopped answering
            self.proc.killed_for = "the notebook's process stopped answering the grader"
            self.proc.kill()
            raise WorkerLost(self.proc.killed_for) from None
        if header.get("op") != "lookup" or not isinstance(header.get("found"), bool):
            raise WorkerLost("the notebook's process answered a lookup with malformed data", malformed=True)
        alias = header.get("alias_of")
        display = header.get("name")
        return {"found": header["found"], "callable": header.get("callable") is True,
                "is_class": classes and header.get("is_class") is True,
                "name": display if isinstance(display, str) and display.isidentifier() else name,
                "alias_of": alias if isinstance(alias, str) and alias in references else None}

    def call(self, name: str, args: tuple, kwargs: dict, timeout: float, references: tuple,
             via: str | None = None) -> Outcome:
        self.calls += 1
        table = _Callbacks()
        encoder = Encoder(callable_handle=table.handle_of)
        try:
            nodes = exchange.encode_call(encoder, args, kwargs)
            entries, buffers = encoder.finish()
        except TypeError as exc:  # a check passed something the channel cannot carry: the grader's bug
            raise RuntimeError(f"cannot send the arguments to the sandbox: {exc}") from None
        limit = sys.getrecursionlimit()
        # numpy's error handling as the check set it around the call (e.g. over="warn" to see an overflow)
        errstate = {k: v for k, v in np.geterr().items() if k in ("divide", "over", "under", "invalid")}
        self.proc.send({"op": "call", "name": name, "via": via, "timeout": float(timeout), "refs": list(references),
                        "recursion_limit": limit, "errstate": errstate, **nodes, "entries": entries}, buffers)
        deadline = time.monotonic() + timeout + CALL_GRACE
        while True:
            header, reply_buffers = self._receive_during_call(deadline, timeout)
            try:
                if header.get("op") == "callback":
                    self._callback(header, reply_buffers, table.callbacks, table.callable_of, encoder, deadline)
                    deadline = max(deadline, time.monotonic() + CALL_GRACE)
                    continue
                value, failed, error, used = self._read_result(header, reply_buffers, table, encoder)
            except ProtocolError as exc:
                self.proc.killed_for = f"the notebook's process sent malformed data ({exc})"
                self.proc.kill()
                raise WorkerLost(self.proc.killed_for, malformed=True) from None
            self._warn(header.get("warnings"))
            raised = header.get("recursion_limit")
            if type(raised) is int and limit < raised <= 1_000_000 and sys.getrecursionlimit() == limit:
                # the learner's code raised the recursion limit the check had set: the check sees it
                # as it would in the notebook (and puts its own limit back itself)
                sys.setrecursionlimit(raised)
            positions = [i for i, node in enumerate(nodes["args"] + list(nodes["kwargs"].values()))
                         if isinstance(node, dict) and node.get("$") in failed]
            used = tuple(u for u in used if u in references or u == "sys.setprofile")
            if error is None:
                return Outcome(value=value, references=used, changed=tuple(positions))
            return Outcome(error=error["type"], message=error["message"], where=error["where"],
                           helper=error["helper"], references=used, changed=tuple(positions))

    def _receive_during_call(self, deadline: float, timeout: float) -> tuple[dict, list[bytes]]:
        """The worker's next message, waiting until ``deadline`` or the end of the task's time."""
        task_deadline = self.task_deadline
        wait_until = min(deadline, task_deadline) if task_deadline is not None else deadline
        try:
            return self.proc.receive(wait_until)
        except ChannelClosed:
            self.proc.killed_for = (
                f"it ran past the limit of {self.options.task_timeout:g} s per task" if wait_until < deadline else
                f"your function did not return within {timeout:g} s and could not be interrupted")
            self.proc.kill()
            raise WorkerLost(self.proc.killed_for) from None

    @staticmethod
    def _read_result(header: dict, buffers: list[bytes], table: "_Callbacks", encoder: Encoder) -> tuple:
        """``(value, failed, error, used)`` of a call's result message; ProtocolError if malformed."""
        op = header.get("op")
        if op == "failed":
            raise ProtocolError(f"the worker failed: {_clean(header.get('reason'), 200)}")
        if op != "result":
            raise ProtocolError(f"unexpected message {str(op)[:20]!r} during a call")
        decoder = exchange.make_decoder(header, buffers, resolve_class=_resolve_class,
                                        make_callable=table.callable_of, known=encoder.objects)
        value = decoder.node(header.get("value"))
        failed = exchange.apply_changes(decoder, header.get("changes", []), encoder.objects)
        error = exchange.check_error(header.get("error"))
        used = header.get("refs_used") or []
        if not isinstance(used, list) or not all(isinstance(u, str) for u in used):
            raise ProtocolError("the list of references used is malformed")
        return value, failed, error, used

    @staticmethod
    def _warn(reported: Any) -> None:
        """Issue here the warnings the learner's call raised there, so a check that records
        warnings around ``call`` (an overflow in a "stable" formula) sees them as in the notebook."""
        if not isinstance(reported, list):
            return
        for w in reported[:20]:
            if not isinstance(w, dict):
                continue
            category = _WARNINGS.get(str(w.get("category")), UserWarning)
            with _WARN_LOCK:
                warnings.warn_explicit(_clean(w.get("message", ""), 300), category, "<your function>", 0)

    def _callback(self, header: dict, buffers: list[bytes], callbacks: list, callable_of, call_encoder: Encoder,
                  deadline: float) -> None:
        """The worker asks to run one of the grader's functions (``np.sin``, a ``Counted``)."""
        h = header.get("h")
        if type(h) is not int:
            raise ProtocolError("a callback names no function")
        func = callable_of(h, "")
        decoder = exchange.make_decoder(header, buffers, resolve_class=_resolve_class, make_callable=callable_of,
                                        known=call_encoder.objects)
        args, kwargs = exchange.decode_args(decoder, header)
        snaps = exchange.snapshot(decoder)
        error = None
        value = None
        try:
            value = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (the learner called it with bad arguments)
            error = {"type": type(exc).__name__ if type(exc).__module__ == "builtins" else "RuntimeError",
                     "message": str(exc)[:300]}
        known = {id(v): i for i, v in enumerate(decoder.values)}
        encoder = Encoder(callable_handle=call_encoder._callable_handle, known=known)
        try:
            reply = exchange.encode_reply(encoder, decoder, value, exchange.changed(decoder, snaps))
            entries, out = encoder.finish()
        except TypeError as exc:
            error, reply, (entries, out) = ({"type": "TypeError", "message": str(exc)[:300]},
                                            {"value": None, "changes": []}, Encoder().finish())
        self.proc.send({"op": "callback_result", **reply, "entries": entries, "error": error}, out)

    def close(self) -> None:
        self.proc.close()


class _Callbacks:
    """The grader's functions sent during one call (``np.sin``, a ``Counted``), by handle."""

    def __init__(self) -> None:
        self.callbacks: list[Any] = []
        self._handles: dict[int, int] = {}

    def handle_of(self, value: Any) -> int | None:
        if isinstance(value, _core.RemoteCallable) or not is_plain_function(value):
            return None
        key = id(value)
        if key not in self._handles:
            self._handles[key] = len(self.callbacks)
            self.callbacks.append(value)
        return self._handles[key]

    def callable_of(self, h: int, label: str) -> Any:
        if not 0 <= h < len(self.callbacks):
            raise ProtocolError("a function handle the grader never sent")
        return self.callbacks[h]


def _clean(text: Any, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


# --------------------------------------------------------------------------- one notebook


def grade_notebook(sub: Submission, exercises: dict[str, Exercise], points: dict[str, float], options: Options,
                   info: SandboxInfo, library: LibraryCopy | None = None) -> NotebookReport:
    """Rows for one submission: one per task of its exercise (never raises for a bad submission)."""
    start = time.monotonic()
    nb, read_error = read_notebook(sub.path)
    name, how = identify(nb, sub.path, exercises)
    if name is None:
        reason = read_error or how
        return NotebookReport(sub, [row(sub, "", "", 0, 0, "unknown_exercise",
                                        f"could not tell which exercise this is: {reason}. "
                                        f"Known exercises: {', '.join(sorted(exercises))}.")],
                              seconds=time.monotonic() - start)
    exercise = exercises[name]
    report = NotebookReport(sub, [], exercise=name, recognised_by=how)
    if read_error is not None:
        report.rows = [row(sub, name, task, 0, points.get(task, 0), "unreadable", f"not graded: {read_error}.")
                       for task, _ in exercise.tasks]
        return report
    cells = code_cells(nb)
    grader = _Grader(sub, exercise, points, options, info, cells, report, library)
    grader.run()
    report.seconds = time.monotonic() - start
    return report


class _Grader:
    def __init__(self, sub, exercise, points, options, info, cells, report, library):
        self.sub, self.exercise, self.points, self.options, self.info = sub, exercise, points, options, info
        self.cells, self.report, self.library = cells, report, library
        self.findings = static.analyse(cells)
        self.codes = notebook_codes(cells)
        self.bindings = static.bindings(self.findings)
        self.skipped: dict[int, str] = {}
        self.cell_errors: dict[int, str] = {}
        self.results: dict[str, dict] = {}
        self.stopped = "the notebook did not finish"
        self.outputs: list[str] = []

    @property
    def library_parent(self) -> str:
        return self.library.parent if self.library is not None else self.info.library_parent

    def run(self) -> None:
        deadline = time.monotonic() + self.options.timeout
        pending = [t for t in self.exercise.tasks]
        while pending:
            if deadline - time.monotonic() <= 0.5:
                self.stopped = f"the notebook used up its time limit of {self.options.timeout:g} s"
                self.report.events.append(self.stopped)
                break
            self.report.attempts += 1
            runnable = [c for c in self.cells if c["index"] not in self.skipped]
            try:
                session = Session(self.info, self.options, self.library_parent)
            except OSError as exc:
                self.stopped = f"the grader could not start a process for it ({exc})"
                self.report.events.append(self.stopped)
                break
            try:
                try:
                    state, cell = session.run_cells(runnable, deadline, self.cell_errors)
                except WorkerLost:
                    state, cell = "lost", None
                if state != "ready":
                    how = session.proc.describe_end()
                    if cell is not None and state != "deadline":
                        self.skipped[cell] = f"stopped the notebook ({how})"
                        self.report.events.append(
                            f"cell {cell} stopped the notebook ({how}); running it again without it")
                        continue
                    self.stopped = how if state == "deadline" else f"{how} before grading could start"
                    self.report.events.append(self.stopped)
                    break
                pending = self._grade_tasks(session, pending)
            finally:
                session.proc.kill()
                self._collect_output(session)
                self._check_library()
        for cell, error in sorted(self.cell_errors.items()):
            if "did not finish within" in error:
                self.report.events.append(f"cell {cell} hit the limit of {self.options.cell_timeout:g} s per cell")
        self._rows()

    def _collect_output(self, session: Session) -> None:
        text = (session.proc.stdout.text() + session.proc.stderr.text()).strip()
        if text:
            self.outputs.append(text)
        self.report.output = "\n[--- the notebook was run again ---]\n".join(self.outputs)

    def _check_library(self) -> None:
        if self.library is not None:
            changed = self.library.verify()
            if changed:
                self.report.events.append(f"the notebook changed the library copy ({', '.join(changed[:3])}); restored")

    def _grade_tasks(self, session: Session, pending: list) -> list:
        """Grade tasks in order; return those left when the process was lost (to grade in a fresh one)."""
        for i, (task, function) in enumerate(pending):
            check = _core.registry().get(task)
            if check is None:
                self.results[task] = {"score": 0.0, "status": "error",
                                      "message": f"the grader has no check for task {task!r} (pass --checks)"}
                continue
            refs = tuple(_core.reference_name(r) for r in check.references)
            try:
                found = session.lookup(function, refs, classes=getattr(check, "takes_class", False))
                if not found["found"] or not found["callable"]:
                    self.results[task] = {"score": 0.0, "status": "missing",
                                          "message": self._missing_reason(function, found["found"])}
                    continue
                remote = RemoteFunction(session, function, found["name"], found["alias_of"])
                remote.is_class = found["is_class"]
                if function in self.codes:  # for checks that read the code (is it recursive?)
                    remote.__code__ = self.codes[function]
                    remote.__globals__ = {name: _Source(code) for name, code in self.codes.items()}
                started = time.monotonic()
                session.task_deadline = started + self.options.task_timeout
                try:
                    result = check.run(remote)
                finally:
                    session.task_deadline = None
                if time.monotonic() - started > self.options.task_timeout:
                    self.report.events.append(f"task {task} took {time.monotonic() - started:.0f} s")
                score, status, message = result.score, result.status, result.message
                if status in ("fail", "error"):
                    message = self._explain_name_error(message)
                cheat = self._static_verdict(function, check) if check.references and score > 0 else None
                if cheat is not None:  # the values are right, but how they were computed is not allowed
                    score, status, message = 0.0, "fail", cheat
                self.results[task] = {"score": score, "status": status, "message": message}
            except WorkerLost as exc:
                how = session.proc.describe_end(exc.reason)
                self.results[task] = {"score": 0.0, "status": "fail",
                                      "message": f"the check could not finish: {how} while your function was being "
                                                 "checked. Does it loop forever, exit, or use too much memory?"}
                self.report.events.append(f"task {task}: {how}; running the notebook again for the tasks after it")
                return pending[i + 1:]
        return []

    # -- reasons
    def _static_verdict(self, function: str, check) -> str | None:
        refs = {_core.reference_name(r): _core.reference_name(r) for r in check.references}
        named = static.names_reference(self.findings, function, refs)
        if named:
            return (f"your function `{function}` calls the library's reference implementation `{named}`, which is "
                    "what this task asks you to write yourself: it scores 0. Write the computation in your own code.")
        dynamic, tampering = static.relevant(self.findings, function)
        if dynamic:
            return (f"the notebook runs code built at run time ({', '.join(dynamic[:3])}); for a "
                    "task that asks you to write what the library has, the grader cannot see which code ran, so it "
                    "scores 0. Write the function as plain code.")
        if tampering:
            return (f"the notebook uses tools that can hide what a function calls ({', '.join(tampering[:3])});"
                    " for a task that asks you to write what the library has, that scores 0.")
        return None

    def _missing_reason(self, function: str, exists: bool) -> str:
        head = f"no function `{function}` was defined when the notebook ran"
        if exists:
            return f"`{function}` exists but is not a function: keep the name for the function the exercise asks for."
        where = [i for i, kind in self.bindings.get(function, []) if kind in ("def", "assign")]
        if not where:
            return (f"{head}: the notebook has no `def {function}(...)`. Was it renamed or its cell deleted? "
                    "Keep the name the exercise gives it.")
        cell = where[-1]
        if cell in self.skipped:
            return f"{head}: the cell that defines it (cell {cell}) {self.skipped[cell]}, so it was skipped."
        if cell in self.cell_errors:
            return f"{head}: the cell that defines it (cell {cell}) failed: {self.cell_errors[cell]}."
        return f"{head}: cell {cell} mentions it but did not define it at the top level of the notebook."

    def _explain_name_error(self, message: str) -> str:
        """A NameError for a name that a failed import cell should have bound: say so instead."""
        m = re.search(r"NameError: name '(\w+)' is not defined", message)
        if not m:
            return message
        name = m.group(1)
        for cell, kind in self.bindings.get(name, []):
            if cell in self.cell_errors or cell in self.skipped:
                why = self.cell_errors.get(cell) or self.skipped[cell]
                what = "imports" if kind == "import" else "defines"
                return (f"`{name}` is not defined because cell {cell}, which {what} it, failed: {why}. "
                        f"Fix that cell first (your function was not checked further).")
        return message

    def _rows(self) -> None:
        sub, name = self.sub, self.exercise.name
        rows = []
        for task, _function in self.exercise.tasks:
            max_score = self.points.get(task, 0.0)
            if task in self.results:
                r = self.results[task]
                rows.append(row(sub, name, task, r["score"], max_score, r["status"], r["message"]))
            else:
                rows.append(row(sub, name, task, 0, max_score, "not_graded", f"not graded: {self.stopped}."))
        self.report.rows = rows
