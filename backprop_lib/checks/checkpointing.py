"""Checks for exercises/05_checkpointing.ipynb (gradient checkpointing).

Every reference value comes from :mod:`backprop_lib.checkpoint` or from the MLP's own
``layer_forward``/``layer_backward``/``loss_and_grads``.
"""

from __future__ import annotations

import math

import numpy as np

from ..checkpoint import revolve_cost, segment_backward, sqrt_segments, store_all_bytes
from ..mlp import MLP
from ._core import Mistake, call, expect_array, expect_close, expect_scalar, fail, task

__all__ = [
    "check_ckpt_store_all_bytes",
    "check_ckpt_segment_bounds",
    "check_ckpt_segment_backward",
    "check_ckpt_checkpointed_grads",
    "check_ckpt_binomial_cost",
    "check_ckpt_fewest_slots",
]


# ----------------------------------------------------------------------------- 1. memory of store-all


@task("ckpt_store_all_bytes", points=1)
def check_ckpt_store_all_bytes(fn):
    cases = [([784, 128, 10], 64, 8), ([10, 20, 30, 5], 7, 4), ([3, 3], 1, 2), ([100] * 9, 32, 2)]
    for sizes, batch, itemsize in cases:
        out = call(fn, list(sizes), batch, itemsize)
        ref = store_all_bytes(sizes, batch, itemsize)
        hidden = sum(sizes[1:])
        expect_scalar(out, ref, f"store_all_memory({sizes}, {batch}, {itemsize})", mistakes={
            "you forgot the input X (N x n_0): the first layer needs it for dL/dW_1":
                batch * itemsize * 2 * hidden,
            "each layer keeps BOTH z_l (for f'(z_l)) and a_l (the next layer's input): count 2 arrays per layer":
                batch * itemsize * (sizes[0] + hidden),
            "that is a count of numbers: multiply by itemsize to get bytes": batch * (sizes[0] + 2 * hidden),
            "every layer's arrays have one row per example: multiply by the batch size": itemsize * (sizes[0] + 2 * hidden),
            "n_0 is the input width only: z and a exist for layers 1..L, not for the input":
                batch * itemsize * 2 * sum(sizes),
        })
    return f"matches N*b*(n_0 + 2*sum n_l) on {len(cases)} shapes"


# ----------------------------------------------------------------------------- 2. segment boundaries


@task("ckpt_segment_bounds", points=1)
def check_ckpt_segment_bounds(fn):
    for n in (16, 10, 1, 2, 5, 64, 50, 99, 101):
        out = call(fn, n)
        if not isinstance(out, (list, tuple, np.ndarray)):
            fail(f"segment_boundaries({n}) should return a list of ints, got {type(out).__name__}.")
        got = [int(v) for v in out]
        ref = sqrt_segments(n)
        if got == ref:
            continue
        k = math.isqrt(n - 1) + 1
        if got == list(range(0, n, k)):
            fail(f"segment_boundaries({n}) = {got} misses the end: the last boundary must be n = {n} "
                 f"(off by one at the segment edge; the last segment may be shorter).")
        if got == list(range(0, n + 1, k)) or got[-1] != n:
            fail(f"segment_boundaries({n}) = {got} must end with n = {n}; with k = {k} the last segment is "
                 f"shorter when n is not a multiple of k (off by one at the segment edge).")
        if len(got) >= 2 and got[-1] == got[-2]:
            fail(f"segment_boundaries({n}) = {got} lists {n} twice: that makes an empty last segment.")
        if got and got[0] != 0:
            fail(f"segment_boundaries({n}) = {got} must start at 0: the input X is the first checkpoint.")
        kf = max(1, math.isqrt(n))
        if got == list(range(0, n, kf)) + [n] and kf != k:
            fail(f"segment_boundaries({n}) = {got} uses k = floor(sqrt(n)) = {kf}; use k = ceil(sqrt(n)) = {k} "
                 f"(math.ceil(math.sqrt(n))).")
        fail(f"segment_boundaries({n}) = {got}, expected {ref} (k = ceil(sqrt({n})) = {k} layers per segment).")
    return "boundaries [0, k, 2k, ..., n] with k = ceil(sqrt(n)) for 9 depths"


# ----------------------------------------------------------------------------- helpers for the backprop tasks


def _problem(n: int, activation: str, seed: int, classes: int = 4):
    sizes = [6] + [7] * (n - 1) + [classes]
    net = MLP(sizes, activation=activation, init="xavier", seed=seed, bias_std=0.1)
    rng = np.random.default_rng(seed + 100)
    X = rng.standard_normal((5, 6))
    y = rng.integers(0, classes, 5)
    return net, X, y


def _upstream(net: MLP, X, y):
    """Store-all reference: the forward cache (net.forward_trace), dL/da_l for every l (library functions only)."""
    trace = net.forward_trace(X)
    _, da = net.output_loss(trace.output, y)
    das = {net.n_layers: da}
    for l in range(net.n_layers, 0, -1):
        da, _, _, _ = net.layer_backward(l, da, trace.activations[l - 1], trace.zs[l - 1])
        das[l - 1] = da
    return trace, das


class _CountingMLP(MLP):
    """An MLP that counts ``layer_forward`` calls (the learner's code calls it like any MLP)."""

    forwards = 0

    def layer_forward(self, l, a_prev):
        self.forwards += 1
        return super().layer_forward(l, a_prev)


# ----------------------------------------------------------------------------- 3. backward through one segment


@task("ckpt_segment_backward", points=1, references=[segment_backward])
def check_ckpt_segment_backward(fn):
    for n, start, end, act, seed in [(6, 2, 5, "tanh", 0), (6, 3, 6, "relu", 1), (4, 0, 2, "sigmoid", 2), (5, 1, 2, "tanh", 3)]:
        net, X, y = _problem(n, act, seed)
        trace, das = _upstream(net, X, y)
        _, ref_grads = net.loss_and_grads(X, y)
        a_start, da_end = trace.activations[start], das[end]
        what = f"segment_backward(net, a_start, start={start}, end={end}, da_end)"
        out = call(fn, net, a_start, start, end, da_end)
        if not (isinstance(out, tuple) and len(out) == 2):
            fail(f"{what} should return a tuple (da_start, grads), got {type(out).__name__}.")
        da_start, grads = out
        if not isinstance(grads, dict):
            fail(f"{what}: grads should be a dict like {{'W{end}': ..., 'b{end}': ...}}, got {type(grads).__name__}.")
        want = {f"{p}{l}" for l in range(start + 1, end + 1) for p in "Wb"}
        if set(grads) != want:
            missing, extra = sorted(want - set(grads)), sorted(set(grads) - want)
            fail(f"{what} returned grads for {sorted(grads)}; the segment is layers start+1..end = "
                 f"{start + 1}..{end} (off by one at the segment edges: missing {missing}, extra {extra}).")
        for l in range(end, start, -1):
            a_prev = trace.activations[l - 1]
            delta = net.layer_backward(l, das[l], a_prev, trace.zs[l - 1])[3]
            expect_array(grads[f"W{l}"], ref_grads[f"W{l}"], f"{what}: grads['W{l}']", mistakes={
                "dW_l = delta_l^T a_{l-1} needs the layer's INPUT a_{l-1}; you passed its output a_l":
                    delta.T @ trace.activations[l],
                "that is the gradient of the store-all pass for a different layer: check which recomputed "
                "activation belongs to which layer (off by one)": ref_grads.get(f"W{l - 1}", np.zeros(1)),
            })
            expect_array(grads[f"b{l}"], ref_grads[f"b{l}"], f"{what}: grads['b{l}']")
        if da_start is None:
            fail(f"{what} returned da_start = None: call layer_backward with need_input_grad=True so the "
                 f"segment below receives dL/da_{start}.")
        expect_array(da_start, das[start], f"{what}: da_start", mistakes={
            "you returned delta (dL/dz) of the first layer of the segment, not dL/da_start = delta W":
                net.layer_backward(start + 1, das[start + 1], trace.activations[start], trace.zs[start])[3],
        })
    return "recomputed segments give exactly the store-all gradients and dL/da_start (4 segments)"


# ----------------------------------------------------------------------------- 4. the whole sqrt(n) scheme


@task("ckpt_checkpointed_grads", points=1)
def check_ckpt_checkpointed_grads(fn):
    for n, act, seed in [(9, "tanh", 4), (10, "relu", 5), (1, "sigmoid", 6), (5, "tanh", 7)]:
        net, X, y = _problem(n, act, seed, classes=7)  # output as wide as the hidden layers
        ref_loss, ref_grads = net.loss_and_grads(X, y)
        counting = _CountingMLP(net.sizes, activation=act, init="xavier", seed=seed, bias_std=0.1)
        what = f"checkpointed_grads(net with n={n} layers, X, y, segment_backward)"
        try:
            out = call(fn, counting, X, y, segment_backward)  # the library's step: graded on its own
        except Mistake as exc:
            if "shape" in str(exc) or "broadcast" in str(exc):
                fail(f"{exc} Shapes that do not fit usually mean a gradient reached the wrong segment: start with "
                     f"the LAST segment (did you forget the last segment?) and pair every "
                     f"segment with its own checkpoint.")
            raise
        if not (isinstance(out, tuple) and len(out) == 2):
            fail(f"{what} should return (loss, grads), got {type(out).__name__}.")
        loss, grads = out
        if not isinstance(grads, dict):
            fail(f"{what}: grads should be a dict with the keys of net.params, got {type(grads).__name__}.")
        missing = [k for k in ref_grads if k not in grads]
        if missing:
            bounds = sqrt_segments(n)
            top = [f"W{l}" for l in range(bounds[-2] + 1, n + 1)]
            if all(k in missing for k in top):
                fail(f"{what} has no gradients for the last segment {top}: did you forget the last segment? "
                     f"Backpropagate through it first: recompute it from its checkpoint like the others, or "
                     f"keep its caches in the forward pass.")
            fail(f"{what} is missing the gradients {missing}: every segment must be recomputed and backpropagated.")
        expect_scalar(loss, ref_loss, f"{what}: loss")
        for k in ref_grads:
            expect_array(grads[k], ref_grads[k], f"{what}: grads['{k}']")
        bounds = sqrt_segments(n)
        kept = 2 * n - (bounds[-1] - bounds[-2])  # the last segment's caches kept in the forward pass
        if counting.forwards < kept:
            fail(f"{what} gives the right gradients but ran only {counting.forwards} layer forwards for n={n}: "
                 f"that is store-all (every cache kept). Keep only the segment inputs in the forward pass and "
                 f"recompute each segment: {2 * n} forwards, or {kept} if you keep the last segment's caches.")
        if counting.forwards > 2 * n:
            fail(f"{what} ran {counting.forwards} layer forwards, more than 2n = {2 * n}: each segment should be "
                 f"recomputed at most once (one forward pass + one recompute).")
        if kept < counting.forwards < 2 * n:
            fail(f"{what} ran {counting.forwards} layer forwards for n={n}: expected {2 * n} (every segment "
                 f"recomputed) or {kept} (the last segment's caches kept from the forward pass).")
    return "same loss and gradients as store-all with 2n layer forwards, or 2n - k_last keeping the last segment (4 nets)"


# ----------------------------------------------------------------------------- 5. the cost of revolve


@task("ckpt_binomial_cost", points=1, references=[revolve_cost])
def check_ckpt_binomial_cost(fn):
    cases = [(10, 3), (1, 1), (7, 1), (12, 12), (64, 4), (100, 2), (256, 8), (30, 29), (21, 5)]
    for n, s in cases:
        out = call(fn, n, s)
        ref = revolve_cost(n, s)
        r = 0
        while math.comb(s + r, s) < n:
            r += 1
        mistakes = {
            "that counts every layer forward, the n recording re-runs too: F counts only the advances, which "
            "are the extra forwards beyond one forward pass": ref + n,
            "the subtracted term is C(s + r, s + 1), not C(s + r, s)": r * n - math.comb(s + r, s),
        }
        if r > 0:
            mistakes["r is the smallest integer with C(s + r, s) >= n; yours is one too small (off by one "
                     "in the loop)"] = (r - 1) * n - math.comb(s + r - 1, s + 1)
        if s < n:
            mistakes["the input X occupies one of the s slots: do not count it as an extra free slot "
                     "(you computed the cost for s + 1 slots)"] = revolve_cost(n, s + 1)
        expect_scalar(out, ref, f"binomial_cost({n}, {s})", mistakes=mistakes)
        if not isinstance(out, (int, np.integer)):
            fail(f"binomial_cost({n}, {s}) returned {out!r}: return an int (use math.comb, integer arithmetic).")
    return f"matches Griewank's r*n - C(s+r, s+1) on {len(cases)} cases"


# ----------------------------------------------------------------------------- 6. fewest slots for a budget


@task("ckpt_fewest_slots", points=1)
def check_ckpt_fewest_slots(fn):
    cases = [(10, 15), (10, 14), (64, 200), (64, 199), (256, 1000), (100, 99), (100, 4950), (100, 5000), (1, 0), (50, 48)]
    for n, budget in cases:
        ref = next((s for s in range(1, n + 1) if revolve_cost(n, s) <= budget), None)
        out = call(fn, n, budget)
        what = f"fewest_slots({n}, budget={budget})"
        if ref is None:
            if out is not None:
                fail(f"{what} returned {out!r}, but even with n = {n} slots revolve needs {revolve_cost(n, n)} "
                     f"advances: return None when no number of slots fits the budget.")
            continue
        if out is None:
            fail(f"{what} returned None, but {ref} slots need only {revolve_cost(n, ref)} advances.")
        strict = next((s for s in range(1, n + 1) if revolve_cost(n, s) < budget), None)
        mistakes = {"the input X occupies one slot: with s slots only s - 1 snapshots are free, so do not "
                    "count it as free (your answer is one too small)": ref - 1}
        if strict is not None and strict != ref:
            mistakes["the budget is inclusive: extra forwards <= budget"] = strict
        expect_close(out, ref, what, mistakes=mistakes)
    return f"the fewest slots with revolve_cost(n, s) <= budget on {len(cases)} cases"
