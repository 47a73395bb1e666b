"""Plot helpers shared by the notebooks, drawn with matplotlib only.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the
axes it drew on; notebooks end plot cells with ``plt.show()``. One colour per concept
across the whole course lives in :data:`COLORS`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["COLORS", "get_ax", "setup_style"]

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
    """Course-wide matplotlib defaults: readable at the default notebook width."""
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


# =============================================================================
# 01 chain rule
# =============================================================================

import numpy as np


def plot_secant_tangent(data: dict, ax=None):
    """Draw the output of :func:`backprop_lib.widgets.secant_tangent`.

    The function (blue), its tangent at ``x`` (green, the exact slope), the forward
    secant through ``x, x+h`` (purple, dashed) and the central secant through
    ``x-h, x+h`` (purple, solid), with both slopes and their errors in a text box.
    """
    ax = get_ax(ax)
    x, fx = data["x"], data["fx"]
    ax.plot(data["grid"], data["curve"], color=COLORS["forward"], lw=2, label=f"f(x) = {data['label']}")
    ax.plot(data["grid"], data["tangent"], color=COLORS["reference"], lw=1.5, label=f"tangent, slope {data['exact']:.4f}")
    ax.plot(data["grid"], data["forward_line"], color=COLORS["numerical"], ls="--", lw=1.2,
            label=f"forward secant, slope {data['forward']:.4f}")
    ax.plot(data["grid"], data["central_line"], color=COLORS["numerical"], ls="-", lw=1.2, alpha=0.7,
            label=f"central secant, slope {data['central']:.4f}")
    (xm, fm), (xp, fp) = data["central_points"]
    ax.plot([xm, x, xp], [fm, fx, fp], "o", color=COLORS["numerical"], ms=5)
    ax.plot([x], [fx], "o", color=COLORS["reference"], ms=6)
    lo, hi = float(np.min(data["curve"])), float(np.max(data["curve"]))
    pad = 0.15 * (hi - lo) + 1e-9
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(data["grid"][0], data["grid"][-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(f"{data['label']} at x = {x:.2f}, h = {data['h']:.1e}")
    text = (f"exact f'(x) = {data['exact']:.6f}\n"
            f"forward error = {data['forward_error']:.2e}\n"
            f"central error = {data['central_error']:.2e}")
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", ha="left", family="monospace", fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": COLORS["neutral"]})
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_difference_errors(errors: dict, ax=None, *, eps: float = float(np.finfo(np.float64).eps),
                           mark_optimum: bool = True):
    r"""The V-shaped error-vs-h plot on log-log axes.

    ``errors`` is the output of :func:`backprop_lib.gradcheck.difference_errors` (or
    an average of several): keys ``"h"``, ``"forward"``, ``"central"``. With
    ``mark_optimum`` the measured minimum of each curve is marked (dot) and the
    theoretical optimum :math:`\varepsilon^{1/2}` (forward) / :math:`\varepsilon^{1/3}`
    (central) drawn as a dotted vertical line.
    """
    ax = get_ax(ax)
    hs = np.asarray(errors["h"], dtype=np.float64)
    tiny = np.finfo(np.float64).tiny  # an exact 0 error cannot be drawn on log axes
    for key, colour, order in (("forward", COLORS["forward"], 1), ("central", COLORS["numerical"], 2)):
        err = np.maximum(np.asarray(errors[key], dtype=np.float64), tiny)
        ax.loglog(hs, err, "-", color=colour, lw=1.5, label=f"{key} difference, truncation O(h^{order})")
        if mark_optimum:
            i = int(np.argmin(err))
            ax.loglog(hs[i], err[i], "o", color=colour, ms=7, mec="black",
                      label=f"measured best h = {hs[i]:.0e}")
            ax.axvline(eps ** (1.0 / (order + 1)), color=colour, ls=":", lw=1.2,
                       label=f"theory eps^(1/{order + 1}) = {eps ** (1.0 / (order + 1)):.1e}")
    ax.loglog(hs, eps / hs, color=COLORS["error"], ls="--", lw=1, label="round-off ~ eps / h")
    ax.set_xlabel("step size h")
    ax.set_ylabel("absolute error of the derivative")
    ax.set_title("Truncation error falls with h, round-off error grows as 1/h")
    ax.legend(fontsize=8, loc="upper center", ncol=2)
    positive = np.concatenate([np.asarray(errors[k])[np.asarray(errors[k]) > 0] for k in ("forward", "central")])
    if positive.size:
        ax.set_ylim(positive.min() / 3, positive.max() * 1e3)
    return ax


def plot_gradient_field(f, grad, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), ax=None, *, num: int = 121,
                        arrows: int = 13, levels: int = 20):
    r"""Contour plot of ``f(x, y)`` with arrows of its gradient :math:`\nabla f`.

    ``f(x, y)`` and ``grad(x, y) -> (df/dx, df/dy)`` must work elementwise on arrays.
    The arrows (orange, the backward colour) point uphill, perpendicular to the contours.
    """
    ax = get_ax(ax)
    xs, ys = np.linspace(*xlim, num), np.linspace(*ylim, num)
    X, Y = np.meshgrid(xs, ys)
    cs = ax.contourf(X, Y, f(X, Y), levels=levels, cmap="Blues")
    ax.contour(X, Y, f(X, Y), levels=levels, colors=COLORS["forward"], linewidths=0.4)
    ax.figure.colorbar(cs, ax=ax, label="f(x, y)")
    qx, qy = np.linspace(*xlim, arrows), np.linspace(*ylim, arrows)
    QX, QY = np.meshgrid(qx, qy)
    gx, gy = grad(QX, QY)
    ax.quiver(QX, QY, gx, gy, color=COLORS["backward"], angles="xy", label="gradient (points uphill)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal")
    ax.set_title("Contours of f and its gradient")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def power_law_fit(x, y) -> tuple[float, float]:
    r"""Least-squares fit of :math:`y = c\,x^p` in log-log space on the larger half of ``x``.

    The small sizes are dominated by fixed overheads, so only ``x >= median(x)`` is used.
    Returns ``(c, p)``. ``x`` and ``y`` are positive 1-D arrays of the same length (>= 2).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got shapes {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for a log-log fit")
    big = x >= np.median(x)
    if big.sum() < 2:
        big = np.ones_like(x, dtype=bool)
    p, logc = np.polyfit(np.log(x[big]), np.log(y[big]), 1)
    return float(np.exp(logc)), float(p)


def plot_gradient_cost(W, t_numerical, t_backward, ax=None, *, extrapolate_to: float | None = None):
    """Measured time for one gradient by finite differences vs analytically, log-log.

    ``W``: parameter counts; ``t_numerical``, ``t_backward``: seconds, same length.
    With ``extrapolate_to`` each series gets the power-law fit of :func:`power_law_fit`
    drawn as a dashed line up to that size. Returns the axes.
    """
    ax = get_ax(ax)
    W = np.asarray(W, dtype=np.float64)
    series = (("finite differences (2W evaluations)", np.asarray(t_numerical, dtype=np.float64), COLORS["numerical"]),
              ("analytic gradient (1 forward + 1 backward)", np.asarray(t_backward, dtype=np.float64), COLORS["backward"]))
    for label, t, colour in series:
        if t.shape != W.shape:
            raise ValueError(f"timings must have the shape of W {W.shape}, got {t.shape}")
        ax.loglog(W, t, "o-", color=colour, label=label)
        if extrapolate_to is not None:
            c, p = power_law_fit(W, t)
            Wx = np.geomspace(np.median(W), extrapolate_to, 50)
            ax.loglog(Wx, c * Wx**p, "--", color=colour, lw=1, label=f"fit ~ W^{p:.1f}")
    for seconds, text in ((1.0, "1 second"), (3600.0, "1 hour"), (86400.0, "1 day")):
        ax.axhline(seconds, color=COLORS["neutral"], lw=0.8, ls=":")
        ax.text(W[0], seconds * 1.3, text, color=COLORS["neutral"], fontsize=8)
    ax.set_xlabel("number of parameters W")
    ax.set_ylabel("time for one gradient (s)")
    ax.set_title("Finite differences cost 2W loss evaluations, the analytic gradient about two")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.12, 0.97))
    return ax


__all__ += ["plot_secant_tangent", "plot_difference_errors", "plot_gradient_field", "power_law_fit",
            "plot_gradient_cost"]



# =============================================================================
# 02 computational graph
# =============================================================================

import numpy as np  # noqa: E402  (kept inside this section for clean merges)

def _graph_layout(root):
    """Columns and rows for :func:`draw_graph`: value nodes on even columns, op nodes between."""
    from .engine import topological_order

    order = topological_order(root)
    users: dict = {}
    for node in order:
        for child in node.inputs:
            users.setdefault(child, []).append(node)
    depth: dict = {}
    for node in order:  # longest path from the leaves
        depth[node] = 1 + max((depth[c] for c in node.inputs), default=-1)
    for node in order:  # pull leaves right, next to their first user
        if not node.inputs and node in users:
            depth[node] = min(depth[u] for u in users[node]) - 1
    col = {node: 2 * depth[node] for node in order}
    columns: dict = {}
    for node in order:
        columns.setdefault(col[node], []).append(node)
    y: dict = {}
    for c in sorted(columns):  # barycentre ordering, left to right
        nodes = columns[c]
        first = {n: i for i, n in enumerate(nodes)}

        def key(n, first=first):
            ys = [y[ch] for ch in n.inputs if ch in y]
            return (sum(ys) / len(ys), first[n]) if ys else (-first[n] + len(first) / 2, first[n])

        nodes.sort(key=key, reverse=True)
        for i, n in enumerate(nodes):
            y[n] = (len(nodes) - 1) / 2 - i
    return order, col, y, max(len(v) for v in columns.values())


def draw_graph(root, ax=None, highlight=None, show_grad=True, grads=None):
    """Draw the computational graph that ends at ``root`` (a ``Value``), left to right.

    Value nodes are boxes with their label, ``data`` (blue edge) and ``grad`` (orange);
    operation nodes are grey circles between a node and its inputs. ``highlight`` (a node
    or a list of nodes) gets a thick orange frame. ``grads`` (a dict node -> grad, as in
    :func:`backprop_lib.engine.backward_steps`) overrides the stored ``.grad``; nodes
    missing from it show ``grad ?``. Matplotlib only; readable up to about 40 nodes.
    """
    order, col, y, height = _graph_layout(root)
    width = max(col.values()) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 1.25 * width + 1), max(2.0, 1.0 * height + 0.6)))
    marked = set() if highlight is None else set(highlight if isinstance(highlight, (list, tuple, set)) else [highlight])
    fs = 9 if len(order) <= 20 else 7.5
    boxes = {}
    for node in order:
        lines = [node.label] if node.label else []
        lines.append(f"data {node.data:.4f}")
        if show_grad:
            g = node.grad if grads is None else grads.get(node)
            lines.append("grad ?" if g is None else f"grad {g:.4f}")
        hot = node in marked
        boxes[node] = ax.text(
            col[node], y[node], "\n".join(lines), ha="center", va="center", fontsize=fs, zorder=3,
            bbox=dict(boxstyle="round,pad=0.35", fc="#e8f1fa" if not hot else "#fff1e0",
                      ec=COLORS["backward"] if hot else COLORS["forward"], lw=3.0 if hot else 1.2),
        )
    for node in order:
        if not node.inputs:
            continue
        xo, yo = col[node] - 1, y[node]
        circle = ax.text(xo, yo, node.op, ha="center", va="center", fontsize=fs, zorder=3,
                         bbox=dict(boxstyle="circle,pad=0.3", fc="#eeeeee", ec=COLORS["neutral"], lw=1.0))
        arrow = dict(arrowstyle="-|>", mutation_scale=11, color=COLORS["neutral"], lw=1.0, shrinkA=0, shrinkB=0)
        ax.annotate("", xy=(col[node], yo), xytext=(xo, yo),
                    arrowprops=dict(arrow, patchA=circle.get_bbox_patch(), patchB=boxes[node].get_bbox_patch()))
        for child in dict.fromkeys(node.inputs):  # a node used twice gets one arrow
            ax.annotate("", xy=(xo, yo), xytext=(col[child], y[child]),
                        arrowprops=dict(arrow, patchA=boxes[child].get_bbox_patch(), patchB=circle.get_bbox_patch()))
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-height / 2 - 0.1, height / 2 + 0.1)
    ax.set_axis_off()
    return ax


def plot_decision_regions(predict, X, y, ax=None, title=None, resolution=200, margin=0.5):
    """Shade where ``predict`` (a function (N, 2) -> (N,) of probabilities) says 1, and scatter ``(X, y)``.

    The 0.5 contour is the decision boundary (drawn in black).
    """
    ax = get_ax(ax, figsize=(4.5, 4.0))
    X = np.asarray(X, dtype=np.float64)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    p = np.asarray(predict(np.column_stack([gx.ravel(), gy.ravel()])), dtype=np.float64).reshape(gx.shape)
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35, vmin=0, vmax=1)
    if p.min() < 0.5 < p.max():
        ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    _scatter_classes(ax, X, y)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def _scatter_classes(ax, X, y):
    y = np.asarray(y) > 0.5
    ax.scatter(X[~y, 0], X[~y, 1], c=COLORS["forward"], marker="o", edgecolors="k", lw=0.5, label="class 0")
    ax.scatter(X[y, 0], X[y, 1], c=COLORS["error"], marker="s", edgecolors="k", lw=0.5, label="class 1")
    ax.legend(loc="best", fontsize=8, frameon=True)


def plot_hidden_space(H, y, w=None, b=None, ax=None, title=None):
    """Scatter the hidden activations ``H`` (N, 2) coloured by class, with the output unit's line
    :math:`w_1 h_1 + w_2 h_2 + b = 0` when ``w`` (2,) and ``b`` are given."""
    ax = get_ax(ax, figsize=(4.5, 4.0))
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[1] != 2:
        raise ValueError(f"H must have shape (N, 2), got {H.shape}")
    _scatter_classes(ax, H, y)
    if w is not None:
        w = np.asarray(w, dtype=np.float64).ravel()
        lo, hi = H.min(axis=0) - 0.2, H.max(axis=0) + 0.2
        if abs(w[1]) > abs(w[0]):
            xs = np.linspace(lo[0], hi[0], 50)
            ax.plot(xs, -(w[0] * xs + b) / w[1], color="k", lw=1.5, label="output boundary")
        else:
            ys = np.linspace(lo[1], hi[1], 50)
            ax.plot(-(w[1] * ys + b) / w[0], ys, color="k", lw=1.5, label="output boundary")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.legend(loc="best", fontsize=8, frameon=True)
    ax.set_xlabel("hidden unit 1, $h_1$")
    ax.set_ylabel("hidden unit 2, $h_2$")
    if title:
        ax.set_title(title)
    return ax


__all__ += ["draw_graph", "plot_decision_regions", "plot_hidden_space"]


# =============================================================================
# 03 layerwise delta
# =============================================================================

import numpy as _np


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


def plot_delta_heatmap(deltas, ax=None, title: str = r"per-layer error terms $\delta_l$ for one example"):
    """One row per layer, one cell per unit (layers padded with blanks), diverging colours around 0."""
    ax = get_ax(ax, figsize=(8, 1.0 + 0.6 * len(deltas)))
    width = max(len(d) for d in deltas)
    grid = _np.full((len(deltas), width), _np.nan)
    for i, d in enumerate(deltas):
        grid[i, : len(d)] = d
    lim = float(_np.nanmax(_np.abs(grid))) or 1.0
    cmap = plt.get_cmap("PuOr_r").with_extremes(bad="white")
    im = ax.imshow(_np.ma.masked_invalid(grid), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto",
                   interpolation="nearest")
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
    names = ["one forward\npass", "backprop\n(forward + backward)", f"finite differences\n({cost.fd_forward_passes} forwards)"]
    times = [cost.forward_seconds, cost.backprop_seconds, cost.fd_seconds]
    colors = [COLORS["forward"], COLORS["backward"], COLORS["numerical"]]
    ax.bar(names, times, color=colors)
    ax.set_yscale("log")
    ax.set_ylabel("time (seconds, log scale)")
    ax.set_title(f"gradient of all {cost.num_params} parameters")
    return ax


__all__ += ["plot_learning_speed", "plot_weight_rows", "plot_training_history", "plot_confusion_matrix",
            "plot_digit_grid", "plot_delta_heatmap", "plot_backprop_vs_fd_cost"]




# =============================================================================
# 04 vanishing gradients
# =============================================================================



# =============================================================================
# 05 checkpointing
# =============================================================================

__all__ += ["plot_schedule", "plot_memory_vs_depth", "plot_time_overhead", "plot_revolve_tradeoff",
            "plot_underflow"]


def plot_schedule(schedule, ax=None, title: str | None = None):
    """Draw a checkpointing :class:`~backprop_lib.checkpoint.Schedule`: time on x, layer on y.

    Forward advances are blue lines going up, each reversed layer an orange step down
    (its recording re-run and backward), snapshots green squares with a faint green bar
    while the slot holds them, restores grey dotted jumps back to a held state.
    """
    ax = get_ax(ax, figsize=(8, 4))
    occupancy = schedule.occupancy()
    timeline = schedule.timeline()
    t_end = timeline[-1][0] + 1 if timeline else 1
    cur = 0
    first = {"advance": True, "reverse": True, "snapshot": True, "restore": True}

    def label(kind, text):
        if first[kind]:
            first[kind] = False
            return text
        return None

    since: dict[int, tuple[int, float]] = {0: (0, 0.0)}  # slot -> (state, time stored)
    for (t, a), held in zip(timeline, occupancy):
        if a.kind == "advance":
            ax.plot([t, t + a.end - a.start], [a.start, a.end], color=COLORS["forward"], lw=2,
                    label=label("advance", "forward advance (nothing stored)"))
            cur = a.end
        elif a.kind == "reverse":
            ax.annotate("", xy=(t + 1, a.start), xytext=(t, a.end),
                        arrowprops=dict(arrowstyle="-|>", color=COLORS["backward"], lw=2))
            ax.plot([], [], color=COLORS["backward"], lw=2, label=label("reverse", "reverse a layer (re-run + backward)"))
            cur = a.start
        elif a.kind == "snapshot":
            ax.plot([t], [a.start], "s", color=COLORS["reference"], ms=7, label=label("snapshot", "snapshot (slot)"))
            since[a.slot] = (a.start, t)
        else:
            ax.plot([t, t], [cur, a.start], ":", color=COLORS["neutral"], lw=1.2, label=label("restore", "restore"))
            cur = a.start
        for slot in list(since):
            if slot not in held or held[slot] != since[slot][0]:
                state, t0 = since.pop(slot)
                ax.plot([t0, t], [state, state], color=COLORS["reference"], alpha=0.25, lw=5, solid_capstyle="butt")
    for slot, (state, t0) in since.items():
        ax.plot([t0, t_end], [state, state], color=COLORS["reference"], alpha=0.25, lw=5, solid_capstyle="butt")
    ax.set_xlabel("time (layer steps: one forward or one reverse each)")
    ax.set_ylabel("layer state (0 = input X)")
    ax.set_ylim(-0.5, schedule.n + 0.5)
    ax.set_xlim(-0.5, t_end + 0.5)
    ax.set_title(title or f"revolve schedule: n={schedule.n} layers, {schedule.slots} slots, "
                          f"{schedule.advances} advances")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_memory_vs_depth(depths, peaks: dict, ax=None, ylabel: str = "peak memory (MiB)", scale: float = 2.0 ** -20,
                         title: str = "Memory of backprop vs depth (tracemalloc)"):
    """Peak memory per strategy (``peaks[name]`` aligned with ``depths``) on log-log axes."""
    ax = get_ax(ax)
    for name, values in peaks.items():
        ax.plot(depths, [v * scale for v in values], "o-", color=COLORS.get(name.split()[0], None), label=name)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("depth n (layers)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_time_overhead(depths, seconds: dict, reference: str = "store_all", ax=None):
    """Time of each strategy divided by the reference strategy's, per depth."""
    ax = get_ax(ax)
    ref = seconds[reference]
    for name, values in seconds.items():
        ax.plot(depths, [v / r for v, r in zip(values, ref)], "o-", color=COLORS.get(name.split()[0], None), label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("depth n (layers)")
    ax.set_ylabel(f"time / time of {reference}")
    ax.set_title("Time overhead of recomputation")
    ax.legend()
    return ax


def plot_revolve_tradeoff(n: int, slots: int | None = None, ax=None):
    """Extra forward layer evaluations vs number of slots (revolve), current ``slots`` marked.

    Extra = the advances of the optimal schedule plus the n recording re-runs, i.e. the
    layer forwards beyond the n of a plain forward pass. Memory = arrays stored at the
    peak (revolve: its slots plus the one layer cache being reversed); store_all and the
    sqrt strategy are marked for comparison.
    """
    import math

    from .checkpoint import revolve_cost, sqrt_segments

    ax = get_ax(ax)
    s = list(range(1, n + 1))
    extra = [revolve_cost(n, k) + n for k in s]
    ax.plot([k + 1 for k in s], extra, "-", color=COLORS["revolve"], label="revolve, slots = 1..n (optimal)")
    ax.plot([n + 1], [0], "s", color=COLORS["store_all"], label=f"store_all: {n + 1} stored, 0 extra")
    k = math.isqrt(n - 1) + 1
    stored_sqrt = len(sqrt_segments(n)) - 1 + k
    ax.plot([stored_sqrt], [n], "D", color=COLORS["sqrt"], label=f"sqrt: {stored_sqrt} stored, {n} extra")
    if slots is not None:
        ax.plot([slots + 1], [revolve_cost(n, slots) + n], "o", color=COLORS["error"], ms=9,
                label=f"revolve slots={slots}: {slots + 1} stored, {revolve_cost(n, slots) + n} extra")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("memory: arrays stored at the peak")
    ax.set_ylabel("extra layer forwards")
    ax.set_title(f"Memory vs recomputation, n={n}")
    ax.legend(fontsize=8)
    return ax


def plot_underflow(grads, scales, ax=None):
    """Fraction of nonzero gradient entries lost to float16 underflow vs the loss scale."""
    from .checkpoint import underflow_fraction

    ax = get_ax(ax)
    for name, g in grads.items():
        ax.plot(scales, [100 * underflow_fraction(g, s) for s in scales], "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("loss scale S")
    ax.set_ylabel("entries flushed to 0 in float16 (%)")
    ax.set_title("float16 gradient underflow and loss scaling")
    ax.legend(fontsize=8)
    return ax
