"""Widgets of notebook 03 (layerwise delta)."""

from __future__ import annotations

__all__ = ["delta_training_widget", "delta_heatmap_widget"]


def delta_training_widget(split=None, n_train: int = 400, epochs: int = 6):
    """Learning rate, hidden size, initialisation, batch size -> live loss curve on the digits.

    Every change runs :func:`backprop_lib.delta.quick_digits_run` (a short run on ``n_train``
    digits, well under a second) and redraws the train and test loss.
    """
    import ipywidgets as W
    from IPython.display import display

    from ..data import digits
    from ..delta import quick_digits_run
    from ..plotting import COLORS, new_figure, redraw_into

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
        with redraw_into(out):
            fig = new_figure(figsize=(6.5, 3.4))
            ax = fig.subplots()
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
            fig.tight_layout()
            display(fig)

    for w in (lr, hidden, init, batch):
        w.observe(update, names="value")
    update()
    return W.VBox([W.HBox([lr, hidden]), W.HBox([init, batch]), out])


def delta_heatmap_widget(net, X, y):
    """Choose an example -> its image and the per-layer deltas (:func:`backprop_lib.delta.example_deltas`)."""
    import ipywidgets as W
    import numpy as np
    from IPython.display import display

    from ..delta import example_deltas
    from ..plotting import new_figure, plot_delta_heatmap, redraw_into

    index = W.IntSlider(value=0, min=0, max=len(X) - 1, description="example", continuous_update=False)
    out = W.Output()

    def update(*_):
        i = index.value
        deltas = example_deltas(net, X[i], int(y[i]))
        pred = int(net.predict(X[i:i + 1])[0])
        with redraw_into(out):
            fig = new_figure(figsize=(10, 2.6))
            ax_img, ax_heat = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 5]})
            side = int(round(np.sqrt(X.shape[1])))
            ax_img.imshow(X[i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax_img.set_title(f"true {int(y[i])}, predicted {pred}")
            ax_img.axis("off")
            plot_delta_heatmap(deltas, ax=ax_heat)
            display(fig)

    index.observe(update, names="value")
    update()
    return W.VBox([index, out])
