"""Gradient checkpointing: identical gradients, counted forwards, bounded memory, optimal schedules."""

import math

import numpy as np
import pytest

from backprop_lib.checkpoint import (
    Action,
    Schedule,
    fp16_roundtrip,
    grads_with_checkpoints,
    loss_scale_window,
    measure_memory,
    overflow_fraction,
    revolve_cost,
    revolve_cost_dp,
    revolve_repetitions,
    revolve_schedule,
    sqrt_segments,
    store_all_bytes,
    strategy_cost,
    underflow_fraction,
)
from backprop_lib.gradcheck import numerical_gradient
from backprop_lib.mlp import MLP


def _problem(n, activation="relu", loss="cross_entropy", width=8, batch=6, seed=0, **kw):
    sizes = [5] + [width] * (n - 1) + [3]
    out_act = "sigmoid" if loss == "mse" and kw.pop("sigmoid_out", False) else None
    net = MLP(sizes, activation=activation, init="xavier", seed=seed, output_activation=out_act, bias_std=0.1, **kw)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, 5))
    y = rng.integers(0, 3, batch) if loss == "cross_entropy" else rng.random((batch, 3))
    return net, X, y


def _cases(n):
    return [("store_all", None), ("sqrt", None)] + [("revolve", s) for s in sorted({1, 2, 3, n}) if s <= n]


# ----------------------------------------------------------------------------- the cost model


def test_revolve_cost_documented_values():
    assert revolve_cost(10, 3) == 15
    assert revolve_cost(1, 1) == 0
    for n in range(1, 40):
        assert revolve_cost(n, 1) == n * (n - 1) // 2
        assert revolve_cost(n, n) == n - 1


def test_revolve_cost_closed_form_matches_dynamic_program_over_split_points():
    for n in range(1, 45):
        for s in range(1, min(n, 9) + 1):
            assert revolve_cost(n, s) == revolve_cost_dp(n, s), (n, s)


def test_revolve_cost_never_increases_with_more_slots():
    for n in (7, 30, 100):
        costs = [revolve_cost(n, s) for s in range(1, n + 1)]
        assert all(a >= b for a, b in zip(costs, costs[1:]))


@pytest.mark.parametrize("bad", [0, -1, 2.5, None, True])
def test_revolve_cost_rejects_bad_slots_naming_the_argument(bad):
    with pytest.raises(ValueError, match="slots"):
        revolve_cost(10, bad)


def test_revolve_cost_rejects_more_slots_than_layers():
    with pytest.raises(ValueError, match="slots must be at most n=4"):
        revolve_cost(4, 5)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        revolve_cost(0, 1)


# ----------------------------------------------------------------------------- schedules


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 24, 50])
def test_revolve_schedule_is_feasible_optimal_and_within_slots(n):
    for s in range(1, n + 1):
        sch = revolve_schedule(n, s)
        sch.validate()  # reverses layers n..1, advances only from the current state, restores held states
        assert sch.advances == revolve_cost(n, s)
        assert sch.layer_forwards == revolve_cost(n, s) + n
        assert sch.extra_forwards == revolve_cost(n, s)
        assert sch.peak_snapshots <= s
        assert [a.end for a in sch if a.kind == "reverse"] == list(range(n, 0, -1))


def test_revolve_schedule_one_slot_replays_from_the_input():
    sch = revolve_schedule(4, 1)
    assert [str(a) for a in sch] == [
        "advance 0->3", "reverse layer 4",
        "restore state 0 from slot 0", "advance 0->2", "reverse layer 3",
        "restore state 0 from slot 0", "advance 0->1", "reverse layer 2",
        "restore state 0 from slot 0", "reverse layer 1",
    ]


def test_schedule_validate_rejects_an_infeasible_schedule():
    bad = Schedule(3, 1, [Action("advance", 0, 2), Action("reverse", 1, 2)])
    with pytest.raises(ValueError, match="reverse layer 3"):
        bad.validate()
    wrong_restore = Schedule(2, 2, [Action("restore", 1, 1, 1)])
    with pytest.raises(ValueError, match="slot 1 holds None"):
        wrong_restore.validate()


def test_schedule_timeline_counts_one_step_per_layer():
    sch = revolve_schedule(10, 3)
    t_end = sch.timeline()[-1][0] + 1
    assert t_end == sch.advances + 10


def test_sqrt_segments_boundaries():
    assert sqrt_segments(10) == [0, 4, 8, 10]
    assert sqrt_segments(64) == [0, 8, 16, 24, 32, 40, 48, 56, 64]
    assert sqrt_segments(1) == [0, 1]
    assert sqrt_segments(16, length=5) == [0, 5, 10, 15, 16]
    for n in range(1, 200):
        b = sqrt_segments(n)
        assert b[0] == 0 and b[-1] == n and all(0 < e - s <= math.isqrt(n - 1) + 1 for s, e in zip(b, b[1:]))


def test_store_all_bytes_formula():
    assert store_all_bytes([784, 128, 10], 32) == 32 * 8 * (784 + 2 * 138)
    assert store_all_bytes([4, 4], 1, itemsize=2) == 2 * 12
    with pytest.raises(ValueError, match="batch"):
        store_all_bytes([4, 4], 0)


# ----------------------------------------------------------------------------- the executor


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_every_strategy_gives_bitwise_the_store_all_gradients(activation, n):
    net, X, y = _problem(n, activation)
    ref_loss, ref = net.loss_and_grads(X, y)
    for strategy, slots in _cases(n):
        loss, grads, _ = grads_with_checkpoints(net, X, y, strategy, slots)
        assert loss == ref_loss
        assert list(grads) == list(ref)
        for k in ref:
            np.testing.assert_array_equal(grads[k], ref[k], err_msg=f"{strategy} slots={slots} {k}")


def test_checkpointed_gradients_with_mse_sigmoid_output_and_residual_layers():
    net, X, y = _problem(6, "tanh", loss="mse", sigmoid_out=True, residual=True)
    assert any(net.residual)
    ref_loss, ref = net.loss_and_grads(X, y, loss="mse")
    for strategy, slots in _cases(6):
        loss, grads, _ = grads_with_checkpoints(net, X, y, strategy, slots, loss="mse")
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
        for k in ref:
            np.testing.assert_allclose(grads[k], ref[k], rtol=1e-12, atol=1e-15)


def test_checkpointed_gradients_match_finite_differences():
    net, X, y = _problem(4, "tanh", width=4, batch=3)
    _, grads, _ = grads_with_checkpoints(net, X, y, "revolve", slots=2)
    W = net.params["W2"]

    def f(w):
        old = W.copy()
        W[...] = w
        try:
            return net.loss(X, y)
        finally:
            W[...] = old

    num = numerical_gradient(f, W.copy())
    np.testing.assert_allclose(grads["W2"], num, rtol=1e-6, atol=1e-9)


def test_checkpointed_gradients_match_torch_autograd():
    torch = pytest.importorskip("torch")
    net, X, y = _problem(5, "tanh")
    _, grads, _ = grads_with_checkpoints(net, X, y, "sqrt")
    params = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    a = torch.tensor(X)
    for l in range(1, 6):
        a = a @ params[f"W{l}"].T + params[f"b{l}"]
        if l < 5:
            a = torch.tanh(a)
    torch.nn.functional.cross_entropy(a, torch.tensor(y)).backward()
    for k in grads:
        np.testing.assert_allclose(grads[k], params[k].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_store_all_runs_one_forward_pass_and_keeps_every_layer():
    net, X, y = _problem(12)
    _, _, st = grads_with_checkpoints(net, X, y, "store_all")
    assert st.layer_forwards == 12 and st.layer_backwards == 12 and st.extra_forwards == 0
    assert st.peak_arrays == 2 * 12  # X, z_l and a_l of 12 layers, a linear output's a_L is z_L
    # X, z_l and a_l for every layer, a linear output's a_L is z_L itself
    assert st.peak_bytes == store_all_bytes(net.sizes, 6) - 6 * 3 * 8


def test_sqrt_strategy_for_64_layers_meets_memory_and_recompute_bounds():
    net, X, y = _problem(64, width=16, batch=4)
    _, _, full = grads_with_checkpoints(net, X, y, "store_all")
    _, _, st = grads_with_checkpoints(net, X, y, "sqrt")
    assert st.segments == list(range(0, 65, 8))
    assert st.peak_arrays <= strategy_cost("sqrt", 64).arrays == 8 + 2 * 8  # 8 checkpoints, one segment's caches
    assert st.layer_forwards == 2 * 64  # every segment recomputed once, the last one too
    assert st.peak_bytes <= 0.35 * full.peak_bytes


def test_sqrt_strategy_with_custom_segment_length():
    net, X, y = _problem(10)
    ref_loss, ref = net.loss_and_grads(X, y)
    loss, grads, st = grads_with_checkpoints(net, X, y, "sqrt", segment_length=3)
    assert st.segments == [0, 3, 6, 9, 10] and loss == ref_loss
    assert all(np.array_equal(grads[k], ref[k]) for k in ref)


@pytest.mark.parametrize("n,slots", [(10, 3), (16, 2), (20, 1), (8, 8), (30, 5)])
def test_revolve_executor_follows_an_optimal_schedule(n, slots):
    net, X, y = _problem(n, width=4, batch=2)
    _, _, st = grads_with_checkpoints(net, X, y, "revolve", slots=slots)
    assert st.layer_forwards <= revolve_cost(n, slots) + n
    assert st.layer_forwards == st.schedule.layer_forwards
    assert st.peak_snapshots <= slots
    assert st.peak_arrays <= slots + 2  # the snapshots and the cache (z_l, a_l) of the layer being reversed
    assert st.extra_forwards == revolve_cost(n, slots)


def test_revolve_memory_does_not_grow_with_depth():
    peaks = []
    for n in (8, 32, 64):
        net, X, y = _problem(n, width=16, batch=4)
        peaks.append(grads_with_checkpoints(net, X, y, "revolve", slots=3)[2].peak_bytes)
    assert peaks[0] == peaks[1] == peaks[2]


def test_out_buffers_receive_the_gradients():
    net, X, y = _problem(5)
    _, ref = net.loss_and_grads(X, y)
    out = {k: np.empty_like(v) for k, v in net.params.items()}
    _, grads, _ = grads_with_checkpoints(net, X, y, "sqrt", out=out)
    assert grads is out and all(np.array_equal(out[k], ref[k]) for k in ref)
    with pytest.raises(ValueError, match="out"):
        grads_with_checkpoints(net, X, y, "sqrt", out={"W1": np.zeros(2)})


def test_inputs_are_not_modified():
    net, X, y = _problem(6)
    X0, y0, p0 = X.copy(), y.copy(), {k: v.copy() for k, v in net.params.items()}
    for strategy, slots in _cases(6):
        grads_with_checkpoints(net, X, y, strategy, slots)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    assert all(np.array_equal(net.params[k], p0[k]) for k in p0)


def test_bad_arguments_raise_value_errors_naming_them():
    net, X, y = _problem(4)
    with pytest.raises(ValueError, match="strategy"):
        grads_with_checkpoints(net, X, y, "bogus")
    with pytest.raises(ValueError, match="needs slots"):
        grads_with_checkpoints(net, X, y, "revolve")
    with pytest.raises(ValueError, match="slots must be at least 1"):
        grads_with_checkpoints(net, X, y, "revolve", slots=0)
    with pytest.raises(ValueError, match="slots must be at most n=4"):
        grads_with_checkpoints(net, X, y, "revolve", slots=5)
    with pytest.raises(ValueError, match="slots is only used"):
        grads_with_checkpoints(net, X, y, "sqrt", slots=2)
    with pytest.raises(ValueError, match="X must have shape"):
        grads_with_checkpoints(net, X[:, :2], y, "sqrt")
    with pytest.raises(ValueError, match="loss"):
        grads_with_checkpoints(net, X, y, "sqrt", loss="hinge")
    with pytest.raises(TypeError, match="net"):
        grads_with_checkpoints("not a net", X, y)


def test_measure_memory_sees_sqrt_use_less_than_store_all():
    # batch >> width: activations, not weight gradients, dominate the memory
    net, X, y = _problem(36, width=32, batch=256)
    out = {k: np.empty_like(v) for k, v in net.params.items()}
    peaks = {}
    for strategy, slots in [("store_all", None), ("sqrt", None), ("revolve", 3)]:
        (_, _, st), peak, seconds = measure_memory(grads_with_checkpoints, net, X, y, strategy, slots, out=out)
        peaks[strategy] = peak
        assert peak >= st.peak_bytes - X.nbytes and seconds > 0
    assert peaks["revolve"] < peaks["sqrt"] < 0.5 * peaks["store_all"]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 16, 30])
def test_strategy_cost_model_matches_what_the_executor_does(n):
    # one model for all strategies: extra forwards exactly, arrays exactly for a nonlinear output
    # (a linear output's a_L is z_L: one array fewer at most)
    for loss, out_act in [("mse", "sigmoid"), ("cross_entropy", None)]:
        extra = {"sigmoid_out": True} if out_act else {}
        net, X, y = _problem(n, "tanh", loss=loss, width=4, batch=2, **extra)
        runs = _cases(n) + [("sqrt", "keep")]
        for strategy, slots in runs:
            keep = slots == "keep"
            slots = None if keep else slots
            _, _, st = grads_with_checkpoints(net, X, y, strategy, slots, loss=loss, keep_last_segment=keep)
            model = strategy_cost(strategy, n, slots, keep_last_segment=keep)
            assert st.extra_forwards == model.extra_forwards, (strategy, slots, keep)
            lo = model.arrays - (out_act is None)
            assert lo <= st.peak_arrays <= model.arrays, (strategy, slots, keep, st.peak_arrays, model.arrays)


def test_strategy_cost_of_the_three_strategies_at_64_layers():
    assert strategy_cost("store_all", 64) == strategy_cost("store_all", 64)
    assert (strategy_cost("store_all", 64).arrays, strategy_cost("store_all", 64).extra_forwards) == (129, 0)
    assert (strategy_cost("sqrt", 64).arrays, strategy_cost("sqrt", 64).extra_forwards) == (24, 64)
    assert strategy_cost("sqrt", 64, keep_last_segment=True).extra_forwards == 56
    assert (strategy_cost("revolve", 64, 4).arrays, strategy_cost("revolve", 64, 4).extra_forwards) == (6, 200)
    # a slot for every layer input still re-runs each layer below the top once: the z_l are not kept
    assert (strategy_cost("revolve", 64, 64).arrays, strategy_cost("revolve", 64, 64).extra_forwards) == (66, 63)
    with pytest.raises(ValueError, match="needs slots"):
        strategy_cost("revolve", 8)
    with pytest.raises(ValueError, match="only used by strategy='sqrt'"):
        strategy_cost("store_all", 8, keep_last_segment=True)


def test_keeping_the_last_segment_saves_its_recompute_at_the_same_peak():
    net, X, y = _problem(10, "relu", width=6, batch=3)
    ref_loss, ref = net.loss_and_grads(X, y)
    _, _, again = grads_with_checkpoints(net, X, y, "sqrt")
    loss, grads, kept = grads_with_checkpoints(net, X, y, "sqrt", keep_last_segment=True)
    assert loss == ref_loss and all(np.array_equal(grads[k], ref[k]) for k in ref)
    assert again.layer_forwards == 20 and kept.layer_forwards == 20 - 2  # segments [0, 4, 8, 10]
    assert kept.peak_bytes == again.peak_bytes and kept.peak_arrays == again.peak_arrays
    with pytest.raises(ValueError, match="keep_last_segment"):
        grads_with_checkpoints(net, X, y, "revolve", 2, keep_last_segment=True)


def test_revolve_repetitions_is_the_most_advances_of_any_layer():
    for n, s in [(10, 3), (64, 4), (30, 1), (20, 20), (50, 2)]:
        r = revolve_repetitions(n, s)
        assert math.comb(s + r, s) >= n and (r == 0 or math.comb(s + r - 1, s) < n)
        counts = [0] * (n + 1)
        for a in revolve_schedule(n, s):
            if a.kind == "advance":
                for l in range(a.start + 1, a.end + 1):
                    counts[l] += 1
        assert max(counts) == r, (n, s, counts)


def test_revolve_repetitions_grow_like_the_s_th_root_of_s_factorial_times_n():
    for s in (1, 2, 3, 4):
        for n in (10**3, 10**4, 10**5, 10**6):
            approx = (math.factorial(s) * n) ** (1 / s) - (s + 1) / 2
            assert abs(revolve_repetitions(n, s) - approx) <= 1, (n, s)


# ----------------------------------------------------------------------------- mixed precision


def test_fp16_roundtrip_underflows_small_values_and_loss_scaling_saves_them():
    g = np.array([1e-9, 3e-8, 1e-4, 0.5])
    assert np.array_equal(fp16_roundtrip(g)[:1], [0.0])
    assert underflow_fraction(g) == 0.25  # 3e-8 rounds to the smallest subnormal 6e-8
    scaled = fp16_roundtrip(g, loss_scale=2.0 ** 16)
    np.testing.assert_allclose(scaled, g, rtol=1e-3)
    assert underflow_fraction(g, 2.0 ** 16) == 0.0
    assert np.isinf(fp16_roundtrip(np.array([1.0]), loss_scale=1e6)).all()
    with pytest.raises(ValueError, match="loss_scale"):
        fp16_roundtrip(g, loss_scale=0)


def test_overflow_fraction_and_the_usable_loss_scale_window():
    g = np.array([1e-6, 1e-3, 0.5])
    assert overflow_fraction(g) == 0.0
    assert overflow_fraction(g, 2.0**17) == pytest.approx(1 / 3)  # 0.5 * 2^17 = 65536 > 65504
    assert overflow_fraction(g, 2.0**27) == pytest.approx(2 / 3)
    assert np.isinf(fp16_roundtrip(np.array([65519.0]))).sum() == 0
    assert np.isinf(fp16_roundtrip(np.array([65520.0]))).all()
    scales = [2.0**k for k in range(0, 31)]
    # no underflow needs S * 1e-6 > 2^-25 (S >= 2^0 here), no overflow needs S * 0.5 < 65520 (S <= 2^16)
    assert loss_scale_window({"g": g}, scales) == (1.0, 2.0**16)
    assert loss_scale_window([g, np.array([1e-12])], scales) == (2.0**15, 2.0**16)
    assert loss_scale_window([np.array([1e-13, 1.0])], scales) is None  # needs S > 2^18.2 and S < 2^16
    with pytest.raises(ValueError, match="loss_scale"):
        overflow_fraction(g, -1.0)


# ----------------------------------------------------------------------------- widget logic and plots


def test_checkpoint_summary_reports_one_cost_model_for_all_strategies():
    from backprop_lib.widgets import checkpoint_summary, checkpoint_text

    info = checkpoint_summary(10, 3)
    assert info["revolve"] == {"arrays": 3 + 2, "extra_forwards": 15}
    assert info["store_all"] == {"arrays": 21, "extra_forwards": 0}
    assert info["sqrt"] == {"arrays": 2 + 2 * 4, "extra_forwards": 10}  # segment 4..8 with checkpoints 0, 4
    assert info["curve"][0] == (1, 3, 45) and info["curve"][-1] == (10, 12, 9)
    text = checkpoint_text(64, 64)
    assert "129 arrays,     0 extra" in text and "66 arrays,    63 extra" in text and "24 arrays,    64 extra" in text
    with pytest.raises(ValueError, match="slots"):
        checkpoint_summary(5, 6)


def test_checkpoint_widget_builds_without_a_browser():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    from backprop_lib.widgets import checkpoint_widget

    box = checkpoint_widget(n=8, slots=2, max_n=16)
    n_slider, s_slider = box.children[0].children
    n_slider.value = 5
    s_slider.value = 5
    assert s_slider.max == 5


def test_plot_helpers_draw_and_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from backprop_lib.plotting import (plot_loss_scaling, plot_memory_vs_depth, plot_revolve_tradeoff,
                                       plot_schedule, plot_time_overhead)

    ax = plot_schedule(revolve_schedule(12, 3))
    assert "12 layers" in ax.get_title() and ax.get_xlabel().startswith("time")
    assert plot_revolve_tradeoff(20, 4).get_yscale() == "symlog"
    assert plot_memory_vs_depth([8, 16], {"store_all": [1e6, 2e6], "sqrt": [5e5, 7e5]}).get_xscale() == "log"
    assert plot_time_overhead([8, 16], {"store_all": [1.0, 2.0], "sqrt": [1.3, 2.6]}).lines
    ax = plot_loss_scaling({"g": np.array([1e-9, 1e-3])}, [2.0**k for k in range(0, 30, 2)])
    assert len(ax.lines) == 2 and ax.patches  # underflow, overflow, the usable window
    assert "2^6 .. 2^24" in ax.get_legend_handles_labels()[1][-1]
    plt.close("all")
