"""Widgets of notebook 04 (vanishing gradients)."""

from __future__ import annotations

import functools

__all__ = ["INIT_CHOICES", "gradient_flow_view", "gradient_flow_widget"]


#: The widget's initialisations: name -> what it draws W from (n_in inputs, n_out outputs per layer).
INIT_CHOICES = {
    "xavier": "Xavier N(0, 2/(n_in+n_out))",
    "he": "He N(0, 2/n_in)",
    "lecun": "LeCun N(0, 1/n_in)",
    "normal": "fixed N(0, 0.1²)",
    "large": "large N(0, (1.5 He std)²)",
}


@functools.lru_cache(maxsize=64)
def _flow(depth: int, activation: str, init: str, residual: bool, clip_norm: float | None, seed: int):
    """The :class:`~backprop_lib.diagnostics.GradientFlow` behind :func:`gradient_flow_view`, computed once
    per setting (it is a pure function of them: seeded data and weights; nobody mutates the result)."""
    import numpy as np

    from ..diagnostics import gradient_flow

    if init not in INIT_CHOICES:
        raise ValueError(f"init must be one of {list(INIT_CHOICES)}, got {init!r}")
    lib_init, init_scale = init, None
    if init == "large":
        lib_init, init_scale = "normal", 1.5 * float(np.sqrt(2.0 / 32))
    return gradient_flow(depth, activation, lib_init, residual=residual, clip_norm=clip_norm, seed=seed,
                         init_scale=init_scale)


def gradient_flow_view(depth: int = 10, activation: str = "sigmoid", init: str = "xavier", residual: bool = False,
                       clip_norm: float | None = None, *, seed: int = 0, axes=None):
    """What the notebook 04 widget shows: one backward pass of a deep net, drawn layer by layer.

    Returns ``(flow, axes, text)``: the :class:`~backprop_lib.diagnostics.GradientFlow`, the two axes
    (per-layer gradient norms, activation histograms) and a one-line summary. ``init`` is a key of
    :data:`INIT_CHOICES`: "normal" is a fixed std of 0.1 whatever the width, "large" is
    N(0, (1.5 * He std)^2), an exploding start. The plot's title names the chosen init.
    """
    from ..plotting import plot_gradient_flow

    flow = _flow(depth, activation, init, residual, clip_norm, seed)
    axes = plot_gradient_flow(flow, axes=axes, title=f"{activation} + {INIT_CHOICES[init]}")
    text = (f"first/last hidden-layer gradient ratio {flow.ratio:.3g}; global gradient norm {flow.global_norm:.3g}"
            + (f" (clipped to {clip_norm:g})" if clip_norm is not None else "") + f"; loss {flow.loss:.3g}")
    return flow, axes, text


_HELP = (
    "<small>Width 32, one forward and backward pass on 256 digits. Init: "
    + "; ".join(f"<b>{k}</b> = {v}" for k, v in INIT_CHOICES.items())
    + ". Right: each layer's activations as z-scores (its own mean and std in the legend).</small>"
)


def gradient_flow_widget():
    """Depth, activation, init, residual on/off and clipping -> per-layer gradient norms and histograms."""
    import ipywidgets as widgets

    from ..plotting import LiveFigure, clear_plot

    style = {"description_width": "90px"}
    depth = widgets.IntSlider(value=10, min=2, max=50, step=1, description="depth", style=style)
    activation = widgets.Dropdown(options=["sigmoid", "tanh", "relu", "leaky_relu"], value="sigmoid",
                                  description="activation", style=style)
    init = widgets.Dropdown(options=list(INIT_CHOICES), value="xavier", description="init", style=style)
    residual = widgets.Checkbox(value=False, description="residual (s = 1/sqrt(depth))")
    clip = widgets.Dropdown(options=["off", "1", "10"], value="off", description="clip norm", style=style)

    def settings(state):
        clip_norm = None if state["clip"] == "off" else float(state["clip"])
        return state["depth"], state["activation"], state["init"], state["residual"], clip_norm

    def flow(state):  # the forward and backward pass, outside the drawing lock (remembered by _flow)
        return _flow(*settings(state), 0)

    def draw(live, state, _):
        norms, hists = live.axes
        clear_plot(norms)
        clear_plot(hists)
        text = gradient_flow_view(*settings(state), axes=live.axes)[2]
        # every control changes the norms (left, animated whole) and the histograms, their density
        # axis and legend; the histograms' z-score axis (fixed bins) and title are drawn once
        for artist in (*hists.lines, hists.yaxis, hists.get_legend()):
            artist.set_animated(True)
        return text

    controls = {"depth": depth, "activation": activation, "init": init, "residual": residual, "clip": clip}
    live = LiveFigure((11, 3.8), controls, draw, compute=flow, text=True, nrows=1, ncols=2, scene=lambda state: ())
    live.axes[0].set_animated(True)
    for w in controls.values():
        w.observe(live.show, names="value")
    live.show()
    box = widgets.VBox([widgets.HBox([depth, activation, init]), widgets.HBox([residual, clip]),
                        widgets.HTML(_HELP), live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box
