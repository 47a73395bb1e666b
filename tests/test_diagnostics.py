"""backprop_lib.diagnostics: per-layer measurements, closed forms and the experiment helpers."""

import matplotlib

matplotlib.use("Agg")

import re

import numpy as np
import pytest

from backprop_lib import diagnostics as dg
from backprop_lib.mlp import MLP


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 7)), rng.integers(0, 3, size=20)


def _net(**kw):
    return MLP([7, 6, 6, 6, 3], activation=kw.pop("activation", "tanh"), init="xavier", seed=1, bias_std=0.2, **kw)


def test_layer_grad_norms_are_the_norms_of_the_backprop_gradients(batch):
    X, y = batch
    net = _net()
    _, grads = net.loss_and_grads(X, y)
    np.testing.assert_allclose(dg.layer_grad_norms(net, X, y, which="bias"),
                               [np.linalg.norm(grads[f"b{l}"]) for l in (1, 2, 3)], rtol=1e-12)
    np.testing.assert_allclose(dg.layer_grad_norms(net, X, y, which="weight", hidden_only=False),
                               [np.linalg.norm(grads[f"W{l}"]) for l in (1, 2, 3, 4)], rtol=1e-12)
    assert dg.layer_grad_norms(net, X, y, which="delta").shape == (3,)


def test_layer_grad_norms_rejects_unknown_measure(batch):
    with pytest.raises(ValueError, match="which"):
        dg.layer_grad_norms(_net(), *batch, which="gradient")


@pytest.mark.parametrize("residual", [False, True])
def test_output_grads_match_the_layer_by_layer_backward(batch, residual):
    X, y = batch
    net = _net(residual=residual, residual_scale=0.7)
    bp = net.backprop(X, y)
    _, da = net.output_loss(bp.trace.output, y)
    expected = {}
    for l in range(net.n_layers, 1, -1):
        da, _, _, _ = net.layer_backward(l, da, bp.trace.activations[l - 1], bp.trace.zs[l - 1])
        expected[l - 1] = da
    got = dg.output_grads(net, bp)
    for l in range(1, net.n_layers):
        np.testing.assert_allclose(got[l - 1], expected[l], rtol=1e-12, atol=1e-15)


def test_output_grad_of_first_layer_matches_finite_differences(batch):
    X, y = batch
    net = _net()
    bp = net.backprop(X, y)
    g = dg.output_grads(net, bp)[0]
    a1 = bp.trace.activations[1]

    def loss_from_a1(a):
        out = a
        for l in range(2, net.n_layers + 1):
            out = net.layer_forward(l, out)[1]
        return net.output_loss(out, y)[0]

    from backprop_lib.gradcheck import numerical_gradient, rel_error
    assert rel_error(g, numerical_gradient(loss_from_a1, a1.copy())) < 1e-7


def test_dead_unit_fraction_counts_units_inactive_on_every_example(batch):
    X, _ = batch
    net = MLP([7, 10, 3], activation="relu", init="he", seed=0)
    net.params["b1"][:3] = -1e3
    net.params["b1"][3:] = 1e3
    np.testing.assert_allclose(dg.dead_unit_fraction(net, X), [0.3])


def test_activation_stats_report_zero_and_saturated_fractions(batch):
    X, _ = batch
    relu = dg.activation_stats(MLP([7, 10, 10, 3], activation="relu", init="he", seed=0), X)
    assert [s.layer for s in relu] == [1, 2] and all(0 < s.zero < 1 for s in relu)
    net = MLP([7, 10, 3], activation="tanh", init="normal", init_scale=50.0, seed=0)
    (stats,) = dg.activation_stats(net, X)
    assert stats.saturated > 0.8 and stats.std > 0.8


def test_chain_derivative_bound_closed_form_and_validation():
    assert dg.chain_derivative_bound([2.0, -2.0], "sigmoid") == pytest.approx(4 / 16)
    assert dg.chain_derivative_bound([2.0, -2.0], "tanh") == pytest.approx(4.0)
    with pytest.raises(ValueError, match="weights"):
        dg.chain_derivative_bound(np.ones((2, 2)))
    with pytest.raises(ValueError, match="activation"):
        dg.chain_derivative_bound([1.0], "relu")


def test_derivative_max_of_relu_is_one():
    assert dg.derivative_max("relu") == 1.0


def test_first_last_ratio_and_growth_factor():
    norms = np.array([8.0, 4.0, 2.0, 1.0])
    assert dg.first_last_ratio(norms) == 8.0
    assert dg.growth_factor(norms) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="norms"):
        dg.first_last_ratio([1.0])


def test_digits_batch_is_seeded_and_bounded():
    X1, y1 = dg.digits_batch(50, seed=3)
    X2, y2 = dg.digits_batch(50, seed=3)
    assert X1.shape == (50, 64) and np.array_equal(X1, X2) and np.array_equal(y1, y2)
    with pytest.raises(ValueError, match="n must be at most"):
        dg.digits_batch(10**6)


def test_deep_net_shape_and_validation():
    net = dg.deep_net(4, 8, "relu", "he", n_in=5, n_out=2)
    assert net.sizes == [5, 8, 8, 8, 8, 2]
    with pytest.raises(ValueError, match="depth"):
        dg.deep_net(0)


def test_gradient_flow_clipping_scales_every_layer_by_one_factor():
    flow = dg.gradient_flow(6, "relu", "normal", init_scale=1.0, clip_norm=1.0, n=64)
    factor = flow.clipped_weight_norms / flow.weight_norms
    assert flow.global_norm > 1.0
    np.testing.assert_allclose(factor, 1.0 / flow.global_norm, rtol=1e-6)
    assert len(flow.activations) == len(flow.deltas) == 6


def test_gradient_flow_of_an_overflowing_net_gives_non_finite_norms_without_warnings():
    # pytest turns RuntimeWarnings from backprop_lib into errors: none may escape here
    try:
        flow = dg.gradient_flow(40, "relu", "normal", init_scale=3.0, n=32)
    except ValueError as exc:  # the loss refuses inf logits: also acceptable, but must name the problem
        assert "NaN or inf" in str(exc)
    else:
        assert flow.global_norm > 1e10 or not np.isfinite(flow.global_norm)


def test_speed_of_learning_validates_seeds():
    with pytest.raises(ValueError, match="seeds"):
        dg.speed_of_learning(2, seeds=())


def test_nielsen_published_figures_are_recorded():
    assert dg.NIELSEN_PUBLISHED[4] == (0.003, 0.017, 0.070, 0.285)


def test_widget_view_and_plots_draw_without_a_browser():
    import matplotlib.pyplot as plt

    from backprop_lib import plotting
    from backprop_lib.widgets import gradient_flow_view

    flow, axes, text = gradient_flow_view(5, "tanh", "xavier", residual=True, clip_norm=1.0)
    assert len(axes) == 2 and "ratio" in text and flow.config["residual"]
    ax = plotting.plot_layer_norms({"sigmoid": [0.1, 1.0]}, published={"Nielsen": [0.07, 0.31]})
    assert ax.get_yscale() == "log"
    plotting.plot_activation_derivatives()
    plt.close("all")


def test_gradient_flow_widget_redraws_what_its_controls_say():
    pytest.importorskip("ipywidgets")
    import html

    import matplotlib.pyplot as plt

    from backprop_lib.widgets import gradient_flow_view, gradient_flow_widget

    box = gradient_flow_widget()  # the summary line is an HTML widget under the plot
    shown = [box.live.text.value]
    box.live.text.observe(lambda change: shown.append(change["new"]), names="value")
    depth = box.children[0].children[0]
    depth.value = 4  # triggers a redraw through the observer
    residual = box.children[1].children[0]
    residual.value = True
    shown = [html.unescape(re.sub("<[^>]+>", "", text)) for text in shown]
    expected = [gradient_flow_view(d, "sigmoid", "xavier", r)[2] for d, r in ((10, False), (4, False), (4, True))]
    assert shown == expected, "each redraw must show the summary of the controls' current values"
    plt.close("all")


def test_nielsen_output_bias_gradients_match_finite_differences_of_his_cost(batch):
    # Nielsen's network2: sigmoid output units, cross-entropy summed over the units, mean over the batch
    from backprop_lib.activations import sigmoid
    from backprop_lib.gradcheck import numerical_gradient, rel_error

    X, y = batch
    net = _net(activation="sigmoid")
    Y = np.eye(3)[y]

    def cost(_):
        a = sigmoid(net.forward(X))
        return float(np.mean(np.sum(-Y * np.log(a) - (1 - Y) * np.log(1 - a), axis=1)))

    got = dg._bias_grad_norms(net, X, y, "sigmoid")
    num = [np.linalg.norm(numerical_gradient(cost, net.params[f"b{l}"])) for l in (1, 2, 3, 4)]
    assert rel_error(got, np.array(num)) < 1e-7


def test_speed_of_learning_softmax_output_is_the_library_backprop_and_output_is_validated(batch):
    X, y = batch
    soft = dg.speed_of_learning(2, seeds=(0,), width=5, X=X, y=y, hidden_only=False)
    net = dg.deep_net(2, 5, "sigmoid", "lecun", seed=0, n_in=7, bias_std=1.0)
    np.testing.assert_allclose(soft, dg.layer_grad_norms(net, X, y, which="bias", hidden_only=False), rtol=1e-12)
    with pytest.raises(ValueError, match="output"):
        dg.speed_of_learning(2, output="tanh")


def test_residual_growth_estimates_closed_forms():
    est = dg.residual_growth_estimates(5, 1.0)
    assert est.blocks == 4 and est.per_block_independent == pytest.approx(np.sqrt(2))
    assert est.per_block_drift == pytest.approx(1 + 1 / np.sqrt(np.pi))
    assert est.drift == pytest.approx(est.per_block_drift ** 4)
    assert dg.residual_growth_estimates(4).scale == pytest.approx(0.5)
    with pytest.raises(ValueError, match="depth"):
        dg.residual_growth_estimates(1)


def test_diagnose_init_reports_spread_saturation_and_bias_ratio(batch):
    X, y = batch
    d = dg.diagnose_init(X, y, depth=3, width=6, activation="tanh", init="xavier", n_out=3)
    assert d.bias_norms.shape == d.spread.shape == d.saturated.shape == (3,)
    assert d.last_first == pytest.approx(d.bias_norms[-1] / d.bias_norms[0])
    net = dg.deep_net(3, 6, "tanh", "xavier", n_in=7, n_out=3)
    np.testing.assert_allclose(d.spread, [a.std(axis=0).mean() for a in net.forward_trace(X).activations[1:-1]])


def test_clipping_run_reports_the_final_full_batch_loss_or_nan_when_diverged():
    X, y = dg.digits_batch(200)
    ok = dg.clipping_experiment(1.0, steps=5, X=X, y=y)
    assert np.isfinite(ok.final_loss) and 0 <= ok.final_accuracy <= 1
    bad = dg.clipping_experiment(None, steps=20, X=X, y=y, gain=3.0)
    assert bad.diverged_at is not None and np.isnan(bad.final_loss) and np.isnan(bad.final_accuracy)


def test_widget_title_names_the_chosen_init_and_histograms_are_z_scores():
    import matplotlib.pyplot as plt

    from backprop_lib.widgets import INIT_CHOICES, gradient_flow_view

    for init in ("large", "normal"):
        _, (ax, hx), _ = gradient_flow_view(4, "relu", init)
        assert INIT_CHOICES[init] in ax.get_title()
        assert "mean" in hx.get_legend().get_texts()[0].get_text()
    assert "0.1" in INIT_CHOICES["normal"] and "1.5" in INIT_CHOICES["large"]
    with pytest.raises(ValueError, match="init"):
        gradient_flow_view(4, "relu", "huge")
    plt.close("all")


def test_widget_clip_dropdown_starts_at_off_and_clips_when_chosen(monkeypatch):
    pytest.importorskip("ipywidgets")
    import matplotlib.pyplot as plt

    from backprop_lib.widgets import vanishing_gradients as vgw

    calls = []
    real = vgw.gradient_flow_view
    monkeypatch.setattr(vgw, "gradient_flow_view", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    box = vgw.gradient_flow_widget()
    clip = box.children[1].children[1]
    assert clip.value == "off" and clip.label == "off" and calls[-1][4] is None
    clip.value = "1"
    assert calls[-1][4] == 1.0
    plt.close("all")


def test_speed_during_training_records_one_row_per_epoch_and_the_start():
    from backprop_lib.diagnostics import deep_net, digits_batch, layer_grad_norms, speed_during_training

    X, y = digits_batch(100)
    speeds, hist = speed_during_training(2, lr=0.5, epochs=3, seed=1, X=X, y=y)
    assert speeds.shape == (4, 2) and len(hist.loss) == 3
    start = deep_net(2, 30, "sigmoid", "lecun", seed=1, bias_std=1.0)
    np.testing.assert_allclose(speeds[0], layer_grad_norms(start, X, y))
    assert not np.allclose(speeds[1], speeds[0])
