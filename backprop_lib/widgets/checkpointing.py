"""Widgets of notebook 05 (checkpointing)."""

from __future__ import annotations

__all__ = ["checkpoint_summary", "checkpoint_widget", "checkpoint_text"]


def checkpoint_summary(n: int, slots: int) -> dict:
    """What the checkpointing widget shows for ``n`` layers and ``slots`` slots.

    One cost model for the three strategies (:func:`~backprop_lib.checkpoint.strategy_cost`):
    ``arrays`` = arrays of shape (N, width) held at the peak (a checkpoint 1, a layer cache
    :math:`(z_l, a_l)` 2), ``extra_forwards`` = layer forwards beyond the n of one plain
    forward pass. Returns the optimal revolve ``schedule``, one ``{"arrays", "extra_forwards"}``
    dict per strategy (``"revolve"`` for the given ``slots``) and the revolve trade-off
    ``curve``: (slots, arrays, extra forwards) for slots = 1..n.
    """
    from ..checkpoint import revolve_schedule, strategy_cost

    def cost(strategy, s=None):
        c = strategy_cost(strategy, n, s)
        return {"arrays": c.arrays, "extra_forwards": c.extra_forwards}

    schedule = revolve_schedule(n, slots)
    return {
        "schedule": schedule,
        "revolve": cost("revolve", slots),
        "sqrt": cost("sqrt"),
        "store_all": cost("store_all"),
        "curve": [(s, *cost("revolve", s).values()) for s in range(1, n + 1)],
    }


def checkpoint_text(n: int, slots: int) -> str:
    """One line per strategy: arrays held at the peak and extra forwards (the widget's text)."""
    info = checkpoint_summary(n, slots)
    rows = [("store_all", "every cache kept"),
            ("sqrt", "every layer re-run once"),
            ("revolve", f"{slots} slot{'s' if slots > 1 else ''} of layer inputs: the optimal schedule's advances")]
    lines = [f"n={n} layers, slots={slots}: arrays (N x width) held at the peak, "
             f"extra = layer forwards beyond one plain forward pass"]
    for name, note in rows:
        c = info[name]
        lines.append(f"  {name + ':':10s} {c['arrays']:4d} arrays, {c['extra_forwards']:5d} extra forwards  ({note})")
    return "\n".join(lines)


def checkpoint_widget(n: int = 10, slots: int = 3, max_n: int = 64):
    """Sliders for layers and slots -> schedule diagram, counts and the trade-off curve."""
    import ipywidgets as widgets

    from ..checkpoint import revolve_schedule
    from ..plotting import LiveFigure, clear_plot, mark_revolve_slots, plot_revolve_tradeoff, plot_schedule

    n_slider = widgets.IntSlider(value=n, min=1, max=max_n, description="layers n")
    s_slider = widgets.IntSlider(value=min(slots, n), min=1, max=n, description="slots")

    drawn = {"n": None}  # the n whose axes the figure shows

    def draw(live, state, _):
        n, slots = state["n"], state["slots"]
        ax1, ax2 = live.axes
        clear_plot(ax1)
        plot_schedule(revolve_schedule(n, slots), ax=ax1)
        # what changes with the slots is drawn per move over the rest (drawn once per n): the
        # schedule, its title and its time axis; the trade-off's marker (its counts are in the text)
        for artist in (*ax1.lines, *ax1.collections, ax1.title, ax1.xaxis):
            artist.set_animated(True)
        if drawn["n"] != n:
            clear_plot(ax2)
            plot_revolve_tradeoff(n, slots, ax=ax2)
            mark_revolve_slots(ax2, n, slots).set_label("revolve, the slots chosen")
            ax2.legend(fontsize=8)
            drawn["n"] = n
        mark_revolve_slots(ax2, n, slots, label=False).set_animated(True)
        return checkpoint_text(n, slots)

    live = LiveFigure((12, 4), {"n": n_slider, "slots": s_slider}, draw, text=True, nrows=1, ncols=2,
                      gridspec_kw={"width_ratios": [3, 2]}, scene=lambda state: state["n"])
    clamping = {"on": False}

    def on_n(_):
        clamping["on"] = True  # a smaller max may move s_slider: draw once, here, not in on_s too
        try:
            s_slider.max = n_slider.value
        finally:
            clamping["on"] = False
        live.show()

    def on_s(_):
        if not clamping["on"]:
            live.show()

    n_slider.observe(on_n, names="value")
    s_slider.observe(on_s, names="value")
    live.show()
    box = widgets.VBox([widgets.HBox([n_slider, s_slider]), live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box
