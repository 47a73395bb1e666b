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

def show_backward_step(root, step: int, steps=None, ax=None):
    """Draw the graph of ``root`` as it is after backward step ``step`` and return ``(ax, text)``.

    The node handled at that step is highlighted, only the gradients filled in so far are
    printed (others show ``grad ?``), and ``text`` is the local rule applied at the step.
    ``steps`` (from :func:`backprop_lib.engine.backward_steps`) is computed when omitted.
    """
    from .engine import backward_steps
    from .plotting import draw_graph

    steps = backward_steps(root) if steps is None else steps
    if not 0 <= step < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {step}")
    s = steps[step]
    ax = draw_graph(root, ax=ax, highlight=s.node, grads=s.grads)
    ax.set_title(f"backward step {step} of {len(steps) - 1}", fontsize=10)
    return ax, s.text


def backward_stepper(root):
    """A slider plus previous/next buttons that walk the backward pass of ``root`` one node at a time."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from .engine import backward_steps

    steps = backward_steps(root)
    slider = w.IntSlider(value=0, min=0, max=len(steps) - 1, description="step", continuous_update=False)
    prev, nxt = w.Button(description="◀ previous"), w.Button(description="next ▶")
    out = w.Output()

    def render(*_):
        with out:
            out.clear_output(wait=True)
            ax, text = show_backward_step(root, slider.value, steps)
            plt.show()
            print(text)

    prev.on_click(lambda _: setattr(slider, "value", max(slider.min, slider.value - 1)))
    nxt.on_click(lambda _: setattr(slider, "value", min(slider.max, slider.value + 1)))
    slider.observe(render, names="value")
    render()
    return w.VBox([w.HBox([prev, slider, nxt]), out])


__all__ += ["show_backward_step", "backward_stepper"]


# =============================================================================
# 03 layerwise delta
# =============================================================================


def delta_training_widget(split=None, n_train: int = 400, epochs: int = 6):
    """Learning rate, hidden size, initialisation, batch size -> live loss curve on the digits.

    Every change runs :func:`backprop_lib.delta.quick_digits_run` (a short run on ``n_train``
    digits, well under a second) and redraws the train and test loss.
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .data import digits
    from .delta import quick_digits_run
    from .plotting import COLORS

    split = digits() if split is None else split
    lr = W.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.25, description="learning rate",
                          continuous_update=False, readout_format=".3g")
    hidden = W.Dropdown(options=[4, 8, 16, 32, 64, 128], value=32, description="hidden units")
    init = W.Dropdown(options=["he", "xavier", "normal", "zeros"], value="he", description="init")
    batch = W.Dropdown(options=[8, 16, 32, 64, 128], value=32, description="batch size")
    out = W.Output()

    def update(*_):
        history = quick_digits_run(lr=lr.value, hidden=hidden.value, init=init.value, batch_size=batch.value,
                                   epochs=epochs, n_train=n_train, split=split)
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6.5, 3.4))
            x = list(range(1, len(history.loss) + 1))
            ax.plot(x, history.loss, color=COLORS["forward"], lw=2, marker="o", label="train loss")
            ax.plot(x, history.val_loss, color=COLORS["reference"], lw=2, ls="--", marker="o", label="test loss")
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel("mean cross-entropy (log scale)")
            if history.diverged:
                ax.set_title(f"diverged after {len(history.loss)} epochs: the learning rate is too large",
                             color=COLORS["error"])
            else:
                ax.set_title(f"{n_train} digits, {epochs} epochs: test accuracy {history.val_accuracy[-1]:.3f}")
            ax.legend()
            plt.show()

    for w in (lr, hidden, init, batch):
        w.observe(update, names="value")
    update()
    box = W.VBox([W.HBox([lr, hidden]), W.HBox([init, batch]), out])
    display(box)
    return box


def delta_heatmap_widget(net, X, y):
    """Choose an example -> its image and the per-layer deltas (:func:`backprop_lib.delta.example_deltas`)."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.display import display

    from .delta import example_deltas
    from .plotting import plot_delta_heatmap

    index = W.IntSlider(value=0, min=0, max=len(X) - 1, description="example", continuous_update=False)
    out = W.Output()

    def update(*_):
        i = index.value
        deltas = example_deltas(net, X[i], int(y[i]))
        pred = int(net.predict(X[i:i + 1])[0])
        with out:
            out.clear_output(wait=True)
            fig, (ax_img, ax_heat) = plt.subplots(1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1, 5]})
            side = int(round(np.sqrt(X.shape[1])))
            ax_img.imshow(X[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax_img.set_title(f"true {int(y[i])}, predicted {pred}")
            ax_img.axis("off")
            plot_delta_heatmap(deltas, ax=ax_heat)
            plt.show()

    index.observe(update, names="value")
    update()
    box = W.VBox([index, out])
    display(box)
    return box


__all__ += ["delta_training_widget", "delta_heatmap_widget"]




# =============================================================================
# 04 vanishing gradients
# =============================================================================

__all__ += ["gradient_flow_view", "gradient_flow_widget"]

_GF_INITS = {"sigmoid": "xavier", "tanh": "xavier", "relu": "he", "leaky_relu": "he"}


def gradient_flow_view(depth: int = 10, activation: str = "sigmoid", init: str = "xavier", residual: bool = False,
                       clip_norm: float | None = None, *, seed: int = 0, axes=None):
    """What the notebook 04 widget shows: one backward pass of a deep net, drawn layer by layer.

    Returns ``(flow, axes, text)``: the :class:`~backprop_lib.diagnostics.GradientFlow`, the two axes
    (per-layer gradient norms, activation histograms) and a one-line summary.
    Init ``"large"`` means N(0, (1.5 * He std)^2): an exploding start.
    """
    import numpy as np

    from .diagnostics import gradient_flow
    from .plotting import plot_gradient_flow

    init_scale = None
    if init == "large":
        init, init_scale = "normal", 1.5 * float(np.sqrt(2.0 / 32))
    flow = gradient_flow(depth, activation, init, residual=residual, clip_norm=clip_norm, seed=seed,
                         init_scale=init_scale)
    axes = plot_gradient_flow(flow, axes=axes)
    text = (f"first/last hidden-layer gradient ratio {flow.ratio:.3g}; global gradient norm {flow.global_norm:.3g}"
            + (f" (clipped to {clip_norm:g})" if clip_norm is not None else "") + f"; loss {flow.loss:.3g}")
    return flow, axes, text


def gradient_flow_widget():
    """Depth, activation, init, residual on/off and clipping -> per-layer gradient norms and histograms."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    style = {"description_width": "90px"}
    depth = widgets.IntSlider(value=10, min=2, max=50, step=1, description="depth", style=style)
    activation = widgets.Dropdown(options=["sigmoid", "tanh", "relu", "leaky_relu"], value="sigmoid",
                                  description="activation", style=style)
    init = widgets.Dropdown(options=["xavier", "he", "lecun", "normal", "large"], value="xavier",
                            description="init", style=style)
    residual = widgets.Checkbox(value=False, description="residual (s = 1/sqrt(depth))")
    clip = widgets.Dropdown(options=[("off", None), ("1", 1.0), ("10", 10.0)], value=None,
                            description="clip norm", style=style)
    out = widgets.Output()

    def update(*_):
        with out:
            out.clear_output(wait=True)
            _, axes, text = gradient_flow_view(depth.value, activation.value, init.value, residual.value, clip.value)
            axes[0].figure.tight_layout()
            plt.show()
            print(text)

    for w in (depth, activation, init, residual, clip):
        w.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([depth, activation, init]), widgets.HBox([residual, clip]), out])
    display(box)
    return box




# =============================================================================
# 05 checkpointing
# =============================================================================

__all__ += ["checkpoint_summary", "checkpoint_widget"]


def checkpoint_summary(n: int, slots: int) -> dict:
    """What the checkpointing widget shows for ``n`` layers and ``slots`` slots.

    Returns the optimal revolve ``schedule``, its ``advances`` and ``extra_forwards``
    (advances + n recording re-runs), ``stored`` (peak stored arrays: snapshots plus the
    layer being reversed), the same two numbers for store_all and sqrt, and the
    trade-off ``curve`` (slots, extra forwards) for slots = 1..n.
    """
    import math

    from .checkpoint import revolve_cost, revolve_schedule, sqrt_segments

    schedule = revolve_schedule(n, slots)
    k = math.isqrt(n - 1) + 1
    return {
        "schedule": schedule,
        "advances": schedule.advances,
        "extra_forwards": schedule.layer_forwards,
        "stored": schedule.peak_snapshots + 1,
        "store_all": {"stored": n + 1, "extra_forwards": 0},
        "sqrt": {"stored": len(sqrt_segments(n)) - 1 + k, "extra_forwards": n},
        "curve": [(s, revolve_cost(n, s) + n) for s in range(1, n + 1)],
    }


def checkpoint_text(n: int, slots: int) -> str:
    """One line per strategy: stored arrays and extra forwards (the widget's text)."""
    info = checkpoint_summary(n, slots)
    return (f"n={n}, slots={slots}\n"
            f"  revolve:   stores at most {info['stored']:4d} arrays, {info['extra_forwards']:5d} extra layer forwards "
            f"({info['advances']} advances + {n} re-runs)\n"
            f"  sqrt:      stores at most {info['sqrt']['stored']:4d} arrays, {n:5d} extra layer forwards\n"
            f"  store_all: stores        {n + 1:4d} arrays, {0:5d} extra layer forwards")


def checkpoint_widget(n: int = 10, slots: int = 3, max_n: int = 64):
    """Sliders for layers and slots -> schedule diagram, counts and the trade-off curve."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .plotting import plot_revolve_tradeoff, plot_schedule

    n_slider = widgets.IntSlider(value=n, min=1, max=max_n, description="layers n")
    s_slider = widgets.IntSlider(value=min(slots, n), min=1, max=n, description="slots")
    out = widgets.Output()

    def redraw(*_):
        s_slider.max = n_slider.value
        with out:
            out.clear_output(wait=True)
            info = checkpoint_summary(n_slider.value, s_slider.value)
            print(checkpoint_text(n_slider.value, s_slider.value))
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 2]})
            plot_schedule(info["schedule"], ax=ax1)
            plot_revolve_tradeoff(n_slider.value, s_slider.value, ax=ax2)
            plt.tight_layout()
            plt.show()

    n_slider.observe(redraw, names="value")
    s_slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([n_slider, s_slider]), out])
    display(box)
    return box


__all__ += ["checkpoint_text"]
