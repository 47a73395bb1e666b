"""The checks of exercises/05_checkpointing: references pass, typical mistakes get their hint, stubs are TODO.

The realistic wrong answers and their hints are rows of tests/answers/nb05_checkpointing.py (run by
tests/test_answers.py); here the references, the boundary cases and what the table does not check."""

import math

import numpy as np
import pytest

from backprop_lib.checkpoint import revolve_cost, sqrt_segments
from backprop_lib.checks.checkpointing import (
    check_ckpt_binomial_cost,
    check_ckpt_checkpointed_grads,
    check_ckpt_fewest_slots,
    check_ckpt_segment_backward,
    check_ckpt_segment_bounds,
    check_ckpt_store_all_bytes,
)

from check_helpers import stub

ALL_CHECKS = [check_ckpt_store_all_bytes, check_ckpt_segment_bounds, check_ckpt_segment_backward,
              check_ckpt_checkpointed_grads, check_ckpt_binomial_cost, check_ckpt_fewest_slots]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.task)
def test_untouched_stub_is_not_implemented(check):
    assert check.run(stub).status == "not_implemented"


# ----------------------------------------------------------------------------- 1. store-all bytes


def store_all_ok(sizes, batch, itemsize=8):
    return batch * itemsize * (sizes[0] + 2 * sum(sizes[1:]))


def test_store_all_bytes_reference_passes():
    assert check_ckpt_store_all_bytes.run(store_all_ok).passed








# ----------------------------------------------------------------------------- 2. segment boundaries


def bounds_ok(n):
    k = math.ceil(math.sqrt(n))
    return list(range(0, n, k)) + [n]


def test_segment_bounds_reference_passes():
    assert check_ckpt_segment_bounds.run(bounds_ok).passed


def test_segment_bounds_missing_end_gets_off_by_one_hint():
    res = check_ckpt_segment_bounds.run(lambda n: list(range(0, n, math.ceil(math.sqrt(n)))))
    assert res.status == "fail" and "off by one" in res.message and "misses the end" in res.message


def test_segment_bounds_range_to_n_plus_one_gets_off_by_one_hint():
    res = check_ckpt_segment_bounds.run(lambda n: list(range(0, n + 1, math.ceil(math.sqrt(n)))))
    assert res.status == "fail" and "off by one" in res.message




# ----------------------------------------------------------------------------- 3. segment backward


def segment_backward_ok(net, a_start, start, end, da_end):
    inputs, zs, a = {}, {}, a_start
    for l in range(start + 1, end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l])
    return da, grads


def test_segment_backward_reference_passes():
    res = check_ckpt_segment_backward.run(segment_backward_ok)
    assert res.passed, res.message


def test_segment_backward_off_by_one_layers_gets_edge_hint():
    def shifted(net, a_start, start, end, da_end):
        inputs, zs, a = {}, {}, a_start
        for l in range(max(start, 1), end):  # layers start..end-1
            inputs[l] = a
            zs[l], a = net.layer_forward(l, a)
        grads, da = {}, da_end
        for l in range(end - 1, max(start, 1) - 1, -1):
            da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l])
        return da, grads

    res = check_ckpt_segment_backward.run(shifted)
    assert res.status in ("fail", "error") and ("off by one" in res.message or "raised" in res.message)






# ----------------------------------------------------------------------------- 4. the whole scheme


def checkpointed_forward(net, X, y):
    """The forward half every variant below shares: keep only the segment inputs."""
    bounds = sqrt_segments(net.n_layers)
    ckpt, a = {}, X
    for s, e in zip(bounds[:-1], bounds[1:]):
        ckpt[s] = a
        for l in range(s + 1, e + 1):
            _, a = net.layer_forward(l, a)
    loss, da = net.output_loss(a, y)
    return bounds, ckpt, loss, da


def checkpointed_ok(net, X, y, segment_backward):
    bounds, ckpt, loss, da = checkpointed_forward(net, X, y)
    grads = {}
    for s, e in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, g = segment_backward(net, ckpt[s], s, e, da)
        grads.update(g)
    return loss, {k: grads[k] for k in net.params}


def test_checkpointed_grads_reference_passes():
    res = check_ckpt_checkpointed_grads.run(checkpointed_ok)
    assert res.passed, res.message




def test_checkpointed_grads_crash_from_wrong_segment_order_gets_hint():
    def wrong_pairing(net, X, y, segment_backward):
        bounds, ckpt, loss, da = checkpointed_forward(net, X, y)
        grads = {}
        for s, e in zip(bounds[:-1], bounds[1:]):  # first segment first: wrong order
            da, g = segment_backward_ok(net, ckpt[s], s, e, np.zeros((X.shape[0], net.sizes[e] + 1)))
            grads.update(g)
        return loss, grads

    res = check_ckpt_checkpointed_grads.run(wrong_pairing)
    assert res.status == "fail" and "start with the LAST segment" in res.message


def checkpointed_keeping_last(net, X, y, segment_backward):
    """The other valid design (PyTorch's checkpoint_sequential): the last segment's caches are kept."""
    bounds = sqrt_segments(net.n_layers)
    ckpt, a, caches = {}, X, {}
    for s, e in zip(bounds[:-1], bounds[1:]):
        ckpt[s] = a
        for l in range(s + 1, e + 1):
            z, a_next = net.layer_forward(l, a)
            if s == bounds[-2]:
                caches[l] = (a, z)  # the layer's input and pre-activation
            a = a_next
    loss, da = net.output_loss(a, y)
    grads = {}
    for l in range(net.n_layers, bounds[-2], -1):
        a_prev, z = caches[l]
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, a_prev, z)
    for s, e in reversed(list(zip(bounds[:-2], bounds[1:-1]))):
        da, g = segment_backward(net, ckpt[s], s, e, da)
        grads.update(g)
    return loss, {k: grads[k] for k in net.params}


def test_checkpointed_grads_keeping_the_last_segment_is_also_right():
    res = check_ckpt_checkpointed_grads.run(checkpointed_keeping_last)
    assert res.passed, res.message


def test_checkpointed_grads_recomputing_a_segment_twice_gets_hint():
    def twice(net, X, y, segment_backward):
        loss, grads = checkpointed_ok(net, X, y, segment_backward)
        if net.n_layers > 1:
            net.layer_forward(1, X)  # one forward too many
        return loss, grads

    res = check_ckpt_checkpointed_grads.run(twice)
    assert res.status == "fail" and "more than 2n" in res.message




def test_checkpointed_grads_library_store_all_is_flagged():
    res = check_ckpt_checkpointed_grads.run(lambda net, X, y, segment_backward: net.loss_and_grads(X, y))
    assert res.status == "fail" and "reference implementation" in res.message


# ----------------------------------------------------------------------------- 5. binomial cost


def my_cost(n, s):
    """A learner's own closed form (the check flags calls to the library's revolve_cost)."""
    r = 0
    while math.comb(s + r, s) < n:
        r += 1
    return r * n - math.comb(s + r, s + 1)


def test_binomial_cost_reference_passes():
    assert check_ckpt_binomial_cost.run(my_cost).passed


def test_binomial_cost_calling_the_library_is_flagged():
    res = check_ckpt_binomial_cost.run(lambda n, s: revolve_cost(n, s))
    assert res.status == "fail" and "reference implementation" in res.message


def test_binomial_cost_counting_re_runs_gets_hint():
    res = check_ckpt_binomial_cost.run(lambda n, s: my_cost(n, s) + n)
    assert "re-runs" in res.message


def test_binomial_cost_r_one_too_small_gets_hint():
    def early_stop(n, s):
        r = 0
        while math.comb(s + r + 1, s) < n:
            r += 1
        return r * n - math.comb(s + r, s + 1)

    res = check_ckpt_binomial_cost.run(early_stop)
    assert res.status == "fail" and "one too small" in res.message


def test_binomial_cost_strict_inequality_is_also_right():
    # at C(s+r, s) == n the formula gives the same value for r and r + 1, so `<=` in the loop is fine
    def strict(n, s):
        r = 0
        while math.comb(s + r, s) <= n:
            r += 1
        return r * n - math.comb(s + r, s + 1)

    assert check_ckpt_binomial_cost.run(strict).passed




def test_binomial_cost_input_as_free_slot_gets_hint():
    res = check_ckpt_binomial_cost.run(lambda n, s: my_cost(n, min(s + 1, n)))
    assert res.status == "fail" and "extra free slot" in res.message


# ----------------------------------------------------------------------------- 6. fewest slots


def fewest_ok(n, budget):
    return next((s for s in range(1, n + 1) if revolve_cost(n, s) <= budget), None)


def test_fewest_slots_reference_passes():
    assert check_ckpt_fewest_slots.run(fewest_ok).passed


def test_fewest_slots_input_as_free_slot_gets_hint():
    def minus_one(n, budget):
        s = fewest_ok(n, budget)
        return None if s is None else s - 1

    res = check_ckpt_fewest_slots.run(minus_one)
    assert res.status == "fail" and "the slots include the one holding X" in res.message






def test_checkpointed_grads_is_graded_with_the_library_segment_step_not_the_learners():
    calls = []

    def uses_given_step(net, X, y, segment_backward):
        calls.append(segment_backward)
        return checkpointed_ok(net, X, y, segment_backward)

    assert check_ckpt_checkpointed_grads.run(uses_given_step).passed
    # the check passes a recording wrapper of the library's step (never the learner's own function)
    assert calls and all(type(c).__name__ == "_SegmentStep" and c.__name__ == "segment_backward" for c in calls)


def test_segment_backward_calling_the_library_step_is_flagged():
    from backprop_lib.checkpoint import segment_backward as library_step

    res = check_ckpt_segment_backward.run(lambda net, a, s, e, da: library_step(net, a, s, e, da))
    assert res.status == "fail" and "reference implementation" in res.message
