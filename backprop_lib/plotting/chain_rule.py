"""Plot helpers of notebook 01 (chain rule), and the small computations behind its plots.

The notebook and ``tests/test_claims_01_chain_rule.py`` call the same helpers
(:func:`mean_difference_errors`, :func:`growth_exponents`), so the numbers the text
quotes and the numbers the tests assert cannot drift apart.
"""

from __future__ import annotations

import math

import numpy as np

from ..gradcheck import difference_errors
from .style import COLORS, get_ax

__all__ = [
    "plot_secant_tangent",
    "mean_difference_errors",
    "plot_difference_errors",
    "plot_gradient_field",
    "growth_exponents",
    "format_duration",
    "plot_gradient_cost",
]


def plot_secant_tangent(data: dict, ax=None):
    """Draw the output of :func:`backprop_lib.widgets.secant_tangent`.

    The function (blue), its tangent at ``x`` (green, the exact slope), the forward
    secant through ``x, x+h`` (purple, dashed) and the central secant through
    ``x-h, x+h`` (purple, solid), with both slopes and their errors in a text box.
    """
    ax = get_ax(ax)
    x, fx = data["x"], data["fx"]
    ax.plot(data["grid"], data["curve"], color=COLORS["forward"], lw=2, label=f"f(x) = {data['label']}")
    ax.plot(data["grid"], data["tangent"], color=COLORS["reference"], lw=1.5,
            label=f"tangent, slope {data['exact']:.4f}")
    ax.plot(data["grid"], data["forward_line"], color=COLORS["numerical"], ls="--", lw=1.2,
            label=f"forward secant, slope {data['forward']:.4f}")
    ax.plot(data["grid"], data["central_line"], color=COLORS["numerical"], ls="-", lw=1.2, alpha=0.7,
            label=f"central secant, slope {data['central']:.4f}")
    (xm, fm), (xp, fp) = data["central_points"]
    ax.plot([xm, x, xp], [fm, fx, fp], "o", color=COLORS["numerical"], ms=5)
    ax.plot([x], [fx], "o", color=COLORS["reference"], ms=6)
    lo, hi = float(np.min(data["curve"])), float(np.max(data["curve"]))
    pad = 0.15 * (hi - lo) + 1e-9
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(data["grid"][0], data["grid"][-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(f"{data['label']} at x = {x:.2f}, h = {data['h']:.1e}")
    text = (f"exact f'(x) = {data['exact']:.6f}\n"
            f"forward error = {data['forward_error']:.2e}\n"
            f"central error = {data['central_error']:.2e}")
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", ha="left", family="monospace", fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": COLORS["neutral"]})
    ax.legend(loc="lower right", fontsize=8)
    return ax


def mean_difference_errors(f, df, xs, hs) -> dict[str, np.ndarray]:
    """Errors of forward and central differences, averaged over the points ``xs``.

    :func:`backprop_lib.gradcheck.difference_errors` at each point of ``xs``, then the mean
    over the points for every step in ``hs``: round-off makes the error at a single point
    jump up and down by a factor of a few from one ``h`` to the next, the mean over many
    points is a clean line. Returns ``{"h": hs, "forward": (len(hs),), "central": (len(hs),)}``,
    the input of :func:`plot_difference_errors`.
    """
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 1 or xs.size == 0:
        raise ValueError(f"xs must be a non-empty 1-D array of points, got shape {xs.shape}")
    runs = [difference_errors(f, df, float(x), hs) for x in xs]
    return {"h": runs[0]["h"],
            "forward": np.mean([r["forward"] for r in runs], axis=0),
            "central": np.mean([r["central"] for r in runs], axis=0)}


def plot_difference_errors(errors: dict, ax=None, *, eps: float = float(np.finfo(np.float64).eps),
                           mark_optimum: bool = True):
    r"""The V-shaped error-vs-h plot on log-log axes.

    ``errors`` is the output of :func:`backprop_lib.gradcheck.difference_errors` (or
    an average of several): keys ``"h"``, ``"forward"``, ``"central"``. With
    ``mark_optimum`` the measured minimum of each curve is marked (dot) and the
    theoretical optimum :math:`\varepsilon^{1/2}` (forward) / :math:`\varepsilon^{1/3}`
    (central) drawn as a dotted vertical line.
    """
    ax = get_ax(ax)
    hs = np.asarray(errors["h"], dtype=np.float64)
    tiny = np.finfo(np.float64).tiny  # an exact 0 error cannot be drawn on log axes
    for key, colour, order in (("forward", COLORS["forward"], 1), ("central", COLORS["numerical"], 2)):
        err = np.maximum(np.asarray(errors[key], dtype=np.float64), tiny)
        ax.loglog(hs, err, "-", color=colour, lw=1.5, label=f"{key} difference, truncation O(h^{order})")
        if mark_optimum:
            i = int(np.argmin(err))
            ax.loglog(hs[i], err[i], "o", color=colour, ms=7, mec="black",
                      label=f"measured best h = {hs[i]:.0e}")
            ax.axvline(eps ** (1.0 / (order + 1)), color=colour, ls=":", lw=1.2,
                       label=f"theory eps^(1/{order + 1}) = {eps ** (1.0 / (order + 1)):.1e}")
    ax.loglog(hs, eps / hs, color=COLORS["error"], ls="--", lw=1, label="round-off ~ eps / h")
    ax.set_xlabel("step size h")
    ax.set_ylabel("absolute error of the derivative")
    ax.set_title("Truncation error falls with h, round-off error grows as 1/h")
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    positive = np.concatenate([np.asarray(errors[k])[np.asarray(errors[k]) > 0] for k in ("forward", "central")])
    if positive.size:
        ax.set_ylim(positive.min() / 3, positive.max() * 1e3)
    return ax


def plot_gradient_field(f, grad, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), ax=None, *, num: int = 121,
                        arrows: int = 13, levels: int = 20):
    r"""Contour plot of ``f(x, y)`` with arrows of its gradient :math:`\nabla f`.

    ``f(x, y)`` and ``grad(x, y) -> (df/dx, df/dy)`` must work elementwise on arrays.
    The arrows (orange, the backward colour) point uphill, perpendicular to the contours.
    """
    ax = get_ax(ax)
    xs, ys = np.linspace(xlim[0], xlim[1], num), np.linspace(ylim[0], ylim[1], num)
    X, Y = np.meshgrid(xs, ys)
    cs = ax.contourf(X, Y, f(X, Y), levels=levels, cmap="Blues")
    ax.contour(X, Y, f(X, Y), levels=levels, colors=COLORS["forward"], linewidths=0.4)
    ax.figure.colorbar(cs, ax=ax, label="f(x, y)")
    qx, qy = np.linspace(xlim[0], xlim[1], arrows), np.linspace(ylim[0], ylim[1], arrows)
    QX, QY = np.meshgrid(qx, qy)
    gx, gy = grad(QX, QY)
    ax.quiver(QX, QY, gx, gy, color=COLORS["backward"], angles="xy", label="gradient (points uphill)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal")
    ax.set_title("Contours of f and its gradient")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def growth_exponents(x, y) -> np.ndarray:
    r"""Local slopes of ``y`` against ``x`` on log-log axes, one per consecutive pair.

    :math:`p_i = \log(y_{i+1}/y_i) / \log(x_{i+1}/x_i)`: if :math:`y \propto x^p` between
    two sizes, the slope there is :math:`p`. Unlike one power law fitted through all sizes,
    the slopes show where a fixed per-call overhead dominates (slope near 0) and where
    the arithmetic does. ``x`` and ``y`` are positive 1-D arrays of the same length >= 2;
    ``x`` strictly increasing. Returns an array of length ``len(x) - 1``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got shapes {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for log-log slopes")
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"x must be strictly increasing, got {x}")
    return np.diff(np.log(y)) / np.diff(np.log(x))


_UNITS = (("year", 365.0 * 86400.0), ("day", 86400.0), ("hour", 3600.0), ("minute", 60.0), ("second", 1.0))


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that keeps the number at least 1: ``"3.7 hours"``.

    Below one second: ``"21 ms"`` or ``"4.3 µs"``. Two significant digits at most, and the
    unit is singular only for exactly one (``"1 year"``, ``"1.5 years"``, ``"0.5 seconds"``
    does not occur: that is ``"500 ms"``).
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    seconds = float(seconds)
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    if seconds < 1.0:
        for unit, scale in (("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
            if seconds >= scale or unit == "ns":
                return f"{_two_digits(seconds / scale)} {unit}"
    for unit, scale in _UNITS:
        if seconds >= scale:
            value = _two_digits(seconds / scale)
            return f"{value} {unit}" if value == "1" else f"{value} {unit}s"
    raise AssertionError("unreachable")  # pragma: no cover


def _two_digits(value: float) -> str:
    """``3.66 -> "3.7"``, ``21.4 -> "21"``, ``1234 -> "1,234"`` (never more than two decimals)."""
    if value >= 10:
        return f"{value:,.0f}"
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def plot_gradient_cost(P, t_loss, t_grad, t_fd, ax=None):
    r"""Time for one gradient by finite differences and analytically, against the parameter count P.

    ``P``: parameter counts (increasing); ``t_loss``: measured seconds of ONE loss evaluation;
    ``t_grad``: measured seconds of one analytic gradient; ``t_fd``: measured seconds of one
    finite-difference gradient, NaN where it was not measured (too slow). All four have the
    same length. Draws the three measurements, the finite-difference cost predicted from the
    count, :math:`2P \times` ``t_loss``, and grey reference lines of slope 2 (time
    :math:`\propto P^2`) and 1 (:math:`\propto P`) through the largest size at which finite
    differences were measured. Returns the axes.
    """
    ax = get_ax(ax)
    P = np.asarray(P, dtype=np.float64)
    series = {"t_loss": t_loss, "t_grad": t_grad, "t_fd": t_fd}
    for name, t in series.items():
        series[name] = np.asarray(t, dtype=np.float64)
        if series[name].shape != P.shape:
            raise ValueError(f"{name} must have the shape of P {P.shape}, got {series[name].shape}")
    t_loss, t_grad, t_fd = series["t_loss"], series["t_grad"], series["t_fd"]
    measured = np.isfinite(t_fd)
    if not measured.any():
        raise ValueError("t_fd must hold at least one measured (finite) time")
    predicted = 2 * P * t_loss
    ax.loglog(P[measured], t_fd[measured], "o-", color=COLORS["numerical"], label="finite differences, measured")
    ax.loglog(P, predicted, "--", color=COLORS["numerical"], lw=1.2,
              label="finite differences predicted: 2P x one loss evaluation")
    ax.loglog(P, t_grad, "o-", color=COLORS["backward"], label="analytic gradient (forward + backward), measured")
    ax.loglog(P, t_loss, "s:", color=COLORS["forward"], ms=4, lw=1, label="one loss evaluation, measured")
    k = int(np.flatnonzero(measured)[-1])
    for t_k, power in ((t_fd[k], 2), (t_grad[k], 1)):
        ax.loglog(P, t_k * (P / P[k]) ** power, color=COLORS["neutral"], lw=0.8, ls="-.",
                  label="reference slopes 2 (time ~ P^2) and 1 (time ~ P)" if power == 2 else None)
    for seconds, text in ((1.0, "1 second"), (3600.0, "1 hour"), (86400.0, "1 day")):
        ax.axhline(seconds, color=COLORS["neutral"], lw=0.8, ls=":")
        ax.text(P[-2], seconds * 1.4, text, color=COLORS["neutral"], fontsize=8, ha="right")
    finite = np.concatenate([t_loss, t_grad, predicted, t_fd[measured]])
    ax.set_ylim(finite.min() / 5, max(finite.max(), 86400.0) * 3e3)  # room for the legend
    ax.set_xlabel("number of parameters P")
    ax.set_ylabel("time (s)")
    ax.set_title("Finite differences cost 2P loss evaluations, the analytic gradient a few")
    ax.legend(fontsize=8, loc="upper left")
    return ax
