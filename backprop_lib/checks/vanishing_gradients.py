"""Checks for exercises/04_vanishing_gradients.ipynb.

Every reference value comes from the library (diagnostics, init, optim, layers, mlp);
the "mistakes" are what typical wrong implementations return.
"""

from __future__ import annotations

import numpy as np

from ..diagnostics import chain_derivative_bound
from ..init import init_std
from ..layers import linear_backward, residual_backward, residual_forward
from ..mlp import MLP
from ..optim import clip_grad_norm
from ._core import call, expect_array, expect_scalar, fail, task

__all__ = [
    "check_sigmoid_chain_bound",
    "check_scaled_init",
    "check_per_layer_grad_norms",
    "check_clip_by_global_norm",
    "check_residual_block_backward",
]


@task("sigmoid_chain_bound", points=1)
def check_sigmoid_chain_bound(fn):
    rng = np.random.default_rng(40)
    cases = [(np.array([1.0, 1.0, 1.0]), "sigmoid"), (np.array([2.0, -0.5, 3.0, -1.5]), "sigmoid"),
             (rng.normal(0, 2, size=10), "sigmoid"), (np.array([0.9, -1.2, 1.1]), "tanh"),
             (rng.normal(0, 1, size=6), "tanh")]
    for w, act in cases:
        out = call(fn, w, act)
        ref = chain_derivative_bound(w, act)
        L = w.size
        mistakes = {
            "the largest value of sigma'(z) is 1/4 (at z = 0): 1/2 is sigma(0), the value, not the slope":
                np.prod(np.abs(w)) * 0.5 ** L if act == "sigmoid" else None,
            "use |w_l|: a bound on the size of the derivative must not be negative or depend on signs":
                np.prod(w) * (0.25 if act == "sigmoid" else 1.0) ** L,
            "each layer also contributes max f'(z) (1/4 for the sigmoid), not only |w_l|":
                np.prod(np.abs(w)) if act == "sigmoid" else None,
            "tanh'(z) = 1 - tanh(z)^2 is at most 1, not 1/4 (that is the sigmoid's bound)":
                np.prod(np.abs(w)) * 0.25 ** L if act == "tanh" else None,
        }
        expect_scalar(out, ref, f"sigmoid_chain_bound(w={np.round(w, 2).tolist()}, {act!r})",
                      mistakes={k: v for k, v in mistakes.items() if v is not None})
    return "matches prod|w_l| * (1/4)^L for sigmoid and prod|w_l| for tanh on 5 chains"


@task("scaled_init", points=1)
def check_scaled_init(fn):
    for kind, n_in, n_out in (("xavier", 300, 120), ("he", 300, 120), ("he", 150, 400), ("xavier", 64, 256)):
        W = call(fn, kind, n_in, n_out, np.random.default_rng(0))
        what = f"scaled_init({kind!r}, n_in={n_in}, n_out={n_out}, rng)"
        if not isinstance(W, np.ndarray):
            fail(f"{what} should return a numpy array of shape ({n_out}, {n_in}).")
        if W.shape == (n_in, n_out):
            fail(f"{what} has shape {W.shape}: weights are (n_out, n_in) in this course (like torch.nn.Linear).")
        if W.shape != (n_out, n_in):
            fail(f"{what} has shape {W.shape}, expected ({n_out}, {n_in}).")
        W2 = call(fn, kind, n_in, n_out, np.random.default_rng(0))
        W3 = call(fn, kind, n_in, n_out, np.random.default_rng(1))
        if not np.array_equal(W, W2) or np.array_equal(W, W3):
            fail(f"{what}: draw the numbers from the `rng` argument (e.g. rng.standard_normal(...)), "
                 "not from np.random directly, so the same seed gives the same weights.")
        ref = init_std(kind, n_in, n_out)
        if abs(W.mean()) > 4 * ref / np.sqrt(W.size):
            fail(f"{what} has mean {W.mean():.4f}: the weights should have mean 0.")
        mistakes = {
            "you used the variance where the standard deviation is needed: multiply the normal samples by "
            "sqrt(variance), e.g. np.sqrt(2 / n_in) for He": ref ** 2,
        }
        if kind == "he":
            mistakes["fan_in and fan_out are swapped: He uses Var = 2 / n_in (the inputs of each unit)"] = \
                np.sqrt(2.0 / n_out)
            mistakes["He has a 2 in the numerator (ReLU zeroes half the inputs): Var = 2 / n_in, not 1 / n_in"] = \
                np.sqrt(1.0 / n_in)
        else:
            mistakes["Xavier uses Var = 2 / (n_in + n_out), with the 2"] = np.sqrt(1.0 / (n_in + n_out))
            mistakes["Xavier averages both fans, Var = 2 / (n_in + n_out); you used only n_in"] = np.sqrt(1.0 / n_in)
        expect_scalar(float(W.std()), ref, f"the standard deviation of {what}", mistakes=mistakes, rtol=0.03)
    return "Xavier std sqrt(2/(n_in+n_out)) and He std sqrt(2/n_in), shape (n_out, n_in), seeded by rng"


def _grad_norm_case(sizes, activation, seed):
    rng = np.random.default_rng(seed)
    net = MLP(sizes, activation=activation, init="xavier", seed=seed, bias_std=0.5)
    X = rng.standard_normal((8, sizes[0]))
    y = rng.integers(0, sizes[-1], size=8)
    return net, net.backprop(X, y)


@task("per_layer_grad_norms", points=1)
def check_per_layer_grad_norms(fn):
    for sizes, act, seed in (([6, 5, 4, 3], "tanh", 1), ([5, 7, 7, 7, 4], "sigmoid", 2), ([4, 3, 2], "tanh", 3)):
        net, bp = _grad_norm_case(sizes, act, seed)
        L = net.n_layers
        weights = [net.params[f"W{l}"] for l in range(1, L + 1)]
        zs, acts = bp.trace.zs, bp.trace.activations
        out = call(fn, weights, zs, acts, bp.deltas[-1], net.activation.df)
        ref = np.array([np.linalg.norm(bp.grads[f"W{l}"]) for l in range(1, L + 1)])
        # a backward pass that forgets f'(z_l)
        delta, no_df = bp.deltas[-1], [None] * L
        for l in range(L, 0, -1):
            no_df[l - 1] = np.linalg.norm(delta.T @ acts[l - 1])
            delta = delta @ weights[l - 1]
        mistakes = {
            "each layer's delta needs the activation's derivative: delta_l = (delta_{l+1} W_{l+1}) * f'(z_l)":
                np.array(no_df),
            "return the norms of dL/dW_l = delta_l^T a_{l-1}, not of the deltas themselves":
                np.array([np.linalg.norm(d) for d in bp.deltas]),
            "the norms are in the wrong order: layer 1 (nearest the input) comes first": ref[::-1],
            "you returned squared norms: take the square root (np.linalg.norm)": ref ** 2,
            "delta_out already carries the 1/N of the mean loss (delta_L = (Y_hat - Y)/N): dL/dW_l = "
            "delta_l^T a_{l-1} sums over the batch, do not divide by N again": ref / zs[0].shape[0],
        }
        expect_array(out, ref, f"per_layer_grad_norms for a {sizes} {act} net", mistakes=mistakes)
    return "per-layer ||dL/dW_l|| match the library's backprop on 3 nets (tanh and sigmoid)"


def _flat(grads: dict, keys) -> np.ndarray:
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in keys])


@task("clip_by_global_norm", points=1)
def check_clip_by_global_norm(fn):
    rng = np.random.default_rng(44)
    cases = [({"W1": 3.0 * rng.standard_normal((4, 3)), "b1": rng.standard_normal(4), "W2": rng.standard_normal((2, 4))}, 1.0),
             ({"W1": np.array([[3.0, 0.0]]), "b1": np.array([4.0])}, 2.5),
             ({"W1": 0.1 * rng.standard_normal((3, 3)), "b1": 0.1 * rng.standard_normal(3)}, 5.0)]
    for grads, c in cases:
        keys = list(grads)
        out = call(fn, grads, c)
        what = f"clip_by_global_norm(grads, max_norm={c})"
        if not isinstance(out, dict):
            fail(f"{what} should return a dict with the same keys as grads, got {type(out).__name__}.")
        if set(out) != set(keys):
            fail(f"{what} returned keys {sorted(out)}, expected {sorted(keys)}.")
        for k in keys:
            if np.shape(out[k]) != grads[k].shape:
                fail(f"{what}[{k!r}] has shape {np.shape(out[k])}, expected {grads[k].shape}.")
        ref, norm = clip_grad_norm(grads, c)
        per_tensor = {k: g * min(1.0, c / np.linalg.norm(g)) for k, g in grads.items()}
        mistakes = {
            "you clipped each tensor separately: compute ONE norm over all gradients, "
            "sqrt(sum_k ||g_k||^2), and scale every tensor by the same factor": _flat(per_tensor, keys),
            "only scale when the global norm exceeds max_norm (factor min(1, max_norm / norm))":
                _flat({k: g * c / norm for k, g in grads.items()}, keys),
        }
        if norm > c:
            mistakes["the global norm is above max_norm here, so the gradients must be scaled down"] = _flat(grads, keys)
        expect_array(_flat(out, keys), _flat(ref, keys), what, mistakes=mistakes)
    return "scales all gradients by min(1, max_norm/global_norm), the direction kept, inputs untouched"


@task("residual_block_backward", points=1)
def check_residual_block_backward(fn):
    rng = np.random.default_rng(45)
    for N, n, s in ((5, 4, 0.5), (3, 6, 1.0), (7, 3, 0.2)):
        x, W, b = rng.standard_normal((N, n)), rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)
        dout = rng.standard_normal((N, n))
        out = call(fn, dout, x, W, b, s)
        what = f"residual_block_backward (N={N}, n={n}, scale={s})"
        if not isinstance(out, tuple) or len(out) != 3:
            fail(f"{what} should return a tuple (dx, dW, db), got {type(out).__name__}.")
        _, cache = residual_forward(x, W, b, "tanh", s)
        dx, dW, db = residual_backward(dout, cache)
        ndx, ndW, ndb = linear_backward(s * dout, (x, W))  # forgot tanh'
        expect_array(out[0], dx, f"dx of {what}", mistakes={
            "dx is missing the identity path: the skip connection a = x + s f(z) passes dout straight "
            "back, so dx = dout + (s * dout * f'(z)) W": dx - dout,
            "forgot the scale s of the residual branch": dout + (dx - dout) / s,
            "forgot tanh'(z) = 1 - tanh(z)^2 in the branch": dout + ndx,
        })
        expect_array(out[1], dW, f"dW of {what}", mistakes={
            "forgot the scale s of the residual branch": dW / s,
            "forgot tanh'(z) = 1 - tanh(z)^2 in the branch": ndW,
        })
        expect_array(out[2], db, f"db of {what}", mistakes={
            "forgot the scale s of the residual branch": db / s,
            "forgot tanh'(z) = 1 - tanh(z)^2 in the branch": ndb,
            "db needs the sum over the batch (axis 0)": db / N,
        })
    return "dx (identity path + branch), dW and db match the library's residual_backward on 3 blocks"
