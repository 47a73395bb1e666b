r"""Checks for ``exercises/01_chain_rule.ipynb``: finite differences and the chain rule.

Tasks (ids are unique across the course):

``central_diff``               :math:`(f(x+h) - f(x-h)) / 2h`, written by the learner (the library's
                               ``central_difference``, ``forward_difference`` and ``numerical_gradient``
                               would compute it: a function that calls them scores 0)
``chain_rule_derivative``      :math:`\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)` from the exact ``df`` and
                               ``dg``; the four functions are passed as :class:`~._core.Counted` callables,
                               so evaluating ``f`` or ``g`` next to the points the chain rule needs (a
                               finite difference, whatever its step) is seen and named
``gradient_2d``                the analytic gradient of :func:`gradient_2d_target`, compared with the
                               closed form to 1e-13 (no finite difference gets that close)
``stable_sigmoid_derivative``  :math:`\sigma'(x) = \sigma(x)\,\sigma(-x)` to 9 digits for every
                               ``|x| <= 1000``, without NaN or warnings: a silenced overflow, a clipped
                               input and the cancellation in :math:`1 - \sigma(x)` all lose digits where
                               :math:`\sigma'(x)` is tiny, and the check looks there
``max_rel_error_check``        the worst per-point relative error between an analytic derivative and
                               central differences (``gradcheck.rel_error``, written by the learner)

The expected values come from :mod:`backprop_lib.gradcheck` (central and forward differences,
``rel_error``), from closed forms and from the library's sigmoid; the ``mistakes`` are the values
typical wrong implementations return (mistakes that give the same value share one hint that names
them all). Every callable passed to a learner's function is defined here or in the library.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Callable

import numpy as np

from ..activations import sigmoid, sigmoid_backward, sigmoid_grad
from ..engine import Value
from ..gradcheck import central_difference, forward_difference, numerical_gradient, rel_error
from ._core import Counted, Mistake, call, expect_array, expect_scalar, fail, task

__all__ = [
    "check_central_diff",
    "check_chain_rule_derivative",
    "check_gradient_2d",
    "check_stable_sigmoid_derivative",
    "check_max_rel_error_check",
    "gradient_2d_target",
]


# --------------------------------------------------------------------------- the functions the checks pass


def _cube(x):
    return x**3


def _dcube(x):
    return 3 * x**2


def _square(x):
    return x**2


def _dsquare(x):
    return 2 * x


def _dtanh(x):
    return 1 - np.tanh(x) ** 2


def _affine(x):
    return 3 * x - 1


def _daffine(x):
    return 3 + 0 * x


def _scaled(x):
    return 5 * x


def _dscaled(x):
    return 5 + 0 * x


def _wrong_dcube(x):
    return 3 * x  # the square forgotten: a wrong derivative for max_rel_error_check to measure


def _exp_slightly_off(x):
    return 1.001 * np.exp(x)


def _exp_plus_constant(x):
    return np.exp(x) + 0.001


def _minus_cos(x):
    return -np.cos(x)


# --------------------------------------------------------------------------- helpers shared by the checks


def _mistakes(ref, pairs, rtol: float, atol: float) -> dict:
    """``{hint: wrong value}`` without the values equal to ``ref``; mistakes that give the same
    value (for this case) are merged into one hint naming each of them."""
    groups: list[tuple[list[str], np.ndarray]] = []
    ref = np.asarray(ref, dtype=np.float64)
    for hint, value in pairs:
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if value.shape != ref.shape or not np.all(np.isfinite(value)):
            continue
        if np.allclose(value, ref, rtol=rtol, atol=atol):
            continue  # this case cannot tell the mistake from the answer
        for hints, other in groups:
            if np.allclose(value, other, rtol=rtol, atol=atol):
                hints.append(hint)
                break
        else:
            groups.append(([hint], value))
    merged = {}
    for hints, value in groups:
        text = hints[0] if len(hints) == 1 else (
            "one of these mistakes (they give the same value here): " + "; or ".join(hints))
        merged[text] = value
    return merged


class _Candidates:
    """The mistakes still possible at a check's next case: a mistake whose value differed from the
    answer at an earlier case would have failed there, so it is not named (nor merged) later."""

    def __init__(self, rtol: float, atol: float):
        self.rtol, self.atol = rtol, atol
        self.ruled_out: set[str] = set()

    def __call__(self, ref, pairs) -> dict:
        pairs = [(hint, value) for hint, value in pairs if hint not in self.ruled_out]
        merged = _mistakes(ref, pairs, self.rtol, self.atol)
        for hint, value in pairs:
            try:
                same = np.allclose(np.asarray(value, dtype=np.float64), np.asarray(ref, dtype=np.float64),
                                   rtol=self.rtol, atol=self.atol)
            except (TypeError, ValueError):
                same = False
            if not same:
                self.ruled_out.add(hint)
        return merged


def _low_precision_dtype(out):
    """The dtype of a float result that is not float64 (np.float32 scalar or array), else None."""
    dtype = getattr(out, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") == "f" and dtype != np.float64:
        return dtype
    return None


def _expect_scalar(out, expected: float, what: str, *, differences: bool = False, otherwise: str = "",
                   **kwargs) -> float:
    """:func:`expect_scalar` that names float32 (and float16) results, close or not: the core
    compares scalars in float64 and would call a float32 number that prints alike 'float64'."""
    dtype = _low_precision_dtype(out)
    if dtype is not None and np.size(out) == 1:
        value = float(np.asarray(out, dtype=np.float64).reshape(()))
        close = np.isclose(value, expected, rtol=1e-4, atol=1e-6)
        why = ", and a finite difference divides its round-off by h" if differences else ""
        fail(f"{what} returned a {dtype} number ({value:.9g}, expected {expected:.9g}"
             f"{', close' if close else ''}): compute in float64, the default. {dtype} keeps only about "
             f"{np.finfo(dtype).precision} significant digits{why} (did you convert the input, or create an "
             f"array with dtype=np.{dtype}?).")
    # A wrong number that no listed mistake explains: the core would call any scalar "k times the
    # answer, a constant factor (a batch size N, ...)", which misleads here. Say what to compare instead.
    if (isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(out, (bool, np.bool_))
            and otherwise):
        value = float(out)
        rtol, atol = kwargs.get("rtol", 1e-7), kwargs.get("atol", 1e-10)
        if math.isfinite(value) and not math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
            for hint, wrong in (kwargs.get("mistakes") or {}).items():
                if math.isclose(value, float(wrong), rel_tol=rtol, abs_tol=atol):
                    fail(f"{what} is wrong: {hint}.")
            rel = abs(value - expected) / max(abs(expected), 1e-300)
            fail(f"{what} is wrong: got {value:.10g}, expected {expected:.10g} (relative difference {rel:.1e}); "
                 f"none of the usual mistakes gives this value. {otherwise}")
    return expect_scalar(out, expected, what, **kwargs)


def _divide(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(a, b)


def _show(x) -> str:
    return f"{x:g}" if np.ndim(x) == 0 else f"an array of {np.size(x)} points"


# --------------------------------------------------------------------------- central_diff


@task("central_diff", points=1, references=[central_difference, forward_difference, numerical_gradient])
def check_central_diff(fn):
    """Check ``central_diff(f, x, h)`` against ``gradcheck.central_difference``."""
    cases: list[tuple[Callable, Callable, float, float]] = [
        (np.sin, np.cos, 0.3, 1e-3), (np.exp, np.exp, 1.0, 0.05), (_cube, _dcube, -0.7, 0.1),
        (np.tanh, _dtanh, 2.0, 0.2)]
    candidates = _Candidates(1e-9, 1e-12)
    for f, df, x, h in cases:
        what = f"central_diff({f.__name__.lstrip('_')}, {x}, h={h})"
        out = call(fn, f, x, h)
        ref = central_difference(f, x, h)
        exact = float(df(x))
        if (_low_precision_dtype(out) is None and isinstance(out, (float, int, np.floating, np.ndarray))
                and np.size(out) == 1):
            value = float(np.asarray(out, dtype=np.float64).reshape(()))
            if abs(value - exact) <= 1e-8 * abs(exact) and not np.isclose(value, ref, rtol=1e-9, atol=1e-12):
                fail(f"{what} is the exact derivative to 8 digits ({value:.10g}), not the central difference with "
                     f"h = {h:g} ({ref:.10g}): you ignored the argument h and used a small fixed step (like 1e-5). "
                     "Use the h you are given: the check passes large steps on purpose.")
        pairs = [
            ("you used the forward difference (f(x+h) - f(x)) / h; the central difference uses "
             "f(x+h) and f(x-h)", forward_difference(f, x, h)),
            ("you used the backward difference (f(x) - f(x-h)) / h; the central difference uses "
             "f(x+h) and f(x-h)", forward_difference(f, x - h, h)),
            ("you divided by h instead of 2h: the two points x-h and x+h are 2h apart", 2 * ref),
            ("operator precedence: `... / 2*h` divides by 2 and then MULTIPLIES by h; write `/ (2*h)`",
             ref * h * h),
            ("you divided by 2 but not by h: write `/ (2*h)`", ref * h),
            ("you divided by 2h twice (or by 4h)", ref / 2),
            ("operator precedence: `f(x + h) - f(x - h) / (2*h)` divides only f(x-h); put the difference "
             "in parentheses: `(f(x + h) - f(x - h)) / (2*h)`", f(x + h) - f(x - h) / (2 * h)),
            ("you subtracted in the wrong order: it is f(x+h) - f(x-h), the later point first", -ref),
            ("you added f(x+h) and f(x-h); the central difference SUBTRACTS them", (f(x + h) + f(x - h)) / (2 * h)),
            ("you used the points x - h/2 and x + h/2; the task's central difference uses x - h and x + h "
             "(and divides by 2h)", (f(x + h / 2) - f(x - h / 2)) / h),
        ] + [
            (f"you ignored the argument h and used a fixed step {step:g}; use the h you are given",
             central_difference(f, x, step)) for step in (1e-4, 1e-3, 1e-2, 1e-1) if step != h
        ]
        _expect_scalar(out, ref, what, differences=True, rtol=1e-9, atol=1e-12, mistakes=candidates(ref, pairs),
                       otherwise=f"Evaluate f(x + h) and f(x - h) for f = {f.__name__.lstrip('_')}, x = {x}, h = {h} "
                                 "in a scratch cell and check each step of (f(x+h) - f(x-h)) / (2*h).")
    return "matches (f(x+h) - f(x-h)) / (2h) for sin, exp, x^3 and tanh with several step sizes"


# --------------------------------------------------------------------------- chain_rule_derivative


def _chain_cases():
    return [
        ("f = sin, g = x^2", np.sin, np.cos, _square, _dsquare, 1.3),
        ("f = exp, g = sin", np.exp, np.exp, np.sin, np.cos, 0.9),
        ("f = x^3, g = tanh", _cube, _dcube, np.tanh, _dtanh, -0.8),
        ("f = sigmoid, g = 3x - 1", sigmoid, sigmoid_grad, _affine, _daffine, 0.9),
        ("f = sin, g = 5x", np.sin, np.cos, _scaled, _dscaled, 2.1),
        ("f = sin, g = x^2 (array x)", np.sin, np.cos, _square, _dsquare, np.linspace(-2.0, 2.0, 7)),
    ]


def _off_point_call(counted: Counted, principal, known) -> tuple | None:
    """``(point, nearest principal point)`` for a call of ``counted`` next to, but not at, one of the
    ``principal`` points (where the chain rule evaluates it): the signature of a finite difference
    (``g(x + h)``, ``f(g(x) + h)``, ``f(g(x + h))``, a complex step), for steps up to about 0.1.
    Calls at a ``known`` point (one that the named mistakes use, e.g. ``f'(x)``) are not steps."""
    principal = np.ravel(np.asarray(principal, dtype=np.float64))
    known = np.concatenate([np.ravel(np.asarray(k, dtype=np.float64)) for k in known] + [principal])
    for args in counted.calls:
        for arg in args:
            try:
                points = np.ravel(np.asarray(arg))
            except Exception:
                continue
            if points.dtype.kind not in "fciub":
                continue
            low_precision = points.dtype.kind == "f" and points.dtype.itemsize < 8
            for p in points:
                if np.any(p == known):
                    continue
                gaps = np.abs(p - principal)
                i = int(np.argmin(gaps))
                near = principal[i]
                if low_precision and gaps[i] <= 1e-6 * abs(near):
                    continue  # float32 rounding, not a step: the value check names float32
                if gaps[i] <= 0.15 * max(1.0, abs(near)):
                    return p, near
    return None


@task("chain_rule_derivative", points=1)
def check_chain_rule_derivative(fn):
    """Check ``chain_rule_derivative(f, df, g, dg, x) = df(g(x)) * dg(x)``.

    The four functions are passed as :class:`Counted` callables: the chain rule evaluates ``g`` and
    ``g'`` at ``x`` and ``f'`` (and perhaps ``f``) at ``g(x)``, nowhere else. A call next to those
    points is a finite difference, named whatever its step (the course's default 1e-5 included).
    """
    candidates = _Candidates(1e-9, 1e-12)
    for label, f, df, g, dg, x in _chain_cases():
        what = f"chain_rule_derivative with {label} at x = {_show(x)}"
        cf, cdf, cg, cdg = Counted(f, "f"), Counted(df, "df"), Counted(g, "g"), Counted(dg, "dg")
        out = call(fn, cf, cdf, cg, cdg, x)
        gx = g(x)
        known = (x, gx, f(x), dg(x), gx * dg(x))  # the points where the named mistakes evaluate
        for counted, principal, at in ((cg, x, "x"), (cdg, x, "x"), (cf, gx, "g(x)"), (cdf, gx, "g(x)")):
            hit = _off_point_call(counted, principal, known)
            if hit is not None:
                p, near = hit
                if np.iscomplexobj(p):
                    fail(f"{what}: your function evaluated `{counted.__name__}` at the complex point {p:.3g}, next to "
                         f"{at} = {near:.6g}: that is the complex-step method, a numerical derivative like a finite "
                         "difference. Use the chain rule with the exact derivatives you are given: f'(g(x)) * g'(x) "
                         "needs only `df` at g(x) and `dg` at x.")
                fail(f"{what}: your function evaluated `{counted.__name__}` at {near:.6g} "
                     f"{'+' if p > near else '-'} {abs(p - near):.1e}, next to {at} = {near:.6g}: that is a finite "
                     "difference (approximate, whatever the step). Use the exact derivatives you are given: "
                     "f'(g(x)) * g'(x) needs only `df` at g(x) and `dg` at x.")
        ref = df(gx) * dg(x)  # tests/test_checks_chain_rule.py checks it against central differences
        if _nearly(out, ref):
            fail(f"{what} is close to the answer but not exact (relative difference above 1e-9): did you use "
                 "finite differences? Use the exact derivatives df and dg you are given: f'(g(x)) * g'(x).")
        pairs = [
            ("you forgot the inner derivative: multiply f'(g(x)) by g'(x)", df(gx)),
            ("you returned only the inner derivative g'(x); multiply it by the outer one, f'(g(x))", dg(x)),
            ("you evaluated f' at x instead of at g(x): the outer derivative is taken where "
             "the outer function is evaluated, f'(g(x))", df(x) * dg(x)),
            ("you evaluated g' at g(x); the inner derivative is taken at x: f'(g(x)) * g'(x)", df(gx) * dg(gx)),
            ("you multiplied f(g(x)) by g'(x); use the derivative f', not f", f(gx) * dg(x)),
            ("you multiplied f'(g(x)) by g(x); use the derivative g'(x), not g(x)", df(gx) * gx),
            ("you returned the composition's value f(g(x)), not its derivative", f(gx)),
            ("you composed in the wrong order: for f(g(x)) it is f'(g(x)) * g'(x), "
             "not g'(f(x)) * f'(x)", dg(f(x)) * df(x)),
            ("you added the local derivatives; the chain rule MULTIPLIES them", df(gx) + dg(x)),
            ("you divided by g'(x); the chain rule MULTIPLIES the local derivatives", _divide(df(gx), dg(x))),
            ("you applied f' to g'(x); it is f'(g(x)) * g'(x)", df(dg(x))),
            ("you multiplied inside the parentheses, f'(g(x) * g'(x)); it is f'(g(x)) * g'(x)", df(gx * dg(x))),
        ]
        mistakes = candidates(ref, pairs)
        if np.ndim(ref) == 0:
            _expect_scalar(out, float(ref), what, rtol=1e-9, atol=1e-12, mistakes=mistakes,
                           otherwise="Print g(x), df(g(x)) and dg(x) for this case and check that you return "
                                     "df(g(x)) * dg(x).")
        else:
            expect_array(out, ref, what, rtol=1e-9, atol=1e-12, mistakes=mistakes)
        unused = [c.__name__ for c in (cdf, cdg) if not c.calls]
        if unused:
            fail(f"{what}: the value is right, but your function never called {' and '.join(unused)}. "
                 "Compute f'(g(x)) * g'(x) from the exact derivatives you are given.")
    return ("f'(g(x)) * g'(x) is right for 5 compositions, for scalars and for arrays, from df and dg alone "
            "(no finite differences)")


def _nearly(out, ref) -> bool:
    """True when ``out`` agrees with ``ref`` to about 5 digits but not to 9 (a finite-difference answer)."""
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if _low_precision_dtype(out) is not None:
        return False  # float32: the precision hint is the right one
    return (arr.shape == np.shape(ref) and bool(np.allclose(arr, ref, rtol=1e-5, atol=1e-8))
            and not bool(np.allclose(arr, ref, rtol=1e-9, atol=1e-12)))


# --------------------------------------------------------------------------- gradient_2d


def gradient_2d_target(x, y):
    r"""The function of task ``gradient_2d``: :math:`f(x, y) = x^2 y + \sin(3x - y)`, for real ``x, y``.

    Complex arguments raise ``TypeError``: evaluating it at ``x + 1e-30j`` (the complex-step method)
    would be a numerical derivative, which the task excludes.
    """
    if np.iscomplexobj(x) or np.iscomplexobj(y):
        raise TypeError("gradient_2d_target takes real x and y: the complex-step method is a numerical derivative; "
                        "the task asks for the analytic gradient")
    return x**2 * y + np.sin(3 * x - y)


#: The comparison with the closed form: a central difference at its best step is off by about
#: 6e-11 at one of these points, any other finite difference by more (tests/test_checks_chain_rule.py).
_GRAD_RTOL, _GRAD_ATOL = 1e-13, 1e-13


def _gradient_2d_points():
    rng = np.random.default_rng(101)
    return [(0.5, -1.0), (1.2, 0.7), (-0.3, 2.0)] + [tuple(p) for p in rng.uniform(-2, 2, size=(3, 2))]


@task("gradient_2d", points=1)
def check_gradient_2d(fn):
    """Check the analytic gradient of ``x**2 * y + sin(3x - y)`` against its closed form, to 1e-13.

    So tight that no finite difference passes (``numerical_gradient`` is off by 6e-11 or more at
    one of the points, whatever its step): the task asks for the analytic gradient.
    """
    candidates = _Candidates(_GRAD_RTOL, _GRAD_ATOL)
    for x, y in _gradient_2d_points():
        what = f"gradient_2d({x:.4g}, {y:.4g})"
        out = call(fn, x, y)
        c, s = np.cos(3 * x - y), np.sin(3 * x - y)
        dfdx, dfdy = 2 * x * y + 3 * c, x**2 - c
        ref = np.array([dfdx, dfdy])
        if isinstance(out, tuple) and len(out) == 2:
            out = np.array(out, dtype=np.float64) if all(np.ndim(v) == 0 for v in out) else out
        if (isinstance(out, (np.ndarray, list)) and np.shape(out) == (2,) and _low_precision_dtype(out) is None
                and np.asarray(out).dtype.kind == "f"):
            arr = np.asarray(out, dtype=np.float64)
            if (np.allclose(arr, ref, rtol=1e-5, atol=1e-8)
                    and not np.allclose(arr, ref, rtol=_GRAD_RTOL, atol=_GRAD_ATOL)):
                worst = float(np.max(np.abs(arr - ref)))
                fail(f"{what} is within {worst:.0e} of the gradient but not exact: that is what a finite "
                     "difference gives (e.g. `numerical_gradient`, or (f(x+h, y) - f(x-h, y)) / (2h)), whose "
                     "error never goes below about 1e-11. The task asks for the analytic gradient: derive "
                     "df/dx and df/dy on paper and code the two formulas (they agree with the closed form "
                     "to about 1e-15).")
        pairs = [
            ("you swapped the partial derivatives: return [df/dx, df/dy] in that order", [dfdy, dfdx]),
            ("you forgot the inner derivative of sin(3x - y): d/dx gives 3*cos(3x - y), d/dy gives "
             "-cos(3x - y)", [2 * x * y + c, x**2 + c]),
            ("in df/dx you forgot the inner derivative 3 of (3x - y): d/dx sin(3x - y) = 3*cos(3x - y)",
             [2 * x * y + c, dfdy]),
            ("the inner derivative of (3x - y) with respect to y is -1: check the sign of the cos term "
             "in df/dy", [dfdx, x**2 + c]),
            ("in df/dy you used the inner derivative with respect to x (3); with respect to y it is -1: "
             "d/dy sin(3x - y) = -cos(3x - y)", [dfdx, x**2 + 3 * c]),
            ("in df/dx, the derivative of x^2 * y is 2*x*y (y is a constant factor, keep it)",
             [2 * x + 3 * c, dfdy]),
            ("in df/dy, the derivative of x^2 * y is x^2 (not 2*x*y)", [dfdx, 2 * x * y - c]),
            ("the derivative of sin is cos, not sin: d/dx sin(3x - y) = 3*cos(3x - y)",
             [2 * x * y + 3 * s, x**2 - s]),
            ("the derivative of sin is +cos (it is cos whose derivative is -sin): the cos terms have "
             "the wrong sign", [2 * x * y - 3 * c, x**2 + c]),
            ("you wrote cos(3x + y); the argument is (3x - y)",
             [2 * x * y + 3 * np.cos(3 * x + y), x**2 - np.cos(3 * x + y)]),
            ("in df/dy you kept the factor 3 of df/dx: the inner derivative of (3x - y) with respect to y "
             "is -1, so d/dy sin(3x - y) = -cos(3x - y)", [dfdx, x**2 - 3 * c]),
            ("np.cos and math.cos take radians: do not convert the argument with math.radians or np.deg2rad",
             [2 * x * y + 3 * np.cos(np.deg2rad(3 * x - y)), x**2 - np.cos(np.deg2rad(3 * x - y))]),
        ]
        expect_array(out, ref, what, rtol=_GRAD_RTOL, atol=_GRAD_ATOL,
                     mistakes=candidates(ref, pairs))
    return "[df/dx, df/dy] matches the closed form to 1e-13 at 6 points (an analytic gradient, not a finite difference)"


# --------------------------------------------------------------------------- stable_sigmoid_derivative


_OVERFLOW = (
    "Your code computes exp of a large number (e.g. exp(-x) at x = -1000 is exp(1000) = inf). Compute "
    "sigma without overflowing: exp(-logaddexp(0, -x)), or exp(x) / (1 + exp(x)) for x < 0 and "
    "1 / (1 + exp(-x)) for x >= 0 applied to the two parts of x separately (np.where evaluates BOTH "
    "branches on every element, so it still overflows)."
)

#: Where sigma'(x) is tiny but not 0 and each way of losing it shows: 30..100 (1 - sigma(x) cancels
#: once sigma(x) rounds to 1), 400 ((1 + e^|x|)^2 overflows), 600/700 (a clip at 500), 710/720
#: (e^|x| overflows, sigma'(x) is still about 1e-309), 1000 (sigma'(x) underflows to 0).
_LARGE_X = np.array([-1000.0, -720.0, -710.0, -700.0, -600.0, -400.0, -100.0, -40.0, -30.0,
                     30.0, 40.0, 100.0, 400.0, 600.0, 700.0, 710.0, 720.0, 1000.0])
_SIG_RTOL, _SIG_ATOL = 1e-9, 1e-320


def _sigmoid_atol() -> float:
    """1e-320, or the smallest normal float64 where this process flushes subnormals to zero
    (a library built with -ffast-math can switch that on): then nobody can return them."""
    return _SIG_ATOL if np.exp(np.float64(-720.0)) > 0 else float(np.finfo(np.float64).tiny)


@task("stable_sigmoid_derivative", points=1, references=[sigmoid_grad, sigmoid, sigmoid_backward, Value.sigmoid])
def check_stable_sigmoid_derivative(fn):
    """Check sigma'(x) elementwise: exact formulas for moderate x, then 9 significant digits for
    |x| up to 1000 (also where sigma'(x) is tiny), without NaN or warnings."""
    cases = [
        np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),
        np.linspace(-8.0, 8.0, 12).reshape(3, 4),
        _LARGE_X.copy(),
    ]
    candidates = _Candidates(1e-7, 1e-12)
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
                 "exp(-x) / (1 + exp(-x))**2 overflows there (exp(1000) = inf, and inf/inf = NaN); silencing "
                 "the warning does not change that. Never exponentiate a large positive number: use "
                 "e^(-|x|), or sigma(x) * sigma(-x) with a stable sigma.")
        noisy = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if noisy:
            fail(f"{what} gave a RuntimeWarning: '{noisy[0].message}'. The values may look right but "
                 f"the overflow is real. {_OVERFLOW}")
        s = sigmoid(x)
        ref = sigmoid_grad(x)
        if x is cases[-1]:
            if (arr is not None and arr.shape == x.shape and _low_precision_dtype(out) is None
                    and np.asarray(out).dtype.kind == "f"):
                _diagnose_large_x(what, x, arr, ref)
            expect_array(out, ref, what, rtol=_SIG_RTOL, atol=_sigmoid_atol())
            continue
        pairs = [
            ("sigma'(x) = sigma(x) * (1 - sigma(x)): you wrote (1 + sigma(x))", s * (1 + s)),
            ("you returned sigma(x) itself, not its derivative", s),
            ("you returned 1 - sigma(x); multiply by sigma(x): sigma(x) * (1 - sigma(x))", 1 - s),
            ("you used tanh's derivative 1 - sigma(x)^2; sigmoid's is sigma(x) * (1 - sigma(x))", 1 - s**2),
            ("you squared the derivative: sigma(x) * (1 - sigma(x)) is not squared", (s * (1 - s)) ** 2),
            ("you forgot the inner derivative of exp(-x) (that is -exp(-x)): the result has the "
             "wrong sign", -s * (1 - s)),
            ("you multiplied sigma(x) by sigma(x); the second factor is 1 - sigma(x) = sigma(-x)", s * s),
            ("you wrote e^(-x) / (1 + e^(-x)) (not squared): the chain rule gives (1 + e^(-x))^2 in the "
             "denominator", 1 - s),
            ("you wrote e^(-|x|) / (1 + e^(-|x|)) (not squared): the chain rule gives (1 + e^(-|x|))^2 in the "
             "denominator", sigmoid(-np.abs(x))),
            ("you wrote e^(-x) / (1 + e^(x))^2: both exponents are -x, e^(-x) / (1 + e^(-x))^2",
             np.exp(-x) / (1 + np.exp(x)) ** 2),
        ]
        try:
            expect_array(out, ref, what, rtol=1e-7, atol=1e-12, mistakes=candidates(ref, pairs))
        except Mistake as exc:
            if re.fullmatch(re.escape(what) + r" is wrong( at index \([^)]*\))?: got [^,]+, expected [^ ]+", str(exc)):
                fail(f"{exc} None of the usual mistakes gives these values: sigma'(0) = 1/4 and sigma'(2) = "
                     "0.104993585...; evaluate your formula at these points step by step, against "
                     "sigma(x) * (1 - sigma(x)) with sigma(x) = 1 / (1 + e^(-x)).")
            raise
    return ("sigma'(x) = sigma(x) sigma(-x) to 9 significant digits elementwise, also where it is tiny, "
            "without overflow, NaN or warnings for |x| up to 1000")


def _diagnose_large_x(what: str, x: np.ndarray, out: np.ndarray, ref: np.ndarray) -> None:
    """Name how digits were lost where sigma'(x) is tiny: a clip, an overflow, a cancellation."""
    bad = ~np.isclose(out, ref, rtol=_SIG_RTOL, atol=_sigmoid_atol())
    if not np.any(bad):
        return
    parts = []
    clipped, cancelled = set(), set()
    for sign in (-1.0, 1.0):
        side = np.sign(x) == sign
        values = out[bad & side & (out != 0)]
        if values.size >= 2 and np.unique(values).size < values.size:
            # several |x| of one sign give the same nonzero value: x (or the exponent) was clipped
            clipped.add(sign)
            if len(clipped) > 1:
                continue
            c = float(-np.log(np.min(values)))
            parts.append(f"for |x| beyond about {c:.0f} your values stop changing (sigma'(x) keeps shrinking like "
                         "e^(-|x|)): did you clip x (np.clip) or the exponent? A clip changes the answer where "
                         "sigma'(x) is tiny but not 0")
        if np.any(bad & side & (np.abs(x) <= 100)):
            cancelled.add(sign)
    overflow = bad & (np.abs(x) > 100) & ~np.isin(np.sign(x), list(clipped | cancelled))
    if np.any(overflow):
        i = int(np.flatnonzero(overflow)[0])
        subnormal = ref[i] < np.finfo(np.float64).tiny
        parts.append(f"at x = {x[i]:g} you returned {out[i]:.3g} but sigma'(x) = {ref[i]:.3g}"
                     f"{' (float64 holds it, as a subnormal below 2.2e-308)' if subnormal else ''}: an exp overflowed "
                     "to inf there (exp(710) = inf, (1 + e^400)^2 = inf) and took the result with it"
                     + (", or a library function flushed the tiny value to 0 (scipy.special.expit does)"
                        if subnormal else "") + ". "
                     "Silencing the warning (np.errstate, warnings.catch_warnings) hides the overflow, not its effect: "
                     "never exponentiate a large positive number (use e^(-|x|), or a stable sigma of your own for "
                     "both sigma(x) and sigma(-x))")
    moderate = bad & (np.abs(x) <= 100) & np.isin(np.sign(x), list(cancelled - clipped))
    if np.any(moderate):
        i = int(np.flatnonzero(moderate)[-1])
        parts.append(f"at x = {x[i]:g} you returned {out[i]:.3g} but sigma'(x) = {ref[i]:.6g}: there "
                     f"sigma({abs(x[i]):g}) rounds to 1.0 (or to within a few ulps of it), so 1 - sigma cancels "
                     "and loses every digit. Use 1 - sigma(x) = sigma(-x): sigma'(x) = sigma(x) * sigma(-x), each "
                     "factor computed stably (or e^(-|x|) / (1 + e^(-|x|))^2)")
    if not parts:
        i = int(np.flatnonzero(bad)[0])
        parts.append(f"at x = {x[i]:g} you returned {out[i]:.6g} but sigma'(x) = {ref[i]:.6g}: keep 9 significant "
                     "digits also where sigma'(x) is tiny")
    fail(f"{what} loses the tiny values of sigma'(x): " + "; also, ".join(parts) + ".")


# --------------------------------------------------------------------------- max_rel_error_check


_ZERO_OVER_ZERO = (
    "Where both derivatives are exactly 0 (x^2 at x = 0: f'(0) = 0 and the central difference is 0 too), "
    "|a - n| / (|a| + |n|) is 0/0: guard the denominator with max(1e-8, |a| + |n|)."
)


def _rel_error_cases():
    return [
        ("f = x^3 with the wrong derivative 3x", _cube, _wrong_dcube, np.array([0.5, 3.0, 1.2, 1.5]), 1e-2),
        ("f = exp with the wrong derivative e^x + 0.001", np.exp, _exp_plus_constant, np.array([-5.0, 2.0, 0.0]), 1e-5),
        ("f = sin, f' = cos", np.sin, np.cos, np.array([-1.0, 0.3, 2.0]), 1e-2),
        ("f = exp with a 0.1% wrong derivative", np.exp, _exp_slightly_off, np.array([-2.0, 0.0, 1.0, 2.5]), 1e-5),
        ("f = x^3 near 0", _cube, _dcube, np.array([0.0, 1e-6, 0.5, 1.5]), 1e-5),
        ("f = sin with the wrong derivative -cos", np.sin, _minus_cos, np.array([0.1, 1.0]), 1e-4),
        ("f = x^2 around its minimum", _square, _dsquare, np.array([-1.0, 0.0, 1.0]), 1e-5),
    ]


def _worst(a, n, denominator) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.abs(a - n) / denominator
    return float(np.nanmax(ratios)) if np.any(np.isfinite(ratios)) else float("nan")


@task("max_rel_error_check", points=1, references=[rel_error])
def check_max_rel_error_check(fn):
    r"""Check ``max_i |a_i - n_i| / max(1e-8, |a_i| + |n_i|)`` with ``n_i`` central differences.

    That is exactly :func:`backprop_lib.gradcheck.rel_error` of the arrays ``a`` and ``n``, so the
    task asks the learner to write it: a function that calls ``rel_error`` scores 0 (the library's
    ``central_difference`` may be used for the ``n_i``). The denominator is the lecture's
    ``|a_i| + |n_i|``; CS231n's notes' ``max(|a_i|, |n_i|)`` is named when it is the only difference.
    """
    candidates = _Candidates(1e-6, 1e-9)
    for label, f, df, xs, h in _rel_error_cases():
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
        if isinstance(out, (np.ndarray, list, tuple)) and np.shape(out) == xs.shape and xs.size > 1:
            try:
                values = np.asarray(out, dtype=np.float64)
            except (TypeError, ValueError):
                values = None
            if values is not None and np.allclose(values, per_point, rtol=1e-6, atol=1e-9):
                fail(f"{what} returned the {xs.size} per-point relative errors; return only the largest, "
                     "max_i e_i, as one float (e.g. `float(np.max(errors))`).")
            fail(f"{what} returned an array of shape {np.shape(out)}; return one float, the max over the points.")
        if out is not None and np.ndim(out) == 0 and not isinstance(out, str):
            try:
                if np.isnan(float(np.asarray(out, dtype=np.float64))):
                    fail(f"{what} returned NaN. {_ZERO_OVER_ZERO}")
            except (TypeError, ValueError):
                pass
        guard = np.maximum(1e-8, np.abs(a) + np.abs(n))
        nf = np.array([forward_difference(f, x, h) for x in xs])
        n_no_2h = np.array([f(x + h) - f(x - h) for x in xs])
        n_precedence = np.array([(f(x + h) - f(x - h)) / 2 * h for x in xs])
        n_over_h = np.array([(f(x + h) - f(x - h)) / h for x in xs])
        n_default = np.array([central_difference(f, x, 1e-5) for x in xs])
        x32 = xs.astype(np.float32)
        with np.errstate(all="ignore"):
            a32 = np.array([df(x) for x in x32], dtype=np.float32)
            n32 = np.array([(f(x + np.float32(h)) - f(x - np.float32(h))) / np.float32(2 * h) for x in x32],
                           dtype=np.float32)
            e32 = np.abs(a32 - n32) / np.maximum(np.float32(1e-8), np.abs(a32) + np.abs(n32))
        pairs = [
            ("you divided by max(|a_i|, |n_i|), the convention of the CS231n notes; this task (like the lecture's "
             "rel_error, whose rule of thumb 1e-7 / 1e-4 is calibrated for it) divides by |a_i| + |n_i|, guarded: "
             "max(1e-8, |a_i| + |n_i|)", _worst(a, n, np.maximum(1e-8, np.maximum(np.abs(a), np.abs(n))))),
            ("the denominator is |a| + |n| (both derivatives), guarded by max(1e-8, ...); you divided "
             "by |a| only", _worst(a, n, np.maximum(1e-8, np.abs(a)))),
            ("the denominator is |a| + |n| (both derivatives), guarded by max(1e-8, ...); you divided "
             "by |n| only", _worst(a, n, np.maximum(1e-8, np.abs(n)))),
            ("you used the forward difference; compare against central differences (f(x+h) - f(x-h)) / (2h)",
             _worst(a, nf, np.maximum(1e-8, np.abs(a) + np.abs(nf)))),
            ("your central difference is not divided by 2h: n = (f(x+h) - f(x-h)) / (2*h)",
             _worst(a, n_no_2h, np.maximum(1e-8, np.abs(a) + np.abs(n_no_2h)))),
            ("operator precedence in the central difference: `... / 2*h` divides by 2 and MULTIPLIES by h; "
             "write `/ (2*h)`", _worst(a, n_precedence, np.maximum(1e-8, np.abs(a) + np.abs(n_precedence)))),
            ("your central difference divides by h instead of 2h",
             _worst(a, n_over_h, np.maximum(1e-8, np.abs(a) + np.abs(n_over_h)))),
            ("you ignored the argument h; use the step you are given",
             _worst(a, n_default, np.maximum(1e-8, np.abs(a) + np.abs(n_default)))),
            ("you computed one ratio for all points, max|a - n| / max(|a| + |n|) over the whole set; "
             "compute the relative error at EACH point, then take the max",
             float(np.max(np.abs(a - n)) / max(1e-8, float(np.max(np.abs(a) + np.abs(n)))))),
            ("the denominator needs the guard max(1e-8, |a| + |n|): without it, points where both "
             "derivatives are tiny give a huge relative error", _worst(a, n, np.abs(a) + np.abs(n))),
            ("the guard is max(1e-8, |a| + |n|), not 1e-8 + |a| + |n|: take the max, do not add",
             _worst(a, n, 1e-8 + np.abs(a) + np.abs(n))),
            ("the denominator is |a| + |n| with absolute values: a + n can be negative (or cancel)",
             _worst(a, n, np.maximum(1e-8, a + n))),
            ("the numerator is the absolute difference |a - n|: without abs a negative difference "
             "looks like a perfect match", float(np.max((a - n) / guard))),
            ("that is the relative error of the whole vectors, ||a - n|| / (||a|| + ||n||) with Euclidean norms "
             "(the gradient check of Andrew Ng's course); this task asks for the relative error at EACH point, "
             "|a_i - n_i| / max(1e-8, |a_i| + |n_i|), then the max over the points",
             float(np.linalg.norm(a - n) / max(1e-8, float(np.linalg.norm(a) + np.linalg.norm(n))))),
            ("you returned the absolute error max|a_i - n_i|; the task asks for the RELATIVE error: divide "
             "each |a_i - n_i| by max(1e-8, |a_i| + |n_i|)", float(np.max(np.abs(a - n)))),
            ("you squared the differences; the relative error is |a_i - n_i| / max(1e-8, |a_i| + |n_i|), "
             "with absolute values, not squares", float(np.max((a - n) ** 2 / np.maximum(1e-8, a**2 + n**2)))),
            ("return the MAX over the points, not the mean", float(per_point.mean())),
            ("return the MAX over the points, not the min", float(per_point.min())),
            ("you returned the error of the last point only; return the max over ALL points",
             float(per_point[-1])),
            ("you computed in float32 (e.g. `xs.astype(np.float32)`): a central difference in float32 loses "
             "most digits (round-off about 1e-7 / h); keep float64", float(np.max(e32))),
        ]
        _expect_scalar(out, ref, what, differences=True, rtol=1e-6, atol=1e-9, mistakes=candidates(ref, pairs),
                       otherwise="Print a_i, n_i and e_i at each point of this case and compare with "
                                 "e_i = |a_i - n_i| / max(1e-8, |a_i| + |n_i|) and the max over i.")
    return ("the worst per-point relative error matches on 7 sets of points (right, slightly wrong and wrong "
            "derivatives, and a point where both are 0)")
