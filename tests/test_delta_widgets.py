"""Notebook 03's experiment functions, plot helpers and widgets (backprop_lib.delta, sections of plotting/widgets)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib import delta as D  # noqa: E402
from backprop_lib.gradcheck import compare_gradients  # noqa: E402
from backprop_lib.source import library_line  # noqa: E402
from backprop_lib import plotting, widgets  # noqa: E402
from backprop_lib.activations import sigmoid, sigmoid_grad  # noqa: E402
from backprop_lib.data import digits  # noqa: E402
from backprop_lib.gradcheck import numerical_gradient, rel_error  # noqa: E402
from backprop_lib.losses import one_hot, softmax, softmax_cross_entropy  # noqa: E402
from backprop_lib.mlp import MLP  # noqa: E402
from backprop_lib.layers import linear_backward  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return digits()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- shapes


def test_array_shapes_of_a_784_128_10_net_follow_the_row_convention():
    net = MLP([784, 128, 10], activation="relu", init="he", seed=0)
    X = np.random.default_rng(0).random((5, 784))
    shapes = {name: shape for name, shape, _ in D.array_shapes(net, X, np.arange(5))}
    assert shapes["W1"] == (128, 784) and shapes["b1"] == (128,)
    assert shapes["z1"] == shapes["a1"] == shapes["delta1"] == (5, 128)
    assert shapes["z2"] == shapes["delta2"] == (5, 10)
    assert shapes["dW1"] == (128, 784) and shapes["db2"] == (10,)


# ---------------------------------------------------------------- two-layer reference


def _mean_ce(params, X, labels):
    logits, _ = D.two_layer_forward(params, X)
    return softmax_cross_entropy(logits, labels)[0]


def test_two_layer_backward_matches_central_differences():
    rng = np.random.default_rng(1)
    params = D.two_layer_init(5, 4, 3, seed=1)
    params["b1"] = rng.normal(size=4)
    X, labels = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    _, cache = D.two_layer_forward(params, X)
    grads = D.two_layer_backward(params, cache, labels)
    for k in params:
        numeric = numerical_gradient(lambda _p: _mean_ce(params, X, labels), params[k])
        assert rel_error(grads[k], numeric) < 1e-7, k


def test_two_layer_backward_agrees_with_mlp_backprop_and_leaves_the_cache_alone():
    net = MLP([6, 5, 4], activation="sigmoid", init="xavier", seed=3, bias_std=0.3)
    rng = np.random.default_rng(3)
    X, labels = rng.normal(size=(8, 6)), rng.integers(0, 4, 8)
    logits, cache = D.two_layer_forward(net.params, X)
    before = {k: v.copy() for k, v in cache.items()}
    grads = D.two_layer_backward(net.params, cache, labels)
    ref = net.backprop(X, labels)
    np.testing.assert_allclose(logits, ref.trace.output, rtol=1e-12)
    for k in net.params:
        np.testing.assert_allclose(grads[k], ref.grads[k], rtol=1e-10, atol=1e-14)
    for k in cache:
        np.testing.assert_array_equal(cache[k], before[k])


def test_two_layer_backward_puts_the_1_over_n_in_the_output_delta_only():
    """Exercise 03's convention (BRIEF decision 1): delta2 = (p - y)/N, then sums, no second /N."""
    params = D.two_layer_init(4, 3, 5, seed=2)
    rng = np.random.default_rng(2)
    X, labels = rng.normal(size=(6, 4)), rng.integers(0, 5, 6)
    _, cache = D.two_layer_forward(params, X)
    grads = D.two_layer_backward(params, cache, labels)
    d2 = (softmax(cache["z2"]) - one_hot(labels, 5)) / 6
    np.testing.assert_allclose(grads["W2"], d2.T @ cache["a1"], rtol=1e-12)
    np.testing.assert_allclose(grads["b2"], d2.sum(axis=0), rtol=1e-12, atol=1e-15)


def test_per_example_form_gives_the_same_gradient_as_the_batch_form():
    net = MLP([5, 4, 3], activation="sigmoid", output_activation="sigmoid", init="xavier", seed=4, bias_std=0.5)
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(7, 5)), rng.random((7, 3))
    bp = net.backprop(X, Y, loss="mse")
    pe = D.per_example_grads(net, X, Y, loss="mse")
    for d_n, delta in zip(pe.deltas, bp.deltas):
        np.testing.assert_allclose(d_n, 7 * delta, rtol=1e-12, atol=1e-15)
    for k in net.params:
        assert rel_error(pe.grads[k], bp.grads[k]) < 1e-12, k
    labels = rng.integers(0, 3, 7)
    plain = MLP([5, 4, 3], activation="relu", seed=4)
    pe, bp = D.per_example_grads(plain, X, labels), plain.backprop(X, labels)
    for k in plain.params:
        assert rel_error(pe.grads[k], bp.grads[k]) < 1e-12, k


def test_two_layer_forward_rejects_mismatched_shapes():
    params = D.two_layer_init(4, 3, 2)
    with pytest.raises(ValueError, match="X must be"):
        D.two_layer_forward(params, np.zeros((2, 5)))
    bad = dict(params, W2=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="W1"):
        D.two_layer_forward(bad, np.zeros((2, 4)))


def test_two_layer_init_scale_zero_gives_all_zero_weights():
    params = D.two_layer_init(4, 3, 2, scale=0.0)
    assert not np.any(params["W1"]) and not np.any(params["W2"])


# ---------------------------------------------------------------- learning speed


def test_single_neuron_deltas_follow_the_closed_forms():
    ce = D.single_neuron_curve("cross_entropy", epochs=3)
    mse = D.single_neuron_curve("mse", epochs=3)
    z0 = 2.0 * 1.0 + 2.0
    assert ce["dz"][0] == pytest.approx(sigmoid(z0) - 0.0)
    assert mse["dz"][0] == pytest.approx(sigmoid(z0) * sigmoid_grad(z0))
    # the first update: w <- w - lr * dz * x
    assert ce["w"][1] == pytest.approx(2.0 - 0.15 * ce["dz"][0])


def test_single_neuron_dz_is_the_derivative_of_the_cost():
    for loss in ("mse", "cross_entropy"):
        curve = D.single_neuron_curve(loss, w=1.3, b=-0.4, x=1.0, target=0.0, epochs=0)
        cost = lambda b, loss=loss: D.single_neuron_curve(loss, w=1.3, b=b, epochs=0)["cost"][0]  # noqa: E731
        h = 1e-5
        assert curve["dz"][0] == pytest.approx((cost(-0.4 + h) - cost(-0.4 - h)) / (2 * h), rel=1e-7)


def test_first_epoch_below_finds_the_end_of_the_plateau():
    curve = {"output": np.array([0.99, 0.95, 0.91, 0.89, 0.5])}
    assert D.first_epoch_below(curve, 0.9) == 3
    assert D.first_epoch_below(curve, 0.1) is None


def test_saturated_neuron_learns_faster_with_cross_entropy():
    ce = D.single_neuron_curve("cross_entropy")
    mse = D.single_neuron_curve("mse")
    assert ce["output"][0] == mse["output"][0] > 0.98
    assert ce["output"][50] < 0.2 < mse["output"][50]


def test_single_neuron_rejects_unknown_loss():
    with pytest.raises(ValueError, match="loss"):
        D.single_neuron_curve("hinge")


# ---------------------------------------------------------------- symmetry


def test_zero_initialisation_keeps_hidden_units_identical(split):
    X, y = split.X_train[:300], split.y_train[:300]
    zeros = D.symmetry_experiment(X, y, init="zeros", hidden=8, epochs=2)
    assert zeros["row_spread"] == 0.0 and zeros["distinct_rows"] == 1
    assert np.any(zeros["W1"])  # the weights did move, all together
    random = D.symmetry_experiment(X, y, init="normal", init_scale=0.1, hidden=8, epochs=2)
    assert random["distinct_rows"] == 8


# ---------------------------------------------------------------- cost of FD


def test_matmul_cost_model_counts_one_product_forward_and_two_backward():
    model = D.matmul_cost_model([64, 16, 10], N=64)
    assert model.forward == 64 * (64 * 16 + 16 * 10)
    assert model.backward_dW == model.forward
    assert model.backward_dA == 64 * 16 * 10  # layer 1 needs no gradient for the input
    assert model.ratio == pytest.approx(1 + (2 * 1184 - 1024) / 1184)
    deep = D.matmul_cost_model([100] * 21)  # many equal layers: the missing product hardly matters
    assert 2.9 < deep.ratio < 3.0


def test_gradient_cost_counts_forward_passes_and_agrees_to_1e_7():
    net = MLP([5, 4, 3], activation="tanh", init="xavier", seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    cost = D.gradient_cost(net, X, y, repeat=2)
    assert cost.num_params == net.num_params == 39
    assert cost.fd_forward_passes == 78
    assert cost.max_rel_error < 1e-7
    assert cost.ratio > 0 and cost.backprop_over_forward > 0 and cost.matmul_seconds > 0
    assert set(cost.grads) == set(cost.numeric) == set(net.params)
    assert cost.loss == net.loss(X, y)


# ---------------------------------------------------------------- evaluation


def test_confusion_matrix_counts_every_pair():
    y = np.array([0, 0, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 2, 0, 2])
    M = D.confusion_matrix(pred, y, 3)
    expected = np.zeros((3, 3), int)
    for t, p in zip(y, pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(M, expected)
    assert M.sum() == len(y) and np.trace(M) == 4


def test_confusion_matrix_accepts_scores_and_rejects_floats():
    y = np.array([1, 0])
    np.testing.assert_array_equal(D.confusion_matrix(np.array([[0.1, 0.9], [0.8, 0.2]]), y), [[1, 0], [0, 1]])
    with pytest.raises(TypeError):
        D.confusion_matrix(np.array([0.0, 1.0]), y)


def test_quick_digits_run_returns_one_point_per_epoch(split):
    run = D.quick_digits_run(epochs=3, n_train=200, split=split)
    assert len(run.loss) == len(run.val_loss) == len(run.val_accuracy) == 3
    assert not run.diverged and run.loss[-1] < run.loss[0]


def test_quick_digits_run_zero_init_is_stuck_near_log_10(split):
    run = D.quick_digits_run(init="zeros", epochs=3, n_train=200, split=split)
    assert run.loss[-1] == pytest.approx(np.log(10), abs=0.01)


def test_quick_digits_run_reports_divergence_instead_of_raising(split):
    run = D.quick_digits_run(lr=1e4, init="normal", epochs=3, n_train=200, split=split)
    assert run.diverged


def test_example_deltas_are_the_per_example_backprop_deltas(split):
    net = MLP([64, 16, 10], activation="relu", init="he", seed=0)
    x, label = split.X_test[3], int(split.y_test[3])
    deltas = D.example_deltas(net, x, label)
    assert [d.shape for d in deltas] == [(16,), (10,)]
    p = softmax(net.forward(x[None]))[0]
    np.testing.assert_allclose(deltas[-1], p - one_hot(np.array([label]), 10)[0], rtol=1e-12)


# ---------------------------------------------------------------- plots and widgets


def test_plot_helpers_return_their_axes(split):
    curves = {k: D.single_neuron_curve(k, epochs=20) for k in ("mse", "cross_entropy")}
    assert plotting.plot_learning_speed(curves).get_yscale() == "log"
    assert plotting.plot_weight_rows(np.eye(3)) is not None
    run = D.quick_digits_run(epochs=2, n_train=100, split=split)
    hist = type("H", (), {"loss": run.loss, "val_loss": run.val_loss, "accuracy": run.val_accuracy,
                          "val_accuracy": run.val_accuracy})()
    assert len(plotting.plot_training_history(hist)) == 2
    assert plotting.plot_confusion_matrix(np.eye(3, dtype=int)) is not None
    axes = plotting.plot_digit_grid(split.X_test[:5], split.y_test[:5], split.y_test[:5], ncols=4)
    assert axes.size == 8
    ax = plotting.plot_delta_heatmap([np.ones(4), -np.ones(2)])
    assert len(ax.get_yticklabels()) == 2
    net = MLP([3, 2, 2], seed=0)
    cost = D.gradient_cost(net, np.ones((2, 3)), np.array([0, 1]), repeat=1)
    assert plotting.plot_backprop_vs_fd_cost(cost).get_yscale() == "log"


def test_training_widget_reruns_on_every_control(split):
    pytest.importorskip("ipywidgets")
    box = widgets.delta_training_widget(split=split, n_train=100, epochs=2)
    controls = [c for row in box.children[:2] for c in row.children]
    assert [c.description for c in controls] == ["learning rate", "hidden units", "init", "batch size"]
    controls[1].value = 8
    controls[2].value = "zeros"
    controls[0].value = 1.0


def test_delta_heatmap_widget_moves_between_examples(split):
    pytest.importorskip("ipywidgets")
    net = MLP([64, 8, 10], seed=0)
    box = widgets.delta_heatmap_widget(net, split.X_test[:10], split.y_test[:10])
    slider = box.children[0]
    assert slider.max == 9
    slider.value = 4


def test_library_line_finds_the_weight_gradient_line_and_fails_loudly():
    line = library_line(linear_backward, "dW =")
    assert line.startswith("backprop_lib.layers.linear_backward:") and "dout.T @ x" in line
    with pytest.raises(ValueError, match="no line"):
        library_line(MLP.layer_backward, "this text is not there")


def test_library_line_shows_code_not_a_docstring_that_quotes_it():
    def documented(delta, a_prev):
        """Returns ``dW = delta.T @ a_prev`` (this docstring quotes the code)."""
        # dW = the comment quotes it too
        dW = delta.T @ a_prev  # the real line
        return dW

    assert library_line(documented, "dW = ").endswith("dW = delta.T @ a_prev  # the real line")
    for needle in ("dW = ", "db = "):
        assert "``" not in library_line(linear_backward, needle)


def test_compare_gradients_reports_match_and_mismatch():
    a = np.array([1.0, 2.0])
    assert compare_gradients(a, a + 1e-12).endswith("match")
    assert "MISMATCH" in compare_gradients(a, a + 0.1)


def test_compare_gradients_explains_round_off_in_tiny_entries_and_never_hides_a_mismatch():
    a = np.array([0.5, 1e-5])
    b = a + np.array([1e-12, 3e-11])       # the tiny entry: relative error 1.5e-6, absolute 3e-11
    assert "MISMATCH" in compare_gradients(a, b)                # without the loss: no excuse
    line = compare_gradients(a, b, loss=2.5)                   # eps |L| / h = 5.6e-11
    assert line.endswith("match within round-off") and "1 entry with" in line
    assert "largest entry 5.0e-01" in line and "1.5e-06" in line
    assert "MISMATCH" in compare_gradients(a, a + np.array([0.0, 1e-9]), loss=2.5)   # 18x round-off
    assert "MISMATCH" in compare_gradients(a, a + np.array([1e-3, 0.0]), loss=1e6)   # above 1e-4


def test_largest_confusions_reports_every_tie():
    M = np.array([[5, 2, 0], [2, 4, 1], [0, 0, 3]])
    assert D.largest_confusions(M) == (2, [(0, 1), (1, 0)])
    assert D.largest_confusions(np.eye(3, dtype=int)) == (0, [])


def test_library_line_searches_modules_and_tries_each_needle_in_turn():
    from backprop_lib import losses

    line = library_line(losses, "this is not there", "[rows, y] -= 1.0")
    assert line.startswith("backprop_lib.losses:") and line.endswith("[rows, y] -= 1.0")
    line = library_line(losses._softmax_cross_entropy, "e /= n")
    assert line == "backprop_lib.losses._softmax_cross_entropy:  e /= n"
