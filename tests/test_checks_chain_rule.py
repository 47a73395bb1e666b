"""The checks of exercises/01_chain_rule.ipynb: right answers pass, forbidden methods fail at every step size.

The realistic wrong answers and the correct alternatives, each with the hint it must get, are rows of
tests/answers/nb01_chain_rule.py (run by tests/test_answers.py). This file keeps what a table row
cannot say: that the references agree with independent ones, that a finite difference is rejected
whatever its step, that a silenced or clipped overflow is rejected whatever the clip, and the helpers.
"""

import math
import warnings

import numpy as np
import pytest

from backprop_lib.activations import sigmoid_grad
from backprop_lib.checks import registry
from backprop_lib.checks.chain_rule import (
    _GRAD_ATOL,
    _GRAD_RTOL,
    _LARGE_X,
    _gradient_2d_points,
    _mistakes,
    check_central_diff,
    check_chain_rule_derivative,
    check_gradient_2d,
    check_max_rel_error_check,
    check_stable_sigmoid_derivative,
    gradient_2d_target,
)
from backprop_lib.gradcheck import central_difference, forward_difference, numerical_gradient

from check_helpers import fails_with, passes, stub

STEPS = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 6e-6, 1e-6, 1e-7, 1e-8, 1e-10]


# --------------------------------------------------------------------------- reference solutions


def central_diff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


def chain_rule_derivative(f, df, g, dg, x):
    return df(g(x)) * dg(x)


def gradient_2d(x, y):
    c = np.cos(3 * x - y)
    return np.array([2 * x * y + 3 * c, x**2 - c])


def stable_sigmoid_derivative(x):
    return np.exp(-np.logaddexp(0.0, -x)) * np.exp(-np.logaddexp(0.0, x))


def max_rel_error_check(f, df, xs, h=1e-5):
    worst = 0.0
    for x in xs:
        a = df(x)
        n = (f(x + h) - f(x - h)) / (2 * h)
        worst = max(worst, abs(a - n) / max(1e-8, abs(a) + abs(n)))
    return worst


# --------------------------------------------------------------------------- registry, stubs, references


def test_all_five_tasks_are_registered():
    names = {"central_diff", "chain_rule_derivative", "gradient_2d", "stable_sigmoid_derivative", "max_rel_error_check"}
    assert names <= set(registry())


@pytest.mark.parametrize("check", [check_central_diff, check_chain_rule_derivative, check_gradient_2d,
                                   check_stable_sigmoid_derivative, check_max_rel_error_check])
def test_untouched_stub_is_reported_as_not_implemented(check, capsys):
    result = check.run(stub)
    assert result.status == "not_implemented"
    assert "not implemented yet" in result.message
    check(stub)
    assert capsys.readouterr().out.startswith("TODO")


@pytest.mark.parametrize("check, fn", [
    (check_central_diff, central_diff),
    (check_chain_rule_derivative, chain_rule_derivative),
    (check_gradient_2d, gradient_2d),
    (check_max_rel_error_check, max_rel_error_check),
])
def test_reference_solution_passes(check, fn):
    passes(check, fn)


def test_stable_sigmoid_reference_passes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        passes(check_stable_sigmoid_derivative, stable_sigmoid_derivative)


def test_chain_rule_formula_matches_finite_differences_of_the_composition():
    for x in (-1.1, 0.2, 1.3):
        ref = chain_rule_derivative(np.sin, np.cos, lambda t: t**2, lambda t: 2 * t, x)
        assert math.isclose(ref, central_difference(lambda t: np.sin(t**2), x, 1e-5), rel_tol=1e-8)


def test_gradient_2d_closed_form_matches_numerical_gradient():
    p = np.array([0.7, -0.4])
    num = numerical_gradient(lambda q: gradient_2d_target(q[0], q[1]), p)
    np.testing.assert_allclose(gradient_2d(*p), num, rtol=1e-8)


def test_stable_sigmoid_reference_is_exact_where_the_derivative_is_tiny():
    # sigma'(x) = e^{-|x|} / (1 + e^{-|x|})^2 ~ e^{-|x|}: the library's form is exact down to subnormals
    x = _LARGE_X[np.abs(_LARGE_X) <= 720]
    np.testing.assert_allclose(sigmoid_grad(x), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2, rtol=0)
    np.testing.assert_allclose(stable_sigmoid_derivative(x), sigmoid_grad(x), rtol=1e-14)


# --------------------------------------------------------------------------- finite differences, whatever the step


@pytest.mark.parametrize("h", STEPS)
def test_chain_rule_rejects_a_finite_difference_of_the_composition_at_every_step(h):
    def numeric(f, df, g, dg, x):
        return (f(g(x + h)) - f(g(x - h))) / (2 * h)

    fails_with(check_chain_rule_derivative, numeric, "finite difference")


@pytest.mark.parametrize("h", STEPS)
def test_chain_rule_rejects_a_finite_difference_of_one_factor_at_every_step(h):
    def inner_numeric(f, df, g, dg, x):
        return df(g(x)) * (g(x + h) - g(x - h)) / (2 * h)

    def outer_numeric(f, df, g, dg, x):
        u = g(x)
        return (f(u + h) - f(u - h)) / (2 * h) * dg(x)

    fails_with(check_chain_rule_derivative, inner_numeric, "evaluated `g`")
    fails_with(check_chain_rule_derivative, outer_numeric, "evaluated `f`")


@pytest.mark.parametrize("h", STEPS)
def test_gradient_2d_rejects_numerical_gradient_at_every_step(h):
    def numeric(x, y):
        return numerical_gradient(lambda p: gradient_2d_target(p[0], p[1]), np.array([x, y]), h)

    def forward(x, y):
        f0 = gradient_2d_target(x, y)
        return np.array([(gradient_2d_target(x + h, y) - f0) / h, (gradient_2d_target(x, y + h) - f0) / h])

    fails_with(check_gradient_2d, numeric)
    fails_with(check_gradient_2d, forward)


def test_gradient_2d_tolerance_is_far_below_the_best_finite_difference():
    # Whatever the step, a central difference is off at one of the check's points by more than 100x
    # what the check allows, so the margin does not depend on the machine's last bits.
    def excess(h):
        return max(float(np.max(np.abs(numerical_gradient(lambda p: gradient_2d_target(p[0], p[1]), np.array(pt), h)
                                       - gradient_2d(*pt)) / (_GRAD_ATOL + _GRAD_RTOL * np.abs(gradient_2d(*pt)))))
                   for pt in _gradient_2d_points())

    assert min(excess(h) for h in np.logspace(-9, -2, 71)) > 100


@pytest.mark.parametrize("h", [1e-1, 1e-3, 1e-5, 1e-8])
def test_central_diff_fixed_step_is_named_whatever_the_step(h):
    def fixed(f, x, step):
        return (f(x + h) - f(x - h)) / (2 * h)

    fails_with(check_central_diff, fixed, "ignored the argument h")


# --------------------------------------------------------------------------- the sigmoid: silenced, clipped, cancelled


def _naive(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


def _naive_product(x):
    return 1 / (1 + np.exp(-x)) * (1 / (1 + np.exp(x)))


@pytest.mark.parametrize("formula", [_naive, _naive_product])
def test_sigmoid_silenced_with_errstate_is_rejected(formula):
    def silenced(x):
        with np.errstate(all="ignore"):
            return formula(x)

    fails_with(check_stable_sigmoid_derivative, silenced, "loses the tiny values")


@pytest.mark.parametrize("formula", [_naive, _naive_product])
def test_sigmoid_silenced_with_catch_warnings_is_rejected(formula):
    def silenced(x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return formula(x)

    fails_with(check_stable_sigmoid_derivative, silenced, "Silencing the warning")


@pytest.mark.parametrize("clip", [30, 50, 100, 300, 500, 700, 709])
def test_sigmoid_with_a_clipped_input_is_rejected_and_the_clip_named(clip):
    def clipped(x):
        e = np.exp(-np.abs(np.clip(x, -clip, clip)))
        return e / (1 + e) ** 2

    fails_with(check_stable_sigmoid_derivative, clipped, "clip", f"about {clip}")


def test_sigmoid_with_a_clipped_exponent_is_rejected():
    def clipped_exponent(x):
        with np.errstate(all="ignore"):
            s = 1 / (1 + np.exp(np.minimum(-x, 709)))
            t = 1 / (1 + np.exp(np.minimum(x, 709)))
        return s * t

    fails_with(check_stable_sigmoid_derivative, clipped_exponent, "clip")


def test_sigmoid_one_minus_sigma_of_minus_x_cancellation_is_named():
    def cancels_on_the_left(x):
        t = np.exp(-np.logaddexp(0.0, x))  # sigma(-x), stable
        return (1 - t) * t

    fails_with(check_stable_sigmoid_derivative, cancels_on_the_left, "cancels")


# --------------------------------------------------------------------------- max_rel_error_check


def test_max_rel_error_cs231n_denominator_is_named_not_a_only():
    def cs231n(f, df, xs, h=1e-5):
        a = np.array([df(x) for x in xs])
        n = np.array([central_difference(f, x, h) for x in xs])
        return float(np.max(np.abs(a - n) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(n)))))

    result = fails_with(check_max_rel_error_check, cs231n, "CS231n")
    assert "|a| only" not in result.message


def test_max_rel_error_nan_from_zero_over_zero_is_named():
    def unguarded_nan(f, df, xs, h=1e-5):
        a = df(xs)
        n = (f(xs + h) - f(xs - h)) / (2 * h)
        guard = np.where((a == 0) & (n == 0), 0.0, 1e-8)
        with np.errstate(invalid="ignore"):
            return float(np.max(np.abs(a - n) / np.maximum(guard, np.abs(a) + np.abs(n))))

    fails_with(check_max_rel_error_check, unguarded_nan, "NaN", "guard the denominator")


def test_max_rel_error_zero_division_is_named():
    def python_floats(f, df, xs, h=1e-5):
        worst = 0.0
        for x in xs:
            a, n = float(df(x)), float((f(x + h) - f(x - h)) / (2 * h))
            guard = 0.0 if a == n == 0 else 1e-8
            worst = max(worst, abs(a - n) / max(guard, abs(a) + abs(n)))
        return worst

    fails_with(check_max_rel_error_check, python_floats, "ZeroDivisionError", "guard the denominator")


# --------------------------------------------------------------------------- helpers


def test_mistakes_merges_equal_values_and_drops_the_answer():
    merged = _mistakes(1.0, [("A", 2.0), ("B", 2.0), ("C", 1.0), ("D", 3.0)], 1e-9, 1e-12)
    assert sorted(float(v) for v in merged.values()) == [2.0, 3.0]
    (both,) = [hint for hint, value in merged.items() if float(value) == 2.0]
    assert "A" in both and "B" in both and "same value" in both
    assert "D" in merged and not any("C" in hint for hint in merged)


def test_scalar_answers_no_mistake_explains_get_a_task_hint_not_a_constant_factor():
    result = fails_with(check_central_diff, lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h) + 0.01,
                         "none of the usual mistakes", "check each step")
    assert "constant factor" not in result.message


def test_forward_difference_identity_used_by_a_table_row():
    # forward_difference(f, x - h, 2h) IS the central difference: the table row calling it must score 0
    assert forward_difference(np.sin, 0.3 - 1e-3, 2e-3) == pytest.approx(central_difference(np.sin, 0.3, 1e-3),
                                                                        rel=1e-12)
