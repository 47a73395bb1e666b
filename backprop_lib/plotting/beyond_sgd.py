"""Plot helpers of notebook 06 (beyond SGD)."""

from __future__ import annotations

import matplotlib
import numpy as np

from .style import COLORS, get_ax

__all__ = [
    "OPTIMIZER_COLORS",
    "plot_surface_paths",
    "RACE_GAP_FLOOR",
    "plot_race_scene",
    "set_race_surface",
    "update_race",
    "plot_curves",
    "plot_pipeline_timeline",
    "plot_loss_slice",
]


#: Colours of the optimisers of notebook 06 (one per optimiser, the same in every plot).
OPTIMIZER_COLORS = {"SGD": "#444444", "momentum": "#1f77b4", "RMSProp": "#2ca02c", "Adam": "#e377c2"}
for _name, _colour in OPTIMIZER_COLORS.items():
    COLORS.setdefault(_name.lower(), _colour)


def plot_surface_paths(surface, paths: dict, ax=None, *, num: int = 151, levels: int = 18, title: str | None = None):
    """Contours of a 2-D test surface with optimiser trajectories drawn on it.

    ``surface`` is a :class:`backprop_lib.landscape.Surface` (or its name); ``paths`` maps a
    label to the visited points, shape (steps + 1, 2) (e.g. from
    :func:`backprop_lib.landscape.trajectory`). Labels that are keys of
    :data:`OPTIMIZER_COLORS` get their colour. Start = circle, end = square, minimum = star.
    Contour levels are log-spaced when the surface is non-negative.
    """
    from ..landscape import get_surface

    surface = get_surface(surface)
    ax = get_ax(ax)
    _contours(ax, surface, num, levels)
    ax.plot(*surface.minimum, "*", color=COLORS["reference"], ms=14, mec="black", label="minimum", zorder=5)
    for i, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=np.float64)
        colour = OPTIMIZER_COLORS.get(label, matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][i % 10])
        ax.plot(path[:, 0], path[:, 1], "-", color=colour, lw=1.4, marker="." if len(path) <= 201 else None, ms=3,
                label=f"{label}: loss {surface(path[-1]):.2g} after {len(path) - 1} steps")
        ax.plot(*path[-1], "s", color=colour, ms=6, mec="black", zorder=6)
    if paths:
        start = np.asarray(next(iter(paths.values())))[0]
        ax.plot(*start, "o", color="white", mec="black", ms=8, zorder=6, label="start")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"Optimisers on the {surface.name} surface")
    ax.legend(fontsize=7, loc="best")
    return ax


def _contours(ax, surface, num: int = 151, levels: int = 18):
    """The surface's contour lines on ``ax`` (log-spaced levels when it is non-negative)."""
    xs = np.linspace(surface.xlim[0], surface.xlim[1], num)
    ys = np.linspace(surface.ylim[0], surface.ylim[1], num)
    X, Y = np.meshgrid(xs, ys)
    Z = surface.f(X, Y)
    if Z.min() >= 0:
        lv = np.geomspace(max(Z.min(), 1e-3 * (Z.max() + 1e-12)) + 1e-12, Z.max(), levels)
        return ax.contour(X, Y, Z, levels=lv, cmap="Blues_r", linewidths=0.7), Z
    return ax.contour(X, Y, Z, levels=levels, cmap="Blues_r", linewidths=0.7), Z


#: The smallest loss gap drawn by :func:`plot_race_scene`: the widget adds 1e-16 to every gap
#: (a log axis has no 0), so a run that reached the minimum sits on the bottom line's 1e-16.
RACE_GAP_FLOOR = 1e-16


def plot_race_scene(axes, surface, names=tuple(OPTIMIZER_COLORS)):
    """The fixed part of notebook 06's race widget, for one surface (see :func:`set_race_surface`).

    Left: the surface's contours, axes and title, as :func:`plot_surface_paths` draws them;
    right: the loss gap (loss minus the minimum's loss, plus :data:`RACE_GAP_FLOOR`) against
    the step, on a log axis fixed for the surface, from below the floor to a decade above the
    largest gap any start in the window can have, so the loss axis stays put while sliders
    move and two settings' curves compare by eye. Returns the artists :func:`update_race` moves
    (all animated, drawn over the fixed part): per optimiser in ``names`` its path, end marker
    and gap curve, and the start and minimum markers; the step axis is animated too. The legend
    stands outside the left axes, in the fixed part.
    """
    ax, gx = axes
    ax.cla()
    gx.cla()
    artists: dict = {"axes": (ax, gx), "paths": {}, "ends": {}, "gaps": {}, "contours": None}
    for name in names:
        colour = OPTIMIZER_COLORS[name]
        artists["paths"][name], = ax.plot([], [], "-", color=colour, lw=1.4, ms=3, label=name, animated=True)
        artists["ends"][name], = ax.plot([], [], "s", color=colour, ms=6, mec="black", zorder=6, animated=True)
        artists["gaps"][name], = gx.plot([], [], color=colour, lw=1.5, animated=True)
    artists["minimum"], = ax.plot([], [], "*", color=COLORS["reference"], ms=14, mec="black", label="minimum",
                                  zorder=5, animated=True)
    artists["start"], = ax.plot([], [], "o", color="white", mec="black", ms=8, zorder=6, label="start",
                                animated=True)
    ax.set(xlabel="x", ylabel="y")
    # outside the axes, between the two panels: no path is ever drawn over it (lines are clipped
    # to their axes), so it stays in the fixed part instead of being drawn again at every move
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    gx.set_yscale("log")
    gx.set(xlabel="step", ylabel="loss - loss at the minimum", title="Distance to the minimum's loss")
    gx.xaxis.set_animated(True)  # its range is the step count: drawn per move, with the curves
    set_race_surface(artists, surface)
    return artists


def set_race_surface(artists: dict, surface) -> None:
    """Put the race widget's fixed part (from :func:`plot_race_scene`) on ``surface``: its contours
    (the old ones removed), window, title, minimum and loss range. The axes and their ticks are
    kept: making them anew costs more than the rest of a redraw."""
    from ..landscape import get_surface

    surface = get_surface(surface)
    ax, gx = artists["axes"]
    if artists["contours"] is not None:
        artists["contours"].remove()
    artists["contours"], Z = _contours(ax, surface)
    artists["minimum"].set_data([surface.minimum[0]], [surface.minimum[1]])
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_title(f"Optimisers on the {surface.name} surface")
    top = 10.0 ** np.ceil(np.log10(float(Z.max() - surface(surface.minimum)) + 1.0))
    gx.set_ylim(RACE_GAP_FLOOR / 10, 10 * top)


def update_race(artists: dict, surface, paths: dict):
    """Give the artists of :func:`plot_race_scene` the trajectories ``paths`` (name -> (steps + 1, 2)):
    each path (with a dot per step up to 200 steps), its end, its loss gap, the start, and the
    right panel's step axis (0 to the step count)."""
    from ..landscape import get_surface

    surface = get_surface(surface)
    artists["axes"][1].set_xlim(0, len(next(iter(paths.values()))) - 1)
    low = surface(surface.minimum)
    for name, path in paths.items():
        path = np.asarray(path, dtype=np.float64)
        artists["paths"][name].set_data(path[:, 0], path[:, 1])
        artists["paths"][name].set_marker("." if len(path) <= 201 else "None")
        artists["ends"][name].set_data([path[-1, 0]], [path[-1, 1]])
        with np.errstate(all="ignore"):
            gap = surface.f(path[:, 0], path[:, 1]) - low + RACE_GAP_FLOOR
        artists["gaps"][name].set_data(np.arange(len(gap)), gap)
    start = np.asarray(next(iter(paths.values())))[0]
    artists["start"].set_data([start[0]], [start[1]])


def plot_curves(curves: dict, ax=None, *, xlabel: str = "epoch", ylabel: str = "loss", log: bool = True,
                title: str | None = None, target: float | None = None):
    """One line per entry of ``curves`` (label -> values); optimiser labels get their colour.

    A label that starts with an optimiser's name (e.g. "Adam + cosine", "SGD, lr 0.5") gets its colour, dashed.

    ``log`` puts the y axis on a log scale; ``target`` draws a dotted horizontal line.
    """
    ax = get_ax(ax)
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=np.float64)
        first = label.split(" ")[0].rstrip(",;:")
        colour = OPTIMIZER_COLORS.get(first, matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][i % 10])
        style = "-" if label in OPTIMIZER_COLORS or first not in OPTIMIZER_COLORS else "--"
        ax.plot(np.arange(1, values.size + 1), values, color=colour, lw=1.6, ls=style, label=label)
    if target is not None:
        ax.axhline(target, color=COLORS["neutral"], ls=":", lw=1, label=f"target {target:g}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_pipeline_timeline(timeline, ax=None, *, title: str | None = None, unit: str = "ms"):
    """Gantt chart of a pipeline: one row per stage, forward blue, backward orange.

    ``timeline`` is a list of :class:`backprop_lib.parallel.Event` (from
    :func:`~backprop_lib.parallel.pipeline_loss_and_grads` or
    :func:`~backprop_lib.parallel.ideal_timeline`); every bar is labelled with its
    micro-batch. White gaps are the pipeline bubble, whose size is in the title.
    ``unit``: "ms" scales seconds to milliseconds, "" plots the raw numbers (time units).
    """
    from ..parallel import bubble_fraction

    ax = get_ax(ax)
    scale = 1000.0 if unit == "ms" else 1.0
    stages = sorted({e.stage for e in timeline})
    for e in timeline:
        colour = COLORS["forward"] if e.kind == "forward" else COLORS["backward"]
        width = (e.end - e.start) * scale
        ax.barh(e.stage, width, left=e.start * scale, height=0.6, color=colour, edgecolor="black", lw=0.5)
        ax.text(e.start * scale + width / 2, e.stage, str(e.microbatch), ha="center", va="center", fontsize=8,
                color="white")
    from matplotlib.patches import Patch

    handles = [Patch(color=COLORS["forward"], label="forward"), Patch(color=COLORS["backward"], label="backward")]
    ax.set_yticks(stages, [f"process {s}\n(stage {s})" for s in stages])
    ax.set_ylim(max(stages) + 0.6, min(stages) - 0.6)
    ax.set_xlabel(f"time ({unit})" if unit else "time (units)")
    bubble = bubble_fraction(timeline, stages=len(stages))
    ax.set_title((title + ": " if title else "") + f"idle (bubble) {100 * bubble:.0f}% of process time")
    ax.legend(handles=handles, fontsize=8, loc="upper right", bbox_to_anchor=(1.0, -0.12), ncol=2)
    ax.grid(axis="y", visible=False)
    return ax


def plot_loss_slice(alphas, betas, grid, ax=None, *, levels: int = 25, title: str | None = None):
    """Filled contours of a 2-D loss slice :math:`L(\\theta + \\alpha d_1 + \\beta d_2)` (log colour scale).

    ``grid`` has shape (len(betas), len(alphas)) as returned by
    :func:`backprop_lib.landscape.loss_surface_2d`; the trained weights are at (0, 0).
    """
    from matplotlib.colors import LogNorm

    ax = get_ax(ax)
    grid = np.asarray(grid, dtype=np.float64)
    lv = np.geomspace(grid.min(), grid.max(), levels)
    cs = ax.contourf(alphas, betas, grid, levels=lv, norm=LogNorm(), cmap="viridis")
    ax.contour(alphas, betas, grid, levels=lv, colors="white", linewidths=0.3)
    ax.figure.colorbar(cs, ax=ax, label="training loss (cross-entropy)", format="%.2g")
    ax.plot(0, 0, "*", color=COLORS["reference"], ms=14, mec="black", label="trained weights")
    ax.set_xlabel(r"$\alpha$ (random direction 1)")
    ax.set_ylabel(r"$\beta$ (random direction 2)")
    ax.set_title(title or "A 2-D slice of the loss around the trained weights")
    ax.legend(fontsize=8, loc="upper right")
    return ax
