"""The checks of exercises/03_layerwise_delta beyond the answer table.

The realistic wrong answers and the correct alternatives of every task are rows of
tests/answers/nb03_layerwise_delta.py (run by tests/test_answers.py). Here: registration, the
untouched stub, the declared references, why the training task replays steps (a wrong backward
pass still reaches the accuracy target), that the replay does not depend on choices the task
leaves open, and that no rejection in the table is only the bare values.
"""

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from backprop_lib import activations, delta, jacobians, layers, losses, mlp, optim
from backprop_lib.activations import sigmoid_grad
from backprop_lib.checks import registry
from backprop_lib.checks.layerwise_delta import (
    REPLAY,
    TRAIN_ACCURACY_TARGET,
    check_delta_hidden_bp2,
    check_delta_output_softmax_ce,
    check_delta_param_grads,
    check_delta_sgd_step,
    check_delta_softmax_vjp,
    check_delta_train_digits,
    check_delta_two_layer_backward,
    check_delta_xw_backward,
)
from backprop_lib.data import digits
from backprop_lib.delta import two_layer_forward, two_layer_init
from backprop_lib.losses import one_hot, softmax
from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.mlp import accuracy

sys.path.insert(0, str(Path(__file__).parent))
from answers import learner_function, tables  # noqa: E402

CHECKS = [check_delta_output_softmax_ce, check_delta_hidden_bp2, check_delta_param_grads,
          check_delta_two_layer_backward, check_delta_sgd_step, check_delta_train_digits,
          check_delta_xw_backward, check_delta_softmax_vjp]

# ---------------------------------------------------------------- learner-side solutions (no library answers)


def output_delta(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / logits.shape[0]


def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next) * sigmoid_grad(z)


def param_grads(delta_, a_prev):
    return delta_.T @ a_prev, delta_.sum(axis=0)


def backward(params, cache, labels, sigma_prime_of="z1"):
    d2 = output_delta(cache["z2"], labels)
    d1 = (d2 @ params["W2"]) * sigmoid_grad(cache[sigma_prime_of])
    dW2, db2 = param_grads(d2, cache["a1"])
    dW1, db1 = param_grads(d1, cache["X"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}


def train_digits(X, y, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0, back=backward):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X.shape[1], hidden, 10, seed=seed)
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X[idx])
            params = sgd_step(params, back(params, cache, y[idx]), lr)
    return params


def xw_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def softmax_vjp(z, v):
    p = softmax(z)
    return p * (v - (v * p).sum(axis=1, keepdims=True))


def stub(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


# ---------------------------------------------------------------- registration, stub, references


def test_all_eight_tasks_are_registered_with_distinct_names():
    assert {c.task for c in CHECKS} <= set(registry())
    assert len({c.task for c in CHECKS}) == 8


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.task)
def test_untouched_stub_is_reported_as_not_implemented(check):
    assert check.run(stub).status == "not_implemented"


@pytest.mark.parametrize("check, solution", [
    (check_delta_output_softmax_ce, output_delta), (check_delta_hidden_bp2, hidden_delta),
    (check_delta_param_grads, param_grads), (check_delta_two_layer_backward, backward),
    (check_delta_sgd_step, sgd_step), (check_delta_train_digits, train_digits),
    (check_delta_xw_backward, xw_backward), (check_delta_softmax_vjp, softmax_vjp),
], ids=lambda x: getattr(x, "task", ""))
def test_learner_side_solutions_pass(check, solution):
    result = check.run(solution)
    assert result.passed, result


@pytest.mark.parametrize("check, must_declare", [
    (check_delta_output_softmax_ce, [losses.softmax_cross_entropy, mlp.MLP.backprop]),
    (check_delta_hidden_bp2, [activations.sigmoid_backward, layers.activation_backward, layers.linear_backward]),
    (check_delta_param_grads, [layers.linear_backward, mlp.MLP.layer_backward]),
    (check_delta_two_layer_backward, [delta.two_layer_backward, losses.softmax_cross_entropy,
                                      layers.linear_backward, activations.sigmoid_backward]),
    (check_delta_sgd_step, [optim.sgd_update, optim.SGD, mlp.MLP.sgd_step]),
    (check_delta_train_digits, [mlp.train, delta.two_layer_backward, losses.softmax_cross_entropy,
                                optim.sgd_update, mlp.MLP.loss_and_grads]),
    (check_delta_xw_backward, [layers.linear_backward, mlp.MLP.layer_backward]),
    (check_delta_softmax_vjp, [jacobians.softmax_vjp, jacobians.softmax_jacobian, jacobians.numerical_jacobian]),
], ids=lambda x: getattr(x, "task", ""))
def test_every_task_declares_the_library_functions_that_answer_it(check, must_declare):
    assert all(ref in check.references for ref in must_declare)


@pytest.mark.parametrize("check, library_answer", [
    (check_delta_output_softmax_ce, lambda z, y: losses.softmax_cross_entropy(z, y)[1]),
    (check_delta_two_layer_backward, delta.two_layer_backward),
    (check_delta_train_digits, lambda X, y, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0:
        train_digits(X, y, hidden, epochs, lr, batch_size, seed, back=delta.two_layer_backward)),
    (check_delta_xw_backward, lambda dZ, X, W: (lambda g: (g[0], g[1].T, g[2]))(
        layers.linear_backward(dZ, (X, W.T)))),
    (check_delta_softmax_vjp, jacobians.softmax_vjp),
], ids=lambda x: getattr(x, "task", ""))
def test_the_library_answer_scores_zero(check, library_answer):
    result = check.run(library_answer)
    assert result.score == 0 and "reference implementation" in result.message, result


def test_allowed_helpers_do_not_count_as_the_library_answer():
    """softmax, one_hot, sigmoid_grad, two_layer_init and two_layer_forward are the building blocks."""
    assert check_delta_train_digits.run(train_digits).passed
    assert not {softmax, one_hot, sigmoid_grad, two_layer_init, two_layer_forward} & set(
        ref for check in CHECKS for ref in check.references)


# ---------------------------------------------------------------- tasks 7 and 8: the references are right


def test_xw_backward_reference_matches_finite_differences():
    """The closed form the check compares with is the gradient of sum(dZ * (X W + b)), on non-square shapes."""
    rng = np.random.default_rng(1)
    dZ, X, W, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    dX, dW, db = xw_backward(dZ, X, W)
    loss = lambda: float(np.sum(dZ * (X @ W + b)))  # noqa: E731
    for analytic, arr in ((dX, X), (dW, W), (db, b)):
        assert rel_error(analytic, numerical_gradient(lambda _a: loss(), arr)) < 1e-7


def test_softmax_vjp_reference_matches_the_jacobian_by_finite_differences():
    rng = np.random.default_rng(2)
    z, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for n in range(3):
        J = jacobians.numerical_jacobian(lambda r: softmax(r), z[n])
        assert rel_error(softmax_vjp(z, v)[n], v[n] @ J) < 1e-7


def test_the_seed_ones_case_of_the_softmax_vjp_is_zero():
    """The check's v = ones case: sum(softmax(z)) is 1 for every z, so its gradient is 0."""
    z = np.random.default_rng(3).normal(size=(4, 3))
    assert np.allclose(softmax_vjp(z, np.ones_like(z)), 0.0, atol=1e-15)


# ---------------------------------------------------------------- the training task replays steps


def test_a_backward_pass_without_sigma_prime_reaches_the_target_but_fails_the_replay():
    """Why the check replays the first steps: accuracy alone lets a wrong gradient through."""
    split = digits()
    for wrong in (lambda p, c, y: backward(p, c, y, sigma_prime_of="a1"),
                  lambda p, c, y: {**backward(p, c, y), **_no_sigma_prime(p, c, y)}):
        params = train_digits(split.X_train, split.y_train, back=wrong)
        assert accuracy(two_layer_forward(params, split.X_test)[0], split.y_test) >= TRAIN_ACCURACY_TARGET
        result = check_delta_train_digits.run(
            lambda X, y, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0, _w=wrong:
            train_digits(X, y, hidden, epochs, lr, batch_size, seed, back=_w))
        assert result.status == "fail" and "backward pass in your training loop is wrong" in result.message


def _no_sigma_prime(params, cache, labels):
    d2 = output_delta(cache["z2"], labels)
    d1 = d2 @ params["W2"]
    return {"W1": d1.T @ cache["X"], "b1": d1.sum(axis=0)}


@pytest.mark.parametrize("shuffle", ["permutation", "shuffle", "none"])
def test_the_replay_does_not_depend_on_how_the_examples_are_shuffled(shuffle):
    """The replayed runs use one full batch or identical examples, where the order cannot matter."""
    def trained(X, y, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
        rng = np.random.default_rng(seed + 1)
        params = two_layer_init(X.shape[1], hidden, 10, seed=seed)
        for _ in range(epochs):
            order = np.arange(len(X))
            if shuffle == "permutation":
                order = rng.permutation(len(X))
            elif shuffle == "shuffle":
                rng.shuffle(order)
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                _, cache = two_layer_forward(params, X[idx])
                params = sgd_step(params, backward(params, cache, y[idx]), lr)
        return params

    assert check_delta_train_digits.run(trained).passed


def test_the_replay_arguments_exercise_a_smaller_last_minibatch():
    assert REPLAY["copies"] % REPLAY["batch_size"] != 0
    assert REPLAY["hidden"] not in (32, 64) and REPLAY["lr"] not in (0.1, 0.5, 1.0)


# ---------------------------------------------------------------- the table's rejections say more than numbers

#: Stricter than tests/answers.BARE_VALUES, which misses values printed with a decimal point.
BARE = re.compile(r"^.* is wrong( at index \([^)]*\))?: got \S+, expected \S+$")

ROWS = [a for a in tables()["03_layerwise_delta"] if a.hint is not None]


@pytest.mark.parametrize("answer", ROWS, ids=str)
def test_no_rejection_is_only_the_bare_values(answer):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = registry()[answer.task].run(learner_function(answer, "03_layerwise_delta"))
    assert result.status != "pass"
    assert not BARE.match(result.message), result.message
