r"""Finite differences and the relative error used to check every gradient in the course.

The central difference

.. math:: f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}

has truncation error :math:`O(h^2)` (the forward difference only :math:`O(h)`) and a
round-off error of about :math:`\varepsilon |f| / h`, so the total error is smallest
near :math:`h \approx \varepsilon^{1/3} \approx 6\cdot10^{-6}` in float64.

The relative error of two arrays is the largest relative error of any element,

.. math:: \mathrm{rel\_error}(a, b) = \max_i \frac{|a_i - b_i|}{\max(10^{-8}, |a_i| + |b_i|)},

the definition of CS231n's gradient-check code (their notes divide by
:math:`\max(|a_i|, |b_i|)` instead, at most a factor 2 apart). Every element counts on
its own, so a wrong small entry cannot hide behind a large one; the floor :math:`10^{-8}`
keeps entries that are both (almost) zero from giving 0/0.

The course's rule of thumb for this definition (float64, ``h = 1e-5``; notebook 01 section 4):
below ``1e-7`` the gradient is right, above ``1e-4`` it is wrong, in between look closer. It is
the smooth-objective version of the CS231n notes' bands (above ``1e-2`` probably wrong, ``1e-4``
to ``1e-2`` uncomfortable, below ``1e-4`` fine only for objectives with kinks, ``1e-7`` and
below right). In between, look for a kink (ReLU at 0) within ``h`` of the point, or entries so
small that the round-off of the central difference, about ``eps |L| / h ~ 1e-11 |L|`` whatever
the size of the entry, dominates their ratio.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "forward_difference",
    "central_difference",
    "numerical_gradient",
    "rel_error",
    "difference_errors",
    "optimal_h",
    "compare_gradients",
    "ROUNDOFF_FACTOR",
]


def _check_h(h: float) -> float:
    if isinstance(h, bool) or not isinstance(h, (int, float, np.floating, np.integer)):
        raise TypeError(f"h must be a positive number, got {type(h).__name__}")
    h = float(h)
    if not (h > 0 and np.isfinite(h)):
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    return h


def forward_difference(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    """One-sided estimate ``(f(x + h) - f(x)) / h`` of ``f'(x)``; error ``O(h)``."""
    h = _check_h(h)
    return (f(x + h) - f(x)) / h


def central_difference(f: Callable[[float], float], x: float, h: float = 1e-5) -> float:
    """Symmetric estimate ``(f(x + h) - f(x - h)) / (2h)`` of ``f'(x)``; error ``O(h^2)``."""
    h = _check_h(h)
    return (f(x + h) - f(x - h)) / (2.0 * h)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x`` by central differences.

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x`` and returns a scalar.
    x : array_like, any shape
        The point. Perturbed in place one entry at a time (so ``f`` may close over
        the very array, e.g. a weight matrix of a network) and always restored,
        even when ``f`` raises.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, float64, same shape as ``x``
    """
    h = _check_h(h)
    if not isinstance(x, np.ndarray):
        x = np.array(x, dtype=np.float64)
    if x.dtype != np.float64:
        raise TypeError(
            f"x must be a float64 array (finite differences in lower precision are "
            f"dominated by round-off), got dtype {x.dtype}"
        )
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):  # writes through x[idx], so any memory layout works
        old = x[idx]
        try:
            x[idx] = old + h
            f_plus = _scalar(f(x))
            x[idx] = old - h
            f_minus = _scalar(f(x))
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * h)
    return grad


def _scalar(value) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def rel_error(a, b) -> float:
    r"""Largest per-element relative error :math:`\max_i |a_i - b_i| / \max(10^{-8}, |a_i| + |b_i|)`.

    Shapes must match exactly (no broadcasting). Returns 0.0 for two empty arrays.
    The floor :math:`10^{-8}` keeps entries that are both (almost) zero from dividing by zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def difference_errors(f: Callable, df: Callable, x: float, hs) -> dict[str, np.ndarray]:
    """Absolute errors of forward and central differences against the exact ``df(x)``.

    Returns ``{"h": hs, "forward": errors, "central": errors}``: the data of the
    V-shaped error-vs-h plot (truncation error falls with h, round-off grows as 1/h).
    """
    hs = np.asarray(hs, dtype=np.float64)
    if hs.ndim != 1 or hs.size == 0 or np.any(hs <= 0):
        raise ValueError(f"hs must be a non-empty 1-D array of positive step sizes, got {hs!r}")
    exact = float(df(x))
    fwd = np.array([abs(forward_difference(f, x, h) - exact) for h in hs])
    cen = np.array([abs(central_difference(f, x, h) - exact) for h in hs])
    return {"h": hs, "forward": fwd, "central": cen}


def optimal_h(order: int = 2, eps: float = float(np.finfo(np.float64).eps)) -> float:
    """Step size that balances truncation and round-off: ``eps**(1/(order+1))``.

    ``order=1`` (forward difference) gives about 1.5e-8, ``order=2`` (central) 6e-6.
    """
    if order not in (1, 2):
        raise ValueError(f"order must be 1 (forward) or 2 (central), got {order!r}")
    return eps ** (1.0 / (order + 1))


#: An entry counts as "at round-off level" when its absolute error is at most this many times
#: eps |L| / h, the round-off of a central difference (eps = float64 machine epsilon).
ROUNDOFF_FACTOR = 10.0


def compare_gradients(analytic, numeric, loss: float | None = None, h: float = 1e-5, tol: float = 1e-7) -> str:
    r"""One stable line for a notebook: the per-element relative error and an honest verdict.

    The rule of thumb for :func:`backprop_lib.gradcheck.rel_error` (notebook 01, CS231n): below
    ``tol`` = 1e-7 the gradient is right, from 1e-4 up it is wrong, in between look closer. One
    reason to land in between: an entry whose true value is tiny has a large *relative* error
    although its *absolute* error is only the round-off of the central difference,
    about :math:`\varepsilon |L| / h` (:math:`\varepsilon \approx 2.2\cdot10^{-16}`). Given ``loss``
    (the value of the loss at the point, and the ``h`` the differences used), every entry above
    ``tol`` is compared with that level: when all of them are within
    :data:`ROUNDOFF_FACTOR` times it, the line says so, with the numbers, and reports a match
    within round-off; otherwise MISMATCH. The largest relative error is always printed when it
    is above ``tol``: nothing is hidden.
    """
    a = np.asarray(analytic, dtype=np.float64)
    b = np.asarray(numeric, dtype=np.float64)
    err = rel_error(a, b)
    if err < tol:
        return f"relative error below {tol:.0e}: match"
    if err < 1e-4 and loss is not None:
        diff = np.abs(a - b)
        per_entry = diff / np.maximum(1e-8, np.abs(a) + np.abs(b))
        above = per_entry >= tol
        roundoff = float(np.finfo(np.float64).eps) * abs(float(loss)) / h
        if float(diff[above].max()) <= ROUNDOFF_FACTOR * roundoff:
            k = int(above.sum())
            return (f"relative error {err:.1e}, from {k} {'entry' if k == 1 else 'entries'} with |gradient| <= "
                    f"{float(np.abs(a[above]).max()):.1e} (largest entry {float(np.abs(a).max()):.1e}) whose "
                    f"absolute error (<= {float(diff[above].max()):.1e}) is at the round-off of central "
                    f"differences (eps|L|/h = {roundoff:.1e}); all other entries below {tol:.0e}: "
                    "match within round-off")
    return f"relative error {err:.1e} (>= {tol:.0e}): MISMATCH"
