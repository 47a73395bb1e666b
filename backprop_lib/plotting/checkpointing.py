"""Plot helpers of notebook 05 (checkpointing)."""

from __future__ import annotations

from matplotlib.ticker import FuncFormatter

from .style import COLORS, get_ax

__all__ = [
    "plot_schedule",
    "plot_memory_vs_depth",
    "plot_time_overhead",
    "plot_revolve_tradeoff",
    "plot_underflow",
]


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

    from ..checkpoint import revolve_cost, sqrt_segments

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
    # Counts read best as plain integers (0, 1, 10, 100), and plain labels keep matplotlib's
    # mathtext parser out of the widget's redraw: in JupyterLab that parser has intermittently
    # failed on "$\\mathdefault{10^{2}}$" during this callback (see the browser test).
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("memory: arrays stored at the peak")
    ax.set_ylabel("extra layer forwards")
    ax.set_title(f"Memory vs recomputation, n={n}")
    ax.legend(fontsize=8)
    return ax


def plot_underflow(grads, scales, ax=None):
    """Fraction of nonzero gradient entries lost to float16 underflow vs the loss scale."""
    from ..checkpoint import underflow_fraction

    ax = get_ax(ax)
    for name, g in grads.items():
        ax.plot(scales, [100 * underflow_fraction(g, s) for s in scales], "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("loss scale S")
    ax.set_ylabel("entries flushed to 0 in float16 (%)")
    ax.set_title("float16 gradient underflow and loss scaling")
    ax.legend(fontsize=8)
    return ax
