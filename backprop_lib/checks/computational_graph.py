r"""Checks for exercises/02_computational_graph.ipynb (the scalar autodiff engine).

Tasks (ids are unique across the course) and the library code that is their answer
(declared as ``references``: a learner's function that calls it, or is it under another
name, scores 0):

``graph_pow_backward``      n·a^(n-1)·ḡ                       ``Value`` (its ``**`` rule, ``backward``)
``graph_tanh_backward``     (1 - tanh²a)·ḡ                    ``Value``, ``activations.tanh_grad``/``tanh_backward``
``graph_add_accumulate``    a.grad += ḡ; b.grad += ḡ (in place) ``Value.backward``, ``backward_steps``
``graph_topological_sort``  every node once, inputs first      ``topological_order`` (and what calls it)
``graph_grads_by_hand``     ∇ of (xy + z)x, derived on paper   ``Value``
``graph_xor_training``      full-batch gradient descent        ``nn_scalar.fit``
``graph_own_engine``        the learner's own class ``Scalar``  ``Value``, ``topological_order``, ``backward_steps``
                            (all of the above assembled)
``graph_forward_mode``      ∇f by n forward passes with Dual    ``forward_mode.gradient_forward``, ``jvp``,
                                                               ``derivatives_forward``, ``gradient_reverse``

The expected values come from :mod:`backprop_lib.engine` and :func:`backprop_lib.nn_scalar.fit`.
The ``mistakes`` are what typical wrong answers return on the same cases (``=`` instead of
``+=``, swapped multiply gradients, a missing ``out.grad`` factor, a shared node visited twice,
the gradients zeroed at the wrong moment, ...). The local rules and the hand-derived gradients
are compared to about 12 significant digits, so a finite-difference approximation does not pass.

The capstone ``graph_own_engine`` receives the learner's CLASS. It is only ever run inside
:func:`call`, through :func:`_run_program` and :func:`_xor_with_class` (functions of this module that
build a graph or train the XOR net with the class and return plain floats); the verdict compares
those numbers with the library's engine running the same program. The classic engine bugs
(``=`` instead of ``+=``, a sort that lists a shared node once per path, a recursive backward,
the reverse order forgotten, no seed, ``local * node.data``) are recognised by running the same
program through the library's graph with that bug (:func:`_buggy_grads`).
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
import sys
from typing import Any, Callable, Iterator, NoReturn

import numpy as np

from ..activations import tanh_backward as _lib_tanh_backward
from ..activations import tanh_grad
from ..engine import Value, topological_order
from ..forward_mode import (Dual, derivatives_forward, gradient_forward, gradient_reverse, jvp,
                            sum_tanh_products)
from ..nn_scalar import ValueMLP, fit, xor_data
from ..widgets.computational_graph import backward_steps
from ._core import Mistake, call, expect_array, expect_close, fail, task
from ._integrity import runs_with_learner_code

__all__ = [
    "check_graph_pow_backward",
    "check_graph_tanh_backward",
    "check_graph_add_accumulate",
    "check_graph_topological_sort",
    "check_graph_grads_by_hand",
    "check_graph_xor_training",
    "check_graph_own_engine",
    "check_graph_forward_mode",
]

FORGOT_CHAIN = "you forgot the chain factor: multiply the local derivative by the upstream gradient `out_grad`"

#: Hints added to the message of an exception the learner's code raised: (text in the message, hint).
_EXCEPTION_HINTS = (
    ("for ^", "In Python `^` is the bitwise XOR, not a power: write `**`, e.g. `a ** (n - 1)`."),
    ("can't multiply sequence by non-int", "A tuple times a number repeats the tuple instead of scaling its "
     "entries: multiply each entry, e.g. `return b * out_grad, a * out_grad`."),
    ("cannot be interpreted as an integer", "n may be fractional or negative: use the power operator "
     "`a ** (n - 1)`, not a loop over `range(n)`."),
    ("math range error", "math.cosh and math.exp overflow for large |a| (the check uses a = 800): compute "
     "t = tanh(a) and use 1 - t**2, which stays finite."),
    ("has no attribute 'backward'", "Only a Value has .backward(): build the loss from the outputs `model(x)` "
     "(`model.predict` returns plain numbers, without a graph)."),
    ("'Value' object has no attribute", "A Value has only the attributes data, grad, inputs, local_grads, op "
     "and label (it uses __slots__): keep your bookkeeping outside the nodes, e.g. in a set `visited`."),
    ("not 'Value'", "A Value is not a plain number: use its `.data` (e.g. `losses.append(loss.data)`)."),
    ("must have 2 entries", "Call the model on one example at a time: `preds = [model(x) for x in X]`."),
    ("'method' object is not iterable", "`model.parameters` is a method: call it, `model.parameters()`."),
    ("unsupported operand for Value", "A Value combines only with a Value, an int or a float: subtract the "
     "label of that example, y_n (e.g. `for p, y_n in zip(preds, y)`), not the whole array y."),
)


def _call(fn, *args, hints=()):
    """:func:`call`, with a hint for the exceptions learners typically raise in this notebook."""
    try:
        return call(fn, *args)
    except Mistake as exc:
        message = str(exc)
        for pattern, hint in tuple(hints) + _EXCEPTION_HINTS:
            if pattern in message:
                raise Mistake(f"{message} {hint}") from None
        raise


def _local_grads(build, *inputs: float) -> tuple[float, ...]:
    """d out / d input_i of ``build(*Values)`` from the engine (the reference)."""
    leaves = [Value(x) for x in inputs]
    out = build(*leaves)
    out.backward()
    return tuple(v.grad for v in leaves)


def _numbers(out, count: int, what: str, names: str) -> np.ndarray:
    """``out`` as ``count`` floats (a tuple, list or array of numbers), else a hint."""
    if isinstance(out, np.ndarray) and out.ndim == 1:
        out = list(out)
    if isinstance(out, (tuple, list)) and len(out) == count:
        if all(isinstance(v, Value) for v in out):
            fail(f"{what} returned Value nodes: compute with plain floats (the task's inputs are floats) "
                 f"and return the numbers {names}.")
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in out):
            if any(isinstance(v, np.floating) and v.dtype.itemsize < 8 for v in out):
                low = next(v for v in out if isinstance(v, np.floating) and v.dtype.itemsize < 8)
                fail(f"{what} returned {type(low).__name__} "
                     "numbers: compute in float64 (float32 keeps only about 7 significant digits).")
            return np.array([float(v) for v in out])
        if any(isinstance(v, complex) for v in out):
            fail(f"{what} returned a complex number: a power of a negative number was taken somewhere. "
                 "Use only the inputs themselves (no finite difference).")
        fail(f"{what} should return {count} numbers {names}, got {out!r:.80}.")
    if isinstance(out, (tuple, list)):
        fail(f"{what} should return a tuple of {count} numbers {names}, got {len(out)} items.")
    if out is None:
        fail(f"{what} returned None. Did you forget the `return` statement?")
    fail(f"{what} should return a tuple of {count} numbers {names}, got {type(out).__name__} {out!r:.60}.")


def _exact(out, expected, what: str, rule: str, *, mistakes=None, rtol: float = 1e-12, atol: float = 1e-15,
           advice: str | None = None):
    """``expect_close`` at a tight tolerance; an answer that is only close is an approximation."""
    if isinstance(out, complex):
        fail(f"{what} returned the complex number {out:.6g}: a fractional power of a negative number. "
             f"Did you use a finite difference? At a = 1e-6 the point a - h is negative; use the exact rule {rule}.")
    arr = np.asarray(out, dtype=np.float64) if isinstance(out, (numbers.Real, np.ndarray, list, tuple)) else None
    if (arr is not None and arr.shape == np.shape(expected) and np.all(np.isfinite(arr))
            and np.asarray(out).dtype in (np.float64, np.int64, object)
            and not np.allclose(arr, expected, rtol=rtol, atol=atol)
            and np.allclose(arr, expected, rtol=1e-4, atol=1e-9)
            and not any(np.allclose(arr, np.asarray(w, dtype=np.float64), rtol=rtol, atol=atol)
                        for w in (mistakes or {}).values())):
        err = float(np.max(np.abs(arr - expected) / np.maximum(np.abs(expected), 1e-300)))
        fail(f"{what} is only approximately right (relative error {err:.1e}): this task asks for the exact "
             f"derivative, {rule}. A finite difference such as (f(a + h) - f(a - h)) / (2h) is an approximation "
             "(the check compares to about 12 significant digits).")
    try:
        return expect_close(out, expected, what, mistakes=mistakes, rtol=rtol, atol=atol)
    except Mistake as exc:
        message = str(exc)
        if re.fullmatch(re.escape(what) + r" is wrong( at index \([^)]*\))?: got [^,]+, expected [^ ]+", message):
            fail(f"{message} " + (advice or f"None of the usual mistakes gives this value: evaluate the rule {rule} by "
                                            "hand for these inputs and compare it, factor by factor, with what your "
                                            "code computes."))
        raise


def _expect_advised(out, expected, what: str, *, mistakes=None, advice: str):
    """:func:`expect_array` whose bare "got ..., expected ..." gets ``advice`` appended."""
    try:
        return expect_array(out, expected, what, mistakes=mistakes)
    except Mistake as exc:
        message = str(exc)
        if re.fullmatch(re.escape(what) + r" is wrong( at index \([^)]*\))?: got [^,]+, expected [^ ]+", message):
            fail(f"{message} {advice}")
        raise


# --------------------------------------------------------------------------- task 1: pow
# (the worked example before it, mul_backward, is not graded: the capstone grades the * rule)


@task("graph_pow_backward", points=1, references=[Value, backward_steps])
def check_graph_pow_backward(fn):
    for a, n, g in [(1.5, 3, -2.0), (-1.2, 2, 0.7), (4.0, 0.5, -1.0), (2.5, -1, 2.0), (1e-6, 0.5, 1.0),
                    (0.01, -2, 0.5)]:
        (d,) = _local_grads(lambda x, n=n: x ** n, a)
        what = f"pow_backward({a}, {n}, out_grad={g})"
        out = _call(fn, a, n, g)
        truncated = {}
        if int(n) != n:  # int(n) or range(n) turns a fractional exponent into a whole number
            hint = (f"for the fractional exponent n = {n} you used int(n) = {int(n)} (e.g. `int(n)` or a loop over "
                    "`range(n)`): the power rule n * a**(n - 1) holds for any real n, use n as given")
            if math.isclose(int(n) * a ** (int(n) - 1) * g, n * a ** n - 1, rel_tol=1e-9, abs_tol=1e-12):
                hint += ("; or, if you did not, operator precedence: `a ** n-1` means (a ** n) - 1, write "
                         "`a ** (n - 1)` (and keep the factor out_grad)")
            truncated[hint] = int(n) * a ** (int(n) - 1) * g
        _exact(out, d * g, what, "n * a**(n - 1) * out_grad", mistakes={
            **truncated,
            FORGOT_CHAIN: d,
            "the exponent should drop by one: d(a**n)/da = n * a**(n - 1)": n * a ** n * g,
            "you forgot the factor n in front: d(a**n)/da = n * a**(n - 1)": a ** (n - 1) * g,
            "the factor in front is n, not n - 1: d(a**n)/da = n * a**(n - 1)": (n - 1) * a ** (n - 1) * g,
            "operator precedence: `a ** n-1` means (a ** n) - 1; put the exponent in parentheses, "
            "`a ** (n - 1)`": n * a ** n - g,
            "operator precedence: `a ** n-1` means (a ** n) - 1; put the exponent in parentheses, "
            "`a ** (n - 1)` (and keep the factor out_grad)": n * a ** n - 1,
            "that is the derivative with respect to the exponent n (a**n * ln a); the task asks for "
            "d(a**n)/da = n * a**(n - 1)": a ** n * math.log(abs(a)) * g,
            "the exponent went up by one; the power rule lowers it: n * a**(n - 1)": n * a ** (n + 1) * g,
        })
    return "da = n·a^(n-1)·out_grad for integer, fractional and negative n, exactly (also at a = 1e-6)"


# --------------------------------------------------------------------------- task 2: tanh


@task("graph_tanh_backward", points=1, references=[Value, backward_steps, tanh_grad, _lib_tanh_backward])
def check_graph_tanh_backward(fn):
    for a, g in [(0.5, 2.0), (-1.3, -0.5), (3.0, 1.5), (20.0, 1.0), (0.0, 0.7), (800.0, 1.0)]:
        (d,) = _local_grads(lambda x: x.tanh(), a)
        what = f"tanh_backward({a}, out_grad={g})"
        out = _call(fn, a, g)
        if isinstance(out, (float, np.floating)) and not math.isfinite(out):
            fail(f"{what} returned {out}: use t = tanh(a) and 1 - t**2 (always finite), not a formula with "
                 "exp or cosh, which overflow for large |a|.")
        t = math.tanh(a)
        s = 1.0 / (1.0 + math.exp(-a)) if a < 700 else 1.0
        _exact(out, d * g, what, "(1 - tanh(a)**2) * out_grad", mistakes={
            FORGOT_CHAIN: d,
            "use the OUTPUT t = tanh(a) in the derivative: 1 - t**2, not 1 - a**2": (1 - a * a) * g,
            "the derivative of tanh is 1 - tanh(a)**2 (squared)": (1 - t) * g,
            "the derivative of tanh is 1 - tanh(a)**2, not tanh(a)**2": t ** 2 * g,
            "you squared the wrong thing: 1 - tanh(a)**2 means 1 - (tanh a)², not (1 - tanh a)²": (1 - t) ** 2 * g,
            "operator precedence: `1 - t**2 * out_grad` multiplies only t**2 by out_grad; "
            "write `(1 - t**2) * out_grad`": 1 - t * t * g,
            "that is the sigmoid's rule s * (1 - s); tanh's is 1 - t**2 with t = tanh(a)": t * (1 - t) * g,
            "that is the sigmoid's derivative σ(a)(1 - σ(a)); tanh's is 1 - tanh(a)**2": s * (1 - s) * g,
            "tanh(a**2) is not tanh(a)**2: square the output, 1 - math.tanh(a)**2": (1 - math.tanh(a * a)) * g,
            "1/cosh(a) must be squared: tanh'(a) = 1/cosh²(a) = 1 - tanh²(a)": g / math.cosh(min(a, 700.0)),
        })
    return "da = (1 - tanh(a)²)·out_grad exactly, finite even at a = 800"


# --------------------------------------------------------------------------- task 3: add, +=


def _add_case(fn, what: str, out: Value, nodes: list[Value]):
    """Run ``add_backward(out)``; fail on the side effects that are not gradient updates."""
    before = [(v.data, v.grad) for v in nodes]
    out_before = (out.data, out.grad)
    result = _call(fn, out)
    if (out.data, out.grad) != out_before:
        fail(f"{what}: add_backward changed out.grad (or out.data); it should only add out.grad to the "
             "inputs' gradients, leaving out itself as it was.")
    if any(v.data != d for v, (d, _) in zip(nodes, before)):
        fail(f"{what}: add_backward changed an input's .data (its value); the backward pass changes only "
             "the gradients, `.grad`.")
    if all(v.grad == gr for v, (_, gr) in zip(nodes, before)):
        if result is not None:
            fail(f"{what}: the inputs' .grad did not change, and add_backward returned {result!r:.60}. "
                 "The backward step must update the gradients in place (`a.grad += out.grad`); "
                 "the engine ignores a returned value, so return nothing.")
        fail(f"{what}: the inputs' .grad did not change. Update them in place on the nodes, "
             "`a.grad += out.grad`: a float is immutable, so `g = a.grad; g += out.grad` changes only "
             "the local name g.")


@task("graph_add_accumulate", points=1, references=[Value.backward, backward_steps])
def check_graph_add_accumulate(fn):
    # case 1: both inputs already hold a gradient from other paths; it must grow, not be replaced
    a, b = Value(1.5, label="a"), Value(-2.0, label="b")
    out = a + b
    a.grad, b.grad, out.grad = 0.5, -1.0, 3.0
    what = "add_backward(out) for out = a + b with a.grad = 0.5, b.grad = -1, out.grad = 3"
    _add_case(fn, what, out, [a, b])
    _expect_advised([a.grad, b.grad], [3.5, 2.0], f"after {what}, [a.grad, b.grad]", mistakes={
        "you used `=` instead of `+=`: a.grad and b.grad already held gradients from other paths "
        "and they were overwritten": [3.0, 3.0],
        "for b you used `=` instead of `+=`: b.grad already held -1 from another path and it was "
        "overwritten (a is right)": [3.5, 3.0],
        "for a you used `=` instead of `+=`: a.grad already held 0.5 from another path and it was "
        "overwritten (b is right)": [3.0, 2.0],
        "the out.grad factor is missing: each input receives its local derivative 1 TIMES the upstream "
        "gradient out.grad, so add out.grad, not 1": [1.5, 0.0],
        "you split out.grad between the inputs; addition passes the WHOLE out.grad to each input "
        "(the local derivatives are 1 and 1)": [2.0, 0.5],
        "that is the rule of multiplication (each input gets the OTHER input times out.grad); "
        "addition passes out.grad on unchanged": [0.5 - 2.0 * 3.0, -1.0 + 1.5 * 3.0],
        "you multiplied by the input's own value; addition's local derivatives are 1 and 1, so add "
        "out.grad unchanged": [0.5 + 1.5 * 3.0, -1.0 - 2.0 * 3.0],
        "you multiplied the gradients (`*=`); gradients from different paths are ADDED: `+=`": [1.5, -3.0],
        "you added out.data, the VALUE of the sum (-0.5 here); the backward step passes on the GRADIENT: "
        "`a.grad += out.grad`": [0.5 - 0.5, -1.0 - 0.5],
        "you subtracted out.grad (`-=`); the inputs receive +out.grad: `+=`": [-2.5, -4.0],
        "out.grad was added twice to each input: each input receives it once": [6.5, 5.0],
        "b.grad was not updated: both inputs of a sum receive out.grad": [3.5, -1.0],
        "a.grad was not updated: both inputs of a sum receive out.grad": [0.5, 2.0],
    }, advice="None of the usual mistakes gives these values: each input's gradient must change by exactly "
              "out.grad (`a.grad += out.grad`, then `b.grad += out.grad`), and by nothing else.")
    # case 2: the same node on both sides, out = x + x, with a gradient from another path
    x = Value(3.0, label="x")
    out = x + x
    x.grad, out.grad = 0.5, 3.0
    what = "add_backward(out) for out = x + x with x.grad = 0.5, out.grad = 3"
    _add_case(fn, what, out, [x])
    expect_close(x.grad, 6.5, f"after {what}, x.grad", mistakes={
        "in out = x + x the node x is both a and b, so it must receive out.grad twice, once per path "
        "(0.5 + 3 + 3 = 6.5), but it received it once. Either you skipped b because it is the same node "
        "as a (`if b is not a`, or a set of the inputs), or you computed both new values from the old "
        "x.grad and then assigned them (the second assignment overwrote the first). Add in place, one "
        "input after the other: `a.grad += out.grad`, then `b.grad += out.grad`": 3.5,
        "you used `=` instead of `+=`: in out = x + x the second assignment overwrites the first, and the "
        "0.5 from another path is lost too": 3.0,
        "the out.grad factor is missing: each path brings its local derivative 1 TIMES out.grad": 2.5,
    })
    return "adds out.grad to both inputs with +=, keeps earlier gradients, and adds it twice for out = x + x"


# --------------------------------------------------------------------------- task 4: topological sort


def _diamond() -> Value:
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    c = a * b
    d = c + a      # a is used twice
    e = c * d      # c is used twice
    t = e.tanh()
    f = t + d      # d is used twice
    for node, name in ((c, "c"), (d, "d"), (e, "e"), (t, "t"), (f, "f")):
        node.label = name
    return f


def _show(node: Value) -> str:
    """``d (= c + a)`` for a labelled node, ``a node`` otherwise."""
    if not node.label:
        return "a node"
    if not node.inputs:
        return node.label
    parts = [i.label or "?" for i in node.inputs]
    form = f" {node.op} ".join(parts) if len(parts) == 2 else f"{node.op}({parts[0]})"
    return f"{node.label} (= {form})"


def _is_topological(order: list) -> bool:
    position = {id(n): k for k, n in enumerate(order)}
    return all(position[id(c)] < position[id(n)] for n in order for c in n.inputs)


_DEFAULT_RECURSION_LIMIT = 1000  # Python's default

TOPO_TIMEOUT_HINT = (
    "On a chain of 20,001 nodes the sort must be fast: is `visited` a list (`in` scans a list from the "
    "start; use a set), or does the loop put nodes back on the stack again and again?"
)


def _sorted_nodes(fn, root: Value, what: str) -> list:
    """The learner's topological sort of ``root`` (run under Python's default recursion limit) as a
    list of Value nodes, or a hint."""
    # Python's default recursion limit while the learner's sort runs: a recursive sort (even one that
    # raised the limit in an earlier cell) must meet the deep chain as it is, and a raised limit is noticed
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, _DEFAULT_RECURSION_LIMIT))
    try:
        order = _call(fn, root, hints=(("did not return within", TOPO_TIMEOUT_HINT),))
        raised = sys.getrecursionlimit() > _DEFAULT_RECURSION_LIMIT
    finally:
        sys.setrecursionlimit(limit)
    if raised:
        fail(f"{what}: your function raised Python's recursion limit (sys.setrecursionlimit). The task asks "
             "for a sort that needs no deep recursion: use an explicit stack (a list you append to and pop "
             "from); a raised limit only moves the crash to a deeper graph (or into the interpreter itself).")
    if order is None:
        fail(f"{what} returned None. Did you forget `return order`?")
    if isinstance(order, (set, frozenset, dict)):
        fail(f"{what} returned a {type(order).__name__}, which has no order: return a list, with every "
             "node after all of its inputs.")
    try:
        order = list(order)
    except TypeError:
        fail(f"{what} should return a list of Value nodes, got {type(order).__name__}.")
    if not all(isinstance(n, Value) for n in order):
        bad = next(n for n in order if not isinstance(n, Value))
        extra = (" Return the nodes themselves, not their .data." if isinstance(bad, numbers.Real)
                 else " Return the nodes themselves (the Value objects).")
        fail(f"{what} should return a list of Value nodes, but it contains {type(bad).__name__} "
             f"{bad!r:.40}.{extra}")
    return order


def _expect_same_nodes(order: list, reference: list, root: Value, seen: set[int], what: str) -> None:
    """Every node of the graph exactly once (``seen``: the ids of the graphs of earlier calls)."""
    graph = {id(n) for n in reference}
    ids = [id(n) for n in order]
    foreign = [i for i in ids if i not in graph]
    if foreign:
        stale = " They are nodes of a graph from an earlier call." if any(i in seen for i in foreign) else ""
        fail(f"{what}: the list contains {len(foreign)} node(s) that are not in this graph.{stale} Are "
             "`order` or `visited` default arguments (`def topological_sort(root, order=[])`) or global "
             "variables? Those are shared between calls: create them inside the function.")
    if len(ids) != len(set(ids)):
        fail(f"{what}: a node appears more than once ({len(order)} entries for {len(reference)} nodes). "
             "Your sort visits a shared node twice (once per path that reaches it): keep a `visited` "
             "set, add each node to it, and skip nodes already in it.")
    if set(ids) == graph:
        return
    got = set(ids)
    missing = [n for n in reference if id(n) not in got]
    values = {n.data for n in order}
    if missing == [root] and root.inputs:
        fail(f"{what}: root itself is missing; it must be in the list too (as its last entry).")
    if all(not n.inputs for n in missing):
        fail(f"{what}: {len(missing)} leaf node(s) are missing (nodes without inputs"
             f"{', here root itself' if root in missing else ''}): "
             "every node reachable from root must be in the list, leaves included.")
    if any(n.data in values for n in missing):
        fail(f"{what}: {len(missing)} of its {len(reference)} nodes are missing, and some of them have the "
             "same value (.data) as a node in your list. Does your visited set hold values? Then different "
             "nodes with equal values count as one: keep the nodes themselves in it (`visited.add(node)`).")
    fail(f"{what}: the list has {len(order)} nodes, the graph has {len(reference)}. "
         "Every node reachable from root (through .inputs) must appear exactly once.")


def _expect_inputs_first(order: list, root: Value, what: str) -> None:
    """Every node after all of its inputs, or a hint about the order the learner's sort gives."""
    if _is_topological(order):
        return
    if order[0] is root and _is_topological(order[::-1]):
        fail(f"{what}: the list is reversed, root comes first. Inputs must come before the nodes that use "
             "them, so root is last: return the list the other way round (or append each node after "
             "its inputs).")
    position = {id(n): k for k, n in enumerate(order)}
    node, child = next((n, c) for n in order for c in n.inputs if position[id(c)] > position[id(n)])
    if order[0] is root:
        fail(f"{what}: root comes first and {_show(node)} comes before its input {_show(child)}: you append "
             "a node when you first reach it (pre-order), before its inputs. Append it only once all of "
             "its inputs are in the list (post-order); reversing a pre-order list does not fix it when "
             "nodes are shared.")
    fail(f"{what}: {_show(node)} comes before its input {_show(child)}. A node may be appended only when "
         "all of its inputs are already in the list (post-order depth-first search). Reversing the order "
         "in which a stack or a queue first reaches the nodes is not a topological order once nodes "
         "are shared.")


@task("graph_topological_sort", points=1, references=[topological_order])
def check_graph_topological_sort(fn):
    chain = Value(0.3)
    for _ in range(2):
        chain = chain.tanh()
    deep = Value(0.1)
    for _ in range(20_000):
        deep = -deep
    seen: set[int] = set()
    for root, name in [(Value(1.0), "a single leaf"),
                       (_diamond(), "a graph with shared nodes (f = tanh(c * d) + d, c = a * b, d = c + a)"),
                       (chain, "a chain of 3 nodes"), (deep, "a chain of 20,001 nodes")]:
        what = f"topological_sort on {name}"
        order = _sorted_nodes(fn, root, what)
        reference = topological_order(root)
        _expect_same_nodes(order, reference, root, seen, what)
        seen |= {id(n) for n in reference}
        _expect_inputs_first(order, root, what)
    return "each node once, inputs before users, on shared nodes and a 20,001-node chain"


# --------------------------------------------------------------------------- task 5: by hand


@task("graph_grads_by_hand", points=1, references=[Value])
def check_graph_grads_by_hand(fn):
    for x, y, z in [(2.0, -3.0, 1.0), (-1.5, 0.5, 4.0), (0.3, 2.0, -1.0), (123.0, -45.5, 2000.0)]:
        dx, dy, dz = _local_grads(lambda a, b, c: (a * b + c) * a, x, y, z)
        what = f"grads_by_hand({x}, {y}, {z})"
        out = _numbers(_call(fn, x, y, z), 3, what, "(df/dx, df/dy, df/dz)")
        mistakes = {
            "x is used twice (in x*y and as the outer factor): add the gradients of BOTH paths; "
            "you kept only the path through x*y": [x * y, dy, dz],
            "x is used twice (in x*y and as the outer factor): add the gradients of BOTH paths; "
            "you kept only the outer-factor path (x*y + z)": [x * y + z, dy, dz],
            "df/dx lost the z: the outer-factor path brings (x*y + z), so df/dx = (x*y + z) + x*y": [2 * x * y, dy, dz],
            "on the path through x*y the local derivative y must be multiplied by the upstream gradient x: "
            "that path brings x*y, not y": [y + x * y + z, dy, dz],
            "for the product x*y the gradient for y is x times the upstream gradient x (= x**2)": [dx, x, dz],
            "`x*2` is 2x; x squared is `x**2` (df/dy = x**2)": [dx, 2 * x, dz],
            "df/dz = x: z sits inside the parentheses, which are multiplied by x (upstream gradient x, "
            "local derivative 1)": [dx, dy, 1.0],
            "you returned f itself, not its gradient": [(x * y + z) * x] * 3,
            "df/dx: you differentiated only the parentheses (x*y + z) -> y and added z; use the product rule "
            "on (x*y + z) * x: (x*y + z) * 1 + x * y": [y + z, dy, dz],
            "df/dy: y appears only in x*y, which is multiplied by x: df/dy = x * x, not x * y": [dx, x * y, dz],
        }
        expected = np.array([dx, dy, dz])
        names = ("df/dx", "df/dy", "df/dz")
        if not np.allclose(out, expected, rtol=1e-12, atol=1e-15):
            for perm in itertools.permutations(range(3)):
                if perm != (0, 1, 2) and np.allclose(out, expected[list(perm)], rtol=1e-12, atol=1e-15):
                    fail(f"{what} has the right three derivatives in the wrong order: you returned "
                         f"({', '.join(names[i] for i in perm)}); return (df/dx, df/dy, df/dz).")
        _exact(out, expected, what, "df/dx = 2xy + z, df/dy = x**2, df/dz = x", mistakes=mistakes,
               advice="None of the usual mistakes gives this value. Draw the graph of f = (x*y + z) * x: for each "
                      "variable, follow every path from it to f, multiply the local derivatives along the path "
                      "(the upstream gradient times the local one), and add the paths.")
    return "df/dx = 2xy + z, df/dy = x², df/dz = x exactly, on 4 points"


# --------------------------------------------------------------------------- task 6: XOR training


def _params(model: ValueMLP) -> np.ndarray:
    return np.array([p.data for p in model.parameters()])


def _grads(model: ValueMLP) -> np.ndarray:
    return np.array([p.grad for p in model.parameters()])


def _xor_losses(losses: Any, steps: int, N: int, what: str) -> np.ndarray:
    """What train_xor returned, as an array of ``steps`` losses, or a hint."""
    if losses is None:
        fail(f"{what} returned None. Return the list of losses, one per step.")
    if isinstance(losses, (numbers.Real, Value)):
        fail(f"{what} returned one number; return the list of all {steps} losses, one per step.")
    try:
        losses = [float(v.data if isinstance(v, Value) else v) for v in losses]
    except (TypeError, ValueError):
        fail(f"{what} should return a list of {steps} numbers (the loss before each update).")
    if len(losses) != steps:
        if len(losses) == steps + 1:
            extra = "one loss too many: record one loss per step, the one computed before that step's update."
        elif len(losses) == steps * N:
            extra = (f"one loss per example ({steps} x {N}): full-batch gradient descent records ONE loss per step, "
                     "the mean over all N examples, and makes one update per step.")
        elif not losses:
            extra = "the list is empty: append the loss at every step."
        else:
            extra = f"record exactly one loss per step ({steps} steps)."
        fail(f"{what} returned {len(losses)} losses, expected {steps}: {extra}")
    return np.array(losses)


def _fail_untrained(got: np.ndarray, grads: np.ndarray, what: str) -> NoReturn:
    """The hint when the model's parameters are what they were before the call."""
    if np.allclose(got, got[0], rtol=1e-12, atol=0.0):
        if not np.any(grads):
            fail(f"{what}: the loss never changes and every p.grad is 0 after the call: the gradients were "
                 "reset after loss.backward() and before the update, so every update subtracted 0. "
                 "Reset them (model.zero_grad()) BEFORE loss.backward(), then update.")
        fail(f"{what}: the loss never changes and the model's parameters are unchanged, although the gradients "
             "were computed: the update did not write into the parameters. `p = p - lr * p.grad` only "
             "rebinds the loop variable and `p.data - lr * p.grad` alone is discarded: write "
             "`p.data -= lr * p.grad`.")
    fail(f"{what}: the model passed in was not trained (its parameters are unchanged). Train the `model` "
         "argument itself; do not create a new ValueMLP inside the function.")


def _fail_wrong_losses(got: np.ndarray, expected: np.ndarray, N: int, what: str) -> NoReturn:
    """The hint for wrong losses that match no known mistake: a wrong loss, or a wrong update."""
    if not np.isclose(got[0], expected[0], rtol=1e-8, atol=1e-12):
        hint = ("the very first loss (before any update) is wrong, so the loss itself is: L is the MEAN over "
                "all N examples of (model(x_n) - y_n)**2, computed with the model you are given")
        if np.isclose(got[0], N * expected[0], rtol=1e-8):
            hint = "the first loss is N times too big: L is the MEAN over the N examples, divide the sum by N"
        elif np.isclose(got[0], expected[0] / 2, rtol=1e-8):
            hint = "the first loss is half the answer: L is the mean of (model(x_n) - y_n)**2, without a factor 1/2"
        elif np.isclose(got[0], math.sqrt(expected[0]), rtol=1e-8):
            hint = ("that is the root of the mean squared error; L is the mean squared error itself "
                    "(no square root)")
        fail(f"{what}: {hint} (got {got[0]:.6g}, expected {expected[0]:.6g}).")
    k = int(np.argmax(~np.isclose(got, expected, rtol=1e-8, atol=1e-12)))
    fail(f"the losses of {what} are right at first but differ from step {k} on (got {got[k]:.6g}, expected "
         f"{expected[k]:.6g}): the update is wrong. Each step: loss over all N examples, reset the gradients, "
         "loss.backward(), then `p.data -= lr * p.grad` for EVERY parameter in model.parameters(), with the "
         "lr you are given.")


@task("graph_xor_training", points=1, timeout=30, references=[fit])
def check_graph_xor_training(fn):
    X, y = xor_data(12, 0.1, seed=0)
    lr, steps, seed = 0.5, 15, 3
    N = len(X)

    def reference(**kwargs) -> tuple[np.ndarray, np.ndarray]:
        m = ValueMLP(2, [2, 1], seed=seed)
        losses = fit(m, X, y, **{"lr": lr, "steps": steps, **kwargs})
        return np.array(losses), _params(m)

    expected, expected_params = reference()
    model = ValueMLP(2, [2, 1], seed=seed)
    initial = _params(model)
    what = f"train_xor(model, X, y, lr={lr}, steps={steps})"
    got = _xor_losses(_call(fn, model, X, y, lr, steps), steps, N, what)
    params, grads = _params(model), _grads(model)
    if np.array_equal(params, initial):
        _fail_untrained(got, grads, what)
    if not np.allclose(got, expected, rtol=1e-8, atol=1e-12):
        variants = {
            "your losses are shifted by one step: each was computed AFTER its update. Record the loss "
            "computed before the update (the first entry is the loss of the untouched model)":
                lambda: reference(steps=steps + 1)[0][1:],
            "the gradients were not reset between steps, so each step used the sum of all gradients so far: "
            "set p.grad = 0 for every parameter (model.zero_grad()) before loss.backward()":
                lambda: reference(zero_grad=False)[0],
            "the loss goes up: the update is p.data -= lr * p.grad (minus, against the gradient)":
                lambda: reference(lr=-lr)[0],
            f"every step is {N} times too small: the mean loss already contains the 1/N, so do not divide "
            "the gradient (or lr) by N again": lambda: reference(lr=lr / N)[0],
            "L is the MEAN over the N examples: your loss is the sum (N times too big, and so are its "
            "gradients and the steps)": lambda: N * reference(lr=lr * N)[0],
        }
        sgd = ValueMLP(2, [2, 1], seed=seed)
        for _ in range(steps):
            for i in range(N):
                fit(sgd, X[i:i + 1], y[i:i + 1], lr=lr, steps=1)
        if np.allclose(params, _params(sgd), rtol=1e-8, atol=1e-12):
            fail(f"{what}: you updated the parameters after every example (stochastic gradient descent). The task "
                 "asks for full-batch gradient descent: at each step, ONE loss, the mean over all N examples, "
                 "then one backward pass and one update.")
        for hint, wrong in variants.items():
            if np.allclose(got, wrong(), rtol=1e-8, atol=1e-12):
                fail(f"the losses of {what} are wrong: {hint}.")
        _fail_wrong_losses(got, expected, N, what)
    if not np.allclose(params, expected_params, rtol=1e-8, atol=1e-12):
        fail(f"{what}: the losses are right but the model's parameters after the call are not those after "
             f"{steps} updates. Make exactly one update per step, after recording that step's loss, and no "
             "update after the loop.")
    return f"the loss history and the parameters after {steps} gradient-descent steps match the reference"


# --------------------------------------------------------------------------- task 7: your own engine
#
# The learner's CLASS is only ever run inside ``call(_run_program, cls, leaves, ops)``: a function of this
# module that builds one expression graph with the class, calls ``backward()`` on its last node and returns
# plain floats (every node's data and grad). The verdict is decided here, on those numbers, against the
# library's engine (``Value``) running the same program.

#: The operations of a program. Binary on two nodes: "+", "*", "-", "/"; with a number on the right:
#: "+c", "*c", "-c", "/c", "**" (a number exponent); with a number on the left (reflected): "c+", "c*",
#: "c-", "c/"; unary: "neg", "tanh", "exp", "relu".
_SYMBOL = {"+": "+", "*": "*", "-": "-", "/": "/"}
_UNARY = ("neg", "tanh", "exp", "relu")


def _apply(nodes: list, op: tuple):
    kind = op[0]
    if kind in _SYMBOL:
        a, b = nodes[op[1]], nodes[op[2]]
        return a + b if kind == "+" else a * b if kind == "*" else a - b if kind == "-" else a / b
    if kind in ("+c", "*c", "-c", "/c", "**"):
        a, c = nodes[op[1]], op[2]
        return (a + c if kind == "+c" else a * c if kind == "*c" else a - c if kind == "-c"
                else a / c if kind == "/c" else a ** c)
    if kind in ("c+", "c*", "c-", "c/"):
        c, a = op[1], nodes[op[2]]
        return c + a if kind == "c+" else c * a if kind == "c*" else c - a if kind == "c-" else c / a
    a = nodes[op[1]]
    return -a if kind == "neg" else a.tanh() if kind == "tanh" else a.exp() if kind == "exp" else a.relu()


def _plain(x):
    """A learner's ``.data``/``.grad`` as a float, or a short description of what it is instead."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    return f"<{type(x).__name__}>"


@runs_with_learner_code
def _is_value_subclass(cls) -> bool:
    """Whether the learner's class is (a subclass of) the library's Value."""
    return isinstance(cls, type) and issubclass(cls, Value)


@runs_with_learner_code
def _run_program(cls, leaves: list, ops: list):
    """Build the program with ``cls``, call ``backward()`` on its last node; return plain numbers.

    Returns ``{"data": [...], "grad": [...]}`` (one entry per node, leaves first) or
    ``{"not_implemented": method}`` when a method still raises NotImplementedError.
    """
    import traceback

    try:
        nodes = [cls(x) for x in leaves]
        for op in ops:
            nodes.append(_apply(nodes, op))
        nodes[-1].backward()
        return {"data": [_plain(getattr(n, "data", None)) for n in nodes],
                "grad": [_plain(getattr(n, "grad", None)) for n in nodes]}
    except NotImplementedError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        return {"not_implemented": frames[-1].name if frames else "?"}


def _value_nodes(leaves: list, ops: list) -> list:
    nodes = [Value(x) for x in leaves]
    for op in ops:
        nodes.append(_apply(nodes, op))
    return nodes


def _buggy_grads(leaves: list, ops: list, bug: str) -> list[float]:
    """Every node's grad after a backward pass with one classic engine bug (on the library's graph)."""
    nodes = _value_nodes(leaves, ops)
    root = nodes[-1]
    order = topological_order(root)
    if bug in _BUGGY_BACKWARDS:
        root.grad = 1.0
        _BUGGY_BACKWARDS[bug](root, order)
    return [n.grad for n in nodes]


def _backward_assign(root: Value, order: list) -> None:
    """`=` instead of `+=`."""
    for node in reversed(order):
        for child, local in zip(node.inputs, node.local_grads):
            child.grad = local * node.grad


def _backward_inputs_first(root: Value, order: list) -> None:
    """The nodes walked inputs-first."""
    for node in order:
        for child, local in zip(node.inputs, node.local_grads):
            child.grad += local * node.grad


def _backward_times_data(root: Value, order: list) -> None:
    """local * node.data instead of local * node.grad."""
    for node in reversed(order):
        for child, local in zip(node.inputs, node.local_grads):
            child.grad += local * node.data


def _backward_no_visited(root: Value, order: list) -> None:
    """micrograd's recursive build without the visited set (a node once per path that reaches it)."""
    dup: list = []
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            dup.append(node)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(node.inputs))
    for node in reversed(dup):
        for child, local in zip(node.inputs, node.local_grads):
            child.grad += local * node.grad


def _backward_recursive(root: Value, order: list) -> None:
    """Each node recurses into its inputs whenever it receives a gradient."""
    def propagate(node):
        for child, local in zip(node.inputs, node.local_grads):
            child.grad += local * node.grad
            propagate(child)
    propagate(root)


_BUGGY_BACKWARDS: dict[str, Callable[[Value, list], None]] = {
    "assign": _backward_assign,
    "forward": _backward_inputs_first,
    "data": _backward_times_data,
    "no_visited": _backward_no_visited,
    "recursive": _backward_recursive,
}


ENGINE_BUGS = {
    "assign": "a node used twice keeps only the LAST path's gradient: your backward uses `=` "
              "(`child.grad = local * node.grad`); gradients from several paths add up: "
              "`child.grad += local * node.grad`",
    "no_visited": "a shared node passed its gradient on more than once: your topological sort appends a node once per "
                  "path that reaches it (a recursive `build` without a `visited` set, as in micrograd before the set). "
                  "Keep a set of visited nodes so each node is in the order exactly once "
                  "(your topological_sort of Task 4)",
    "recursive": "a shared node passed its gradient on before all of its users had contributed, and more than once: "
                 "your backward recurses into a node's inputs as soon as the node receives a gradient (once per path, "
                 "each time with its partial sum). Sort the nodes first (topological order), then visit them in "
                 "REVERSE order, each exactly once",
    "forward": "the nodes were visited inputs-first: walk the topological order in REVERSE (root first), "
               "`for node in reversed(order)`, so a node is complete before it passes its gradient on",
    "data": "you multiplied the local derivative by node.data (the node's VALUE); the chain rule multiplies it "
            "by the upstream GRADIENT: `child.grad += local * node.grad`",
}

#: Single-operation programs: each op alone on inputs that tell the usual mistakes apart.
_UNIT = [
    ("+", [0.7, -1.3], [("+", 0, 1)], "a + b", "1 and 1"),
    ("*", [0.7, -1.3], [("*", 0, 1)], "a * b", "b and a (each input gets the OTHER one)"),
    ("tanh", [0.8], [("tanh", 0)], "a.tanh()", "1 - t**2 with t = tanh(a), the OUTPUT"),
    ("c*", [0.7], [("c*", 2.5, 0)], "2.5 * a", "2.5 (Python calls a.__rmul__(2.5))"),
    (None, None, None, None, None),  # here the shared-node programs run (they use only +, *, tanh)
    ("**", [1.7], [("**", 0, 3)], "a ** 3", "n * a**(n - 1)"),
    ("**", [1.7], [("**", 0, -0.5)], "a ** -0.5", "n * a**(n - 1), for any real n"),
    ("neg", [0.7], [("neg", 0)], "-a", "-1"),
    ("-", [0.7, -1.3], [("-", 0, 1)], "a - b", "1 and -1"),
    ("/", [0.7, -1.3], [("/", 0, 1)], "a / b", "1/b and -a/b**2"),
    ("exp", [0.8], [("exp", 0)], "a.exp()", "e**a, the output itself"),
    ("relu", [0.8], [("relu", 0)], "a.relu() at a > 0", "1 for a > 0"),
    ("relu", [-0.8], [("relu", 0)], "a.relu() at a < 0", "0 for a < 0"),
    ("+c", [0.7], [("+c", 0, 2.5)], "a + 2.5", "1"),
    ("*c", [0.7], [("*c", 0, 2.5)], "a * 2.5", "2.5"),
    ("c+", [0.7], [("c+", 2.5, 0)], "2.5 + a", "1 (Python calls a.__radd__(2.5))"),
    ("c-", [0.7], [("c-", 2.5, 0)], "2.5 - a", "-1 (Python calls a.__rsub__(2.5))"),
    ("c/", [0.7], [("c/", 2.5, 0)], "2.5 / a", "-2.5/a**2 (Python calls a.__rtruediv__(2.5))"),
]

_REFLECTED = {"c+": "__radd__", "c*": "__rmul__", "c-": "__rsub__", "c/": "__rtruediv__"}


def _unit_mistakes(kind: str, leaves: list, ops: list) -> dict:
    """What the usual wrong local rules give, as every node's grad, for a one-operation program."""
    a = leaves[0]
    if kind == "*":
        b = leaves[1]
        return {"multiplication swaps: a gets b * out.grad and b gets a * out.grad (yours are the other way round)":
                [a, b, 1.0]}
    if kind == "-":
        return {"for a - b the input b gets -out.grad (local derivative -1); yours gets +out.grad": [1.0, 1.0, 1.0]}
    if kind == "/":
        b = leaves[1]
        return {"the sign of d(a/b)/db: it is -a/b**2": [1 / b, a / b ** 2, 1.0]}
    if kind == "**":
        n = ops[0][2]
        return {"the power rule lowers the exponent: n * a**(n - 1), not n * a**n": [n * a ** n, 1.0],
                "the power rule has the factor n in front: n * a**(n - 1)": [a ** (n - 1), 1.0]}
    if kind == "tanh":
        t = math.tanh(a)
        return {"tanh's local derivative is 1 - t**2 with t = tanh(a), the OUTPUT; you used the input, 1 - a**2":
                [1 - a * a, 1.0],
                "tanh's local derivative is 1 - t**2; you stored t itself": [t, 1.0]}
    if kind == "exp":
        return {"exp's local derivative is e**a (the output), not a (the input)": [a, 1.0]}
    if kind == "relu":
        if a > 0:
            return {"relu's local derivative is 1 for a > 0 (not the value a)": [a, 1.0]}
        return {"relu's local derivative is 0 for a < 0: no gradient flows through a unit that is off": [1.0, 1.0]}
    return {}


def _random_program(rng: np.random.Generator, n_leaves: int, n_ops: int) -> tuple[list, list]:
    """A random expression graph on which the library's engine is well defined (no huge exp, no 0 division)."""
    leaves = [float(np.round(rng.uniform(-1.5, 1.5), 3)) for _ in range(n_leaves)]
    while True:
        nodes = [Value(x) for x in leaves]
        ops: list = []
        while len(ops) < n_ops:
            k = len(nodes)
            # recent nodes are preferred, and any node may be used again (fan-out)
            i = int(min(k - 1, abs(rng.normal(k - 1, 2.0))))
            j = int(rng.integers(0, k))
            kind = str(rng.choice(["+", "*", "-", "/", "+c", "*c", "-c", "/c", "**", "c+", "c*", "c-", "c/",
                                   "neg", "tanh", "exp", "relu"]))
            c = float(np.round(rng.uniform(0.5, 2.5), 2)) * float(rng.choice([-1, 1]))
            op: Any  # (kind, operand, ...): its length and types depend on kind
            if kind in _SYMBOL:
                op = (kind, i, j)
            elif kind == "**":
                op = (kind, i, int(rng.choice([2, 3, -1])))
            elif kind in ("+c", "*c", "-c", "/c"):
                op = (kind, i, c)
            elif kind in _REFLECTED:
                op = (kind, c, i)
            else:
                op = (kind, i)
            target = nodes[op[2] if kind in _REFLECTED else op[1]]
            x = target.data
            other = nodes[j].data if kind in _SYMBOL else 0.0  # read only for "/"
            if ((kind == "/" and abs(other) < 0.3) or (kind == "c/" and abs(x) < 0.3)
                    or (kind == "**" and op[2] < 0 and abs(x) < 0.3) or (kind == "exp" and x > 3)
                    or (kind in ("+", "*", "-", "/", "**") and abs(x) > 20)):
                continue
            nodes.append(_apply(nodes, op))
            ops.append(op)
        if all(abs(n.data) < 1e3 for n in nodes):
            return leaves, ops


def _reuse_programs() -> list[tuple[str, list, list]]:
    return [
        ("x * x at x = 3", [3.0], [("*", 0, 0)]),
        ("x + x at x = 3", [3.0], [("+", 0, 0)]),
        ("x * x + x at x = 3", [3.0], [("*", 0, 0), ("+", 1, 0)]),
        ("a node used by three others: u = x * y; f = (u + x) * u.tanh() + 2 * u",
         [0.6, -1.1], [("*", 0, 1), ("+", 2, 0), ("tanh", 2), ("*", 3, 4), ("c*", 2.0, 2), ("+", 5, 6)]),
        ("a diamond: c = a * b, d = c + a, e = c * d, f = tanh(e) + d",
         [2.0, -1.0], [("*", 0, 1), ("+", 2, 0), ("*", 2, 3), ("tanh", 4), ("+", 5, 3)]),
    ]


def _describe_program(leaves: list, ops: list) -> Iterator[str]:
    """One "n<k> = <expression>" per operation of the program."""
    names = [f"x{i}" for i in range(len(leaves))]
    for k, op in enumerate(ops):
        kind = op[0]
        if kind in _SYMBOL:
            text = f"{names[op[1]]} {kind} {names[op[2]]}"
        elif kind == "**":
            text = f"{names[op[1]]} ** {op[2]}"
        elif kind in ("+c", "*c", "-c", "/c"):
            text = f"{names[op[1]]} {kind[0]} {op[2]}"
        elif kind in _REFLECTED:
            text = f"{op[1]} {kind[1]} {names[op[2]]}"
        elif kind == "neg":
            text = f"-{names[op[1]]}"
        else:
            text = f"{names[op[1]]}.{kind}()"
        names.append(f"n{k + 1}")
        yield f"n{k + 1} = {text}"


def _program_text(leaves: list, ops: list) -> str:
    start = ", ".join(f"x{i} = {x:g}" for i, x in enumerate(leaves))
    return f"{start}; " + "; ".join(_describe_program(leaves, ops)) + f"; backward() on n{len(ops)}"


def _engine_run(cls, leaves: list, ops: list, what: str) -> tuple[np.ndarray, np.ndarray]:
    out = _call(_run_program, cls, list(leaves), [tuple(op) for op in ops], hints=(
        ("unsupported operand type", "Python calls the REFLECTED method when the number comes first (2.5 + a calls "
         "a.__radd__(2.5)), and the operators need both directions: define __radd__, __rmul__, __rsub__ and "
         "__rtruediv__, and wrap a number as a leaf of your class (`other if isinstance(other, Scalar) else "
         "Scalar(other)`)."),
        ("has no attribute 'data'", "A number has no .data: wrap a plain number as a leaf of your class before "
         "using it (`other = other if isinstance(other, Scalar) else Scalar(other)`)."),
        ("did not return within", "Does backward() loop forever, e.g. a topological sort that never marks a node "
         "as visited?"),
    ))
    if isinstance(out, dict) and "not_implemented" in out:
        method = out["not_implemented"]
        if method == "__init__":
            from ._core import _NotImplementedYet
            raise _NotImplementedYet()
        fail(f"`{method}` still raises NotImplementedError (your class needs it for {what}): "
             "write it, run its cell, then run this check again.")
    data, grad = out["data"], out["grad"]
    for name, values in (("data", data), ("grad", grad)):
        bad = next((v for v in values if isinstance(v, str)), None)
        if bad is not None:
            fail(f"on {what} a node's .{name} is {bad}, not a number: .data and .grad must be plain floats "
                 "(store `self.data = float(data)`; keep the local derivatives as floats too, not nodes).")
    return np.array(data), np.array(grad)


def _node_name(k: int, n_leaves: int) -> str:
    return f"x{k}" if k < n_leaves else f"n{k - n_leaves + 1}"


def _reference(leaves: list, ops: list) -> tuple[np.ndarray, np.ndarray]:
    ref = _value_nodes(leaves, ops)
    ref[-1].backward()
    return np.array([n.data for n in ref]), np.array([n.grad for n in ref])


def _compare_unit(fn, kind, leaves, ops, what, text, rule):
    data, grad = _engine_run(fn, leaves, ops, what)
    exp_data, exp_grad = _reference(leaves, ops)
    if not np.allclose(data, exp_data, rtol=1e-12, atol=1e-15):
        hint = " Check what this operation computes."
        if kind in _REFLECTED:
            hint = (f" Python calls a.{_REFLECTED[kind]}(2.5) for `{text}`, with the number as `other`, and the "
                    "number comes FIRST: e.g. `return other + (-self)` for __rsub__, `return other * self ** -1` "
                    "for __rtruediv__.")
        fail(f"the forward value of {what} is {data[-1]:.6g}, expected {exp_data[-1]:.6g}.{hint}")
    if grad[-1] == 0.0:
        fail(f"after {what} and out.backward(), out.grad is 0 (and so is every other grad): backward() must SEED "
             "the output, `self.grad = 1.0`, before the first node passes its gradient on.")
    if grad[-1] != 1.0:
        fail(f"after out.backward() on {what}, out.grad is {grad[-1]:.6g}: backward() must set it to 1 "
             "(d out / d out = 1) before passing gradients on.")
    if np.allclose(grad, exp_grad, rtol=1e-10, atol=1e-13):
        return
    if not np.any(grad[:-1]) and np.any(exp_grad[:-1]):
        fail(f"after out.backward() on {what}, out.grad is 1 but every other grad is 0: the seed `self.grad = 1.0` "
             "must be set BEFORE the first node passes its gradient on (at the start of backward(), not at the end); "
             "or are the local derivatives stored as 0?")
    for hint, wrong in _unit_mistakes(kind, leaves, ops).items():
        if np.allclose(grad, wrong, rtol=1e-10, atol=1e-13):
            fail(f"the gradients of {what} are wrong: {hint}.")
    for bug, hint in ENGINE_BUGS.items():
        if np.allclose(grad, _buggy_grads(leaves, ops, bug), rtol=1e-10, atol=1e-13):
            fail(f"the gradients of {what} are wrong: {hint}.")
    got = ", ".join(f"{g:.6g}" for g in grad[:-1])
    want = ", ".join(f"{g:.6g}" for g in exp_grad[:-1])
    fail(f"the gradients of {what} are ({got}), expected ({want}): the local derivative of {text} "
         f"is {rule}, and backward() multiplies it by out.grad.")


def _compare_program(fn, name, leaves, ops):
    what = name or _program_text(leaves, ops)
    data, grad = _engine_run(fn, leaves, ops, what)
    exp_data, exp_grad = _reference(leaves, ops)
    if not np.allclose(data, exp_data, rtol=1e-12, atol=1e-15):
        k = int(np.argmax(~np.isclose(data, exp_data, rtol=1e-12, atol=1e-15)))
        fail(f"on {what}: the forward value of {_node_name(k, len(leaves))} is {data[k]:.6g}, expected "
             f"{exp_data[k]:.6g}.")
    if np.allclose(grad, exp_grad, rtol=1e-9, atol=1e-12):
        return
    for bug, hint in ENGINE_BUGS.items():
        if np.allclose(grad, _buggy_grads(leaves, ops, bug), rtol=1e-9, atol=1e-12):
            fail(f"on {what}: {hint}.")
    k = int(np.argmax(~np.isclose(grad, exp_grad, rtol=1e-9, atol=1e-12)))
    fail(f"on {what}: the grad of {_node_name(k, len(leaves))} is {grad[k]:.6g}, expected {exp_grad[k]:.6g}, "
         "although every operation alone was right. Is every node visited exactly once, in reverse "
         "topological order, and does every input ADD local * node.grad (`+=`)?")


@task("graph_own_engine", points=2, timeout=60, references=[Value, topological_order, backward_steps],
      takes_class=True)
def check_graph_own_engine(fn):
    # in the instructor's grader the class is a stand-in (RemoteCallable) that says it is a class
    if not (isinstance(fn, type) or getattr(fn, "is_class", False)):
        _call(fn, 0.5)  # an untouched stub raises NotImplementedError here
        fail(f"pass your CLASS itself (check_graph_own_engine(Scalar)), not {type(fn).__name__} "
             f"{getattr(fn, '__name__', '')}: the check builds graphs with it.")
    if call(_is_value_subclass, fn):
        fail(f"your class {fn.__name__} is a subclass of the library's Value, so its operations and backward() "
             "are the library's: this task asks you to write them yourself. Start from `class Scalar:`.")
    # 1. every operation alone (its forward value and its local rule); after the four operations the
    # shared-node programs use, 2. shared nodes; then 3. random expression graphs with fan-out
    rng = np.random.default_rng(18)
    shared = _reuse_programs()
    randoms = [_random_program(rng, int(rng.integers(2, 4)), int(rng.integers(4, 11))) for _ in range(25)]
    for kind, leaves, ops, text, rule in _UNIT:
        if kind is None:
            for name, p_leaves, p_ops in shared:
                _compare_program(fn, name, p_leaves, p_ops)
            continue
        assert leaves is not None  # every row but the marker above has its inputs
        what = f"out = {text} with a = {leaves[0]:g}" + (f", b = {leaves[1]:g}" if len(leaves) == 2 else "")
        _compare_unit(fn, kind, leaves, ops, what, text, rule)
    for leaves, ops in randoms:
        _compare_program(fn, None, leaves, ops)
    # 4. a chain deeper than Python's recursion limit
    leaves, ops = [0.3], [("neg", k) for k in range(1500)]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, _DEFAULT_RECURSION_LIMIT))
    try:
        data, grad = _engine_run(fn, leaves, ops, "a chain of 1,501 nodes (x -> -x -> --x ...)")
    except Mistake as exc:
        if "RecursionError" in str(exc) or "recursed too deeply" in str(exc):
            fail("backward() on a chain of 1,501 nodes hit Python's recursion limit: build the order with an "
                 "explicit stack (your topological_sort of Task 4), not a recursive helper.")
        raise
    finally:
        sys.setrecursionlimit(limit)
    if not np.isclose(grad[0], 1.0):
        fail(f"on a chain of 1,501 negations x.grad is {grad[0]:.6g}, expected 1 (an even number of sign flips).")
    # 5. the lecture's XOR net, trained with the learner's class
    _check_xor_training(fn)
    return (f"every operation's forward value and local rule, {len(shared) + len(randoms)} graphs with shared nodes "
            "(x*x, x+x, a node used three times, 25 random graphs) and a 1,501-node chain match the library's "
            "engine, and the lecture's XOR net trained with your class follows the library's loss curve to 100 %")


# --------------------------------------------------------------------------- task 7: XOR with your own engine


def _xor_reference(params: list, X: list, y: list, lr: float, steps: int, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """The library's loop (``fit``) on the 2-2-1 net (tanh hidden, sigmoid output) started from ``params``."""
    model = ValueMLP(2, [2, 1], seed=0)
    for p, v in zip(model.parameters(), params):
        p.data = float(v)
    losses = fit(model, np.array(X), np.array(y), lr=lr, steps=steps, **kwargs)
    return np.array(losses), _params(model)


def _xor_predict(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    w = params
    H = np.tanh(X @ np.array([[w[0], w[3]], [w[1], w[4]]]) + np.array([w[2], w[5]]))
    return 1.0 / (1.0 + np.exp(-(H @ np.array([w[6], w[7]]) + w[8])))


@runs_with_learner_code
def _xor_with_class(cls, X: list, y: list, params: list, lr: float, steps: int) -> dict:
    """Train the 2-2-1 XOR net (tanh hidden, sigmoid output) built from ``cls``: the loop of the library's ``fit``.

    Returns plain numbers, ``{"losses": [...], "params": [...]}``.
    """
    p = [cls(v) for v in params]
    losses = []
    for _ in range(steps):
        total = cls(0.0)
        for (x0, x1), t in zip(X, y):
            h0 = (p[0] * x0 + p[1] * x1 + p[2]).tanh()
            h1 = (p[3] * x0 + p[4] * x1 + p[5]).tanh()
            out = 1.0 / (1.0 + (-(p[6] * h0 + p[7] * h1 + p[8])).exp())
            total = total + (out - t) ** 2
        loss = total / len(X)
        for q in p:
            q.grad = 0.0
        loss.backward()
        for q in p:
            q.data = q.data - lr * q.grad
        losses.append(_plain(loss.data))
    return {"losses": losses, "params": [_plain(q.data) for q in p]}


def _check_xor_training(fn) -> None:
    """The lecture's XOR net (40 points, seed 3, lr = 1) trained for 100 steps with the learner's class."""
    Xl, yl = xor_data(40, 0.15, seed=0)
    X, y = [[float(a), float(b)] for a, b in Xl], [float(t) for t in yl]
    start = [float(p.data) for p in ValueMLP(2, [2, 1], seed=3).parameters()]
    out = _call(_xor_with_class, fn, X, y, start, 1.0, 100)
    losses, params = out["losses"], out["params"]
    if any(isinstance(v, str) for v in losses + params):
        fail("training the XOR net with your class gave a .data that is not a number: keep .data a plain float.")
    expected, _ = _xor_reference(start, X, y, 1.0, 100)
    got = np.array(losses)
    if not np.allclose(got, expected, rtol=1e-8, atol=1e-12):
        k = int(np.argmax(~np.isclose(got, expected, rtol=1e-8, atol=1e-12)))
        fail(f"the lecture's XOR net (2-2-1, seed 3) trained with your class: the loss at step {k} is {got[k]:.6g}, "
             f"expected {expected[k]:.6g}, although every graph above was right. Does your class keep state between "
             "calls of backward() (e.g. a class-level list of nodes, or an order cached on the node)?")
    acc = float(np.mean((_xor_predict(np.array(params), Xl) > 0.5) == (yl > 0.5)))
    if acc < 1.0:
        fail(f"the XOR net trained with your class ends at {acc:.0%} accuracy, expected 100 %.")


# --------------------------------------------------------------------------- task 8: forward mode


class _Recorder:
    """``f`` for the learner, recording what each call received: "dual", "value" or "float" inputs."""

    #: The instructor's grader keeps it on its side: the sandboxed function calls back to it (as Counted).
    __grader_callback__ = True

    def __init__(self, func, name: str):
        self.func = func
        self.kinds: list[str] = []  # "dual", "value" or "float": what each call received
        self.__name__ = name

    def __call__(self, x):
        items = list(x)
        if any(isinstance(v, Dual) and v.tangent != 0.0 for v in items):
            self.kinds.append("dual")
        elif any(isinstance(v, Value) for v in items):
            self.kinds.append("value")
        else:
            self.kinds.append("float")
        return self.func(items)


def _f_mixed(x):
    """(x0 x1).tanh() + exp(x2) / x0 + x1 ** 2 (three inputs)."""
    return (x[0] * x[1]).tanh() + x[2].exp() / x[0] + x[1] ** 2


def _f_single(x):
    """x0 * exp(x0) (one input)."""
    return x[0] * x[0].exp()


def _floats_of(x):
    return [v if isinstance(v, (Dual, Value)) else float(v) for v in x]


@task("graph_forward_mode", points=1, references=[gradient_forward, jvp, derivatives_forward, gradient_reverse])
def check_graph_forward_mode(fn):
    cases = [(_f_mixed, "f(x) = tanh(x0 x1) + exp(x2) / x0 + x1**2", [0.7, -1.2, 0.4]),
             (sum_tanh_products, "f(x) = sum_i tanh(x_i) x_(i+1)", [0.3, -0.5, 1.1, 0.8, -1.4]),
             (_f_single, "f(x) = x0 exp(x0)", [0.6])]
    for func, text, x in cases:
        n = len(x)
        rec = _Recorder(func, func.__name__)
        what = f"gradient_forward_mode(f, x) for {text} at x = {x}"
        out = _call(fn, rec, list(x), hints=(
            ("object has no attribute 'exp'", "f calls .exp() and .tanh() on its inputs: pass EVERY input as a Dual "
             "(Dual(x_j, 0.0) for the inputs that are not seeded)."),
            ("object has no attribute 'tanh'", "f calls .exp() and .tanh() on its inputs: pass EVERY input as a Dual "
             "(Dual(x_j, 0.0) for the inputs that are not seeded)."),
        ))
        expected = np.array(gradient_reverse(func, x))
        if "value" in rec.kinds:
            fail(f"{what}: your function called f with Value nodes: that is reverse mode (Value and backward()). "
                 "This task asks for forward mode: one pass per input with Dual numbers.")
        if rec.kinds and "dual" not in rec.kinds:
            fail(f"{what}: your function called f only with plain numbers (or Duals whose tangents are all 0), so no "
                 "derivative was carried: is it a finite difference? Seed the inputs as Dual numbers, "
                 "Dual(x_j, 1.0 if j == i else 0.0), and read "
                 "the output's .tangent.")
        if not rec.kinds:
            fail(f"{what}: your function never called f. Run f once per input, on a list of Dual numbers.")
        if out is not None and not isinstance(out, (list, tuple, np.ndarray)) and n > 1:
            if isinstance(out, Dual) or isinstance(out, numbers.Real):
                t = out.tangent if isinstance(out, Dual) else float(out)
                if math.isclose(t, float(expected.sum()), rel_tol=1e-10, abs_tol=1e-12):
                    fail(f"{what} returned one number, the sum of the partial derivatives: you seeded EVERY input "
                         "with tangent 1, which gives the derivative along (1, 1, ..., 1). Seed x_i alone with 1 "
                         "(the others with 0), one pass per i, and return the n tangents as a list.")
            fail(f"{what} should return a list of {n} numbers (df/dx_0, ..., df/dx_{n - 1}), got {type(out).__name__}.")
        if isinstance(out, (list, tuple)) and any(isinstance(v, Dual) for v in out):
            fail(f"{what} returned Dual numbers: return each pass's output `.tangent` (a float).")
        if isinstance(out, (list, tuple, np.ndarray)) and len(out) != n:
            fail(f"{what} returned {len(out)} numbers for {n} inputs: one partial derivative per input, "
                 "`for i in range(len(x))`.")
        dual_calls = rec.kinds.count("dual")
        mistakes = {
            "you seeded EVERY input with tangent 1 in each pass, which gives the derivative along (1, 1, ..., 1), "
            "the sum of all partial derivatives. Seed x_i alone with 1 and the others with 0":
                [float(expected.sum())] * n,
            "the seeds were not reset between passes: pass i had tangent 1 on x_0 ... x_i (so it returned the sum "
            "of the first i + 1 partials). Build a fresh list of Duals for every pass, with 1 only at index i":
                list(np.cumsum(expected)),
            "you returned the VALUE of f (the output's .value); the derivative is carried in the output's "
            ".tangent": [float(func([Value(v) for v in x]).data)] * n,
        }
        _expect_advised(np.asarray(out, dtype=np.float64) if isinstance(out, (list, tuple, np.ndarray)) and
                        all(isinstance(v, numbers.Real) for v in np.ravel(out)) else out,
                        expected, what, mistakes=mistakes,
                        advice="Pass i seeds Dual(x_i, 1.0) and Dual(x_j, 0.0) for j != i, calls f once, and "
                               "returns the output's .tangent as df/dx_i.")
        if dual_calls != n:
            fail(f"{what}: the gradient is right, but f was called {dual_calls} times with Dual numbers for {n} "
                 "inputs: "
                 "forward mode needs exactly one pass per input (the point of this task is that cost).")
    return "one forward-mode pass per input, each giving one partial derivative, on 3 functions"
