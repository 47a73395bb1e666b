"""Course-wide plot style, drawn with matplotlib only.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the
axes it drew on; notebooks end plot cells with ``plt.show()``. One colour per concept
across the whole course lives in :data:`COLORS`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .threadsafe import serialize_matplotlib

__all__ = ["COLORS", "clear_plot", "get_ax", "setup_style"]

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
    """Course-wide matplotlib defaults, readable at the default notebook width.

    Also makes matplotlib's text parsing and rendering thread-safe for the course's widgets
    (:func:`backprop_lib.plotting.threadsafe.serialize_matplotlib`).
    """
    serialize_matplotlib()
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


def clear_plot(ax) -> None:
    """Remove what was plotted on ``ax`` (lines, collections, patches, texts, images, the legend)
    and forget its data limits, but keep the Axes: its ticks, scales and labels.

    A widget that redraws into the same axes uses it instead of ``ax.cla()``: ``cla`` throws the
    tick objects away, and making them anew at the next draw costs about as much as the rest of
    a redraw. The plot helper called next sets titles, labels, scales and limits again.
    """
    for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images, *ax.artists, *ax.tables]:
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.relim()
    ax.set_autoscale_on(True)
