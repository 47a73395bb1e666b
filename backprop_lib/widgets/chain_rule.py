"""Widgets of notebook 01 (chain rule)."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..activations import sigmoid, sigmoid_grad
from ..gradcheck import central_difference, forward_difference

__all__ = ["DERIVATIVE_EXAMPLES", "secant_tangent", "secant_tangent_widget"]


#: Functions of notebook 01 with their exact derivatives: ``name -> (f, df, label)``.
#: Both callables are elementwise and take floats or float64 arrays.
DERIVATIVE_EXAMPLES: dict[str, tuple[Callable, Callable, str]] = {
    "sin": (np.sin, np.cos, r"$\sin x$"),
    "exp": (np.exp, np.exp, r"$e^x$"),
    "x^3": (lambda x: x**3, lambda x: 3 * x**2, r"$x^3$"),
    "sigmoid": (sigmoid, sigmoid_grad, r"$\sigma(x) = 1/(1+e^{-x})$"),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, r"$\tanh x$"),
    "sin(x^2)": (lambda x: np.sin(x**2), lambda x: 2 * x * np.cos(x**2), r"$\sin(x^2)$"),
}


def secant_tangent(name: str, x: float, h: float, *, halfwidth: float = 2.0, num: int = 401) -> dict[str, Any]:
    r"""Everything the secant/tangent widget of notebook 01 shows, as plain numbers.

    For ``f = DERIVATIVE_EXAMPLES[name]`` at the point ``x`` with step ``h``:

    .. math::
        D_+ = \frac{f(x+h) - f(x)}{h}, \qquad D_0 = \frac{f(x+h) - f(x-h)}{2h}

    Parameters
    ----------
    name : str
        A key of :data:`DERIVATIVE_EXAMPLES` (``"sin"``, ``"exp"``, ``"x^3"``, ...).
    x : float
        The point where the derivative is taken.
    h : float
        The finite-difference step (positive).
    halfwidth, num : float, int
        The curve is sampled on ``num`` points of ``[x - halfwidth, x + halfwidth]``.

    Returns
    -------
    dict with
        ``name, label, x, h, fx``; ``exact`` (:math:`f'(x)`), ``forward`` (:math:`D_+`),
        ``central`` (:math:`D_0`); ``forward_error`` and ``central_error``
        (absolute errors against ``exact``); ``forward_points`` ``((x, f(x)), (x+h, f(x+h)))``
        and ``central_points`` ``((x-h, f(x-h)), (x+h, f(x+h)))``; ``grid`` (num,), ``curve``
        :math:`f` on it, ``tangent`` :math:`f(x) + f'(x)(t - x)`, ``forward_line``
        :math:`f(x) + D_+ (t - x)` and ``central_line`` (the line through the two central
        points, :math:`f(x-h) + D_0 (t - x + h)`), each (num,).
    """
    if name not in DERIVATIVE_EXAMPLES:
        raise ValueError(f"name must be one of {sorted(DERIVATIVE_EXAMPLES)}, got {name!r}")
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not math.isfinite(x):
        raise ValueError(f"x must be a finite number, got {x!r}")
    if (isinstance(h, bool) or not isinstance(h, (int, float, np.integer, np.floating))
            or not (h > 0 and math.isfinite(h))):
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    if not (halfwidth > 0) or int(num) < 2:
        raise ValueError(f"halfwidth must be > 0 and num >= 2, got halfwidth={halfwidth!r}, num={num!r}")
    f, df, label = DERIVATIVE_EXAMPLES[name]
    x, h = float(x), float(h)
    scalar = lambda t: float(f(np.float64(t)))  # noqa: E731
    fx, f_plus, f_minus = scalar(x), scalar(x + h), scalar(x - h)
    exact = float(df(np.float64(x)))
    fwd = forward_difference(scalar, x, h)
    cen = central_difference(scalar, x, h)
    grid = np.linspace(x - halfwidth, x + halfwidth, int(num))
    return {
        "name": name,
        "label": label,
        "x": x,
        "h": h,
        "fx": fx,
        "exact": exact,
        "forward": fwd,
        "central": cen,
        "forward_error": abs(fwd - exact),
        "central_error": abs(cen - exact),
        "forward_points": ((x, fx), (x + h, f_plus)),
        "central_points": ((x - h, f_minus), (x + h, f_plus)),
        "grid": grid,
        "curve": np.asarray(f(grid), dtype=np.float64),
        "tangent": fx + exact * (grid - x),
        "forward_line": fx + fwd * (grid - x),
        "central_line": f_minus + cen * (grid - (x - h)),
    }


def secant_tangent_widget(name: str = "sin", x: float = 1.0, log10_h: float = -0.5):
    """Dropdown (function), slider x, slider log10(h) -> tangent, both secants and their errors.

    Logic in :func:`secant_tangent`, drawing in :func:`backprop_lib.plotting.plot_secant_tangent`.
    Returns the ipywidgets container to display.
    """
    import ipywidgets as widgets

    from ..plotting import LiveFigure, plot_secant_tangent

    choose = widgets.Dropdown(options=list(DERIVATIVE_EXAMPLES), value=name, description="f")
    point = widgets.FloatSlider(value=x, min=-2.0, max=2.0, step=0.05, description="x")
    step = widgets.FloatSlider(value=log10_h, min=-12.0, max=0.0, step=0.25, description="log10(h)")

    def draw(live, state, _):
        live.axes.cla()
        plot_secant_tangent(secant_tangent(state["f"], state["x"], 10.0 ** state["log10_h"]), ax=live.axes)

    live = LiveFigure((7, 4), {"f": choose, "x": point, "log10_h": step}, draw)
    for control in (choose, point, step):
        control.observe(live.show, names="value")
    live.show()
    box = widgets.VBox([widgets.HBox([choose, point, step]), live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box
