"""Checks for exercises/02_computational_graph.ipynb (the scalar autodiff engine).

Every reference answer comes from :mod:`backprop_lib.engine` (``Value``) or
:mod:`backprop_lib.nn_scalar`; the wrong answers in ``mistakes`` are what the typical
mistakes (``=`` instead of ``+=``, swapped multiply gradients, a missing ``out.grad``
factor, a shared node visited twice) produce on the same cases.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Value, topological_order
from ..nn_scalar import ValueMLP, fit, xor_data
from ._core import call, expect_array, expect_close, fail, task

__all__ = [
    "check_graph_mul_backward",
    "check_graph_pow_backward",
    "check_graph_tanh_backward",
    "check_graph_add_accumulate",
    "check_graph_topological_sort",
    "check_graph_grads_by_hand",
    "check_graph_xor_training",
]

FORGOT_CHAIN = "you forgot the chain factor: multiply the local derivative by the upstream gradient `out_grad`"


def _local_grads(build, *inputs: float) -> tuple[float, ...]:
    """d out / d input_i of ``build(*Values)`` from the engine (the reference)."""
    leaves = [Value(x) for x in inputs]
    out = build(*leaves)
    out.backward()
    return tuple(v.grad for v in leaves)


def _pair(out, what: str) -> np.ndarray:
    if isinstance(out, (tuple, list)) and len(out) == 2:
        try:
            return np.array([float(out[0]), float(out[1])])
        except (TypeError, ValueError):
            fail(f"{what} should return two numbers (da, db), got {out!r:.80}.")
    fail(f"{what} should return a tuple of two numbers (da, db), got {type(out).__name__} {out!r:.60}.")


@task("graph_mul_backward", points=1)
def check_graph_mul_backward(fn):
    for a, b, g in [(2.0, -3.0, 1.0), (0.5, 4.0, -2.0), (-1.5, 2.5, 0.3)]:
        da, db = _local_grads(lambda x, y: x * y, a, b)
        expected = np.array([da, db]) * g
        what = f"mul_backward({a}, {b}, out_grad={g})"
        out = _pair(call(fn, a, b, g), what)
        expect_array(out, expected, what, mistakes={
            "the gradients are swapped: for out = a * b, a gets b * out_grad and b gets a * out_grad": [a * g, b * g],
            FORGOT_CHAIN: [da, db],
            "the gradients are swapped AND the chain factor out_grad is missing: a gets b * out_grad": [a, b],
        })
    return "da = b·out_grad and db = a·out_grad on 3 cases"


@task("graph_pow_backward", points=1)
def check_graph_pow_backward(fn):
    for a, n, g in [(2.0, 3, 1.5), (-1.2, 2, 0.7), (4.0, 0.5, -1.0), (1.5, -1, 2.0)]:
        (d,) = _local_grads(lambda x: x ** n, a)
        what = f"pow_backward({a}, {n}, out_grad={g})"
        expect_close(call(fn, a, n, g), d * g, what, mistakes={
            FORGOT_CHAIN: d,
            "the exponent should drop by one: d(a**n)/da = n * a**(n - 1)": n * a ** n * g,
            "you forgot the factor n in front: d(a**n)/da = n * a**(n - 1)": a ** (n - 1) * g,
        })
    return "da = n·a^(n-1)·out_grad for integer, fractional and negative n"


@task("graph_tanh_backward", points=1)
def check_graph_tanh_backward(fn):
    for a, g in [(0.5, 2.0), (-1.3, -0.5), (20.0, 1.0), (0.0, 0.7)]:
        (d,) = _local_grads(lambda x: x.tanh(), a)
        what = f"tanh_backward({a}, out_grad={g})"
        out = call(fn, a, g)
        if isinstance(out, float) and not math.isfinite(out):
            fail(f"{what} returned {out}: use 1 - tanh(a)**2 (always finite), not a formula with exp or cosh.")
        expect_close(out, d * g, what, mistakes={
            FORGOT_CHAIN: d,
            "use the OUTPUT t = tanh(a) in the derivative: 1 - t**2, not 1 - a**2": (1 - a * a) * g,
            "the derivative of tanh is 1 - tanh(a)**2 (squared)": (1 - math.tanh(a)) * g,
            "the derivative of tanh is 1 - tanh(a)**2, not tanh(a)**2": math.tanh(a) ** 2 * g,
        }, atol=1e-12)
    return "da = (1 - tanh(a)²)·out_grad, finite even at a = 20"


@task("graph_add_accumulate", points=1)
def check_graph_add_accumulate(fn):
    # case 1: a already holds a gradient from another path; it must grow, not be replaced
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    out = a + b
    a.grad, b.grad, out.grad = 0.5, 0.0, 2.0
    call(fn, out)
    if out.grad != 2.0:
        fail("add_backward changed out.grad; it should only add to the inputs' gradients.")
    what = "after add_backward(out) with a.grad = 0.5, b.grad = 0, out.grad = 2, [a.grad, b.grad]"
    expect_array([a.grad, b.grad], [2.5, 2.0], what, mistakes={
        "you used `=` instead of `+=`: a.grad already held 0.5 from another path and it was overwritten": [2.0, 2.0],
    })
    # case 2: the same node on both sides, out = x + x
    x = Value(3.0, label="x")
    out = x + x
    out.grad = 3.0
    call(fn, out)
    expect_close(x.grad, 6.0, "after add_backward(out) for out = x + x with out.grad = 3, x.grad", mistakes={
        "you used `=` instead of `+=`: in out = x + x the second assignment overwrites the first, "
        "so x gets 3 instead of 3 + 3": 3.0,
    })
    return "adds out.grad to both inputs with +=, also when the same node is used twice"


def _diamond() -> Value:
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    c = a * b
    d = c + a      # a is used twice
    e = c * d      # c is used twice
    f = e.tanh() + d
    return f


@task("graph_topological_sort", points=1)
def check_graph_topological_sort(fn):
    chain = Value(0.3)
    for _ in range(2):
        chain = chain.tanh()
    deep = Value(0.1)
    for _ in range(20_000):
        deep = -deep
    for root, name in [(Value(1.0), "a single leaf"), (chain, "a chain of 3 nodes"),
                       (_diamond(), "a graph with shared nodes"), (deep, "a chain of 20,001 nodes")]:
        order = call(fn, root)
        what = f"topological_sort on {name}"
        if order is None:
            fail(f"{what} returned None. Did you forget `return order`?")
        try:
            order = list(order)
        except TypeError:
            fail(f"{what} should return a list of Value nodes, got {type(order).__name__}.")
        reference = topological_order(root)
        ids = [id(n) for n in order]
        if len(ids) != len(set(ids)):
            fail(f"{what}: a node appears more than once ({len(order)} entries for {len(reference)} nodes). "
                 "Your sort visits a shared node twice: keep a `visited` set and skip nodes already in it.")
        if set(ids) != {id(n) for n in reference}:
            fail(f"{what}: the list has {len(order)} nodes, the graph has {len(reference)}. "
                 "Every node reachable from root (through .inputs) must appear exactly once.")
        position = {i: k for k, i in enumerate(ids)}
        if len(order) > 1 and order[0] is root:
            fail(f"{what}: root comes first. Inputs must come before the nodes that use them, so the root is "
                 "last: append a node only after all its inputs (or reverse your list).")
        for node in order:
            for child in node.inputs:
                if position[id(child)] > position[id(node)]:
                    fail(f"{what}: a node appears before one of its inputs. Append a node only after all of "
                         "its inputs have been appended.")
    return "each node once, inputs before users, on shared nodes and a 20,001-node chain"


@task("graph_grads_by_hand", points=1)
def check_graph_grads_by_hand(fn):
    for x, y, z in [(2.0, -3.0, 1.0), (-1.5, 0.5, 4.0), (0.3, 2.0, -1.0)]:
        dx, dy, dz = _local_grads(lambda a, b, c: (a * b + c) * a, x, y, z)
        what = f"grads_by_hand({x}, {y}, {z})"
        out = call(fn, x, y, z)
        if not (isinstance(out, (tuple, list)) and len(out) == 3):
            fail(f"{what} should return a tuple of three numbers (df/dx, df/dy, df/dz), got {out!r:.60}.")
        expect_array([float(v) for v in out], [dx, dy, dz], what, mistakes={
            "x is used twice (in x*y and as the outer factor): add the gradients of BOTH paths; "
            "you kept only the path through x*y": [x * y, dy, dz],
            "x is used twice (in x*y and as the outer factor): add the gradients of BOTH paths; "
            "you kept only the outer-factor path (x*y + z)": [x * y + z, dy, dz],
            "for the product x*y the gradient for y is x times the upstream gradient x (= x**2)": [dx, x, dz],
        })
    return "df/dx = 2xy + z, df/dy = x², df/dz = x on 3 points"


@task("graph_xor_training", points=1, timeout=30)
def check_graph_xor_training(fn):
    X, y = xor_data(12, 0.1, seed=0)
    lr, steps = 0.5, 15
    expected = fit(ValueMLP(2, [2, 1], seed=3), X, y, lr=lr, steps=steps)
    forgot_zero = fit(ValueMLP(2, [2, 1], seed=3), X, y, lr=lr, steps=steps, zero_grad=False)
    ascent = fit(ValueMLP(2, [2, 1], seed=3), X, y, lr=-lr, steps=steps)
    model = ValueMLP(2, [2, 1], seed=3)
    losses = call(fn, model, X, y, lr, steps)
    what = f"train_xor(model, X, y, lr={lr}, steps={steps})"
    if losses is None:
        fail(f"{what} returned None. Return the list of losses, one per step.")
    try:
        losses = [float(v.data if isinstance(v, Value) else v) for v in losses]
    except (TypeError, ValueError):
        fail(f"{what} should return a list of {steps} numbers (the loss before each update).")
    expect_array(losses, expected, f"the losses of {what}", mistakes={
        "the gradients were not reset between steps: set p.grad = 0 for every parameter "
        "(model.zero_grad()) before loss.backward()": forgot_zero,
        "the loss goes up: the update is p.data -= lr * p.grad (minus, against the gradient)": ascent,
    }, rtol=1e-6, atol=1e-9)
    return f"the loss history of {steps} gradient-descent steps matches the reference"
