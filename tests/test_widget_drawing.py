"""Widgets draw safely when their callbacks run on other threads (kernel subshells).

JupyterLab >= 4.4 with ipykernel >= 7 runs widget callbacks on subshell threads, so a
redraw can overlap a cell's drawing. Every widget of the course draws on its own figure
(pyplot untouched) under one lock, and matplotlib's text parsing and rendering take the
same lock: see ``backprop_lib/plotting/threadsafe.py``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from backprop_lib import widgets  # noqa: E402
from backprop_lib.data import digits  # noqa: E402
from backprop_lib.engine import Value  # noqa: E402
from backprop_lib.mlp import MLP  # noqa: E402
from backprop_lib.plotting import DRAW_LOCK, serialize_matplotlib, setup_style  # noqa: E402


def _graph():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    return (x * w + x).tanh()


def _digits_net():
    split = digits()
    return MLP([64, 8, 10], seed=0), split.X_test[:5], split.y_test[:5]


# One row per widget: how to build it, which of its controls to move (a path through the
# box's children) and two other values B and C for it (A is the value it starts at).
WIDGETS = {
    "01 secant/tangent": (lambda: widgets.secant_tangent_widget("sin", 1.0, -1.0), (0, 2), -3.0, -0.5),
    "01 secant/tangent f": (lambda: widgets.secant_tangent_widget("sin", 1.0, -1.0), (0, 0), "exp", "tanh"),
    "02 backward stepper": (lambda: widgets.backward_stepper(_graph()), (0, 1), 2, 1),
    "03 training": (lambda: widgets.delta_training_widget(digits(), n_train=60, epochs=1), (0, 1), 8, 64),
    "03 delta heatmap": (lambda: widgets.delta_heatmap_widget(*_digits_net()), (0,), 3, 1),
    "04 gradient flow": (lambda: widgets.gradient_flow_widget(), (0, 0), 4, 7),
    "04 gradient flow init": (lambda: widgets.gradient_flow_widget(), (0, 2), "large", "he"),
    "05 checkpointing": (lambda: widgets.checkpoint_widget(n=8, slots=2, max_n=16), (0, 1), 3, 5),
    "05 checkpointing n": (lambda: widgets.checkpoint_widget(n=8, slots=2, max_n=16), (0, 0), 3, 12),
    "06 optimiser race": (lambda: widgets.optimizer_race_widget("saddle"), (0, 1), 20, 70),
    "06 optimiser race long": (lambda: widgets.optimizer_race_widget("saddle"), (0, 1), 300, 150),
    "06 optimiser race start": (lambda: widgets.optimizer_race_widget("ravine"), (3, 0), 1.0, -1.5),
    "06 optimiser race surface": (lambda: widgets.optimizer_race_widget("saddle"), (0, 0), "ravine", "rosenbrock"),
}


def _control(box, path):
    for i in path:
        box = box.children[i]
    return box


def _descendants(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _descendants(child)


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_every_redraw_draws_the_widgets_own_figure_in_place_and_leaves_pyplot_alone(name):
    import ipywidgets as W

    build, path, b, _ = WIDGETS[name]
    plt.close("all")
    box = build()
    live = box.live
    fig, first = live.fig, bytes(live.image.value)
    assert live.draws == 1 and first.startswith(b"\x89PNG"), "the first draw shows one PNG"
    images = [w for w in _descendants(box) if isinstance(w, W.Image)]
    assert images == [live.image], "the box shows exactly the widget's one image"
    assert not any(isinstance(w, W.Output) and w.outputs for w in _descendants(box)), "no output, no error shown"
    _control(box, path).value = b
    assert live.draws == 2, "a move redraws exactly once"
    assert live.fig is fig, "the figure is reused, not rebuilt"
    assert bytes(live.image.value) != first, "the image shows the new value"
    assert plt.get_fignums() == [], "a widget must not create pyplot figures (shared with the running cell)"


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_the_image_depends_on_the_controls_only_never_on_the_way_there(name):
    """A -> B -> A shows A's first picture again (nothing stale from B in the reused figure and
    artists), and B reached directly equals B reached through C: the same bytes as a fresh
    widget's. Remembered pictures are off here (they would hide a stale figure); the next test
    checks that they are the same bytes as these."""
    build, path, b, c = WIDGETS[name]
    box = build()
    box.live.caching = False
    control = _control(box, path)
    a, first = control.value, bytes(box.live.image.value)
    control.value = b
    at_b = bytes(box.live.image.value)
    control.value = a
    assert bytes(box.live.image.value) == first, f"back at {a!r} after {b!r}: not the picture {a!r} showed first"
    assert box.live.renders == 3
    other = build()
    other.live.caching = False
    _control(other, path).value = c
    _control(other, path).value = b
    assert bytes(other.live.image.value) == at_b, f"{b!r} through {c!r} differs from {b!r} reached directly"
    plt.close("all")


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_remembered_and_prefetched_pictures_are_the_pictures_a_fresh_draw_gives(name):
    build, path, b, _ = WIDGETS[name]
    box, fresh = build(), build()
    fresh.live.caching = False
    live, control = box.live, _control(box, path)
    a = control.value
    control.value = b  # drawn; a slider's move also queues its neighbours for the prefetch thread
    assert live.wait_prefetched(60)
    renders = live.renders
    control.value = a  # remembered from the first draw: shown without drawing
    assert live.renders == renders and live.draws == 3
    _control(fresh, path).value = a
    assert bytes(live.image.value) == bytes(fresh.live.image.value)
    if type(control).__name__.endswith("Slider"):  # the neighbours of b were drawn ahead
        assert live.renders > 2, "a slider move prefetches its neighbours"
    plt.close("all")


def test_a_slider_step_after_a_move_shows_the_prefetched_picture_of_that_value():
    box, fresh = widgets.checkpoint_widget(n=8, slots=2, max_n=16), widgets.checkpoint_widget(n=8, slots=2, max_n=16)
    fresh.live.caching = False
    live, n, s = box.live, box.children[0].children[0], box.children[0].children[1]
    n.value = 9  # a key press: 8 -> 9; the prefetch thread then draws n = 10 (8 is remembered)
    assert live.wait_prefetched(60)  # ... and one step of the other control: slots 1 and 3 at n = 9
    assert live.renders == 3 + 2
    assert live._neighbours("slots", live.state()) == [3, 1]
    n.value = 10  # the next key press: its picture is ready
    assert live.renders == 5 and live.draws == 3
    fresh.children[0].children[0].value = 10
    assert bytes(live.image.value) == bytes(fresh.live.image.value)
    assert live.wait_prefetched(60) and live.renders == 5 + 1 + 2, "then n = 11 (9 is remembered) and slots 1, 3"
    s.value = 3  # the first move of the other control: prefetched at n = 10 too
    assert live.renders == 8
    plt.close("all")


def test_a_scene_is_drawn_once_and_moves_within_it_draw_only_the_animated_artists():
    box, fresh = widgets.optimizer_race_widget("ravine"), widgets.optimizer_race_widget("ravine")
    live, fresh.live.caching = box.live, False
    live.caching = False
    assert live.backgrounds == 1
    for row, col, value in ((1, 0, -1.5), (2, 0, 0.5), (3, 1, 0.5), (0, 1, 120)):  # lr, momentum, start y, steps
        box.children[row].children[col].value = value
    assert live.renders == 5 and live.backgrounds == 1, "the contours, axes and titles were drawn once"
    for row, col, value in ((1, 0, -1.5), (2, 0, 0.5), (3, 1, 0.5), (0, 1, 120)):
        fresh.children[row].children[col].value = value
    assert bytes(live.image.value) == bytes(fresh.live.image.value)
    box.children[0].children[0].value = "saddle"
    assert live.backgrounds == 2, "a new surface is a new scene"
    titles = [ax.get_title() for ax in live.fig.axes]
    assert "saddle" in titles[0] and live.fig.axes[1].xaxis.get_animated()


def test_a_surface_change_is_one_move_whose_neighbours_are_prefetched_as_the_widget_sets_them():
    box, fresh = widgets.optimizer_race_widget("ravine"), widgets.optimizer_race_widget("ravine")
    fresh.live.caching = False
    fresh.children[0].children[0].value = "saddle"  # (the layout is the first surface's: same start)
    live, surface = box.live, box.children[0].children[0]
    surface.value = "rosenbrock"  # resets steps, learning rates and start with it
    assert live.wait_prefetched(60)
    renders = live.renders
    assert renders == 1 + 1 + 1, "rosenbrock drawn, then saddle with its own settings (ravine is remembered)"
    surface.value = "saddle"
    assert live.renders == renders, "the next surface's picture was ready"
    assert live.state() == fresh.live.state() and bytes(live.image.value) == bytes(fresh.live.image.value)
    plt.close("all")


def test_the_prefetch_of_a_log_slider_lands_on_the_values_the_browser_sends():
    box = widgets.delta_training_widget(digits(), n_train=60, epochs=1)
    lr = box.children[0].children[0]
    live = box.live
    lr.value = 10 ** -0.75  # one step up from 0.1 (exponent -1, step 0.25)
    assert live.wait_prefetched(60)
    assert sorted(live._neighbours("lr", live.state())) == pytest.approx([10 ** -1.0, 10 ** -0.5], rel=1e-11)
    renders = live.renders
    lr.value = 10 ** -0.5  # as the browser's slider computes it
    assert live.renders == renders, "the prefetched picture is found"


def _live(draw, figsize=(3, 2)):
    import ipywidgets as W

    from backprop_lib.plotting import LiveFigure

    return LiveFigure(figsize, {"v": W.IntSlider(value=0, min=0, max=9)}, draw)


def test_a_failing_redraw_shows_its_error_and_keeps_the_last_picture():
    broken = {"on": False}

    def draw(lf, state, _):
        lf.axes.cla()
        lf.axes.plot([0, 1], [state["v"], 1])
        if broken["on"]:
            raise ZeroDivisionError("a learner's bad setting")

    live = _live(draw)
    live.show()
    good = bytes(live.image.value)
    broken["on"] = True
    live.controls["v"].value = 3
    with pytest.raises(ZeroDivisionError):  # outside a kernel the Output does not swallow it
        live.show()
    assert bytes(live.image.value) == good and live.draws == 1
    broken["on"] = False
    live.show()
    assert live.draws == 2 and bytes(live.image.value) != good


def test_the_layout_is_fixed_at_the_first_draw():
    def draw(lf, state, _):
        lf.axes.set_ylabel("short" if state["v"] == 0 else "a much longer label\non two lines")

    live = _live(draw, (4, 3))
    live.show()
    box = live.axes.get_position().bounds
    live.controls["v"].value = 1
    live.show()
    assert live.axes.get_position().bounds == box, "no tight_layout per move"


def test_setup_style_makes_text_parsing_and_rendering_take_the_draw_lock():
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.mathtext import MathTextParser

    setup_style()
    setup_style()  # idempotent: wrapped once
    for cls, method in ((MathTextParser, "parse"), (FigureCanvasAgg, "draw"), (FigureCanvasBase, "print_figure")):
        wrapped = cls.__dict__[method]
        assert getattr(wrapped, "_draw_lock", False), f"{cls.__name__}.{method} is not serialised"
        assert not getattr(wrapped.__wrapped__, "_draw_lock", False), f"{cls.__name__}.{method} wrapped twice"


def test_a_widget_redraw_waits_while_another_thread_draws():
    box = widgets.checkpoint_widget(n=6, slots=2, max_n=8)
    slider = box.children[0].children[1]
    done = threading.Event()

    def move_from_a_subshell_thread():
        slider.value = 3
        done.set()

    with DRAW_LOCK:  # another thread (a cell, another widget) is drawing
        worker = threading.Thread(target=move_from_a_subshell_thread)
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and not done.is_set(), "the redraw did not wait for the lock"
        assert box.live.draws == 1
    worker.join(timeout=30)
    assert done.is_set() and box.live.draws == 2


def test_two_threads_moving_one_widget_end_with_the_picture_of_the_last_value():
    box = widgets.checkpoint_widget(n=8, slots=2, max_n=16)
    fresh = widgets.checkpoint_widget(n=8, slots=2, max_n=16)
    fresh.live.caching = False
    n = box.children[0].children[0]
    with DRAW_LOCK:  # both moves wait: the first for the lock, the second for the first
        first = threading.Thread(target=setattr, args=(n, "value", 12))
        first.start()
        first.join(timeout=0.5)
        second = threading.Thread(target=setattr, args=(n, "value", 13))
        second.start()
        second.join(timeout=0.5)
    first.join(timeout=60)
    second.join(timeout=60)
    fresh.children[0].children[0].value = 13
    assert bytes(box.live.image.value) == bytes(fresh.live.image.value), "an older value's picture is shown last"
    plt.close("all")


def test_threads_rendering_mathtext_at_the_same_time_all_succeed():
    serialize_matplotlib()
    errors: list[BaseException] = []

    def render(k: int):
        try:
            for i in range(15):
                fig = Figure(figsize=(2, 1.5))
                ax = fig.subplots()
                ax.plot(np.arange(3), np.arange(3) ** 2)
                ax.set_yscale("log")  # log ticks are mathtext: $\mathdefault{10^{0}}$
                ax.set_title(rf"$\frac{{\partial L}}{{\partial w_{{{k}{i}}}}} = \sigma'(z_{{{i}}})$")
                fig.tight_layout()
                fig.savefig(__import__("io").BytesIO(), format="png")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=render, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_the_inline_backend_flushes_figures_only_from_the_main_thread(monkeypatch):
    """ipykernel 7 fires post_execute after a widget message on a subshell thread too; the course's
    guard keeps matplotlib-inline's flush_figures (which shows AND closes the open figures) off it."""
    inline = pytest.importorskip("matplotlib_inline.backend_inline")
    import IPython

    flushed: list[str] = []

    def original_flush():
        flushed.append(threading.current_thread().name)

    class Events:
        callbacks = {"post_execute": [original_flush]}

    class Shell:
        events = Events()

    monkeypatch.setattr(inline, "flush_figures", original_flush)
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    serialize_matplotlib()
    serialize_matplotlib()  # idempotent
    (hook,) = Shell.events.callbacks["post_execute"]
    assert hook is inline.flush_figures and hook is not original_flush
    worker = threading.Thread(target=hook, name="subshell-1")
    worker.start()
    worker.join()
    hook()
    assert flushed == [threading.main_thread().name], "flushed from the subshell thread"


def test_clear_plot_removes_what_was_plotted_and_keeps_the_axes_and_their_ticks():
    from backprop_lib.plotting import clear_plot, figure_png

    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.scatter([0.5], [0.5])
    ax.bar([0.2], [0.3])
    ax.text(0.1, 0.1, "note")
    ax.legend()
    ax.set_xlabel("x")
    figure_png(fig)  # a draw makes the tick objects
    tick = ax.xaxis.get_major_ticks()[0]
    clear_plot(ax)
    assert not (ax.lines or ax.collections or ax.patches or ax.texts) and ax.get_legend() is None
    assert ax.xaxis.get_major_ticks()[0] is tick and ax.get_xlabel() == "x", "the axes and their ticks stay"
    ax.plot([10, 20], [5, 6])
    lo, hi = ax.get_xlim()
    assert 9 < lo < 10 and 20 < hi < 21, "the old data no longer counts for the limits"


def test_animated_artists_come_in_the_order_a_full_draw_draws_them():
    from backprop_lib.plotting import animated_artists

    fig = Figure()
    left, right = fig.subplots(1, 2)
    top, = left.plot([0, 1], [0, 1], zorder=3, animated=True)
    under, = left.plot([0, 1], [1, 0], zorder=1, animated=True)
    left.plot([0, 1], [0.5, 0.5])  # not animated: part of the background
    left.xaxis.set_animated(True)  # zorder 0.5 or 1.5 (axes.axisbelow): between or before the lines
    right.set_animated(True)
    order = animated_artists(fig)
    assert order[-1] is right and set(order[:-1]) == {top, under, left.xaxis}
    assert [a.get_zorder() for a in order[:-1]] == sorted(a.get_zorder() for a in order[:-1])
    assert order.index(under) < order.index(top)


def test_a_prefetch_that_a_move_interrupts_gives_way_and_is_drawn_later(monkeypatch):
    from backprop_lib.plotting import Preempted, figure_png
    from backprop_lib.plotting import live as live_module

    box, fresh = widgets.optimizer_race_widget("ravine"), widgets.optimizer_race_widget("ravine")
    fresh.live.caching = False
    live, momentum = box.live, box.children[2].children[0]
    with pytest.raises(Preempted):  # a draw over a background stops before its next animated artist
        figure_png(live.fig, background=next(iter(live._backgrounds.values())), abort=lambda: True)
    asked = []

    def a_move_is_waiting_once():
        asked.append(1)
        return len(asked) == 1

    monkeypatch.setattr(live_module._PREFETCH, "move_waiting", a_move_is_waiting_once)
    momentum.value = 0.5  # drawn; the prefetch of 0.49 and 0.51 starts, and its first draw is interrupted
    assert live.wait_prefetched(60) and len(asked) > 1, "the prefetch was interrupted, then went on"
    renders = live.renders
    momentum.value = 0.51
    assert live.renders == renders, "the interrupted neighbour was drawn after all"
    fresh.children[2].children[0].value = 0.51
    assert bytes(live.image.value) == bytes(fresh.live.image.value)
