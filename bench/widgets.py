"""Benchmark: kernel-side redraw time of every notebook widget (not a test).

For each widget of notebooks 01-06 it builds the widget as the notebook does (no browser:
ipywidgets works without a front end), then moves each control through a few new values,
the way a learner's key presses do, and prints per control the median and max wall-clock
seconds of the whole redraw (the callback: compute, update the figure, draw it once, PNG
into the ``ipywidgets.Image``), and how much of it was the draw + PNG encode
(``LiveFigure._png``: the whole figure, or a scene's background and the animated artists).
Remembered and prefetched pictures are off
(``LiveFigure.caching``): these are the cold redraws, what a move costs when its picture is
not ready. With ``--prefetch`` they are on and each move waits for the prefetch first (the
key-press case: mostly pictures found ready). What the browser adds on top (the message
round trip, decoding the image) is measured by the browser test (tests/browser/, its
latency table and build/browser/latency.json).

Usage: python bench/widgets.py [--moves N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from backprop_lib import widgets  # noqa: E402
from backprop_lib.data import digits  # noqa: E402
from backprop_lib.engine import Value  # noqa: E402
from backprop_lib.mlp import MLP, train  # noqa: E402
from backprop_lib.plotting import live as live_module  # noqa: E402
from backprop_lib.plotting import setup_style  # noqa: E402


def _graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    d = e + c
    f = Value(-2.0, label="f")
    return (d * f).tanh()


def _controls(box):
    """Every slider, dropdown and checkbox inside ``box``, in display order."""
    import ipywidgets as W

    found = []
    for child in getattr(box, "children", ()):
        if isinstance(child, (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.Dropdown, W.Checkbox)):
            found.append(child)
        else:
            found.extend(_controls(child))
    return found


def _next_value(control, k: int):
    import ipywidgets as W

    if isinstance(control, W.Dropdown):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return options[(options.index(control.value) + 1) % len(options)]
    if isinstance(control, W.Checkbox):
        return not control.value
    step = control.step
    up = control.value + step
    return up if up <= control.max else control.value - step * (k + 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=5, help="moves per control (default 5)")
    ap.add_argument("--prefetch", action="store_true", help="keep remembered and prefetched pictures on")
    args = ap.parse_args(argv)
    setup_style()
    split = digits()
    net = MLP([64, 64, 10], activation="relu", init="he", seed=0)
    train(net, split.X_train, split.y_train, epochs=5, lr=0.1, batch_size=32, seed=0)
    builders = {
        "01 secant/tangent": lambda: widgets.secant_tangent_widget("sin", 1.0, -0.5),
        "02 backward stepper": lambda: widgets.backward_stepper(_graph()),
        "03 training": lambda: widgets.delta_training_widget(split),
        "03 delta heatmap": lambda: widgets.delta_heatmap_widget(net, split.X_test, split.y_test),
        "04 gradient flow": widgets.gradient_flow_widget,
        "05 checkpointing": lambda: widgets.checkpoint_widget(n=20, slots=3, max_n=64),
        "06 optimiser race": lambda: widgets.optimizer_race_widget("ravine"),
    }
    png_seconds: list[float] = []
    original = live_module.LiveFigure._png

    def timed_png(live, state, abort=None):
        t = time.perf_counter()
        try:
            return original(live, state, abort)
        finally:
            png_seconds.append(time.perf_counter() - t)

    live_module.LiveFigure._png = timed_png  # type: ignore[method-assign]
    everything = []
    print(f"{'widget':22s} {'control':28s} {'median':>8s} {'max':>8s}  {'draw+PNG':>8s}")
    for name, build in builders.items():
        box = build()
        box.live.caching = args.prefetch
        for control in _controls(box):
            times, pngs = [], []
            for k in range(args.moves):
                box.live.wait_prefetched(60)
                png_seconds.clear()
                t = time.perf_counter()
                control.value = _next_value(control, k)
                times.append(time.perf_counter() - t)
                pngs.append(sum(png_seconds))
            everything.extend(times)
            label = f"{type(control).__name__} {control.description!r}"
            print(f"{name:22s} {label[:28]:28s} {statistics.median(times):7.3f}s {max(times):7.3f}s  "
                  f"{statistics.median(pngs):7.3f}s", flush=True)
    print(f"all: {len(everything)} moves, median {statistics.median(everything):.3f} s, max {max(everything):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
