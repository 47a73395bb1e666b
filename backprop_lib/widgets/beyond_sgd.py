"""Widgets of notebook 06 (beyond SGD)."""

from __future__ import annotations

import functools
import threading
from typing import Callable

import numpy as np

__all__ = ["RACE_DEFAULTS", "optimizer_race", "optimizer_race_widget", "race_text"]


#: Settings of notebook 06's optimiser race that show each surface's lesson:
#: ``lr`` is used by SGD and momentum, ``adaptive_lr`` by RMSProp and Adam.
RACE_DEFAULTS: dict[str, dict[str, float]] = {
    "ravine": {"lr": 0.03, "adaptive_lr": 0.1, "steps": 50},
    "rosenbrock": {"lr": 0.001, "adaptive_lr": 0.05, "steps": 1000},
    "saddle": {"lr": 0.05, "adaptive_lr": 0.05, "steps": 50},
}


def optimizer_race(surface: str = "ravine", lr: float | None = None, adaptive_lr: float | None = None, *,
                   momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999, start=None,
                   steps: int | None = None) -> dict:
    r"""Run SGD, SGD with momentum, RMSProp and Adam from the same start on a 2-D surface.

    Parameters
    ----------
    surface : "ravine" | "rosenbrock" | "saddle" (see :data:`backprop_lib.landscape.SURFACES`)
    lr : learning rate of SGD and momentum (default from :data:`RACE_DEFAULTS`)
    adaptive_lr : learning rate of RMSProp and Adam. Their steps do not scale with the
        gradient's size (Adam's first step is exactly ``adaptive_lr`` per coordinate, RMSProp's
        ``adaptive_lr / sqrt(1 - beta2)``), so they need a different scale than SGD's
    momentum : :math:`\mu` of SGD with momentum
    beta1, beta2 : Adam's decay rates; RMSProp uses ``alpha = beta2``
    start : (x, y), default the surface's own start
    steps : number of updates

    Returns
    -------
    dict with ``surface`` (the Surface), ``paths`` (name -> (steps+1, 2)), ``losses``
    (name -> (steps+1,) loss along the path), ``final`` (name -> last loss) and the settings.
    """
    from ..landscape import get_surface

    surf = get_surface(surface)
    defaults = RACE_DEFAULTS.get(surf.name, {"lr": 0.01, "adaptive_lr": 0.01, "steps": 100})
    lr = defaults["lr"] if lr is None else lr
    adaptive_lr = defaults["adaptive_lr"] if adaptive_lr is None else adaptive_lr
    steps = int(defaults["steps"]) if steps is None else steps
    start = surf.start if start is None else tuple(float(v) for v in start)
    settings = {"SGD": (lr,), "momentum": (lr, momentum), "RMSProp": (adaptive_lr, beta2),
                "Adam": (adaptive_lr, beta1, beta2)}
    paths = {name: _path(surf, name, tuple(float(v) for v in s), start, steps) for name, s in settings.items()}
    losses = {name: surf.f(p[:, 0], p[:, 1]) for name, p in paths.items()}
    return {"surface": surf, "paths": paths, "losses": losses,
            "final": {name: float(v[-1]) for name, v in losses.items()},
            "lr": float(lr), "adaptive_lr": float(adaptive_lr), "momentum": float(momentum),
            "betas": (float(beta1), float(beta2)), "start": start, "steps": steps}


def _path(surface, name: str, settings: tuple, start: tuple, steps: int) -> np.ndarray:
    """One optimiser's trajectory in :func:`optimizer_race`, from a walk remembered by the optimiser's
    own settings and start: a slider that changes one optimiser (momentum, beta1) re-runs that one
    only, and more steps continue the remembered walk (fewer are its beginning)."""
    run = _run(surface, name, settings, start)
    with run["lock"]:  # the prefetch thread computes too
        points = run["points"]
        points.extend(next(run["walk"]) for _ in range(steps + 1 - len(points)))
        return np.array(points[:steps + 1])


@functools.lru_cache(maxsize=64)
def _run(surface, name: str, settings: tuple, start: tuple) -> dict:
    from ..landscape import walk
    from ..optim import SGD, Adam, Optimizer, RMSProp

    make: dict[str, Callable[..., Optimizer]] = {
        "SGD": lambda lr: SGD(lr=lr),
        "momentum": lambda lr, mu: SGD(lr=lr, momentum=mu),
        "RMSProp": lambda lr, beta2: RMSProp(lr=lr, alpha=beta2),
        "Adam": lambda lr, beta1, beta2: Adam(lr=lr, betas=(beta1, beta2)),
    }
    return {"walk": walk(surface, make[name](*settings), start), "points": [], "lock": threading.Lock()}


def race_text(race: dict) -> str:
    """The race widget's line under the plot: each optimiser's final loss (the plot's legend names them).
    A run that diverged stopped at its last point within 1e6 (:func:`~backprop_lib.landscape.walk`):
    its huge final loss says so."""
    low = race["surface"](race["surface"].minimum)
    finals = "   ".join(f"{name} {loss:.2g}" for name, loss in race["final"].items())
    return f"loss after {race['steps']} steps:   {finals}   (the minimum's loss: {low:g})"


def optimizer_race_widget(surface: str = "ravine"):
    """Surface, learning rates, momentum, betas and start point -> the four trajectories.

    Logic in :func:`optimizer_race`; drawing in :func:`backprop_lib.plotting.plot_race_scene` (the
    contours and axes, drawn once per surface) and
    :func:`~backprop_lib.plotting.update_race` (the paths, left, and the loss along each path on a
    log scale, right, redrawn per move); the final losses in the line under the plot
    (:func:`race_text`). Returns the widget to display.
    """
    import ipywidgets as widgets

    from ..landscape import SURFACES
    from ..plotting import LiveFigure, plot_race_scene, set_race_surface, update_race

    d = RACE_DEFAULTS[surface]
    s = SURFACES[surface]
    choose = widgets.Dropdown(options=list(RACE_DEFAULTS), value=surface, description="surface")
    log_lr = widgets.FloatSlider(value=np.log10(d["lr"]), min=-4, max=0, step=0.1, description="log10 lr",
                                 tooltip="learning rate of SGD and momentum")
    log_alr = widgets.FloatSlider(value=np.log10(d["adaptive_lr"]), min=-3, max=0, step=0.1,
                                  description="log10 lr (RMSProp, Adam)", style={"description_width": "initial"})
    mom = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum")
    b1 = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="beta1")
    b2 = widgets.FloatSlider(value=0.999, min=0.5, max=0.999, step=0.001, readout_format=".3f", description="beta2")
    x0 = widgets.FloatSlider(value=s.start[0], min=s.xlim[0], max=s.xlim[1], step=0.05, description="start x")
    y0 = widgets.FloatSlider(value=s.start[1], min=s.ylim[0], max=s.ylim[1], step=0.01, description="start y")
    n = widgets.IntSlider(value=int(d["steps"]), min=10, max=2000, step=10, description="steps")
    busy = {"on": False}

    def surface_settings(name):
        """What choosing surface ``name`` sets the other controls to: its defaults and start."""
        dd, start = RACE_DEFAULTS[name], SURFACES[name].start
        return {"log_lr": float(np.log10(dd["lr"])), "log_alr": float(np.log10(dd["adaptive_lr"])),
                "steps": int(dd["steps"]), "x0": start[0], "y0": start[1]}

    def on_surface(change):
        busy["on"] = True
        try:
            new, settings = SURFACES[change["new"]], surface_settings(change["new"])
            log_lr.value, log_alr.value, n.value = settings["log_lr"], settings["log_alr"], settings["steps"]
            x0.min, x0.max = -10, 10
            y0.min, y0.max = -10, 10
            x0.value, y0.value = settings["x0"], settings["y0"]
            x0.min, x0.max = new.xlim
            y0.min, y0.max = new.ylim
        finally:
            busy["on"] = False
        redraw()

    def race(state):
        return optimizer_race(state["surface"], 10 ** state["log_lr"], 10 ** state["log_alr"],
                              momentum=state["momentum"], beta1=state["beta1"], beta2=state["beta2"],
                              start=(state["x0"], state["y0"]), steps=state["steps"])

    scene: dict = {"surface": None, "artists": None}  # the surface the axes show, and its moving artists

    def draw(live, state, race):
        if scene["artists"] is None:
            scene["artists"] = plot_race_scene(live.axes, race["surface"])
        elif scene["surface"] != state["surface"]:  # a new surface: its contours, window and loss range
            set_race_surface(scene["artists"], race["surface"])
        scene["surface"] = state["surface"]
        update_race(scene["artists"], race["surface"], race["paths"])
        return race_text(race)

    controls = {"surface": choose, "log_lr": log_lr, "log_alr": log_alr, "momentum": mom, "beta1": b1, "beta2": b2,
                "x0": x0, "y0": y0, "steps": n}
    live = LiveFigure((11, 4.2), controls, draw, compute=race, text=True, nrows=1, ncols=2,
                      resets={"surface": surface_settings}, scene=lambda state: state["surface"])

    def redraw(*_):
        if not busy["on"]:
            live.show()

    choose.observe(on_surface, names="value")
    for control in (log_lr, log_alr, mom, b1, b2, x0, y0, n):
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([choose, n]), widgets.HBox([log_lr, log_alr]), widgets.HBox([mom, b1, b2]),
                        widgets.HBox([x0, y0]), live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box
