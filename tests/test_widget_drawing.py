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


# One row per widget: how to build it, and how to move one of its controls.
WIDGETS = {
    "01 secant/tangent": (lambda: widgets.secant_tangent_widget("sin", 1.0, -1.0),
                          lambda box: setattr(box.children[0].children[2], "value", -3.0)),
    "02 backward stepper": (lambda: widgets.backward_stepper(_graph()),
                            lambda box: setattr(box.children[0].children[1], "value", 2)),
    "03 training": (lambda: widgets.delta_training_widget(digits(), n_train=60, epochs=1),
                    lambda box: setattr(box.children[0].children[1], "value", 8)),
    "03 delta heatmap": (lambda: widgets.delta_heatmap_widget(*_digits_net()),
                         lambda box: setattr(box.children[0], "value", 3)),
    "04 gradient flow": (lambda: widgets.gradient_flow_widget(),
                         lambda box: setattr(box.children[0].children[0], "value", 4)),
    "05 checkpointing": (lambda: widgets.checkpoint_widget(n=8, slots=2, max_n=16),
                         lambda box: setattr(box.children[0].children[1], "value", 3)),
    "06 optimiser race": (lambda: widgets.optimizer_race_widget("saddle"),
                          lambda box: setattr(box.children[0].children[1], "value", 20)),
}


@pytest.fixture
def displayed(monkeypatch):
    """Everything the widgets pass to IPython's display()."""
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    return shown


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_every_redraw_shows_one_figure_of_its_own_and_leaves_pyplot_alone(name, displayed):
    build, move = WIDGETS[name]
    plt.close("all")
    box = build()
    assert [type(obj) for obj in displayed] == [Figure], "the first draw shows exactly one figure"
    move(box)
    assert [type(obj) for obj in displayed] == [Figure, Figure], "a move redraws exactly one figure"
    assert displayed[0] is not displayed[1]
    assert plt.get_fignums() == [], "a widget must not create pyplot figures (shared with the running cell)"
    assert box not in displayed, "the builder returns its box; displaying it too would show it twice"


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


def test_a_widget_redraw_waits_while_another_thread_draws(displayed):
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
        assert len(displayed) == 1
    worker.join(timeout=30)
    assert done.is_set() and len(displayed) == 2


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
