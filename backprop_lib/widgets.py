"""The notebooks' interactive widgets.

Each widget is a thin ipywidgets shell around a plain function that computes what
the widget shows (the tests call those functions directly, without a browser).
Widget builders return the widget so a notebook cell can display it; they import
ipywidgets lazily so the rest of the package works without a front end.
"""

from __future__ import annotations

__all__: list[str] = []


# =============================================================================
# 06 beyond SGD
# =============================================================================

import numpy as np  # noqa: E402  (each section is self-contained)

#: Settings of notebook 06's optimiser race that show each surface's lesson:
#: ``lr`` is used by SGD and momentum, ``adaptive_lr`` by RMSProp and Adam.
RACE_DEFAULTS: dict[str, dict[str, float]] = {
    "ravine": {"lr": 0.03, "adaptive_lr": 0.1, "steps": 50},
    "rosenbrock": {"lr": 0.001, "adaptive_lr": 0.05, "steps": 1000},
    "saddle": {"lr": 0.05, "adaptive_lr": 0.05, "steps": 50},
}


def optimizer_race(surface: str = "ravine", lr: float | None = None, adaptive_lr: float | None = None, *,
                   momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999, start=None,
                   steps: int | None = None) -> dict:
    r"""Run SGD, SGD with momentum, RMSProp and Adam from the same start on a 2-D surface.

    Parameters
    ----------
    surface : "ravine" | "rosenbrock" | "saddle" (see :data:`backprop_lib.landscape.SURFACES`)
    lr : learning rate of SGD and momentum (default from :data:`RACE_DEFAULTS`)
    adaptive_lr : learning rate of RMSProp and Adam (their steps are about ``lr`` long
        whatever the gradient's size, so they need a different scale)
    momentum : :math:`\mu` of SGD with momentum
    beta1, beta2 : Adam's decay rates; RMSProp uses ``alpha = beta2``
    start : (x, y), default the surface's own start
    steps : number of updates

    Returns
    -------
    dict with ``surface`` (the Surface), ``paths`` (name -> (steps+1, 2)), ``losses``
    (name -> (steps+1,) loss along the path), ``final`` (name -> last loss) and the settings.
    """
    from .landscape import get_surface, trajectory
    from .optim import SGD, Adam, RMSProp

    surface = get_surface(surface)
    defaults = RACE_DEFAULTS.get(surface.name, {"lr": 0.01, "adaptive_lr": 0.01, "steps": 100})
    lr = defaults["lr"] if lr is None else lr
    adaptive_lr = defaults["adaptive_lr"] if adaptive_lr is None else adaptive_lr
    steps = int(defaults["steps"]) if steps is None else steps
    start = surface.start if start is None else tuple(float(v) for v in start)
    optimizers = {
        "SGD": SGD(lr=lr),
        "momentum": SGD(lr=lr, momentum=momentum),
        "RMSProp": RMSProp(lr=adaptive_lr, alpha=beta2),
        "Adam": Adam(lr=adaptive_lr, betas=(beta1, beta2)),
    }
    paths = {name: trajectory(surface, opt, start=start, steps=steps) for name, opt in optimizers.items()}
    losses = {name: surface.f(p[:, 0], p[:, 1]) for name, p in paths.items()}
    return {"surface": surface, "paths": paths, "losses": losses,
            "final": {name: float(v[-1]) for name, v in losses.items()},
            "lr": float(lr), "adaptive_lr": float(adaptive_lr), "momentum": float(momentum),
            "betas": (float(beta1), float(beta2)), "start": start, "steps": steps}


def optimizer_race_widget(surface: str = "ravine"):
    """Surface, learning rates, momentum, betas and start point -> the four trajectories.

    Logic in :func:`optimizer_race`; drawing in :func:`backprop_lib.plotting.plot_surface_paths`
    (left) and the loss along each path on a log scale (right). Returns the widget to display.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from .landscape import SURFACES
    from .plotting import OPTIMIZER_COLORS, plot_surface_paths

    d = RACE_DEFAULTS[surface]
    s = SURFACES[surface]
    choose = widgets.Dropdown(options=list(RACE_DEFAULTS), value=surface, description="surface")
    log_lr = widgets.FloatSlider(value=np.log10(d["lr"]), min=-4, max=0, step=0.1, description="log10 lr",
                                 tooltip="learning rate of SGD and momentum")
    log_alr = widgets.FloatSlider(value=np.log10(d["adaptive_lr"]), min=-3, max=0, step=0.1,
                                  description="log10 lr (RMSProp, Adam)", style={"description_width": "initial"})
    mom = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum")
    b1 = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="beta1")
    b2 = widgets.FloatSlider(value=0.999, min=0.5, max=0.999, step=0.001, readout_format=".3f", description="beta2")
    x0 = widgets.FloatSlider(value=s.start[0], min=s.xlim[0], max=s.xlim[1], step=0.05, description="start x")
    y0 = widgets.FloatSlider(value=s.start[1], min=s.ylim[0], max=s.ylim[1], step=0.01, description="start y")
    n = widgets.IntSlider(value=int(d["steps"]), min=10, max=2000, step=10, description="steps")
    out = widgets.Output()
    busy = {"on": False}

    def on_surface(change):
        busy["on"] = True
        new, dd = SURFACES[change["new"]], RACE_DEFAULTS[change["new"]]
        log_lr.value, log_alr.value, n.value = np.log10(dd["lr"]), np.log10(dd["adaptive_lr"]), int(dd["steps"])
        x0.min, x0.max = -10, 10
        y0.min, y0.max = -10, 10
        x0.value, y0.value = new.start
        x0.min, x0.max = new.xlim
        y0.min, y0.max = new.ylim
        busy["on"] = False
        redraw()

    def redraw(*_):
        if busy["on"]:
            return
        with out:
            out.clear_output(wait=True)
            race = optimizer_race(choose.value, 10 ** log_lr.value, 10 ** log_alr.value, momentum=mom.value,
                                  beta1=b1.value, beta2=b2.value, start=(x0.value, y0.value), steps=n.value)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
            plot_surface_paths(race["surface"], race["paths"], ax=ax1)
            for name, loss in race["losses"].items():
                ax2.plot(loss - race["surface"](race["surface"].minimum) + 1e-16, color=OPTIMIZER_COLORS[name],
                         label=name)
            ax2.set_yscale("log")
            ax2.set_xlabel("step")
            ax2.set_ylabel("loss - loss at the minimum")
            ax2.set_title("Distance to the minimum's loss")
            ax2.legend(fontsize=8)
            plt.tight_layout()
            plt.show()

    choose.observe(on_surface, names="value")
    for control in (log_lr, log_alr, mom, b1, b2, x0, y0, n):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([choose, n]), widgets.HBox([log_lr, log_alr]), widgets.HBox([mom, b1, b2]),
                         widgets.HBox([x0, y0]), out])


__all__ += ["RACE_DEFAULTS", "optimizer_race", "optimizer_race_widget"]


# =============================================================================
# 01 chain rule
# =============================================================================

import math
from typing import Any, Callable

import numpy as np

from .activations import sigmoid, sigmoid_grad
from .gradcheck import central_difference, forward_difference


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
    if isinstance(h, bool) or not isinstance(h, (int, float, np.integer, np.floating)) or not (h > 0 and math.isfinite(h)):
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
    import matplotlib.pyplot as plt

    from .plotting import plot_secant_tangent

    choose = widgets.Dropdown(options=list(DERIVATIVE_EXAMPLES), value=name, description="f")
    point = widgets.FloatSlider(value=x, min=-2.0, max=2.0, step=0.05, description="x")
    step = widgets.FloatSlider(value=log10_h, min=-12.0, max=0.0, step=0.25, description="log10(h)")
    out = widgets.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            data = secant_tangent(choose.value, point.value, 10.0**step.value)
            fig, ax = plt.subplots(figsize=(7, 4))
            plot_secant_tangent(data, ax=ax)
            plt.show()

    for control in (choose, point, step):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([choose, point, step]), out])


__all__ += ["DERIVATIVE_EXAMPLES", "secant_tangent", "secant_tangent_widget"]



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
