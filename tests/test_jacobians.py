"""backprop_lib.jacobians: Jacobians and VJPs against independent references (finite differences, torch)."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lib import jacobians as jac
from backprop_lib.activations import sigmoid, sigmoid_grad
from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.losses import softmax
from backprop_lib.mlp import MLP


def test_numerical_jacobian_of_a_linear_map_is_its_matrix():
    A = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    J = jac.numerical_jacobian(lambda x: A @ x, np.array([0.3, -0.2, 1.0]))
    assert J.shape == (2, 3) and np.allclose(J, A, atol=1e-9)


def test_elementwise_jacobian_is_diagonal_and_matches_finite_differences():
    z = np.array([-1.0, 0.2, 2.5, 0.0])
    J = jac.elementwise_jacobian(sigmoid_grad, z)
    assert np.array_equal(J, np.diag(np.diag(J)))
    assert rel_error(J, jac.numerical_jacobian(sigmoid, z)) < 1e-7
    v = np.array([0.5, -1.0, 2.0, 0.25])
    assert np.allclose(v @ J, v * sigmoid_grad(z), rtol=1e-15, atol=0)


def test_softmax_jacobian_matches_finite_differences_and_is_symmetric():
    z = np.array([1.0, -0.5, 0.3])
    J = jac.softmax_jacobian(z)
    assert rel_error(J, jac.numerical_jacobian(lambda r: softmax(r), z)) < 1e-7
    assert np.allclose(J, J.T)
    assert np.allclose(J.sum(axis=0), 0.0, atol=1e-15)


@pytest.mark.parametrize("shape", [(4,), (3, 5)])
def test_softmax_vjp_is_the_gradient_of_the_seeded_sum(shape):
    rng = np.random.default_rng(0)
    z, v = rng.normal(size=shape), rng.normal(size=shape)
    numeric = numerical_gradient(lambda t: float(np.sum(v * softmax(t))), z.copy())
    assert rel_error(jac.softmax_vjp(z, v), numeric) < 1e-7


def test_softmax_vjp_of_the_cross_entropy_seed_is_p_minus_y():
    """dl/dp = -y/p for l = -sum y log p; its VJP through softmax collapses to p - y."""
    z, y = np.array([0.2, 1.5, -0.7]), np.array([0.0, 1.0, 0.0])
    p = softmax(z)
    assert np.allclose(jac.softmax_vjp(z, -y / p), p - y)


def test_softmax_vjp_is_stable_for_large_logits():
    z = np.array([[800.0, 801.0, 799.0]])
    assert np.all(np.isfinite(jac.softmax_vjp(z, np.ones_like(z))))


def test_jacobian_vs_vjp_cost_counts():
    cost = jac.jacobian_vs_vjp_cost(128)
    assert (cost.jacobian_entries, cost.explicit_multiplies, cost.vjp_multiplies) == (128 ** 2, 128 ** 2, 128)
    assert cost.ratio == 128


def test_hand_trace_matches_the_library_mlp_exactly():
    t = jac.hand_trace_222()
    net = MLP([2, 2, 2], activation="relu")
    for k in ("W1", "b1", "W2", "b2"):
        net.params[k] = jac.TRACE_222[k].copy()
    bp = net.backprop(jac.TRACE_222["x"][None, :], np.array([jac.TRACE_222["label"]]))
    assert np.array_equal(bp.deltas[0][0], t["delta1"]) and np.array_equal(bp.deltas[1][0], t["delta2"])
    for k in ("W1", "b1", "W2", "b2"):
        assert np.array_equal(bp.grads[k], t[f"d{k}"])
    assert bp.loss == pytest.approx(float(t["loss"]), rel=1e-15)


def test_hand_trace_numbers_are_the_paper_ones():
    t = jac.hand_trace_222()
    assert t["z1"].tolist() == [0.5, 1.0] and t["y_hat"].tolist() == [0.5, 0.5]
    assert t["delta2"].tolist() == [-0.5, 0.5] and t["delta1"].tolist() == [-1.0, 0.5]
    assert t["dW1"].tolist() == [[-1.0, -2.0], [0.5, 1.0]]


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: jac.softmax_vjp(np.zeros((2, 3)), np.zeros((3, 2))), ValueError, "v must have the shape of z"),
    (lambda: jac.softmax_vjp(np.zeros((2, 3, 1)), np.zeros((2, 3, 1))), ValueError, "z must have"),
    (lambda: jac.softmax_jacobian(np.array(["a", "b"])), TypeError, "z must be an array of real numbers"),
    (lambda: jac.softmax_jacobian(np.array([1.0, np.nan])), ValueError, "z must be finite"),
    (lambda: jac.numerical_jacobian(np.sin, np.zeros(2), h=0), ValueError, "h must be a positive number"),
    (lambda: jac.numerical_jacobian(lambda x: x.sum(), np.zeros(2)), ValueError, "f must return a vector"),
    (lambda: jac.jacobian_vs_vjp_cost(0), ValueError, "n must be a positive integer"),
    (lambda: jac.elementwise_jacobian(sigmoid_grad, np.zeros((2, 2))), ValueError, "z must have 1"),
])
def test_bad_input_raises_a_clear_error(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_softmax_vjp_matches_torch_backward_with_a_seed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    z, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    zt = torch.tensor(z, requires_grad=True)
    torch.softmax(zt, dim=1).backward(torch.tensor(v))
    assert rel_error(jac.softmax_vjp(z, v), zt.grad.numpy()) < 1e-12


def test_matmul_candidates_lists_the_products_that_fit():
    d, a, W = np.ones((32, 10)), np.ones((32, 128)), np.ones((10, 128))
    assert [(e, p.shape) for e, p in jac.matmul_candidates(("delta", d), ("a", a))] == [
        ("delta.T @ a", (10, 128)), ("a.T @ delta", (128, 10))]
    assert [e for e, _ in jac.matmul_candidates(("delta", d), ("W", W))] == ["delta @ W", "W.T @ delta.T"]
    square = jac.matmul_candidates(("delta", np.eye(3)), ("X", np.arange(9.0).reshape(3, 3)))
    assert len(square) == 8 and all(p.shape == (3, 3) for _, p in square)
    assert np.array_equal(dict(square)["delta.T @ X"], np.arange(9.0).reshape(3, 3))
