"""Realistic answers to exercises/03_layerwise_delta.ipynb (see tests/answers/__init__.py).

The course convention: L is the mean loss, the 1/N enters once, in the output delta
(Y_hat - Y)/N; dW = delta.T @ a_prev and db = delta.sum(axis=0), no second 1/N.
Each cell runs after the solution notebook's cells, so the notebook's own functions of the
earlier tasks (ce_output_delta, hidden_delta, param_grads, two_layer_backward, sgd_step) exist.
"""

from . import Answer

EXERCISE = "03_layerwise_delta"

_LIBRARY = "calls the library's reference implementation"

# --------------------------------------------------------------------------- task 6: a shared loop

# A training loop with one line left to fill in: each row below replaces {d2}, {d1}, {grads}, {update}, ...
_LOOP = """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = {init}
    N = X_train.shape[0]
    for epoch in range(epochs):
        order = rng.permutation(N)
        for start in {starts}:
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            n = {n}
            d2 = {d2}
            d1 = {d1}
            grads = {{"W1": d1.T @ cache["X"], "b1": d1.sum(axis=0),
                     "W2": d2.T @ cache["a1"], "b2": d2.sum(axis=0)}}
            {update}
    return params
"""
_DEFAULTS = dict(
    init="two_layer_init(X_train.shape[1], hidden, 10, seed=seed)",
    starts="range(0, N, batch_size)",
    n="len(idx)",
    d2='(softmax(cache["z2"]) - one_hot(y_train[idx], 10)) / n',
    d1='(d2 @ params["W2"]) * sigmoid_grad(cache["z1"])',
    update="params = {k: params[k] - lr * grads[k] for k in params}",
)


def _loop(**changes) -> str:
    return _LOOP.format(**{**_DEFAULTS, **changes})


ANSWERS = [
    # ----------------------------------------------------------------------- 1. output delta
    Answer("delta_output_softmax_ce", "per-example delta p - y, no 1/N", """
def ce_output_delta(logits, labels):
    return softmax(logits) - one_hot(labels, logits.shape[1])
""", "per-example delta p - y"),
    Answer("delta_output_softmax_ce", "divides by the number of classes", """
def ce_output_delta(logits, labels):
    N, C = logits.shape
    return (softmax(logits) - one_hot(labels, C)) / C
""", "number of classes C"),
    Answer("delta_output_softmax_ce", "averages over the batch (one row)", """
def ce_output_delta(logits, labels):
    return np.mean(softmax(logits) - one_hot(labels, logits.shape[1]), axis=0)
""", "summed or averaged over the batch axis"),
    Answer("delta_output_softmax_ce", "target minus prediction", """
def ce_output_delta(logits, labels):
    N, C = logits.shape
    return (one_hot(labels, C) - softmax(logits)) / N
""", "sign is flipped"),
    Answer("delta_output_softmax_ce", "target minus prediction, no 1/N", """
def ce_output_delta(logits, labels):
    return one_hot(labels, logits.shape[1]) - softmax(logits)
""", "not y - p; and the output delta carries the 1/N of the mean loss"),
    Answer("delta_output_softmax_ce", "raw logits minus the targets", """
def ce_output_delta(logits, labels):
    return (logits - one_hot(labels, logits.shape[1])) / logits.shape[0]
""", "raw logits"),
    Answer("delta_output_softmax_ce", "forgets the targets", """
def ce_output_delta(logits, labels):
    return softmax(logits) / len(labels)
""", "subtract the one-hot"),
    Answer("delta_output_softmax_ce", "naive softmax overflows", """
def ce_output_delta(logits, labels):
    N, C = logits.shape
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    return (p - one_hot(labels, C)) / N
""", "np.exp(800) overflows"),
    Answer("delta_output_softmax_ce", "softmax normalised over the batch axis", """
def ce_output_delta(logits, labels):
    z = logits - logits.max()
    p = np.exp(z) / np.exp(z).sum(axis=0)
    return (p - one_hot(labels, logits.shape[1])) / len(labels)
""", "normalise each ROW"),
    Answer("delta_output_softmax_ce", "sigmoid instead of softmax", """
def ce_output_delta(logits, labels):
    return (sigmoid(logits) - one_hot(labels, logits.shape[1])) / logits.shape[0]
""", "sigmoid to each logit"),
    Answer("delta_output_softmax_ce", "multiplies by the softmax 'derivative' p(1 - p)", """
def ce_output_delta(logits, labels):
    p = softmax(logits)
    return (p - one_hot(labels, logits.shape[1])) * p * (1 - p) / logits.shape[0]
""", "p(1 - p)"),
    Answer("delta_output_softmax_ce", "number of classes from the labels", """
def ce_output_delta(logits, labels):
    Y = one_hot(labels, labels.max() + 1)
    return (softmax(logits) - Y) / logits.shape[0]
""", "does not contain every class"),
    Answer("delta_output_softmax_ce", "subtracts 1 in whole columns", """
def ce_output_delta(logits, labels):
    p = softmax(logits)
    p[:, labels] -= 1
    return p / len(labels)
""", "whole columns"),
    Answer("delta_output_softmax_ce", "the library's gradient, [1]", """
from backprop_lib.losses import softmax_cross_entropy

def ce_output_delta(logits, labels):
    return softmax_cross_entropy(logits, labels)[1]
""", _LIBRARY),
    Answer("delta_output_softmax_ce", "the library's gradient times N, divided by N", """
from backprop_lib import losses

def ce_output_delta(logits, labels):
    N = logits.shape[0]
    per_example = losses.softmax_cross_entropy(logits, labels)[1] * N
    return per_example / N
""", _LIBRARY),
    Answer("delta_output_softmax_ce", "subtract 1 at the true class, in place on p", """
def ce_output_delta(logits, labels):
    N = logits.shape[0]
    p = softmax(logits)
    p[np.arange(N), labels] -= 1.0
    return p / N
""", None),
    Answer("delta_output_softmax_ce", "softmax written out, one-hot from np.eye", """
def ce_output_delta(logits, labels):
    N, C = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probs = e / e.sum(axis=1, keepdims=True)
    return (probs - np.eye(C)[labels]) / N
""", None),
    Answer("delta_output_softmax_ce", "exp of log_softmax", """
from backprop_lib.losses import log_softmax

def ce_output_delta(logits, labels):
    Y = one_hot(labels, logits.shape[1])
    return (np.exp(log_softmax(logits)) - Y) / len(labels)
""", None),

    Answer("delta_output_softmax_ce", 'row max without keepdims', """
def ce_output_delta(logits, labels):
    N, C = logits.shape
    e = np.exp(logits - logits.max(axis=1))
    p = e / e.sum(axis=1)
    return (p - one_hot(labels, C)) / N
""", 'keepdims=True'),
    Answer("delta_output_softmax_ce", '-y/p, the derivative with respect to p', """
def ce_output_delta(logits, labels):
    N, C = logits.shape
    p = softmax(logits)
    return -one_hot(labels, C) / p / N
""", 'PROBABILITIES'),
    # ----------------------------------------------------------------------- 2. hidden delta
    Answer("delta_hidden_bp2", "sigma' of the activation", """
def hidden_delta(delta_next, W_next, z):
    a = sigmoid(z)
    return (delta_next @ W_next) * sigmoid_grad(a)
""", "activation a = sigma(z) instead of to z"),
    Answer("delta_hidden_bp2", "z * (1 - z)", """
def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next) * z * (1 - z)
""", "z * (1 - z)"),
    Answer("delta_hidden_bp2", "forgets sigma'", """
def hidden_delta(delta_next, W_next, z):
    return delta_next @ W_next
""", "forgot the sigma'(z) factor"),
    Answer("delta_hidden_bp2", "the textbook transpose kept: delta @ W.T", """
def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next.T) * sigmoid_grad(z)
""", "extra transpose"),
    Answer("delta_hidden_bp2", "column form W^T delta", """
def hidden_delta(delta_next, W_next, z):
    return np.dot(W_next.T, delta_next) * sigmoid_grad(z)
""", "column-vector form"),
    Answer("delta_hidden_bp2", "W_next @ delta_next", """
def hidden_delta(delta_next, W_next, z):
    return (W_next @ delta_next) * sigmoid_grad(z)
""", "wrong matmul order"),
    Answer("delta_hidden_bp2", "matrix product with sigma'", """
def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next) @ sigmoid_grad(z)
""", "elementwise"),
    Answer("delta_hidden_bp2", "tanh derivative", """
def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next) * (1 - np.tanh(z) ** 2)
""", "tanh's derivative"),
    Answer("delta_hidden_bp2", "sigma' computed in place in z", """
def hidden_delta(delta_next, W_next, z):
    s = sigmoid(z)
    z *= 0
    z += s * (1 - s)
    return (delta_next @ W_next) * z
""", "in place"),
    Answer("delta_hidden_bp2", "the library's sigmoid_backward", """
from backprop_lib.activations import sigmoid_backward

def hidden_delta(delta_next, W_next, z):
    return sigmoid_backward(delta_next @ W_next, z)
""", _LIBRARY),
    Answer("delta_hidden_bp2", "the library's linear_backward for delta @ W", """
from backprop_lib.layers import linear_backward

def hidden_delta(delta_next, W_next, z):
    dx, _, _ = linear_backward(delta_next, (sigmoid(z), W_next))
    return dx * sigmoid_grad(z)
""", _LIBRARY),
    Answer("delta_hidden_bp2", "a * (1 - a)", """
def hidden_delta(delta_next, W_next, z):
    a = sigmoid(z)
    return (delta_next @ W_next) * a * (1 - a)
""", None),
    Answer("delta_hidden_bp2", "einsum and the exp formula", """
def hidden_delta(delta_next, W_next, z):
    back = np.einsum("nk,kj->nj", delta_next, W_next)
    s = 1.0 / (1.0 + np.exp(-z))
    return back * s * (1.0 - s)
""", None),

    Answer("delta_hidden_bp2", 'divides by N again', """
def hidden_delta(delta_next, W_next, z):
    N = delta_next.shape[0]
    return (delta_next @ W_next) * sigmoid_grad(z) / N
""", 'delta_next already carries the 1/N'),
    Answer("delta_hidden_bp2", "ReLU's derivative", """
def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next) * (z > 0)
""", "ReLU's derivative"),
    Answer("delta_hidden_bp2", 'ok: the column form, transposed back to rows', """
def hidden_delta(delta_next, W_next, z):
    return (W_next.T @ delta_next.T).T * sigmoid_grad(z)
""", None),
    # ----------------------------------------------------------------------- 3. dW, db
    Answer("delta_param_grads", "divides by N again", """
def param_grads(delta, a_prev):
    N = delta.shape[0]
    return delta.T @ a_prev / N, delta.sum(axis=0) / N
""", "dW is divided by N"),
    Answer("delta_param_grads", "db as the mean", """
def param_grads(delta, a_prev):
    return delta.T @ a_prev, delta.mean(axis=0)
""", "it must be their SUM"),
    Answer("delta_param_grads", "returns (db, dW)", """
def param_grads(delta, a_prev):
    dW = delta.T @ a_prev
    db = np.sum(delta, axis=0)
    return db, dW
""", "swapped order"),
    Answer("delta_param_grads", "np.outer over the whole batch", """
def param_grads(delta, a_prev):
    return np.outer(delta, a_prev), delta.sum(axis=0)
""", "np.outer flattens"),
    Answer("delta_param_grads", "a_prev.T @ delta", """
def param_grads(delta, a_prev):
    return a_prev.T @ delta, delta.sum(axis=0)
""", "transposed"),
    Answer("delta_param_grads", "delta @ a_prev, a transpose missing", """
def param_grads(delta, a_prev):
    return delta @ a_prev, delta.sum(axis=0)
""", "transpose is missing"),
    Answer("delta_param_grads", "db summed over the units", """
def param_grads(delta, a_prev):
    return delta.T @ a_prev, delta.sum(axis=1)
""", "wrong axis"),
    Answer("delta_param_grads", "returns dW only", """
def param_grads(delta, a_prev):
    return delta.T @ a_prev
""", "tuple (dW, db)"),
    Answer("delta_param_grads", "loop with = instead of +=", """
def param_grads(delta, a_prev):
    dW = np.zeros((delta.shape[1], a_prev.shape[1]))
    db = np.zeros(delta.shape[1])
    for n in range(delta.shape[0]):
        dW = np.outer(delta[n], a_prev[n])
        db = delta[n]
    return dW, db
""", "LAST example"),
    Answer("delta_param_grads", "outer product of the summed rows", """
def param_grads(delta, a_prev):
    return np.outer(delta.sum(axis=0), a_prev.sum(axis=0)), delta.sum(axis=0)
""", "SUMMED rows"),
    Answer("delta_param_grads", "db not summed", """
def param_grads(delta, a_prev):
    return delta.T @ a_prev, delta
""", "not summed over the batch"),
    Answer("delta_param_grads", "db with keepdims", """
def param_grads(delta, a_prev):
    return delta.T @ a_prev, delta.sum(axis=0, keepdims=True)
""", "keepdims"),
    Answer("delta_param_grads", "the library's linear_backward", """
from backprop_lib.layers import linear_backward

def param_grads(delta, a_prev):
    W = np.zeros((delta.shape[1], a_prev.shape[1]))
    _, dW, db = linear_backward(delta, (a_prev, W))
    return dW, db
""", _LIBRARY),
    Answer("delta_param_grads", "a loop of outer products with +=", """
def param_grads(delta, a_prev):
    dW = np.zeros((delta.shape[1], a_prev.shape[1]))
    db = np.zeros(delta.shape[1])
    for d, a in zip(delta, a_prev):
        dW += np.outer(d, a)
        db += d
    return dW, db
""", None),
    Answer("delta_param_grads", "einsum, returned as a list", """
def param_grads(delta, a_prev):
    return [np.einsum("ni,nj->ij", delta, a_prev), np.sum(delta, axis=0)]
""", None),
    Answer("delta_param_grads", "broadcast outer products summed", """
def param_grads(delta, a_prev):
    dW = (delta[:, :, None] * a_prev[:, None, :]).sum(axis=0)
    return dW, delta.sum(0)
""", None),

    Answer("delta_param_grads", 'elementwise product for dW', """
def param_grads(delta, a_prev):
    return delta * a_prev, delta.sum(axis=0)
""", 'elementwise'),
    Answer("delta_param_grads", 'dW multiplied by N', """
def param_grads(delta, a_prev):
    N = delta.shape[0]
    return N * (delta.T @ a_prev), delta.sum(axis=0)
""", 'dW is multiplied by N'),
    Answer("delta_param_grads", 'db from the first row only', """
def param_grads(delta, a_prev):
    return delta.T @ a_prev, delta[0]
""", 'FIRST example'),
    # ----------------------------------------------------------------------- 4. backward pass
    Answer("delta_two_layer_backward", "sigma' of the cached activation", """
def two_layer_backward(params, cache, labels):
    X, a1, z2 = cache["X"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(a1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", "activation a1 instead of to z1"),
    Answer("delta_two_layer_backward", "forgets sigma'", """
def two_layer_backward(params, cache, labels):
    X, a1, z2 = cache["X"], cache["a1"], cache["z2"]
    d2 = (softmax(z2) - one_hot(labels, z2.shape[1])) / len(labels)
    d1 = d2 @ params["W2"]
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", "forgot the sigma'(z1) factor"),
    Answer("delta_two_layer_backward", "sigma' at the linear output", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N * sigmoid_grad(z2)
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", "sigma' at the output"),
    Answer("delta_two_layer_backward", "1/N in the delta and again in the gradients", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X / N, "b1": d1.mean(axis=0), "W2": d2.T @ a1 / N, "b2": d2.mean(axis=0)}
""", "N times too small"),
    Answer("delta_two_layer_backward", "no 1/N anywhere", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    d2 = softmax(z2) - one_hot(labels, z2.shape[1])
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", "N times too large"),
    Answer("delta_two_layer_backward", "the column form's W2.T in BP2", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"].T) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", "extra transpose in delta1"),
    Answer("delta_two_layer_backward", "a_prev.T @ delta (square W)", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": X.T @ d1, "b1": d1.sum(axis=0), "W2": a1.T @ d2, "b2": d2.sum(axis=0)}
""", "weight gradients are transposed"),
    Answer("delta_two_layer_backward", "dW2 from the input X", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ X, "b2": d2.sum(axis=0)}
""", "INPUT of layer 2"),
    Answer("delta_two_layer_backward", "np.outer for the batch", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": np.outer(d1, X), "b1": d1.sum(axis=0), "W2": np.outer(d2, a1), "b2": d2.sum(axis=0)}
""", "np.outer flattens"),
    Answer("delta_two_layer_backward", "sigma' computed in place in the cache", """
def two_layer_backward(params, cache, labels):
    X, a1, z2 = cache["X"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    W2_grad = d2.T @ a1
    a1 *= 1 - a1
    d1 = (d2 @ params["W2"]) * a1
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": W2_grad, "b2": d2.sum(axis=0)}
""", "cache in place"),
    Answer("delta_two_layer_backward", "bias gradients averaged", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.mean(axis=0), "W2": d2.T @ a1, "b2": d2.mean(axis=0)}
""", "bias gradients are averaged"),
    Answer("delta_two_layer_backward", "prediction and target swapped in delta2", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (one_hot(labels, C) - softmax(z2)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", "sign of delta2"),
    Answer("delta_two_layer_backward", "returns only the weight gradients", """
def two_layer_backward(params, cache, labels):
    d2 = ce_output_delta(cache["z2"], labels)
    d1 = hidden_delta(d2, params["W2"], cache["z1"])
    return {"W1": d1.T @ cache["X"], "W2": d2.T @ cache["a1"]}
""", "missing the keys"),
    Answer("delta_two_layer_backward", "the library's function imported under the task's name", """
from backprop_lib.delta import two_layer_backward
""", _LIBRARY),
    Answer("delta_two_layer_backward", "the library's softmax_cross_entropy for delta2", """
from backprop_lib.losses import softmax_cross_entropy

def two_layer_backward(params, cache, labels):
    _, d2 = softmax_cross_entropy(cache["z2"], labels)
    d1 = hidden_delta(d2, params["W2"], cache["z1"])
    dW2, db2 = param_grads(d2, cache["a1"])
    dW1, db1 = param_grads(d1, cache["X"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
""", _LIBRARY),
    Answer("delta_two_layer_backward", "the functions of tasks 1-3", """
def two_layer_backward(params, cache, labels):
    d2 = ce_output_delta(cache["z2"], labels)
    d1 = hidden_delta(d2, params["W2"], cache["z1"])
    dW2, db2 = param_grads(d2, cache["a1"])
    dW1, db1 = param_grads(d1, cache["X"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
""", None),
    Answer("delta_two_layer_backward", "per-example deltas averaged at the end (the lecture's other form)", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    for n in range(N):
        d2 = softmax(z2[n:n + 1]) - one_hot(labels[n:n + 1], C)          # p - y: no 1/N
        d1 = (d2 @ params["W2"]) * a1[n:n + 1] * (1 - a1[n:n + 1])
        grads["W2"] += np.outer(d2, a1[n]) / N
        grads["b2"] += d2[0] / N
        grads["W1"] += np.outer(d1, X[n]) / N
        grads["b1"] += d1[0] / N
    return grads
""", None),

    Answer("delta_two_layer_backward", 'delta1 through W1', """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W1"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", 'weights of the layer ABOVE'),
    Answer("delta_two_layer_backward", "layer 1 and layer 2 gradients under each other's keys", """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (softmax(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W2": d1.T @ X, "b2": d1.sum(axis=0), "W1": d2.T @ a1, "b1": d2.sum(axis=0)}
""", "under each other's keys"),
    Answer("delta_two_layer_backward", 'sigmoid output instead of softmax', """
def two_layer_backward(params, cache, labels):
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    N, C = z2.shape
    d2 = (sigmoid(z2) - one_hot(labels, C)) / N
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}
""", 'not a sigmoid per logit'),
    Answer("delta_two_layer_backward", 'ok: a1 * (1 - a1), np.eye for the one-hot rows', """
def two_layer_backward(params, cache, labels):
    X, a1, z2 = cache["X"], cache["a1"], cache["z2"]
    N, C = z2.shape
    Y = np.eye(C)[labels]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    d2 = (e / e.sum(axis=1, keepdims=True) - Y) / N
    d1 = d2.dot(params["W2"]) * a1 * (1 - a1)
    return dict(W1=d1.T.dot(X), b1=d1.sum(axis=0), W2=d2.T.dot(a1), b2=d2.sum(axis=0))
""", None),
    # ----------------------------------------------------------------------- 5. SGD step
    Answer("delta_sgd_step", "steps up the gradient", """
def sgd_step(params, grads, lr):
    return {k: params[k] + lr * grads[k] for k in params}
""", "sign error"),
    Answer("delta_sgd_step", "forgets the learning rate", """
def sgd_step(params, grads, lr):
    return {k: params[k] - grads[k] for k in params}
""", "forgot the learning rate"),
    Answer("delta_sgd_step", "returns the step only", """
def sgd_step(params, grads, lr):
    return {k: -lr * g for k, g in grads.items()}
""", "step only"),
    Answer("delta_sgd_step", "updates in place", """
def sgd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
    return params
""", "changed the arrays it was given"),
    Answer("delta_sgd_step", "a shallow copy, then -=", """
def sgd_step(params, grads, lr):
    new = params.copy()
    for k in new:
        new[k] -= lr * grads[k]
    return new
""", "shallow"),
    Answer("delta_sgd_step", "scales the gradients in place", """
def sgd_step(params, grads, lr):
    new = {}
    for k, g in grads.items():
        g *= lr
        new[k] = params[k] - g
    return new
""", "changed the gradients it was given"),
    Answer("delta_sgd_step", "pairs parameters and gradients by position", """
def sgd_step(params, grads, lr):
    return {k: p - lr * g for (k, p), g in zip(params.items(), grads.values())}
""", "by key"),
    Answer("delta_sgd_step", "updates only the weights", """
def sgd_step(params, grads, lr):
    return {k: (p - lr * grads[k] if k.startswith("W") else p) for k, p in params.items()}
""", "weights AND biases"),
    Answer("delta_sgd_step", "the library's sgd_update on a copy", """
from backprop_lib.optim import sgd_update

def sgd_step(params, grads, lr):
    new = {k: v.copy() for k, v in params.items()}
    sgd_update(new, grads, lr)
    return new
""", _LIBRARY),
    Answer("delta_sgd_step", "the library's SGD optimiser on a copy", """
from backprop_lib.optim import SGD

def sgd_step(params, grads, lr):
    new = {k: v.copy() for k, v in params.items()}
    SGD(lr=lr).step(new, grads)
    return new
""", _LIBRARY),
    Answer("delta_sgd_step", "a loop over items", """
def sgd_step(params, grads, lr):
    new_params = {}
    for name, value in params.items():
        new_params[name] = value - lr * grads[name]
    return new_params
""", None),
    Answer("delta_sgd_step", "copies first, then -= on the copies", """
def sgd_step(params, grads, lr):
    new = {k: v.copy() for k, v in params.items()}
    for k in new:
        new[k] -= lr * grads[k]
    return new
""", None),

    Answer("delta_sgd_step", 'ok: deepcopy, then -= on the copies', """
def sgd_step(params, grads, lr):
    import copy
    new = copy.deepcopy(params)
    for k in new:
        new[k] -= lr * grads[k]
    return new
""", None),
    Answer("delta_sgd_step", 'copy.copy of the dict, then -=', """
def sgd_step(params, grads, lr):
    import copy
    new = copy.copy(params)
    for k in new:
        new[k] -= lr * grads[k]
    return new
""", 'shallow'),
    Answer("delta_sgd_step", 'learning rate hard-coded to 0.1', """
def sgd_step(params, grads, lr):
    return {k: params[k] - 0.1 * grads[k] for k in params}
""", 'instead of the `lr` argument'),
    # ----------------------------------------------------------------------- 6. training loop
    Answer("delta_train_digits", "sigma' of the activation (still above 93 %)",
           _loop(d1='(d2 @ params["W2"]) * sigmoid_grad(cache["a1"])'), "activation a1 instead of to z1"),
    Answer("delta_train_digits", "no sigma' (still above 93 %)",
           _loop(d1='d2 @ params["W2"]'), "forgot the sigma'(z1) factor"),
    Answer("delta_train_digits", "sigma' at the linear output",
           _loop(d2='(softmax(cache["z2"]) - one_hot(y_train[idx], 10)) / n * sigmoid_grad(cache["z2"])'),
           "sigma' at the output"),
    Answer("delta_train_digits", "1/N in the delta and again in the update",
           _loop(update="params = {k: params[k] - lr * grads[k] / n for k in params}"), "N times too small"),
    Answer("delta_train_digits", "N = batch_size for the smaller last batch",
           _loop(n="batch_size"), "divided by batch_size"),
    Answer("delta_train_digits", "N = the number of training examples",
           _loop(n="N"), "number of training examples"),
    Answer("delta_train_digits", "drops the last, smaller minibatch",
           _loop(starts="range(0, N - batch_size + 1, batch_size)"), "only ONE step"),
    Answer("delta_train_digits", "steps up the gradient",
           _loop(update="params = {k: params[k] + lr * grads[k] for k in params}"), "UP the gradient"),
    Answer("delta_train_digits", "the new params are never assigned back", """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    new_params = params
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            grads = two_layer_backward(params, cache, y_train[idx])
            new_params = sgd_step(params, grads, lr)
    return new_params
""", "started again from the initial params"),
    Answer("delta_train_digits", "returns the params it never updated", """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            new_params = sgd_step(params, two_layer_backward(params, cache, y_train[idx]), lr)
    return params
""", "unchanged"),
    Answer("delta_train_digits", "learning rate decayed every epoch",
           _loop(update="params = {k: params[k] - lr * 0.9 ** epoch * grads[k] for k in params}"), "schedule"),
    Answer("delta_train_digits", "a fixed learning rate instead of the lr argument",
           _loop(update="params = {k: params[k] - 0.5 * grads[k] for k in params}"), "a learning rate"),
    Answer("delta_train_digits", "momentum", """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            grads = two_layer_backward(params, cache, y_train[idx])
            velocity = {k: 0.9 * velocity[k] - lr * grads[k] for k in params}
            params = {k: params[k] + velocity[k] for k in params}
    return params
""", "you added momentum"),
    Answer("delta_train_digits", "zero initialisation",
           _loop(init='{"W1": np.zeros((hidden, 64)), "b1": np.zeros(hidden), "W2": np.zeros((10, hidden)), '
                      '"b2": np.zeros(10)}'), "symmetry"),
    Answer("delta_train_digits", "unseeded random initialisation",
           _loop(init='{"W1": np.random.randn(hidden, 64) * 0.1, "b1": np.zeros(hidden), '
                      '"W2": np.random.randn(10, hidden) * 0.1, "b2": np.zeros(10)}'), "different initial params"),
    Answer("delta_train_digits", "hidden size fixed at 32",
           _loop(init="two_layer_init(X_train.shape[1], 32, 10, seed=seed)"), "`hidden` argument"),
    Answer("delta_train_digits", "too short a run", """
def train_digits(X_train, y_train, hidden=32, epochs=2, lr=0.1, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            params = sgd_step(params, two_layer_backward(params, cache, y_train[idx]), lr)
    return params
""", "below the target"),
    Answer("delta_train_digits", "calls an unwritten two_layer_backward", """
def two_layer_backward(params, cache, labels):
    # YOUR CODE HERE
    raise NotImplementedError("two_layer_backward: replace this line with your code")

def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            params = sgd_step(params, two_layer_backward(params, cache, y_train[idx]), lr)
    return params
""", "calls `two_layer_backward`, which still raises NotImplementedError"),
    Answer("delta_train_digits", "the library's two_layer_backward", """
from backprop_lib.delta import two_layer_backward as backward

def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[idx])
            params = sgd_step(params, backward(params, cache, y_train[idx]), lr)
    return params
""", _LIBRARY),
    Answer("delta_train_digits", "the library's MLP and train", """
from backprop_lib.mlp import MLP, train

def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    net = MLP([X_train.shape[1], hidden, 10], activation="sigmoid", init="xavier", seed=seed)
    train(net, X_train, y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    return dict(net.params)
""", _LIBRARY),
    Answer("delta_train_digits", "the library's loss for the output delta", _loop(
        d2='softmax_cross_entropy(cache["z2"], y_train[idx])[1]').replace(
        "def train_digits", "from backprop_lib.losses import softmax_cross_entropy\n\ndef train_digits"), _LIBRARY),
    Answer("delta_train_digits", "the notebook's own functions, other hyperparameters", """
def train_digits(X_train, y_train, hidden=16, epochs=40, lr=1.0, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            batch = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train[batch])
            params = sgd_step(params, two_layer_backward(params, cache, y_train[batch]), lr)
    return params
""", None),
    Answer("delta_train_digits", "own seeded init, rng.shuffle, a while loop, printed loss", """
def train_digits(X_train, y_train, hidden=40, epochs=25, lr=0.6, batch_size=25, seed=0):
    rng = np.random.default_rng(seed)
    d = X_train.shape[1]
    params = {"W1": rng.normal(0, 1 / np.sqrt(d), (hidden, d)), "b1": np.zeros(hidden),
              "W2": rng.normal(0, 1 / np.sqrt(hidden), (10, hidden)), "b2": np.zeros(10)}
    index = np.arange(len(X_train))
    for epoch in range(epochs):
        rng.shuffle(index)
        start, total = 0, 0.0
        while start < len(index):
            batch = index[start:start + batch_size]
            start += batch_size
            logits, cache = two_layer_forward(params, X_train[batch])
            p = softmax(logits)
            total += -np.log(p[np.arange(len(batch)), y_train[batch]]).sum()
            d2 = (p - one_hot(y_train[batch], 10)) / len(batch)
            d1 = (d2 @ params["W2"]) * cache["a1"] * (1 - cache["a1"])
            dW2, db2 = param_grads(d2, cache["a1"])
            dW1, db1 = param_grads(d1, X_train[batch])
            grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
            params = {k: params[k] - lr * grads[k] for k in params}
        loss = total / len(index)
    return params
""", None),
    Answer("delta_train_digits", "global seed, one shuffle of X and y together", """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    np.random.seed(seed)
    params = {"W1": np.random.randn(hidden, 64) * 0.2, "b1": np.zeros(hidden),
              "W2": np.random.randn(10, hidden) * 0.2, "b2": np.zeros(10)}
    for epoch in range(epochs):
        perm = np.random.permutation(len(y_train))
        Xs, ys = X_train[perm], y_train[perm]
        for i in range(0, len(ys), batch_size):
            xb, yb = Xs[i:i + batch_size], ys[i:i + batch_size]
            _, cache = two_layer_forward(params, xb)
            params = sgd_step(params, two_layer_backward(params, cache, yb), lr)
    return params
""", None),
    Answer("delta_train_digits", 'every step on the whole training set', """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    N = X_train.shape[0]
    for epoch in range(epochs):
        order = rng.permutation(N)
        for start in range(0, N, batch_size):
            idx = order[start:start + batch_size]
            _, cache = two_layer_forward(params, X_train)
            grads = two_layer_backward(params, cache, y_train)
            params = sgd_step(params, grads, lr)
    return params
""", 'not of its minibatch'),
    Answer("delta_train_digits", 'X shuffled, y left in order', """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    N = X_train.shape[0]
    for epoch in range(epochs):
        Xs = X_train[rng.permutation(N)]
        for start in range(0, N, batch_size):
            _, cache = two_layer_forward(params, Xs[start:start + batch_size])
            grads = two_layer_backward(params, cache, y_train[start:start + batch_size])
            params = sgd_step(params, grads, lr)
    return params
""", 'ITS labels y_train[idx]'),
    Answer("delta_train_digits", 'ok: X and y permuted together, then sliced into minibatches', """
def train_digits(X_train, y_train, hidden=32, epochs=30, lr=0.5, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    params = two_layer_init(X_train.shape[1], hidden, 10, seed=seed)
    N = X_train.shape[0]
    for epoch in range(epochs):
        perm = rng.permutation(N)
        Xs, ys = X_train[perm], y_train[perm]
        for start in range(0, N, batch_size):
            xb, yb = Xs[start:start + batch_size], ys[start:start + batch_size]
            _, cache = two_layer_forward(params, xb)
            params = sgd_step(params, two_layer_backward(params, cache, yb), lr)
    return params
""", None),
    # ----------------------------------------------------------------------- 7. shape reasoning, Z = X W + b
    Answer("delta_xw_backward", "the lecture's rules copied (dZ @ W, dZ.T @ X)", """
def xw_backward(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)
""", "dZ @ W.T"),
    Answer("delta_xw_backward", "dW by the lecture's rule dZ.T @ X (transposed)", """
def xw_backward(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)
""", "the lecture's rule for W of shape (n_out, n_in)"),
    Answer("delta_xw_backward", "dW transposed back to fit, on square shapes only", """
def xw_backward(dZ, X, W):
    dW = dZ.T @ X
    if dW.shape != W.shape:
        dW = dW.T
    return dZ @ W.T, dW, dZ.sum(axis=0)
""", "for a square W the shapes cannot tell"),
    Answer("delta_xw_backward", "dX = dZ @ W when it fits, on square shapes only", """
def xw_backward(dZ, X, W):
    dX = dZ @ W if W.shape[0] == W.shape[1] else dZ @ W.T
    return dX, X.T @ dZ, dZ.sum(axis=0)
""", "dX = dZ @ W is the lecture's rule"),
    Answer("delta_xw_backward", "divides by N again", """
def xw_backward(dZ, X, W):
    N = X.shape[0]
    return dZ @ W.T, X.T @ dZ / N, dZ.sum(axis=0) / N
""", "dW is divided by N"),
    Answer("delta_xw_backward", "db as the mean over the batch", """
def xw_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)
""", "it must be their SUM"),
    Answer("delta_xw_backward", "db summed over the wrong axis", """
def xw_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)
""", "sum over the batch (axis=0)"),
    Answer("delta_xw_backward", "db with keepdims=True", """
def xw_backward(dZ, X, W):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0, keepdims=True)
""", "drop keepdims=True"),
    Answer("delta_xw_backward", "returns (dW, dX, db)", """
def xw_backward(dZ, X, W):
    return X.T @ dZ, dZ @ W.T, dZ.sum(axis=0)
""", "in another order"),
    Answer("delta_xw_backward", "elementwise products on the square case", """
def xw_backward(dZ, X, W):
    if X.shape[0] == X.shape[1] == W.shape[1]:
        return dZ * W, X * dZ, dZ.sum(axis=0)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
""", "elementwise"),
    Answer("delta_xw_backward", "dW from the last example only (dW = ... in the loop)", """
def xw_backward(dZ, X, W):
    for n in range(X.shape[0]):
        dW = np.outer(X[n], dZ[n])
    return dZ @ W.T, dW, dZ.sum(axis=0)
""", "LAST example"),
    Answer("delta_xw_backward", "dW from the summed rows", """
def xw_backward(dZ, X, W):
    return dZ @ W.T, np.outer(X.sum(axis=0), dZ.sum(axis=0)), dZ.sum(axis=0)
""", "SUMMED rows"),
    Answer("delta_xw_backward", "float32", """
def xw_backward(dZ, X, W):
    dZ32 = dZ.astype(np.float32)
    return dZ32 @ W.T.astype(np.float32), X.T.astype(np.float32) @ dZ32, dZ32.sum(axis=0)
""", "float32"),
    Answer("delta_xw_backward", "db accumulated into dZ's first row, in place", """
def xw_backward(dZ, X, W):
    dX, dW = dZ @ W.T, X.T @ dZ
    for n in range(1, dZ.shape[0]):
        dZ[0] += dZ[n]
    return dX, dW, dZ[0]
""", "modified the upstream gradient dZ in place"),
    Answer("delta_xw_backward", "the library's linear_backward with W.T", """
from backprop_lib.layers import linear_backward

def xw_backward(dZ, X, W):
    dX, dWt, db = linear_backward(dZ, (X, W.T))
    return dX, dWt.T, db
""", _LIBRARY),
    Answer("delta_xw_backward", "ok: a loop over the examples", """
def xw_backward(dZ, X, W):
    N, n_in = X.shape
    dX = np.zeros_like(X)
    dW = np.zeros_like(W)
    db = np.zeros(W.shape[1])
    for n in range(N):
        dX[n] = W @ dZ[n]
        dW += np.outer(X[n], dZ[n])
        db += dZ[n]
    return dX, dW, db
""", None),
    Answer("delta_xw_backward", "ok: einsum", """
def xw_backward(dZ, X, W):
    return np.einsum("no,io->ni", dZ, W), np.einsum("ni,no->io", X, dZ), np.einsum("no->o", dZ)
""", None),
    Answer("delta_xw_backward", "ok: transposes of the column form", """
def xw_backward(dZ, X, W):
    dX = (W @ dZ.T).T
    dW = (dZ.T @ X).T
    return dX, dW, np.sum(dZ, axis=0)
""", None),

    # ----------------------------------------------------------------------- 8. the softmax's VJP
    Answer("delta_softmax_vjp", "ignores the seed (the backward of sum(p))", """
def softmax_vjp(z, v):
    p = softmax(z)
    return p * (1 - p.sum(axis=1, keepdims=True))
""", "does not depend on the seed v"),
    Answer("delta_softmax_vjp", "v * J summed over the wrong axis", """
def softmax_vjp(z, v):
    out = np.zeros_like(z)
    for n in range(z.shape[0]):
        p = softmax(z[n])
        J = np.diag(p) - np.outer(p, p)
        out[n] = (v[n][:, None] * J).sum(axis=1)
    return out
""", "does not depend on the seed v"),
    Answer("delta_softmax_vjp", "softmax treated as elementwise: v * p(1 - p)", """
def softmax_vjp(z, v):
    p = softmax(z)
    return v * p * (1 - p)
""", "elementwise function"),
    Answer("delta_softmax_vjp", "the diagonal of J, no seed", """
def softmax_vjp(z, v):
    p = softmax(z)
    return p * (1 - p)
""", "keeps only the diagonal"),
    Answer("delta_softmax_vjp", "p p^T part missing", """
def softmax_vjp(z, v):
    return v * softmax(z)
""", "p p^T part of the Jacobian is missing"),
    Answer("delta_softmax_vjp", "sum over the batch axis", """
def softmax_vjp(z, v):
    p = softmax(z)
    return p * (v - (v * p).sum(axis=0, keepdims=True))
""", "summed over the batch (axis=0)"),
    Answer("delta_softmax_vjp", "no keepdims", """
def softmax_vjp(z, v):
    p = softmax(z)
    return p * (v - (v * p).sum(axis=1))
""", "keepdims=True"),
    Answer("delta_softmax_vjp", "mean instead of sum over the classes", """
def softmax_vjp(z, v):
    p = softmax(z)
    return p * (v - (v * p).mean(axis=1, keepdims=True))
""", "averaged v * p over the classes"),
    Answer("delta_softmax_vjp", "p - v (the cross-entropy shortcut)", """
def softmax_vjp(z, v):
    return softmax(z) - v
""", "softmax + cross-entropy"),
    Answer("delta_softmax_vjp", "the logits instead of p", """
def softmax_vjp(z, v):
    return z * (v - (v * z).sum(axis=1, keepdims=True))
""", "logits z where the probabilities"),
    Answer("delta_softmax_vjp", "divides by N", """
def softmax_vjp(z, v):
    p = softmax(z)
    return p * (v - (v * p).sum(axis=1, keepdims=True)) / z.shape[0]
""", "divided by N"),
    Answer("delta_softmax_vjp", "naive softmax overflows", """
def softmax_vjp(z, v):
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return p * (v - (v * p).sum(axis=1, keepdims=True))
""", "np.exp(800) overflows"),
    Answer("delta_softmax_vjp", "seed changed in place", """
def softmax_vjp(z, v):
    p = softmax(z)
    v -= (v * p).sum(axis=1, keepdims=True)
    return p * v
""", "modified the seed v in place"),
    Answer("delta_softmax_vjp", "float32", """
def softmax_vjp(z, v):
    p = softmax(z).astype(np.float32)
    v = v.astype(np.float32)
    return p * (v - (v * p).sum(axis=1, keepdims=True))
""", "float32"),
    Answer("delta_softmax_vjp", "the library's softmax_vjp", """
from backprop_lib import jacobians

def softmax_vjp(z, v):
    return jacobians.softmax_vjp(z, v)
""", _LIBRARY),
    Answer("delta_softmax_vjp", "the library's Jacobian, row by row", """
from backprop_lib.jacobians import softmax_jacobian

def softmax_vjp(z, v):
    return np.stack([v[n] @ softmax_jacobian(z[n]) for n in range(z.shape[0])])
""", _LIBRARY),
    Answer("delta_softmax_vjp", "ok: each row's Jacobian built in a loop", """
def softmax_vjp(z, v):
    out = np.empty_like(z)
    for n in range(z.shape[0]):
        p = softmax(z[n])
        J = np.diag(p) - np.outer(p, p)
        out[n] = v[n] @ J
    return out
""", None),
    Answer("delta_softmax_vjp", "ok: einsum, softmax written out", """
def softmax_vjp(z, v):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    dot = np.einsum("nc,nc->n", v, p)[:, None]
    return p * v - p * dot
""", None),
    Answer("delta_softmax_vjp", "ok: J v (J is symmetric), batched with matmul", """
def softmax_vjp(z, v):
    p = softmax(z)
    J = np.einsum("nc,cd->ncd", p, np.eye(z.shape[1])) - p[:, :, None] * p[:, None, :]
    return (J @ v[:, :, None])[:, :, 0]
""", None),
]
