r"""Gradient checkpointing: trade memory for recomputation in the backward pass.

Backprop needs every layer's input :math:`a_{l-1}` and pre-activation :math:`z_l` when it
reaches layer :math:`l` on the way back: the layer's *cache*. Storing every cache
("store_all") costs memory proportional to depth x batch x width. Checkpointing keeps only
some layer inputs (checkpoints) and re-runs the forward pass from the nearest one when the
backward pass needs the rest.

One cost model for all strategies (:func:`strategy_cost`), for ``n`` layers of equal width:

- memory = arrays of shape (N, width) held at the peak: a checkpoint (a layer input, ``X``
  included) is 1 array, a layer's cache :math:`(z_l, a_l)` is 2;
- extra forwards = layer forward evaluations beyond the ``n`` of one plain forward pass.

The three strategies in that model:

- store_all: :math:`2n + 1` arrays, 0 extra forwards;
- sqrt (k = ceil(sqrt n)): about :math:`3\sqrt n` arrays, n extra (n - k_last with the last segment kept);
- revolve(s): :math:`s + 2` arrays, :func:`revolve_cost` (n, s) extra.

What each does:

- ``"store_all"``: one forward pass, every layer's cache kept.
- ``"sqrt"``: segments of :math:`k = \lceil\sqrt n\rceil` layers; the forward pass keeps
  only the segment inputs; the backward pass re-runs each segment once, caching it, then
  backprops through it (Chen et al. 2016). Keeping the last segment's caches in the forward
  pass instead (``keep_last_segment=True``, what PyTorch's ``checkpoint_sequential`` does)
  saves its re-run at the same peak memory: a design choice.
- ``"revolve"``: Griewank's binomial checkpointing with ``slots`` snapshot slots (the input
  takes one). A slot holds a layer input only; a layer's cache is recorded by re-running the
  layer just before its backward, one layer at a time. Its extra forwards are exactly its
  advances, :func:`revolve_cost` (Griewank & Walther 2000).

Every strategy runs exactly the same floating-point operations as
:meth:`MLP.loss_and_grads` (they are built from :meth:`MLP.layer_forward` and
:meth:`MLP.layer_backward`), so the gradients are identical, bit for bit::

    >>> from backprop_lib import MLP
    >>> net = MLP([4] + [8] * 9 + [3], activation="tanh", init="xavier", seed=0)
    >>> X = np.random.default_rng(0).standard_normal((5, 4)); y = np.array([0, 1, 2, 0, 1])
    >>> loss, grads, stats = grads_with_checkpoints(net, X, y, strategy="revolve", slots=3)
    >>> stats.extra_forwards == revolve_cost(10, 3) == strategy_cost("revolve", 10, 3).extra_forwards
    True

The executor's accounting (``stats.peak_arrays``/``peak_bytes``) counts what a strategy
stores for later: checkpointed layer inputs (``X`` included) and recorded caches
:math:`(z_l, a_l)`, each distinct array once (a linear output layer's :math:`a_L` is
:math:`z_L` itself, so the executor may hold one array fewer than the model). The one
activation being pushed forward and the gradient flowing back exist in every strategy and
are not counted.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, cast

import numpy as np

from .mlp import MLP

__all__ = [
    "segment_backward",
    "STRATEGIES",
    "Action",
    "Schedule",
    "CheckpointStats",
    "StrategyCost",
    "strategy_cost",
    "grads_with_checkpoints",
    "revolve_cost",
    "revolve_repetitions",
    "revolve_cost_dp",
    "revolve_schedule",
    "sqrt_segments",
    "store_all_bytes",
    "measure_memory",
    "measure_strategies",
    "fp16_roundtrip",
    "underflow_fraction",
    "overflow_fraction",
    "loss_scale_window",
    "FP16_MAX",
    "FP16_SMALLEST",
]

STRATEGIES = ("store_all", "sqrt", "revolve")
ACTIONS = ("advance", "snapshot", "restore", "reverse")


# =============================================================================
# the cost model
# =============================================================================


def _check_n(n: Any, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer (number of layers), got {n!r}")
    return int(n)


def _check_slots(slots: Any, n: int) -> int:
    if isinstance(slots, bool) or not isinstance(slots, (int, np.integer)):
        raise ValueError(f"slots must be an integer between 1 and n={n}, got {slots!r}")
    if slots < 1:
        raise ValueError(f"slots must be at least 1 (the input X occupies one slot), got {slots}")
    if slots > n:
        raise ValueError(f"slots must be at most n={n}: with n slots every layer input is already "
                         f"stored, more cannot be used; got slots={slots}")
    return int(slots)


def revolve_repetitions(n: int, slots: int) -> int:
    r"""The repetition number :math:`r`: the smallest integer with :math:`\binom{s+r}{s} \ge n`.

    With ``slots`` :math:`s` and at most :math:`r` advances of any one layer, an optimal
    schedule can reverse up to :math:`\binom{s+r}{s}` layers (Griewank 1992). For fixed
    :math:`s`, :math:`\binom{s+r}{s} \approx (r + \tfrac{s+1}{2})^s / s!`, so :math:`r` grows like
    :math:`(s!\,n)^{1/s}`: the s-th root of the depth.
    """
    n = _check_n(n)
    s = _check_slots(slots, n)
    r = 0
    while math.comb(s + r, s) < n:
        r += 1
    return r


def revolve_cost(n: int, slots: int) -> int:
    r"""Minimal number of forward advances to reverse ``n`` layers with ``slots`` snapshot slots.

    Griewank's model: a snapshot holds one layer input (``X`` takes one slot); reversing
    layer :math:`l` re-runs its forward once while recording its cache and then backprops it.
    Those ``n`` recording re-runs add up to one plain forward pass, so the advances are
    exactly the *extra* forwards of the schedule. With :math:`r` =
    :func:`revolve_repetitions` (the smallest integer such that :math:`\binom{s+r}{s} \ge n`),

    .. math::  \mathrm{cost}(n, s) = r\,n - \binom{s+r}{s+1}

    (Griewank & Walther 2000). E.g. ``revolve_cost(10, 3) == 15``,
    ``revolve_cost(n, 1) == n*(n-1)//2``, ``revolve_cost(n, n) == n - 1``: even with a slot
    for every layer input, the :math:`z_l` are not kept, so each layer below the top is run
    twice (store_all keeps them: 0 extra forwards for :math:`2n + 1` arrays instead of
    :math:`n + 2`).
    """
    n = _check_n(n)
    s = _check_slots(slots, n)
    r = revolve_repetitions(n, s)
    return r * n - math.comb(s + r, s + 1)


def revolve_cost_dp(n: int, slots: int) -> int:
    r"""The same minimum by dynamic programming over the first snapshot position :math:`m`:

    .. math::  F(1, s) = 0,\quad F(n, 1) = \tfrac{n(n-1)}{2},\quad
               F(n, s) = \min_{1 \le m < n}\; m + F(n - m, s - 1) + F(m, s)

    (advance m layers, snapshot, reverse the last n - m with one slot fewer, restore the
    start and reverse the first m). :math:`O(n^2 s)`: for tests and small n.
    """
    n = _check_n(n)
    s = _check_slots(slots, n)
    return _dp(n, s)


@lru_cache(maxsize=None)
def _dp(n: int, s: int) -> int:
    if n == 1:
        return 0
    if s == 1:
        return n * (n - 1) // 2
    return min(m + _dp(n - m, s - 1) + _dp(m, s) for m in range(1, n))


@lru_cache(maxsize=None)
def _cost(n: int, s: int) -> int:
    s = min(s, n)  # extra slots cannot help (the recursion may hand out more than n)
    return revolve_cost(n, s)


# =============================================================================
# schedules
# =============================================================================


@dataclass(frozen=True)
class Action:
    """One step of a checkpointing schedule.

    - ``advance``: run layers ``start+1 .. end`` forward, keeping nothing (state ``start`` -> ``end``);
    - ``snapshot``: store the current state (layer input ``start``) in slot ``slot``;
    - ``restore``: make the state held in slot ``slot`` (state ``start``) the current one;
    - ``reverse``: re-run layer ``end`` from state ``start = end - 1`` while recording it,
      then backprop through it.
    """

    kind: str
    start: int
    end: int
    slot: int | None = None

    def __str__(self) -> str:
        if self.kind == "advance":
            return f"advance {self.start}->{self.end}"
        if self.kind == "reverse":
            return f"reverse layer {self.end}"
        return f"{self.kind} state {self.start} {'to' if self.kind == 'snapshot' else 'from'} slot {self.slot}"


@dataclass
class Schedule:
    """A list of :class:`Action` that reverses ``n`` layers using at most ``slots`` slots."""

    n: int
    slots: int
    actions: list[Action]

    @property
    def advances(self) -> int:
        """Layer forwards spent in ``advance`` actions (the recording re-runs not included)."""
        return sum(a.end - a.start for a in self.actions if a.kind == "advance")

    @property
    def layer_forwards(self) -> int:
        """All layer forwards of the schedule: advances plus one recording re-run per layer."""
        return self.advances + sum(1 for a in self.actions if a.kind == "reverse")

    @property
    def extra_forwards(self) -> int:
        """Layer forwards beyond the n of one plain forward pass (equal to ``advances``)."""
        return self.layer_forwards - self.n

    @property
    def peak_snapshots(self) -> int:
        """Most slots occupied at once (slot 0 holds the input from the start)."""
        return max(len(s) for s in self.occupancy())

    def occupancy(self) -> list[dict[int, int]]:
        """After each action: ``{slot: state}`` of the occupied slots.

        A slot is released once the state it holds can no longer be needed (after the
        layer above that state is reversed) or when it is overwritten.
        """
        held = {0: 0}
        out = []
        for a in self.actions:
            if a.kind == "snapshot":
                held[cast(int, a.slot)] = a.start
            elif a.kind == "reverse":
                held = {k: v for k, v in held.items() if v < a.start or v == 0}
            out.append(dict(held))
        return out

    def timeline(self) -> list[tuple[int, Action]]:
        """(time, action) pairs where time counts layer steps (an advance over m layers takes m)."""
        t, out = 0, []
        for a in self.actions:
            out.append((t, a))
            if a.kind == "advance":
                t += a.end - a.start
            elif a.kind == "reverse":
                t += 1
        return out

    def validate(self) -> None:
        """Raise ValueError unless the schedule is feasible and reverses layers n, n-1, ..., 1."""
        cur, slots, next_rev = 0, {0: 0}, self.n
        for i, a in enumerate(self.actions):
            where = f"action {i} ({a})"
            if a.kind not in ACTIONS:
                raise ValueError(f"{where}: unknown kind, expected one of {ACTIONS}")
            if a.kind == "advance":
                if a.start != cur or not a.start < a.end <= next_rev - 1:
                    raise ValueError(f"{where}: current state is {cur}, layer {next_rev} is next to reverse")
                cur = a.end
            elif a.kind == "snapshot":
                if a.start != cur or a.slot is None or not 0 <= a.slot < self.slots:
                    raise ValueError(f"{where}: must store the current state {cur} in a slot 0..{self.slots - 1}")
                slots[a.slot] = cur
            elif a.kind == "restore":
                holds = slots.get(a.slot) if a.slot is not None else None
                if holds != a.start:
                    raise ValueError(f"{where}: slot {a.slot} holds {holds}")
                cur = a.start
            else:
                if a.end != next_rev or a.start != cur or cur != a.end - 1:
                    raise ValueError(f"{where}: expected to reverse layer {next_rev} from state {next_rev - 1}, "
                                     f"current state is {cur}")
                next_rev -= 1
        if next_rev != 0:
            raise ValueError(f"the schedule stops before reversing layer {next_rev}")

    def __len__(self) -> int:
        return len(self.actions)

    def __iter__(self):
        return iter(self.actions)


def revolve_schedule(n: int, slots: int) -> Schedule:
    """An optimal binomial schedule: ``advances == revolve_cost(n, slots)``, at most ``slots`` slots.

    Built recursively: with the state ``start`` held and ``s`` slots, advance ``m`` layers to
    an optimal split point (one where ``m + cost(n-m, s-1) + cost(m, s) == cost(n, s)``),
    snapshot, reverse the upper part with ``s-1`` slots, restore ``start``, reverse the lower
    part with ``s`` slots. With one slot, every layer is reached again from ``start``.
    """
    n = _check_n(n)
    s = _check_slots(slots, n)
    actions: list[Action] = []
    cur = [0]

    def restore(state: int, slot: int) -> None:
        if cur[0] != state:
            actions.append(Action("restore", state, state, slot))
            cur[0] = state

    def advance(to: int) -> None:
        if to > cur[0]:
            actions.append(Action("advance", cur[0], to))
            cur[0] = to

    def reverse(layer: int) -> None:
        actions.append(Action("reverse", layer - 1, layer))
        cur[0] = layer - 1

    # explicit stack instead of recursion: (start, end, slots available, slot index of start)
    stack: list[tuple[int, int, int, int]] = [(0, n, s, 0)]
    while stack:
        start, end, k, base = stack.pop()
        length = end - start
        restore(start, base)
        if length == 1:
            reverse(end)
            continue
        if k == 1:
            for layer in range(end, start, -1):
                restore(start, base)
                advance(layer - 1)
                reverse(layer)
            continue
        best = _cost(length, k)
        m = next(m for m in range(1, length)
                 if m + _cost(length - m, k - 1) + _cost(m, k) == best)
        advance(start + m)
        actions.append(Action("snapshot", start + m, start + m, base + 1))
        stack.append((start, start + m, k, base))          # second: the lower part
        stack.append((start + m, end, k - 1, base + 1))     # first: the upper part
    return Schedule(n, s, actions)


def sqrt_segments(n: int, length: int | None = None) -> list[int]:
    r"""Segment boundaries ``[0, k, 2k, ..., n]`` with :math:`k = \lceil\sqrt n\rceil` (or ``length``).

    Segment ``i`` is layers ``bounds[i]+1 .. bounds[i+1]``; its input state ``bounds[i]`` is
    the checkpoint kept by the forward pass. ``sqrt_segments(10) == [0, 4, 8, 10]``.
    """
    n = _check_n(n)
    k = math.isqrt(n - 1) + 1 if length is None else _check_n(length, "length")
    if k > n:
        raise ValueError(f"length must be at most n={n}, got {k}")
    return list(range(0, n, k)) + [n]


def segment_backward(net: MLP, a_start: np.ndarray, start: int, end: int, da_end: np.ndarray):
    r"""Recompute layers ``start+1..end`` from their checkpoint ``a_start``, then backprop through them.

    ``da_end`` is :math:`\partial L/\partial a_{end}`. Returns ``(da_start, grads)`` with
    ``grads = {"W<l>": ..., "b<l>": ...}`` for the segment's layers: one step of the
    backward pass of :math:`\sqrt n` checkpointing (bitwise what store-all computes).
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib.mlp.MLP, got {type(net).__name__}")
    if not (0 <= start < end <= net.n_layers):
        raise ValueError(f"need 0 <= start < end <= {net.n_layers}, got start={start}, end={end}")
    inputs, zs = {}, {}
    a = a_start
    for l in range(start + 1, end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads: dict[str, np.ndarray] = {}
    da = da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l], need_input_grad=True)
    return da, grads


def store_all_bytes(sizes, batch: int, itemsize: int = 8) -> int:
    r"""Bytes store-all backprop keeps: :math:`N\,b\,(n_0 + 2\sum_{l=1}^{L} n_l)`.

    ``X`` (N, n_0) plus :math:`z_l` and :math:`a_l` (N, n_l) for every layer, with ``itemsize``
    bytes per number (8 for float64, 4 for float32, 2 for float16). The library's MLP shares
    :math:`a_L = z_L` for a linear output layer, so it holds :math:`N n_L b` bytes less.
    """
    sizes = [_check_n(v, f"sizes[{i}]") for i, v in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least two layer widths, got {sizes}")
    batch = _check_n(batch, "batch")
    itemsize = _check_n(itemsize, "itemsize")
    return batch * itemsize * (sizes[0] + 2 * sum(sizes[1:]))


@dataclass(frozen=True)
class StrategyCost:
    """The cost model of one strategy: ``arrays`` held at the peak, ``extra_forwards``."""

    strategy: str
    n: int
    arrays: int
    extra_forwards: int


def strategy_cost(strategy: str, n: int, slots: int | None = None, *, keep_last_segment: bool = False,
                  segment_length: int | None = None) -> StrategyCost:
    r"""Memory and recomputation of a strategy on ``n`` layers of equal width: one model for all.

    ``arrays``: arrays of shape (N, width) held at the peak, a checkpoint (layer input, ``X``
    included) counting 1 and a layer's cache :math:`(z_l, a_l)` counting 2.
    ``extra_forwards``: layer forwards beyond the ``n`` of one plain forward pass.

    - store_all: :math:`2n + 1` arrays, 0 extra;
    - sqrt: segment ``i`` (from the bottom) is backpropagated while checkpoints ``0..i`` and its
      own caches are held, so arrays = :math:`\max_i\,(i + 1 + 2 k_i)`, about :math:`3\sqrt n`;
      every segment is re-run once: n extra (``n - k_last`` with ``keep_last_segment``, same peak);
    - revolve: ``slots`` checkpoints plus the one cache being reversed, :math:`s + 2` arrays;
      :func:`revolve_cost` extra (its advances).

    ``strategy_cost("revolve", 64, 64)`` is 66 arrays and 63 extra forwards, not store_all's
    129 arrays and 0: revolve's slots hold layer inputs, not the :math:`z_l`.
    """
    n = _check_n(n)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {list(STRATEGIES)}")
    if strategy != "revolve" and slots is not None:
        raise ValueError(f"slots is only used by strategy='revolve', got slots={slots!r} with strategy={strategy!r}")
    if strategy != "sqrt" and (keep_last_segment or segment_length is not None):
        raise ValueError(f"keep_last_segment and segment_length are only used by strategy='sqrt', "
                         f"got strategy={strategy!r}")
    if strategy == "store_all":
        return StrategyCost(strategy, n, 2 * n + 1, 0)
    if strategy == "sqrt":
        bounds = sqrt_segments(n, segment_length)
        lengths = [e - b for b, e in zip(bounds[:-1], bounds[1:])]
        arrays = max(i + 1 + 2 * k for i, k in enumerate(lengths))
        return StrategyCost(strategy, n, arrays, n - (lengths[-1] if keep_last_segment else 0))
    if slots is None:
        raise ValueError(f"strategy='revolve' needs slots (an integer between 1 and n={n})")
    s = _check_slots(slots, n)
    return StrategyCost(strategy, n, s + 2, revolve_cost(n, s))


# =============================================================================
# the executor
# =============================================================================


@dataclass
class CheckpointStats:
    """What one checkpointed gradient computation did.

    ``layer_forwards``: every layer forward evaluation, first pass included
    (``extra_forwards`` = ``layer_forwards - n_layers``).
    ``peak_arrays``: most stored arrays held at once, each distinct array counted once: a
    checkpointed layer input (``X`` included) is 1, a recorded cache :math:`(z_l, a_l)` is 2
    (1 for a linear output layer, whose :math:`a_L` is :math:`z_L`).
    ``peak_bytes``: the largest total size of the stored arrays at any moment (each array
    counted once).
    ``peak_snapshots``: most checkpointed layer inputs held at once (``X`` included).
    """

    strategy: str
    n_layers: int
    layer_forwards: int = 0
    layer_backwards: int = 0
    peak_arrays: int = 0
    peak_bytes: int = 0
    peak_snapshots: int = 0
    slots: int | None = None
    schedule: Schedule | None = None
    segments: list[int] | None = None
    keep_last_segment: bool = False

    @property
    def extra_forwards(self) -> int:
        """Layer forwards beyond the n of one plain forward pass."""
        return self.layer_forwards - self.n_layers


class _Held:
    """The stored arrays: checkpoints ("state", i) and layer caches ("tape", l).

    Keeps running totals (an array stored under two keys, e.g. a linear output's
    ``a_L`` that is ``z_L``, is counted once), so bookkeeping costs O(1) per operation.
    """

    def __init__(self, stats: CheckpointStats):
        self.items: dict[tuple[str, int], tuple[np.ndarray, ...]] = {}
        self.refs: dict[int, list[int]] = {}  # id(array) -> [references, nbytes]
        self.bytes = 0
        self.states = 0
        self.stats = stats

    def put(self, key: tuple[str, int], *arrays: np.ndarray) -> None:
        self.drop(key)
        self.items[key] = arrays
        self.states += key[0] == "state"
        for a in arrays:
            entry = self.refs.setdefault(id(a), [0, a.nbytes])
            if entry[0] == 0:
                self.bytes += a.nbytes
            entry[0] += 1
        st = self.stats
        st.peak_arrays = max(st.peak_arrays, len(self.refs))
        st.peak_bytes = max(st.peak_bytes, self.bytes)
        st.peak_snapshots = max(st.peak_snapshots, self.states)

    def drop(self, key: tuple[str, int]) -> None:
        arrays = self.items.pop(key, None)
        if arrays is None:
            return
        self.states -= key[0] == "state"
        for a in arrays:
            entry = self.refs[id(a)]
            entry[0] -= 1
            if entry[0] == 0:
                self.bytes -= entry[1]
                del self.refs[id(a)]

    def get(self, key: tuple[str, int]) -> tuple[np.ndarray, ...]:
        return self.items[key]


class _Tape:
    """What every strategy shares: counted layer calls, the stored arrays and the gradients.

    ``checkpoint(i, a)`` keeps layer input ``a_i``; ``run(start, end, a)`` runs layers
    start+1..end, recording each cache :math:`(z_l, a_l)` when asked; ``loss(a_n)`` starts the
    gradient ``da`` flowing back; ``backprop(start, end, a_start)`` carries it through the
    recorded layers end..start+1, dropping each cache as soon as it is used. The tape holds
    ``da`` itself and no Python reference outlives a call, so what is alive is what ``_Held``
    counts (and what tracemalloc measures).
    """

    def __init__(self, net: MLP, y, loss: str, stats: CheckpointStats, out: dict[str, np.ndarray] | None):
        self.net, self.y, self.loss_name, self.stats, self.out = net, y, loss, stats, out
        self.n = net.n_layers
        self.held = _Held(stats)
        self.grads: dict[str, np.ndarray] = {}
        self.value = float("nan")
        self.da: np.ndarray | None = None  # dL/da_l at the layer the backward pass has reached

    # stored arrays
    def checkpoint(self, i: int, a: np.ndarray) -> None:
        self.held.put(("state", i), a)

    def checkpointed(self, i: int) -> np.ndarray:
        return self.held.get(("state", i))[0]

    def release(self, i: int) -> None:
        self.held.drop(("state", i))

    # counted computation
    def run(self, start: int, end: int, a: np.ndarray, record: bool) -> np.ndarray:
        for l in range(start + 1, end + 1):
            self.stats.layer_forwards += 1
            z, a = self.net.layer_forward(l, a)
            if record:
                self.held.put(("tape", l), z, a)
        return a

    def loss(self, output: np.ndarray) -> None:
        """The loss of the network's output; the backward pass starts from dL/da_n."""
        self.value, self.da = self.net._output_loss(output, self.y, self.loss_name)

    def backprop(self, start: int, end: int, a_start: np.ndarray) -> None:
        for l in range(end, start, -1):
            a_prev = self.held.get(("tape", l - 1))[1] if l > start + 1 else a_start
            self.stats.layer_backwards += 1
            da = cast(np.ndarray, self.da)  # set by loss() before the first layer
            self.da, dW, db = self.net.layer_backward(l, da, a_prev, self.held.get(("tape", l))[0],
                                                      need_input_grad=l > 1)[:3]
            del da
            self.held.drop(("tape", l))
            if self.out is None:
                self.grads[f"W{l}"], self.grads[f"b{l}"] = dW, db
            else:
                self.out[f"W{l}"][...] = dW
                self.out[f"b{l}"][...] = db

    def result(self) -> dict[str, np.ndarray]:
        for key in list(self.held.items):
            self.held.drop(key)
        return self.out if self.out is not None else {k: self.grads[k] for k in self.net.params}


def _store_all(tape: _Tape, X: np.ndarray) -> None:
    """One forward pass recording every cache, then the whole backward pass."""
    tape.loss(tape.run(0, tape.n, X, record=True))
    tape.backprop(0, tape.n, X)


def _sqrt(tape: _Tape, X: np.ndarray, segment_length: int | None, keep_last_segment: bool) -> None:
    """Keep only the segment inputs; re-run each segment, recording it, just before its backward."""
    bounds = sqrt_segments(tape.n, segment_length)
    tape.stats.segments = bounds
    segments = list(zip(bounds[:-1], bounds[1:]))
    top = len(segments) - 1
    a = X
    for i, (start, end) in enumerate(segments):
        tape.checkpoint(start, a)
        a = tape.run(start, end, a, record=keep_last_segment and i == top)
    tape.loss(a)
    del a  # from here on only the checkpoints (and a kept top segment) are alive
    for i in range(top, -1, -1):
        start, end = segments[i]
        if not (keep_last_segment and i == top):
            tape.run(start, end, tape.checkpointed(start), record=True)
        tape.backprop(start, end, tape.checkpointed(start))
        if start > 0:
            tape.release(start)


def _revolve(tape: _Tape, X: np.ndarray, slots: int) -> None:
    """Follow Griewank's binomial schedule: advance, snapshot, restore, and reverse one layer at a time."""
    schedule = revolve_schedule(tape.n, slots)
    tape.stats.schedule = schedule
    in_slot = {0: 0}  # slot -> index of the layer input it holds
    a = X
    for act in schedule:
        if act.kind == "advance":
            a = tape.run(act.start, act.end, a, record=False)
        elif act.kind == "snapshot":
            slot = cast(int, act.slot)  # a snapshot always names its slot
            if in_slot.get(slot, act.start) != act.start:
                tape.release(in_slot[slot])
            in_slot[slot] = act.start
            tape.checkpoint(act.start, a)
        elif act.kind == "restore":
            a = tape.checkpointed(act.start)
        else:  # reverse layer l: record its cache from its input a, then backprop through it
            l = act.end
            output = tape.run(l - 1, l, a, record=True)
            if l == tape.n:
                tape.loss(output)
            del output
            tape.backprop(l - 1, l, a)
            for slot, state in list(in_slot.items()):  # inputs >= l-1 are never needed again
                if state >= l - 1 and state > 0:
                    tape.release(state)
                    del in_slot[slot]


def _check_options(strategy: str, n: int, slots, segment_length, keep_last_segment) -> int | None:
    """Validate the strategy's options; returns ``slots`` (checked for "revolve", else None)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {list(STRATEGIES)}")
    if strategy != "revolve" and slots is not None:
        raise ValueError(f"slots is only used by strategy='revolve', got slots={slots!r} with strategy={strategy!r}")
    if segment_length is not None and strategy != "sqrt":
        raise ValueError(f"segment_length is only used by strategy='sqrt', got strategy={strategy!r}")
    if not isinstance(keep_last_segment, (bool, np.bool_)):
        raise ValueError(f"keep_last_segment must be True or False, got {keep_last_segment!r}")
    if keep_last_segment and strategy != "sqrt":
        raise ValueError(f"keep_last_segment is only used by strategy='sqrt', got strategy={strategy!r}")
    if strategy != "revolve":
        return None
    if slots is None:
        raise ValueError(f"strategy='revolve' needs slots (an integer between 1 and n={n})")
    return _check_slots(slots, n)


def _validate_out(out, net: MLP):
    if out is None:
        return None
    if not isinstance(out, dict) or set(out) != set(net.params):
        raise ValueError(f"out must be a dict with the keys {list(net.params)}, got "
                         f"{sorted(out) if isinstance(out, dict) else type(out).__name__}")
    for k, p in net.params.items():
        o = out[k]
        if not isinstance(o, np.ndarray) or o.shape != p.shape or o.dtype != p.dtype:
            raise ValueError(f"out[{k!r}] must be an array of shape {p.shape} and dtype {p.dtype}, got "
                             f"{getattr(o, 'shape', type(o).__name__)} {getattr(o, 'dtype', '')}")
    return out


def grads_with_checkpoints(net: MLP, X, y, strategy: str = "sqrt", slots: int | None = None, *,
                           loss: str = "cross_entropy", segment_length: int | None = None,
                           keep_last_segment: bool = False, out: dict[str, np.ndarray] | None = None):
    """Loss and gradients of ``net`` on ``(X, y)``, computed under a checkpointing strategy.

    Parameters
    ----------
    net : MLP
    X : (N, n_0) array;  y : as for :meth:`MLP.loss_and_grads` with the same ``loss``.
    strategy : "store_all" | "sqrt" | "revolve"
    slots : int, required for "revolve" only: snapshot slots in 1..n (``X`` takes one).
    segment_length : int, "sqrt" only: layers per segment (default :math:`\\lceil\\sqrt n\\rceil`).
    keep_last_segment : bool, "sqrt" only. False (default): the forward pass keeps only the
        segment inputs and the backward pass re-runs every segment, the last one too (2n layer
        forwards). True: the forward pass records the last segment's caches, which the backward
        pass uses at once (2n - k_last forwards, the same peak memory), as PyTorch's
        ``checkpoint_sequential`` does.
    out : dict of preallocated gradient arrays (keys and shapes of ``net.params``), optional.
        The gradients are written into them (like a framework's ``.grad`` buffers), so a
        memory measurement of the call sees the activations, not the new gradient arrays.

    Returns
    -------
    (loss, grads, stats): ``loss`` and ``grads`` equal ``net.loss_and_grads(X, y, loss)``
    bit for bit; ``stats`` is a :class:`CheckpointStats`.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib.mlp.MLP, got {type(net).__name__}")
    slots = _check_options(strategy, net.n_layers, slots, segment_length, keep_last_segment)
    X, y, loss_name = net.check_batch(X, y, loss)
    stats = CheckpointStats(strategy, net.n_layers, slots=slots, keep_last_segment=bool(keep_last_segment))
    tape = _Tape(net, y, loss_name, stats, _validate_out(out, net))
    tape.checkpoint(0, X)
    if strategy == "store_all":
        _store_all(tape, X)
    elif strategy == "sqrt":
        _sqrt(tape, X, segment_length, bool(keep_last_segment))
    else:
        _revolve(tape, X, slots)  # type: ignore[arg-type]  # checked by _check_options
    grads = tape.result()
    return tape.value, grads, stats


# =============================================================================
# measuring
# =============================================================================


def measure_memory(fn: Callable[..., Any], *args: Any, repeat: int = 1, **kwargs: Any):
    """Run ``fn(*args, **kwargs)`` under ``tracemalloc``: ``(result, peak_bytes, seconds)``.

    ``peak_bytes`` is the peak of Python and numpy allocations made during the call above
    what was allocated before it. ``seconds`` is the best of ``repeat`` untraced runs
    (tracing slows Python down, so time is measured separately), in CPU time of this process
    (:func:`time.process_time`): other programs on a shared machine do not inflate it. Limit
    BLAS to one thread (``threadpoolctl.threadpool_limits(1)``) so that it equals wall time.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn(*args, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was_tracing:
            tracemalloc.stop()
    best = math.inf
    for _ in range(max(1, repeat)):
        t0 = time.process_time()
        fn(*args, **kwargs)
        best = min(best, time.process_time() - t0)
    return result, int(peak), best


def measure_strategies(depths, *, width: int = 32, batch: int = 256, classes: int = 10, slots: int = 4,
                       seed: int = 0, repeat: int = 5) -> dict:
    """Memory and time of store_all, sqrt and revolve(``slots``) for ReLU nets of each depth.

    For each depth ``n`` in ``depths``: an ``MLP([width] * n + [classes], activation="relu",
    seed=seed)`` on a batch of ``batch`` standard-normal rows with random labels (both from
    ``seed``), gradients written into preallocated buffers (``out=``, like a framework's
    ``.grad``), so the memory is the activations and temporaries. Returns
    ``{"depths": [...], "traced": {name: [bytes]}, "counted": {...}, "seconds": {...},
    "forwards": {...}}`` with names "store_all", "sqrt", "revolve": ``traced`` is the
    :func:`measure_memory` peak, ``counted`` the executor's ``peak_bytes``, ``seconds`` the
    best of ``repeat`` untraced runs. Run it under ``threadpool_limits(1)`` for fair timings.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, width))
    y = rng.integers(0, classes, batch)
    runs = {"store_all": None, "sqrt": None, "revolve": slots}
    result: dict = {"depths": list(depths), "slots": slots}
    for key in ("traced", "counted", "seconds", "forwards"):
        result[key] = {name: [] for name in runs}
    for n in depths:
        net = MLP([width] * n + [classes], activation="relu", seed=seed)
        out = {k: np.empty_like(v) for k, v in net.params.items()}
        for name, s in runs.items():
            (_, _, st), peak, sec = measure_memory(grads_with_checkpoints, net, X, y, name, s, out=out, repeat=repeat)
            result["traced"][name].append(peak)
            result["counted"][name].append(st.peak_bytes)
            result["seconds"][name].append(sec)
            result["forwards"][name].append(st.layer_forwards)
    return result


# =============================================================================
# mixed precision: the other memory lever
# =============================================================================


FP16_MAX = float(np.finfo(np.float16).max)  # 65504
FP16_SMALLEST = 2.0 ** -24                     # smallest positive subnormal, about 5.96e-8


def _check_scale(loss_scale: Any) -> float:
    if isinstance(loss_scale, bool) or not (isinstance(loss_scale, (int, float, np.integer, np.floating))
                                            and loss_scale > 0 and np.isfinite(loss_scale)):
        raise ValueError(f"loss_scale must be a positive finite number, got {loss_scale!r}")
    return float(loss_scale)


def fp16_roundtrip(x, loss_scale: float = 1.0) -> np.ndarray:
    r"""Store ``x`` in float16 with loss scaling and read it back in float64.

    .. math::  \hat x = \mathrm{fp16}(S\,x) / S

    With ``loss_scale`` :math:`S = 1`, magnitudes up to :math:`2^{-25} \approx 3 \times 10^{-8}`
    (half the smallest float16 subnormal, :math:`2^{-24} \approx 6 \times 10^{-8}`) round to 0
    (underflow). Scaling the loss by :math:`S` scales every gradient by :math:`S` (backprop is
    linear in the upstream gradient), lifting small gradients into float16's range; dividing by
    :math:`S` in float64 undoes it. Scaled magnitudes of 65520 and more (65504 is float16's
    largest number) round to inf (overflow).
    """
    x = np.asarray(x, dtype=np.float64)
    loss_scale = _check_scale(loss_scale)
    with np.errstate(over="ignore"):
        return (x * loss_scale).astype(np.float16).astype(np.float64) / loss_scale


def underflow_fraction(x, loss_scale: float = 1.0) -> float:
    """Fraction of the nonzero entries of ``x`` that become 0 in :func:`fp16_roundtrip`."""
    x = np.asarray(x, dtype=np.float64)
    nz = x != 0
    if not nz.any():
        return 0.0
    return float(np.mean(fp16_roundtrip(x[nz], loss_scale) == 0))


def overflow_fraction(x, loss_scale: float = 1.0) -> float:
    """Fraction of the finite entries of ``x`` that become +-inf in :func:`fp16_roundtrip`."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.any():
        return 0.0
    return float(np.mean(np.isinf(fp16_roundtrip(x[finite], loss_scale))))


def loss_scale_window(arrays, scales) -> tuple[float, float] | None:
    r"""The usable loss scales among ``scales``: ``(lowest, highest)`` or None.

    A scale is usable when no nonzero entry of any array in ``arrays`` (a dict or a list of
    gradient arrays) underflows to 0 and none overflows to inf in :func:`fp16_roundtrip`:
    one loss scale serves the whole network, so every layer's gradients must fit. Both
    fractions are measured (:func:`underflow_fraction`, :func:`overflow_fraction`), not
    predicted; they agree with the bounds :math:`2^{-25}/\min|g| < S` and
    :math:`S\,\max|g| < 65520`.
    """
    arrays = list(arrays.values()) if isinstance(arrays, dict) else list(arrays)
    if not arrays:
        raise ValueError("arrays must hold at least one gradient array")
    scales = [_check_scale(S) for S in scales]
    usable = [S for S in sorted(scales)
              if all(underflow_fraction(g, S) == 0 and overflow_fraction(g, S) == 0 for g in arrays)]
    return (usable[0], usable[-1]) if usable else None
