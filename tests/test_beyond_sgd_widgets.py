"""Notebook 06's widget logic and plot helpers, called directly (no browser)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.landscape import SURFACES, trajectory  # noqa: E402
from backprop_lib.optim import SGD  # noqa: E402
from backprop_lib.parallel import Event, ideal_timeline  # noqa: E402
from backprop_lib.plotting import (OPTIMIZER_COLORS, plot_curves, plot_loss_slice, plot_pipeline_timeline,  # noqa: E402
                                   plot_surface_paths)
from backprop_lib.widgets import RACE_DEFAULTS, optimizer_race, optimizer_race_widget  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", sorted(RACE_DEFAULTS))
def test_race_runs_all_four_optimisers_from_the_same_start(name):
    race = optimizer_race(name)
    steps = RACE_DEFAULTS[name]["steps"]
    assert list(race["paths"]) == list(OPTIMIZER_COLORS)
    for label, path in race["paths"].items():
        assert path.shape == (steps + 1, 2)
        np.testing.assert_array_equal(path[0], SURFACES[name].start)
        assert race["final"][label] == pytest.approx(SURFACES[name](path[-1]))
        assert race["losses"][label].shape == (steps + 1,)


def test_race_sgd_path_is_the_library_trajectory():
    race = optimizer_race("ravine", lr=0.02, steps=30, start=(2.0, 0.5))
    np.testing.assert_array_equal(race["paths"]["SGD"], trajectory("ravine", SGD(lr=0.02), start=(2.0, 0.5), steps=30))


def test_race_defaults_show_each_surfaces_lesson():
    saddle = optimizer_race("saddle")["final"]
    assert saddle["SGD"] > -0.01            # plain SGD still sits on the saddle's plateau (loss 0 there)
    assert saddle["Adam"] < -0.2            # Adam has left it for a valley at loss -1/4
    rosen = optimizer_race("rosenbrock")["final"]
    assert rosen["momentum"] < 1e-2 < rosen["SGD"]


def test_race_zero_momentum_makes_momentum_plain_sgd():
    race = optimizer_race("ravine", momentum=0.0, steps=20)
    np.testing.assert_array_equal(race["paths"]["momentum"], race["paths"]["SGD"])


def test_widget_builds_and_redraws_without_a_browser():
    pytest.importorskip("ipywidgets")
    w = optimizer_race_widget("saddle")
    assert len(w.children) == 5
    surface_dropdown = w.children[0].children[0]
    surface_dropdown.value = "rosenbrock"  # resets sliders to that surface's defaults and redraws
    x_slider = w.children[3].children[0]
    assert x_slider.value == SURFACES["rosenbrock"].start[0]


def test_every_control_of_the_race_widget_redraws_on_a_figure_of_its_own():
    pytest.importorskip("ipywidgets")
    plt.close("all")
    w = optimizer_race_widget("ravine")
    live = w.live
    controls = [c for row in w.children[:4] for c in row.children]
    assert live.draws == 1
    pictures = {bytes(live.image.value)}
    for control in controls[1:]:  # every slider: one redraw each, each a new picture
        control.value = control.max if control.value != control.max else control.min
        pictures.add(bytes(live.image.value))
    controls[0].value = "saddle"  # the surface: sliders reset without a redraw each, then one redraw
    assert live.draws == 1 + len(controls[1:]) + 1
    assert len(pictures) == 1 + len(controls[1:])
    assert "saddle" in live.axes[0].get_title() and live.fig.axes[:2] == list(live.axes)
    assert plt.get_fignums() == [], "the race widget must not use pyplot (its state is shared with running cells)"


def test_curve_labels_that_start_with_an_optimiser_get_its_colour_dashed():
    ax = plot_curves({"SGD": [1.0, 0.5], "SGD, lr 0.5": [1.0, 0.2], "Adam + cosine": [1.0, 0.1], "other": [1.0, 0.3]})
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["SGD, lr 0.5"].get_color() == lines["SGD"].get_color() == OPTIMIZER_COLORS["SGD"]
    assert lines["SGD, lr 0.5"].get_linestyle() == "--" and lines["SGD"].get_linestyle() == "-"
    assert lines["Adam + cosine"].get_color() == OPTIMIZER_COLORS["Adam"]
    assert lines["other"].get_linestyle() == "-"


def test_plot_helpers_return_their_axes():
    race = optimizer_race("ravine", steps=10)
    ax = plot_surface_paths("ravine", race["paths"])
    assert ax.get_xlabel() == "x" and "ravine" in ax.get_title()
    ax = plot_curves({"SGD": [1.0, 0.5, 0.2], "Adam": [1.0, 0.1, 0.01]}, target=0.1)
    assert ax.get_yscale() == "log"
    ax = plot_pipeline_timeline(ideal_timeline(4), unit="")
    assert "20%" in ax.get_title()
    grid = np.exp(np.random.default_rng(0).standard_normal((5, 4)))
    ax = plot_loss_slice(np.linspace(-1, 1, 4), np.linspace(-1, 1, 5), grid)
    assert "alpha" in ax.get_xlabel()


def test_timeline_plot_accepts_measured_events_in_seconds():
    events = [Event(0, "forward", 0, 0.0, 0.01), Event(1, "forward", 0, 0.011, 0.02),
              Event(1, "backward", 0, 0.02, 0.04), Event(0, "backward", 0, 0.041, 0.06)]
    ax = plot_pipeline_timeline(events)
    assert ax.get_xlabel() == "time (ms)"


def test_the_line_under_the_race_gives_every_final_loss_and_a_diverged_run_shows_as_huge():
    from backprop_lib.widgets import race_text

    race = optimizer_race("ravine", lr=0.5, steps=200)  # SGD's lr far past 2/25: it diverges along y
    text = race_text(race)
    assert text.startswith("loss after 200 steps:") and "(the minimum's loss: 0)" in text
    for name, loss in race["final"].items():
        assert f"{name} {loss:.2g}" in text
    assert race["final"]["SGD"] > 1e9, "the diverged run stops at its last point within 1e6, with a huge loss"
