"""Losses: closed forms, stability, gradients against finite differences."""

import warnings

import numpy as np
import pytest

from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.losses import (log_softmax, logsumexp, mse, one_hot, sigmoid_cross_entropy, softmax,
                                 softmax_cross_entropy)

rng = np.random.default_rng(0)


def test_mse_is_mean_over_all_elements_without_a_half():
    p = np.array([[1.0, 2.0], [3.0, 5.0]])
    t = np.array([[0.0, 2.0], [3.0, 3.0]])
    loss, d = mse(p, t)
    assert loss == pytest.approx((1 + 0 + 0 + 4) / 4)
    assert np.allclose(d, 2 * (p - t) / 4)


def test_mse_gradient_matches_finite_differences():
    p, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    num = numerical_gradient(lambda q: mse(q, t)[0], p.copy())
    assert rel_error(mse(p, t)[1], num) <= 1e-7


def test_softmax_rows_sum_to_one_and_ignore_shifts():
    z = rng.standard_normal((4, 6))
    p = softmax(z)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.allclose(softmax(z + 100.0), p)
    assert np.allclose(np.exp(log_softmax(z)), p)
    assert np.allclose(logsumexp(z), np.log(np.exp(z).sum(axis=1)))


def test_cross_entropy_closed_form_with_int_labels():
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    loss, d = softmax_cross_entropy(z, y)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), y])), rel=1e-12)
    assert np.allclose(d, (p - one_hot(y, 4)) / 5)  # delta = (p - y) / N


def test_cross_entropy_int_and_one_hot_labels_agree():
    z = rng.standard_normal((6, 3))
    y = np.array([0, 1, 2, 2, 1, 0])
    l1, d1 = softmax_cross_entropy(z, y)
    l2, d2 = softmax_cross_entropy(z, one_hot(y, 3))
    assert l1 == pytest.approx(l2, rel=1e-14) and rel_error(d1, d2) < 1e-15


@pytest.mark.parametrize("one_hot_labels", [False, True])
def test_cross_entropy_gradient_matches_finite_differences(one_hot_labels):
    z = rng.standard_normal((5, 4))
    y = np.array([1, 0, 3, 2, 2])
    labels = one_hot(y, 4) if one_hot_labels else y
    num = numerical_gradient(lambda q: softmax_cross_entropy(q, labels)[0], z.copy())
    assert rel_error(softmax_cross_entropy(z, labels)[1], num) <= 1e-7


# Target rows that do not sum to 1: the gradient is (p * sum_c y_c - y) / N, not (p - y) / N.
TARGETS_NOT_SUMMING_TO_ONE = {
    "multi-hot": np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0]]),
    "all-zero row": np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
    "partial": np.array([[0.5, 0.0, 0.0, 0.0], [0.0, 0.2, 0.3, 0.0], [0.1, 0.1, 0.1, 0.1]]),
    "negative": np.array([[-1.0, 2.0, 0.0, 0.0], [0.0, -0.5, 0.0, 0.0], [1.0, 0.0, 0.0, -3.0]]),
}


@pytest.mark.parametrize("kind", sorted(TARGETS_NOT_SUMMING_TO_ONE))
def test_cross_entropy_gradient_is_right_for_target_rows_that_do_not_sum_to_one(kind):
    y = TARGETS_NOT_SUMMING_TO_ONE[kind]
    z = rng.standard_normal(y.shape)
    num = numerical_gradient(lambda q: softmax_cross_entropy(q, y)[0], z.copy())
    grad = softmax_cross_entropy(z, y)[1]
    np.testing.assert_allclose(grad, num, rtol=1e-7, atol=1e-10)
    p = softmax(z)
    np.testing.assert_allclose(grad, (p * y.sum(axis=1, keepdims=True) - y) / len(z), rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_finite_for_logits_of_1e4():
    z = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, d = softmax_cross_entropy(z, np.array([1, 0]))
        p = softmax(z)
    assert np.isfinite(loss) and np.all(np.isfinite(d)) and np.all(np.isfinite(p))
    assert loss == pytest.approx((2e4 + 1e4 + np.log(2)) / 2)


def test_sigmoid_cross_entropy_matches_closed_form_and_finite_differences():
    z, t = rng.standard_normal((4, 3)), rng.uniform(size=(4, 3))
    s = 1 / (1 + np.exp(-z))
    loss, d = sigmoid_cross_entropy(z, t)
    assert loss == pytest.approx(np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s))), rel=1e-12)
    num = numerical_gradient(lambda q: sigmoid_cross_entropy(q, t)[0], z.copy())
    assert rel_error(d, num) <= 1e-7


def test_losses_do_not_mutate_inputs():
    z, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y = np.array([0, 1, 3])
    zc, tc, yc = z.copy(), t.copy(), y.copy()
    softmax_cross_entropy(z, y), mse(z, t), softmax(z), sigmoid_cross_entropy(z, np.abs(t) / 10)
    assert np.array_equal(z, zc) and np.array_equal(t, tc) and np.array_equal(y, yc)


def test_one_hot():
    assert np.array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
