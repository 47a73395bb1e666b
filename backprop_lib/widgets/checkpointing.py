"""Widgets of notebook 05 (checkpointing)."""

from __future__ import annotations

__all__ = ["checkpoint_summary", "checkpoint_widget", "checkpoint_text"]


def checkpoint_summary(n: int, slots: int) -> dict:
    """What the checkpointing widget shows for ``n`` layers and ``slots`` slots.

    Returns the optimal revolve ``schedule``, its ``advances`` and ``extra_forwards``
    (advances + n recording re-runs), ``stored`` (peak stored arrays: snapshots plus the
    layer being reversed), the same two numbers for store_all and sqrt, and the
    trade-off ``curve`` (slots, extra forwards) for slots = 1..n.
    """
    import math

    from ..checkpoint import revolve_cost, revolve_schedule, sqrt_segments

    schedule = revolve_schedule(n, slots)
    k = math.isqrt(n - 1) + 1
    return {
        "schedule": schedule,
        "advances": schedule.advances,
        "extra_forwards": schedule.layer_forwards,
        "stored": schedule.peak_snapshots + 1,
        "store_all": {"stored": n + 1, "extra_forwards": 0},
        "sqrt": {"stored": len(sqrt_segments(n)) - 1 + k, "extra_forwards": n},
        "curve": [(s, revolve_cost(n, s) + n) for s in range(1, n + 1)],
    }


def checkpoint_text(n: int, slots: int) -> str:
    """One line per strategy: stored arrays and extra forwards (the widget's text)."""
    info = checkpoint_summary(n, slots)
    return (f"n={n}, slots={slots}\n"
            f"  revolve:   stores at most {info['stored']:4d} arrays, {info['extra_forwards']:5d} extra layer forwards "
            f"({info['advances']} advances + {n} re-runs)\n"
            f"  sqrt:      stores at most {info['sqrt']['stored']:4d} arrays, {n:5d} extra layer forwards\n"
            f"  store_all: stores        {n + 1:4d} arrays, {0:5d} extra layer forwards")


def checkpoint_widget(n: int = 10, slots: int = 3, max_n: int = 64):
    """Sliders for layers and slots -> schedule diagram, counts and the trade-off curve."""
    import ipywidgets as widgets
    from IPython.display import display

    from ..plotting import new_figure, plot_revolve_tradeoff, plot_schedule, redraw_into

    n_slider = widgets.IntSlider(value=n, min=1, max=max_n, description="layers n")
    s_slider = widgets.IntSlider(value=min(slots, n), min=1, max=n, description="slots")
    out = widgets.Output()

    def redraw(*_):
        s_slider.max = n_slider.value
        with redraw_into(out):
            info = checkpoint_summary(n_slider.value, s_slider.value)
            print(checkpoint_text(n_slider.value, s_slider.value))
            fig = new_figure(figsize=(12, 4))
            ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
            plot_schedule(info["schedule"], ax=ax1)
            plot_revolve_tradeoff(n_slider.value, s_slider.value, ax=ax2)
            fig.tight_layout()
            display(fig)

    n_slider.observe(redraw, names="value")
    s_slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([n_slider, s_slider]), out])
