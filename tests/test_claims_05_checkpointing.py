"""The quantitative claims of notebooks/05_checkpointing.ipynb, recomputed with the library.

Each test quotes the sentence (or printed line) it guards and uses the notebook's seeds and
settings. Timings are never asserted; the time model is checked through the forward counts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_lib.checkpoint import (fp16_roundtrip, grads_with_checkpoints, loss_scale_window, measure_strategies,
                                     overflow_fraction, revolve_cost, revolve_cost_dp, revolve_repetitions,
                                     revolve_schedule, store_all_bytes, strategy_cost, underflow_fraction)
from backprop_lib.mlp import MLP
from backprop_lib.widgets import checkpoint_text


@pytest.fixture(scope="module")
def data():
    """The notebook's X, y: the first two draws of rng = default_rng(0)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 32))
    y = rng.integers(0, 10, 64)
    return X, y


def _identical(net, X, y, **kw):
    ref_loss, ref = net.loss_and_grads(X, y)
    loss, grads, st = grads_with_checkpoints(net, X, y, **kw)
    return loss == ref_loss and all(np.array_equal(grads[k], ref[k]) for k in ref), st


# ----------------------------------------------------------------------------- 1. store-all


def test_activations_of_the_large_mlp_are_about_eight_times_its_weights():
    """"The activations take about eight times the memory of the weights here"; "doubling the batch doubles
    them, and doubling the depth nearly does" (48 layers x 4096, 16384 rows, float16)."""
    sizes, rows = [4096] * 49, 16 * 1024
    acts = store_all_bytes(sizes, rows, itemsize=2)
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * 2
    assert round(acts / weights, 1) == 8.1
    assert round(acts / 2**30, 2) == 12.12
    deeper = store_all_bytes([4096] * 97, rows, 2)
    assert 1.98 < deeper / acts < 2.0 and store_all_bytes(sizes, 2 * rows, 2) == 2 * acts


def test_store_all_holds_2n_plus_1_arrays_for_no_extra_forward(data):
    """"Store-all holds 2n + 1" arrays, 0 extra forwards; the executor holds one fewer (a_L is z_L)."""
    X, y = data
    net = MLP([32] * 16 + [10], activation="relu", init="he", seed=0)
    same, st = _identical(net, X, y, strategy="store_all")
    assert same and st.layer_forwards == 16 and st.extra_forwards == 0
    assert strategy_cost("store_all", 16).arrays == 33 and st.peak_arrays == 32
    assert st.peak_bytes == store_all_bytes(net.sizes, 64) - 64 * 10 * 8


# ----------------------------------------------------------------------------- 2. sqrt(n) segments


def test_sqrt_scheme_on_64_layers_both_last_segment_designs(data):
    """"recompute it ... 2n layer forwards"; "keep its caches ... 2n - k_last forwards"; "The peak memory is
    the same"; the bytes sit "a little below 3 sqrt(n)/(2n+1)" = 24/129."""
    X, y = data
    deep = MLP([32] * 64 + [10], activation="tanh", init="xavier", seed=1)
    _, _, full = grads_with_checkpoints(deep, X, y, "store_all")
    same_a, again = _identical(deep, X, y, strategy="sqrt")
    same_b, kept = _identical(deep, X, y, strategy="sqrt", keep_last_segment=True)
    assert same_a and same_b
    assert again.layer_forwards == 128 and again.extra_forwards == 64 == strategy_cost("sqrt", 64).extra_forwards
    assert kept.layer_forwards == 120 and kept.extra_forwards == 56
    assert kept.peak_bytes == again.peak_bytes and kept.peak_arrays == again.peak_arrays == 23
    assert strategy_cost("sqrt", 64).arrays == 24 == 3 * 8
    ratio = again.peak_bytes / full.peak_bytes
    assert round(ratio, 3) == 0.181 and ratio < 24 / 129


def test_three_sqrt_n_and_the_true_minimum_of_n_over_k_plus_2k():
    """"stored(sqrt n) = 3 sqrt n"; "The exact minimum of n/k + 2k is 2 sqrt(2n) ~ 2.83 sqrt n ... only about
    6% less"; Q2: n = 100 holds 30 arrays and runs 200 forwards, or 190 keeping the last segment."""
    for n in (16, 64, 100, 256):
        assert strategy_cost("sqrt", n).arrays == 3 * math.isqrt(n)
    assert 1 - 2 * math.sqrt(2) / 3 == pytest.approx(0.057, abs=0.001)
    assert strategy_cost("sqrt", 100).arrays == 30
    assert strategy_cost("sqrt", 100).extra_forwards + 100 == 200
    assert strategy_cost("sqrt", 100, keep_last_segment=True).extra_forwards + 100 == 190


# ----------------------------------------------------------------------------- 3. revolve


def test_repetition_number_grows_like_the_s_th_root_of_s_factorial_n():
    """"r ~ (s! n)^(1/s) - (s+1)/2: the repetition count grows like the s-th root of the depth"; "Ten times
    deeper costs 10^(1/s) times more repetitions" (the table, n = 10 .. 10^6, s = 1, 2, 3, 4, 8)."""
    for s in (1, 2, 3, 4, 8):
        for n in (100, 1000, 10**4, 10**5, 10**6):
            estimate = math.factorial(s) * n
            estimate = estimate ** (1 / s) - (s + 1) / 2
            assert abs(revolve_repetitions(n, s) - estimate) < 1, (n, s)
        growth = revolve_repetitions(10**6, s) / revolve_repetitions(10**5, s)
        assert growth == pytest.approx(10 ** (1 / s), rel=0.07), s
    assert revolve_repetitions(10**6, 1) == 10**6 - 1  # one slot: quadratic cost
    # the binomial bound the estimate comes from: C(s + r, s) >= n > C(s + r - 1, s)
    for n, s in [(1000, 4), (10**6, 8)]:
        r = revolve_repetitions(n, s)
        assert math.comb(s + r, s) >= n > math.comb(s + r - 1, s)


def test_revolve_cost_table_and_the_1024_layer_sentence():
    """"revolve_cost(10, 3) = 15"; closed form == dynamic program for n <= 40; "Two slots already cut that by
    more than an order of magnitude, and eight slots reverse 1024 layers for between four and five extra
    forward passes"."""
    assert revolve_cost(10, 3) == 15
    assert all(revolve_cost(n, s) == revolve_cost_dp(n, s) for n in range(1, 41) for s in range(1, n + 1))
    assert revolve_cost(1024, 1) == 523776 and revolve_cost(1024, 2) == 29876
    assert revolve_cost(1024, 1) / revolve_cost(1024, 2) > 10
    assert 4 < revolve_cost(1024, 8) / 1024 < 5 and revolve_repetitions(1024, 8) == 5


def test_the_drawn_schedule_never_holds_more_than_its_three_slots():
    """"At no moment are more slots occupied than the 3 we allowed"; advances = extra forwards = 15."""
    sch = revolve_schedule(10, 3)
    assert sch.peak_snapshots == 3 and max(len(o) for o in sch.occupancy()) <= 3
    assert sch.extra_forwards == sch.advances == 15


def test_revolve_executor_counts_and_the_slots_equal_n_row(data):
    """"even with a slot for every layer input (slots = n = 10) revolve runs n - 1 = 9 extra forwards, not
    0"; "that is store-all, 2n + 1 = 21 arrays instead of n + 2 = 12"."""
    X, y = data
    net10 = MLP([32] * 10 + [10], activation="relu", seed=2)
    for slots in (1, 2, 3, 10):
        same, st = _identical(net10, X, y, strategy="revolve", slots=slots)
        assert same and st.extra_forwards == revolve_cost(10, slots)
        assert st.peak_snapshots <= slots and st.peak_arrays <= strategy_cost("revolve", 10, slots).arrays == slots + 2
    assert revolve_cost(10, 10) == 9
    assert strategy_cost("store_all", 10).arrays == 21 and strategy_cost("revolve", 10, 10).arrays == 12


def test_sqrt_sits_below_the_revolve_curve_and_the_curve_ends_above_zero():
    """"at sqrt's memory (24 arrays) revolve has 22 slots and needs 104 extra forwards; sqrt needs 64";
    "revolve's curve ends at slots = n = 64: 66 arrays, 63 extra forwards (store_all: 129 arrays, 0 extra)";
    r = 1 needs s + 1 >= n."""
    sq = strategy_cost("sqrt", 64)
    at_same_memory = strategy_cost("revolve", 64, sq.arrays - 2)
    assert (sq.arrays, sq.extra_forwards) == (24, 64)
    assert at_same_memory.arrays == 24 and at_same_memory.extra_forwards == 104 > sq.extra_forwards
    end = strategy_cost("revolve", 64, 64)
    assert (end.arrays, end.extra_forwards) == (66, 63)
    assert revolve_repetitions(64, 63) == 1 and revolve_repetitions(64, 62) == 2
    text = checkpoint_text(64, 4)
    assert "129 arrays,     0 extra" in text and "24 arrays,    64 extra" in text and "6 arrays,   200 extra" in text


# ----------------------------------------------------------------------------- 4. measured memory


@pytest.fixture(scope="module")
def measured():
    return measure_strategies([64, 256], width=32, batch=256, slots=4, seed=0, repeat=1)


def test_measured_sqrt_memory_matches_the_array_model(measured):
    """"the measured share of store-all's memory is within a few percent of 3 sqrt(n)/(2n+1)" (n = 256:
    predicted 48/513 = 9.4%, measured 9.6%)."""
    predicted = strategy_cost("sqrt", 256).arrays / strategy_cost("store_all", 256).arrays
    assert predicted == 48 / 513
    t, c = measured["traced"], measured["counted"]
    share = t["sqrt"][1] / t["store_all"][1]
    assert share == pytest.approx(predicted, rel=0.05)
    assert c["sqrt"][1] / c["store_all"][1] == pytest.approx(predicted, rel=0.05)
    assert t["revolve"][1] / t["store_all"][1] < 0.03


def test_measured_memory_slopes_one_half_and_flat(measured):
    """"store-all is a line of slope 1, the sqrt(n) scheme a line of slope about 1/2, and revolve ... is flat
    in what it stores (the counted slope is 0); its measured line creeps up a little"."""
    t, c = measured["traced"], measured["counted"]

    def slope(v):
        return math.log(v[1] / v[0]) / math.log(256 / 64)

    assert slope(t["store_all"]) == pytest.approx(1.0, abs=0.05)
    assert slope(t["sqrt"]) == pytest.approx(0.5, abs=0.1)
    assert slope(c["revolve"]) == 0.0 and 0 < slope(t["revolve"]) < 0.2


def test_time_model_gives_four_thirds_for_sqrt(measured):
    """"a step costs (forwards + 2n) forward-units against store-all's 3n, which gives 4/3 for sqrt(n) and
    grows slowly with depth for revolve"."""
    f = measured["forwards"]
    assert [(fw + 2 * n) / (3 * n) for fw, n in zip(f["sqrt"], (64, 256))] == [4 / 3, 4 / 3]
    revolve = [(fw + 2 * n) / (3 * n) for fw, n in zip(f["revolve"], (64, 256))]
    assert 4 / 3 < revolve[0] < revolve[1] < 3


# ----------------------------------------------------------------------------- 6. mixed precision


@pytest.fixture(scope="module")
def layer_grads(data):
    X, y = data
    sig = MLP([32] * 10 + [10], activation="sigmoid", init="xavier", seed=3)
    _, g = sig.loss_and_grads(X, y)
    return {f"dL/dW{l}": g[f"W{l}"] for l in (1, 4, 10)}


def test_underflow_without_and_overflow_with_a_large_loss_scale(layer_grads):
    """The printed table: dL/dW1 loses 44.8% to underflow at S = 1 and none at 2^16; dL/dW10 overflows by
    79.7% at S = 2^22 and 99.1% at 2^24 ("most of the last layer's gradient becomes inf")."""
    g1, g10 = layer_grads["dL/dW1"], layer_grads["dL/dW10"]
    assert round(underflow_fraction(g1), 3) == 0.448 and underflow_fraction(g1, 2.0**16) == 0
    assert overflow_fraction(g10, 2.0**16) == 0
    assert round(overflow_fraction(g10, 2.0**22), 3) == 0.797 and round(overflow_fraction(g10, 2.0**24), 3) == 0.991
    err_plain = np.abs(fp16_roundtrip(g1) - g1).max() / np.abs(g1).max()
    err_scaled = np.abs(fp16_roundtrip(g1, 2.0**16) - g1).max() / np.abs(g1).max()
    assert err_scaled < 1e-3 < 0.1 < err_plain


def test_usable_loss_scale_window_and_its_bounds(layer_grads):
    """"usable loss scales ... S = 2^10 to 2^19"; "bounds from the extremes: S > 2^-25 / min|g| = 2^9.2,
    S < 65520 / max|g| = 2^19.6"; the first layer fixes the lower end, the last layer the upper end; PyTorch's
    GradScaler's starting scale 2^16 lies inside."""
    scales = [2.0**k for k in range(0, 31)]
    assert loss_scale_window(layer_grads, scales) == (2.0**10, 2.0**19)
    smallest = min(np.abs(g[g != 0]).min() for g in layer_grads.values())
    largest = max(np.abs(g).max() for g in layer_grads.values())
    assert round(math.log2(2.0**-25 / smallest), 1) == 9.2 and round(math.log2(65520 / largest), 1) == 19.6
    assert smallest == np.abs(layer_grads["dL/dW1"][layer_grads["dL/dW1"] != 0]).min()
    assert largest == np.abs(layer_grads["dL/dW10"]).max()
    assert loss_scale_window({"W1": layer_grads["dL/dW1"]}, scales)[1] == 2.0**30  # W1 never overflows here
    assert 2.0**10 <= 2.0**16 <= 2.0**19


def test_check_your_understanding_answers():
    """Q1: 52 428 800 bytes; Q5: revolve_cost(10, 2) = 20 (r = 3)."""
    assert store_all_bytes([1024] * 13, 512, 4) == 52_428_800
    assert revolve_repetitions(10, 2) == 3 and revolve_cost(10, 2) == 20
