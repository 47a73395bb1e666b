"""Widgets of notebook 03 (layerwise delta)."""

from __future__ import annotations

__all__ = ["delta_training_widget", "delta_heatmap_widget"]


def delta_training_widget(split=None, n_train: int = 400, epochs: int = 6):
    """Learning rate, hidden size, initialisation, batch size -> live loss curve on the digits.

    Every change runs :func:`backprop_lib.delta.quick_digits_run` (a short run on ``n_train``
    digits, well under a second) and redraws the train and test loss.
    """
    import ipywidgets as W

    from ..data import digits
    from ..delta import quick_digits_run
    from ..plotting import COLORS, LiveFigure

    split = digits() if split is None else split
    lr = W.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.25, description="learning rate",
                          continuous_update=False, readout_format=".3g")
    hidden = W.Dropdown(options=[4, 8, 16, 32, 64, 128], value=32, description="hidden units")
    init = W.Dropdown(options=["he", "xavier", "normal", "zeros"], value="he", description="init")
    batch = W.Dropdown(options=[8, 16, 32, 64, 128], value=32, description="batch size")

    def run(state):
        return quick_digits_run(lr=state["lr"], hidden=state["hidden"], init=state["init"],
                                batch_size=state["batch"], epochs=epochs, n_train=n_train, split=split)

    def draw(live, state, history):
        ax = live.axes
        ax.cla()
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

    live = LiveFigure((6.5, 3.4), {"lr": lr, "hidden": hidden, "init": init, "batch": batch}, draw, compute=run)
    for w in (lr, hidden, init, batch):
        w.observe(live.show, names="value")
    live.show()
    box = W.VBox([W.HBox([lr, hidden]), W.HBox([init, batch]), live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box


def delta_heatmap_widget(net, X, y):
    """Choose an example -> its image and the per-layer deltas (:func:`backprop_lib.delta.example_deltas`)."""
    import ipywidgets as W
    import numpy as np

    from ..delta import example_deltas
    from ..plotting import LiveFigure, delta_grid, plot_delta_heatmap

    index = W.IntSlider(value=0, min=0, max=len(X) - 1, description="example", continuous_update=False)
    side = int(round(np.sqrt(X.shape[1])))

    def example(state):
        i = state["index"]
        return i, example_deltas(net, X[i], int(y[i])), int(net.predict(X[i:i + 1])[0])

    def draw(live, state, shown):
        i, deltas, pred = shown
        ax_img, ax_heat = live.axes
        ax_img.set_title(f"true {int(y[i])}, predicted {pred}")
        if not ax_img.images:  # the first draw makes the artists (and the colour bar) ...
            ax_img.imshow(X[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax_img.axis("off")
            plot_delta_heatmap(deltas, ax=ax_heat)
            return
        ax_img.images[0].set_data(X[i].reshape(side, side))  # ... later ones change their data
        grid, lim = delta_grid(deltas)
        heat = ax_heat.images[0]
        heat.set_data(grid)
        heat.set_clim(-lim, lim)  # the colour bar follows

    live = LiveFigure((10, 2.6), {"index": index}, draw, compute=example, nrows=1, ncols=2,
                      gridspec_kw={"width_ratios": [1, 5]})
    index.observe(live.show, names="value")
    live.show()
    box = W.VBox([index, live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box
