"""The quantitative claims of notebooks/01_chain_rule.ipynb, recomputed and asserted.

Each test quotes the sentence it guards. Where the notebook computes the quantity in a cell,
the test runs THAT cell's code (found by its cell id, after the setup cell), so the notebook
and the test cannot drift apart; otherwise it calls the same library function the notebook
calls. Timings are never asserted (they depend on the machine); the cost claims are checked
through what they rest on: counts and the cost model's arithmetic.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.gradcheck import (  # noqa: E402
    central_difference,
    forward_difference,
    numerical_gradient,
    optimal_h,
    rel_error,
)
from backprop_lib.plotting import mean_difference_errors  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "01_chain_rule.ipynb"
EPS = float(np.finfo(np.float64).eps)

SETUP = "be2e3b0f"          # imports, rng = default_rng(0)
V_CURVE = "6e389223"        # section 3: best h, errors at the best h and at h = 1e-5
REL_ERROR_TABLE = "4a1e0002"  # section 4: the rule of thumb on entries of every size, one wrong entry
CHAIN = "bb5b0a0f"          # section 5: sin(x^2)
NEURON = "e9b67c2b"         # section 5: sigma(wx + b)
GRADIENT = "eba1ad2a"       # section 6: f2 at four random points
COUNT = "62d82996"          # section 7: the linear model, 2P evaluations


def _cells() -> dict[str, str]:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return {c["id"]: "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"}


# The computational cells, in notebook order (plots, widgets and timings left out). A cell may use
# names an earlier one defined (eps, verdict) and the shared rng, so a cell runs after all before it.
ORDER = (SETUP, V_CURVE, REL_ERROR_TABLE, CHAIN, NEURON, GRADIENT, COUNT)


def _run(last: str) -> dict:
    """Execute the notebook's computational cells up to and including ``last`` in one namespace."""
    cells = _cells()
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        for cid in ORDER[: ORDER.index(last) + 1]:
            assert cid in cells, f"notebook 01 has no code cell with id {cid}; update this test with the notebook"
            exec(compile(cells[cid], f"<notebook 01 cell {cid}>", "exec"), namespace)  # noqa: S102
    namespace["_stdout"] = out.getvalue()
    return namespace


# --------------------------------------------------------------------------- sections 1-2


def test_every_factor_10_in_h_buys_one_more_correct_digit_of_the_forward_difference():
    """Section 1: 'Every factor 10 in h buys one more correct digit: the error is proportional to h.'"""
    exact = math.cos(1.0)
    errors = [abs(forward_difference(math.sin, 1.0, h) - exact) for h in (1e-1, 1e-2, 1e-3, 1e-4)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 9) & (ratios < 11)), ratios


def test_forward_error_falls_10x_and_central_error_100x_per_decade():
    """Section 2: 'The forward error falls 10x per decade of h, the central one 100x.'"""
    exact = math.cos(1.0)
    hs = (1e-1, 1e-2, 1e-3, 1e-4)
    fwd = np.array([abs(forward_difference(math.sin, 1.0, h) - exact) for h in hs])
    cen = np.array([abs(central_difference(math.sin, 1.0, h) - exact) for h in hs])
    assert np.all((fwd[:-1] / fwd[1:] > 9) & (fwd[:-1] / fwd[1:] < 11))
    assert np.all((cen[:-1] / cen[1:] > 90) & (cen[:-1] / cen[1:] < 110))


def test_taylor_predicts_both_errors_at_h_1e_2():
    """Section 2: "Taylor's prediction for h = 1e-2: forward ~ h/2 |f''|, central ~ h^2/6 |f'''|"."""
    h, exact = 1e-2, math.cos(1.0)
    fwd = abs(forward_difference(math.sin, 1.0, h) - exact)
    cen = abs(central_difference(math.sin, 1.0, h) - exact)
    assert fwd == pytest.approx(h / 2 * math.sin(1.0), rel=0.02)
    assert cen == pytest.approx(h**2 / 6 * math.cos(1.0), rel=0.01)


# --------------------------------------------------------------------------- section 3


@pytest.fixture(scope="module")
def v_curve():
    return _run(V_CURVE)


def _best_h(ns, key):
    errors = ns["errors"]
    i = int(np.argmin(errors[key]))
    return errors["h"][i], errors[key][i]


def test_the_notebook_v_curve_is_the_library_average():
    ns = _run(V_CURVE)
    ref = mean_difference_errors(math.sin, math.cos, np.linspace(0.5, 1.5, 21), np.logspace(-15, 0, 61))
    for key in ("forward", "central"):
        np.testing.assert_array_equal(ns["errors"][key], ref[key])


def test_measured_best_h_sits_where_theory_puts_it(v_curve):
    """Section 3: 'The bottom of each V sits where theory put it' (eps^(1/2) forward, eps^(1/3) central)."""
    h_fwd, _ = _best_h(v_curve, "forward")
    h_cen, _ = _best_h(v_curve, "central")
    assert optimal_h(1) / 3 < h_fwd < optimal_h(1) * 3, h_fwd
    assert optimal_h(2) / 3 < h_cen < optimal_h(2) * 3, h_cen


def test_central_error_at_its_best_h_is_a_few_1e_12_and_about_1e_11_at_the_default_h(v_curve):
    """Section 3: 'Even at its best h the central difference of sin is off by a few 1e-12 (...a relative error of
    about 1e-11), and at the library's h = 1e-5 by about 1e-11.' Section 4: '...about 1e-11 for the entry of size 1
    (what sin gave in section 3)'."""
    _, err_best = _best_h(v_curve, "central")
    assert 1e-12 <= err_best < 1e-11, err_best
    relative = err_best / v_curve["slope_size"]
    assert 1e-12 < relative < 3e-11, relative
    hs, cen = v_curve["errors"]["h"], v_curve["errors"]["central"]
    at_default = cen[int(np.argmin(np.abs(hs - 1e-5)))]
    assert 3e-12 < at_default < 3e-11, at_default


def test_the_central_v_bottoms_out_far_below_the_forward_one(v_curve):
    """Section 3: central differences' V bottom 'is also much lower than the forward difference's'."""
    _, err_fwd = _best_h(v_curve, "forward")
    _, err_cen = _best_h(v_curve, "central")
    assert err_cen < err_fwd / 100


# --------------------------------------------------------------------------- section 4: the relative error


@pytest.fixture(scope="module")
def table():
    return _run(REL_ERROR_TABLE)


def test_rel_error_rule_of_thumb_verdicts_on_entries_of_every_size(table):
    """Section 4: 'below 1e-12 for the entry of size about 1, in between for the one of size about 1e-6, and
    above 1e-4 for the one of size about 1e-8, although every entry is exact.'"""
    a, n, verdict = table["analytic"], table["numeric"], table["verdict"]
    errs = [rel_error(ai, ni) for ai, ni in zip(a, n)]
    assert [verdict(e) for e in errs] == ["right", "right", "right", "look closer", "wrong"], errs
    assert errs[0] < 1e-12
    assert np.all(np.diff(errs) > 0), "the relative error grows as the entry shrinks"
    np.testing.assert_array_equal(a, table["scales"] * table["w0"])  # the gradient is exact


def test_absolute_errors_are_set_by_the_loss_not_by_the_entry(table):
    """Section 4: 'The absolute error |a_i - n_i| is at most a few 1e-12 for every entry, below the round-off
    scale eps |L| / h: it is set by the loss, not by the entry.'"""
    a, n = table["analytic"], table["numeric"]
    assert np.max(np.abs(a - n)) < 1e-11
    assert table["round_off"] == pytest.approx(EPS * abs(table["loss"](table["w0"])) / 1e-5)
    assert np.all(np.abs(a - n) > 0), "no entry is exact by luck: the errors shown are round-off"
    assert np.all(np.abs(a - n) < table["round_off"])
    assert "every |a_i - n_i| below the round-off scale: True" in table["_stdout"]


def test_real_loss_check_lands_between_1e_12_and_1e_9_on_entries_not_tiny_compared_with_the_loss(table, v_curve):
    """Section 4: 'a gradient check of a real loss, with one h = 1e-5 for every entry, typically lands between
    1e-12 and 1e-9 on entries that are not tiny compared with the loss (a loss that is not quadratic adds the
    truncation error, about 1e-11 relative at h = 1e-5, as sin showed in section 3)'."""
    for ai, ni in zip(table["analytic"][:2], table["numeric"][:2]):
        assert 1e-14 < rel_error(ai, ni) < 1e-9
    hs, cen = v_curve["errors"]["h"], v_curve["errors"]["central"]
    relative = cen[int(np.argmin(np.abs(hs - 1e-5)))] / v_curve["slope_size"]
    assert 3e-12 < relative < 3e-11


def test_per_entry_ratio_flags_one_wrong_entry_that_one_ratio_of_maxima_hides(table):
    """Section 4: 'A bug makes an error as large as the entry it spoils, like the factor 2 in the last line, which
    the per-entry ratio flags at once and one ratio of two maxima would have called merely "look closer".'"""
    verdict = table["verdict"]
    assert table["per_entry"] == pytest.approx(1 / 3, rel=1e-6)
    assert verdict(table["per_entry"]) == "wrong"
    assert verdict(table["one_ratio"]) == "look closer"


def test_rule_of_thumb_thresholds_are_the_course_rule():
    """Section 4: 'below 1e-7 the gradient is right, above 1e-4 it is wrong, in between look closer.'"""
    verdict = _run(REL_ERROR_TABLE)["verdict"]
    assert [verdict(e) for e in (9.9e-8, 1e-7, 1e-4, 1.01e-4)] == ["right", "look closer", "look closer", "wrong"]


def test_question_3_arithmetic():
    """Answer 3: 'The entry's absolute error is about 5e-6 x 2e-6 = 1e-11, the round-off scale eps |L| / h
    ~ 2e-11 at h = 1e-5.'"""
    assert 5e-6 * 2e-6 == pytest.approx(1e-11)
    assert EPS * 1.0 / 1e-5 == pytest.approx(2.2e-11, rel=0.02)


# --------------------------------------------------------------------------- sections 5-6


def test_chain_rule_examples_agree_with_central_differences():
    """Sections 5-6: the chain rule, the neuron and the two-variable gradient all pass the rule of thumb."""
    ns = _run(GRADIENT)
    assert ns["verdict"](rel_error(ns["chain"], central_difference(lambda t: math.sin(t**2), 1.3))) == "right"
    assert rel_error(ns["ds_dw"], ns["num_w"]) < 1e-7 and rel_error(ns["ds_db"], ns["num_b"]) < 1e-7
    assert ns["_stdout"].count("rel_error: right") == 5  # sin(x^2) once, f2 at four points


# --------------------------------------------------------------------------- section 7: the cost


def test_finite_differences_evaluate_the_loss_exactly_2P_times():
    """Section 7: "`numerical_gradient` needs two evaluations of L per parameter: 2P forward passes"."""
    ns = _run(COUNT)
    assert ns["calls"] == 2 * ns["w"].size == 200
    assert ns["verdict"](rel_error(ns["g_ana"], ns["g_num"])) == "right"
    for P in (1, 7, 64):
        calls = 0

        def counted(v):
            nonlocal calls
            calls += 1
            return float(np.sum(v**2))

        numerical_gradient(counted, np.ones(P))
        assert calls == 2 * P


def test_the_linear_model_gradient_is_one_product_forward_and_one_backward():
    """Section 7: 'forward + backward is two products, about 2x one loss evaluation in arithmetic' for the
    linear model, against '3x one forward pass' for a dense layer of a network (one product forward, two back)."""
    ns = _run(COUNT)
    X, Y, w = ns["X"], ns["Y"], ns["w"]
    count = {"n": 0}

    class Counting(np.ndarray):
        def __matmul__(self, other):
            count["n"] += 1
            return np.asarray(self) @ other

    Xc = X.view(Counting)
    ns["mse_loss"](w, Xc, Y)
    forward = count["n"]
    count["n"] = 0
    ns["mse_grad"](w, Xc, Y)
    assert forward == 1
    assert count["n"] == 2  # X @ w forward, X.T @ r backward


def test_question_6_arithmetic():
    """Answer 6: '2 x 25e6 x 0.05 s = 2.5e6 s, about 29 days. Backprop: ... 3 x 50 ms ~ 0.15 s'."""
    fd = 2 * 25e6 * 0.05
    assert fd == pytest.approx(2.5e6)
    assert round(fd / 86400) == 29
    assert 3 * 0.050 == pytest.approx(0.15)
