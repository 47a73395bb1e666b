"""Plot helpers of notebook 04 (vanishing gradients)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from .style import COLORS, get_ax

__all__ = [
    "plot_activation_derivatives",
    "plot_layer_norms",
    "plot_layer_histograms",
    "plot_training_curves",
    "plot_gradient_flow",
]


def _act_color(label: str, default: str) -> str:
    for key in ("leaky_relu", "sigmoid", "tanh", "relu", "identity"):
        if key in str(label):
            return COLORS[key]
    return default


def plot_activation_derivatives(ax=None, z_range: float = 6.0):
    """sigma'(z) and tanh'(z) on [-z_range, z_range] with their maxima 1/4 and 1 marked."""
    import numpy as np

    from ..activations import sigmoid_grad, tanh_grad

    ax = get_ax(ax)
    z = np.linspace(-z_range, z_range, 601)
    ax.plot(z, sigmoid_grad(z), color=COLORS["sigmoid"], label=r"$\sigma'(z)$")
    ax.plot(z, tanh_grad(z), color=COLORS["tanh"], label=r"$\tanh'(z)$")
    ax.axhline(0.25, color=COLORS["reference"], ls="--", lw=1, label="1/4 (max of $\\sigma'$)")
    ax.axhline(1.0, color=COLORS["neutral"], ls=":", lw=1, label="1 (max of $\\tanh'$)")
    ax.set(xlabel="pre-activation z", ylabel="derivative f'(z)", title="Saturating activations: small slopes")
    ax.legend()
    return ax


def plot_layer_norms(norms: dict, ax=None, ylabel: str = "gradient norm", title: str = "Gradient norm per layer",
                     published: dict | None = None, styles: dict | None = None, cmap: str | None = None):
    """One line per entry of ``norms`` ({label: values per layer}), layer 1 first, log y axis.

    ``published`` ({label: values}) is drawn as hollow squares (e.g. Nielsen's MNIST numbers).
    Line colours follow the activation named in the label; with ``cmap`` (e.g. "plasma") every
    line gets its own colour from that colour map instead (several depths of one activation), and
    the j-th published entry takes the j-th line's colour. ``styles`` ({label: plot kwargs})
    overrides anything, for lines and published entries.
    """
    import numpy as np

    ax = get_ax(ax)
    colors = list(plt.get_cmap(cmap)(np.linspace(0.05, 0.75, max(len(norms), 2)))) if cmap else []
    for i, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        kw = dict(color=colors[i] if cmap else _act_color(label, COLORS["backward"]), marker="o", ms=3)
        kw.update((styles or {}).get(label, {}))
        ax.plot(np.arange(1, values.size + 1), values, label=label, **kw)
    for j, (label, values) in enumerate((published or {}).items()):
        kw = dict(ls="none", marker="s", ms=8, mfc="none", mew=1.5,
                  color=colors[j] if cmap and j < len(norms) else COLORS["reference"])
        kw.update((styles or {}).get(label, {}))
        ax.plot(np.arange(1, len(values) + 1), values, label=label, **kw)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set(xlabel="hidden layer l (1 = nearest the input)", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return ax


def plot_layer_histograms(values_per_layer, layers=None, ax=None, bins: int = 60, xlabel: str = "activation value",
                          title: str = "Distribution per layer", value_range=None, cmap: str = "viridis",
                          standardize: bool = False):
    """Glorot-style overlaid histograms (density, step lines) of selected layers' values.

    ``values_per_layer[l-1]`` holds layer l's values (any shape); ``layers`` are 1-based.
    ``value_range`` fixes the bins (give two panels the same range to compare them).
    ``standardize``: draw each layer's z-scores (value - mean) / std (the legend gives mean and
    std), so layers whose scales differ by orders of magnitude all keep a visible shape.
    """
    import numpy as np

    ax = get_ax(ax)
    n = len(values_per_layer)
    layers = list(layers) if layers is not None else sorted(set(np.linspace(1, n, min(n, 5)).round().astype(int)))
    colors = plt.get_cmap(cmap)(np.linspace(0.0, 0.9, len(layers)))
    for c, l in zip(colors, layers):
        v = np.asarray(values_per_layer[l - 1], dtype=float).ravel()
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        label = f"layer {l}"
        if standardize:
            mean, std = float(v.mean()), float(v.std())
            v = (v - mean) / std if std > 0 else v - mean
            label += f" (mean {mean:.2g}, std {std:.2g})"
        density, edges = np.histogram(v, bins=bins, range=value_range, density=True)
        # the outline hist(histtype="step") draws, as one line: a patch costs several times more to add
        ax.plot(np.repeat(edges, 2), np.concatenate([[0.0], np.repeat(density, 2), [0.0]]), color=c, lw=1.5,
                label=label)
    ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
    ax.set(xlabel=xlabel, ylabel="density", title=title)
    ax.legend(fontsize=8)
    return ax


def plot_training_curves(histories: dict, ax=None, key: str = "loss", ylabel: str = "training loss (cross-entropy)",
                         title: str = "Training curves"):
    """One curve per ``{label: History}`` (per epoch, or per step with ``key="step_loss"``)."""
    import numpy as np

    ax = get_ax(ax)
    for label, h in histories.items():
        values = np.asarray(getattr(h, key), dtype=float)
        x = np.arange(1, values.size + 1)
        ax.plot(x, values, label=label, color=_act_color(label, COLORS["forward"]))
    ax.set(xlabel="epoch" if key != "step_loss" else "step", ylabel=ylabel, title=title)
    ax.legend()
    return ax


def plot_gradient_flow(flow, axes=None, title: str | None = None):
    """The widget's picture of a :class:`~backprop_lib.diagnostics.GradientFlow`: per-layer gradient
    norms (log scale) on the left, activation histograms of a few layers on the right as z-scores
    (each layer's own mean and std are in the legend), so a layer of huge activations keeps its shape.

    ``title`` (default: "activation + init" from the flow's config) names the net on the left.
    """
    import numpy as np

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    ax, hx = axes
    layers = np.arange(1, flow.output_norms.size + 1)
    with np.errstate(all="ignore"):
        ax.plot(layers, flow.output_norms, color=COLORS["backward"], marker="o", ms=3,
                label=r"$\|\partial L/\partial a_l\|$ (reaching layer l)")
        ax.plot(layers, flow.weight_norms, color=COLORS["forward"], marker=".", ms=3, lw=1,
                label=r"$\|\partial L/\partial W_l\|$")
        if flow.config.get("clip_norm") is not None:
            ax.plot(layers, flow.clipped_weight_norms, color=COLORS["error"], ls="--", lw=1,
                    label=r"$\|\partial L/\partial W_l\|$ after clipping")
    ax.set_yscale("log")
    cfg = flow.config
    res = f", residual s={cfg['residual_scale']:.2f}" if cfg.get("residual") else ""
    ax.set(xlabel="hidden layer l (1 = nearest the input)", ylabel="gradient norm",
           title=(title or f"{cfg.get('activation')} + {cfg.get('init')}") + res)
    ax.legend(fontsize=8)
    plot_layer_histograms(flow.activations, ax=hx, standardize=True, value_range=(-4.0, 6.0),
                          xlabel=r"(a_l - mean) / std, per layer", title="activations $a_l$ per layer, standardised")
    return axes
