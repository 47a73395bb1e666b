"""Two-process model-parallel backprop: same gradients as one process, clear errors when a stage dies."""

import numpy as np
import pytest

from backprop_lib.mlp import MLP
from backprop_lib.parallel import StageError, pipeline_loss_and_grads


def batch(seed=0, n=24, d=6, c=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


def test_one_microbatch_gives_bitwise_the_single_process_gradients():
    net = MLP([6, 8, 8, 8, 3], activation="tanh", init="xavier", seed=1)
    X, y = batch()
    loss, grads = net.loss_and_grads(X, y)
    p_loss, p_grads, timeline = pipeline_loss_and_grads(net, X, y, split=2, microbatches=1)
    assert p_loss == loss
    for k in grads:
        np.testing.assert_array_equal(p_grads[k], grads[k])
    assert {(e.stage, e.kind) for e in timeline} == {(0, "forward"), (1, "forward"), (1, "backward"), (0, "backward")}


@pytest.mark.parametrize("loss, act", [("cross_entropy", "relu"), ("mse", "sigmoid")])
def test_microbatches_agree_to_rounding_and_pipeline_the_stages(loss, act):
    net = MLP([6, 16, 16, 3], activation=act, init="xavier", seed=2)
    X, y = batch(1)
    target = y if loss == "cross_entropy" else np.eye(3)[y]
    ref_loss, ref = net.loss_and_grads(X, target, loss=loss)
    p_loss, grads, timeline = pipeline_loss_and_grads(net, X, target, loss=loss, microbatches=4)
    assert p_loss == pytest.approx(ref_loss, rel=1e-12)
    for k in ref:
        err = np.max(np.abs(grads[k] - ref[k])) / max(1e-8, np.max(np.abs(grads[k]) + np.abs(ref[k])))
        assert err <= 1e-12, k
    assert len(timeline) == 4 * 4  # 2 stages x (forward + backward) x 4 micro-batches
    assert all(e.end >= e.start >= 0 for e in timeline)


def test_a_worker_that_dies_raises_a_clear_error_instead_of_hanging():
    net = MLP([6, 8, 3], seed=0)
    X, y = batch()
    with pytest.raises(StageError, match="stage 1 .* (died|closed)"):
        pipeline_loss_and_grads(net, X, y, timeout=20, _crash_stage=1)


@pytest.mark.parametrize("kwargs, word", [({"split": 0}, "split"), ({"split": 2}, "split"),
                                          ({"microbatches": 0}, "microbatches"),
                                          ({"microbatches": 100}, "microbatches")])
def test_bad_arguments_are_rejected_by_name(kwargs, word):
    net = MLP([6, 8, 3], seed=0)
    X, y = batch()
    with pytest.raises(ValueError, match=word):
        pipeline_loss_and_grads(net, X, y, **kwargs)


def test_a_one_layer_net_cannot_be_split():
    with pytest.raises(ValueError, match="at least 2 layers"):
        pipeline_loss_and_grads(MLP([6, 3]), *batch())


def test_messages_bigger_than_the_pipe_buffer_do_not_deadlock_the_pipeline():
    # activations of 100 x 300 float64 (240 kB) per micro-batch: far above a pipe's 64 kB buffer, so a
    # worker blocks in send while the main process is still sending it the next micro-batch
    net = MLP([20, 300, 300, 4], activation="relu", init="he", seed=3)
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((400, 20)), rng.integers(0, 4, 400)
    ref_loss, ref = net.loss_and_grads(X, y)
    loss, grads, timeline = pipeline_loss_and_grads(net, X, y, microbatches=4, timeout=60)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for k in ref:
        np.testing.assert_allclose(grads[k], ref[k], rtol=1e-10, atol=1e-12)


def test_bubble_of_the_ideal_schedule_is_one_over_m_plus_one():
    from backprop_lib.parallel import bubble_fraction, ideal_timeline

    for m in (1, 2, 4, 8):
        timeline = ideal_timeline(m)
        assert len(timeline) == 4 * m
        assert bubble_fraction(timeline) == pytest.approx(1 / (m + 1))
        # every stage does one forward and one backward per micro-batch, never two things at once
        for stage in (0, 1):
            events = sorted((e for e in timeline if e.stage == stage), key=lambda e: e.start)
            assert all(a.end <= b.start + 1e-12 for a, b in zip(events, events[1:]))


@pytest.mark.parametrize("schedule", ["gpipe", "1f1b"])
@pytest.mark.parametrize("stages", [2, 3, 4])
def test_fill_and_drain_bubble_is_gpipes_formula_for_both_orders(schedule, stages):
    from backprop_lib.parallel import bubble_fraction, ideal_timeline

    for m in (1, 2, 4, 8):
        timeline = ideal_timeline(m, stages=stages, schedule=schedule)
        assert len(timeline) == 2 * stages * m
        assert bubble_fraction(timeline, stages=stages) == pytest.approx((stages - 1) / (m + stages - 1))
        end = {(e.kind, e.stage, e.microbatch): e.end for e in timeline}
        for e in timeline:  # every piece of work starts only once its input exists
            if e.kind == "forward" and e.stage > 0:
                assert e.start >= end[("forward", e.stage - 1, e.microbatch)] - 1e-12
            if e.kind == "backward":
                before = ("backward", e.stage + 1, e.microbatch) if e.stage < stages - 1 else \
                    ("forward", e.stage, e.microbatch)
                assert e.start >= end[before] - 1e-12


def test_one_forward_one_backward_starts_the_last_stages_backward_right_after_its_first_forward():
    from backprop_lib.parallel import ideal_timeline

    gpipe, one_f_one_b = ideal_timeline(4), ideal_timeline(4, schedule="1f1b")
    first_backward = {name: min(e.start for e in t if e.kind == "backward" and e.stage == 1)
                      for name, t in (("gpipe", gpipe), ("1f1b", one_f_one_b))}
    assert first_backward["1f1b"] == pytest.approx(2 * 0.25)  # after stage 0's and its own first forward
    assert first_backward["gpipe"] == pytest.approx(0.25 + 1.0)  # after all its forwards
    with pytest.raises(ValueError, match="schedule"):
        ideal_timeline(4, schedule="zigzag")
    with pytest.raises(ValueError, match="stages"):
        ideal_timeline(4, stages=0)


def test_one_forward_one_backward_holds_fewer_caches_than_gpipe():
    from backprop_lib.parallel import peak_cached, ideal_timeline

    for stages in (2, 4):
        for m in (1, 4, 8):
            gpipe, one_f_one_b = ideal_timeline(m, stages=stages), ideal_timeline(m, stages=stages, schedule="1f1b")
            for s in range(stages):
                assert peak_cached(gpipe, s) == m
                assert peak_cached(one_f_one_b, s) == min(m, stages - s)
    with pytest.raises(ValueError, match="stage 5"):
        peak_cached(ideal_timeline(2), 5)


def test_bubble_fraction_rejects_an_empty_timeline():
    from backprop_lib.parallel import bubble_fraction

    with pytest.raises(ValueError, match="empty"):
        bubble_fraction([])
