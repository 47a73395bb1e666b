"""Notebook 01's widget logic and plot helpers, called directly (no browser)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.gradcheck import central_difference, difference_errors  # noqa: E402
from backprop_lib.plotting import (  # noqa: E402
    format_duration,
    growth_exponents,
    mean_difference_errors,
    plot_difference_errors,
    plot_gradient_cost,
    plot_gradient_field,
    plot_secant_tangent,
)
from backprop_lib.widgets import DERIVATIVE_EXAMPLES, secant_tangent, secant_tangent_widget  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- DERIVATIVE_EXAMPLES


@pytest.mark.parametrize("name", sorted(DERIVATIVE_EXAMPLES))
def test_every_example_derivative_matches_central_differences(name):
    f, df, _ = DERIVATIVE_EXAMPLES[name]
    for x in (-1.7, -0.2, 0.0, 0.9, 1.8):
        assert math.isclose(float(df(x)), central_difference(f, x, 1e-5), rel_tol=1e-7, abs_tol=1e-9)


def test_example_sigmoid_is_stable_and_exact_in_the_tails():
    f, df, _ = DERIVATIVE_EXAMPLES["sigmoid"]
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(all="raise", under="ignore"):
        s, ds = f(x), df(x)
    np.testing.assert_allclose(s, [0.0, math.exp(-40) / (1 + math.exp(-40)), 0.5, 1 / (1 + math.exp(-40)), 1.0],
                               rtol=1e-15, atol=0)
    # sigma'(40) = e^-40 / (1 + e^-40)^2: the form s * (1 - s) would give exactly 0 here
    np.testing.assert_allclose(ds[1], math.exp(-40) / (1 + math.exp(-40)) ** 2, rtol=1e-14)
    np.testing.assert_allclose(ds[3], ds[1], rtol=1e-14)
    assert ds[2] == 0.25 and ds[0] == ds[4] == 0.0


# --------------------------------------------------------------------------- secant_tangent


def test_secant_tangent_cube_matches_closed_forms():
    # (x+h)^3 - x^3 = 3x^2 h + 3x h^2 + h^3, and (x+h)^3 - (x-h)^3 = 6x^2 h + 2h^3
    x, h = 0.7, 0.1
    d = secant_tangent("x^3", x, h)
    assert math.isclose(d["exact"], 3 * x**2, rel_tol=1e-15)
    assert math.isclose(d["forward"], 3 * x**2 + 3 * x * h + h**2, rel_tol=1e-12)
    assert math.isclose(d["central"], 3 * x**2 + h**2, rel_tol=1e-12)
    assert math.isclose(d["forward_error"], 3 * x * h + h**2, rel_tol=1e-10)
    assert math.isclose(d["central_error"], h**2, rel_tol=1e-10)


def test_secant_tangent_sin_and_exp_match_closed_forms():
    x, h = 0.4, 0.25
    d = secant_tangent("sin", x, h)
    # sin(x+h) - sin(x-h) = 2 cos(x) sin(h)
    assert math.isclose(d["central"], math.cos(x) * math.sin(h) / h, rel_tol=1e-13)
    assert math.isclose(d["forward"], (math.sin(x + h) - math.sin(x)) / h, rel_tol=1e-13)
    e = secant_tangent("exp", x, h)
    assert math.isclose(e["forward"], math.exp(x) * math.expm1(h) / h, rel_tol=1e-13)
    assert math.isclose(e["central"], math.exp(x) * math.sinh(h) / h, rel_tol=1e-13)
    assert math.isclose(e["exact"], math.exp(x), rel_tol=1e-15)


def test_secant_tangent_lines_pass_through_their_points():
    d = secant_tangent("sin(x^2)", -0.6, 0.3, halfwidth=1.0, num=201)
    grid = d["grid"]
    assert grid.shape == d["curve"].shape == d["tangent"].shape == d["forward_line"].shape == (201,)
    f = DERIVATIVE_EXAMPLES["sin(x^2)"][0]
    np.testing.assert_allclose(d["curve"], f(grid), rtol=1e-15)

    def at(line, t):
        return np.interp(t, grid, d[line])

    (x0, f0), (x1, f1) = d["forward_points"]
    (xm, fm), (xp, fp) = d["central_points"]
    assert math.isclose(at("tangent", x0), f0, abs_tol=1e-12)
    assert math.isclose(at("forward_line", x0), f0, abs_tol=1e-12)
    assert math.isclose(at("forward_line", x1), f1, abs_tol=1e-12)
    assert math.isclose(at("central_line", xm), fm, abs_tol=1e-12)
    assert math.isclose(at("central_line", xp), fp, abs_tol=1e-12)


def test_secant_tangent_central_error_shrinks_like_h_squared_and_forward_like_h():
    e1, e2 = secant_tangent("exp", 0.5, 1e-2), secant_tangent("exp", 0.5, 1e-3)
    assert 80 < e1["central_error"] / e2["central_error"] < 120
    assert 8 < e1["forward_error"] / e2["forward_error"] < 12


def test_secant_tangent_tiny_h_is_dominated_by_round_off():
    d = secant_tangent("sin", 1.0, 1e-12)
    assert d["central_error"] > 1e-6  # far above the O(h^2) = 1e-24 truncation error


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "cos"}, "name must be one of"),
    ({"h": 0.0}, "h must be a positive"),
    ({"h": -1e-3}, "h must be a positive"),
    ({"h": float("nan")}, "h must be a positive"),
    ({"x": float("inf")}, "x must be a finite"),
    ({"x": "1.0"}, "x must be a finite"),
])
def test_secant_tangent_rejects_bad_input(kwargs, match):
    args = {"name": "sin", "x": 1.0, "h": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        secant_tangent(**args)


# --------------------------------------------------------------------------- plots and widget


def test_plot_secant_tangent_draws_curve_tangent_and_both_secants():
    ax = plot_secant_tangent(secant_tangent("sigmoid", 0.5, 0.5))
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("tangent") for label in labels)
    assert any(label.startswith("forward secant") for label in labels)
    assert any(label.startswith("central secant") for label in labels)
    assert "central error" in ax.texts[0].get_text()
    assert ax.get_xlabel() == "x"


def test_plot_difference_errors_uses_log_axes_and_marks_both_theoretical_optima():
    errors = difference_errors(np.exp, np.exp, 1.0, np.logspace(-14, -1, 27))
    fig, ax = plt.subplots()
    assert plot_difference_errors(errors, ax=ax) is ax
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = " ".join(line.get_label() for line in ax.get_lines())
    assert "eps^(1/2)" in labels and "eps^(1/3)" in labels and "measured best h" in labels


def test_plot_gradient_field_draws_contours_and_arrows():
    ax = plot_gradient_field(lambda x, y: x**2 + 3 * y**2, lambda x, y: (2 * x, 6 * y), num=21, arrows=5)
    assert len(ax.collections) >= 2  # filled contours, lines, quiver
    assert any(type(c).__name__ == "Quiver" for c in ax.collections)


def test_mean_difference_errors_is_the_mean_of_difference_errors_over_the_points():
    hs = np.logspace(-10, -1, 10)
    xs = np.array([0.2, 0.9, 1.4])
    out = mean_difference_errors(math.sin, math.cos, xs, hs)
    runs = [difference_errors(math.sin, math.cos, x, hs) for x in xs]
    np.testing.assert_array_equal(out["h"], hs)
    for key in ("forward", "central"):
        np.testing.assert_allclose(out[key], np.mean([r[key] for r in runs], axis=0), rtol=1e-15)
    with pytest.raises(ValueError, match="xs must be"):
        mean_difference_errors(math.sin, math.cos, np.array([]), hs)


def test_growth_exponents_are_the_log_log_slopes_between_neighbours():
    P = np.array([10, 100, 1000, 10000], dtype=float)
    np.testing.assert_allclose(growth_exponents(P, 3e-9 * P**2), [2, 2, 2], rtol=1e-12)
    # a fixed overhead plus linear arithmetic: slope near 0 first, near 1 at the end
    P = np.array([10, 100, 1000, 10000, 100000], dtype=float)
    slopes = growth_exponents(P, 1e-6 + 1e-8 * P)
    assert slopes[0] < 0.3 and slopes[-1] > 0.99
    with pytest.raises(ValueError, match="positive"):
        growth_exponents(P, -P)
    with pytest.raises(ValueError, match="same length"):
        growth_exponents(P, P[:2])
    with pytest.raises(ValueError, match="increasing"):
        growth_exponents(P[::-1], P)


@pytest.mark.parametrize("seconds, text", [
    (4.3e-6, "4.3 µs"), (2.1e-5, "21 µs"), (0.0209, "21 ms"), (0.5, "500 ms"), (1.0, "1 second"),
    (59.0, "59 seconds"), (90.0, "1.5 minutes"), (3600.0, "1 hour"), (13300.0, "3.7 hours"),
    (1.5 * 86400, "1.5 days"), (365 * 86400.0, "1 year"), (4.2 * 365 * 86400, "4.2 years"),
    (2000 * 365 * 86400.0, "2,000 years"),
])
def test_format_duration_picks_the_unit_and_the_plural(seconds, text):
    assert format_duration(seconds) == text


def test_format_duration_rejects_bad_input():
    with pytest.raises(ValueError):
        format_duration(-1.0)
    with pytest.raises(ValueError):
        format_duration(float("nan"))
    with pytest.raises(TypeError):
        format_duration("1 s")


def test_plot_gradient_cost_draws_measurements_prediction_and_reference_slopes():
    P = np.array([10, 100, 1000, 10000, 100000], dtype=float)
    t_loss = 1e-6 + 1e-9 * P
    t_fd = np.where(P <= 1000, 2 * P * t_loss, np.nan)
    ax = plot_gradient_cost(P, t_loss, 2 * t_loss, t_fd)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    lines = {line.get_label(): line for line in ax.get_lines()}
    predicted = lines["finite differences predicted: 2P x one loss evaluation"]
    np.testing.assert_allclose(predicted.get_ydata(), 2 * P * t_loss)
    assert len(lines["finite differences, measured"].get_xdata()) == 3  # NaN sizes are not drawn
    assert any(label.startswith("reference slopes") for label in lines)
    with pytest.raises(ValueError, match="shape of P"):
        plot_gradient_cost(P, t_loss[:3], t_loss, t_fd)
    with pytest.raises(ValueError, match="at least one measured"):
        plot_gradient_cost(P, t_loss, t_loss, np.full(P.shape, np.nan))


def test_secant_tangent_widget_builds_and_reacts_to_the_sliders():
    pytest.importorskip("ipywidgets")
    box = secant_tangent_widget("exp", 0.5, -1.0)
    choose, point, step = box.children[0].children
    assert list(choose.options) == list(DERIVATIVE_EXAMPLES)
    first = bytes(box.live.image.value)
    step.value = -6.0
    choose.value = "tanh"
    assert box.live.draws == 3 and bytes(box.live.image.value) != first
    assert box.live.axes.get_title().startswith(DERIVATIVE_EXAMPLES["tanh"][2])
