"""The untrusted side: runs one submission's cells and calls its functions when asked.

This module runs inside the sandbox (:mod:`backprop_lib.grade.sandbox`), in a process that
executes the learner's code. It never grades: it holds no check, no reference value and no
hint. It only

1. runs the notebook's code cells in order (the grader left out the check cells), each with
   a time limit, reporting ``cell_start``/``cell_end`` events;
2. answers ``lookup`` (does the notebook define this function?) and ``call`` requests: it
   calls the learner's function on the arguments the grader sent, with the grader's time
   limit, numpy error state and warnings captured, and replies with DATA: the returned value,
   the arguments' new state, the exception (class name, message, the learner's line),
   warnings, and which of the task's library references the function called;
3. forwards calls of functions the grader passed in (``np.sin``, a ``Counted`` wrapper) back
   to the grader (:class:`Proxy`).

Everything it sends goes through :mod:`backprop_lib.grade.wire`: a learner who takes over this
process can only send data, which the grader validates and then checks itself.

Started as ``python -I -c "...; from backprop_lib.grade.worker import main; main(3, 4)"`` with
the request channel on fd 3 and the reply channel on fd 4 (stdout and stderr are captured).
"""

from __future__ import annotations

import builtins
import importlib
import linecache
import os
import signal
import sys
import warnings
from typing import Any

import numpy as np

from .._calling import (LIBRARY_DIR, Outcome, alias_key, code_key, is_learner_frame, learner_line, reference_codes,
                        run_call)
from . import exchange
from .wire import ChannelClosed, Encoder, ProtocolError, receive, send

__all__ = ["main", "Proxy"]

_ERRSTATE_ACTIONS = ("ignore", "warn", "raise", "print")
_exit, _getprofile, _setprofile = os._exit, sys.getprofile, sys.setprofile
_CHECKS_DIR = os.path.join(LIBRARY_DIR, "checks") + os.sep


class _CellTimeout(BaseException):
    """Raised in the main thread when a cell runs past its limit (BaseException: hard to swallow)."""


class Worker:
    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out = fd_in, fd_out
        self.user_ns: dict = {"__name__": "__main__"}
        self.shell: Any = None  # IPython's InteractiveShell once run_cells starts (None without IPython)
        self.call_state: _CallState | None = None

    # ------------------------------------------------------------------ channel
    def send(self, header: dict, buffers=()) -> None:
        send(self.fd_out, header, buffers)

    def receive(self) -> tuple[dict, list[bytes]]:
        return receive(self.fd_in)

    # ------------------------------------------------------------------ cells
    def run_cells(self, job: dict) -> None:
        cell_timeout = float(job.get("cell_timeout", 30))
        try:
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            config = Config()
            config.HistoryManager.enabled = False
            self.shell = InteractiveShell.instance(config=config, colors="nocolor")
            self.user_ns = self.shell.user_ns
        except ImportError:  # plain exec when IPython is not installed
            self.shell = None

        def on_alarm(signum, frame):
            raise _CellTimeout()

        for cell in job["cells"]:
            index, source = cell["index"], cell["source"]
            self.send({"op": "cell_start", "index": index})
            error = None
            try:
                signal.signal(signal.SIGALRM, on_alarm)
                signal.setitimer(signal.ITIMER_REAL, cell_timeout, 1.0)  # re-fires each second if swallowed
                try:
                    error = self._run_cell(index, source)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except BaseException as exc:  # noqa: BLE001 (the submission's failure is data)
                error = exc
            _flush()
            self.send({"op": "cell_end", "index": index,
                       "error": None if error is None else describe_exception(error, cell_timeout)})
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def _run_cell(self, index: int, source: str):
        filename = f"<cell {index}>"
        try:
            if self.shell is not None:
                source = self.shell.transform_cell(source)
            else:
                source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
            code = compile(source, filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            return exc
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(code, self.user_ns)  # noqa: S102 (running the submission is this process's job)
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, _CellTimeout):
                raise
            return exc
        return None

    # ------------------------------------------------------------------ requests
    def serve(self) -> None:
        while True:
            header, buffers = self.receive()
            op = header.get("op")
            if op == "lookup":
                self.lookup(header)
            elif op == "call":
                self.call(header, buffers)
            elif op == "exit":
                _flush()
                _exit(0)
            else:
                raise ProtocolError(f"unexpected request {str(op)[:30]!r}")

    def lookup(self, header: dict) -> None:
        name = header.get("name")
        refs = header.get("refs") or []
        if not isinstance(name, str) or name not in self.user_ns:
            self.send({"op": "lookup", "found": False})
            return
        value = self.user_ns[name]
        if callable(value) and (not isinstance(value, type) or header.get("classes") is True):
            code = getattr(value, "__code__", None)
            self.send({"op": "lookup", "found": True, "callable": True, "is_class": isinstance(value, type),
                       "name": str(getattr(value, "__name__", name))[:80],
                       "code_name": getattr(code, "co_name", None) if code is not None else None,
                       "alias_of": _alias_of(value, refs)})
            return
        encoder = Encoder(allow_opaque=True)
        node = encoder.node(value)
        entries, buffers = encoder.finish()
        self.send({"op": "lookup", "found": True, "callable": False, "value": node, "entries": entries}, buffers)

    def call(self, header: dict, buffers: list[bytes]) -> None:
        func: Any = self.user_ns.get(header.get("name"))  # None: calling it reports the TypeError
        via = _program(header.get("via"))
        state = _CallState(self)
        decoder = exchange.make_decoder(header, buffers, resolve_class=_resolve_class, make_callable=state.proxy)
        args, kwargs = exchange.decode_args(decoder, header)
        snaps = exchange.snapshot(decoder)
        timeout = header.get("timeout")
        timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else 10.0
        errstate: dict[str, Any] = {k: (v if v in _ERRSTATE_ACTIONS else "warn")
                                    for k, v in (header.get("errstate") or {}).items()
                                    if k in ("divide", "over", "under", "invalid")}
        watch = _Watch(header.get("refs") or [])
        # A check may lower Python's recursion limit around the call (as it would in the notebook):
        # the grader sends its limit; the call runs under the lower of the two, and the grader
        # learns whether the learner's code raised it.
        before = sys.getrecursionlimit()
        wanted = header.get("recursion_limit")
        limit = min(before, wanted) if type(wanted) is int and wanted >= 100 else before
        sys.setrecursionlimit(limit)
        self.call_state = state
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(**errstate):
                watch.start()
                outcome = None
                try:
                    if via is not None:  # a checks function that drives the learner's function or class
                        outcome = run_call(via, (func, *args), kwargs, timeout)
                    else:
                        outcome = run_call(func, tuple(args), kwargs, timeout)
                except BaseException as exc:  # noqa: BLE001 (SystemExit and the like are data too)
                    outcome = Outcome(error=type(exc).__name__, message=str(exc), where=learner_line(exc))
                finally:
                    watch.stop(outcome.error if outcome is not None else None)
        self.call_state = None
        after = sys.getrecursionlimit()
        sys.setrecursionlimit(before)
        _flush()
        known = {id(v): i for i, v in enumerate(decoder.values)}
        encoder = Encoder(callable_handle=state.handle_of, known=known, allow_opaque=True)
        try:
            reply = exchange.encode_reply(encoder, decoder, outcome.value, exchange.changed(decoder, snaps))
            entries, out_buffers = encoder.finish()
        except Exception as exc:  # noqa: BLE001 (a returned value the channel cannot carry)
            outcome.error, outcome.message, outcome.where = type(exc).__name__, str(exc), ""
            encoder = Encoder(allow_opaque=True)
            reply, (entries, out_buffers) = {"value": None, "changes": []}, encoder.finish()
        reply.update({
            "op": "result", "entries": entries,
            "error": exchange.error_info(outcome.error, outcome.message, outcome.where, outcome.helper),
            "refs_used": watch.report(), "recursion_limit": after if after != limit else None,
            "warnings": [{"category": _warning_category(w), "message": str(w.message)[:300]} for w in caught[:20]],
        })
        self.send(reply, out_buffers)


class _CallState:
    """The grader's functions passed into one call (proxies by handle)."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.proxies: dict[int, Proxy] = {}

    def proxy(self, handle: int, name: str) -> "Proxy":
        if handle not in self.proxies:
            self.proxies[handle] = Proxy(self, handle, name)
        return self.proxies[handle]

    def handle_of(self, value: Any) -> int | None:
        if isinstance(value, Proxy) and value._state is self:
            return value._handle
        return None


class Proxy:
    """A function of the grader's (``np.sin``, a check's helper): calling it asks the grader
    to run it on copies of the arguments; their changes and the value come back."""

    def __init__(self, state: _CallState, handle: int, name: str):
        self._state, self._handle = state, handle
        self.__name__ = self.__qualname__ = name

    def __repr__(self) -> str:
        return f"<function {self.__name__} (run by the grader)>"

    def __call__(self, *args, **kwargs):
        worker = self._state.worker
        if worker.call_state is not self._state:
            raise RuntimeError(f"{self.__name__} was passed to an earlier call and can no longer be used")
        encoder = Encoder(callable_handle=self._state.handle_of, allow_opaque=True)
        nodes = exchange.encode_call(encoder, args, kwargs)
        entries, buffers = encoder.finish()
        worker.send({"op": "callback", "h": self._handle, **nodes, "entries": entries}, buffers)
        header, reply_buffers = worker.receive()
        if header.get("op") != "callback_result":
            raise ProtocolError("the grader did not answer a callback")
        error = header.get("error")
        if error:
            raise _exception(error)
        decoder = exchange.make_decoder(header, reply_buffers, resolve_class=_resolve_class,
                                        make_callable=self._state.proxy, known=encoder.objects)
        exchange.apply_changes(decoder, header.get("changes", []), encoder.objects)
        return decoder.node(header.get("value"))


def _exception(error: dict) -> BaseException:
    kind = error.get("type") if isinstance(error, dict) else None
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    cls = getattr(builtins, kind, None) if isinstance(kind, str) else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:  # noqa: BLE001
            pass
    return RuntimeError(f"{kind}: {message}")


class _Watch:
    """Which of the task's library references the learner's function calls (``sys.setprofile``)."""

    def __init__(self, names: list):
        self.codes: dict[tuple, str] = {}
        for name in names:
            if isinstance(name, str):
                ref = _resolve_name(name)
                for key in reference_codes(ref) if ref is not None else ():
                    self.codes[key] = name
        self.used: str | None = None
        self._seen: dict[Any, bool] = {}
        self._hook = self._profile

    def _profile(self, frame, event, arg):
        if event != "call" or self.used is not None:
            return
        code = frame.f_code
        hit = self._seen.get(code)
        if hit is None:
            hit = self._seen[code] = code_key(code) in self.codes
        if not hit:
            return
        # As in the notebook (checks._core._ReferenceWatch): the call counts when, walking up
        # the stack, the learner's code comes before any code of the checks (an object the
        # check passed in may call the library itself).
        caller = frame.f_back
        while caller is not None:
            filename = caller.f_code.co_filename
            if os.path.abspath(filename).startswith(_CHECKS_DIR):
                return
            if is_learner_frame(filename):
                self.used = self.codes[code_key(code)]
                return
            caller = caller.f_back

    def start(self) -> None:
        if self.codes:
            _setprofile(self._hook)

    def stop(self, error: str | None = None) -> None:
        if self.codes:
            current = _getprofile()
            # Python removes a profile function that raised: at the recursion limit the hook's own
            # call can raise RecursionError. That is the learner's deep recursion, not tampering.
            removed_by_python = current is None and error in ("RecursionError", "MemoryError")
            if current is not self._hook and self.used is None and not removed_by_python:
                self.used = "sys.setprofile"
            _setprofile(None)

    def report(self) -> list[str]:
        return [self.used] if self.used else []


def _alias_of(value: Any, names: list) -> str | None:
    for name in names:
        ref = _resolve_name(name) if isinstance(name, str) else None
        if ref is not None and alias_key(value, reference_codes(ref)) is not None:
            return name
    return None


def _program(name: Any) -> Any:
    """The checks function ``name`` marked ``runs_with_learner_code`` (else None: the plain call)."""
    if not isinstance(name, str) or not name.startswith("backprop_lib.checks."):
        return None
    func = _resolve_name(name)
    marked = getattr(func, "__runs_with_learner_code__", False) is True
    return func if marked and f"{func.__module__}.{func.__qualname__}" == name else None


def _resolve_name(name: str) -> Any:
    """The library object called ``name`` ("backprop_lib.gradcheck.central_difference")."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        if not (module_name == "backprop_lib" or module_name.startswith("backprop_lib.")):
            return None
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _resolve_class(module: str, qualname: str) -> type:
    if not (module == "backprop_lib" or module.startswith("backprop_lib.")):
        raise ProtocolError(f"class {module}.{qualname} is not part of backprop_lib")
    obj = _resolve_name(f"{module}.{qualname}")
    if not isinstance(obj, type):
        raise ProtocolError(f"no class {module}.{qualname}")
    return obj


def describe_exception(exc: BaseException, cell_timeout: float) -> str:
    import re

    if isinstance(exc, _CellTimeout):
        return f"it did not finish within {cell_timeout:g} s (an endless loop?) and was stopped"
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({'' if exc.code is None else repr(exc.code)}), which was ignored"
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno} of the cell)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x...", text)
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warning_category(w: warnings.WarningMessage) -> str:
    return type(w.message).__name__ if isinstance(w.message, Warning) else w.category.__name__


def _flush() -> None:
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001
            pass


def main(fd_in: int = 3, fd_out: int = 4) -> None:
    """Run the job the grader sends on ``fd_in``; answer on ``fd_out``; never returns."""
    worker = Worker(fd_in, fd_out)
    try:
        job, _ = worker.receive()
        if job.get("op") != "job" or not isinstance(job.get("cells"), list):
            raise ProtocolError("the first message is not a job")
        worker.run_cells(job)
        worker.send({"op": "ready"})
        worker.serve()
    except ChannelClosed:
        pass
    except BaseException as exc:  # noqa: BLE001 (report, then end)
        try:
            worker.send({"op": "failed", "reason": f"{type(exc).__name__}: {str(exc)[:200]}"})
        except BaseException:  # noqa: BLE001
            pass
    _flush()
    _exit(0)

