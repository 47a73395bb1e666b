"""Tests for backprop_lib.engine (Value) and backprop_lib.nn_scalar (ValueMLP, XOR helpers)."""

from __future__ import annotations

import math
import random
import re
import warnings

import numpy as np
import pytest

from backprop_lib import Value as TopLevelValue
from backprop_lib.engine import Value, topological_order
from backprop_lib.widgets.computational_graph import backward_steps, describe_rule, n_backward_steps
from backprop_lib.gradcheck import central_difference, rel_error
from backprop_lib.nn_scalar import ValueMLP, accuracy, best_linear_accuracy, fit, mse_loss, xor_data

# --------------------------------------------------------------------------- random graphs
# A random expression over a few leaves, using every op, with nodes reused (fan-out).
# The same recipe builds the graph for Value, for floats (finite differences) and for torch.

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "pow2", "pow3", "powhalf", "powneg1", "rpow"]
BINARY = ["+", "-", "*", "/", "r+", "r-", "r*", "r/"]


def make_recipe(seed: int, n_leaves: int = 3, n_ops: int = 14) -> list[tuple]:
    rnd = random.Random(seed)
    recipe = []
    for i in range(n_ops):
        k = n_leaves + i  # nodes available so far
        if rnd.random() < 0.45:
            recipe.append(("u", rnd.choice(UNARY), rnd.randrange(k)))
        else:
            recipe.append(("b", rnd.choice(BINARY), rnd.randrange(k), rnd.randrange(k), rnd.uniform(0.5, 2.0)))
    return recipe


def evaluate(recipe, leaves, lib):
    """Run the recipe. ``lib`` supplies exp/log/tanh/sigmoid/relu for the value type.

    Values are kept in a safe range (log and fractional powers of |x| + 1) so every op is
    defined and smooth at the evaluation point.
    """
    nodes = list(leaves)
    for step in recipe:
        if step[0] == "u":
            _, op, i = step
            x = nodes[i]
            y = {
                "neg": lambda: -x,
                "exp": lambda: lib["exp"](lib["tanh"](x)),
                "log": lambda: lib["log"](x * x + 1.0),
                "tanh": lambda: lib["tanh"](x),
                "sigmoid": lambda: lib["sigmoid"](x),
                "relu": lambda: lib["relu"](x),
                "pow2": lambda: x ** 2,
                "pow3": lambda: x ** 3,
                "powhalf": lambda: (x * x + 1.0) ** 0.5,
                "powneg1": lambda: (x * x + 1.0) ** -1,
                "rpow": lambda: 2.0 ** lib["tanh"](x),
            }[op]()
        else:
            _, op, i, j, c = step
            a, b = nodes[i], nodes[j]
            y = {
                "+": lambda: a + b,
                "-": lambda: a - b,
                "*": lambda: a * b,
                "/": lambda: a / (b * b + 1.0),
                "r+": lambda: c + a,
                "r-": lambda: c - a,
                "r*": lambda: c * a,
                "r/": lambda: c / (a * a + 1.0),
            }[op]()
        nodes.append(y)
    # the output uses every node, so each leaf and many intermediates fan out
    out = nodes[-1]
    for k, node in enumerate(nodes[:-1]):
        out = out + node * (0.1 * (k + 1))
    return out


VALUE_LIB = {
    "exp": Value.exp, "log": Value.log, "tanh": Value.tanh,
    "sigmoid": Value.sigmoid, "relu": Value.relu,
}
FLOAT_LIB = {
    "exp": math.exp, "log": math.log, "tanh": math.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)), "relu": lambda x: max(x, 0.0),
}


def leaf_values(seed: int, n: int = 3) -> list[float]:
    rnd = random.Random(1000 + seed)
    # keep away from 0 so relu is differentiable where finite differences probe it
    return [rnd.choice([-1, 1]) * rnd.uniform(0.3, 1.5) for _ in range(n)]


def value_grads(recipe, xs):
    leaves = [Value(x) for x in xs]
    out = evaluate(recipe, leaves, VALUE_LIB)
    out.backward()
    return out.data, [v.grad for v in leaves]


@pytest.mark.parametrize("seed", range(60))
def test_random_graph_grads_match_pytorch_float64(seed):
    torch = pytest.importorskip("torch")
    torch_lib = {
        "exp": torch.exp, "log": torch.log, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid, "relu": torch.relu,
    }
    recipe, xs = make_recipe(seed), leaf_values(seed)
    data, grads = value_grads(recipe, xs)
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = evaluate(recipe, leaves, torch_lib)
    out.backward()
    assert rel_error(np.array(data), np.array(out.item())) <= 1e-12
    for ours, leaf in zip(grads, leaves):
        theirs = leaf.grad.item()
        assert abs(ours - theirs) <= 1e-10 * max(abs(theirs), 1e-8), (ours, theirs)


@pytest.mark.parametrize("seed", range(20))
def test_random_graph_grads_match_central_differences(seed):
    recipe, xs = make_recipe(seed), leaf_values(seed)
    _, grads = value_grads(recipe, xs)
    for i in range(len(xs)):
        def f(t, i=i):
            ys = list(xs)
            ys[i] = t
            return evaluate(recipe, ys, FLOAT_LIB)

        numeric = central_difference(f, xs[i], 1e-6)
        assert rel_error(np.array(grads[i]), np.array(numeric)) < 1e-6


# --------------------------------------------------------------------------- single ops


@pytest.mark.parametrize(
    "fn, x",
    [
        (lambda v: v.exp(), 0.7),
        (lambda v: v.log(), 0.7),
        (lambda v: v.tanh(), -0.4),
        (lambda v: v.sigmoid(), 1.3),
        (lambda v: v.relu(), 0.9),
        (lambda v: v ** 3, -1.2),
        (lambda v: v ** -0.5, 2.0),
        (lambda v: 3.0 ** v, 0.8),
        (lambda v: 1.0 / v, -0.6),
        (lambda v: 2.0 - v, 0.1),
        (lambda v: -v, 0.1),
    ],
)
def test_each_op_grad_matches_central_difference(fn, x):
    v = Value(x)
    out = fn(v)
    out.backward()
    numeric = central_difference(lambda t: fn(Value(t)).data, x, 1e-6)
    assert rel_error(np.array(v.grad), np.array(numeric)) < 1e-7


def test_top_level_import_is_the_same_class():
    assert TopLevelValue is Value


def test_docstring_example_runs_and_matches_closed_form():
    # the engine's docstring (and notebook 02, section 9): an example where tanh does not saturate
    x, y = Value(0.5, label="x"), Value(-1.5, label="y")
    f = (x * y + x ** 2 / y).tanh()
    f.backward()
    inner = 0.5 * -1.5 + 0.25 / -1.5
    dt = 1.0 - math.tanh(inner) ** 2
    assert f.grad == 1.0 and dt > 0.4
    assert x.grad == pytest.approx(dt * (-1.5 + 2 * 0.5 / -1.5), rel=1e-12)
    assert y.grad == pytest.approx(dt * (0.5 - 0.25 / 2.25), rel=1e-12)
    assert (round(x.grad, 5), round(y.grad, 5)) == (-1.02996, 0.18486)   # as the docstring quotes


def test_cs231n_examples_add_distributes_and_multiply_swaps():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)
    x, y = Value(1.0), Value(2.0)
    q = 2 * (x + y)
    q.backward()
    assert (x.grad, y.grad) == (2.0, 2.0)


def test_node_used_twice_gets_the_sum_of_both_paths():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


def test_leaf_grads_accumulate_across_backward_calls_until_zero_grad():
    x = Value(2.0)
    y = x * x + x
    y.backward()
    y.backward()
    assert x.grad == 10.0  # 2 * (2x + 1), intermediate grads are recomputed each call
    y.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0
    y.backward()
    assert x.grad == 5.0


def test_backward_on_a_100000_node_chain_has_no_recursion_error():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert x.grad == 1.0
    assert len(topological_order(y)) == 100_001


def test_topological_order_lists_each_node_once_inputs_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(map(id, order))) == 5
    pos = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for child in n.inputs:
            assert pos[id(child)] < pos[id(n)]
    assert order[-1] is e


@pytest.mark.parametrize("x", [1000.0, -1000.0, 1e308, -1e308])
def test_tanh_and_sigmoid_are_finite_for_huge_inputs_without_warnings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for op in (Value.tanh, Value.sigmoid):
            v = Value(x)
            out = op(v)
            out.backward()
            assert math.isfinite(out.data) and math.isfinite(v.grad)
            assert 0.0 <= abs(out.data) <= 1.0 and v.grad == 0.0


@pytest.mark.parametrize("x", [0.0, -2.5])
def test_log_of_non_positive_raises_value_error_naming_the_value(x):
    with pytest.raises(ValueError, match=re.escape(repr(x))):
        Value(x).log()


@pytest.mark.parametrize("bad", ["a", None, [1.0], np.array([1.0, 2.0]), True])
def test_unsupported_operand_raises_type_error(bad):
    v = Value(1.0)
    for op in (lambda: v + bad, lambda: bad + v, lambda: v * bad, lambda: v - bad, lambda: v / bad):
        with pytest.raises(TypeError):
            op()


def test_value_data_must_be_a_number():
    with pytest.raises(TypeError, match="Value data"):
        Value("3")
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)


def test_numpy_scalars_and_ints_work_on_either_side():
    x = Value(2)
    assert isinstance(x.data, float)
    y = np.float64(3.0) * x + np.int64(1) - x / 2
    assert isinstance(y, Value) and y.data == pytest.approx(6.0)


def test_pow_of_negative_base_with_fractional_exponent_raises():
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 0.5
    assert (Value(-2.0) ** 2).data == 4.0


def test_division_by_zero_and_non_positive_rpow_base_raise():
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ValueError, match="positive base"):
        (-2.0) ** Value(1.0)


def test_exp_overflow_raises_clear_error():
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()


def test_relu_gradient_is_zero_left_and_one_right():
    for x, g in ((-1.0, 0.0), (2.0, 1.0)):
        v = Value(x)
        v.relu().backward()
        assert v.grad == g


def test_nodes_record_inputs_op_and_label():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    assert c.inputs == (a, b) and c.op == "*" and c.local_grads == (2.0, 1.0)
    assert a.label == "a" and "a" in repr(a)
    assert "∂out/∂a = b" in describe_rule(c)


# --------------------------------------------------------------------------- backward_steps


def test_backward_steps_end_with_the_same_grads_as_backward_and_do_not_touch_grads():
    recipe, xs = make_recipe(3), leaf_values(3)
    leaves = [Value(x) for x in xs]
    out = evaluate(recipe, leaves, VALUE_LIB)
    steps = backward_steps(out)
    assert all(n.grad == 0.0 for n in topological_order(out))
    out.backward()
    final = steps[-1].grads
    for node in topological_order(out):
        assert final.get(node, 0.0) == pytest.approx(node.grad, rel=1e-12, abs=1e-15)


def test_backward_steps_visit_each_non_leaf_once_after_the_seed():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    steps = backward_steps(f)
    assert [s.node for s in steps] == [f, f, q]
    assert steps[0].grads == {f: 1.0}
    assert steps[1].grads[q] == -4.0 and steps[1].grads[z] == 3.0
    assert steps[2].grads[x] == -4.0
    assert "z.grad += 3.0000 × 1.0000" in steps[1].text


def test_a_backward_step_is_one_operation_node_and_the_seed_is_step_0():
    x1, x2, w1, w2, b = (Value(v) for v in (2.0, 0.0, -3.0, 1.0, 0.5))
    o = (x1 * w1 + x2 * w2 + b).tanh()        # 5 operation nodes: *, *, +, +, tanh
    steps = backward_steps(o)
    n_ops = sum(1 for node in topological_order(o) if node.inputs)
    assert n_ops == 5 and n_backward_steps(steps) == n_ops == len(steps) - 1
    assert [s.index for s in steps] == list(range(n_ops + 1))
    assert steps[0].text.startswith("seed (step 0)") and steps[2].text.startswith("step 2:")


# --------------------------------------------------------------------------- ValueMLP


def test_value_mlp_is_seeded_and_counts_parameters():
    a, b = ValueMLP(2, [4, 1], seed=1), ValueMLP(2, [4, 1], seed=1)
    assert len(a.parameters()) == 4 * 3 + 5
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert [p.data for p in ValueMLP(2, [4, 1], seed=2).parameters()] != [p.data for p in a.parameters()]


def test_value_mlp_numpy_predict_matches_value_forward():
    model = ValueMLP(2, [3, 2, 1], activation="tanh", out_activation="sigmoid", seed=0)
    X, _ = xor_data(8, 0.1, 0)
    ours = np.array([model(list(x)).data for x in X])
    np.testing.assert_allclose(model.predict(X), ours, rtol=1e-12)
    assert model.hidden(X).shape == (8, 2)


def test_value_mlp_grads_match_central_differences():
    model = ValueMLP(2, [2, 1], seed=0)
    X, y = xor_data(8, 0.1, 0)
    params = model.parameters()

    def loss_value():
        return mse_loss([model(list(x)) for x in X], y)

    loss = loss_value()
    model.zero_grad()
    loss.backward()
    for p in params:
        old = p.data

        def f(t, p=p, old=old):
            p.data = t
            try:
                return loss_value().data
            finally:
                p.data = old

        assert rel_error(np.array(p.grad), np.array(central_difference(f, old, 1e-6))) < 1e-6


def test_xor_2_4_1_net_learns_xor_and_linear_model_cannot():
    X, y = xor_data(40, 0.15, 0)
    model = ValueMLP(2, [4, 1], seed=0)
    losses = fit(model, X, y, lr=1.0, steps=200)
    assert losses[-1] < 0.05 < losses[0]
    assert accuracy(model, X, y) == np.mean((model.predict(X) > 0.5) == (y > 0.5)) == 1.0
    acc, w, b = best_linear_accuracy(X, y)
    assert 0.5 <= acc <= 0.8


def test_fit_without_zero_grad_differs():
    X, y = xor_data(12, 0.1, 0)
    a = fit(ValueMLP(2, [2, 1], seed=0), X, y, lr=0.5, steps=5)
    b = fit(ValueMLP(2, [2, 1], seed=0), X, y, lr=0.5, steps=5, zero_grad=False)
    assert a[:2] == b[:2] and a[-1] != b[-1]


def test_xor_data_is_seeded_balanced_and_validated():
    X, y = xor_data(40, 0.1, 3)
    X2, y2 = xor_data(40, 0.1, 3)
    assert X.shape == (40, 2) and y.shape == (40,) and X.dtype == np.float64
    np.testing.assert_array_equal(X, X2)
    assert y.sum() == 20
    with pytest.raises(ValueError):
        xor_data(2)
