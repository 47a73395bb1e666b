r"""Checks for ``exercises/01_chain_rule.ipynb``: finite differences and the chain rule.

Tasks (ids are unique across the course):

``central_diff``           :math:`(f(x+h) - f(x-h)) / 2h`
``chain_rule_derivative``  :math:`\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)`
``gradient_2d``            the analytic gradient of :func:`gradient_2d_target`
``stable_sigmoid_derivative``  :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`, no overflow up to ``|x| = 1000``
``max_rel_error_check``    the worst per-point relative error between an analytic
                           derivative and central differences (``gradcheck.rel_error``,
                           written by the learner)

The expected values come from :mod:`backprop_lib.gradcheck` (central and forward
differences, ``numerical_gradient``, ``rel_error``) and from the stable sigmoid of
notebook 01 (:data:`backprop_lib.widgets.DERIVATIVE_EXAMPLES`); the ``mistakes``
are the values typical wrong implementations return.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..gradcheck import central_difference, forward_difference, numerical_gradient, rel_error
from ..activations import sigmoid_grad
from ..widgets import DERIVATIVE_EXAMPLES
from ._core import Mistake, call, expect_array, expect_close, expect_scalar, fail, task

__all__ = [
    "check_central_diff",
    "check_chain_rule_derivative",
    "check_gradient_2d",
    "check_stable_sigmoid_derivative",
    "check_max_rel_error_check",
    "gradient_2d_target",
]


def _cube(x):
    return x**3


def _dcube(x):
    return 3 * x**2


def _square(x):
    return x**2


def _dsquare(x):
    return 2 * x


# --------------------------------------------------------------------------- central_diff


@task("central_diff", points=1, references=[central_difference])
def check_central_diff(fn):
    """Check ``central_diff(f, x, h)`` against ``gradcheck.central_difference``."""
    cases = [(np.sin, 0.3, 1e-3), (np.exp, 1.0, 0.05), (_cube, -0.7, 0.1), (np.tanh, 2.0, 0.2)]
    for f, x, h in cases:
        what = f"central_diff({f.__name__}, {x}, h={h})"
        out = call(fn, f, x, h)
        ref = central_difference(f, x, h)
        expect_scalar(out, ref, what, rtol=1e-9, atol=1e-12, mistakes={
            "you used the forward difference (f(x+h) - f(x)) / h; the central difference uses "
            "f(x+h) and f(x-h)": forward_difference(f, x, h),
            "you used the backward difference (f(x) - f(x-h)) / h; the central difference uses "
            "f(x+h) and f(x-h)": forward_difference(f, x - h, h),
            "you divided by h instead of 2h: the two points x-h and x+h are 2h apart": 2 * ref,
            "operator precedence: `... / 2*h` divides by 2 and then MULTIPLIES by h; "
            "write `/ (2*h)`": ref * h * h,
            "you divided by 2h twice (or by 4h)": ref / 2,
            "you ignored the argument h and used a fixed step; use the h you are given":
                central_difference(f, x, 1e-5),
        })
    return "matches (f(x+h) - f(x-h)) / (2h) for sin, exp, x^3 and tanh with several step sizes"


# --------------------------------------------------------------------------- chain_rule_derivative


@task("chain_rule_derivative", points=1)
def check_chain_rule_derivative(fn):
    """Check ``chain_rule_derivative(f, df, g, dg, x) = df(g(x)) * dg(x)``."""
    sig, dsig, _ = DERIVATIVE_EXAMPLES["sigmoid"]
    cases = [
        ("f = sin, g = x^2", np.sin, np.cos, _square, _dsquare, 1.3),
        ("f = exp, g = sin", np.exp, np.exp, np.sin, np.cos, 0.4),
        ("f = x^3, g = tanh", _cube, _dcube, np.tanh, lambda t: 1 - np.tanh(t) ** 2, -0.8),
        ("f = sigmoid, g = 3x - 1", sig, dsig, lambda t: 3 * t - 1, lambda t: 3 + 0 * t, 0.9),
        ("f = sin, g = x^2 (array x)", np.sin, np.cos, _square, _dsquare, np.linspace(-2.0, 2.0, 7)),
    ]
    for label, f, df, g, dg, x in cases:
        what = f"chain_rule_derivative with {label} at x = {_show(x)}"
        out = call(fn, f, df, g, dg, x)
        ref = df(g(x)) * dg(x)  # tests/test_checks_chain_rule.py checks it against central differences
        if _nearly(out, ref):
            fail(f"{what} is close to the answer but not exact (relative difference above 1e-9): did you use "
                 "finite differences? Use the exact derivatives df and dg you are given: f'(g(x)) * g'(x).")
        expect_close(out, ref, what, rtol=1e-9, atol=1e-12, mistakes={
            "you forgot the inner derivative: multiply f'(g(x)) by g'(x)": df(g(x)),
            "you evaluated f' at x instead of at g(x): the outer derivative is taken where "
            "the outer function is evaluated, f'(g(x))": df(x) * dg(x),
            "you multiplied f(g(x)) by g'(x); use the derivative f', not f": f(g(x)) * dg(x),
            "you composed in the wrong order: for f(g(x)) it is f'(g(x)) * g'(x), "
            "not g'(f(x)) * f'(x)": dg(f(x)) * df(x),
            "you added the local derivatives; the chain rule MULTIPLIES them": df(g(x)) + dg(x),
            "you applied f' to g'(x); it is f'(g(x)) * g'(x)": df(dg(x)),
        })
    return "f'(g(x)) * g'(x) is right for 4 compositions, for scalars and for arrays"


def _nearly(out, ref) -> bool:
    """True when ``out`` agrees with ``ref`` to about 5 digits but not to 9 (a finite-difference answer)."""
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (arr.shape == np.shape(ref) and bool(np.allclose(arr, ref, rtol=1e-5, atol=1e-8))
            and not bool(np.allclose(arr, ref, rtol=1e-9, atol=1e-12)))


def _show(x) -> str:
    return f"{x:g}" if np.ndim(x) == 0 else f"an array of {np.size(x)} points"


# --------------------------------------------------------------------------- gradient_2d


def gradient_2d_target(x, y):
    r"""The function of task ``gradient_2d``: :math:`f(x, y) = x^2 y + \sin(3x - y)`."""
    return x**2 * y + np.sin(3 * x - y)


@task("gradient_2d", points=1)
def check_gradient_2d(fn):
    """Check the analytic gradient of ``x**2 * y + sin(3x - y)`` against ``numerical_gradient``."""
    rng = np.random.default_rng(101)
    points = [(0.5, -1.0), (1.2, 0.7), (-0.3, 2.0)] + [tuple(p) for p in rng.uniform(-2, 2, size=(3, 2))]
    for x, y in points:
        what = f"gradient_2d({x:.4g}, {y:.4g})"
        out = call(fn, x, y)
        ref = numerical_gradient(lambda p: gradient_2d_target(p[0], p[1]), np.array([x, y]))
        c = np.cos(3 * x - y)
        dfdx, dfdy = 2 * x * y + 3 * c, x**2 - c
        if isinstance(out, tuple) and len(out) == 2:
            out = np.array(out, dtype=np.float64) if all(np.ndim(v) == 0 for v in out) else out
        expect_array(out, ref, what, rtol=1e-6, atol=1e-8, mistakes={
            "you swapped the partial derivatives: return [df/dx, df/dy] in that order": [dfdy, dfdx],
            "you forgot the inner derivative of sin(3x - y): d/dx gives 3*cos(3x - y), d/dy gives "
            "-cos(3x - y)": [2 * x * y + c, x**2 + c],
            "the inner derivative of (3x - y) with respect to y is -1: check the sign of the cos term "
            "in df/dy": [dfdx, x**2 + c],
            "in df/dx, the derivative of x^2 * y is 2*x*y (y is a constant factor, keep it)": [2 * x + 3 * c, dfdy],
            "in df/dy, the derivative of x^2 * y is x^2 (not 2*x*y)": [dfdx, 2 * x * y - c],
        })
    return "[df/dx, df/dy] matches central differences at 6 points"


# --------------------------------------------------------------------------- stable_sigmoid_derivative


_OVERFLOW = (
    "Your code computes exp of a large number (e.g. exp(-x) at x = -1000 is exp(1000) = inf). Compute "
    "sigma(x) without overflowing: exp(-logaddexp(0, -x)), or exp(x) / (1 + exp(x)) for x < 0 and "
    "1 / (1 + exp(-x)) for x >= 0 applied to the two parts of x separately (np.where evaluates BOTH "
    "branches on every element, so it still overflows)."
)


@task("stable_sigmoid_derivative", points=1, references=[sigmoid_grad])
def check_stable_sigmoid_derivative(fn):
    """Check sigma'(x) elementwise, on a grid up to |x| = 1000, without NaN or warnings."""
    sigmoid, dsigmoid, _ = DERIVATIVE_EXAMPLES["sigmoid"]
    cases = [
        np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),
        np.linspace(-8.0, 8.0, 12).reshape(3, 4),
        np.array([-1000.0, -745.0, -50.0, -1.0, 0.0, 1.0, 50.0, 745.0, 1000.0]),
    ]
    for x in cases:
        what = f"stable_sigmoid_derivative on an array of shape {x.shape} (x from {x.min():g} to {x.max():g})"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
                try:
                    out = call(fn, x)
                except Mistake as exc:
                    if "OverflowError" in str(exc) or "FloatingPointError" in str(exc):
                        fail(f"{what}: {exc} {_OVERFLOW}")
                    raise
        arr = np.asarray(out, dtype=np.float64) if isinstance(out, (np.ndarray, list, float, int)) else None
        if arr is not None and arr.shape == x.shape and np.any(~np.isfinite(arr)):
            at = x[~np.isfinite(arr)].ravel()[0]
            fail(f"{what} contains {'NaN' if np.any(np.isnan(arr)) else 'inf'} at x = {at:g}. A formula like "
                 "exp(-x) / (1 + exp(-x))**2 overflows there (exp(1000) = inf, and inf/inf = NaN). "
                 "Compute sigma(x) stably (e.g. exp(-logaddexp(0, -x)), or branch on the sign of x) "
                 "and use sigma(x) * (1 - sigma(x)).")
        noisy = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if noisy:
            fail(f"{what} gave a RuntimeWarning: '{noisy[0].message}'. The values may look right but "
                 f"the overflow is real. {_OVERFLOW}")
        s = sigmoid(x)
        expect_array(out, dsigmoid(x), what, rtol=1e-7, atol=1e-12, mistakes={
            "sigma'(x) = sigma(x) * (1 - sigma(x)): you wrote (1 + sigma(x))": s * (1 + s),
            "you returned sigma(x) itself, not its derivative": s,
            "you returned 1 - sigma(x); multiply by sigma(x): sigma(x) * (1 - sigma(x))": 1 - s,
            "you used tanh's derivative 1 - sigma(x)^2; sigmoid's is sigma(x) * (1 - sigma(x))": 1 - s**2,
            "you squared the derivative: sigma(x) * (1 - sigma(x)) is not squared": (s * (1 - s)) ** 2,
            "you forgot the inner derivative of exp(-x) (that is -exp(-x)): the result has the "
            "wrong sign": -s * (1 - s),
        })
    return "sigma'(x) = sigma(x)(1 - sigma(x)) elementwise, no overflow, NaN or warning for |x| up to 1000"


# --------------------------------------------------------------------------- max_rel_error_check


_ZERO_OVER_ZERO = (
    "Where both derivatives are exactly 0 (x^2 at x = 0: f'(0) = 0 and the central difference is 0 too), "
    "|a - n| / (|a| + |n|) is 0/0: guard the denominator with max(1e-8, |a| + |n|)."
)


@task("max_rel_error_check", points=1, references=[rel_error])
def check_max_rel_error_check(fn):
    r"""Check ``max_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)`` with ``n_i`` central differences.

    That is exactly :func:`backprop_lib.gradcheck.rel_error` of the arrays ``a`` and ``n``, so the
    task asks the learner to write it: a function that calls ``rel_error`` scores 0.
    """
    sin, cos = np.sin, np.cos
    cases = [
        ("f = sin, f' = cos", sin, cos, np.array([-1.0, 0.3, 2.0]), 1e-2),
        ("f = exp with a 0.1% wrong derivative", np.exp, lambda t: 1.001 * np.exp(t),
         np.array([-2.0, 0.0, 1.0, 2.5]), 1e-5),
        ("f = x^3 near 0", _cube, _dcube, np.array([0.0, 1e-6, 0.5, 1.5]), 1e-5),
        ("f = sin with the wrong derivative -cos", sin, lambda t: -np.cos(t), np.array([0.1, 1.0]), 1e-4),
        ("f = x^2 around its minimum", _square, _dsquare, np.array([-1.0, 0.0, 1.0]), 1e-5),
    ]
    for label, f, df, xs, h in cases:
        what = f"max_rel_error_check for {label} at {xs.size} points (h = {h:g})"
        try:
            out = call(fn, f, df, xs, h)
        except Mistake as exc:
            if "ZeroDivisionError" in str(exc):
                fail(f"{exc} {_ZERO_OVER_ZERO}")
            raise
        a = np.array([df(x) for x in xs])
        n = np.array([central_difference(f, x, h) for x in xs])
        per_point = np.array([rel_error(ai, ni) for ai, ni in zip(a, n)])
        ref = float(per_point.max())
        if out is not None and np.ndim(out) == 0 and np.isnan(float(np.asarray(out, dtype=np.float64))):
            fail(f"{what} returned NaN. {_ZERO_OVER_ZERO}")
        nf = np.array([forward_difference(f, x, h) for x in xs])
        denominator = np.abs(a) + np.abs(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            unguarded = np.abs(a - n) / denominator
        expect_scalar(out, ref, what, rtol=1e-6, atol=1e-9, mistakes={
            "you used the forward difference; compare against central differences (f(x+h) - f(x-h)) / (2h)":
                max(rel_error(ai, ni) for ai, ni in zip(a, nf)),
            "you computed one ratio for all points, max|a - n| / max(|a| + |n|) over the whole set; "
            "compute the relative error at EACH point, then take the max":
                float(np.max(np.abs(a - n)) / max(1e-8, float(np.max(np.abs(a) + np.abs(n))))),
            "the denominator needs the guard max(1e-8, |a| + |n|): without it, points where both "
            "derivatives are tiny give a huge relative error": float(np.nanmax(unguarded)),
            "the denominator is |a| + |n| (both derivatives), guarded by max(1e-8, ...); you divided "
            "by |a| only": max(float(np.abs(ai - ni) / max(1e-8, abs(ai))) for ai, ni in zip(a, n)),
            "return the MAX over the points, not the mean": float(per_point.mean()),
            "you ignored the argument h; use the step you are given":
                max(rel_error(df(x), central_difference(f, x, 1e-5)) for x in xs),
        })
    return ("the worst per-point relative error matches on 5 sets of points (right, slightly wrong and wrong "
            "derivatives, and a point where both are 0)")
