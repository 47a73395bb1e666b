"""The notebooks' interactive widgets.

Each widget is a thin ipywidgets shell around a plain function that computes what
the widget shows (the tests call those functions directly, without a browser).
Widget builders return the widget so a notebook cell can display it; they import
ipywidgets lazily so the rest of the package works without a front end.
"""

from __future__ import annotations

__all__: list[str] = []


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
