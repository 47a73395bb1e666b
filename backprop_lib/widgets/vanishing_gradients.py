"""Widgets of notebook 04 (vanishing gradients)."""

from __future__ import annotations

__all__ = ["INIT_CHOICES", "gradient_flow_view", "gradient_flow_widget"]


#: The widget's initialisations: name -> what it draws W from (n_in inputs, n_out outputs per layer).
INIT_CHOICES = {
    "xavier": "Xavier N(0, 2/(n_in+n_out))",
    "he": "He N(0, 2/n_in)",
    "lecun": "LeCun N(0, 1/n_in)",
    "normal": "fixed N(0, 0.1²)",
    "large": "large N(0, (1.5 He std)²)",
}


def gradient_flow_view(depth: int = 10, activation: str = "sigmoid", init: str = "xavier", residual: bool = False,
                       clip_norm: float | None = None, *, seed: int = 0, axes=None):
    """What the notebook 04 widget shows: one backward pass of a deep net, drawn layer by layer.

    Returns ``(flow, axes, text)``: the :class:`~backprop_lib.diagnostics.GradientFlow`, the two axes
    (per-layer gradient norms, activation histograms) and a one-line summary. ``init`` is a key of
    :data:`INIT_CHOICES`: "normal" is a fixed std of 0.1 whatever the width, "large" is
    N(0, (1.5 * He std)^2), an exploding start. The plot's title names the chosen init.
    """
    import numpy as np

    from ..diagnostics import gradient_flow
    from ..plotting import plot_gradient_flow

    if init not in INIT_CHOICES:
        raise ValueError(f"init must be one of {list(INIT_CHOICES)}, got {init!r}")
    lib_init, init_scale = init, None
    if init == "large":
        lib_init, init_scale = "normal", 1.5 * float(np.sqrt(2.0 / 32))
    flow = gradient_flow(depth, activation, lib_init, residual=residual, clip_norm=clip_norm, seed=seed,
                         init_scale=init_scale)
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
    from IPython.display import display

    from ..plotting import new_figure, redraw_into

    style = {"description_width": "90px"}
    depth = widgets.IntSlider(value=10, min=2, max=50, step=1, description="depth", style=style)
    activation = widgets.Dropdown(options=["sigmoid", "tanh", "relu", "leaky_relu"], value="sigmoid",
                                  description="activation", style=style)
    init = widgets.Dropdown(options=list(INIT_CHOICES), value="xavier", description="init", style=style)
    residual = widgets.Checkbox(value=False, description="residual (s = 1/sqrt(depth))")
    clip = widgets.Dropdown(options=["off", "1", "10"], value="off", description="clip norm", style=style)
    out = widgets.Output()

    def update(*_):
        with redraw_into(out):
            fig = new_figure(figsize=(11, 3.8))
            clip_norm = None if clip.value == "off" else float(clip.value)
            _, axes, text = gradient_flow_view(depth.value, activation.value, init.value, residual.value, clip_norm,
                                               axes=fig.subplots(1, 2))
            fig.tight_layout()
            display(fig)
            print(text)

    for w in (depth, activation, init, residual, clip):
        w.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([depth, activation, init]), widgets.HBox([residual, clip]),
                         widgets.HTML(_HELP), out])
