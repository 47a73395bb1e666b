"""Plot helpers of notebook 02 (computational graph)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import COLORS, get_ax

__all__ = ["draw_graph", "graph_figsize", "plot_decision_regions", "plot_hidden_space"]


def _graph_layout(root):
    """Columns and rows for :func:`draw_graph`: value nodes on even columns, op nodes between."""
    from ..engine import topological_order

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


def graph_figsize(root) -> tuple[float, float]:
    """The figure size (inches) at which :func:`draw_graph` draws ``root``'s graph readably."""
    _, col, _, height = _graph_layout(root)
    width = max(col.values()) + 1
    return (max(4.0, 1.25 * width + 1), max(2.0, 1.0 * height + 0.6))


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
        _, ax = plt.subplots(figsize=graph_figsize(root))
    if highlight is None:
        marked = set()
    else:
        marked = set(highlight if isinstance(highlight, (list, tuple, set)) else [highlight])
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
