"""The checks of exercises/03_layerwise_delta: the reference passes, typical mistakes get their hint."""

import numpy as np
import pytest

from backprop_lib.activations import sigmoid, sigmoid_grad
from backprop_lib.checks import registry
from backprop_lib.checks.layerwise_delta import (
    TRAIN_ACCURACY_TARGET,
    check_delta_hidden_bp2,
    check_delta_output_softmax_ce,
    check_delta_param_grads,
    check_delta_sgd_step,
    check_delta_train_digits,
    check_delta_two_layer_backward,
)
from backprop_lib.delta import two_layer_backward, two_layer_forward, two_layer_init
from backprop_lib.losses import one_hot, softmax

# ---------------------------------------------------------------- reference solutions (learner side)


def output_delta(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / logits.shape[0]


def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next) * sigmoid_grad(z)


def param_grads(delta, a_prev):
    return delta.T @ a_prev, delta.sum(axis=0)


def param_grads_with_loops(delta, a_prev):
    """The sum over the batch written out: one outer product per example."""
    dW = np.zeros((delta.shape[1], a_prev.shape[1]))
    db = np.zeros(delta.shape[1])
    for n in range(delta.shape[0]):
        dW += np.outer(delta[n], a_prev[n])
        db += delta[n]
    return dW, db


def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}


def train_digits(X, y, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0, init_scale=None, step=sgd_step):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X.shape[1], hidden, 10, seed=seed, scale=init_scale)
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X[idx])
            params = step(params, two_layer_backward(params, cache, y[idx]), lr)
    return params


def stub(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


def run(check, fn):
    return check.run(fn)


def assert_hint(result, *words):
    assert result.status == "fail", result
    for word in words:
        assert word in result.message, result.message


# ---------------------------------------------------------------- registration


def test_all_six_tasks_are_registered_with_distinct_names():
    names = {"delta_output_softmax_ce", "delta_hidden_bp2", "delta_param_grads", "delta_two_layer_backward",
             "delta_sgd_step", "delta_train_digits"}
    assert names <= set(registry())


@pytest.mark.parametrize("check", [check_delta_output_softmax_ce, check_delta_hidden_bp2, check_delta_param_grads,
                                   check_delta_two_layer_backward, check_delta_sgd_step, check_delta_train_digits])
def test_untouched_stub_is_reported_as_not_implemented(check):
    assert run(check, stub).status == "not_implemented"


# ---------------------------------------------------------------- 1. output delta


def test_output_delta_reference_passes():
    assert run(check_delta_output_softmax_ce, output_delta).passed


def per_example(z, y):
    return softmax(z) - one_hot(y, z.shape[1])


@pytest.mark.parametrize("wrong, words", [
    (lambda z, y: -output_delta(z, y), ["sign"]),
    (lambda z, y: -per_example(z, y), ["sign", "(p - y)/N"]),
    (lambda z, y: (z - one_hot(y, z.shape[1])) / z.shape[0], ["raw logits"]),
    (lambda z, y: softmax(z) / z.shape[0], ["subtract the one-hot"]),
    (per_example, ["per-example delta p - y", "MEAN", "(p - y)/N"]),
    (lambda z, y: per_example(z, y) / z.shape[0] ** 2, ["divided by N twice"]),
    (lambda z, y: per_example(z, y) / z.shape[1], ["number of classes C"]),
    (lambda z, y: (sigmoid(z) - one_hot(y, z.shape[1])) / z.shape[0], ["sigmoid"]),
    (lambda z, y: np.exp(z) / np.exp(z).sum(axis=0) - one_hot(y, z.shape[1]), ["ROW", "1/N"]),
])
def test_output_delta_mistakes_get_their_hint(wrong, words):
    assert_hint(run(check_delta_output_softmax_ce, wrong), *words)


def test_output_delta_naive_softmax_overflow_is_caught():
    def naive(z, y):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(z)
            return (e / e.sum(axis=1, keepdims=True) - one_hot(y, z.shape[1])) / z.shape[0]

    assert_hint(run(check_delta_output_softmax_ce, naive), "NaN")


# ---------------------------------------------------------------- 2. hidden delta


def test_hidden_delta_reference_passes():
    assert run(check_delta_hidden_bp2, hidden_delta).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda d, W, z: (d @ W) * sigmoid_grad(sigmoid(z)), ["activation a", "instead of to z"]),
    (lambda d, W, z: (d @ W) * z * (1 - z), ["z * (1 - z)"]),
    (lambda d, W, z: d @ W, ["forgot the sigma'"]),
    (lambda d, W, z: (d @ W.T) * sigmoid_grad(z), ["extra transpose"]),
    (lambda d, W, z: (W @ d) * sigmoid_grad(z), ["matmul order"]),
    (lambda d, W, z: (W.T @ d) * sigmoid_grad(z), ["matmul order", "column-vector"]),
])
def test_hidden_delta_mistakes_get_their_hint(wrong, words):
    assert_hint(run(check_delta_hidden_bp2, wrong), *words)


def test_hidden_delta_in_place_update_of_z_is_caught():
    def mutating(d, W, z):
        s = sigmoid(z)
        z *= 0.0
        z += s * (1 - s)
        return (d @ W) * z

    assert_hint(run(check_delta_hidden_bp2, mutating), "in place")


# ---------------------------------------------------------------- 3. dW, db


def test_param_grads_reference_and_loop_solution_pass():
    assert run(check_delta_param_grads, param_grads).passed
    assert run(check_delta_param_grads, param_grads_with_loops).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda d, a: (d.T @ a / d.shape[0], d.sum(axis=0)), ["dW is divided by N", "already carries the 1/N"]),
    (lambda d, a: (d.T @ a, d.mean(axis=0)), ["db", "SUM", "already carries the 1/N"]),
    (lambda d, a: (d @ a, d.sum(axis=0)), ["transpose is missing"]),
    (lambda d, a: (d @ a / d.shape[0], d.sum(axis=0)), ["transpose is missing", "divided by N"]),
    (lambda d, a: (a.T @ d, d.sum(axis=0)), ["matmul order"]),
    (lambda d, a: (d.T @ a, d.sum(axis=1)), ["wrong axis"]),
    (lambda d, a: (d.T @ a, d.mean(axis=1)), ["wrong axis"]),
    (lambda d, a: (d.T @ a, d), ["not summed over the batch"]),
    (lambda d, a: (d.T @ a, d.sum(axis=0, keepdims=True)), ["keepdims"]),
    (lambda d, a: d.T @ a, ["tuple (dW, db)"]),
])
def test_param_grads_mistakes_get_their_hint(wrong, words):
    assert_hint(run(check_delta_param_grads, wrong), *words)


# ---------------------------------------------------------------- 4. two-layer backward


def composed_backward(params, cache, labels):
    d2 = output_delta(cache["z2"], labels)
    d1 = hidden_delta(d2, params["W2"], cache["z1"])
    dW2, db2 = param_grads(d2, cache["a1"])
    dW1, db1 = param_grads(d1, cache["X"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def test_two_layer_backward_reference_and_composed_solution_pass():
    assert run(check_delta_two_layer_backward, two_layer_backward).passed
    assert run(check_delta_two_layer_backward, composed_backward).passed


def backward_with(sigma_prime_of="z1", scale=1.0, mutate=False):
    """The reference backward pass with one mistake; ``scale`` multiplies the output delta's 1/N."""
    def backward(params, cache, labels):
        X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
        N = X.shape[0]
        d2 = (softmax(z2) - one_hot(labels, z2.shape[1])) / N * scale
        if mutate:
            a1 *= 1.0 - a1  # turns the cached activation into sigma'(z1) in place
            d1 = (d2 @ params["W2"]) * a1
        else:
            d1 = (d2 @ params["W2"]) * sigmoid_grad(cache[sigma_prime_of])
        return {"W1": d1.T @ X, "b1": d1.sum(0), "W2": d2.T @ cache["a1"], "b2": d2.sum(0)}
    return backward


def twice_divided_backward(params, cache, labels):
    """(p - y)/N in the output delta AND a mean in dW, db: the old per-example habit on top."""
    g = composed_backward(params, cache, labels)
    N = cache["X"].shape[0]
    return {k: v / N for k, v in g.items()}


@pytest.mark.parametrize("wrong, words", [
    (backward_with(sigma_prime_of="a1"), ["activation a1", "z1"]),
    (lambda p, c, y: backward_with(scale=c["X"].shape[0])(p, c, y), ["N times too large", "(p - y)/N"]),
    (twice_divided_backward, ["N times too small", "applied twice"]),
    (backward_with(scale=-1.0), ["sign of delta2"]),
    (backward_with(mutate=True), ["cache in place"]),
])
def test_two_layer_backward_mistakes_get_their_hint(wrong, words):
    assert_hint(run(check_delta_two_layer_backward, wrong), *words)


def test_two_layer_backward_missing_key_is_named():
    def partial(params, cache, labels):
        g = two_layer_backward(params, cache, labels)
        return {"W1": g["W1"], "W2": g["W2"]}

    assert_hint(run(check_delta_two_layer_backward, partial), "missing the keys", "b1")


# ---------------------------------------------------------------- 5. SGD step


def test_sgd_step_reference_passes():
    assert run(check_delta_sgd_step, sgd_step).passed


def in_place_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
    return params


@pytest.mark.parametrize("wrong, words", [
    (lambda p, g, lr: {k: p[k] + lr * g[k] for k in p}, ["sign error"]),
    (lambda p, g, lr: {k: p[k] - g[k] for k in p}, ["forgot the learning rate"]),
    (lambda p, g, lr: {k: -lr * g[k] for k in p}, ["step only"]),
    (in_place_step, ["changed the arrays"]),
])
def test_sgd_step_mistakes_get_their_hint(wrong, words):
    assert_hint(run(check_delta_sgd_step, wrong), *words)


# ---------------------------------------------------------------- 6. training loop


def test_train_digits_reference_reaches_the_target():
    result = run(check_delta_train_digits, train_digits)
    assert result.passed, result
    assert str(TRAIN_ACCURACY_TARGET) in result.message


def test_train_digits_zero_init_reports_symmetry():
    result = run(check_delta_train_digits, lambda X, y: train_digits(X, y, epochs=2, init_scale=0.0))
    assert_hint(result, "symmetry")


def test_train_digits_sign_error_reports_that_nothing_was_learned():
    def ascent(p, g, lr):
        return {k: p[k] + lr * g[k] for k in p}

    with np.errstate(all="ignore"):
        result = run(check_delta_train_digits, lambda X, y: train_digits(X, y, epochs=1, step=ascent))
    assert_hint(result, "sign of the update")


def test_train_digits_too_short_run_is_below_target():
    result = run(check_delta_train_digits, lambda X, y: train_digits(X, y, epochs=2, lr=0.5))
    assert_hint(result, "below the target")


def test_train_digits_dividing_by_n_twice_is_named_in_the_hint():
    def twice(p, g, lr):  # the gradients of the mean loss divided by the batch size once more
        return {k: p[k] - lr * g[k] / 32 for k in p}

    assert_hint(run(check_delta_train_digits, lambda X, y: train_digits(X, y, step=twice)),
                "below the target", "divide by N twice")
