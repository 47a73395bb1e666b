"""The quantitative claims of notebooks/02_computational_graph.ipynb, recomputed with the library.

Each test quotes the sentence it guards and rebuilds the quantity exactly as the notebook
does (same seeds, sizes, learning rate and step counts), so a change to the library or to
the notebook's settings that makes a sentence false fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_lib.engine import Value, topological_order
from backprop_lib.widgets.computational_graph import backward_steps, n_backward_steps
from backprop_lib.gradcheck import central_difference
from backprop_lib.nn_scalar import Neuron, ValueMLP, accuracy, best_linear_accuracy, fit, xor_data

# The notebook's settings (section 8).
XOR = dict(n=40, noise=0.15, seed=0)
LR, N_STEPS, MORE_STEPS = 1.0, 300, 1000


@pytest.fixture(scope="module")
def xor():
    return xor_data(**XOR)


def _broken_backward(root):
    """Notebook cell of section 3: Value.backward with `=` instead of `+=`."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for child, local in zip(node.inputs, node.local_grads):
            child.grad = local * node.grad


# --------------------------------------------------------------------------- sections 1-4


def test_hand_worked_examples():
    """'dq/dx = 2 ... dq/dy = 2' and 'grad f = (-4, -4, 3)' (sections 1 and 2)."""
    x, y = Value(1.0), Value(2.0)
    q = 2 * (x + y)
    q.backward()
    assert (x.grad, y.grad) == (2.0, 2.0)
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    assert (f.data, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


def test_equals_instead_of_plus_equals():
    """'g = x*x + x at x = 3: dg/dx = 2x + 1 = 7'; question 2: "`y = x + x`: `=` gives 1 instead of 2.
    For `y = x * x` it gives x instead of 2x (... 3 instead of 6 at x = 3)"."""
    cases = [(lambda v: v * v + v, 3.0, 7.0), (lambda v: v + v, 1.0, 2.0), (lambda v: v * v, 3.0, 6.0)]
    for build, wrong, right in cases:
        x = Value(3.0)
        out = build(x)
        _broken_backward(out)
        assert x.grad == wrong
        out.zero_grad()
        out.backward()
        assert x.grad == right
    assert central_difference(lambda t: t * t + t, 3.0) == pytest.approx(7.0, abs=1e-8)


def test_iterative_sort_handles_a_100000_node_chain():
    """'here is a chain 100,000 operations deep' -> '100,001 nodes, dy/dx = 1.0000'."""
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert len(topological_order(y)) == 100_001 and x.grad == 1.0


# --------------------------------------------------------------------------- section 5


def _stepping_neuron():
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    return n, n.tanh()


def test_stepping_neuron_has_five_backward_steps_after_the_seed():
    """'it takes five steps, numbered 1 to 5': the print ('5 backward steps'), the figure title
    ('backward step 2 of 5') and the slider (0..5) use the same count."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from backprop_lib.widgets import backward_step_title, show_backward_step

    n, o = _stepping_neuron()
    steps = backward_steps(o)
    assert n_backward_steps(steps) == 5 == sum(1 for node in topological_order(o) if node.inputs)
    assert backward_step_title(2, steps) == "backward step 2 of 5"
    ax, text = show_backward_step(o, 2, steps)
    assert ax.get_title() == "backward step 2 of 5" and text.startswith("step 2: ")
    plt.close(ax.figure)


def test_stepping_neuron_bias_makes_tanh_slope_one_half():
    """'b = 6.8813... is chosen so that n = 0.8814 and o = tanh n = 0.7071 = 1/sqrt 2, which makes
    ... 1 - o^2 exactly 0.5'."""
    n, o = _stepping_neuron()
    assert round(n.data, 4) == 0.8814 and o.data == pytest.approx(1 / math.sqrt(2), abs=1e-15)
    assert o.local_grads[0] == pytest.approx(0.5, abs=1e-15)


# --------------------------------------------------------------------------- sections 6-7


def test_neuron_example_shows_the_tanh_factor():
    """'The inputs below put z near 1, where tanh' is clearly below 1, so the factor f'(z) is
    visible in every gradient': da/dw_i = tanh'(z) x_i with tanh'(z) far from 1."""
    neuron = Neuron(3, activation="tanh", rng=np.random.default_rng(1))
    x_in = [0.5, 1.5, 1.0]
    a = neuron([Value(v) for v in x_in])
    a.backward()
    z = sum(w.data * v for w, v in zip(neuron.w, x_in)) + neuron.b.data
    slope = 1 - a.data ** 2
    assert 0.9 < z < 1.1 and slope < 0.45
    for w, v in zip(neuron.w, x_in):
        assert w.grad == pytest.approx(slope * v, rel=1e-12)
        assert abs(w.grad - v) > 0.25          # the gradient is visibly not just x_i
    assert neuron.b.grad == pytest.approx(slope, rel=1e-12)


def test_deep_linear_net_is_one_map_with_a_non_zero_combined_bias():
    """'the cell below first gives every bias a random value, then compares the deep linear net
    with the single map (W, b)': every term of b is non-zero and the outputs agree to 1e-12."""
    deep_linear = ValueMLP(2, [3, 3, 1], activation="linear", out_activation="linear", seed=0)
    bias_rng = np.random.default_rng(1)
    for layer in deep_linear.layers:
        for unit in layer.neurons:
            unit.b.data = float(bias_rng.normal())
    (W1, b1), (W2, b2), (W3, b3) = [layer.weights() for layer in deep_linear.layers]
    terms = [W3 @ W2 @ b1, W3 @ b2, b3]
    assert all(abs(t[0]) > 0.05 for t in terms)
    W, b = W3 @ W2 @ W1, sum(terms)
    X_test = np.random.default_rng(5).normal(size=(5, 2))
    deep = np.array([deep_linear(list(x)).data for x in X_test])
    np.testing.assert_allclose(deep, (X_test @ W.T + b)[:, 0], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- section 8: XOR


@pytest.fixture(scope="module")
def linear_run(xor):
    X, y = xor
    linear = ValueMLP(2, [1], out_activation="sigmoid", seed=0)
    losses = fit(linear, X, y, lr=LR, steps=N_STEPS)
    return linear, losses


def test_no_straight_line_separates_xor(xor):
    """'best accuracy of ANY straight line: 75%'."""
    acc, _, _ = best_linear_accuracy(*xor)
    assert acc == 0.75


def test_linear_model_settles_at_p_one_half(xor, linear_run):
    """'Gradient descent on the linear model settles at w ~ 0, where it answers p ~ 0.5 for every
    point ... its loss is barely below 0.25'; title '50% correct, p ~ 0.5'."""
    X, y = xor
    linear, losses = linear_run
    W, _ = linear.layers[0].weights()
    p = linear.predict(X)
    assert np.abs(W).max() < 0.1 and 0.45 < p.min() and p.max() < 0.55
    assert 0.249 < losses[-1] < 0.25
    assert accuracy(linear, X, y) == 0.5
    assert abs(losses[-1] - losses[-100]) < 1e-9    # settled: the curve is flat, not still falling


def test_linear_model_is_at_the_lowest_squared_error_of_any_sigmoid_unit(xor, linear_run):
    """'for one sigmoid unit on these nearly symmetric data the squared error is lowest there' and
    'a sigmoid unit placed along [the 75 % line] has a higher squared error at every steepness tried'."""
    X, y = xor
    final = linear_run[1][-1]
    acc, w_line, b_line = best_linear_accuracy(X, y)
    along_line = [np.mean((1 / (1 + np.exp(-k * (X @ w_line + b_line))) - y) ** 2) for k in np.logspace(-2, 2, 81)]
    assert min(along_line) > final
    # a grid over every direction, steepness and offset finds nothing below the trained loss
    theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    scale = np.logspace(-2, 2, 30)
    offsets = np.linspace(-5, 5, 41)
    proj = X @ np.stack([np.cos(theta), np.sin(theta)])                      # (N, 72)
    z = scale[:, None, None, None] * proj[None, None] + offsets[None, :, None, None]  # (30, 41, N, 72)
    mse = np.mean((1 / (1 + np.exp(-z)) - y[None, None, :, None]) ** 2, axis=2)
    assert mse.min() > final - 1e-6


@pytest.fixture(scope="module")
def seed_runs(xor):
    """Section 8's table: 2-2-1 and 2-4-1 nets from seeds 0-3, 300 steps each."""
    X, y = xor
    runs = {}
    for hidden in (2, 4):
        for seed in range(4):
            model = ValueMLP(2, [hidden, 1], seed=seed)
            losses = fit(model, X, y, lr=LR, steps=N_STEPS)
            runs[hidden, seed] = (model, accuracy(model, X, y), losses)
    return runs


def test_2_2_1_seed_3_learns_xor(seed_runs):
    """'ValueMLP(2-2-1, 9 parameters): loss 0.2536 -> 0.0043, accuracy 100%' and 'Seed 3 is one of
    the seeds that succeed'; the notebook's net is the same run as the table's seed 3."""
    model, acc, losses = seed_runs[2, 3]
    assert acc == 1.0 and losses[-1] < 0.01 and round(losses[0], 4) == 0.2536


def test_net_boundary_is_two_nearly_parallel_lines(seed_runs):
    """'the net's decision boundary is two nearly parallel lines. Both hidden units respond to about
    x1 - x2 ... but with biases of opposite sign'; 'the class-0 corners ... lie in the band
    between the two lines; the class-1 corners ... outside it, one on each side'."""
    model = seed_runs[2, 3][0]
    W, b = model.layers[0].weights()
    cos = W[0] @ W[1] / np.linalg.norm(W[0]) / np.linalg.norm(W[1])
    assert cos > math.cos(math.radians(5))                                   # nearly parallel
    direction = np.array([1.0, -1.0]) / math.sqrt(2)
    assert all(abs(row @ direction) / np.linalg.norm(row) > 0.99 for row in W)  # ~ x1 - x2
    assert b[0] * b[1] < 0                                                    # opposite offsets
    # along x1 - x2 = t (through the origin's diagonal), the output is high at t = ±2, low at t = 0
    t = np.array([-2.0, 0.0, 2.0])
    p = model.predict(np.column_stack([t / 2, -t / 2]))
    assert p[0] > 0.5 > p[1] and p[2] > 0.5


def test_hidden_space_is_linearly_separable(xor, seed_runs):
    """'one straight line — the output unit's w1 h1 + w2 h2 + b = 0 — separates the classes'."""
    X, y = xor
    model = seed_runs[2, 3][0]
    W_out, b_out = model.layers[-1].weights()
    side = model.hidden(X) @ W_out[0] + b_out[0] > 0
    assert np.array_equal(side, y > 0.5)


def test_three_of_four_2_2_1_nets_get_stuck_and_all_2_4_1_nets_succeed(seed_runs):
    """'Three of the four 2-2-1 nets end with accuracy near 50 % and a loss near 0.125';
    'all four 2-4-1 nets reach 100 %'."""
    stuck = [s for s in range(4) if seed_runs[2, s][1] < 1.0]
    assert stuck == [0, 1, 2]
    for s in stuck:
        _, acc, losses = seed_runs[2, s]
        assert 0.45 <= acc <= 0.6 and 0.125 < losses[-1] < 0.135
    assert all(seed_runs[4, s][1] == 1.0 for s in range(4))


def test_stuck_nets_fit_two_corners_and_stay_stuck(xor, seed_runs):
    """'Each stuck net has fitted two corners (mean output near 0 or 1) and sits at p ~ 0.5 on the
    other two, and 1,000 more steps lower the loss only towards 0.125'. Copies the models, so the
    module's runs stay as the notebook's table has them."""
    X, y = xor
    corner_of = np.arange(len(X)) % 4
    for s in (0, 1, 2):
        model = ValueMLP(2, [2, 1], seed=s)
        first = fit(model, X, y, lr=LR, steps=N_STEPS)
        p = model.predict(X)
        means = np.array([p[corner_of == c].mean() for c in range(4)])
        fitted = np.abs(means - np.array([0, 0, 1, 1])) < 0.1
        half = np.abs(means - 0.5) < 0.05
        assert fitted.sum() == 2 and half.sum() == 2
        more = fit(model, X, y, lr=LR, steps=MORE_STEPS)
        assert 0.125 < more[-1] < first[-1] and first[-1] - more[-1] < 0.005
        assert accuracy(model, X, y) < 0.6


# --------------------------------------------------------------------------- section 9


def test_torch_example_does_not_saturate():
    """'The inputs keep tanh away from saturation, so the gradients are of order 1'."""
    x, y = Value(0.5), Value(-1.5)
    f = (x * y + x ** 2 / y).tanh()
    f.backward()
    assert 1 - f.data ** 2 > 0.4
    assert 0.1 < abs(x.grad) < 10 and 0.1 < abs(y.grad) < 10


def test_torch_example_matches_value():
    """Section 9: 'with Value, then with PyTorch if it is installed' — same gradients."""
    torch = pytest.importorskip("torch")
    x, y = Value(0.5), Value(-1.5)
    f = (x * y + x ** 2 / y).tanh()
    f.backward()
    xt = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)
    ft = torch.tanh(xt * yt + xt ** 2 / yt)
    ft.backward()
    assert f.data == pytest.approx(ft.item(), rel=1e-14)
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12)
    assert y.grad == pytest.approx(yt.grad.item(), rel=1e-12)


# --------------------------------------------------------------------------- section 10: forward mode


def test_forward_and_reverse_mode_give_the_same_gradient():
    """"Both modes give the same numbers (to rounding)" (and the directional derivative equals gradient . v)."""
    from backprop_lib.forward_mode import gradient_forward, gradient_reverse, jvp, sum_tanh_products

    rng = np.random.default_rng(7)
    for n in (2, 5, 17):
        x = list(rng.normal(size=n))
        g_fwd, g_rev = gradient_forward(sum_tanh_products, x), gradient_reverse(sum_tanh_products, x)
        assert np.allclose(g_fwd, g_rev, rtol=1e-13, atol=1e-15)
        v = list(rng.normal(size=n))
        assert math.isclose(jvp(sum_tanh_products, x, v)[1], float(np.dot(g_rev, v)), rel_tol=1e-12, abs_tol=1e-14)


def test_forward_mode_needs_n_passes_and_reverse_mode_one():
    """"forward mode evaluates f 64 times, reverse mode 1 time (plus one backward pass)"."""
    from backprop_lib.forward_mode import gradient_forward, gradient_reverse, sum_tanh_products

    calls = []

    def counted(x):
        calls.append(1)
        return sum_tanh_products(x)

    x = list(np.random.default_rng(0).normal(size=64))
    gradient_forward(counted, x)
    assert len(calls) == 64
    calls.clear()
    gradient_reverse(counted, x)
    assert len(calls) == 1


def test_for_m_outputs_forward_mode_needs_one_pass_and_reverse_mode_m():
    from backprop_lib.forward_mode import derivatives_forward, derivatives_reverse, tanh_fan_out

    calls = []

    def g(t):
        calls.append(1)
        return tanh_fan_out(t, 16)

    d_fwd = derivatives_forward(g, 0.3)
    assert len(calls) == 1
    calls.clear()
    d_rev = derivatives_reverse(g, 0.3)
    assert len(calls) == 16 + 1  # one call per output, and one to learn m
    assert np.allclose(d_fwd, d_rev, rtol=1e-13)
    assert np.allclose(d_fwd, [(k / 16) * (1 - math.tanh(0.3 * k / 16) ** 2) for k in range(1, 17)], rtol=1e-13)


def test_at_128_the_wrong_mode_is_more_than_20_times_slower():
    """"at n = 128 forward mode is more than 20 times slower here" (and on the right the roles swap)."""
    from backprop_lib.forward_mode import time_modes

    t = time_modes([128], repeat=3, seed=0)
    assert t["grad_forward"][0] > 20 * t["grad_reverse"][0]
    assert t["out_reverse"][0] > 20 * t["out_forward"][0]


# --------------------------------------------------------------------------- gates and the one-neuron chain


def test_max_gate_routes_and_mul_gate_scales_with_the_input():
    """"The max gate sent the whole gradient to a = 3 ... and 0 to b";
    "2 became 2,000, while dx = w does not change"."""
    a, b = Value(3.0), Value(-2.0)
    ((a - b).relu() + b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)
    for x, expected in ((2.0, 2.0), (2000.0, 2000.0)):
        w, xv = Value(0.5), Value(x)
        (w * xv).backward()
        assert (w.grad, xv.grad) == (expected, 0.5)


def test_one_neuron_per_layer_chain_gradient_is_the_product_of_factors():
    """"The engine and the product agree"; "Each sigmoid factor ... is at most 1/4"."""
    rng = np.random.default_rng(4)
    w_chain = [float(v) for v in np.round(rng.normal(0, 1.5, size=4), 3)]
    b_chain = [float(v) for v in np.round(rng.normal(0, 0.5, size=4), 3)]
    x0 = Value(0.8)
    w_nodes = [Value(w) for w in w_chain]
    a, zs = x0, []
    for w_l, b_l in zip(w_nodes, b_chain):
        z = w_l * a + b_l
        zs.append(z.data)
        a = z.sigmoid()
    a.backward()
    sig = [1 / (1 + math.exp(-z)) for z in zs]
    factors = [w * s * (1 - s) for w, s in zip(w_chain, sig)]
    assert math.isclose(x0.grad, float(np.prod(factors)), rel_tol=1e-12)
    assert math.isclose(w_nodes[0].grad, 0.8 * sig[0] * (1 - sig[0]) * float(np.prod(factors[1:])), rel_tol=1e-12)
    assert all(s * (1 - s) <= 0.25 for s in sig)
