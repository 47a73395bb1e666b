"""Plot helpers of notebook 03 (layerwise delta)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as _np

from .style import COLORS, get_ax

__all__ = [
    "plot_learning_speed",
    "plot_weight_rows",
    "plot_training_history",
    "plot_confusion_matrix",
    "plot_digit_grid",
    "delta_grid",
    "plot_delta_heatmap",
    "plot_backprop_vs_fd_cost",
]


def plot_learning_speed(curves: dict, ax=None):
    """Cost vs epoch of the single saturated neuron, one line per loss.

    ``curves`` maps a loss name ("mse", "cross_entropy") to the dict returned by
    :func:`backprop_lib.delta.single_neuron_curve`.
    """
    ax = get_ax(ax)
    style = {"mse": (COLORS["sigmoid"], r"quadratic $\frac{1}{2}(a-y)^2$: $\delta = (a-y)\,\sigma'(z)$"),
             "cross_entropy": (COLORS["backward"], r"cross-entropy: $\delta = a - y$")}
    for name, curve in curves.items():
        color, label = style.get(name, (None, name))
        ax.plot(curve["epoch"], curve["cost"], color=color, lw=2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch (one gradient step each)")
    ax.set_ylabel("cost (log scale)")
    ax.set_title("A saturated sigmoid neuron (w = b = 2, x = 1, target 0)")
    ax.legend()
    return ax


def plot_weight_rows(W, ax=None, title: str = "rows of $W_1$ (one row per hidden unit)"):
    """Show a weight matrix as an image: identical hidden units are identical rows."""
    ax = get_ax(ax)
    W = _np.asarray(W)
    lim = float(_np.max(_np.abs(W))) or 1.0
    im = ax.imshow(W, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label="weight value")
    ax.set_xlabel("input pixel j")
    ax.set_ylabel("hidden unit i")
    ax.set_title(title)
    ax.grid(False)
    return ax


def plot_training_history(history, axes=None, title: str = ""):
    """Two panels: loss per epoch (train and validation, log scale) and accuracy per epoch."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss, ax_acc = axes
    epochs = _np.arange(1, len(history.loss) + 1)
    ax_loss.plot(epochs, history.loss, color=COLORS["forward"], lw=2, label="train")
    if history.val_loss:
        ax_loss.plot(epochs, history.val_loss, color=COLORS["reference"], lw=2, ls="--", label="test")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mean cross-entropy (log scale)")
    ax_loss.set_title(f"loss {title}".strip())
    ax_loss.legend()
    ax_acc.plot(epochs, history.accuracy, color=COLORS["forward"], lw=2, label="train")
    if history.val_accuracy:
        ax_acc.plot(epochs, history.val_accuracy, color=COLORS["reference"], lw=2, ls="--", label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (fraction correct)")
    ax_acc.set_title(f"accuracy {title}".strip())
    ax_acc.legend()
    return axes


def plot_confusion_matrix(M, ax=None, title: str = "confusion matrix (test set)"):
    """``M[i, j]`` = examples of true class i predicted as j, with the counts written in."""
    ax = get_ax(ax, figsize=(5.2, 4.6))
    M = _np.asarray(M)
    im = ax.imshow(M, cmap="Blues")
    ax.figure.colorbar(im, ax=ax, label="number of images")
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if M[i, j]:
                ax.text(j, i, str(M[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if M[i, j] > M.max() / 2 else ("black" if i == j else COLORS["error"]))
    ax.set_xticks(range(M.shape[1]))
    ax.set_yticks(range(M.shape[0]))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    ax.grid(False)
    return ax


def plot_digit_grid(images, true, pred, axes=None, ncols: int = 8, side: int | None = None,
                    title: str = "misclassified test digits (true -> predicted)"):
    """A grid of flattened square images with "true -> predicted" labels; returns the axes array."""
    images = _np.asarray(images)
    n = len(images)
    side = side or int(round(_np.sqrt(images.shape[1])))
    nrows = max(1, int(_np.ceil(n / ncols)))
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.35 * nrows + 0.4), squeeze=False)
        fig.suptitle(title)
    flat = _np.asarray(axes).ravel()
    for k, ax in enumerate(flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{true[k]} -> {pred[k]}", fontsize=9, color=COLORS["error"])
    return axes


def delta_grid(deltas):
    """The picture of :func:`plot_delta_heatmap`: ``(grid, lim)``, one row per layer's deltas
    (shorter layers masked at the end) and the colour limit ``max |delta|`` (1 when all are 0)."""
    width = max(len(d) for d in deltas)
    grid = _np.full((len(deltas), width), _np.nan)
    for i, d in enumerate(deltas):
        grid[i, : len(d)] = d
    lim = float(_np.nanmax(_np.abs(grid))) or 1.0
    return _np.ma.masked_invalid(grid), lim


def plot_delta_heatmap(deltas, ax=None, title: str = r"per-layer error terms $\delta_l$ for one example"):
    """One row per layer, one cell per unit (layers padded with blanks), diverging colours around 0."""
    ax = get_ax(ax, figsize=(8, 1.0 + 0.6 * len(deltas)))
    grid, lim = delta_grid(deltas)
    cmap = plt.get_cmap("PuOr_r").with_extremes(bad="white")
    im = ax.imshow(grid, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label=r"$\delta = \partial \ell / \partial z$")
    ax.set_yticks(range(len(deltas)))
    ax.set_yticklabels([rf"$\delta_{i + 1}$ ({len(d)} units)" for i, d in enumerate(deltas)])
    ax.set_xlabel("unit index within the layer")
    ax.set_title(title)
    ax.grid(False)
    return ax


def plot_backprop_vs_fd_cost(cost, ax=None):
    """Bar chart (log scale) of the time for one full gradient: backprop vs finite differences."""
    ax = get_ax(ax, figsize=(7.5, 3.4))
    names = ["one forward\npass", "backprop\n(forward + backward)",
             f"finite differences\n({cost.fd_forward_passes} forwards)"]
    times = [cost.forward_seconds, cost.backprop_seconds, cost.fd_seconds]
    colors = [COLORS["forward"], COLORS["backward"], COLORS["numerical"]]
    ax.bar(names, times, color=colors)
    ax.set_yscale("log")
    ax.set_ylabel("time (seconds, log scale)")
    ax.set_title(f"gradient of all {cost.num_params} parameters")
    return ax
