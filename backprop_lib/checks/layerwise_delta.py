r"""Checks for exercises/03_layerwise_delta.ipynb: the four equations of backprop in numpy.

Conventions of the exercises, as in notebook 03 (rows are examples):

- the loss is the MEAN over the batch and ``delta_l = dL/dz_l`` is the gradient of that mean,
  so the 1/N enters once, in the output delta: ``delta_L = (Y_hat - Y) / N``;
  ``delta_l = (delta_next @ W_next) * sigma'(z_l)``;
- nothing later divides by N again: ``dW = delta.T @ a_prev``, ``db = delta.sum(axis=0)``;
- the network of the exercises: sigmoid hidden layer, softmax output, cross-entropy
  (:func:`backprop_lib.delta.two_layer_forward` / :func:`~backprop_lib.delta.two_layer_backward`).

Every reference comes from the library; every "wrong value" is a typical mistake built
from the same library pieces.
"""

from __future__ import annotations

import numpy as np

from ..activations import sigmoid, sigmoid_grad
from ..data import digits
from ..delta import two_layer_backward, two_layer_forward
from ..losses import one_hot, softmax, softmax_cross_entropy
from ..mlp import accuracy
from ._core import Mistake, call, expect_array, fail, task

__all__ = [
    "check_delta_output_softmax_ce",
    "check_delta_hidden_bp2",
    "check_delta_param_grads",
    "check_delta_two_layer_backward",
    "check_delta_sgd_step",
    "check_delta_train_digits",
    "TRAIN_ACCURACY_TARGET",
]

#: Test accuracy on the 8x8 digits that ``train_digits`` must reach.
TRAIN_ACCURACY_TARGET = 0.93

_GRAD_KEYS = ("W1", "b1", "W2", "b2")


def _case(seed: int, N: int, d: int, h: int, c: int):
    """Parameters, a batch, labels and the forward cache of a small two-layer net."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(0, 0.8, (h, d)), "b1": rng.normal(0, 0.5, h),
              "W2": rng.normal(0, 0.8, (c, h)), "b2": rng.normal(0, 0.5, c)}
    X = rng.normal(0, 1, (N, d))
    labels = rng.integers(0, c, N)
    labels[:c] = np.arange(c)[: min(c, N)]  # every class appears (when N >= c)
    rng.shuffle(labels)
    logits, cache = two_layer_forward(params, X)
    return params, X, labels.astype(np.int64), logits, cache


def _expect_shape(out, shape: tuple, what: str, hints: dict[tuple, str]) -> None:
    """Fail early with a specific hint when ``out`` has one of the shapes in ``hints``."""
    arr_shape = getattr(out, "shape", None)
    if arr_shape is not None and tuple(arr_shape) != tuple(shape) and tuple(arr_shape) in hints:
        fail(f"{what} has shape {tuple(arr_shape)}, expected {tuple(shape)}: {hints[tuple(arr_shape)]}")


# --------------------------------------------------------------------------- 1. output delta


_ONE_OVER_N = "the output delta carries the 1/N of the mean loss: delta_L = (p - y)/N"


@task("delta_output_softmax_ce", points=1)
def check_delta_output_softmax_ce(fn):
    """``fn(logits, labels)`` -> output delta of the mean loss, ``(softmax(logits) - one_hot(labels)) / N``."""
    for seed, (N, C) in enumerate([(5, 4), (7, 10), (1, 3)]):
        _, _, labels, logits, _ = _case(100 + seed, N, 3, 4, C)
        logits = logits * 3.0
        if seed == 2:
            logits = logits + 800.0  # a naive exp overflows here
        _, ref = softmax_cross_entropy(logits, labels)  # the library's gradient of the MEAN loss
        p, Y = softmax(logits), one_hot(labels, C)
        out = call(fn, logits, labels)
        what = f"ce_output_delta(logits {logits.shape}, labels {labels.shape})"
        mistakes = {
            "you returned the per-example delta p - y, but the loss is the MEAN over the N examples, so "
            "its gradient is (p - y)/N (divide by N = logits.shape[0] once, here)": p - Y,
            "you divided by N twice: the output delta is (p - y)/N, with the 1/N once": (p - Y) / N**2,
            "you divided by the number of classes C (logits.shape[1]); the mean is over the N examples, "
            "so divide by N = logits.shape[0]": (p - Y) / C,
        }
        others = {
            "the sign is flipped: the output delta is p - y (prediction minus target), not y - p": Y - p,
            "you used the raw logits: apply the softmax first, delta = softmax(z) - y": logits - Y,
            "you forgot to subtract the one-hot targets: delta = p - y": p,
            "you applied a sigmoid to each logit: the output layer is a softmax over the classes "
            "(exponentiate, then divide by the row sum)": sigmoid(logits) - Y,
            "the softmax must normalise each ROW (one example), i.e. sum over axis=1, not over the batch":
                np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum(axis=0, keepdims=True) - Y,
        }
        for hint, wrong in others.items():  # each mistake with the 1/N, then without it
            mistakes[hint] = wrong / N
            mistakes.setdefault(f"{hint}; and {_ONE_OVER_N}", wrong)
        expect_array(out, ref, what, mistakes=mistakes)
    return "(p - y)/N matches on 3 batches, including logits near 800 (a stable softmax)"


# --------------------------------------------------------------------------- 2. hidden delta (BP2)


@task("delta_hidden_bp2", points=1)
def check_delta_hidden_bp2(fn):
    """``fn(delta_next, W_next, z)`` -> ``(delta_next @ W_next) * sigmoid'(z)``."""
    cases = [(4, 4, 4), (5, 3, 6), (2, 7, 3)]  # (N, n_l, n_next); the first is all-square on purpose
    for seed, (N, n, m) in enumerate(cases):
        rng = np.random.default_rng(200 + seed)
        delta_next = rng.normal(0, 1, (N, m))
        W_next = rng.normal(0, 1, (m, n))
        z = rng.normal(0, 2, (N, n))
        a = sigmoid(z)
        back = delta_next @ W_next
        ref = back * sigmoid_grad(z)
        what = f"hidden_delta(delta_next {delta_next.shape}, W_next {W_next.shape}, z {z.shape})"
        mistakes = {
            "you applied sigma' to the activation a = sigma(z) instead of to z: use sigmoid_grad(z) "
            "(or a * (1 - a) with a = sigmoid(z))": back * sigmoid_grad(a),
            "you used z * (1 - z): that formula needs the activation a = sigmoid(z), not z": back * z * (1 - z),
            "you forgot the sigma'(z) factor: delta_l = (delta_next @ W_next) * sigma'(z_l)": back,
            "you multiplied by sigma(z) instead of its derivative sigma'(z)": back * a,
        }
        if N == n == m:
            mistakes.update({
                "there is an extra transpose: with rows as examples the textbook W^T delta becomes "
                "delta_next @ W_next (W_next is (n_next, n_l))": (delta_next @ W_next.T) * sigmoid_grad(z),
                "wrong matmul order: W_next @ delta_next is not the same product; use delta_next @ W_next":
                    (W_next @ delta_next) * sigmoid_grad(z),
                "wrong matmul order: use delta_next @ W_next (rows are examples), not W_next.T @ delta_next "
                "(that is the column-vector form)": (W_next.T @ delta_next) * sigmoid_grad(z),
            })
        out = call(fn, delta_next, W_next, z)
        _expect_shape(out, ref.shape, what, {(n, N): "the transpose of the answer: check the matmul order "
                                             "(delta_next @ W_next gives one row per example)"})
        expect_array(out, ref, what, mistakes=mistakes)
    return "(delta_next @ W_next) * sigma'(z) matches on 3 shapes, including an all-square one"


# --------------------------------------------------------------------------- 3. dW, db

_AGAIN = ("delta already carries the 1/N of the mean loss (delta_L = (p - y)/N), so nothing after "
          "the output delta divides by N again: dividing makes the gradient N times too small")


@task("delta_param_grads", points=1)
def check_delta_param_grads(fn):
    """``fn(delta, a_prev)`` -> ``(dW, db)`` of the mean loss: ``delta.T @ a_prev`` and ``delta.sum(axis=0)``."""
    cases = [(4, 4, 4), (6, 5, 3), (3, 2, 7)]  # (N, n_in, n_out)
    for seed, (N, n_in, n_out) in enumerate(cases):
        rng = np.random.default_rng(300 + seed)
        delta = rng.normal(0, 1, (N, n_out)) / N  # a delta of the MEAN loss: it carries the 1/N
        a_prev = rng.random((N, n_in))
        dW_ref = delta.T @ a_prev
        db_ref = delta.sum(axis=0)
        out = call(fn, delta, a_prev)
        what = f"param_grads(delta {delta.shape}, a_prev {a_prev.shape})"
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail(f"{what} should return a tuple (dW, db), got "
                 f"{type(out).__name__}{'' if not hasattr(out, '__len__') else f' of length {len(out)}'}.")
        dW, db = out
        dW_mistakes = {
            f"dW is divided by N: {_AGAIN}. Use dW = delta.T @ a_prev": dW_ref / N,
            "dW is transposed (wrong matmul order?): it must have W's shape (n_out, n_in), so compute "
            "delta.T @ a_prev, not a_prev.T @ delta": dW_ref.T,
        }
        if N == n_in == n_out:
            dW_mistakes.update({
                "a transpose is missing: dW = delta.T @ a_prev (delta alone is (N, n_out))": delta @ a_prev,
                f"a transpose is missing, and dW is divided by N: dW = delta.T @ a_prev ({_AGAIN})": delta @ a_prev / N,
            })
        _expect_shape(dW, dW_ref.shape, f"dW from {what}", {
            (n_in, n_out): "it is the transpose: dW must have W's shape (n_out, n_in), so compute delta.T @ a_prev "
                           "(the matmul order matters)"})
        expect_array(dW, dW_ref, f"dW from {what}", mistakes=dW_mistakes)
        db_mistakes = {
            f"db is the mean of the rows of delta; it must be their SUM, delta.sum(axis=0): {_AGAIN}": db_ref / N,
        }
        if N == n_out:
            db_mistakes["db is summed over the wrong axis: sum over the batch (axis=0), one value per unit"] = \
                delta.sum(axis=1)
            db_mistakes["db is averaged over the wrong axis: SUM over the batch, delta.sum(axis=0)"] = \
                delta.mean(axis=1)
        _expect_shape(db, db_ref.shape, f"db from {what}", {
            (N, n_out): "the bias gradient is not summed over the batch: sum the rows of delta "
                        "(delta.sum(axis=0))",
            (N,): "you summed over the wrong axis: sum over the batch (axis=0), keeping one value per unit",
            (1, n_out): "keep db one-dimensional (n_out,): drop keepdims=True",
            (): "you summed over everything: sum over the batch only (axis=0), one value per unit",
        })
        expect_array(db, db_ref, f"db from {what}", mistakes=db_mistakes)
    return "dW = delta.T @ a_prev and db = delta.sum(axis=0) (no second 1/N) on 3 shapes"


# --------------------------------------------------------------------------- 4. two-layer backward


def _wrong_backwards(params, cache, labels) -> dict[str, dict[str, np.ndarray]]:
    """Gradients that typical wrong backward passes return, from the library's pieces."""
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    _, d2 = softmax_cross_entropy(z2, labels)  # (p - y)/N
    W2 = params["W2"]

    def grads(d1, d2_, scale=1.0):
        return {"W1": d1.T @ X * scale, "b1": d1.sum(axis=0) * scale,
                "W2": d2_.T @ a1 * scale, "b2": d2_.sum(axis=0) * scale}

    back = d2 @ W2
    return {
        "you applied sigma' to the activation a1 instead of to z1: delta1 = (delta2 @ W2) * sigmoid_grad(z1) "
        "(or a1 * (1 - a1))": grads(back * sigmoid_grad(a1), d2),
        "you forgot the sigma'(z1) factor in delta1": grads(back, d2),
        "the gradients are N times too large: the output delta of the MEAN loss is delta2 = (p - y)/N "
        "(the 1/N enters once, there)": grads(back * sigmoid_grad(z1), d2, scale=N),
        "the gradients are N times too small: the 1/N is applied twice, in delta2 = (p - y)/N and again "
        "in dW, db; after the output delta nothing divides by N again": grads(back * sigmoid_grad(z1), d2, scale=1 / N),
        "the sign of delta2 is flipped: delta2 = (p - y)/N": grads(-back * sigmoid_grad(z1), -d2),
        "delta2 must use the softmax probabilities: delta2 = (softmax(z2) - y)/N, not (z2 - y)/N": grads(
            ((z2 - one_hot(labels, C)) / N @ W2) * sigmoid_grad(z1), (z2 - one_hot(labels, C)) / N),
    }


@task("delta_two_layer_backward", points=2)
def check_delta_two_layer_backward(fn):
    """``fn(params, cache, labels)`` -> gradients of the mean cross-entropy, without touching the cache."""
    for seed, (N, d, h, c) in enumerate([(6, 5, 4, 3), (9, 8, 6, 5), (1, 3, 2, 2)]):
        params, X, labels, _, cache = _case(400 + seed, N, d, h, c)
        ref = two_layer_backward(params, cache, labels)
        try:
            out = call(fn, params, cache, labels)
        except Mistake as exc:
            if "in place" in str(exc) and "argument 2" in str(exc):
                fail("your function modified the forward cache in place (e.g. `a1 *= ...`, `z1 -= ...` or "
                     "`cache['z1'] = ...`). The cache belongs to the forward pass: compute new arrays "
                     "(`d1 = d1 * sigmoid_grad(z1)`) instead.")
            if "in place" in str(exc) and "argument 1" in str(exc):
                fail("your function modified params in place: a backward pass only reads the weights.")
            raise
        what = f"two_layer_backward(params, cache, labels) with N={N}, sizes {d}-{h}-{c}"
        if not isinstance(out, dict):
            fail(f"{what} should return a dict with keys {list(_GRAD_KEYS)}, got {type(out).__name__}.")
        missing = [k for k in _GRAD_KEYS if k not in out]
        if missing:
            fail(f"{what} is missing the keys {missing}: return {{'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}}.")
        wrong = _wrong_backwards(params, cache, labels)
        for k in ("W2", "b2", "W1", "b1"):
            mistakes = {hint: g[k] for hint, g in wrong.items()}
            expect_array(out[k], ref[k], f"grads['{k}'] from {what}", mistakes=mistakes)
    return "all four gradients match backprop_lib's on 3 nets (and the cache is left untouched)"


# --------------------------------------------------------------------------- 5. one SGD step


@task("delta_sgd_step", points=1)
def check_delta_sgd_step(fn):
    """``fn(params, grads, lr)`` -> a NEW dict ``{k: params[k] - lr * grads[k]}``."""
    for seed, lr in enumerate([0.1, 0.5, 2.0]):
        params, X, labels, _, cache = _case(500 + seed, 5, 4, 3, 3)
        grads = two_layer_backward(params, cache, labels)
        try:
            out = call(fn, params, grads, lr)
        except Mistake as exc:
            if "in place" in str(exc):
                fail("your function changed the arrays it was given (e.g. `params[k] -= lr * g`). "
                     "Return a new dict: {k: params[k] - lr * grads[k] for k in params}.")
            raise
        what = f"sgd_step(params, grads, lr={lr})"
        if not isinstance(out, dict) or set(out) != set(params):
            fail(f"{what} should return a dict with the keys {sorted(params)}, got "
                 f"{sorted(out) if isinstance(out, dict) else type(out).__name__}.")
        for k in params:
            ref = params[k] - lr * grads[k]
            expect_array(out[k], ref, f"{what}['{k}']", mistakes={
                "sign error in the update: step AGAINST the gradient, params - lr * grads": params[k] + lr * grads[k],
                "you forgot the learning rate: params - lr * grads": params[k] - grads[k],
                "you returned the step only: the new value is params - lr * grads": -lr * grads[k],
                "the learning rate multiplies the gradient, it does not divide it": params[k] - grads[k] / lr,
            })
    return "params - lr * grads for 3 learning rates, inputs untouched"


# --------------------------------------------------------------------------- 6. a training loop


_DIGITS = None


def _digits():
    global _DIGITS
    if _DIGITS is None:
        _DIGITS = digits()
    return _DIGITS


@task("delta_train_digits", points=2, timeout=60)
def check_delta_train_digits(fn):
    """``fn(X_train, y_train)`` -> trained params reaching the target test accuracy on the digits."""
    split = _digits()
    out = call(fn, split.X_train, split.y_train)
    what = "train_digits(X_train, y_train)"
    if not isinstance(out, dict) or any(k not in out for k in _GRAD_KEYS):
        fail(f"{what} should return the trained params, a dict with keys {list(_GRAD_KEYS)}; got "
             f"{sorted(out) if isinstance(out, dict) else type(out).__name__}.")
    W1 = np.asarray(out["W1"])
    if W1.ndim != 2 or W1.shape[1] != 64 or np.asarray(out["W2"]).shape[0] != 10:
        fail(f"{what}: W1 must be (hidden, 64) and W2 (10, hidden), got {W1.shape} and {np.asarray(out['W2']).shape}.")
    try:
        logits, _ = two_layer_forward(out, split.X_test)
    except (ValueError, TypeError) as exc:
        fail(f"{what} returned params that do not form a 64-hidden-10 net: {exc}")
    if not np.all(np.isfinite(logits)):
        fail(f"{what} returned params that give NaN/inf outputs: the learning rate is probably too large.")
    acc = accuracy(logits, split.y_test)
    train_acc = accuracy(two_layer_forward(out, split.X_train)[0], split.y_train)
    if np.allclose(out["W1"], out["W1"][0]):
        fail(f"test accuracy {acc:.3f}: every row of W1 is the same, so all hidden units are identical. "
             "Start from small random weights, not zeros (symmetry).")
    if acc < 0.3:
        fail(f"test accuracy {acc:.3f} (chance is 0.1): the net did not learn. Does the loss go down? "
             "Check the sign of the update (params - lr * grads) and that you use the gradients of "
             "the current batch.")
    if acc < TRAIN_ACCURACY_TARGET:
        fail(f"test accuracy {acc:.3f} (train {train_acc:.3f}) is below the target {TRAIN_ACCURACY_TARGET}: "
             "train for more epochs or raise the learning rate a little (e.g. lr=0.5, 30 epochs). If you "
             "divide by N twice (in delta2 = (p - y)/N and again in dW, db), every step is N times too small.")
    return f"test accuracy {acc:.3f} >= {TRAIN_ACCURACY_TARGET} on the 450 held-out digits"
