"""Plot helpers of notebook 05 (checkpointing)."""

from __future__ import annotations

import math

from matplotlib.ticker import FuncFormatter

from .style import COLORS, get_ax

__all__ = [
    "plot_schedule",
    "plot_memory_vs_depth",
    "plot_time_overhead",
    "plot_revolve_tradeoff",
    "mark_revolve_slots",
    "plot_loss_scaling",
]


def plot_schedule(schedule, ax=None, title: str | None = None):
    """Draw a checkpointing :class:`~backprop_lib.checkpoint.Schedule`: time on x, layer on y.

    Forward advances are blue lines going up, each reversed layer an orange step down
    (its recording re-run and backward), snapshots green squares with a faint green bar
    while the slot holds them, restores grey dotted jumps back to a held state. Each kind
    is one artist (a collection), however long the schedule; the legend names all four kinds,
    whichever the schedule uses (the same legend for every schedule).
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = get_ax(ax, figsize=(8, 4))
    occupancy = schedule.occupancy()
    timeline = schedule.timeline()
    t_end = timeline[-1][0] + 1 if timeline else 1
    cur = 0
    advances, restores, bars, snapshots, arrows = [], [], [], [], []
    since: dict[int, tuple[int, float]] = {0: (0, 0.0)}  # slot -> (state, time stored)
    for (t, a), held in zip(timeline, occupancy):
        if a.kind == "advance":
            advances.append([(t, a.start), (t + a.end - a.start, a.end)])
            cur = a.end
        elif a.kind == "reverse":
            arrows.append((t, a.end, 1, a.start - a.end))
            cur = a.start
        elif a.kind == "snapshot":
            snapshots.append((t, a.start))
            since[a.slot] = (a.start, t)
        else:
            restores.append([(t, cur), (t, a.start)])
            cur = a.start
        for slot in list(since):
            if slot not in held or held[slot] != since[slot][0]:
                state, t0 = since.pop(slot)
                bars.append([(t0, state), (t, state)])
    bars += [[(t0, state), (t_end, state)] for state, t0 in since.values()]
    ax.add_collection(LineCollection(bars, colors=COLORS["reference"], alpha=0.25, linewidths=5, capstyle="butt"))
    ax.add_collection(LineCollection(advances, colors=COLORS["forward"], linewidths=2))
    ax.add_collection(LineCollection(restores, colors=COLORS["neutral"], linewidths=1.2, linestyles=":"))
    if arrows:
        x, y, u, v = zip(*arrows)
        ax.quiver(x, y, u, v, angles="xy", scale_units="xy", scale=1, color=COLORS["backward"], width=0.004,
                  headwidth=4, headlength=5, headaxislength=4.5)
    if snapshots:
        ax.plot(*zip(*snapshots), "s", color=COLORS["reference"], ms=7)
    handles = [
        Line2D([], [], color=COLORS["forward"], lw=2, label="forward advance (nothing stored)"),
        Line2D([], [], ls="none", marker="s", color=COLORS["reference"], ms=7, label="snapshot (slot)"),
        Line2D([], [], color=COLORS["backward"], lw=2, label="reverse a layer (re-run + backward)"),
        Line2D([], [], ls=":", color=COLORS["neutral"], lw=1.2, label="restore"),
    ]
    ax.set_xlabel("time (layer steps: one forward or one reverse each)")
    ax.set_ylabel("layer state (0 = input X)")
    ax.set_ylim(-0.5, schedule.n + 0.5)
    ax.set_xlim(-0.5, t_end + 0.5)
    ax.set_title(title or f"revolve schedule: n={schedule.n} layers, {schedule.slots} slots, "
                          f"{schedule.advances} advances")
    ax.legend(handles=handles, loc="upper right", fontsize=8)
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
    """Extra forwards vs memory for the three strategies, one cost model, current ``slots`` marked.

    Both axes come from :func:`~backprop_lib.checkpoint.strategy_cost`: memory = arrays of
    shape (N, width) held at the peak (a checkpoint 1, a layer cache :math:`(z_l, a_l)` 2),
    extra forwards = layer forwards beyond the n of one plain forward pass. Revolve is drawn
    for slots = 1..n (its curve ends at n + 2 arrays and n - 1 extra: its slots never hold
    the :math:`z_l`); store_all and sqrt are single points.
    """
    from ..checkpoint import strategy_cost

    ax = get_ax(ax)
    curve = [strategy_cost("revolve", n, k) for k in range(1, n + 1)]
    ax.plot([c.arrays for c in curve], [c.extra_forwards for c in curve], "-", color=COLORS["revolve"],
            label="revolve, slots = 1..n (optimal for its rules)")
    full = strategy_cost("store_all", n)
    ax.plot([full.arrays], [0], "s", color=COLORS["store_all"],
            label=f"store_all: {full.arrays} arrays, 0 extra")
    sq = strategy_cost("sqrt", n)
    ax.plot([sq.arrays], [sq.extra_forwards], "D", color=COLORS["sqrt"],
            label=f"sqrt: {sq.arrays} arrays, {sq.extra_forwards} extra")
    if slots is not None:
        ax.plot([], [], "o", color=COLORS["error"], ms=9, gid="revolve slots")
        mark_revolve_slots(ax, n, slots)
    ax.set_yscale("symlog", linthresh=1)
    # Counts read best as plain integers (0, 1, 10, 100), and plain labels keep matplotlib's
    # mathtext parser out of the widget's redraw: in JupyterLab that parser has intermittently
    # failed on "$\\mathdefault{10^{2}}$" during this callback (see the browser test).
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("memory: arrays (N x width) held at the peak")
    ax.set_ylabel("extra layer forwards (beyond one forward pass)")
    ax.set_title(f"Memory vs recomputation, n={n}")
    ax.legend(fontsize=8)
    return ax


def mark_revolve_slots(ax, n: int, slots: int, *, label: bool = True):
    """Move the "current slots" marker of :func:`plot_revolve_tradeoff`'s ``ax`` (drawn for n
    layers) to ``slots`` and return it. With ``label`` its legend label gives the slots and the
    two counts (the legend is made after); without, the label stays (a widget that moves the
    marker prints the counts elsewhere and keeps its legend)."""
    from ..checkpoint import strategy_cost

    marker = next(line for line in ax.get_lines() if line.get_gid() == "revolve slots")
    cur = strategy_cost("revolve", n, slots)
    marker.set_data([cur.arrays], [cur.extra_forwards])
    if label:
        marker.set_label(f"revolve slots={slots}: {cur.arrays} arrays, {cur.extra_forwards} extra")
    return marker


def plot_loss_scaling(grads, scales, ax=None):
    """Underflow and overflow of float16 gradients vs the loss scale, usable window shaded.

    For every array in ``grads`` (name -> gradient) and loss scale in ``scales``: the percentage
    of nonzero entries flushed to 0 (solid) and of entries that overflow to inf (dashed) after
    :func:`~backprop_lib.checkpoint.fp16_roundtrip`. The shaded band is
    :func:`~backprop_lib.checkpoint.loss_scale_window`: the scales where no array loses an entry
    either way (one loss scale serves every layer).
    """
    from ..checkpoint import loss_scale_window, overflow_fraction, underflow_fraction

    ax = get_ax(ax)
    cycle = [COLORS["forward"], COLORS["backward"], COLORS["reference"], COLORS["numerical"], COLORS["sigmoid"]]
    for i, (name, g) in enumerate(grads.items()):
        color = cycle[i % len(cycle)]
        ax.plot(scales, [100 * underflow_fraction(g, s) for s in scales], "o-", color=color, ms=4,
                label=f"{name}: underflow (to 0)")
        ax.plot(scales, [100 * overflow_fraction(g, s) for s in scales], "s--", color=color, ms=4,
                label=f"{name}: overflow (to inf)")
    window = loss_scale_window(grads, scales)
    if window is not None:
        lo, hi = window
        ax.axvspan(lo, hi, color=COLORS["neutral"], alpha=0.15,
                   label=f"usable: S = 2^{math.log2(lo):g} .. 2^{math.log2(hi):g}")
    ax.set_xscale("log", base=2)
    lo_exp, hi_exp = math.floor(math.log2(min(scales))), math.ceil(math.log2(max(scales)))
    step = max(1, (hi_exp - lo_exp) // 8)
    ax.set_xticks([2.0 ** k for k in range(lo_exp, hi_exp + 1, step)])
    # plain "2^k" labels, no mathtext (see plot_revolve_tradeoff)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"2^{math.log2(v):g}" if v > 0 else ""))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlim(2.0 ** (lo_exp - 0.5), 2.0 ** (hi_exp + 0.5))
    ax.set_xlabel("loss scale S")
    ax.set_ylabel("entries lost in float16 (%)")
    ax.set_title("float16 gradients: underflow, overflow and loss scaling")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
