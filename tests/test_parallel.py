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


@pytest.mark.parametrize("kwargs, word", [({"split": 0}, "split"), ({"split": 2}, "split"), ({"microbatches": 0}, "microbatches"),
                                          ({"microbatches": 100}, "microbatches")])
def test_bad_arguments_are_rejected_by_name(kwargs, word):
    net = MLP([6, 8, 3], seed=0)
    X, y = batch()
    with pytest.raises(ValueError, match=word):
        pipeline_loss_and_grads(net, X, y, **kwargs)


def test_a_one_layer_net_cannot_be_split():
    with pytest.raises(ValueError, match="at least 2 layers"):
        pipeline_loss_and_grads(MLP([6, 3]), *batch())
