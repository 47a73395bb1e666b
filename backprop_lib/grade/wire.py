"""The data-only channel between the grader and the sandboxed worker.

Nothing but DATA crosses it: JSON headers plus raw array bytes, never pickle and never code.
A message is one frame::

    b"BPG1" | header length (4 bytes) | number of buffers (4) | buffer lengths (8 each) | header JSON | buffers

Python values are encoded as a flat table of *entries* (so shared objects, cycles and a
chain of 20,000 ``Value`` nodes need no recursion) and *nodes*: a node is a JSON ``null``,
boolean, number or string, or ``{"$": i}`` pointing at entry ``i``. The entries are::

    list / tuple / set / frozenset   {"t": "list", "v": [node, ...]}
    dict                             {"t": "dict", "k": [node, ...], "v": [node, ...]}
    numpy array                      {"t": "nd", "dtype": "<f8", "shape": [2, 3], "b": buffer}
    numpy array of objects           {"t": "ndo", "shape": [...], "v": [node, ...]}
    numpy scalar                     {"t": "np", "dtype": "<f4", "b": buffer}
    numpy dtype                      {"t": "dtype", "v": "<f8"}
    complex, bytes                   {"t": "complex", "v": [re, im]}, {"t": "bytes", "b": buffer}
    numpy random Generator           {"t": "rng", "bitgen": "PCG64", "state": node}
    an object of a backprop_lib class {"t": "obj", "cls": ["backprop_lib.engine", "Value"],
                                       "state": {"grad": node, ...}}
    a namedtuple of backprop_lib     {"t": "nt", "cls": [module, qualname], "v": [node, ...]}
    a function of the other side     {"t": "fn", "h": handle, "name": "sin"}
    a weak reference                 {"t": "weakref", "v": node or null (its object is gone)}
    an object the other side sent    {"t": "ref", "r": entry index in the other side's message}
    anything else (worker only)      {"t": "opaque", "type": "generator"}

:class:`Decoder` validates every entry against this schema (types, indices, sizes, allowed
classes) and raises :class:`ProtocolError` for anything else; the grader turns that into a 0
with the reason. Classes are looked up by the caller's ``resolve_class`` (the grader allows
only classes of ``backprop_lib`` that it has already imported) and are instantiated without
running any of their code (``object.__new__`` and ``object.__setattr__``).
"""

from __future__ import annotations

import functools
import json
import os
import select
import struct
import time
import types
import weakref
from typing import Any, Callable

import numpy as np

__all__ = ["ProtocolError", "ChannelClosed", "Encoder", "Decoder", "Opaque", "send", "receive",
           "MAX_MESSAGE_BYTES"]

MAGIC = b"BPG1"
MAX_MESSAGE_BYTES = 512 * 1024 * 1024  # a generous cap on one message (arrays included)
MAX_ENTRIES = 2_000_000
_DTYPE_KINDS = "biufcUSmM"  # numeric, bool, strings, datetimes: never object or void
_BITGENS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_PRIMITIVES = (type(None), bool, int, float, str)

# Captured at import, before any submission code runs in the worker.
_dumps, _loads = json.dumps, json.loads
_os_read, _os_write = os.read, os.write
_ndarray, _generic, _np_dtype, _Generator = np.ndarray, np.generic, np.dtype, np.random.Generator
_frombuffer, _ascontiguousarray, _empty = np.frombuffer, np.ascontiguousarray, np.empty
_object_new, _object_setattr = object.__new__, object.__setattr__
_weakref = weakref.ref


class _Gone:
    pass


def _dead_weakref() -> weakref.ref:
    """A weak reference whose object is gone (what a dead weakref the other side had becomes)."""
    return _weakref(_Gone())


class ProtocolError(Exception):
    """A message that does not follow the schema (the sender is broken or hostile)."""


class ChannelClosed(Exception):
    """The other side closed the channel (or the deadline passed) before a whole message arrived."""


class Opaque:
    """Stands in for a value of a type the channel does not carry (a generator, a learner's class)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} (not transferable)>"


@functools.lru_cache(maxsize=256)
def _opaque_class(name: str) -> type:
    return type(name, (Opaque,), {"__slots__": ()})


# --------------------------------------------------------------------------- framing


def send(fd: int, header: dict, buffers: list[bytes] | tuple = ()) -> None:
    """Write one frame to ``fd`` (blocking)."""
    body = _dumps(header, separators=(",", ":")).encode("utf-8")
    head = MAGIC + struct.pack(">II", len(body), len(buffers)) + b"".join(struct.pack(">Q", len(b)) for b in buffers)
    _write_all(fd, head + body)
    for buf in buffers:
        _write_all(fd, buf)


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        n = _os_write(fd, view)
        view = view[n:]


def receive(fd: int, deadline: float | None = None, max_bytes: int = MAX_MESSAGE_BYTES,
            on_wait: Callable[[], None] | None = None) -> tuple[dict, list[bytes]]:
    """Read one frame; ``deadline`` is a ``time.monotonic()`` value (None: wait forever).

    Raises :class:`ChannelClosed` when the stream ends or the deadline passes, and
    :class:`ProtocolError` when the frame is malformed or larger than ``max_bytes``.
    """
    reader = _Reader(fd, deadline, on_wait)
    if reader.read(4) != MAGIC:
        raise ProtocolError("a message did not start with the channel's marker")
    header_len, n_buffers = struct.unpack(">II", reader.read(8))
    if n_buffers > 100_000:
        raise ProtocolError(f"a message announced {n_buffers} buffers")
    lengths = [struct.unpack(">Q", reader.read(8))[0] for _ in range(n_buffers)]
    total = header_len + sum(lengths)
    if total > max_bytes:
        raise ProtocolError(f"a message of {total} bytes is larger than the limit of {max_bytes} bytes")
    try:
        header = _loads(reader.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"a message header is not JSON ({str(exc)[:80]})") from None
    if not isinstance(header, dict):
        raise ProtocolError("a message header is not a JSON object")
    return header, [reader.read(n) for n in lengths]


class _Reader:
    def __init__(self, fd: int, deadline: float | None, on_wait):
        self.fd, self.deadline, self.on_wait = fd, deadline, on_wait

    def read(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            if self.deadline is not None:
                while True:
                    left = self.deadline - time.monotonic()
                    if left <= 0:
                        raise ChannelClosed("timeout")
                    ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
                    if ready:
                        break
                    if self.on_wait is not None:
                        self.on_wait()
            try:
                data = _os_read(self.fd, min(n - got, 1 << 20))
            except InterruptedError:
                continue
            if not data:
                raise ChannelClosed("end of stream")
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)


# --------------------------------------------------------------------------- encoding


class Encoder:
    """Turn Python values into nodes, entries and buffers.

    ``callable_handle(obj)`` returns a handle for a function that must stay on this side (a
    proxy calls back), or None to encode the object by value. ``known`` maps ``id(obj)`` to
    the entry index under which the OTHER side sent it (encoded as a ``ref``). ``is_library_object``
    says whether an object is sent by value as ``obj``; anything else not listed above becomes
    ``opaque`` when ``allow_opaque`` (the worker) or raises TypeError (the grader).
    """

    def __init__(self, *, callable_handle: Callable[[Any], int | None] | None = None,
                 known: dict[int, int] | None = None, is_library_object: Callable[[Any], bool] | None = None,
                 allow_opaque: bool = False):
        self.entries: list[dict | None] = []
        self.buffers: list[bytes] = []
        self.objects: list[Any] = []  # entry index -> the object (kept alive: ids stay unique)
        self._memo: dict[int, int] = {}
        self._queue: list[int] = []
        self._contents: set[int] = set()  # entries that carry an object's contents even if it is known
        self._callable_handle = callable_handle
        self._known = known or {}
        self._is_library_object = is_library_object or _is_library_object
        self._allow_opaque = allow_opaque

    def node(self, value: Any):
        t = type(value)
        if t in _PRIMITIVES:
            return value
        key = id(value)
        index = self._memo.get(key)
        if index is None:
            index = len(self.entries)
            self._memo[key] = index
            self.entries.append(None)
            self.objects.append(value)
            self._queue.append(index)
        return {"$": index}

    def contents(self, value: Any):
        """A node carrying ``value``'s current contents, even when the other side sent it
        (then plain :meth:`node` would only refer to it)."""
        index = len(self.entries)
        self.entries.append(None)
        self.objects.append(value)
        self._contents.add(index)
        self._queue.append(index)
        return {"$": index}

    def finish(self) -> tuple[list[dict], list[bytes]]:
        """Encode every value reached so far (iteratively); return ``(entries, buffers)``."""
        while self._queue:
            index = self._queue.pop()
            self.entries[index] = self._entry(self.objects[index], index)
        return self.entries, self.buffers  # type: ignore[return-value]

    def _buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _entry(self, value: Any, index: int) -> dict:
        known = None if index in self._contents else self._known.get(id(value))
        if known is not None:
            return {"t": "ref", "r": known}
        for encode in (self._numpy_entry, self._handle_entry, self._builtin_entry):
            entry = encode(value)
            if entry is not None:
                return entry
        if self._is_library_object(value):
            return {"t": "obj", "cls": _class_name(type(value)),
                    "state": {name: self.node(v) for name, v in object_state(value).items()}}
        return self._opaque(value)

    def _numpy_entry(self, value: Any) -> dict | None:
        """Arrays, numpy scalars and dtypes (None for anything else)."""
        if isinstance(value, _ndarray):
            if value.dtype.kind == "O":
                return {"t": "ndo", "shape": list(value.shape), "v": [self.node(v) for v in value.ravel().tolist()]}
            if value.dtype.kind not in _DTYPE_KINDS or value.dtype.fields is not None:
                return self._opaque(value)
            arr = _ascontiguousarray(value)
            return {"t": "nd", "dtype": arr.dtype.str, "shape": list(arr.shape), "b": self._buffer(arr.tobytes())}
        if isinstance(value, _generic):
            if value.dtype.kind not in _DTYPE_KINDS:
                return self._opaque(value)
            return {"t": "np", "dtype": value.dtype.str, "b": self._buffer(np.asarray(value).tobytes())}
        if isinstance(value, _np_dtype):
            if value.kind not in _DTYPE_KINDS or value.fields is not None:
                return self._opaque(value)
            return {"t": "dtype", "v": value.str}
        return None

    def _handle_entry(self, value: Any) -> dict | None:
        """Weak references, random generators, the side's functions and library namedtuples."""
        if isinstance(value, _weakref):
            target = value()
            return {"t": "weakref", "v": None if target is None else self.node(target)}
        if isinstance(value, _Generator):
            bitgen = value.bit_generator
            return {"t": "rng", "bitgen": type(bitgen).__name__, "state": self.node(bitgen.state)}
        handle = self._callable_handle(value) if self._callable_handle is not None else None
        if handle is not None:
            return {"t": "fn", "h": handle, "name": str(getattr(value, "__name__", type(value).__name__))[:80]}
        if isinstance(value, tuple) and self._is_library_object(value):
            return {"t": "nt", "cls": _class_name(type(value)), "v": [self.node(v) for v in value]}
        return None

    def _builtin_entry(self, value: Any) -> dict | None:
        """Numbers, strings, containers and the other built-in types (None for anything else)."""
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            if isinstance(value, int):  # an IntEnum or another int subclass: its value
                return {"t": "int", "v": int(value)}
            return {"t": "float", "v": float(value)} if isinstance(value, float) else {"t": "str", "v": str(value)}
        if isinstance(value, (list, tuple, set, frozenset)):
            kind = ("list" if isinstance(value, list) else "tuple" if isinstance(value, tuple)
                    else "set" if isinstance(value, set) else "frozenset")
            return {"t": kind, "v": [self.node(v) for v in value]}
        if isinstance(value, dict):
            items = list(value.items())
            return {"t": "dict", "k": [self.node(k) for k, _ in items], "v": [self.node(v) for _, v in items]}
        if isinstance(value, complex):
            return {"t": "complex", "v": [value.real, value.imag]}
        if isinstance(value, (bytes, bytearray)):
            return {"t": "bytearray" if isinstance(value, bytearray) else "bytes", "b": self._buffer(bytes(value))}
        if isinstance(value, range):
            return {"t": "range", "v": [value.start, value.stop, value.step]}
        if isinstance(value, slice):
            return {"t": "slice", "v": [self.node(value.start), self.node(value.stop), self.node(value.step)]}
        return None

    def _opaque(self, value: Any) -> dict:
        if not self._allow_opaque:
            raise TypeError(f"cannot send a {type(value).__module__}.{type(value).__qualname__} to the sandbox")
        return {"t": "opaque", "type": str(getattr(type(value), "__name__", "object"))[:60]}


def _class_name(cls: type) -> list[str]:
    return [str(cls.__module__), str(cls.__qualname__)]


def _is_library_object(value: Any) -> bool:
    module = getattr(type(value), "__module__", "") or ""
    return module == "backprop_lib" or module.startswith("backprop_lib.")


def object_state(obj: Any) -> dict[str, Any]:
    """The attributes of an object: its ``__dict__`` and its ``__slots__`` (set ones only)."""
    state: dict[str, Any] = {}
    for cls in reversed(type(obj).__mro__):
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            try:
                state[name] = object.__getattribute__(obj, name)
            except AttributeError:
                pass
    try:
        state.update(object.__getattribute__(obj, "__dict__"))
    except AttributeError:
        pass
    return state


# --------------------------------------------------------------------------- decoding


class Decoder:
    """Build Python values from a validated ``(entries, buffers)`` table.

    ``resolve_class(module, qualname)`` returns an allowed class or raises ProtocolError;
    ``make_callable(handle, name)`` returns what a ``fn`` entry becomes; ``known`` is the list of
    objects this side sent (the targets of ``ref`` entries). Build everything with :meth:`decode`.
    """

    def __init__(self, entries: Any, buffers: list[bytes], *, resolve_class: Callable[[str, str], type],
                 make_callable: Callable[[int, str], Any], known: list[Any] | None = None):
        if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
            raise ProtocolError("the value table is not a list (or is too long)")
        self.entries, self.buffers = entries, buffers
        self.resolve_class, self.make_callable = resolve_class, make_callable
        self.known = known or []
        self.values: list[Any] = [None] * len(entries)
        self._built = [False] * len(entries)

    # -- helpers
    def _index(self, node: Any) -> int:
        if not (isinstance(node, dict) and len(node) == 1 and "$" in node):
            raise ProtocolError(f"malformed reference {str(node)[:60]}")
        i = node["$"]
        if type(i) is not int or not 0 <= i < len(self.entries):
            raise ProtocolError(f"reference {str(i)[:20]} out of range")
        return i

    def node(self, node: Any) -> Any:
        """The value of a node (entries must have been built by :meth:`decode`)."""
        if node is None or type(node) in (bool, int, float, str):
            return node
        return self.values[self._index(node)]

    def _buffer(self, entry: dict) -> bytes:
        b = entry.get("b")
        if type(b) is not int or not 0 <= b < len(self.buffers):
            raise ProtocolError("a buffer index is out of range")
        return self.buffers[b]

    def _list(self, entry: dict, key: str = "v") -> list:
        v = entry.get(key)
        if not isinstance(v, list):
            raise ProtocolError(f"entry of type {entry.get('t')!r} has no list {key!r}")
        return v

    @staticmethod
    def _dtype(text: Any) -> np.dtype:
        if not isinstance(text, str) or len(text) > 16:
            raise ProtocolError("a dtype is not a short string")
        try:
            dtype = _np_dtype(text)
        except (TypeError, ValueError):
            raise ProtocolError(f"unknown dtype {text!r}") from None
        if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
            raise ProtocolError(f"dtype {text!r} is not allowed")
        return dtype

    # -- building
    def decode(self) -> None:
        """Build every entry: leaves and empty containers, then immutable ones (tuples, in
        dependency order), then fill the mutable containers and objects."""
        entries = self.entries
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("t"), str):
                raise ProtocolError(f"entry {i} is not an object with a type")
            self._first_pass(i, entry)
        for i, entry in enumerate(entries):
            if entry["t"] in ("tuple", "frozenset", "nt", "slice"):
                self._build_immutable(i)
        for order in (("obj",), ("list", "ndo"), ("weakref",), ("dict", "set"), ("rng",)):
            for i, entry in enumerate(entries):
                if entry["t"] in order:
                    self._fill(i, entry)

    def _first_pass(self, i: int, e: dict) -> None:
        t = e["t"]
        if t in ("tuple", "frozenset", "nt", "slice", "weakref"):
            return  # built once their items exist
        make = _LEAF_MAKERS.get(t)
        if make is None:
            raise ProtocolError(f"unknown entry type {t[:30]!r}")
        self.values[i] = make(self, e)
        self._built[i] = True

    # -- the first pass, one entry type each: leaves, and empty containers filled later
    def _new_array(self, e: dict) -> Any:
        dtype = self._dtype(e.get("dtype"))
        shape = e.get("shape")
        if not isinstance(shape, list) or len(shape) > 32 or not all(type(n) is int and 0 <= n < 2**40 for n in shape):
            raise ProtocolError("an array shape is malformed")
        data = self._buffer(e)
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count * dtype.itemsize != len(data):
            raise ProtocolError(f"an array of shape {tuple(shape)} and dtype {dtype} has {len(data)} bytes")
        return _frombuffer(data, dtype=dtype).reshape(shape).copy()

    def _new_object_array(self, e: dict) -> Any:
        shape = e.get("shape")
        if (not isinstance(shape, list) or len(shape) > 32
                or not all(type(n) is int and 0 <= n < 2**31 for n in shape)
                or int(np.prod(shape, dtype=np.int64)) > len(self._list(e))):
            raise ProtocolError("an array shape is malformed")
        return _empty(tuple(shape), dtype=object)

    def _new_numpy_scalar(self, e: dict) -> Any:
        dtype = self._dtype(e.get("dtype"))
        data = self._buffer(e)
        if len(data) != dtype.itemsize:
            raise ProtocolError("a numpy scalar has the wrong number of bytes")
        return _frombuffer(data, dtype=dtype)[0]

    def _new_complex(self, e: dict) -> complex:
        v = self._list(e)
        if len(v) != 2 or not all(type(x) in (int, float) for x in v):
            raise ProtocolError("a complex number is malformed")
        return complex(v[0], v[1])

    def _new_bytes(self, e: dict) -> bytes | bytearray:
        value = self._buffer(e)
        return bytearray(value) if e["t"] == "bytearray" else bytes(value)

    def _new_scalar(self, e: dict) -> Any:
        t, v = e["t"], e.get("v")
        if type(v) is not {"int": int, "float": float, "str": str}[t] and not (t == "float" and type(v) is int):
            raise ProtocolError(f"a {t} entry holds {type(v).__name__}")
        return v

    def _new_range(self, e: dict) -> range:
        v = self._list(e)
        if len(v) != 3 or not all(type(x) is int for x in v) or v[2] == 0:
            raise ProtocolError("a range is malformed")
        return range(*v)

    def _new_generator(self, e: dict) -> Any:
        name = e.get("bitgen")
        if name not in _BITGENS:
            raise ProtocolError(f"unknown random bit generator {str(name)[:30]!r}")
        return _Generator(getattr(np.random, name)())

    def _new_object(self, e: dict) -> Any:
        cls: Any = self._class(e)
        if not isinstance(e.get("state"), dict):
            raise ProtocolError("an object has no state")
        try:
            return _object_new(cls) if cls.__new__ is object.__new__ else cls.__new__(cls)
        except Exception as exc:  # noqa: BLE001 (a class that cannot be made empty)
            raise ProtocolError(f"cannot rebuild a {cls.__qualname__}: {exc}") from None

    def _new_function(self, e: dict) -> Any:
        h, name = e.get("h"), e.get("name", "")
        if type(h) is not int or not isinstance(name, str):
            raise ProtocolError("a function handle is malformed")
        return self.make_callable(h, name[:80])

    def _new_reference(self, e: dict) -> Any:
        r = e.get("r")
        if type(r) is not int or not 0 <= r < len(self.known):
            raise ProtocolError("a reference to a value the grader sent is out of range")
        return self.known[r]

    def _new_opaque(self, e: dict) -> Any:
        name = e.get("type")
        if not isinstance(name, str) or not name.isidentifier():
            name = "object"
        return _opaque_class(name[:60])()

    def _class(self, e: dict) -> type:
        cls = e.get("cls")
        if not (isinstance(cls, list) and len(cls) == 2 and all(isinstance(c, str) and len(c) < 200 for c in cls)):
            raise ProtocolError("a class name is malformed")
        found = self.resolve_class(cls[0], cls[1])
        if not isinstance(found, type) or issubclass(found, BaseException):
            raise ProtocolError(f"{cls[0]}.{cls[1]} is not an allowed class")
        return found

    def _build_immutable(self, root: int) -> None:
        """Build a tuple-like entry after its items, with an explicit stack (deep nesting is fine)."""
        stack = [root]
        visiting = set()
        while stack:
            i = stack[-1]
            if self._built[i]:
                stack.pop()
                continue
            e = self.entries[i]
            children = [self._index(n) for n in self._items(e) if not (n is None or type(n) in (bool, int, float, str))]
            pending = [c for c in children if not self._built[c]
                       and self.entries[c]["t"] in ("tuple", "frozenset", "nt", "slice")]
            if pending:
                if i in visiting:
                    raise ProtocolError("a tuple contains itself")
                visiting.add(i)
                stack.extend(pending)
                continue
            items = [self.node(n) for n in self._items(e)]
            t = e["t"]
            value: Any
            try:
                if t == "tuple":
                    value = tuple(items)
                elif t == "frozenset":
                    value = frozenset(items)
                elif t == "slice":
                    if len(items) != 3:
                        raise ProtocolError("a slice is malformed")
                    value = slice(*items)
                else:
                    cls = self._class(e)
                    if not (issubclass(cls, tuple) and hasattr(cls, "_fields")):
                        raise ProtocolError(f"{cls.__qualname__} is not a namedtuple")
                    value = tuple.__new__(cls, items)
            except TypeError as exc:
                raise ProtocolError(f"a {t} cannot be built: {exc}") from None
            self.values[i] = value
            self._built[i] = True
            stack.pop()

    def _items(self, e: dict) -> list:
        return self._list(e)

    def _fill(self, i: int, e: dict) -> None:
        t = e["t"]
        try:
            _FILLERS[t](self, i, e, self.values[i])
        except ProtocolError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            raise ProtocolError(f"a {t} cannot be rebuilt: {type(exc).__name__}: {str(exc)[:100]}") from None

    # -- the last pass, one entry type each: fill what the first pass made empty
    def _fill_list(self, i: int, e: dict, value: Any) -> None:
        value.extend(self.node(n) for n in self._list(e))

    def _fill_set(self, i: int, e: dict, value: Any) -> None:
        value.update(self.node(n) for n in self._list(e))

    def _fill_object_array(self, i: int, e: dict, value: Any) -> None:
        items = self._list(e)
        if len(items) != value.size:
            raise ProtocolError("an object array has the wrong number of items")
        flat = value.reshape(-1)
        for k, n in enumerate(items):
            flat[k] = self.node(n)

    def _fill_dict(self, i: int, e: dict, value: Any) -> None:
        keys, vals = self._list(e, "k"), self._list(e, "v")
        if len(keys) != len(vals):
            raise ProtocolError("a dict has more keys than values")
        for k, v in zip(keys, vals):
            value[self.node(k)] = self.node(v)

    def _fill_weakref(self, i: int, e: dict, value: Any) -> None:
        target = self.node(e.get("v"))
        try:
            value = _weakref(target) if target is not None else _dead_weakref()
        except TypeError:
            value = _dead_weakref()
        self.values[i] = value
        self._built[i] = True

    def _fill_generator(self, i: int, e: dict, value: Any) -> None:
        state = self.node(e.get("state"))
        if not isinstance(state, dict):
            raise ProtocolError("a random generator's state is not a dict")
        value.bit_generator.state = state

    def _fill_object(self, i: int, e: dict, value: Any) -> None:
        for name, n in e["state"].items():
            if not (isinstance(name, str) and name.isidentifier() and not name.startswith("__")):
                raise ProtocolError(f"attribute name {str(name)[:40]!r} is not allowed")
            _object_setattr(value, name, self.node(n))


#: How the first pass of :meth:`Decoder.decode` makes each leaf and each empty mutable container.
_LEAF_MAKERS: dict[str, Callable[[Decoder, dict], Any]] = {
    "list": lambda d, e: [],
    "dict": lambda d, e: {},
    "set": lambda d, e: set(),
    "nd": Decoder._new_array,
    "ndo": Decoder._new_object_array,
    "np": Decoder._new_numpy_scalar,
    "dtype": lambda d, e: d._dtype(e.get("v")),
    "complex": Decoder._new_complex,
    "bytes": Decoder._new_bytes,
    "bytearray": Decoder._new_bytes,
    "int": Decoder._new_scalar,
    "float": Decoder._new_scalar,
    "str": Decoder._new_scalar,
    "range": Decoder._new_range,
    "rng": Decoder._new_generator,
    "obj": Decoder._new_object,
    "fn": Decoder._new_function,
    "ref": Decoder._new_reference,
    "opaque": Decoder._new_opaque,
}


#: How the last pass of :meth:`Decoder.decode` fills each mutable entry (in the order decode gives).
_FILLERS: dict[str, Callable[[Decoder, int, dict, Any], None]] = {
    "list": Decoder._fill_list,
    "set": Decoder._fill_set,
    "ndo": Decoder._fill_object_array,
    "dict": Decoder._fill_dict,
    "weakref": Decoder._fill_weakref,
    "rng": Decoder._fill_generator,
    "obj": Decoder._fill_object,
}


def is_plain_function(value: Any) -> bool:
    """A function-like value that a proxy stands for (never sent by value)."""
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                              types.BuiltinMethodType, functools.partial, np.ufunc)) \
        or getattr(type(value), "__grader_callback__", False)
