"""Checks for exercises/05_checkpointing.ipynb (gradient checkpointing).

Every reference value comes from :mod:`backprop_lib.checkpoint` or from the MLP's own
``layer_forward``/``layer_backward``/``loss_and_grads``.

Several checks run the learner's function on every case first and then look for the one
mistake that explains *all* of its answers (a wrong derivation gives wrong values in a
pattern, and one case alone can match two different mistakes by coincidence); only when no
listed mistake explains them all does a check fall back to the first wrong case.
"""

from __future__ import annotations

import inspect
import math
import re
import types
import weakref
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from ..checkpoint import (
    grads_with_checkpoints,
    measure_memory,
    revolve_cost,
    revolve_cost_dp,
    revolve_repetitions,
    revolve_schedule,
    segment_backward,
    sqrt_segments,
    store_all_bytes,
    strategy_cost,
)
from ..mlp import MLP
from ._core import Mistake, _is_learner_frame, call, expect_array, expect_close, expect_scalar, fail, task

__all__ = [
    "check_ckpt_store_all_bytes",
    "check_ckpt_segment_bounds",
    "check_ckpt_segment_backward",
    "check_ckpt_checkpointed_grads",
    "check_ckpt_binomial_cost",
    "check_ckpt_fewest_slots",
]


# ----------------------------------------------------------------------------- shared helpers


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _as_number(value: Any) -> float | None:
    """The value as a float when it is a real number (a size-1 array too), else None."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(())[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def _same_number(out: Any, want: Any) -> bool:
    if want is None or out is None:
        return want is None and out is None
    got = _as_number(out)
    return got is not None and math.isclose(got, float(want), rel_tol=1e-12, abs_tol=1e-9)


def _explained(outs: Sequence[Any], hypotheses: Sequence[tuple[str, Sequence[Any]]], same=_same_number) -> list[str]:
    """The hints whose predicted values (one list per hint, one entry per case: a value or a
    tuple of alternative values) match every one of the learner's answers."""
    hints: list[str] = []
    for hint, values in hypotheses:
        if hint in hints:
            continue
        ok = True
        for out, want in zip(outs, values):
            options = want if isinstance(want, tuple) else (want,)
            if not any(same(out, w) for w in options):
                ok = False
                break
        if ok:
            hints.append(hint)
    return hints


def _one_of(hints: Sequence[str]) -> str:
    if len(hints) == 1:
        return hints[0]
    return ("these mistakes all give exactly your numbers, so it is one of them: "
            + "; or ".join(f"({i + 1}) {h}" for i, h in enumerate(hints)))


def _learner_codes(func: Any, depth: int = 0, seen: set | None = None) -> list[types.CodeType]:
    """The code objects of ``func``: its own, nested ones, and those of the learner's global
    functions it calls (not the library's)."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func) if callable(func) else func
    code = getattr(func, "__code__", None)
    if code is None or code in seen or depth > 3:
        return []
    out: list[types.CodeType] = []
    stack = [code]
    while stack:
        c = stack.pop()
        if c in seen:
            continue
        seen.add(c)
        out.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    glob = getattr(func, "__globals__", {})
    for c in list(out):
        for name in c.co_names:
            other = glob.get(name)
            other_code = getattr(inspect.unwrap(other), "__code__", None) if callable(other) else None
            if other_code is not None and _is_learner_frame(other_code.co_filename) and other is not func:
                out.extend(_learner_codes(other, depth + 1, seen))
    return out


def _recursive(func: Any) -> bool:
    """Does the learner's function (or a helper it defines or calls) call itself by name?"""
    codes = _learner_codes(func)
    names = {c.co_name for c in codes if not c.co_name.startswith("<")}
    names.add(getattr(func, "__name__", ""))
    return any(name in c.co_names or name in c.co_freevars for c in codes for name in names)


# ----------------------------------------------------------------------------- 1. memory of store-all

_BYTES_CASES = [
    ([784, 128, 10], 64, 8),
    ([10, 20, 30, 5], 7, 4),
    ([3, 3], 1, 2),
    ([100] * 9, 32, 2),
    ([5, 50, 7], 3, 8),
    ([12, 40, 40, 40, 3], 16, 4),
    ([4096] * 49, 16384, 2),  # the lecture's 48-layer MLP: about 6.4 GiB, more than a 32-bit int holds
]

_EQUAL_WIDTHS = ("the cost model's 2n + 1 arrays hold for equal widths only; here every kept array is N x n_l, its "
                 "own layer's width: add up the layers one by one")


def _bytes_hypotheses(sizes, N, B) -> list[tuple[str, Any]]:
    n0, H, nL, L = sizes[0], sum(sizes[1:]), sizes[-1], len(sizes) - 1
    ref = N * B * (n0 + 2 * H)
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return [
        ("you forgot the input X = a_0 (N x n_0): the first layer's backward needs it for dL/dW_1", N * B * 2 * H),
        ("each layer's cache is TWO arrays, z_l (for f'(z_l)) and a_l (the next layer's input): you counted one "
         "per layer", N * B * (n0 + H)),
        ("you left out a_L, the output layer's activation: store-all keeps every layer's whole cache (z_l, a_l), "
         "the last layer's too", ref - N * B * nL),
        ("you left out the output layer: its z_L and a_L (sizes[-1] wide) are kept too; the layers are "
         "l = 1..L with L = len(sizes) - 1", N * B * (n0 + 2 * (H - nL))),
        ("the input has no pre-activation: keep X once (1 array of width n_0), z_l and a_l only for the "
         "layers l = 1..L", N * B * 2 * (n0 + H)),
        ("that counts numbers, not bytes: multiply by itemsize (bytes per number)", N * (n0 + 2 * H)),
        ("every kept array has one row per example: multiply by the batch size N", B * (n0 + 2 * H)),
        ("that is bits, not bytes: itemsize is already in bytes, do not multiply by 8", 8 * ref),
        ("you used 8 bytes per number whatever `itemsize` says: multiply by the itemsize argument (4 for "
         "float32, 2 for float16)", N * 8 * (n0 + 2 * H)),
        ("you added the parameters W_l and b_l: they are held with or without backprop; count only the "
         "activations store-all keeps for the backward pass", ref + B * params),
        ("you counted the parameters W_l and b_l; store-all keeps ACTIVATIONS, X and each layer's (z_l, a_l), "
         "N x n_l numbers each (the parameters are held with or without backprop)", B * params),
        ("you counted the weight matrices W_l (n_l x n_(l-1) numbers); store-all keeps ACTIVATIONS, X and each "
         "layer's (z_l, a_l), N x n_l numbers each", B * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))),
        ("you also counted a gradient per layer: the gradients flow back one layer at a time and are not kept; "
         "the cache is z_l and a_l", N * B * (n0 + 3 * H)),
        (_EQUAL_WIDTHS, (N * B * (2 * L + 1) * n0, N * B * (2 * L + 1) * max(sizes), N * B * (2 * L + 1) * nL)),
        ("integer overflow: the count passed 2**31 and wrapped around in a 32-bit numpy integer; compute with "
         "Python ints (sum(...), not np.sum of an int32 array)", (ref + 2**31) % 2**32 - 2**31),
    ]


@task("ckpt_store_all_bytes", points=1,
      references=[store_all_bytes, strategy_cost, grads_with_checkpoints, measure_memory,
                  MLP.forward_trace, MLP.backprop])
def check_ckpt_store_all_bytes(fn):
    outs, refs, whats = [], [], []
    for sizes, batch, itemsize in _BYTES_CASES:
        what = f"store_all_memory({sizes if len(sizes) < 10 else f'[{sizes[0]}] * {len(sizes)}'}, {batch}, {itemsize})"
        out = call(fn, list(sizes), batch, itemsize)
        ref = store_all_bytes(sizes, batch, itemsize)
        if _as_number(out) is None:
            expect_scalar(out, ref, what)  # None, a tuple, a string...: the framework's message
        outs.append(out)
        refs.append(ref)
        whats.append(what)
    wrong = [i for i, (o, r) in enumerate(zip(outs, refs)) if not _same_number(o, r)]
    if wrong:
        hyps = [(hint, [_bytes_hypotheses(*case)[k][1] for case in _BYTES_CASES])
                for k, (hint, _) in enumerate(_bytes_hypotheses(*_BYTES_CASES[0]))]
        hints = _explained(outs, hyps)
        i = wrong[0]
        if hints:
            fail(f"{whats[i]} = {outs[i]!r}, expected {refs[i]}: {_one_of(hints)}.")
        expect_scalar(outs[i], refs[i], whats[i], rtol=1e-12, atol=0,
                      mistakes=dict((h, v[0] if isinstance(v, tuple) else v)
                                    for h, v in _bytes_hypotheses(*_BYTES_CASES[i])))
    for out, what in zip(outs, whats):
        if not _is_int(out):
            fail(f"{what} returned {out!r} ({type(out).__name__}): the value is right, but a number of bytes is "
                 f"whole, so return an int: `/` always gives a float, use integer arithmetic (or int(...)).")
    return f"the bytes of X and every layer's (z_l, a_l), as an int, on {len(_BYTES_CASES)} networks"


# ----------------------------------------------------------------------------- 2. segment boundaries

_BOUND_NS = (16, 10, 1, 2, 5, 7, 12, 13, 17, 50, 64, 99, 101)


def _ceil_k(n: int) -> int:
    return math.isqrt(n - 1) + 1


def _bounds(n: int, k: int) -> list[int]:
    return list(range(0, n, k)) + [n]


def _segments_hypotheses(n: int) -> dict[str, list[int] | None]:
    """What typical wrong versions return for ``n`` (None when that version would fail)."""
    k = _ceil_k(n)
    m = k  # the learner who fixes the number of segments at ceil(sqrt(n))
    out: dict[str, list[int] | None] = {
        "floor": _bounds(n, max(1, math.isqrt(n))),
        "round": _bounds(n, max(1, round(math.sqrt(n)))),
        "count_ceil": _bounds(n, -(-n // m)),
        "count_floor": _bounds(n, max(1, n // m)),
        "balanced": [int(v) for v in np.linspace(0, n, m + 1).astype(int)],
        "array_split": [0] + list(np.cumsum([len(p) for p in np.array_split(np.arange(n), m)]).astype(int)),
        "no_end": list(range(0, n, k)),
        "range_n1": list(range(0, n + 1, k)),
        "end_twice": list(range(0, n + 1, k)) + [n],
        "short_first": [0] + list(range(n % k, n + 1, k)) if n % k else _bounds(n, k),
        "no_start": list(range(k, n, k)) + [n],
        "lengths": [k] * (n // k) + ([n % k] if n % k else []),
        "floor_plus_one": _bounds(n, math.isqrt(n) + 1),
    }
    return out


def _segments_hint(name: str, n: int, got: list[int]) -> str:
    """The hint for the wrong pattern ``name`` of :func:`_segments_hypotheses`, on ``n``'s example."""
    return f"segment_boundaries({n}) = {got}, expected {_bounds(n, _ceil_k(n))}: " + _SEGMENT_HINTS[name](n, _ceil_k(n))


def _square_example(n: int) -> str:
    return f"{math.isqrt(n) ** 2 if math.isqrt(n) ** 2 == n else 'a square such as 16'}"


def _count_not_length(n: int, k: int) -> str:
    return (f"you fixed the NUMBER of segments at ceil(sqrt(n)) = {k} and derived their length from "
            f"it; the task fixes the LENGTH, k = ceil(sqrt(n)) = {k} layers per segment, and the number of "
            f"segments follows (ceil(n / k) = {-(-n // k)}, the last one shorter when k does not divide n)")


#: The hint (after "segment_boundaries(n) = got, expected ...: ") for each wrong pattern, given n and k.
_SEGMENT_HINTS: dict[str, Callable[[int, int], str]] = {
    "floor": lambda n, k: (
        f"you used k = floor(sqrt(n)) = {max(1, math.isqrt(n))} (int(math.sqrt(n)) rounds down); "
        f"the task asks for k = ceil(sqrt(n)) = {k}: math.ceil(math.sqrt(n)) or math.isqrt(n - 1) + 1"),
    "round": lambda n, k: (
        f"you rounded sqrt(n) to the nearest integer ({round(math.sqrt(n))}); the task asks for "
        f"k = ceil(sqrt(n)) = {k}, always rounded up: math.ceil(math.sqrt(n))"),
    "count_ceil": _count_not_length,
    "count_floor": _count_not_length,
    "balanced": _count_not_length,
    "array_split": _count_not_length,
    "no_end": lambda n, k: (
        f"your list misses the end: the last boundary must be n = {n} (range(0, n, k) stops "
        f"before n: append n once; off by one at the segment edge)"),
    "range_n1": lambda n, k: (
        "range(0, n + 1, k) reaches n only when k divides n; build the starts with "
        "range(0, n, k) and append n once (off by one at the segment edge: the last segment may be shorter)"),
    "end_twice": lambda n, k: (
        f"you list {n} twice when k divides n, which makes an empty last segment: build the "
        f"starts with range(0, n, k) and append n once"),
    "short_first": lambda n, k: (
        "your short segment is the first one; the task puts the segments at 0, k, 2k, ... "
        "so the LAST segment is the shorter one"),
    "no_start": lambda n, k: "the boundaries start at 0: state 0 is the input X, the first checkpoint",
    "floor_plus_one": lambda n, k: (
        f"int(math.sqrt(n)) + 1 rounds up only when n is not a perfect square; for n = "
        f"{_square_example(n)} it is one too large: use k = math.ceil(math.sqrt(n)) or math.isqrt(n - 1) + 1"),
    "lengths": lambda n, k: (
        "those are the segment LENGTHS; return the boundaries, the running totals "
        "[0, k, 2k, ..., n] (the first is 0, the last n)"),
}


@task("ckpt_segment_bounds", points=1, references=[sqrt_segments, grads_with_checkpoints])
def check_ckpt_segment_bounds(fn):
    outs = [_boundaries_of(fn, n) for n in _BOUND_NS]
    refs = [sqrt_segments(n) for n in _BOUND_NS]
    if outs == refs:
        return f"boundaries [0, k, 2k, ..., n] with k = ceil(sqrt(n)) for {len(_BOUND_NS)} depths"
    first = next(i for i, (o, r) in enumerate(zip(outs, refs)) if o != r)
    n, got = _BOUND_NS[first], outs[first]
    table = [_segments_hypotheses(n_) for n_ in _BOUND_NS]
    names = [name for name in table[0] if all(t[name] == o for t, o in zip(table, outs))]
    if names:
        fail(_one_of([_segments_hint(name, n, got) for name in names]) + ".")
    # no single pattern: say what is wrong with the first wrong list
    for name, pred in _segments_hypotheses(n).items():
        if pred == got:
            fail(_segments_hint(name, n, got) + ".")
    _fail_wrong_boundaries(n, got, refs[first])


def _boundaries_of(fn, n: int) -> list[int]:
    """``fn(n)`` as a list of ints, or a hint about its type."""
    try:
        out = call(fn, n)
    except Mistake as exc:
        if "cannot be interpreted as an integer" in str(exc):
            fail(f"{exc} The step of range must be an int: math.sqrt returns a float, so take "
                 f"k = math.ceil(math.sqrt(n)) (an int) or math.isqrt(n - 1) + 1.")
        raise
    if isinstance(out, np.ndarray) and out.ndim == 2 or (
            isinstance(out, (list, tuple)) and out and all(isinstance(v, (list, tuple, np.ndarray)) for v in out)):
        fail(f"segment_boundaries({n}) returned pairs ({_short(out)}): return the flat list of boundaries "
             f"[0, k, 2k, ..., n], e.g. [0, 4, 8, 10] for n = 10 (segment i is bounds[i]+1 .. bounds[i+1]).")
    if not isinstance(out, (list, tuple, np.ndarray)) or (isinstance(out, np.ndarray) and out.ndim != 1):
        fail(f"segment_boundaries({n}) should return a list of ints, got {type(out).__name__}"
             f"{' (did you forget the return statement?)' if out is None else ''}.")
    if not all(_is_int(v) for v in out):
        fail(f"segment_boundaries({n}) = {_short(out)} holds non-integers: boundaries are layer indices, so "
             f"return ints (math.ceil gives an int; math.sqrt, n ** 0.5, np.linspace and a float step give "
             f"floats).")
    return [int(v) for v in out]


def _fail_wrong_boundaries(n: int, got: list[int], ref: list[int]) -> None:
    """The hint for a wrong list of boundaries that matches no known mistake."""
    if not got:
        fail(f"segment_boundaries({n}) returned an empty list; expected {ref}.")
    if got[0] != 0:
        fail(f"segment_boundaries({n}) = {got} must start at 0: state 0 is the input X, the first checkpoint.")
    if got[-1] != n:
        fail(f"segment_boundaries({n}) = {got} must end with n = {n}: the last segment ends at the top layer.")
    if any(b <= a for a, b in zip(got, got[1:])):
        fail(f"segment_boundaries({n}) = {got} is not strictly increasing: every segment must hold at least one "
             f"layer.")
    fail(f"segment_boundaries({n}) = {got}, expected {ref}: segments of k = ceil(sqrt({n})) = {_ceil_k(n)} layers "
         f"from the bottom, the last one shorter.")


def _short(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------- helpers for the backprop tasks


class _CountingMLP(MLP):
    """An MLP that counts ``layer_forward`` calls and how many of the arrays they returned are
    still alive whenever the learner's code is in control (before a forward it asks for, at the
    loss, when it hands a segment to ``segment_backward``): what its forward pass keeps."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.forwards = 0
        self.peak_held = 0
        self.peak_where = ""
        self.inside_step = 0
        self._made: dict[int, weakref.ref] = {}

    def held(self) -> int:
        alive = {id(a) for a in (r() for r in self._made.values()) if a is not None}
        self._made = {i: r for i, r in self._made.items() if i in alive}
        return len(alive)

    def measure(self, where: str) -> None:
        held = self.held()
        if held > self.peak_held:
            self.peak_held, self.peak_where = held, where

    def layer_forward(self, l, a_prev):
        if not self.inside_step:
            self.measure(f"when layer {l} is run forward")
        self.forwards += 1
        z, a = super().layer_forward(l, a_prev)
        for arr in (z, a):
            self._made[id(arr)] = weakref.ref(arr)
        return z, a

    def output_loss(self, out, y, loss="cross_entropy"):
        self.measure("at the loss")
        return super().output_loss(out, y, loss)


def _problem(n: int, activation: str, seed: int, classes: int = 4):
    sizes = [6] + [7] * (n - 1) + [classes]
    net = _CountingMLP(sizes, activation=activation, init="xavier", seed=seed, bias_std=0.1)
    rng = np.random.default_rng(seed + 100)
    X = rng.standard_normal((5, 6))
    y = rng.integers(0, classes, 5)
    return net, X, y


def _upstream(net: MLP, X, y):
    """Store-all reference: the forward cache (net.forward_trace), dL/da_l for every l (library functions only)."""
    trace = net.forward_trace(X)
    _, da = net.output_loss(trace.output, y)
    das = {net.n_layers: da}
    for l in range(net.n_layers, 0, -1):
        da, _, _, _ = net.layer_backward(l, da, trace.activations[l - 1], trace.zs[l - 1])
        das[l - 1] = da
    return trace, das


def _try(f: Callable, *args):
    """``f(*args)``, or None when the shapes do not fit (a mistake that would have crashed)."""
    try:
        with np.errstate(all="ignore"):
            return f(*args)
    except (ValueError, IndexError, KeyError, TypeError):
        return None


_SHAPES = ("shape", "broadcast", "matmul", "mismatch", "size")


_SEGMENT_ADVICE = ("None of the usual mistakes gives these values: on this segment, check that layer l's backward "
                   "gets its own input a_(l-1) (a_start for the first layer), its own z_l, and the da returned by "
                   "the layer above it (da_end for l = end), and that the recompute runs layers start+1..end once.")
_SCHEME_ADVICE = ("None of the usual mistakes gives these values: check that every segment, from the last to the "
                  "first, is called with its own checkpoint and the da returned by the segment above it (the "
                  "loss gradient only for the top segment), and that each layer's gradients are kept.")


def _expect_with(advice: str, out, expected, what: str, **kwargs):
    """:func:`expect_array` whose bare "got ..., expected ..." gets ``advice`` appended."""
    try:
        return expect_array(out, expected, what, **kwargs)
    except Mistake as exc:
        message = str(exc)
        if re.fullmatch(re.escape(what) + r" is wrong( at index \([^)]*\))?: got [^,]+, expected [^ ]+", message):
            fail(f"{message} {advice}")
        raise


# ----------------------------------------------------------------------------- 3. backward through one segment


def _segment_wrong_values(net, trace, das, start, end):
    """Per layer, what typical wrong segment backward passes give for dW_l (and for da_start)."""
    acts, zs = trace.activations, trace.zs
    W: dict[int, dict[str, Any]] = {l: {} for l in range(start + 1, end + 1)}
    unchained, da = {}, das[end]
    for l in range(end, start, -1):
        step = _try(net.layer_backward, l, das[end], acts[l - 1], zs[l - 1])
        unchained[l] = step
    upward, da = {}, das[end]
    for l in range(start + 1, end + 1):
        step = _try(net.layer_backward, l, da, acts[l - 1], zs[l - 1])
        if step is None:
            break
        upward[l], da = step, step[0]
    for l in range(end, start, -1):
        W[l]["dW_l = delta_l^T a_{l-1} needs the layer's INPUT a_{l-1}; you passed its output a_l (store each "
             "layer's input before you run it forward)"] = _try(lambda l=l: net.layer_backward(l, das[l], acts[l],
                                                                                                zs[l - 1])[1])
        if unchained.get(l) is not None and l < end:
            W[l]["every layer got da_end: pass each layer_backward the da returned by the layer above it "
                 "(da, dW, db, _ = net.layer_backward(l, da, ...))"] = unchained[l][1]
        if upward.get(l) is not None and l > start + 1:
            W[l]["you ran the backward loop upwards: backprop starts at the segment's top layer, "
                 "range(end, start, -1)"] = upward[l][1]
        if l - 2 >= 0:
            W[l]["you paired layer l with z_{l-1}: each layer's backward takes its own pre-activation z_l "
                 "(off by one in the cache index)"] = _try(lambda l=l: net.layer_backward(l, das[l], acts[l - 1],
                                                                                           zs[l - 2])[1])
    if start >= 1:  # the recompute also ran layer `start` on a_start (range(start, end + 1))
        _recompute_from_start(net, acts[start], das[end], start, end, W)
    for l in range(end, start, -1):
        if acts[l - 1].shape == zs[l - 1].shape:
            W[l]["a_prev is the layer's INPUT a_{l-1} (the activation that went into it), not its pre-activation "
                 "z_l"] = _try(lambda l=l: net.layer_backward(l, das[l], zs[l - 1], zs[l - 1])[1])
    da_start = {
        "you returned delta (dL/dz) of the segment's first layer, not dL/da_start = delta W: return the first "
        "value layer_backward gives": net.layer_backward(start + 1, das[start + 1], acts[start], zs[start])[3],
        "you returned da_end, the gradient you were given: return the da of the last layer_backward call "
        "(the segment's first layer), dL/da_start": das[end],
    }
    if unchained.get(start + 1) is not None:
        da_start["every layer got da_end: pass each layer_backward the da returned by the layer above it"] = \
            unchained[start + 1][0]
    return W, da_start


def _recompute_from_start(net, a_start, da_end, start: int, end: int, W: dict[int, dict[str, Any]]) -> None:
    """Add to ``W`` the dW_l of a recompute that wrongly runs layer ``start`` on a_start too (as far
    as the shapes allow); the net's forward count is left as it was."""
    saved = getattr(net, "forwards", None)
    try:
        a, ins, zz = a_start, {}, {}
        for l in range(start, end + 1):
            ins[l] = a
            zz[l], a = net.layer_forward(l, a)
        d = da_end
        for l in range(end, start, -1):
            d, dW_shift, _, _ = net.layer_backward(l, d, ins[l], zz[l])
            W[l]["the recompute starts at layer start+1: a_start is already the OUTPUT of layer start (the "
                 "input of layer start+1), so run range(start + 1, end + 1), not range(start, end + 1)"] = dW_shift
    except Exception:  # noqa: BLE001 (shapes that do not fit: no such hint for this segment)
        pass
    finally:
        if saved is not None:
            net.forwards = saved


@task("ckpt_segment_backward", points=1, references=[segment_backward, grads_with_checkpoints])
def check_ckpt_segment_backward(fn):
    for n, start, end, act, seed in [(6, 2, 5, "tanh", 0), (6, 3, 6, "relu", 1), (4, 0, 2, "sigmoid", 2),
                                     (5, 1, 2, "tanh", 3), (7, 1, 5, "tanh", 8)]:
        net, X, y = _problem(n, act, seed)
        trace, das = _upstream(net, X, y)
        _, ref_grads = net.loss_and_grads(X, y)
        a_start, da_end = trace.activations[start], das[end]
        what = f"segment_backward(net, a_start, start={start}, end={end}, da_end)"
        net.forwards = 0
        da_start, grads = _segment_result(fn, net, a_start, start, end, da_end, what)
        wrong_W, wrong_da = _segment_wrong_values(net, trace, das, start, end)
        for l in range(end, start, -1):
            mistakes = {h: v for h, v in wrong_W[l].items() if v is not None}
            mistakes["that is the store-all gradient of another layer: check which recomputed activation belongs "
                     "to which layer (off by one)"] = ref_grads.get(f"W{l - 1}", np.zeros(1))
            _expect_with(_SEGMENT_ADVICE, grads[f"W{l}"], ref_grads[f"W{l}"], f"{what}: grads['W{l}']",
                         mistakes=mistakes)
            _expect_with(_SEGMENT_ADVICE, grads[f"b{l}"], ref_grads[f"b{l}"], f"{what}: grads['b{l}']")
        if da_start is None:
            fail(f"{what} returned da_start = None: call layer_backward with need_input_grad=True so the "
                 f"segment below receives dL/da_{start}.")
        _expect_with(_SEGMENT_ADVICE, da_start, das[start], f"{what}: da_start", mistakes=wrong_da)
        if net.forwards > end - start:
            fail(f"{what} gives the right gradients but ran {net.forwards} layer forwards for a segment of "
                 f"{end - start} layers: recompute each layer once, storing its (input, z_l), then backprop "
                 f"through the stored caches.")
    return "recomputed segments give exactly the store-all gradients and dL/da_start (5 segments)"


def _segment_result(fn, net, a_start, start: int, end: int, da_end, what: str) -> tuple[Any, dict]:
    """``(da_start, grads)`` of the learner's segment_backward, grads with the segment's keys, or a hint."""
    try:
        out = call(fn, net, a_start, start, end, da_end)
    except Mistake as exc:
        if "NoneType" in str(exc) or "got None" in str(exc):
            fail(f"{exc} layer_backward returns da = None when need_input_grad=False: pass "
                 f"need_input_grad=True, so each layer hands dL/da_{{l-1}} to the layer below it.")
        if any(s in str(exc) for s in _SHAPES):
            fail(f"{exc} A shape mismatch inside the segment usually means a layer got another layer's array: "
                 f"the recompute starts at layer start+1 from a_start (net.forward would start at layer 1); "
                 f"layer l's backward takes its input a_{{l-1}}, its own z_l, and the da returned by the layer "
                 f"above it (da_end only for the top layer, l = end).")
        raise
    da_start, grads = _pair_with_grads(out, what, "da_start", returns="a tuple (da_start, grads)",
                                       order_note=", the input gradient first",
                                       grads_like=f"a dict like {{'W{end}': ..., 'b{end}': ...}}")
    want = {f"{p}{l}" for l in range(start + 1, end + 1) for p in "Wb"}
    if set(grads) != want:
        names = sorted(map(repr, grads))
        if not all(isinstance(k, str) and re.fullmatch(r"[Wb][0-9]+", k) for k in grads):
            fail(f"{what} returned grads with the keys {names}: name them like net.params, "
                 f"'W<l>' and 'b<l>' (e.g. f'W{{l}}'), for l = {start + 1}..{end}.")
        missing, extra = sorted(want - set(grads)), sorted(set(grads) - want)
        fail(f"{what} returned grads for {names}; the segment is layers start+1..end = "
             f"{start + 1}..{end} (off by one at the segment edges: missing {missing}, extra {extra}).")
    return da_start, grads


def _describe_out(out: Any) -> str:
    if out is None:
        return "None (did you forget the return statement?)"
    if isinstance(out, tuple):
        return f"a tuple of {len(out)} items"
    return type(out).__name__


# ----------------------------------------------------------------------------- 4. the whole sqrt(n) scheme


class _SegmentStep:
    """The library's ``segment_backward``, as the learner's function receives it: it records
    which segments it is asked for, from which checkpoint, and what the caller holds then."""

    __name__ = "segment_backward"

    def __init__(self, net: _CountingMLP, activations: list[np.ndarray]):
        self.net, self.activations = net, activations
        self.calls: list[Any] = []

    def __call__(self, net, a_start, start, end, da_end):
        ok_start = (isinstance(start, (int, np.integer)) and 0 <= start < len(self.activations)
                    and isinstance(a_start, np.ndarray) and a_start.shape == self.activations[start].shape
                    and np.array_equal(a_start, self.activations[start]))
        self.calls.append((start, end, ok_start))
        if net is self.net:
            self.net.measure(f"when segment_backward is called for layers {start + 1}..{end}")
            self.net.inside_step += 1
        try:
            return segment_backward(net, a_start, start, end, da_end)
        finally:
            if net is self.net:
                self.net.inside_step -= 1


@task("ckpt_checkpointed_grads", points=1,
      references=[grads_with_checkpoints, MLP.loss_and_grads, MLP.backprop, MLP._backward])
def check_ckpt_checkpointed_grads(fn):
    for n, act, seed in [(9, "tanh", 4), (10, "relu", 5), (1, "sigmoid", 6), (5, "tanh", 7), (16, "tanh", 9)]:
        net, X, y = _problem(n, act, seed, classes=7)  # output as wide as the hidden layers
        ref_loss, ref_grads = net.loss_and_grads(X, y)
        trace, das = _upstream(net, X, y)
        bounds = sqrt_segments(n)
        segments = list(zip(bounds[:-1], bounds[1:]))
        counting = _CountingMLP(net.sizes, activation=act, init="xavier", seed=seed, bias_std=0.1)
        step = _SegmentStep(counting, trace.activations)
        what = f"checkpointed_grads(net with n={n} layers, X, y, segment_backward)"
        loss, grads = _scheme_result(fn, counting, X, y, step, what)
        _expect_complete(grads, ref_grads, segments, what)
        for s, e, ok_start in step.calls:
            if (s, e) not in segments:
                fail(f"{what} called segment_backward for layers {s + 1}..{e}, which is not a segment of "
                     f"sqrt_segments({n}) = {bounds}: cut the net with sqrt_segments(n) and pass each segment's "
                     f"(start, end).")
            if not ok_start:
                fail(f"{what} called segment_backward for layers {s + 1}..{e} with an a_start that is not a_{s}, "
                     f"that segment's checkpoint: pass the input the forward pass kept for it.")
        expect_scalar(loss, ref_loss, f"{what}: loss")
        _expect_scheme_grads(grads, ref_grads, net, trace, das, segments, what)
        _expect_scheme_memory(counting, n, bounds, what)
    return ("same loss and gradients as store-all, only the checkpoints kept, with 2n layer forwards "
            "(or 2n - k_last keeping the last segment) on 5 nets")


def _scheme_result(fn, counting, X, y, step, what: str) -> tuple[Any, dict]:
    """``(loss, grads)`` of the learner's checkpointed_grads, grads a dict, or a hint."""
    try:
        out = call(fn, counting, X, y, step)  # the library's step: graded on its own
    except Mistake as exc:
        if any(s in str(exc) for s in _SHAPES):
            fail(f"{exc} Shapes that do not fit usually mean a gradient reached the wrong segment: start with "
                 f"the LAST segment (did you forget the last segment?) and pair every "
                 f"segment with its own checkpoint.")
        raise
    return _pair_with_grads(out, what, "loss", returns="(loss, grads)",
                            grads_like="a dict with the keys of net.params")


def _pair_with_grads(out, what: str, first: str, *, returns: str, grads_like: str,
                     order_note: str = "") -> tuple[Any, dict]:
    """A learner's ``(first, grads)`` result: a list of the two is as good as a tuple; the swapped order,
    another shape, or grads that are not a dict get their hint."""
    if isinstance(out, list) and len(out) == 2:
        out = tuple(out)
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], dict) and not isinstance(out[1], dict):
        fail(f"{what} returned (grads, {first}): the order is ({first}, grads){order_note}.")
    if not (isinstance(out, tuple) and len(out) == 2):
        fail(f"{what} should return {returns}, got {_describe_out(out)}.")
    value, grads = out
    if not isinstance(grads, dict):
        fail(f"{what}: grads should be {grads_like}, got {type(grads).__name__}.")
    return value, grads


def _expect_complete(grads: dict, ref_grads: dict, segments: list[tuple[int, int]], what: str) -> None:
    """A gradient for every parameter, or a hint about the segments that are missing."""
    missing = [k for k in ref_grads if k not in grads]
    if not missing:
        return
    seg_keys = [{f"{p}{l}" for l in range(s + 1, e + 1) for p in "Wb"} for s, e in segments]
    top = sorted(seg_keys[-1])
    if len(segments) > 1 and set(grads) in seg_keys:
        fail(f"{what} holds the gradients of one segment only ({sorted(grads)}): `grads = seg_grads` "
             f"replaces the dict at every segment; collect them with grads.update(seg_grads).")
    if all(k in missing for k in top):
        fail(f"{what} has no gradients for the last segment {top}: did you forget the last segment? "
             f"Backpropagate through it first: recompute it from its checkpoint like the others, or "
             f"keep its caches in the forward pass.")
    fail(f"{what} is missing the gradients {missing}: every segment must be recomputed and backpropagated.")


def _expect_scheme_grads(grads: dict, ref_grads: dict, net, trace, das, segments, what: str) -> None:
    """Each gradient as store-all gives it (a hint when every segment got the loss gradient)."""
    n = net.n_layers
    unchained: dict[str, np.ndarray] = {}
    for s, e in segments[:-1]:
        got = _try(segment_backward, net, trace.activations[s], s, e, das[n])
        if got is not None:
            unchained.update(got[1])
    for key in ref_grads:
        mistakes: dict[str, Any] = {}
        if key in unchained:
            mistakes["every segment got the loss gradient dL/da_n: pass each segment the da_start returned by "
                     "the segment above it (da, seg_grads = segment_backward(..., da))"] = unchained[key]
        _expect_with(_SCHEME_ADVICE, grads[key], ref_grads[key], f"{what}: grads['{key}']", mistakes=mistakes)


def _expect_scheme_memory(counting, n: int, bounds: list[int], what: str) -> None:
    """2n layer forwards (2n - k_last keeping the last segment), only the checkpoints held at once."""
    k_last = bounds[-1] - bounds[-2]
    kept, forwards = 2 * n - k_last, counting.forwards
    if forwards > 2 * n:
        fail(f"{what} ran {forwards} layer forwards, more than 2n = {2 * n}: each segment should be "
             f"recomputed at most once (one forward pass + one recompute).")
    if forwards == n and kept != n:
        fail(f"{what} gives the right gradients but ran every layer forward only once ({n} forwards): that is "
             f"store-all, every cache kept. Keep only the segment inputs in the forward pass and recompute "
             f"each segment: {2 * n} layer forwards, or {kept} if you keep the last segment's caches. (The "
             f"check counts calls of net.layer_forward: use it for the recomputation too.)")
    if forwards < kept:
        fail(f"{what} ran {forwards} layer forwards for n={n}, fewer than {kept} = 2n - k_last: only "
             f"the last segment (k_last = {k_last} layers) may skip its recompute; every other segment is run "
             f"again from its checkpoint. Did you keep the caches of more segments?")
    if forwards not in (kept, 2 * n):
        fail(f"{what} ran {forwards} layer forwards for n={n}: expected {2 * n} (every segment "
             f"recomputed) or {kept} (the last segment's caches kept from the forward pass).")
    allowed = (len(bounds) - 2) + 2 * k_last + 2
    if counting.peak_held > allowed:
        fail(f"{what} gives the right gradients, but {counting.peak_held} arrays made by net.layer_forward "
             f"were held at once ({counting.peak_where}), for n={n}: the forward pass must keep only the "
             f"{len(bounds) - 2} checkpoints above X (and, if you keep them, the last segment's caches: "
             f"{2 * k_last} arrays), not every layer's z_l or a_l. Store `a` only at the segment starts "
                 f"(no list of every activation, no forward_trace).")


# ----------------------------------------------------------------------------- 5. the cost of revolve

_COST_SMALL = [(10, 3), (1, 1), (7, 1), (5, 5), (6, 2), (4, 2), (12, 3), (9, 4), (8, 8), (11, 2), (3, 1), (2, 2)]
_COST_LARGE = [(40, 3), (64, 4), (100, 2), (256, 8), (30, 29), (21, 5)]
_LARGE_TIMEOUT = 4.0

_RERUNS = ("you counted the recording re-runs as well: F counts only the advances (the n re-runs that record "
           "the caches make up the one plain forward pass, so they are not extra). F(1, s) = 0, and with one "
           "slot layer l needs l - 1 advances, not l")


@lru_cache(maxsize=None)
def _variant(name: str, n: int, s: int) -> int | None:
    """F(n, s) by the recurrence as a typical wrong derivation writes it (None if it cannot be computed)."""
    if n < 1 or s < 1:
        return None
    one = 1 if name == "one_is_1" else 0
    if n == 1:
        return one
    if name == "enough_zero" and s >= n:
        return 0
    if s == 1:
        return {"single_l": n * (n + 1) // 2, "single_nn1": n * (n - 1), "single_sq": n * n}.get(name, n * (n - 1) // 2)
    best = None
    for m in range(1, n):
        adv = {"no_m": 0, "m_minus_1": m - 1}.get(name, m)
        up = _variant(name, n - m, s if name == "upper_keeps_s" else s - 1)
        low = _variant(name, m, s - 1 if name == "lower_loses_slot" else s)
        if up is None or low is None:
            return None
        cost = adv + up + low
        best = cost if best is None else (max if name == "max" else min)(best, cost)
    return best


def _cost_hypotheses(n: int, s: int) -> list[tuple[str, Any]]:
    ref = revolve_cost(n, s)
    r = revolve_repetitions(n, s)
    return [
        (_RERUNS, ref + n),
        ("with one slot, reversing layer l needs its input a_{l-1}: l - 1 advances from X, so F(n, 1) is the sum "
         "of 0 + 1 + ... + (n - 1); you counted l advances for layer l", _variant("single_l", n, s)),
        ("F(n, 1) = 0 + 1 + ... + (n - 1) = n(n - 1)/2: you forgot to halve the sum",
         (_variant("single_nn1", n, s), _variant("single_sq", n, s))),
        ("F(1, s) = 0: a single layer whose input is held needs no advance (its reverse re-run is not extra)",
         _variant("one_is_1", n, s)),
        ("an optimal schedule takes the BEST split: the minimum over m, not the maximum",
         _variant("max", n, s)),
        ("with s >= n slots the cost is not 0: the slots hold layer INPUTS, not the caches z_l, so every layer "
         "below the top is still advanced once to fill them, F(n, n) = n - 1", _variant("enough_zero", n, s)),
        ("while the upper n - m layers are reversed, the snapshot at m occupies a slot: they have s - 1 slots, "
         "not s", _variant("upper_keeps_s", n, s)),
        ("once the upper part is reversed, the snapshot at m is no longer needed: the lower m layers get all s "
         "slots back, not s - 1", _variant("lower_loses_slot", n, s)),
        ("reaching the snapshot costs advances: from the held input, m layers forward, so add m for each split",
         _variant("no_m", n, s)),
        ("advancing from state 0 to state m runs layers 1..m: that is m advances, not m - 1",
         _variant("m_minus_1", n, s)),
        ("the input X occupies one of the s slots: do not count it as an extra free slot (you computed the cost "
         "for s + 1 slots)", revolve_cost(n, min(s + 1, n))),
        ("you computed the cost for s - 1 slots: the s slots include the one holding X, no more and no fewer",
         revolve_cost(n, s - 1) if s > 1 else None),
        ("the subtracted term of the closed form is C(s + r, s + 1), not C(s + r, s)", r * n - math.comb(s + r, s)),
        ("r is the smallest integer with C(s + r, s) >= n; yours is one too small (off by one in the loop)",
         max(r - 1, 0) * n - math.comb(s + max(r - 1, 0), s + 1)),
        ("r is the smallest integer with C(s + r, s) >= n; yours is one too large (off by one in the loop)",
         (r + 1) * n - math.comb(s + r + 1, s + 1)),
    ]


def _cost_call(fn, n: int, s: int, timeout: float | None = None):
    what = f"binomial_cost({n}, {s})"
    try:
        return call(fn, n, s, timeout=timeout)
    except Mistake as exc:
        text = str(exc)
        if "did not return within" in text:
            if _recursive(fn):
                fail(f"{what} did not return within {timeout or 10:g} s: your recursion solves the same (n, s) "
                     f"subproblems over and over (their number grows exponentially with n). Memoise it "
                     f"(@functools.lru_cache on the recursive function, or a dict of the F(n, s) already computed) "
                     f"or use the recurrence bottom-up, filling a table F[k][j] for k = 1..n and j = 1..s.")
            fail(f"{text} If your code fills a table, each entry needs only a loop over m; if it recomputes "
                 f"subproblems, memoise them or fill the table bottom-up.")
        if "recursed too deeply" in text:
            fail(f"{what}: your recursion went too deep (RecursionError). Check the base cases F(1, s) = ... and "
                 f"F(n, 1) = ...: every call must move towards them (m runs over 1..n - 1, so both parts shrink).")
        if "empty" in text and ("min()" in text or "max()" in text or "sequence" in text):
            fail(f"{text} For some n your loop over m is empty: m runs over 1..n - 1 (range(1, n)), and n = 1 is a "
                 f"base case.")
        raise


def _cost_verdict(fn, cases, outs) -> None:
    """Fail with the best hint when ``outs`` (the learner's answers to ``cases``) are not all right."""
    refs = [revolve_cost(n, s) for n, s in cases]
    for (n, s), out, ref in zip(cases, outs, refs):
        if _as_number(out) is None:
            expect_scalar(out, ref, f"binomial_cost({n}, {s})")
    wrong = [i for i, (o, r) in enumerate(zip(outs, refs)) if not _same_number(o, r)]
    if wrong:
        per_case = [_cost_hypotheses(n, s) for n, s in cases]
        hyps = [(per_case[0][k][0], [pc[k][1] for pc in per_case]) for k in range(len(per_case[0]))]
        hints = _explained(outs, hyps)
        i = wrong[0]
        (n, s), out, ref = cases[i], outs[i], refs[i]
        if hints:
            fail(f"binomial_cost({n}, {s}) = {out!r}, expected {ref}: {_one_of(hints)}.")
        mistakes: dict[str, Any] = {}
        for hint, value in per_case[i]:
            for v in value if isinstance(value, tuple) else (value,):
                if v is not None and v != ref:
                    mistakes.setdefault(hint, v)
        expect_scalar(out, ref, f"binomial_cost({n}, {s})", mistakes=mistakes, rtol=1e-12, atol=0)
    for (n, s), out in zip(cases, outs):
        if not _is_int(out):
            fail(f"binomial_cost({n}, {s}) returned {out!r} ({type(out).__name__}): the value is right, but F "
                 f"counts forwards, so return an int: n * (n - 1) // 2, not / 2 (which gives a float).")


@task("ckpt_binomial_cost", points=1,
      references=[revolve_cost, revolve_cost_dp, revolve_repetitions, revolve_schedule, strategy_cost,
                  grads_with_checkpoints])
def check_ckpt_binomial_cost(fn):
    outs = [_cost_call(fn, n, s) for n, s in _COST_SMALL]
    _cost_verdict(fn, _COST_SMALL, outs)
    outs = [_cost_call(fn, n, s, timeout=_LARGE_TIMEOUT) for n, s in _COST_LARGE]
    _cost_verdict(fn, _COST_LARGE, outs)
    return (f"the fewest advances F(n, s) on {len(_COST_SMALL) + len(_COST_LARGE)} cases up to n = 256, "
            f"fast enough, as an int")


# ----------------------------------------------------------------------------- 6. fewest slots for a budget

_SLOT_CASES = [(10, 15), (10, 14), (64, 200), (64, 199), (256, 1000), (100, 99), (100, 4950), (100, 5000), (1, 0),
               (50, 48), (12, 100), (30, 2)]


def _fewest(n: int, budget: int, fits=lambda cost, budget: cost <= budget, slots=None):
    candidates = slots if slots is not None else range(1, n + 1)
    return next((s for s in candidates if fits(revolve_cost(n, s), budget)), None)


def _slots_hypotheses(n: int, budget: int) -> list[tuple[str, Any]]:
    ref = _fewest(n, budget)
    fitting = [s for s in range(1, n + 1) if revolve_cost(n, s) <= budget]
    return [
        ("the slots include the one holding X (revolve_cost(n, s) counts it): your answer is one too small; "
         "return the s you pass to revolve_cost", None if ref is None else ref - 1),
        ("your answer is one too large: do not add a slot for the input, the s of revolve_cost(n, s) already "
         "includes the one holding X", None if ref is None else ref + 1),
        ("the budget is inclusive: a schedule fits when its extra forwards are <= budget, not < budget",
         _fewest(n, budget, lambda c, b: c < b)),
        ("s = n is allowed too (it needs n - 1 extra forwards): search s in range(1, n + 1)",
         _fewest(n, budget, slots=range(1, n))),
        ("you return the LARGEST number of slots that fits (the loop goes on after the first fit, or runs "
         "downwards); the task asks for the fewest: return the first s that fits, counting up from 1",
         fitting[-1] if fitting else None),
        ("you return the cost revolve_cost(n, s), not the number of slots s",
         None if ref is None else revolve_cost(n, ref)),
        ("when no s fits, return None, not n (or another number)",
         (ref,) if ref is not None else (n, n + 1, 0, -1, False)),
        ("the test is reversed: you need revolve_cost(n, s) <= budget (the cost falls as s grows)",
         _fewest(n, budget, lambda c, b: c >= b)),
    ]


def _call_fewest(fn, n: int, budget: int) -> Any:
    """``fn(n, budget)``: an int, None, or a hint."""
    try:
        out = call(fn, n, budget)
    except Mistake as exc:
        if "slots must be at least 1" in str(exc):
            fail(f"{exc} Start the search at s = 1: the input X always takes one slot, so s = 0 does not exist.")
        if "empty" in str(exc) and ("min()" in str(exc) or "max()" in str(exc)):
            fail(f"{exc} When no s fits the budget the sequence is empty: return None then "
                 f"(e.g. min(..., default=None), or a loop that ends with return None).")
        raise
    if out is not None and not isinstance(out, (bool, np.bool_)) and _as_number(out) is None:
        fail(f"fewest_slots({n}, budget={budget}) should return an int (or None), got {_describe_out(out)}.")
    return out


def _slots_match(out: Any, ref: int | None) -> bool:
    """The right answer (None for None; a number, not a bool, equal to ref)."""
    if out is None or ref is None:
        return out is None and ref is None
    return not isinstance(out, (bool, np.bool_)) and _same_number(out, ref)


def _same_slots(out: Any, want: Any) -> bool:
    if isinstance(out, (bool, np.bool_)) or isinstance(want, (bool, np.bool_)):
        return type(out) is type(want) and out == want
    return _same_number(out, want)


@task("ckpt_fewest_slots", points=1)
def check_ckpt_fewest_slots(fn):
    outs = [_call_fewest(fn, n, budget) for n, budget in _SLOT_CASES]
    refs = [_fewest(n, budget) for n, budget in _SLOT_CASES]
    if all(_slots_match(o, r) for o, r in zip(outs, refs)):
        for (n, budget), out in zip(_SLOT_CASES, outs):
            if out is not None and not _is_int(out):
                fail(f"fewest_slots({n}, budget={budget}) returned {out!r} ({type(out).__name__}): the value is "
                     f"right, but a number of slots is an int.")
        return f"the fewest slots with revolve_cost(n, s) <= budget, or None, on {len(_SLOT_CASES)} cases"
    per_case = [_slots_hypotheses(n, b) for n, b in _SLOT_CASES]
    hyps = [(per_case[0][k][0], [pc[k][1] for pc in per_case]) for k in range(len(per_case[0]))]
    hints = _explained(outs, hyps, same=_same_slots)
    i = next(j for j, (o, r) in enumerate(zip(outs, refs)) if not _slots_match(o, r))
    (n, budget), out, ref = _SLOT_CASES[i], outs[i], refs[i]
    what = f"fewest_slots({n}, budget={budget})"
    if hints:
        fail(f"{what} = {out!r}, expected {ref!r}: {_one_of(hints)}.")
    if ref is None:
        fail(f"{what} returned {out!r}, but even with n = {n} slots revolve needs {revolve_cost(n, n)} "
             f"extra forwards: return None when no number of slots fits the budget.")
    if out is None:
        fail(f"{what} returned None, but {ref} slots need only {revolve_cost(n, ref)} extra forwards.")
    mistakes: dict[str, Any] = {}
    for hint, value in per_case[i]:
        for v in value if isinstance(value, tuple) else (value,):
            if v is not None and not isinstance(v, bool) and v != ref:
                mistakes.setdefault(hint, v)
    expect_close(out, ref, what, mistakes=mistakes, rtol=1e-12, atol=0)
