"""The key quantitative claims of notebooks/03_layerwise_delta.ipynb, recomputed with the library.

Each test quotes the claim it guards and recomputes the quantity the way the notebook does
(same calls, same seeds and settings). ``test_notebook_still_makes_these_calls`` checks that
the notebook's cells still contain those calls, so a change to a setting in the notebook
fails here until this file follows. No timing is asserted: the cost claims are checked on
the count of matrix products and of forward passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backprop_lib import delta as D
from backprop_lib import jacobians as J_
from backprop_lib.timing import single_thread_blas
from backprop_lib.gradcheck import compare_gradients
from backprop_lib.activations import sigmoid, sigmoid_grad
from backprop_lib.layers import linear_backward, linear_forward
from backprop_lib.data import digits
from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.losses import mse, one_hot, softmax, softmax_cross_entropy
from backprop_lib.mlp import MLP, train

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_layerwise_delta.ipynb"


def _code() -> str:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.fixture(scope="module")
def split():
    return digits()


@pytest.fixture(scope="module")
def small():
    """Section 2's 6-5-4 net and batch (the notebook draws them from rng after section 1's batch)."""
    rng = np.random.default_rng(0)
    rng.random((32, 784))
    rng.integers(0, 10, 32)
    net = MLP([6, 5, 4], activation="sigmoid", output_activation="sigmoid", init="xavier", seed=1, bias_std=0.5)
    Xs = rng.normal(size=(7, 6))
    Ys = rng.random((7, 4))
    return net, Xs, Ys, net.backprop(Xs, Ys, loss="mse"), rng


@pytest.fixture(scope="module")
def digit_run(split):
    """Section 5: 64-64-10 ReLU/He, 20 epochs at 0.1, then 10 at 0.01, minibatches of 32."""
    net = MLP([64, 64, 10], activation="relu", init="he", seed=0)
    with single_thread_blas():
        train(net, split.X_train, split.y_train, epochs=20, lr=0.1, batch_size=32, seed=0)
        train(net, split.X_train, split.y_train, epochs=10, lr=0.01, batch_size=32, seed=1)
    pred = net.predict(split.X_test)
    return net, pred, D.confusion_matrix(pred, split.y_test, 10)


def test_notebook_still_makes_these_calls():
    code = _code()
    for call in [
        'MLP([784, 128, 10], activation="relu", init="he", seed=0)',
        'MLP([6, 5, 4], activation="sigmoid", output_activation="sigmoid", init="xavier", seed=1, bias_std=0.5)',
        'per_example_grads(small, Xs, Ys, loss="mse")',
        "single_neuron_curve(loss, w=2.0, b=2.0, x=1.0, target=0.0, lr=0.15, epochs=300)",
        "first_epoch_below(c, 0.9)",
        "symmetry_experiment(X_train, y_train, init=init, hidden=16, epochs=5, lr=0.5,",
        "init_scale=0.1 if init == \"normal\" else None",
        'MLP([64, 64, 10], activation="relu", init="he", seed=0)',
        "epochs=20, lr=0.1, batch_size=32, seed=0",
        "epochs=10, lr=0.01, batch_size=32, seed=1",
        "largest_confusions(M)",
        'MLP([64, 16, 10], activation="sigmoid", init="xavier", seed=0)',
        "gradient_cost(fd_net, X_train[:64], y_train[:64])",
        "matmul_cost_model(fd_net.sizes, N=64)",
        "z4 = np.array([-2.0, -0.5, 0.5, 2.0])",
        "v4 = np.array([1.0, -2.0, 0.5, 3.0])",
        "for n in (4, 128, 4096):",
        "rng_sq = np.random.default_rng(5)",
        "yq = np.array([0, 2, 1])",
        'candidates = matmul_candidates(("delta", delta_q), ("X", Xq)) + [("delta.T @ X / N", delta_q.T @ Xq / 3)]',
        "rng_seed = np.random.default_rng(6)",
        "z3 = np.array([1.0, -0.5, 0.3])",
        "y3 = np.array([0.0, 1.0, 0.0])",
        "by_hand = hand_trace_222()",
        'tiny = MLP([2, 2, 2], activation="relu")',
    ]:
        assert call in code, call


# ------------------------------------------------------------------ section 1: shapes


def test_the_784_128_10_net_has_the_shapes_and_parameter_count_the_notebook_states():
    """"W_1 is 128 x 784"; "P = 101770"; "2P = 203540 forward passes per gradient"."""
    net = MLP([784, 128, 10], activation="relu", init="he", seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.random((32, 784)), rng.integers(0, 10, 32)
    shapes = {name: shape for name, shape, _ in D.array_shapes(net, X, y)}
    assert shapes["W1"] == shapes["dW1"] == (128, 784)
    assert shapes["z1"] == shapes["a1"] == shapes["delta1"] == (32, 128)
    assert net.num_params == 101770 and 2 * net.num_params == 203540


# ------------------------------------------------------------------ section 2: the four equations


def test_each_of_the_four_equations_passes_its_gradient_check(small):
    """"Each was checked against central differences" (every line says match, none MISMATCH)."""
    net, Xs, Ys, bp, _ = small
    lines = [compare_gradients(bp.deltas[-1], numerical_gradient(lambda z: mse(sigmoid(z), Ys)[0],
                                                                   bp.trace.zs[-1].copy()), loss=bp.loss)]

    def loss_of_z1(z1):
        _, out = net.layer_forward(2, net.activation.f(z1))
        return net.output_loss(out, Ys, loss="mse")[0]

    lines.append(compare_gradients(bp.deltas[0], numerical_gradient(loss_of_z1, bp.trace.zs[0].copy()),
                                     loss=bp.loss))
    for k in net.params:
        numeric = numerical_gradient(lambda _p: net.loss(Xs, Ys, loss="mse"), net.params[k])
        lines.append(compare_gradients(bp.grads[k], numeric, loss=bp.loss))
    assert all(line.endswith("match") or line.endswith("match within round-off") for line in lines), lines


def test_mse_gradient_carries_the_one_over_n_c():
    """"L = 1/(NC) sum (a - y)^2, grad = 2/(NC) (A - Y): the 1/N already sits inside delta_L"."""
    rng = np.random.default_rng(1)
    A, Y = rng.random((7, 4)), rng.random((7, 4))
    value, grad = mse(A, Y)
    assert value == pytest.approx(((A - Y) ** 2).sum() / 28)
    np.testing.assert_allclose(grad, 2 * (A - Y) / 28)


def test_per_example_and_batch_forms_give_the_same_gradient(small):
    """"d_n = N * delta_n"; "Both forms agree to about 14 significant digits"."""
    net, Xs, Ys, bp, _ = small
    pe = D.per_example_grads(net, Xs, Ys, loss="mse")
    for d, delta in zip(pe.deltas, bp.deltas):
        assert rel_error(d, 7 * delta) < 1e-13
    for k in net.params:
        assert rel_error(pe.grads[k], bp.grads[k]) < 1e-13, k
        assert rel_error(pe.grads[k], bp.grads[k] * 7) > 0.5  # mixing the forms is off by a factor N


# ------------------------------------------------------------------ section 2: VJPs, shape reasoning, seeds


def test_the_elementwise_vjp_is_identical_to_v_times_sigma_prime():
    """"A diagonal Jacobian turns the VJP into an elementwise product" (printed: identical: True)."""
    z4, v4 = np.array([-2.0, -0.5, 0.5, 2.0]), np.array([1.0, -2.0, 0.5, 3.0])
    J = J_.elementwise_jacobian(sigmoid_grad, z4)
    assert np.array_equal(v4 @ J, v4 * sigmoid_grad(z4))
    assert rel_error(J, J_.numerical_jacobian(sigmoid, z4)) < 1e-7


def test_building_the_jacobian_costs_n_squared_against_n():
    """"For the 128 hidden units of section 1 that is a factor 128 per example"."""
    c = J_.jacobian_vs_vjp_cost(128)
    assert (c.jacobian_entries, c.explicit_multiplies, c.vjp_multiplies, c.ratio) == (16384, 16384, 128, 128)


def test_shape_reasoning_leaves_one_product_per_gradient_for_the_784_128_10_net():
    """"only two products are even defined for each pair, and only one has the right shape"."""
    net = MLP([784, 128, 10], activation="relu", init="he", seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.random((32, 784)), rng.integers(0, 10, 32)
    bp = net.backprop(X, y)
    d2, a1, W2 = bp.deltas[1], bp.cache.activations[1], net.params["W2"]
    for pair, want, right in [((("delta2", d2), ("a1", a1)), W2.shape, "delta2.T @ a1"),
                              ((("delta2", d2), ("W2", W2)), a1.shape, "delta2 @ W2")]:
        cands = J_.matmul_candidates(*pair)
        assert len(cands) == 2
        assert [e for e, g in cands if g.shape == want] == [right]
    assert np.array_equal(d2.T @ a1, bp.grads["W2"])


def test_in_the_square_case_only_delta_T_X_passes_the_gradient_check():
    """"All nine candidates have the shape of W; only delta^T X matches the finite differences (relative
    error below 1e-7), and every other candidate, the extra 1/N included, is far off"."""
    rng_sq = np.random.default_rng(5)
    Xq, Wq, bq = rng_sq.normal(size=(3, 3)), rng_sq.normal(size=(3, 3)), rng_sq.normal(size=3)
    yq = np.array([0, 2, 1])
    _, delta_q = softmax_cross_entropy(Xq @ Wq.T + bq, yq)
    numeric = numerical_gradient(lambda W_: softmax_cross_entropy(Xq @ W_.T + bq, yq)[0], Wq.copy())
    cands = J_.matmul_candidates(("delta", delta_q), ("X", Xq)) + [("delta.T @ X / N", delta_q.T @ Xq / 3)]
    assert len(cands) == 9 and all(g.shape == Wq.shape for _, g in cands)
    errors = {e: rel_error(g, numeric) for e, g in cands}
    assert [e for e, err in errors.items() if err < 1e-7] == ["delta.T @ X"]
    assert all(err > 0.1 for e, err in errors.items() if e != "delta.T @ X"), errors


def test_a_backward_with_a_seed_is_the_gradient_of_the_seeded_sum():
    """"it returns v^T J, which is the gradient of the scalar sum_i v_i y_i" (both lines say match)."""
    rng_seed = np.random.default_rng(6)
    x_in, W_in, b_in = rng_seed.normal(size=(2, 3)), rng_seed.normal(size=(4, 3)), rng_seed.normal(size=4)
    out, cache = linear_forward(x_in, W_in, b_in)
    seed = rng_seed.normal(size=out.shape)
    for v in (seed, np.ones_like(out)):
        dx = linear_backward(v, cache)[0]
        numeric = numerical_gradient(lambda x_, v=v: np.sum(v * linear_forward(x_, W_in, b_in)[0]), x_in.copy())
        assert compare_gradients(dx, numeric).endswith("match")


def test_torch_backward_with_a_seed_matches_linear_backward():
    """The torch cell: y.backward(v) gives the same dx, dW, db as linear_backward(v, cache)."""
    torch = pytest.importorskip("torch")
    rng_seed = np.random.default_rng(6)
    x_in, W_in, b_in = rng_seed.normal(size=(2, 3)), rng_seed.normal(size=(4, 3)), rng_seed.normal(size=4)
    out, cache = linear_forward(x_in, W_in, b_in)
    seed = rng_seed.normal(size=out.shape)
    ts = [torch.tensor(a, requires_grad=True) for a in (x_in, W_in, b_in)]
    (ts[0] @ ts[1].T + ts[2]).backward(torch.tensor(seed))
    for ours, t in zip(linear_backward(seed, cache), ts):
        assert rel_error(ours, t.grad.numpy()) < 1e-14


# ------------------------------------------------------------------ section 3: the softmax Jacobian, the 2-2-2 trace


def test_the_softmax_jacobian_is_full_symmetric_and_collapses_to_p_minus_y():
    """"Every entry is non-zero"; symmetric; columns sum to 0; "v^T J, p * (v - sum(v * p)) and p - y: all
    three equal" for the seed v = -y/p."""
    z3, y3 = np.array([1.0, -0.5, 0.3]), np.array([0.0, 1.0, 0.0])
    p3, J = softmax(z3), J_.softmax_jacobian(z3)
    assert np.all(J != 0) and np.allclose(J, J.T) and np.allclose(J.sum(axis=0), 0)
    assert rel_error(J, J_.numerical_jacobian(softmax, z3)) < 1e-7
    v = -y3 / p3
    assert np.allclose(v @ J, p3 - y3) and np.allclose(J_.softmax_vjp(z3, v), p3 - y3)


def test_the_2_2_2_trace_is_paper_friendly_and_the_library_matches_it_exactly():
    """"z_2 comes out as (0, 0), so the softmax is (1/2, 1/2)"; "both z_1 entries are positive";
    "The two agree to the last bit of a float64" (largest difference 0.0e+00)."""
    t = J_.hand_trace_222()
    assert t["z2"].tolist() == [0.0, 0.0] and t["y_hat"].tolist() == [0.5, 0.5] and np.all(t["z1"] > 0)
    tiny = MLP([2, 2, 2], activation="relu")
    for k in ("W1", "b1", "W2", "b2"):
        tiny.params[k] = J_.TRACE_222[k].copy()
    bp = tiny.backprop(J_.TRACE_222["x"][None, :], np.array([J_.TRACE_222["label"]]))
    lib = {"z1": bp.cache.zs[0][0], "a1": bp.cache.activations[1][0], "z2": bp.cache.zs[1][0],
           "y_hat": softmax(bp.cache.zs[1][0]), "loss": bp.loss, "delta2": bp.deltas[1][0],
           "dW2": bp.grads["W2"], "db2": bp.grads["b2"], "delta1": bp.deltas[0][0],
           "dW1": bp.grads["W1"], "db1": bp.grads["b1"]}
    assert set(lib) == set(t)
    assert max(float(np.max(np.abs(np.asarray(lib[k]) - t[k]))) for k in t) == 0.0


# ------------------------------------------------------------------ section 3: softmax + cross-entropy


def test_softmax_cross_entropy_gives_p_minus_y_over_n_and_the_general_rows_formula():
    """"delta_L = (Y_hat - Y)/N"; rows not summing to 1 get (Y_hat * sum_c Y_c - Y)/N,
    and (Y_hat - Y)/N is then wrong."""
    rng = np.random.default_rng(5)
    logits, labels = rng.normal(size=(5, 10)), rng.integers(0, 10, 5)
    _, dz = softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(5 * dz, softmax(logits) - one_hot(labels, 10), atol=1e-15)
    Y = rng.integers(0, 2, size=(5, 10)).astype(float)
    value, dz = softmax_cross_entropy(logits, Y)
    general = (softmax(logits) * Y.sum(axis=1, keepdims=True) - Y) / 5
    np.testing.assert_allclose(dz, general, atol=1e-15)
    numeric = numerical_gradient(lambda z: softmax_cross_entropy(z, Y)[0], logits.copy())
    assert "MISMATCH" not in compare_gradients(general, numeric, loss=value)
    assert "MISMATCH" in compare_gradients((softmax(logits) - Y) / 5, numeric)


def test_softmax_jacobian_and_log_softmax_derivative():
    """"dp_c/dz_j = p_c([c=j] - p_j)" and "d log p_c / dz_j = [c=j] - p_j"."""
    z = np.random.default_rng(6).normal(size=5)
    p = softmax(z)
    J = numerical_gradient_matrix(lambda v: softmax(v), z)
    np.testing.assert_allclose(J, np.diag(p) - np.outer(p, p), atol=1e-9)
    Jlog = numerical_gradient_matrix(lambda v: np.log(softmax(v)), z)
    np.testing.assert_allclose(Jlog, np.eye(5) - p[None, :], atol=1e-9)


def numerical_gradient_matrix(f, z):
    """Jacobian J[c, j] = d f_c / d z_j by central differences, one row per output."""
    return np.stack([numerical_gradient(lambda v, c=c: f(v)[c], z.copy()) for c in range(len(f(z)))])


# ------------------------------------------------------------------ the saturated neuron


def test_saturated_neuron_numbers_and_the_length_of_the_quadratic_plateau():
    """"sigma'(4) ~ 0.018", "sigma(4) ~ 0.98"; the quadratic cost's output "stays above 0.9 for well over
    a hundred epochs" (the curve is flat to ~170); "cross-entropy drops below 0.9 within ten epochs"."""
    assert sigmoid_grad(4.0) == pytest.approx(0.018, abs=5e-4)
    assert sigmoid(4.0) == pytest.approx(0.98, abs=5e-3)
    curves = {loss: D.single_neuron_curve(loss, w=2.0, b=2.0, x=1.0, target=0.0, lr=0.15, epochs=300)
              for loss in ("mse", "cross_entropy")}
    plateau = D.first_epoch_below(curves["mse"], 0.9)
    assert 150 < plateau < 200, plateau
    assert D.first_epoch_below(curves["cross_entropy"], 0.9) <= 10
    assert curves["mse"]["output"][50] > 0.97 > 0.2 > curves["cross_entropy"]["output"][50]
    # learning slowest when most wrong: the quadratic cost's |dl/dz| grows as the output falls
    assert abs(curves["mse"]["dz"][0]) < abs(curves["mse"]["dz"][plateau])


# ------------------------------------------------------------------ section 4: symmetry


def test_zero_initialisation_keeps_all_16_units_identical_and_random_init_makes_16_distinct(split):
    """"distinct rows of W1: 1 of 16" (zeros) vs "16 of 16" (N(0, 0.1^2)); "a 16-unit layer behaves
    like one unit" (zero init stays near chance)."""
    runs = {init: D.symmetry_experiment(split.X_train, split.y_train, init=init, hidden=16, epochs=5, lr=0.5,
                                        init_scale=0.1 if init == "normal" else None)
            for init in ("zeros", "normal")}
    assert runs["zeros"]["distinct_rows"] == 1 and runs["zeros"]["row_spread"] == 0.0
    assert runs["normal"]["distinct_rows"] == 16
    assert runs["zeros"]["history"].accuracy[-1] < 0.2 < 0.7 < runs["normal"]["history"].accuracy[-1]


def test_relu_with_zero_weights_only_the_output_biases_learn(split):
    """"With ReLU ... with zero weights no hidden gradient is ever non-zero and only the output bias learns"."""
    net = MLP([64, 16, 10], activation="relu", init="zeros", seed=0)
    train(net, split.X_train[:256], split.y_train[:256], epochs=2, lr=0.5, batch_size=32)
    for k in ("W1", "b1", "W2"):
        assert not np.any(net.params[k]), k
    assert np.any(net.params["b2"])


# ------------------------------------------------------------------ section 5: digits


def test_digits_split_sizes(split):
    """"1347 training and 450 test images"."""
    assert split.X_train.shape == (1347, 64) and split.X_test.shape == (450, 64)


def test_digit_network_reaches_over_95_percent(digit_run, split):
    """"A 64-64-10 network trained with these equations reaches over 95 % test accuracy"."""
    net, pred, M = digit_run
    assert np.mean(pred == split.y_test) >= 0.95
    assert np.trace(M) == int(np.sum(pred == split.y_test)) and M.sum() == 450


def test_no_single_confusion_dominates(digit_run):
    """"No single confusion dominates: the largest off-diagonal count is a couple of images, shared by
    several pairs of digits"."""
    _, _, M = digit_run
    count, pairs = D.largest_confusions(M)
    assert 1 <= count <= 3
    assert len(pairs) >= 2
    off = M - np.diag(np.diag(M))
    assert sorted(pairs) == sorted(map(tuple, np.argwhere(off == count).tolist()))


# ------------------------------------------------------------------ section 6: cost


def test_cost_model_counts_of_the_two_networks():
    """"the backward pass costs about 2x a forward pass and the whole gradient about 3x", "between 2x
    and 3x ... closer to 2x when layer 1 does most of the work, as in both networks below"."""
    small_net = D.matmul_cost_model([64, 16, 10], N=64)
    mnist_net = D.matmul_cost_model([784, 128, 10])
    assert 2.0 < small_net.ratio < 2.5 and 2.0 < mnist_net.ratio < 2.05
    stack = D.matmul_cost_model([256] * 21)  # 20 equal layers: (1 + 1 + 19/20)
    assert stack.ratio == pytest.approx(2.95)
    assert stack.backward_dW == stack.forward  # one of the two backward products is exactly forward-sized


def test_finite_differences_need_2p_forward_passes_and_agree_with_backprop(split):
    """"parameters: P = 1210, forward passes for finite differences: 2P = 2420"; every "same gradient"
    line is a match (dW1's tiny entries at the round-off of central differences, eps|L|/h)."""
    fd_net = MLP([64, 16, 10], activation="sigmoid", init="xavier", seed=0)
    cost = D.gradient_cost(fd_net, split.X_train[:64], split.y_train[:64], repeat=1)
    assert cost.num_params == 1210 and cost.fd_forward_passes == 2420
    lines = {k: compare_gradients(cost.grads[k], cost.numeric[k], loss=cost.loss, h=cost.h) for k in cost.grads}
    assert all("MISMATCH" not in line for line in lines.values()), lines
    assert lines["W1"].endswith("match within round-off")  # the notebook's explanation is about dW1
    # "some because their pixel is almost always 0 in these 64 digits, some because the contributions
    # of the examples nearly cancel"
    a, b = cost.grads["W1"], cost.numeric["W1"]
    flagged = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)) >= 1e-7
    nonzero_pixels = (split.X_train[:64] > 0).sum(axis=0)[np.nonzero(flagged)[1]]
    assert nonzero_pixels.min() <= 4 and nonzero_pixels.max() >= 32


def test_question_7_arithmetic():
    """"2 x 10^6 forward passes, about 2 x 10^4 s (5.6 hours)"."""
    seconds = 2 * 10**6 * 0.010
    assert seconds == pytest.approx(2e4) and seconds / 3600 == pytest.approx(5.6, abs=0.05)
