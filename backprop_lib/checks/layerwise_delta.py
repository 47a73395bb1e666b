r"""Checks for exercises/03_layerwise_delta.ipynb: the four equations of backprop in numpy.

Conventions of the exercises, as in notebook 03 (rows are examples):

- the loss is the MEAN over the batch and ``delta_l = dL/dz_l`` is the gradient of that mean,
  so the 1/N enters once, in the output delta: ``delta_L = (Y_hat - Y) / N`` (Y_hat = softmax rows);
  ``delta_l = (delta_next @ W_next) * sigma'(z_l)``;
- nothing later divides by N again: ``dW = delta.T @ a_prev``, ``db = delta.sum(axis=0)``;
- the network of the exercises: sigmoid hidden layer, softmax output, cross-entropy
  (:func:`backprop_lib.delta.two_layer_forward` / :func:`~backprop_lib.delta.two_layer_backward`).

Every reference comes from the library; every "wrong value" is a typical mistake built from
the same library pieces. Each task declares the library functions that compute its answer
(``references``): a learner's function that calls one of them scores 0.

The training task cannot be judged by its accuracy alone (a backward pass without sigma'
still reaches the target), so its check also replays the learner's first SGD steps: it calls
``train_digits`` with ``epochs=0`` to read the initial parameters, then with one or two epochs
on batches where the order of the examples cannot matter (one full batch; identical examples),
and compares with the steps of the reference backward pass from those same parameters.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Callable

import numpy as np

from .. import jacobians
from ..activations import Activation, sigmoid, sigmoid_backward, sigmoid_grad
from ..data import digits
from ..delta import example_deltas, per_example_grads, quick_digits_run, two_layer_backward, two_layer_forward
from ..layers import activation_backward, linear_backward, residual_backward
from ..losses import _softmax_cross_entropy, log_softmax, one_hot, softmax, softmax_cross_entropy
from ..mlp import MLP, accuracy, train
from ..optim import SGD, sgd_update
from ._core import Mistake, call, expect_array, fail, task

__all__ = [
    "check_delta_output_softmax_ce",
    "check_delta_hidden_bp2",
    "check_delta_param_grads",
    "check_delta_two_layer_backward",
    "check_delta_sgd_step",
    "check_delta_train_digits",
    "check_delta_xw_backward",
    "check_delta_softmax_vjp",
    "TRAIN_ACCURACY_TARGET",
    "REPLAY",
]

#: Test accuracy on the 8x8 digits that ``train_digits`` must reach.
TRAIN_ACCURACY_TARGET = 0.93

#: The arguments of the replayed training runs (the task text names the procedure, not these).
REPLAY = {"n": 20, "hidden": 5, "lr": 0.3, "seed": 7, "copies": 5, "batch_size": 3}

_GRAD_KEYS = ("W1", "b1", "W2", "b2")
_BACKWARD_ORDER = ("W2", "b2", "W1", "b1")  # the output layer first: its error comes first

# The library functions that compute (part of) each task's answer.
_Refs = list[Callable[..., Any]]
_OUTPUT_DELTA_REFS: _Refs = [softmax_cross_entropy, _softmax_cross_entropy, MLP.output_loss, MLP.backprop,
                             MLP.loss_and_grads, per_example_grads, example_deltas]
_HIDDEN_DELTA_REFS: _Refs = [sigmoid_backward, Activation.backward, activation_backward, linear_backward,
                             residual_backward, MLP.layer_backward, MLP.backprop, per_example_grads]
_PARAM_GRAD_REFS: _Refs = [linear_backward, residual_backward, MLP.layer_backward, MLP.backprop, MLP.loss_and_grads,
                           per_example_grads, two_layer_backward]
_SGD_REFS: _Refs = [sgd_update, MLP.sgd_step, SGD]
_BACKWARD_REFS: _Refs = [two_layer_backward, *_OUTPUT_DELTA_REFS, sigmoid_backward, Activation.backward,
                         activation_backward, linear_backward, residual_backward, MLP.layer_backward]
_TRAIN_REFS: _Refs = [train, quick_digits_run, MLP._train_step, MLP.sgd_step, *_BACKWARD_REFS, sgd_update, SGD]


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


def _merged(pairs) -> dict[str, np.ndarray]:
    """``{hint: wrong value}`` from ``(hint, value)`` pairs; mistakes that give the same value
    share one hint naming all of them (the check cannot tell them apart)."""
    groups: list[list] = []
    for hint, value in pairs:
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        for group in groups:
            if group[1].shape == value.shape and np.allclose(group[1], value, rtol=1e-9, atol=1e-12):
                if hint not in group[0]:
                    group[0].append(hint)
                break
        else:
            groups.append([[hint], value])
    out = {}
    for hints, value in groups:
        text = hints[0] if len(hints) == 1 else "one of these mistakes (they give the same numbers here): " + \
            " -- OR -- ".join(hints)
        out[text] = value
    return out


def _expect(out, expected, what: str, mistakes=None, advice: str | None = None, **kwargs):
    """:func:`expect_array`, with ``advice`` added when no known mistake matches (not only the values)."""
    try:
        return expect_array(out, expected, what, mistakes=mistakes, **kwargs)
    except Mistake as exc:
        message = str(exc)
        bare = re.fullmatch(re.escape(what) + r" is wrong( at index \([^)]*\))?: got [^,]+, expected \S+", message)
        if bare:
            raise Mistake(f"{message} {advice or _DEFAULT_ADVICE}") from None
        raise


_DEFAULT_ADVICE = ("None of the usual mistakes gives these values: on this small case, print each intermediate "
                   "array and its shape and compare it with the task's formula (which array is transposed, which "
                   "axis is summed, where the 1/N enters, and that sigma' is taken at z).")


# --------------------------------------------------------------------------- 1. output delta


_ONE_OVER_N = "the output delta carries the 1/N of the mean loss: delta_L = (p - y)/N"


@task("delta_output_softmax_ce", points=1, references=_OUTPUT_DELTA_REFS)
def check_delta_output_softmax_ce(fn):
    """``fn(logits, labels)`` -> output delta of the mean loss, ``(softmax(logits) - one_hot(labels)) / N``."""
    for seed, (N, C) in enumerate([(5, 4), (7, 10), (1, 3)]):
        _, _, labels, logits, _ = _case(100 + seed, N, 3, 4, C)
        logits = logits * 3.0
        if seed == 2:
            logits = logits + 800.0  # a naive exp overflows here
        _, ref = softmax_cross_entropy(logits, labels)  # the library's gradient of the MEAN loss
        p, Y = softmax(logits), one_hot(labels, C)
        what = f"ce_output_delta(logits {logits.shape}, labels {labels.shape})"
        try:
            out = call(fn, logits, labels)
        except Mistake as exc:
            if "broadcast" in str(exc) and len(np.unique(labels)) < C:
                fail(f"{exc} This batch does not contain every class: the one-hot rows need C = logits.shape[1] "
                     "columns, the number of classes (not labels.max() + 1 or the number of distinct labels).")
            if "broadcast" in str(exc) and f"({N},)" in str(exc).replace(" ", ""):
                fail(f"{exc} A row's max or sum has shape (N,), which does not broadcast against the (N, C) logits: "
                     "use keepdims=True (shape (N, 1)), e.g. z.max(axis=1, keepdims=True).")
            raise
        _expect_shape(out, ref.shape, what, {
            (N,): "one value per example: the delta has one entry per class, (p - y)/N of shape (N, C) "
                  "(did you keep only the entries of the true classes?)",
            (): "a single number: the task asks for the gradient of the loss with respect to every logit, "
                "an (N, C) array, not the loss itself",
            (C, N): "the transpose: one row per example, one column per class",
            (C,): "you summed or averaged over the batch axis: the delta keeps one row per example, (N, C); "
                  "the 1/N is a division, not a mean over the rows",
        })
        arr = np.asarray(out) if isinstance(out, np.ndarray) else None
        if seed == 2 and arr is not None and arr.shape == ref.shape and arr.dtype.kind == "f" \
                and not np.all(np.isfinite(arr)):
            fail(f"{what} contains NaN or inf for logits near 800: np.exp(800) overflows. Use a stable softmax: "
                 "subtract each row's max before exponentiating (or call `softmax`).")
        with np.errstate(divide="ignore", invalid="ignore"):
            dl_dp = np.where(Y > 0, -Y / np.maximum(p, 1e-300), 0.0)
        wrong_columns = p.copy()
        wrong_columns[:, labels] -= 1.0
        whole = np.exp(logits - logits.max())
        pairs = [
            ("you returned the per-example delta p - y, but the loss is the MEAN over the N examples, so "
             "its gradient is (p - y)/N (divide by N = logits.shape[0] once, here)", p - Y),
            ("you divided by N twice: the output delta is (p - y)/N, with the 1/N once", (p - Y) / N**2),
            ("you divided by the number of classes C (logits.shape[1]); the mean is over the N examples, "
             "so divide by N = logits.shape[0]", (p - Y) / C),
        ]
        others = [
            ("the sign is flipped: the output delta is p - y (prediction minus target), not y - p", Y - p),
            ("you used the raw logits: apply the softmax first, delta = softmax(z) - y", logits - Y),
            ("you forgot to subtract the one-hot targets: delta = p - y", p),
            ("you used the log-probabilities (log_softmax): the delta uses the probabilities p = softmax(z)",
             log_softmax(logits) - Y),
            ("you applied a sigmoid to each logit: the output layer is a softmax over the classes "
             "(exponentiate, then divide by the row sum)", sigmoid(logits) - Y),
            ("the softmax must normalise each ROW (one example), i.e. sum over axis=1, not over the batch",
             whole / whole.sum(axis=0, keepdims=True) - Y),
            ("the softmax must normalise each ROW (one example) separately, not the whole array at once: "
             "sum over axis=1 with keepdims=True", whole / whole.sum() - Y),
            ("you multiplied by the softmax's 'derivative' p(1 - p): with cross-entropy that factor cancels "
             "(notebook 03, section 3), the delta is simply p - y", (p - Y) * p * (1 - p)),
            ("you multiplied by sigma'(z) of the logits: the logits are the output layer's LINEAR output and "
             "softmax + cross-entropy has no sigma' factor, the delta is simply p - y", (p - Y) * sigmoid_grad(logits)),
            ("`p[:, labels] -= 1` subtracts 1 in whole columns (every example's entry of every label in the "
             "batch): index each row's own class, p[np.arange(N), labels] -= 1", wrong_columns),
            ("that is -y/p, the derivative of the loss with respect to the PROBABILITIES p; the output delta is "
             "the derivative with respect to the LOGITS z, where softmax and cross-entropy combine into p - y",
             dl_dp),
        ]
        for hint, wrong in others:  # each mistake with the 1/N, then without it
            pairs.append((hint, wrong / N))
        for hint, wrong in others:
            pairs.append((f"{hint}; and {_ONE_OVER_N}", wrong))
        _expect(out, ref, what, mistakes=_merged(pairs))
    return "(p - y)/N matches on 3 batches, including logits near 800 (a stable softmax)"


# --------------------------------------------------------------------------- 2. hidden delta (BP2)


@task("delta_hidden_bp2", points=1, references=_HIDDEN_DELTA_REFS)
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
        pairs = [
            ("you applied sigma' to the activation a = sigma(z) instead of to z: use sigmoid_grad(z) "
             "(or a * (1 - a) with a = sigmoid(z))", back * sigmoid_grad(a)),
            ("you used z * (1 - z): that formula needs the activation a = sigmoid(z), not z", back * z * (1 - z)),
            ("you forgot the sigma'(z) factor: delta_l = (delta_next @ W_next) * sigma'(z_l)", back),
            ("you multiplied by sigma(z) instead of its derivative sigma'(z)", back * a),
            ("you used tanh's derivative 1 - tanh(z)^2: this hidden layer is a sigmoid, "
             "sigma'(z) = sigma(z)(1 - sigma(z))", back * (1 - np.tanh(z) ** 2)),
            ("you used 1 - a^2 (tanh's derivative in terms of its output): for the sigmoid it is a(1 - a)",
             back * (1 - a ** 2)),
            ("you divided by N: delta_next already carries the 1/N of the mean loss (it enters once, in the "
             "output delta), so BP2 divides by nothing", ref / N),
            ("you used ReLU's derivative (z > 0): this hidden layer is a sigmoid, sigma'(z) = sigma(z)(1 - sigma(z))",
             back * (z > 0)),
            ("sigma'(z) = sigma(z)(1 - sigma(z)), with a minus: you wrote sigma(z)(1 + sigma(z))", back * a * (1 + a)),
        ]
        if N == n == m:
            pairs += [
                ("there is an extra transpose: with rows as examples the textbook W^T delta becomes "
                 "delta_next @ W_next (W_next is (n_next, n_l)), not delta_next @ W_next.T",
                 (delta_next @ W_next.T) * sigmoid_grad(z)),
                ("wrong matmul order: W_next @ delta_next is not the same product; use delta_next @ W_next",
                 (W_next @ delta_next) * sigmoid_grad(z)),
                ("wrong matmul order: use delta_next @ W_next (rows are examples), not W_next.T @ delta_next "
                 "(that is the column-vector form)", (W_next.T @ delta_next) * sigmoid_grad(z)),
                ("the sigma'(z) factor multiplies elementwise (`*`, the Hadamard product), not as a matrix "
                 "product (`@`)", back @ sigmoid_grad(z)),
                ("you forgot to send the error through the weights: delta_l = (delta_next @ W_next) * sigma'(z_l)",
                 delta_next * sigmoid_grad(z)),
            ]
        out = call(fn, delta_next, W_next, z)
        _expect_shape(out, ref.shape, what, {
            (n, N): "the transpose of the answer: check the matmul order (delta_next @ W_next gives one row per "
                    "example)",
            (n,): "you summed or averaged over the batch axis: the hidden delta keeps one row per example "
                  "(the batch is summed later, in dW and db)"})
        _expect(out, ref, what, mistakes=_merged(pairs))
    return "(delta_next @ W_next) * sigma'(z) matches on 3 shapes, including an all-square one"


# --------------------------------------------------------------------------- 3. dW, db

_AGAIN = ("delta already carries the 1/N of the mean loss (delta_L = (p - y)/N), so nothing after "
          "the output delta divides by N again: dividing makes the gradient N times too small")


@task("delta_param_grads", points=1, references=_PARAM_GRAD_REFS)
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
        if isinstance(out, dict):
            fail(f"{what} should return the tuple (dW, db), in that order, got a dict.")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            fail(f"{what} should return a tuple (dW, db), got "
                 f"{type(out).__name__}{'' if not hasattr(out, '__len__') else f' of length {len(out)}'}.")
        first, second = out
        if np.shape(second) == dW_ref.shape and np.shape(first) != dW_ref.shape:
            fail(f"{what} returned (db, dW): the two gradients are in swapped order. Return them as "
                 "(dW, db), the order of the layer's parameters W, b (`return dW, db`).")
        dW, db = first, second
        outer_shape = (N * n_out, N * n_in)
        _expect_shape(dW, dW_ref.shape, f"dW from {what}", {
            (n_in, n_out): "it is the transpose: dW must have W's shape (n_out, n_in), so compute delta.T @ a_prev "
                           "(the matmul order matters)",
            outer_shape: "np.outer flattens its arguments, so np.outer(delta, a_prev) is only right for ONE "
                         "example; for a batch, sum the outer products of the rows: delta.T @ a_prev",
            (N, N): "delta @ a_prev.T multiplies over the units; the product must run over the batch "
                    "(the axis the two arrays share): delta.T @ a_prev",
        })
        dW_pairs = [
            (f"dW is divided by N: {_AGAIN}. Use dW = delta.T @ a_prev", dW_ref / N),
            ("dW is transposed (wrong matmul order?): it must have W's shape (n_out, n_in), so compute "
             "delta.T @ a_prev, not a_prev.T @ delta", dW_ref.T),
            ("dW is the outer product of the SUMMED rows, np.outer(delta.sum(0), a_prev.sum(0)); the gradient "
             "is the sum of the per-example outer products, delta.T @ a_prev",
             np.outer(delta.sum(axis=0), a_prev.sum(axis=0))),
            ("dW is only the LAST example's outer product: in a loop over the examples, add them up "
             "(`dW += np.outer(delta[n], a_prev[n])`, not `dW = ...`)", np.outer(delta[-1], a_prev[-1])),
        ]
        if N == n_in == n_out:
            dW_pairs += [
                ("a transpose is missing: dW = delta.T @ a_prev (delta alone is (N, n_out))", delta @ a_prev),
                (f"a transpose is missing, and dW is divided by N: dW = delta.T @ a_prev ({_AGAIN})",
                 delta @ a_prev / N),
                ("delta @ a_prev.T multiplies over the units; the product must run over the batch: "
                 "delta.T @ a_prev", delta @ a_prev.T),
                ("you multiplied delta and a_prev elementwise (`*`); dW is a matrix product that sums the "
                 "per-example outer products: delta.T @ a_prev", delta * a_prev),
            ]
        dW_pairs.append(("dW is multiplied by N: delta already carries the 1/N of the mean loss, and the sum over "
                         "the batch in delta.T @ a_prev is the whole gradient: no factor N", dW_ref * N))
        _expect(dW, dW_ref, f"dW from {what}", mistakes=_merged(dW_pairs))
        db_pairs = [
            (f"db is the mean of the rows of delta; it must be their SUM, delta.sum(axis=0): {_AGAIN}", db_ref / N),
            ("db is only the LAST example's delta: in a loop over the examples, add them up "
             "(`db += delta[n]`, not `db = delta[n]`)", delta[-1]),
            ("db is only the FIRST example's delta (delta[0]): sum the rows of delta over the batch, "
             "delta.sum(axis=0)", delta[0]),
        ]
        if N == n_out:
            db_pairs += [
                ("db is summed over the wrong axis: sum over the batch (axis=0), one value per unit",
                 delta.sum(axis=1)),
                ("db is averaged over the wrong axis: SUM over the batch, delta.sum(axis=0)", delta.mean(axis=1)),
            ]
        _expect_shape(db, db_ref.shape, f"db from {what}", {
            (N, n_out): "the bias gradient is not summed over the batch: sum the rows of delta "
                        "(delta.sum(axis=0))",
            (N,): "you summed over the wrong axis: sum over the batch (axis=0), keeping one value per unit",
            (1, n_out): "keep db one-dimensional (n_out,): drop keepdims=True",
            (): "you summed over everything: sum over the batch only (axis=0), one value per unit",
        })
        _expect(db, db_ref, f"db from {what}", mistakes=_merged(db_pairs))
    return "dW = delta.T @ a_prev and db = delta.sum(axis=0) (no second 1/N) on 3 shapes"


# --------------------------------------------------------------------------- 4. two-layer backward


def _grads_from(d1, d2, X, a1, *, in1=None, in2=None, transposed=False, mean_b=False):
    """The four gradients from the two deltas (the layer inputs ``in1``/``in2`` default to X and a1)."""
    in1 = X if in1 is None else in1
    in2 = a1 if in2 is None else in2
    dW = (lambda d, a: a.T @ d) if transposed else (lambda d, a: d.T @ a)
    db = (lambda d: d.mean(axis=0)) if mean_b else (lambda d: d.sum(axis=0))
    return {"W1": dW(d1, in1), "b1": db(d1), "W2": dW(d2, in2), "b2": db(d2)}


def _bw_parts(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    _, d2 = softmax_cross_entropy(z2, labels)  # (p - y)/N
    return X, z1, a1, z2, N, one_hot(labels, C), d2, params["W2"]


def _bw_variant(make_d2=None, make_d1=None, scale=1.0, **kw):
    def backward(params, cache, labels):
        X, z1, a1, z2, N, Y, d2, W2 = _bw_parts(params, cache, labels)
        if make_d2 is not None:
            d2 = make_d2(z2, Y, N, d2)
        d1 = (d2 @ W2) * sigmoid_grad(z1) if make_d1 is None else make_d1(d2, W2, z1, a1)
        return {k: v * scale for k, v in _grads_from(d1, d2, X, a1, **kw).items()}
    return backward


def _bw_scaled_by_n(power):
    def backward(params, cache, labels):
        N = cache["X"].shape[0]
        return {k: v * N ** power for k, v in _bw_variant()(params, cache, labels).items()}
    return backward


def _bw_with_input(which):
    def backward(params, cache, labels):
        X, z1, a1 = cache["X"], cache["z1"], cache["a1"]
        g = _bw_variant()(params, cache, labels)
        _, d2 = softmax_cross_entropy(cache["z2"], labels)
        d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
        key, product = {"W2<-X": ("W2", lambda: d2.T @ X), "W2<-z1": ("W2", lambda: d2.T @ z1),
                         "W1<-a1": ("W1", lambda: d1.T @ a1)}[which]
        g[key] = product()
        return g
    return backward


def _bw_through_w1(params, cache, labels):
    X, z1, a1, z2, N, Y, d2, W2 = _bw_parts(params, cache, labels)
    d1 = (d2 @ params["W1"]) * sigmoid_grad(z1)
    return _grads_from(d1, d2, X, a1)


def _bw_keys_swapped(params, cache, labels):
    g = _bw_variant()(params, cache, labels)
    return {"W1": g["W2"], "b1": g["b2"], "W2": g["W1"], "b2": g["b1"]}


def _backward_mistakes() -> list[tuple[str, object]]:
    """``(hint, backward(params, cache, labels) -> grads)`` for the typical wrong backward passes.

    Built from the library's pieces; a variant that does not apply to a net's shapes (a transpose
    that only fits square matrices) raises and is skipped.
    """
    return [
        ("delta1 must come back through the weights of the layer ABOVE, W2: delta1 = (delta2 @ W2) * "
         "sigma'(z1), not delta2 @ W1", _bw_through_w1),
        ("the layers' gradients are under each other's keys: grads['W2'] and grads['b2'] belong to the output "
         "layer (delta2), grads['W1'] and grads['b1'] to the hidden layer (delta1)", _bw_keys_swapped),
        ("the output layer is a softmax over the classes, not a sigmoid per logit: delta2 = (softmax(z2) - y)/N",
         _bw_variant(make_d2=lambda z2, Y, N, d2: (sigmoid(z2) - Y) / N)),
        ("you applied sigma' to the activation a1 instead of to z1: delta1 = (delta2 @ W2) * sigmoid_grad(z1) "
         "(or a1 * (1 - a1))", _bw_variant(make_d1=lambda d2, W2, z1, a1: (d2 @ W2) * sigmoid_grad(a1))),
        ("you forgot the sigma'(z1) factor in delta1 = (delta2 @ W2) * sigma'(z1)",
         _bw_variant(make_d1=lambda d2, W2, z1, a1: d2 @ W2)),
        ("you multiplied delta1 by sigma(z1) = a1 instead of its derivative sigma'(z1) = a1 * (1 - a1)",
         _bw_variant(make_d1=lambda d2, W2, z1, a1: (d2 @ W2) * a1)),
        ("you applied sigma' at the output (to delta2): the logits z2 are the output layer's LINEAR output and "
         "softmax + cross-entropy gives delta2 = (p - y)/N with no sigma' factor",
         _bw_variant(make_d2=lambda z2, Y, N, d2: d2 * sigmoid_grad(z2))),
        ("the gradients are N times too large: the output delta of the MEAN loss is delta2 = (p - y)/N "
         "(the 1/N enters once, there)", _bw_scaled_by_n(1)),
        ("the gradients are N times too small: the 1/N is applied twice, in delta2 = (p - y)/N and again "
         "in dW, db; after the output delta nothing divides by N again", _bw_scaled_by_n(-1)),
        ("the bias gradients are averaged over the batch (N times too small): SUM the rows of delta, "
         "db = delta.sum(axis=0), like dW = delta.T @ a_prev", _bw_variant(mean_b=True)),
        ("the sign of delta2 is flipped: delta2 = (p - y)/N", _bw_variant(make_d2=lambda z2, Y, N, d2: -d2)),
        ("delta2 must use the softmax probabilities: delta2 = (softmax(z2) - y)/N, not (z2 - y)/N",
         _bw_variant(make_d2=lambda z2, Y, N, d2: (z2 - Y) / N)),
        ("you forgot to subtract the one-hot targets: delta2 = (softmax(z2) - y)/N",
         _bw_variant(make_d2=lambda z2, Y, N, d2: softmax(z2) / N)),
        ("there is an extra transpose in delta1: with rows as examples the textbook W2^T delta2 becomes "
         "delta2 @ W2 (no .T)", _bw_variant(make_d1=lambda d2, W2, z1, a1: (d2 @ W2.T) * sigmoid_grad(z1))),
        ("the weight gradients are transposed (a_prev.T @ delta): dW must have W's shape (n_out, n_in); for a "
         "square W the shape cannot tell, so check the order: dW = delta.T @ a_prev", _bw_variant(transposed=True)),
        ("dW2 must use the INPUT of layer 2, the hidden activation a1: dW2 = delta2.T @ a1 (not X)",
         _bw_with_input("W2<-X")),
        ("dW2 must use the hidden ACTIVATION a1 = sigma(z1), not the pre-activation z1: dW2 = delta2.T @ a1",
         _bw_with_input("W2<-z1")),
        ("dW1 must use the INPUT of layer 1, X: dW1 = delta1.T @ X (not a1)", _bw_with_input("W1<-a1")),
    ]


_BACKWARD_MISTAKES = _backward_mistakes()


def _consistent(wrong: list, key: str, right: np.ndarray) -> list:
    """The mistakes still possible once ``key`` came out right: those that give the right value there."""
    return [(hint, g) for hint, g in wrong
            if np.shape(g[key]) == np.shape(right) and np.allclose(g[key], right, rtol=1e-7, atol=1e-10)]


def _try(backward, *args):
    try:
        with np.errstate(all="ignore"):
            return backward(*args)
    except (ValueError, TypeError):  # a variant that does not fit these shapes
        return None


@task("delta_two_layer_backward", points=2, references=_BACKWARD_REFS)
def check_delta_two_layer_backward(fn):
    """``fn(params, cache, labels)`` -> gradients of the mean cross-entropy, without touching the cache."""
    # (N, d, h, c): the first net has square W1 and W2 (a transpose cannot hide behind a shape error)
    for seed, (N, d, h, c) in enumerate([(6, 4, 4, 4), (9, 8, 6, 5), (1, 3, 2, 2)]):
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
        wrong = [(hint, g) for hint, b in _BACKWARD_MISTAKES if (g := _try(b, params, cache, labels)) is not None]
        for k in _BACKWARD_ORDER:
            n_out, n_in = params[k.replace("b", "W")].shape
            _expect_shape(out[k], ref[k].shape, f"grads['{k}'] from {what}", {
                (N * n_out, N * n_in): "np.outer flattens its arguments, so np.outer(delta, a_prev) is only right "
                                       "for ONE example; for a batch, dW = delta.T @ a_prev sums the per-example "
                                       "outer products",
            })
            _expect(out[k], ref[k], f"grads['{k}'] from {what}", mistakes=_merged((h, g[k]) for h, g in wrong))
            wrong = _consistent(wrong, k, ref[k])
    return "all four gradients match backprop_lib's on 3 nets (and the cache is left untouched)"


# --------------------------------------------------------------------------- 5. one SGD step


@task("delta_sgd_step", points=1, references=_SGD_REFS)
def check_delta_sgd_step(fn):
    """``fn(params, grads, lr)`` -> a NEW dict ``{k: params[k] - lr * grads[k]}``."""
    for seed, lr in enumerate([0.1, 0.5, 2.0]):
        params, X, labels, _, cache = _case(500 + seed, 5, 4, 3, 3)
        grads = two_layer_backward(params, cache, labels)
        if seed == 2:  # a backward pass lists the output layer first: pair the arrays by key, not by position
            grads = {k: grads[k] for k in reversed(list(grads))}
        try:
            out = call(fn, params, grads, lr)
        except Mistake as exc:
            if "in place" in str(exc) and "argument 2" in str(exc):
                fail("your function changed the gradients it was given (e.g. `grads[k] *= lr`): they belong "
                     "to the caller. Compute new arrays: params[k] - lr * grads[k].")
            if "in place" in str(exc):
                fail("your function changed the arrays it was given (e.g. `params[k] -= lr * g`, also after "
                     "`new = params.copy()`: a dict's copy is shallow, the arrays inside are still the "
                     "caller's). Return a new dict: {k: params[k] - lr * grads[k] for k in params}.")
            if seed == 2:
                fail(f"{exc} Here grads lists its keys in another order than params (W2 first, as a backward pass "
                     "produces them): pair each parameter with its gradient by key, grads[k], not by position "
                     "(zip(params.values(), grads.values())).")
            raise
        what = f"sgd_step(params, grads, lr={lr})"
        if not isinstance(out, dict) or set(out) != set(params):
            fail(f"{what} should return a dict with the keys {sorted(params)}, got "
                 f"{sorted(out) if isinstance(out, dict) else type(out).__name__}.")
        if seed == 2:
            by_position = dict(zip(params, grads.values()))
        for k in params:
            ref = params[k] - lr * grads[k]
            pairs = [
                ("sign error in the update: step AGAINST the gradient, params - lr * grads", params[k] + lr * grads[k]),
                ("you forgot the learning rate: params - lr * grads", params[k] - grads[k]),
                ("you returned the step only: the new value is params - lr * grads", -lr * grads[k]),
                ("the learning rate multiplies the gradient, it does not divide it", params[k] - grads[k] / lr),
                (f"you used a fixed learning rate 0.1 instead of the `lr` argument (this call passes lr={lr})",
                 params[k] - 0.1 * grads[k] if lr != 0.1 else None),
                (f"params['{k}'] was not updated: every parameter, weights AND biases, takes the step "
                 "params[k] - lr * grads[k]", params[k]),
            ]
            if seed == 2 and by_position[k].shape == params[k].shape and by_position[k] is not grads[k]:
                pairs.append(("each parameter got another parameter's gradient: grads lists its keys in another "
                              "order here (W2 first, as a backward pass produces them); pair them by key, "
                              "grads[k], not by position", params[k] - lr * by_position[k]))
            _expect(out[k], ref, f"{what}['{k}']", mistakes=_merged(pairs),
                    advice="None of the usual mistakes gives these values: the new value of every parameter is "
                           "params[k] - lr * grads[k], nothing else (no second factor, no normalisation).")
    return "params - lr * grads for 3 learning rates, keys paired by name, inputs untouched"


# --------------------------------------------------------------------------- 6. a training loop


_DIGITS = None


def _digits():
    global _DIGITS
    if _DIGITS is None:
        _DIGITS = digits()
    return _DIGITS


def _replay(p0, X, y, lr, batch_size, epochs, backward=two_layer_backward, divisor=None, sign=-1.0,
            drop_last=False, assign=True, momentum=0.0):
    """Minibatch SGD from ``p0``, batches in order (the check only replays cases where order cannot matter).

    ``divisor(n)`` replaces the N of a minibatch of n examples (a typical mistake); ``assign=False``
    is the loop whose update never reaches the next step (it returns the last update from ``p0``);
    ``momentum`` adds a velocity (PyTorch's and CS231n's forms give the same steps for a fixed lr).
    """
    params = {k: np.array(v, dtype=np.float64) for k, v in p0.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    last = params
    N = X.shape[0]
    for _ in range(epochs):
        for start in range(0, N, batch_size):
            idx = np.arange(start, min(start + batch_size, N))
            if drop_last and idx.size < batch_size:
                continue
            _, cache = two_layer_forward(params, X[idx])
            g = backward(params, cache, y[idx])
            if divisor is not None:
                g = {k: v * idx.size / divisor(idx.size) for k, v in g.items()}
            velocity = {k: momentum * velocity[k] + sign * lr * g[k] for k in params}
            last = {k: params[k] + velocity[k] for k in params}
            if assign:
                params = last
    return last


def _train_call(fn, X, y, what: str, **kwargs):
    try:
        return call(fn, X, y, **kwargs)
    except Mistake as exc:
        message = str(exc)
        if "unexpected keyword argument" in message or "positional argument" in message:
            fail(f"{what}: {message} Keep the signature of the task, train_digits(X_train, y_train, hidden=..., "
                 "epochs=..., lr=..., batch_size=..., seed=...): the check replays your first steps with its "
                 "own values of these arguments.")
        if kwargs.get("epochs") == 0 and "raised" in message:
            fail(f"{message} The check calls train_digits with epochs=0 to read the initial parameters: "
                 "with epochs=0 it must return them unchanged (no training step).")
        raise


def _params_dict(out, what: str, hidden: int, n_in: int) -> dict[str, np.ndarray]:
    """The returned params as float arrays, after checking keys and shapes (with hints)."""
    if not isinstance(out, dict) or any(k not in out for k in _GRAD_KEYS):
        fail(f"{what} should return the trained params, a dict with keys {list(_GRAD_KEYS)}; got "
             f"{sorted(out) if isinstance(out, dict) else type(out).__name__}.")
    shapes = {"W1": (hidden, n_in), "b1": (hidden,), "W2": (10, hidden), "b2": (10,)}
    for k, shape in shapes.items():
        got = np.shape(out[k])
        if got == shape:
            continue
        if k.startswith("W") and got == shape[::-1]:
            fail(f"{what}: params['{k}'] has shape {got}, expected {shape}: weights are (n_out, n_in), like "
                 "torch.nn.Linear (two_layer_init makes them so).")
        if k == "W1" and len(got) == 2 and got[1] == n_in and got[0] != hidden:
            fail(f"{what}: params['W1'] has shape {got} although the check passed hidden={hidden}: build the net "
                 "with the `hidden` argument, not a fixed size.")
        fail(f"{what}: params['{k}'] has shape {got}, expected {shape} for a {n_in}-{hidden}-10 net.")
    return {k: np.asarray(out[k]) for k in _GRAD_KEYS}


_REPLAY_ADVICE = ("Your training step is not one plain SGD step with the backward pass of task 4. Check that "
                  "each step runs the forward pass with the CURRENT params on the minibatch X_train[idx] with "
                  "ITS labels y_train[idx] (the same idx), divides by the size of that minibatch once (in the "
                  "output delta), uses the `lr` argument, and updates with params - lr * grads (no momentum, "
                  "schedule or weight decay).")


@task("delta_train_digits", points=2, timeout=60, references=_TRAIN_REFS)
def check_delta_train_digits(fn):
    """``fn(X_train, y_train, hidden, epochs, lr, batch_size, seed)`` -> trained params.

    1. the first SGD steps are replayed (from the params that ``epochs=0`` returns) and must be the
       steps of the reference backward pass; 2. the default run must reach the target test accuracy.
    """
    split = _digits()
    n, H, seed, lr = int(REPLAY["n"]), int(REPLAY["hidden"]), int(REPLAY["seed"]), float(REPLAY["lr"])
    X, y = split.X_train[:n], split.y_train[:n]
    args = dict(hidden=H, lr=lr, batch_size=n, seed=seed)
    sig = f"{n} digits, hidden={H}, lr={lr}, batch_size={n}, seed={seed}"

    # 1a. the initial params, twice (a seeded, deterministic initialisation)
    what0 = f"train_digits({sig}, epochs=0)"
    p0 = _params_dict(_train_call(fn, X, y, what0, epochs=0, **args), what0, H, X.shape[1])
    p0_again = _params_dict(_train_call(fn, X, y, what0, epochs=0, **args), what0, H, X.shape[1])
    if any(not np.array_equal(p0[k], p0_again[k]) for k in _GRAD_KEYS):
        fail(f"{what0} returned different initial params on two calls with the same seed: make every random "
             "number depend on the `seed` argument (two_layer_init(..., seed=seed), np.random.default_rng(seed)), "
             "so that a run can be repeated (and replayed by this check).")

    # 1b. one step, then two steps, on one full batch (the order of the examples cannot matter)
    for epochs in (1, 2):
        what = f"train_digits({sig}, epochs={epochs})"
        out = _params_dict(_train_call(fn, X, y, what, epochs=epochs, **args), what, H, X.shape[1])
        if all(np.array_equal(out[k], p0[k]) for k in _GRAD_KEYS):
            fail(f"{what} returned its initial params unchanged (those of epochs=0): does the update reach the "
                 "params (sgd_step returns a NEW dict: params = sgd_step(params, grads, lr)), and does the loop "
                 "use the `epochs` argument?")
        ref = _replay(p0, X, y, lr, n, epochs)
        pairs = [(f"the backward pass in your training loop is wrong: {hint}",
                  _try(_replay, p0, X, y, lr, n, epochs, backward)) for hint, backward in _BACKWARD_MISTAKES]
        pairs.append(("the update goes UP the gradient: the step is params - lr * grads",
                      _replay(p0, X, y, lr, n, epochs, sign=+1.0)))
        if epochs == 2:
            pairs.append(("you added momentum (0.9): this task asks for plain SGD, params - lr * grads at every "
                          "step (momentum comes in notebook 06)", _replay(p0, X, y, lr, n, epochs, momentum=0.9)))
            pairs.append(("the second step started again from the initial params: assign the update back, "
                          "params = sgd_step(params, grads, lr) (sgd_step returns a NEW dict), so that every "
                          "step starts where the last one ended", _replay(p0, X, y, lr, n, epochs, assign=False)))
        pairs = [(hint, v) for hint, v in pairs if v is not None]
        for k in _BACKWARD_ORDER:
            _expect(out[k] - p0[k], ref[k] - p0[k], f"{what}: the change of params['{k}'] (returned minus initial)",
                    mistakes=_merged((hint, v[k] - p0[k]) for hint, v in pairs), advice=_REPLAY_ADVICE)
            pairs = _consistent(pairs, k, ref[k])

    # 1c. minibatches of 3 + 2 identical examples: the last, smaller minibatch and its own N
    m, bs = int(REPLAY["copies"]), int(REPLAY["batch_size"])
    Xc, yc = np.repeat(split.X_train[:1], m, axis=0), np.repeat(split.y_train[:1], m)
    sig_c = f"{m} copies of one digit, hidden={H}, lr={lr}, batch_size={bs}, seed={seed}"
    p0c = _params_dict(_train_call(fn, Xc, yc, f"train_digits({sig_c}, epochs=0)", epochs=0, hidden=H, lr=lr,
                                   batch_size=bs, seed=seed), f"train_digits({sig_c}, epochs=0)", H, Xc.shape[1])
    what = f"train_digits({sig_c}, epochs=1)"
    out = _params_dict(_train_call(fn, Xc, yc, what, epochs=1, hidden=H, lr=lr, batch_size=bs, seed=seed),
                       what, H, Xc.shape[1])
    ref = _replay(p0c, Xc, yc, lr, bs, 1)
    pairs = [
        (f"only ONE step was taken where {m} examples in minibatches of {bs} make two ({bs}, then {m - bs}): "
         "either the last, smaller minibatch is skipped (range(0, N, batch_size) includes it) or the "
         "`batch_size` argument is ignored", _replay(p0c, Xc, yc, lr, bs, 1, drop_last=True)),
        (f"the last minibatch ({m - bs} examples) was divided by batch_size = {bs}: the N of the output delta is "
         "the size of the CURRENT minibatch, len(idx) (the last one may be smaller)",
         _replay(p0c, Xc, yc, lr, bs, 1, divisor=lambda size: bs)),
        (f"each minibatch was divided by the number of training examples ({m}, X_train.shape[0]): the N of the "
         "output delta is the size of the current minibatch, len(idx)",
         _replay(p0c, Xc, yc, lr, bs, 1, divisor=lambda size: m)),
        ("the minibatch gradients are N times too large: the output delta of the mean loss is (p - y)/N with "
         "N = the size of the minibatch", _replay(p0c, Xc, yc, lr, bs, 1, divisor=lambda size: 1)),
    ]
    for k in _BACKWARD_ORDER:
        _expect(out[k] - p0c[k], ref[k] - p0c[k], f"{what}: the change of params['{k}'] (returned minus initial)",
                mistakes=_merged((hint, v[k] - p0c[k]) for hint, v in pairs), advice=_REPLAY_ADVICE)
        pairs = _consistent(pairs, k, ref[k])

    _replay_different_digits(fn, split, H, lr, seed)
    return _digits_accuracy(fn, split)


def _replay_different_digits(fn, split, H: int, lr: float, seed: int) -> None:
    """1d. minibatches of 3 + 2 DIFFERENT digits: whichever way the learner shuffles, its epoch must be
    two steps, on some 3 of the 5 examples and then on the other 2."""
    m, bs = int(REPLAY["copies"]), int(REPLAY["batch_size"])
    Xd, yd = split.X_train[:m], split.y_train[:m]
    sig_d = f"{m} different digits, hidden={H}, lr={lr}, batch_size={bs}, seed={seed}"
    what0 = f"train_digits({sig_d}, epochs=0)"
    p0d = _params_dict(_train_call(fn, Xd, yd, what0, epochs=0, hidden=H, lr=lr, batch_size=bs, seed=seed),
                       what0, H, Xd.shape[1])
    what = f"train_digits({sig_d}, epochs=1)"
    out = _params_dict(_train_call(fn, Xd, yd, what, epochs=1, hidden=H, lr=lr, batch_size=bs, seed=seed),
                       what, H, Xd.shape[1])

    def same(a: dict, b: dict) -> bool:
        return all(np.allclose(a[k], b[k], rtol=1e-7, atol=1e-10) for k in _GRAD_KEYS)

    partitions = [list(first) + [i for i in range(m) if i not in first]
                  for first in itertools.combinations(range(m), bs)]
    if not any(same(out, _replay(p0d, Xd[order], yd[order], lr, bs, 1)) for order in partitions):
        whole = _replay(p0d, np.concatenate([Xd] * 2), np.concatenate([yd] * 2), lr, m, 1)
        if same(out, whole):
            fail(f"{what}: each step used the gradient of ALL {m} training examples, not of its minibatch: the "
                 "forward and backward passes of a step take X_train[idx] and y_train[idx] (the same idx), "
                 "the examples of that minibatch only.")
        fail(f"{what}: the result is not two SGD steps, one on {bs} of the {m} digits and one on the other "
             f"{m - bs}, whichever way they are shuffled. {_REPLAY_ADVICE} Shuffle X and y with the SAME "
             "permutation, and let every step see only the examples of its own minibatch.")


def _digits_accuracy(fn, split) -> str:
    """2. the learner's own settings: the accuracy on the held-out digits."""
    what = "train_digits(X_train, y_train)"
    out = call(fn, split.X_train, split.y_train)
    hidden = np.shape(out["W1"])[0] if isinstance(out, dict) and np.ndim(out.get("W1", 0)) == 2 else -1
    params = _params_dict(out, what, hidden, split.X_train.shape[1])
    logits, _ = two_layer_forward(params, split.X_test)
    if not np.all(np.isfinite(logits)):
        fail(f"{what} returned params that give NaN/inf outputs: the learning rate is probably too large.")
    acc = accuracy(logits, split.y_test)
    train_acc = accuracy(two_layer_forward(params, split.X_train)[0], split.y_train)
    if np.allclose(params["W1"], params["W1"][0]):
        fail(f"test accuracy {acc:.3f}: every row of W1 is the same, so all hidden units are identical. "
             "Start from small random weights, not zeros (symmetry).")
    if acc < 0.3:
        fail(f"test accuracy {acc:.3f} (chance is 0.1): the net did not learn. Does the loss go down? "
             "Check the sign of the update (params - lr * grads), that you use the gradients of "
             "the current batch, and that X and y are shuffled with the SAME permutation.")
    if acc < TRAIN_ACCURACY_TARGET:
        fail(f"test accuracy {acc:.3f} (train {train_acc:.3f}) is below the target {TRAIN_ACCURACY_TARGET}, "
             "although your first steps are right: train for more epochs or raise the learning rate a little "
             "(e.g. hidden=32, lr=0.5, 30 epochs, batches of 32).")
    return (f"the first SGD steps match the reference step for step, and the test accuracy {acc:.3f} >= "
            f"{TRAIN_ACCURACY_TARGET} on the 450 held-out digits")


# --------------------------------------------------------------------------- 7. shape reasoning: Z = X W + b


def _xw_call(fn, dZ, X, W, what: str):
    """Call ``xw_backward``; a failure that shape reasoning explains gets that explanation."""
    try:
        return call(fn, dZ, X, W)
    except Mistake as exc:
        message = str(exc)
        if "in place" in message and "argument 1" in message:
            fail("your function modified the upstream gradient dZ in place (e.g. `dZ /= N` or `dZ *= ...`): it "
                 "belongs to the caller (the layer above may still need it). Compute new arrays instead.")
        if "matmul" in message or "shapes" in message or "broadcast" in message:
            fail(f"{message} Reason with the shapes (here {what}): dZ is (N, n_out), X is (N, n_in), W is "
                 "(n_in, n_out). dX must be (N, n_in): the only product that gives it is dZ @ W.T; dW must be "
                 "(n_in, n_out): X.T @ dZ. The lecture's dA_prev = delta @ W assumed W of shape (n_out, n_in).")
        raise


def _xw_pairs(dZ, X, W, ref) -> tuple[list, list, list]:
    """(hint, wrong value) for dX, dW and db of ``Z = X W + b`` (some only exist for square shapes)."""
    dX, dW, db = ref
    N, n_in = X.shape
    n_out = W.shape[1]
    dX_pairs = [
        (f"dX is divided by N: {_UPSTREAM}", dX / N),
        ("dX is only the last example's row repeated: dX keeps one row per example, dZ @ W.T",
         np.repeat(dX[-1:], N, axis=0)),
    ]
    dW_pairs = [
        (f"dW is divided by N: {_UPSTREAM}", dW / N),
        ("dW is the outer product of the SUMMED rows, np.outer(X.sum(0), dZ.sum(0)); the gradient is the sum "
         "of the per-example outer products, X.T @ dZ", np.outer(X.sum(axis=0), dZ.sum(axis=0))),
        ("dW is only the LAST example's outer product: in a loop over the examples, add them up "
         "(`dW += np.outer(X[n], dZ[n])`, not `dW = ...`)", np.outer(X[-1], dZ[-1])),
    ]
    db_pairs = [
        (f"db is the mean of the rows of dZ; it must be their SUM, dZ.sum(axis=0): {_UPSTREAM}", db / N),
        ("db is only the last example's row: sum the rows of dZ, dZ.sum(axis=0)", dZ[-1]),
    ]
    if N == n_in == n_out:
        dX_pairs += [
            ("dX = dZ @ W is the lecture's rule for W of shape (n_out, n_in); here W is (n_in, n_out), so "
             "shape reasoning gives dX = dZ @ W.T (for a square W the shapes cannot tell, the values can)", dZ @ W),
            ("you multiplied dZ and W elementwise (`*`); dX is a matrix product, dZ @ W.T", dZ * W),
            ("dX came out as dW: the function returns (dX, dW, db), in the order of the forward's inputs X, W, b",
             dW),
        ]
        dW_pairs += [
            ("dW = dZ.T @ X is the lecture's rule for W of shape (n_out, n_in); here W is (n_in, n_out), so dW "
             "must be X.T @ dZ, its transpose (for a square W the shapes cannot tell, the values can)", dZ.T @ X),
            ("a transpose is missing: dW = X.T @ dZ (X alone is (N, n_in))", X @ dZ),
            ("you multiplied X and dZ elementwise (`*`); dW is a matrix product that sums the per-example outer "
             "products: X.T @ dZ", X * dZ),
            ("dW came out as dX: the function returns (dX, dW, db), in the order of the forward's inputs X, W, b",
             dX),
        ]
        db_pairs += [
            ("db is summed over the wrong axis: sum over the batch (axis=0), one value per output unit",
             dZ.sum(axis=1)),
        ]
    return dX_pairs, dW_pairs, db_pairs


_UPSTREAM = ("the upstream gradient dZ already carries any 1/N of a mean loss, and a backward step passes it on "
             "without dividing again")

_XW_REFS: _Refs = [linear_backward, residual_backward, MLP.layer_backward, MLP.backprop, two_layer_backward]


@task("delta_xw_backward", points=1, references=_XW_REFS)
def check_delta_xw_backward(fn):
    """``fn(dZ, X, W)`` -> ``(dX, dW, db)`` for ``Z = X @ W + b`` with W of shape (n_in, n_out)."""
    # (N, n_in, n_out): non-square shapes first (a wrong product fails on its shape), then an all-square case
    for seed, (N, n_in, n_out) in enumerate([(5, 3, 4), (4, 4, 4), (3, 6, 2)]):
        rng = np.random.default_rng(700 + seed)
        dZ, X, W = rng.normal(0, 1, (N, n_out)), rng.normal(0, 1, (N, n_in)), rng.normal(0, 1, (n_in, n_out))
        ref = (dZ @ W.T, X.T @ dZ, dZ.sum(axis=0))
        what = f"xw_backward(dZ {dZ.shape}, X {X.shape}, W {W.shape})"
        out = _xw_call(fn, dZ, X, W, what)
        _xw_expect_triple(out, ref, what)
        dX_pairs, dW_pairs, db_pairs = _xw_pairs(dZ, X, W, ref)
        shapes = {"dX": (N, n_in), "dW": (n_in, n_out), "db": (n_out,)}
        for name, got, want, pairs in zip(shapes, out, ref, (dX_pairs, dW_pairs, db_pairs)):
            _expect_shape(got, want.shape, f"{name} from {what}", _xw_shape_hints(name, shapes, N))
            _expect(got, want, f"{name} from {what}", mistakes=_merged(pairs), advice=_XW_ADVICE)
    return "dX = dZ @ W.T, dW = X.T @ dZ, db = dZ.sum(axis=0) on 3 shapes, including an all-square one"


_XW_ADVICE = ("None of the usual mistakes gives these values: write down the shape of each input and of each "
              "gradient (dX like X, dW like W, db like b), and find the one product of dZ with X or W that has it.")


def _xw_expect_triple(out, ref, what: str) -> None:
    """``out`` must be a tuple (dX, dW, db) in that order (the shapes tell when they differ)."""
    if isinstance(out, dict):
        fail(f"{what} should return the tuple (dX, dW, db), in that order, got a dict.")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        length = f" of length {len(out)}" if hasattr(out, "__len__") else ""
        fail(f"{what} should return a tuple (dX, dW, db), got {type(out).__name__}{length}.")
    shapes = [np.shape(v) for v in out]
    want = [r.shape for r in ref]
    if shapes != want and sorted(map(str, shapes)) == sorted(map(str, want)):
        fail(f"{what} returned arrays of shapes {shapes}, the right shapes {want} in another order: return "
             "(dX, dW, db), the order of the forward's inputs X, W, b.")


def _xw_shape_hints(name: str, shapes: dict, N: int) -> dict[tuple, str]:
    n_in, n_out = shapes["dW"]
    if name == "dX":
        return {(n_in, N): "the transpose: dX has X's shape (N, n_in); dZ @ W.T gives it"}
    if name == "dW":
        return {(n_out, n_in): "that is dZ.T @ X, the lecture's rule for W of shape (n_out, n_in); here W is "
                               "(n_in, n_out), and the only product of X and dZ with that shape is X.T @ dZ"}
    return {(N,): "you summed over the wrong axis: sum over the batch (axis=0), one value per output unit",
            (1, n_out): "keep db one-dimensional (n_out,), like b: drop keepdims=True",
            (): "you summed over everything: sum over the batch only (axis=0), one value per output unit",
            (N, n_out): "the bias gradient is not summed over the batch: db = dZ.sum(axis=0)"}


# --------------------------------------------------------------------------- 8. a non-scalar backward: softmax's VJP


_VJP_REFS: _Refs = [jacobians.softmax_vjp, jacobians.softmax_jacobian, jacobians.numerical_jacobian]


def _vjp_pairs(z, v, ref) -> list:
    """(hint, wrong value) for the VJP of the row-wise softmax (seed v, logits z)."""
    N, C = z.shape
    p = softmax(z)
    vp = (v * p).sum(axis=1, keepdims=True)
    pairs = [
        ("the result does not depend on the seed v: you computed the backward of sum(softmax(z)), the seed "
         "v = ones (that gradient is 0, since every row of p sums to 1). Use v: the VJP is v^T J, row by row "
         "p * (v - sum(v * p))", np.zeros_like(z)),
        ("the result does not depend on the seed v, and keeps only the diagonal p(1 - p) of the Jacobian: the "
         "VJP is v^T J with J = diag(p) - p p^T, row by row p * (v - sum(v * p))", p * (1 - p)),
        ("you treated softmax as an elementwise function (v * p(1 - p), the diagonal of J only): every p_i "
         "depends on every z_j, J = diag(p) - p p^T, so the VJP is p * (v - sum(v * p, axis=1, keepdims=True))",
         v * p * (1 - p)),
        ("the p p^T part of the Jacobian is missing: v^T (diag(p) - p p^T) = p * v - p * sum(v * p)", v * p),
        ("only the p p^T part of the Jacobian is there: v^T (diag(p) - p p^T) = p * v - p * sum(v * p)", -p * vp),
        ("sum(v * p) is summed over the batch (axis=0): it is one number per ROW (example), "
         "(v * p).sum(axis=1, keepdims=True)", p * (v - (v * p).sum(axis=0, keepdims=True))),
        ("you averaged v * p over the classes (mean): the VJP needs the SUM over the classes, "
         "(v * p).sum(axis=1, keepdims=True)", p * (v - (v * p).mean(axis=1, keepdims=True))),
        ("p - v is the backward of softmax + cross-entropy with target v; a softmax alone, with seed v, has "
         "the VJP v^T J = p * (v - sum(v * p))", p - v),
        ("you used the logits z where the probabilities p = softmax(z) belong: p * (v - sum(v * p))",
         z * (v - (v * z).sum(axis=1, keepdims=True))),
        (f"the result is divided by N: {_SEED_CARRIES}", ref / N),
        ("the sign is flipped: v^T J = p * (v - sum(v * p)), not p * (sum(v * p) - v)", -ref),
    ]
    if N == C:
        pairs.append(("sum(v * p) has shape (N,) without keepdims=True, so it is broadcast along the wrong axis "
                      "(row i gets column i's number): use (v * p).sum(axis=1, keepdims=True)",
                      p * (v - (v * p).sum(axis=1))))
    return pairs


_SEED_CARRIES = "the seed v is the whole upstream gradient (any 1/N of a mean loss is already in it)"


def _vjp_call(fn, z, v, what: str):
    try:
        return call(fn, z, v)
    except Mistake as exc:
        message = str(exc)
        if "in place" in message and "argument 2" in message:
            fail("your function modified the seed v in place (e.g. `v -= ...`): it belongs to the caller. "
                 "Compute a new array: p * (v - (v * p).sum(axis=1, keepdims=True)).")
        if "in place" in message and "argument 1" in message:
            fail("your function modified the logits z in place: compute p = softmax(z) as a new array.")
        if "broadcast" in message:
            fail(f"{message} A row's sum(v * p) has shape (N,), which does not broadcast against the (N, C) "
                 "arrays: keep the axis, (v * p).sum(axis=1, keepdims=True), shape (N, 1).")
        raise


def _vjp_cases():
    """(what, z, v): a random seed, the seed ones, a one-hot seed, a square batch, large logits."""
    rng = np.random.default_rng(800)
    z1, z2, z3, z4 = rng.normal(0, 2, (4, 3)), rng.normal(0, 2, (5, 4)), rng.normal(0, 2, (3, 3)), \
        rng.normal(0, 2, (2, 5))
    onehot = one_hot(np.array([0, 3, 1, 3, 2]), 4)
    return [
        ("a random seed v", z1, rng.normal(0, 1, (4, 3))),
        ("the seed v = ones (the gradient of sum(softmax(z)))", z1, np.ones((4, 3))),
        ("one-hot seeds v (each row picks one p_c: its gradient is row c of J)", z2, onehot),
        ("a random seed v, N = C = 3", z3, rng.normal(0, 1, (3, 3))),
        ("a random seed v and logits near 800", z4 + 800.0, rng.normal(0, 1, (2, 5))),
    ]


@task("delta_softmax_vjp", points=1, references=_VJP_REFS)
def check_delta_softmax_vjp(fn):
    """``fn(z, v)`` -> ``v^T J`` row by row for ``p = softmax(z)``: ``p * (v - (v * p).sum(axis=1, keepdims=True))``."""
    for text, z, v in _vjp_cases():
        ref = jacobians.softmax_vjp(z, v)
        what = f"softmax_vjp(z {z.shape}, v {v.shape}) with {text}"
        out = _vjp_call(fn, z, v, what)
        N, C = z.shape
        _expect_shape(out, ref.shape, what, {
            (N, C, C): "one (C, C) array per row: that is v * J (or J itself) before the sum; the VJP sums "
                       "v_i J_ij over i, leaving one number per logit, shape (N, C)",
            (C, C): "a (C, C) array: that is a Jacobian (or v * J), not a VJP; v^T J has one number per logit",
            (N,): "one number per example: the VJP has one entry per logit, shape (N, C) like z",
        })
        arr = out if isinstance(out, np.ndarray) else None
        if z.max() > 100 and arr is not None and arr.shape == ref.shape and arr.dtype.kind == "f" \
                and not np.all(np.isfinite(arr)):
            fail(f"{what} contains NaN or inf: np.exp(800) overflows. Subtract each row's max before "
                 "exponentiating (or use the library's `softmax`).")
        _expect(out, ref, what, mistakes=_merged(_vjp_pairs(z, v, ref)),
                advice="None of the usual mistakes gives these values: for one row, write J = diag(p) - np.outer(p, p) "
                       "and compare v @ J with your result; then find the vectorised form p * (v - sum(v * p)).")
    return ("v^T J of the softmax for 5 seeds (random, ones, one-hot, a square batch, logits near 800); "
            "seed v = ones gives 0")
