"""One function call across the channel, the same way in both directions.

The grader asks the sandboxed worker to call a learner's function; while that runs, the
worker may ask the grader to call a function the check passed in (``np.sin``, a
``Counted`` wrapper, a library step). Either way the caller sends the arguments BY VALUE
(:mod:`backprop_lib.grade.wire`), the callee runs the function on its copies and answers with

* the value it returned (objects the caller sent come back as references to the originals,
  so ``topological_sort(root)`` returns the caller's own nodes), and
* the new state of every argument object the call modified (an array filled in place, a
  ``Value``'s ``.grad``, a generator's state), which the caller copies into its originals.

So a check sees the learner's side effects on exactly the objects it passed, as if the
function had run in its own process.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .wire import Decoder, Encoder, ProtocolError, object_state

__all__ = ["encode_call", "decode_args", "snapshot", "changed", "encode_reply", "apply_changes", "make_decoder",
           "error_info", "check_error"]

_MUTABLE = ("list", "dict", "set", "nd", "ndo", "obj", "rng")


def encode_call(encoder: Encoder, args: tuple, kwargs: dict) -> dict:
    """The ``args``/``kwargs`` nodes of a call (finish the encoder afterwards)."""
    return {"args": [encoder.node(a) for a in args], "kwargs": {str(k): encoder.node(v) for k, v in kwargs.items()}}


def decode_args(decoder: Decoder, header: dict) -> tuple[list, dict]:
    args, kwargs = header.get("args"), header.get("kwargs")
    if not isinstance(args, list) or not isinstance(kwargs, dict) or len(args) > 256 or len(kwargs) > 256:
        raise ProtocolError("a call's arguments are malformed")
    for k in kwargs:
        if not k.isidentifier():
            raise ProtocolError("a keyword argument name is not an identifier")
    return [decoder.node(a) for a in args], {k: decoder.node(v) for k, v in kwargs.items()}


def snapshot(decoder: Decoder) -> dict[int, Any]:
    """A shallow copy of every mutable value decoded, to see afterwards which ones changed."""
    snaps: dict[int, Any] = {}
    for i, entry in enumerate(decoder.entries):
        t = entry["t"]
        if t not in _MUTABLE:
            continue
        value = decoder.values[i]
        snaps[i] = _shallow(t, value)
    return snaps


def _shallow(t: str, value: Any) -> Any:
    if t == "nd":
        return value.copy()
    if t == "ndo":
        return list(value.ravel())
    if t == "list":
        return list(value)
    if t == "dict":
        return list(value.items())
    if t == "set":
        return set(map(id, value)), list(value)  # the list keeps the items alive (ids stay unique)
    if t == "rng":
        return value.bit_generator.state
    return list(object_state(value).items())  # obj


def changed(decoder: Decoder, snaps: dict[int, Any]) -> list[int]:
    """The entries whose value differs from its snapshot (identity of items, bytes of arrays)."""
    out = []
    for i, before in snaps.items():
        t, value = decoder.entries[i]["t"], decoder.values[i]
        try:
            if t == "nd":
                same = (isinstance(value, np.ndarray) and value.shape == before.shape and value.dtype == before.dtype
                        and value.tobytes() == before.tobytes())
            elif t == "set":
                same = set(map(id, value)) == before[0]
            elif t == "rng":
                same = value.bit_generator.state == before
            elif t in ("list", "ndo"):
                now = list(value) if t == "list" else list(value.ravel())
                same = len(now) == len(before) and all(a is b for a, b in zip(now, before))
            else:
                now = list(value.items()) if t == "dict" else list(object_state(value).items())
                same = len(now) == len(before) and all(ka == kb and va is vb for (ka, va), (kb, vb) in zip(now, before))
        except Exception:  # noqa: BLE001 (a value the learner broke: send its state anyway)
            same = False
        if not same:
            out.append(i)
    return out


def encode_reply(encoder: Encoder, decoder: Decoder, value: Any, modified: list[int]) -> dict:
    """Nodes for the returned value and the new state of each modified argument entry."""
    result = encoder.node(value)
    return {"value": result, "changes": [[i, encoder.contents(decoder.values[i])] for i in modified]}


def apply_changes(decoder: Decoder, changes: Any, targets: list[Any]) -> list[int]:
    """Copy each changed state into the caller's original object; return the entries that could
    not be copied (e.g. an array that changed shape)."""
    if not isinstance(changes, list) or len(changes) > len(targets):
        raise ProtocolError("the list of modified arguments is malformed")
    failed = []
    for item in changes:
        if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int and 0 <= item[0] < len(targets)):
            raise ProtocolError("a modified argument is malformed")
        index, node = item
        target, new = targets[index], decoder.node(node)
        if not _apply(target, new):
            failed.append(index)
    return failed


def _apply(target: Any, new: Any) -> bool:
    try:
        if isinstance(target, np.ndarray):
            if not (isinstance(new, np.ndarray) and new.shape == target.shape and target.flags.writeable):
                return False
            np.copyto(target, new, casting="unsafe")
        elif isinstance(target, list) and isinstance(new, list):
            target[:] = new
        elif isinstance(target, dict) and isinstance(new, dict):
            target.clear()
            target.update(new)
        elif isinstance(target, set) and isinstance(new, set):
            target.clear()
            target.update(new)
        elif isinstance(target, np.random.Generator) and isinstance(new, np.random.Generator):
            target.bit_generator.state = new.bit_generator.state
        elif type(target) is type(new):
            for name, value in object_state(new).items():
                object.__setattr__(target, name, value)
        else:
            return False
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def error_info(outcome_error: str | None, message: str = "", where: str = "", helper: str | None = None) -> dict | None:
    if outcome_error is None:
        return None
    return {"type": outcome_error, "message": message[:2000], "where": where[:500], "helper": helper}


def check_error(info: Any) -> dict | None:
    """Validate an ``error`` field of a reply."""
    if info is None:
        return None
    if not isinstance(info, dict):
        raise ProtocolError("an error report is not an object")
    kind, message, where, helper = info.get("type"), info.get("message", ""), info.get("where", ""), info.get("helper")
    if not (isinstance(kind, str) and kind.isidentifier() and len(kind) <= 80):
        raise ProtocolError("an error report names no exception")
    if not isinstance(message, str) or not isinstance(where, str):
        raise ProtocolError("an error report's text is malformed")
    if helper is not None and not (isinstance(helper, str) and helper.isidentifier() and len(helper) <= 80):
        raise ProtocolError("an error report's helper is malformed")
    return {"type": kind, "message": _short(message, 300), "where": _short(where, 200), "helper": helper}


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def make_decoder(header: dict, buffers: list[bytes], *, resolve_class: Callable, make_callable: Callable,
                 known: list | None = None) -> Decoder:
    decoder = Decoder(header.get("entries"), buffers, resolve_class=resolve_class, make_callable=make_callable,
                      known=known)
    decoder.decode()
    return decoder
