"""backprop_lib.gradcheck: finite differences and the relative error, against closed forms."""

import math

import numpy as np
import pytest

from backprop_lib.gradcheck import (
    central_difference,
    difference_errors,
    forward_difference,
    numerical_gradient,
    optimal_h,
    rel_error,
)

EPS = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------- closed-form gradients

def _quadratic(A):
    return (lambda x: float(x.ravel() @ A @ x.ravel()),
            lambda x: ((A + A.T) @ x.ravel()).reshape(x.shape))


def _sum_sin_times_square():
    return (lambda x: float(np.sum(np.sin(x) * x**2)),
            lambda x: np.cos(x) * x**2 + 2 * x * np.sin(x))


def _logsumexp():
    def f(x):
        m = np.max(x)
        return float(m + np.log(np.sum(np.exp(x - m))))

    def grad(x):
        e = np.exp(x - np.max(x))
        return e / e.sum()

    return f, grad


def _mse_linear(X, y):
    # L(W) = mean((X @ w - y)^2) with w the flattened array
    return (lambda w: float(np.mean((X @ w.ravel() - y) ** 2)),
            lambda w: (2.0 / len(y) * X.T @ (X @ w.ravel() - y)).reshape(w.shape))


SHAPES = [(), (5,), (3, 4), (2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"shape{s}")
@pytest.mark.parametrize("which", ["quadratic", "sin_x2", "logsumexp", "mse_linear"])
def test_numerical_gradient_matches_closed_form_gradients(shape, which):
    rng = np.random.default_rng([len(shape), len(which)])  # fixed seed per case
    x = rng.standard_normal(shape)
    n = x.size
    if which == "quadratic":
        f, grad = _quadratic(rng.standard_normal((n, n)))
    elif which == "sin_x2":
        f, grad = _sum_sin_times_square()
    elif which == "logsumexp":
        f, grad = _logsumexp()
    else:
        f, grad = _mse_linear(rng.standard_normal((7, n)), rng.standard_normal(7))
    num = numerical_gradient(f, x)
    assert num.shape == x.shape and num.dtype == np.float64
    # central differences with h = 1e-5: truncation ~1e-10 and round-off ~1e-11 per entry
    np.testing.assert_allclose(num, grad(x), rtol=1e-8, atol=1e-9)


def test_numerical_gradient_returns_a_0d_array_for_a_0d_input():
    x = np.array(0.7)
    g = numerical_gradient(lambda v: float(np.sin(v)), x)
    assert g.shape == () and math.isclose(float(g), math.cos(0.7), rel_tol=1e-9)


@pytest.mark.parametrize("make_view", [
    lambda base: base.T,                 # Fortran-ordered view
    lambda base: base[:, ::2],           # strided columns
    lambda base: base[::-1, 1:4],        # negative stride
], ids=["transpose", "strided", "reversed"])
def test_numerical_gradient_handles_non_contiguous_views_and_restores_the_base(make_view):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((6, 8))
    before = base.copy()
    view = make_view(base)
    assert not view.flags["C_CONTIGUOUS"]
    f, grad = _sum_sin_times_square()
    num = numerical_gradient(f, view)
    assert num.shape == view.shape
    np.testing.assert_allclose(num, grad(view), rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(base, before)


def test_numerical_gradient_works_when_f_closes_over_the_same_array():
    # the pattern used for a network's weights: f ignores its argument and reads W itself
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 4))
    X = rng.standard_normal((5, 4))
    loss = lambda _: float(np.sum(np.tanh(X @ W.T)))  # noqa: E731
    analytic = (1 - np.tanh(X @ W.T) ** 2).T @ X
    before = W.copy()
    assert rel_error(numerical_gradient(loss, W), analytic) <= 1e-8
    np.testing.assert_array_equal(W, before)


def test_numerical_gradient_leaves_x_unchanged_when_f_raises():
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    before = x.copy()
    calls = 0

    def flaky(v):
        nonlocal calls
        calls += 1
        if calls == 4:  # the second entry, while it is perturbed by -h
            raise RuntimeError("boom")
        return float(np.sum(v**2))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(flaky, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_accepts_lists_as_float64():
    g = numerical_gradient(lambda v: float(np.sum(v**2)), [1, 2, 3])
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0], rtol=1e-9)


def test_numerical_gradient_rejects_float32_input():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: float(np.sum(v)), np.ones(3, dtype=np.float32))


def test_numerical_gradient_rejects_a_non_scalar_f():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.ones(3))


# --------------------------------------------------------------------------- step size validation


@pytest.mark.parametrize("h", [0.0, -1e-5, float("nan"), float("inf")])
@pytest.mark.parametrize("fn", ["forward", "central", "gradient"])
def test_bad_step_values_raise_value_error(fn, h):
    with pytest.raises(ValueError, match="h must be"):
        _call_with_h(fn, h)


@pytest.mark.parametrize("h", ["1e-5", None, True, [1e-5], 1j])
@pytest.mark.parametrize("fn", ["forward", "central", "gradient"])
def test_bad_step_types_raise_type_error(fn, h):
    with pytest.raises(TypeError, match="h must be"):
        _call_with_h(fn, h)


def _call_with_h(fn, h):
    if fn == "forward":
        return forward_difference(math.sin, 0.5, h)
    if fn == "central":
        return central_difference(math.sin, 0.5, h)
    return numerical_gradient(lambda v: float(np.sum(v)), np.ones(2), h)


def test_integer_and_numpy_steps_are_accepted():
    assert math.isclose(central_difference(lambda t: t**2, 3.0, 1), 6.0)
    assert math.isclose(central_difference(lambda t: t**2, 3.0, np.float32(0.5)), 6.0)


# --------------------------------------------------------------------------- difference formulas


def test_forward_and_central_difference_closed_forms():
    x, h = 0.3, 0.1
    assert math.isclose(forward_difference(math.exp, x, h), math.exp(x) * math.expm1(h) / h, rel_tol=1e-12)
    assert math.isclose(central_difference(math.exp, x, h), math.exp(x) * math.sinh(h) / h, rel_tol=1e-12)
    # x^3: forward 3x^2 + 3xh + h^2, central 3x^2 + h^2
    assert math.isclose(forward_difference(lambda t: t**3, x, h), 3 * x**2 + 3 * x * h + h**2, rel_tol=1e-12)
    assert math.isclose(central_difference(lambda t: t**3, x, h), 3 * x**2 + h**2, rel_tol=1e-12)


def test_truncation_orders_are_one_and_two():
    e = lambda diff, h: abs(diff(math.sin, 1.0, h) - math.cos(1.0))  # noqa: E731
    assert 9 < e(forward_difference, 1e-2) / e(forward_difference, 1e-3) < 11
    assert 90 < e(central_difference, 1e-2) / e(central_difference, 1e-3) < 110


def test_difference_errors_returns_the_v_shape_data():
    hs = np.logspace(-14, -1, 27)
    out = difference_errors(math.sin, math.cos, 1.0, hs)
    assert set(out) == {"h", "forward", "central"}
    assert out["forward"].shape == out["central"].shape == hs.shape
    # large h: truncation dominates and central beats forward; tiny h: round-off dominates both
    assert out["central"][-1] < out["forward"][-1]
    assert out["central"][0] > out["central"].min() * 100
    assert 1e-7 < hs[np.argmin(out["central"])] < 1e-4


@pytest.mark.parametrize("hs", [[], [[1e-3]], [1e-3, 0.0], [-1e-3]])
def test_difference_errors_rejects_bad_steps(hs):
    with pytest.raises(ValueError, match="hs must be"):
        difference_errors(math.sin, math.cos, 1.0, hs)


def test_optimal_h_is_the_balancing_power_of_eps():
    assert math.isclose(optimal_h(1), EPS ** 0.5) and math.isclose(optimal_h(2), EPS ** (1 / 3))
    assert 1e-8 < optimal_h(1) < 2e-8 and 5e-6 < optimal_h(2) < 7e-6
    with pytest.raises(ValueError, match="order"):
        optimal_h(3)


# --------------------------------------------------------------------------- rel_error


def test_rel_error_formula_and_guard():
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error([5.0, 1.0, 2.0], [5.0, 1.1, 2.2]) == pytest.approx(0.1 / 2.1)  # the worst element
    assert rel_error(3.0, 3.0) == 0.0
    assert rel_error(np.zeros((2, 2)), np.zeros((2, 2))) == 0.0
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-12 / 1e-8)  # tiny values: guarded denominator
    assert rel_error(np.empty(0), np.empty(0)) == 0.0


def test_rel_error_is_per_element_so_a_wrong_small_entry_cannot_hide_behind_a_large_one():
    right, wrong = np.array([1000.0, 1e-3]), np.array([1000.0, 2e-3])  # the small entry is off by 2x
    assert rel_error(right, wrong) == pytest.approx(1e-3 / 3e-3)
    normwise = np.max(np.abs(right - wrong)) / np.max(np.abs(right) + np.abs(wrong))
    assert normwise < 1e-6  # one ratio of two maxima would call this gradient right


def test_rel_error_is_symmetric_and_scale_invariant():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert rel_error(a, b) == rel_error(b, a)
    assert rel_error(1e3 * a, 1e3 * b) == pytest.approx(rel_error(a, b), rel=1e-12)


@pytest.mark.parametrize("shapes", [((3,), (4,)), ((3, 1), (3,)), ((2, 3), (3, 2)), ((), (1,))])
def test_rel_error_shape_mismatch_raises(shapes):
    a, b = np.zeros(shapes[0]), np.zeros(shapes[1])
    with pytest.raises(ValueError, match="same shape"):
        rel_error(a, b)
