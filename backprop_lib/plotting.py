"""Plot helpers shared by the notebooks, drawn with matplotlib only.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the
axes it drew on; notebooks end plot cells with ``plt.show()``. One colour per concept
across the whole course lives in :data:`COLORS`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["COLORS", "get_ax", "setup_style"]

#: One colour per concept, used by every notebook.
COLORS = {
    "forward": "#1f77b4",    # values, activations, the forward pass (blue)
    "backward": "#ff7f0e",   # gradients, deltas, the backward pass (orange)
    "reference": "#2ca02c",  # exact / closed-form / reference answers (green)
    "numerical": "#9467bd",  # finite differences, numerical estimates (purple)
    "error": "#d62728",      # errors, wrong answers, failures (red)
    "neutral": "#7f7f7f",    # context, guides, grids (grey)
    # activations
    "sigmoid": "#e377c2",
    "tanh": "#17becf",
    "relu": "#8c564b",
    "leaky_relu": "#bcbd22",
    "identity": "#7f7f7f",
    # checkpointing strategies
    "store_all": "#1f77b4",
    "sqrt": "#ff7f0e",
    "revolve": "#2ca02c",
}


def setup_style() -> None:
    """Course-wide matplotlib defaults: readable at the default notebook width."""
    plt.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 90,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 10,
        }
    )


def get_ax(ax=None, figsize=None):
    """Return ``ax`` or a fresh axes (with its figure) when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# =============================================================================
# 01 chain rule
# =============================================================================

import numpy as np


def plot_secant_tangent(data: dict, ax=None):
    """Draw the output of :func:`backprop_lib.widgets.secant_tangent`.

    The function (blue), its tangent at ``x`` (green, the exact slope), the forward
    secant through ``x, x+h`` (purple, dashed) and the central secant through
    ``x-h, x+h`` (purple, solid), with both slopes and their errors in a text box.
    """
    ax = get_ax(ax)
    x, fx = data["x"], data["fx"]
    ax.plot(data["grid"], data["curve"], color=COLORS["forward"], lw=2, label=f"f(x) = {data['label']}")
    ax.plot(data["grid"], data["tangent"], color=COLORS["reference"], lw=1.5, label=f"tangent, slope {data['exact']:.4f}")
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
    xs, ys = np.linspace(*xlim, num), np.linspace(*ylim, num)
    X, Y = np.meshgrid(xs, ys)
    cs = ax.contourf(X, Y, f(X, Y), levels=levels, cmap="Blues")
    ax.contour(X, Y, f(X, Y), levels=levels, colors=COLORS["forward"], linewidths=0.4)
    ax.figure.colorbar(cs, ax=ax, label="f(x, y)")
    qx, qy = np.linspace(*xlim, arrows), np.linspace(*ylim, arrows)
    QX, QY = np.meshgrid(qx, qy)
    gx, gy = grad(QX, QY)
    ax.quiver(QX, QY, gx, gy, color=COLORS["backward"], angles="xy", label="gradient (points uphill)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal")
    ax.set_title("Contours of f and its gradient")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def power_law_fit(x, y) -> tuple[float, float]:
    r"""Least-squares fit of :math:`y = c\,x^p` in log-log space on the larger half of ``x``.

    The small sizes are dominated by fixed overheads, so only ``x >= median(x)`` is used.
    Returns ``(c, p)``. ``x`` and ``y`` are positive 1-D arrays of the same length (>= 2).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got shapes {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for a log-log fit")
    big = x >= np.median(x)
    if big.sum() < 2:
        big = np.ones_like(x, dtype=bool)
    p, logc = np.polyfit(np.log(x[big]), np.log(y[big]), 1)
    return float(np.exp(logc)), float(p)


def plot_gradient_cost(W, t_numerical, t_backward, ax=None, *, extrapolate_to: float | None = None):
    """Measured time for one gradient by finite differences vs analytically, log-log.

    ``W``: parameter counts; ``t_numerical``, ``t_backward``: seconds, same length.
    With ``extrapolate_to`` each series gets the power-law fit of :func:`power_law_fit`
    drawn as a dashed line up to that size. Returns the axes.
    """
    ax = get_ax(ax)
    W = np.asarray(W, dtype=np.float64)
    series = (("finite differences (2W evaluations)", np.asarray(t_numerical, dtype=np.float64), COLORS["numerical"]),
              ("analytic gradient (1 forward + 1 backward)", np.asarray(t_backward, dtype=np.float64), COLORS["backward"]))
    for label, t, colour in series:
        if t.shape != W.shape:
            raise ValueError(f"timings must have the shape of W {W.shape}, got {t.shape}")
        ax.loglog(W, t, "o-", color=colour, label=label)
        if extrapolate_to is not None:
            c, p = power_law_fit(W, t)
            Wx = np.geomspace(np.median(W), extrapolate_to, 50)
            ax.loglog(Wx, c * Wx**p, "--", color=colour, lw=1, label=f"fit ~ W^{p:.1f}")
    for seconds, text in ((1.0, "1 second"), (3600.0, "1 hour"), (86400.0, "1 day")):
        ax.axhline(seconds, color=COLORS["neutral"], lw=0.8, ls=":")
        ax.text(W[0], seconds * 1.3, text, color=COLORS["neutral"], fontsize=8)
    ax.set_xlabel("number of parameters W")
    ax.set_ylabel("time for one gradient (s)")
    ax.set_title("Finite differences cost 2W loss evaluations, the analytic gradient about two")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.12, 0.97))
    return ax


__all__ += ["plot_secant_tangent", "plot_difference_errors", "plot_gradient_field", "power_law_fit",
            "plot_gradient_cost"]



# =============================================================================
# 02 computational graph
# =============================================================================



# =============================================================================
# 03 layerwise delta
# =============================================================================



# =============================================================================
# 04 vanishing gradients
# =============================================================================



# =============================================================================
# 05 checkpointing
# =============================================================================
