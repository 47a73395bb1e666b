"""The checks of exercises/01_chain_rule.ipynb: right answers pass, typical mistakes get their hint."""

import math
import warnings

import numpy as np
import pytest

from backprop_lib.checks import registry
from backprop_lib.checks.chain_rule import (
    check_central_diff,
    check_chain_rule_derivative,
    check_gradient_2d,
    check_max_rel_error_check,
    check_stable_sigmoid_derivative,
    gradient_2d_target,
)
from backprop_lib.gradcheck import central_difference, numerical_gradient


def _stub(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


# --------------------------------------------------------------------------- reference solutions


def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def chain_rule_derivative(f, df, g, dg, x):
    return df(g(x)) * dg(x)


def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 - c])


def stable_sigmoid_derivative(x):
    s = np.exp(-np.logaddexp(0.0, -x))
    return s * (1 - s)


def stable_sigmoid_derivative_branches(x):
    x = np.asarray(x, dtype=np.float64)
    s = np.empty_like(x)
    pos = x >= 0
    s[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    s[~pos] = e / (1 + e)
    return s * (1 - s)


def max_rel_error_check(f, df, xs, h=1e-5):
    worst = 0.0
    for x in xs:
        a = df(x)
        n = (f(x + h) - f(x - h)) / (2 * h)
        worst = max(worst, abs(a - n) / max(1e-8, abs(a) + abs(n)))
    return worst


def max_rel_error_check_vectorised(f, df, xs, h=1e-5):
    a = df(xs)
    n = (f(xs + h) - f(xs - h)) / (2 * h)
    return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))


def _passes(check, fn):
    result = check.run(fn)
    assert result.status == "pass", result.message
    assert result.score == result.max_score == 1


def _fails_with(check, fn, *fragments):
    result = check.run(fn)
    assert result.status in ("fail", "error"), result.message
    assert result.score == 0
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


# --------------------------------------------------------------------------- registry and stubs


def test_all_five_tasks_are_registered():
    names = {"central_diff", "chain_rule_derivative", "gradient_2d", "stable_sigmoid_derivative", "max_rel_error_check"}
    assert names <= set(registry())


@pytest.mark.parametrize("check", [check_central_diff, check_chain_rule_derivative, check_gradient_2d,
                                   check_stable_sigmoid_derivative, check_max_rel_error_check])
def test_untouched_stub_is_reported_as_not_implemented(check, capsys):
    result = check.run(_stub)
    assert result.status == "not_implemented"
    assert "not implemented yet" in result.message
    check(_stub)
    assert capsys.readouterr().out.startswith("TODO")


# --------------------------------------------------------------------------- central_diff


def test_central_diff_reference_passes():
    _passes(check_central_diff, central_diff)


def test_central_diff_forward_difference_is_named():
    _fails_with(check_central_diff, lambda f, x, h: (f(x + h) - f(x)) / h, "forward difference")


def test_central_diff_dividing_by_h_is_named():
    _fails_with(check_central_diff, lambda f, x, h: (f(x + h) - f(x - h)) / h, "divided by h instead of 2h")


def test_central_diff_operator_precedence_is_named():
    _fails_with(check_central_diff, lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h, "precedence")


def test_central_diff_fixed_step_is_named():
    _fails_with(check_central_diff, lambda f, x, h: (f(x + 1e-5) - f(x - 1e-5)) / 2e-5, "ignored the argument h")


# --------------------------------------------------------------------------- chain_rule_derivative


def test_chain_rule_reference_passes():
    _passes(check_chain_rule_derivative, chain_rule_derivative)


def test_chain_rule_formula_matches_finite_differences_of_the_composition():
    h = 1e-5
    for x in (-1.1, 0.2, 1.3):
        ref = chain_rule_derivative(np.sin, np.cos, lambda t: t**2, lambda t: 2 * t, x)
        assert math.isclose(ref, central_difference(lambda t: np.sin(t**2), x, h), rel_tol=1e-8)


def test_chain_rule_missing_inner_derivative_is_named():
    _fails_with(check_chain_rule_derivative, lambda f, df, g, dg, x: df(g(x)), "forgot the inner derivative")


def test_chain_rule_outer_derivative_at_x_is_named():
    _fails_with(check_chain_rule_derivative, lambda f, df, g, dg, x: df(x) * dg(x), "instead of at g(x)")


def test_chain_rule_f_instead_of_f_prime_is_named():
    _fails_with(check_chain_rule_derivative, lambda f, df, g, dg, x: f(g(x)) * dg(x), "use the derivative f'")


def test_chain_rule_sum_instead_of_product_is_named():
    _fails_with(check_chain_rule_derivative, lambda f, df, g, dg, x: df(g(x)) + dg(x), "MULTIPLIES")


def test_chain_rule_finite_difference_answer_is_named():
    def numeric(f, df, g, dg, x):
        h = 1e-4
        return (f(g(x + h)) - f(g(x - h))) / (2 * h)

    _fails_with(check_chain_rule_derivative, numeric, "finite differences")


def test_chain_rule_scalar_only_implementation_fails_on_arrays_with_a_readable_reason():
    def scalar_only(f, df, g, dg, x):
        return float(df(g(x)) * dg(x))

    result = _fails_with(check_chain_rule_derivative, scalar_only)
    assert "array" in result.message


# --------------------------------------------------------------------------- gradient_2d


def test_gradient_2d_reference_passes_and_matches_numerical_gradient():
    _passes(check_gradient_2d, gradient_2d)
    p = np.array([0.7, -0.4])
    num = numerical_gradient(lambda q: gradient_2d_target(q[0], q[1]), p)
    np.testing.assert_allclose(gradient_2d(*p), num, rtol=1e-8)


def test_gradient_2d_tuple_of_two_numbers_is_accepted():
    _passes(check_gradient_2d, lambda x, y: tuple(gradient_2d(x, y)))


def test_gradient_2d_swapped_partials_are_named():
    _fails_with(check_gradient_2d, lambda x, y: gradient_2d(x, y)[::-1], "swapped")


def test_gradient_2d_missing_inner_derivative_is_named():
    def no_inner(x, y):
        c = np.cos(3 * x - y)
        return np.array([2 * x * y + c, x**2 + c])

    _fails_with(check_gradient_2d, no_inner, "inner derivative of sin(3x - y)")


def test_gradient_2d_wrong_sign_of_inner_derivative_is_named():
    def sign(x, y):
        c = np.cos(3 * x - y)
        return np.array([2 * x * y + 3 * c, x**2 + c])

    _fails_with(check_gradient_2d, sign, "-1")


def test_gradient_2d_dropped_constant_factor_is_named():
    def dropped(x, y):
        c = np.cos(3 * x - y)
        return np.array([2 * x + 3 * c, x**2 - c])

    _fails_with(check_gradient_2d, dropped, "2*x*y")


# --------------------------------------------------------------------------- stable_sigmoid_derivative


@pytest.mark.parametrize("fn", [stable_sigmoid_derivative, stable_sigmoid_derivative_branches])
def test_stable_sigmoid_derivative_references_pass_without_warnings(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _passes(check_stable_sigmoid_derivative, fn)


def test_sigmoid_derivative_one_plus_s_is_named():
    def plus(x):
        s = np.exp(-np.logaddexp(0.0, -x))
        return s * (1 + s)

    _fails_with(check_stable_sigmoid_derivative, plus, "(1 + sigma(x))")


def test_sigmoid_derivative_overflowing_exp_is_named_even_when_values_are_right():
    def naive(x):
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s)

    _fails_with(check_stable_sigmoid_derivative, naive, "RuntimeWarning", "overflow")


def test_sigmoid_derivative_nan_from_inf_over_inf_is_named():
    _fails_with(check_stable_sigmoid_derivative, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
                "NaN at x = -1000", "stably")


def test_sigmoid_derivative_np_where_still_overflows_and_says_why():
    def where(x):
        s = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
        return s * (1 - s)

    _fails_with(check_stable_sigmoid_derivative, where, "np.where evaluates BOTH branches")


def test_sigmoid_derivative_math_exp_overflow_is_named():
    def loop(x):
        return np.array([1 / (1 + math.exp(-v)) * (1 - 1 / (1 + math.exp(-v))) for v in np.ravel(x)]).reshape(np.shape(x))

    _fails_with(check_stable_sigmoid_derivative, loop, "OverflowError", "without overflowing")


def test_sigmoid_derivative_returning_sigmoid_is_named():
    _fails_with(check_stable_sigmoid_derivative, lambda x: np.exp(-np.logaddexp(0.0, -x)), "sigma(x) itself")


# --------------------------------------------------------------------------- max_rel_error_check


@pytest.mark.parametrize("fn", [max_rel_error_check, max_rel_error_check_vectorised])
def test_max_rel_error_references_pass(fn):
    _passes(check_max_rel_error_check, fn)


def test_max_rel_error_missing_guard_is_named():
    def unguarded(f, df, xs, h=1e-5):
        a = df(xs)
        n = (f(xs + h) - f(xs - h)) / (2 * h)
        return float(np.nanmax(np.abs(a - n) / (np.abs(a) + np.abs(n))))

    _fails_with(check_max_rel_error_check, unguarded, "max(1e-8, |a| + |n|)")


# The two variants below are guarded except at an exact 0/0, so they reach the case
# (x^2 at its minimum) where only the guard prevents 0/0.


def test_max_rel_error_nan_from_zero_over_zero_is_named():
    def unguarded_nan(f, df, xs, h=1e-5):
        a = df(xs)
        n = (f(xs + h) - f(xs - h)) / (2 * h)
        guard = np.where((a == 0) & (n == 0), 0.0, 1e-8)
        with np.errstate(invalid="ignore"):
            return float(np.max(np.abs(a - n) / np.maximum(guard, np.abs(a) + np.abs(n))))

    _fails_with(check_max_rel_error_check, unguarded_nan, "NaN", "guard the denominator")


def test_max_rel_error_zero_division_is_named():
    def python_floats(f, df, xs, h=1e-5):
        worst = 0.0
        for x in xs:
            a, n = float(df(x)), float((f(x + h) - f(x - h)) / (2 * h))
            guard = 0.0 if a == n == 0 else 1e-8
            worst = max(worst, abs(a - n) / max(guard, abs(a) + abs(n)))
        return worst

    _fails_with(check_max_rel_error_check, python_floats, "ZeroDivisionError", "guard the denominator")


def test_max_rel_error_forward_difference_is_named():
    def forward(f, df, xs, h=1e-5):
        worst = 0.0
        for x in xs:
            a, n = df(x), (f(x + h) - f(x)) / h
            worst = max(worst, abs(a - n) / max(1e-8, abs(a) + abs(n)))
        return worst

    _fails_with(check_max_rel_error_check, forward, "forward difference")


def test_max_rel_error_global_ratio_is_named():
    def global_ratio(f, df, xs, h=1e-5):
        a = df(xs)
        n = (f(xs + h) - f(xs - h)) / (2 * h)
        return float(np.max(np.abs(a - n)) / max(1e-8, np.max(np.abs(a) + np.abs(n))))

    _fails_with(check_max_rel_error_check, global_ratio, "EACH point")


def test_max_rel_error_mean_instead_of_max_is_named():
    def mean(f, df, xs, h=1e-5):
        a = df(xs)
        n = (f(xs + h) - f(xs - h)) / (2 * h)
        return float(np.mean(np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))))

    _fails_with(check_max_rel_error_check, mean, "MAX")


def test_max_rel_error_calling_the_library_rel_error_scores_zero():
    # The task's answer is exactly gradcheck.rel_error of the two arrays; the task says to write it.
    from backprop_lib.gradcheck import rel_error as my_rel_error

    def calls_library(f, df, xs, h=1e-5):
        a = np.array([df(x) for x in xs])
        n = np.array([(f(x + h) - f(x - h)) / (2 * h) for x in xs])
        return my_rel_error(a, n)

    _fails_with(check_max_rel_error_check, calls_library,
                "calls the library's reference implementation `backprop_lib.gradcheck.rel_error`")


def test_max_rel_error_own_code_may_use_the_library_central_difference():
    # Only rel_error is the task's answer: the central differences may come from the library.
    def with_library_difference(f, df, xs, h=1e-5):
        return max(abs(df(x) - central_difference(f, x, h)) / max(1e-8, abs(df(x)) + abs(central_difference(f, x, h)))
                   for x in xs)

    _passes(check_max_rel_error_check, with_library_difference)
