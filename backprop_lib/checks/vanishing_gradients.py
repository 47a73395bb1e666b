r"""Checks for ``exercises/04_vanishing_gradients.ipynb``.

Tasks (ids are unique across the course):

``sigmoid_chain_bound``      the largest :math:`|\partial a_L/\partial a_0|` of a scalar chain over all
                             biases and inputs, derived by the learner: :math:`\prod_l |w_l| (\max f')^L`
``scaled_init``              Xavier and He weights drawn from a NORMAL distribution, seeded by ``rng``
``per_layer_grad_norms``     :math:`\lVert\partial L/\partial W_l\rVert_F` from the cached forward pass
``clip_by_global_norm``      every gradient scaled by :math:`\min(1, c/\lVert g\rVert)`
``residual_block_backward``  ``(dx, dW, db)`` of :math:`a = x + s\tanh(xW^\top + b)`

Every expected value comes from the library (diagnostics, init, optim, layers, mlp); the
"mistakes" are what typical wrong implementations return, computed here. Each task declares the
library functions that compute its answer (``references``): a learner's function that uses one
scores 0.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from ..diagnostics import (
    chain_derivative_bound, derivative_max, gradient_flow, layer_grad_norms, output_grad_norms, output_grads,
)
from ..engine import Value
from ..gradcheck import numerical_gradient
from ..init import init_std, init_weights
from ..layers import linear_backward, residual_backward, residual_forward
from ..mlp import MLP
from ..optim import clip_grad_norm, global_norm
from ._core import Mistake, call, expect_array, expect_scalar, fail, task

__all__ = [
    "check_sigmoid_chain_bound",
    "check_scaled_init",
    "check_per_layer_grad_norms",
    "check_clip_by_global_norm",
    "check_residual_block_backward",
]


# --------------------------------------------------------------------------- helpers


def _mistakes(candidates, rtol: float = 1e-9, atol: float = 1e-12) -> dict:
    """``[(hint, wrong value or None), ...]`` -> the ``mistakes`` map of ``expect_*``.

    Candidates that give the same value on this case are merged into one hint that names all of
    them (the learner made one of these mistakes; the values cannot tell which). ``None`` values
    (a mistake that does not apply to this case) are dropped.
    """
    merged: list[tuple[list[str], np.ndarray]] = []
    for hint, value in candidates:
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        for hints, other in merged:
            if value.shape == other.shape and np.allclose(value, other, rtol=rtol, atol=atol):
                if hint not in hints:
                    hints.append(hint)
                break
        else:
            merged.append(([hint], value))
    out: dict = {}
    for hints, value in merged:
        key = hints[0] if len(hints) == 1 else "one of these mistakes (they give the same numbers here): " + \
            "; OR ".join(hints)
        if key in out:  # two different wrong values must not share one hint text
            raise ValueError(f"duplicate hint for different values: {key!r}")
        out[key] = value
    return out


_EXACT_BACKWARD = ("The task asks for the exact backward pass written out by hand: a finite-difference approximation, "
                   "a step computed in float32, or a rounded constant gives these small errors.")


def _expect(out, expected, what: str, mistakes: dict, *, rtol: float = 1e-7, atol: float = 1e-10,
            approximate: str = _EXACT_BACKWARD):
    """``expect_scalar`` / ``expect_array`` with two more diagnoses for a float64 answer of the right shape.

    - a mistake matched within 1e-5 (not only within ``rtol``): the same mistake made with a slightly
      different constant (PyTorch's eps, a float rounding) still gets its hint;
    - an answer within 1e-3 of the expected one but not within ``rtol``: ``approximate`` says why.
    """
    expected_arr = np.asarray(expected, dtype=np.float64)
    arr = out
    if isinstance(arr, np.ndarray) and arr.size == 1 and expected_arr.ndim == 0:
        arr = arr.reshape(())
    if isinstance(arr, (float, np.float64)) or (isinstance(arr, np.ndarray) and arr.dtype == np.float64):
        arr = np.asarray(arr, dtype=np.float64)
        if arr.shape == expected_arr.shape and np.all(np.isfinite(arr)) and \
                not np.allclose(arr, expected_arr, rtol=rtol, atol=atol):
            for hint, wrong in mistakes.items():
                if np.shape(wrong) == arr.shape and np.allclose(arr, wrong, rtol=1e-5, atol=atol):
                    fail(f"{what} is wrong: {hint}.")
            if np.allclose(arr, expected_arr, rtol=1e-3, atol=max(atol, 1e-9)):
                err = np.abs(arr - expected_arr) / np.maximum(np.abs(expected_arr), max(atol, 1e-300))
                fail(f"{what} is only approximately right (largest relative error {float(np.max(err)):.1e}; "
                     f"the check allows {rtol:g}). {approximate}")
    try:
        if expected_arr.ndim == 0:
            return expect_scalar(out, float(expected_arr), what, mistakes=mistakes, rtol=rtol, atol=atol)
        return expect_array(out, expected_arr, what, mistakes=mistakes, rtol=rtol, atol=atol)
    except Mistake as exc:
        message = str(exc)
        if re.fullmatch(re.escape(what) + r" is wrong( at index \([^)]*\))?: got [^,]+, expected [^ ]+", message):
            fail(f"{message} None of the usual mistakes gives this value: work through a small case by hand "
                 "(print every intermediate array and its shape) and compare each step with the task's formulas.")
        raise


# --------------------------------------------------------------------------- task 1


def _chain_at(weights: np.ndarray, f, df, a0: float) -> float:
    """d a_L / d a_0 of the chain with all biases 0, started at a_0 (one particular input)."""
    a, prod = a0, 1.0
    for w in weights:
        z = w * a
        prod *= w * df(z)
        a = f(z)
    return float(prod)


_SLOPE = {  # name -> (f, f', max f')
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2, 0.25),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2, 1.0),
    "relu": (lambda z: max(z, 0.0), lambda z: float(z > 0), 1.0),
}


def _chain_bound_reference(w: np.ndarray, act: str) -> float:
    if act == "relu":  # chain_derivative_bound knows sigmoid and tanh; ReLU's largest slope is 1
        return float(np.prod(np.abs(w)) * derivative_max("relu") ** w.size)
    return chain_derivative_bound(w, act)


@task("sigmoid_chain_bound", points=1, references=[chain_derivative_bound, derivative_max])
def check_sigmoid_chain_bound(fn):
    rng = np.random.default_rng(40)
    cases = [
        (np.array([1.5, -2.0, 0.8, 3.0, 0.6]), "sigmoid"),
        (np.array([0.9, -1.2, 1.1]), "tanh"),
        (np.array([2.0, -0.5, 1.5, 1.2]), "relu"),
        (rng.normal(0, 2, size=10), "sigmoid"),
        (rng.normal(0, 1, size=6), "tanh"),
        (rng.normal(0, 1.5, size=7), "relu"),
        (np.array([-3.0]), "sigmoid"),
    ]
    for w, act in cases:
        out = call(fn, w, act)
        ref = _chain_bound_reference(w, act)
        L, absw = w.size, np.abs(w)
        f, df, m = _SLOPE[act]
        P = float(np.prod(absw))
        candidates = [
            ("the largest slope of the sigmoid is sigma'(0) = 1/4: 1/2 is sigma(0), the value, not the slope",
             P * 0.5 ** L if act == "sigmoid" else None),
            ("tanh'(z) = 1 - tanh(z)^2 is at most 1 (at z = 0), not 1/4: 1/4 is the sigmoid's largest slope",
             P * 0.25 ** L if act == "tanh" else None),
            ("ReLU'(z) is 0 or 1, so its largest slope is 1; you used the sigmoid's 1/4 for 'relu'",
             P * 0.25 ** L if act == "relu" else None),
            ("ReLU'(z) = 1 for every z > 0, and the biases can put every z_l above 0: the largest slope is 1. "
             "1/2 is ReLU's AVERAGE slope over inputs of both signs (the argument behind He's 2/n_in), "
             "not its maximum", P * 0.5 ** L if act == "relu" else None),
            ("|da_L/da_0| is a size: use |w_l| (a negative weight flips the sign of the product, not its size)",
             float(np.prod(w)) * m ** L),
            ("each layer's factor is w_l f'(z_l): you left out f'(z_l), whose largest value for the sigmoid is 1/4",
             P if act == "sigmoid" else None),
            ("every layer contributes its own factor f'(z_l), so the largest slope appears L times: "
             "(max f')^L, not once", P * m),
            ("you used only the largest weight, once: the chain rule multiplies one factor |w_l| f'(z_l) per "
             "layer, over all L layers", float(absw.max()) * m),
            ("there is one factor per layer and L = len(weights) layers: the exponent of the largest slope is L, "
             "not L - 1", P * m ** (L - 1)),
            ("there is one factor per layer and L = len(weights) layers: the exponent of the largest slope is L, "
             "not L + 1", P * m ** (L + 1)),
            ("the chain rule MULTIPLIES the per-layer factors |w_l| f'(z_l); you added them",
             float(np.sum(absw)) * m),
            ("the chain rule MULTIPLIES the per-layer factors |w_l| f'(z_l); you added the weights instead of "
             "multiplying them", float(np.sum(absw)) * m ** L),
            ("you squared the factors (w_l^2 and (f')^2 belong to the variance argument of section 3); "
             "the task asks for |da_L/da_0| itself", P ** 2 * m ** (2 * L)),
            ("max|w|^L (max f')^L is AN upper bound, but not the largest value the derivative reaches: each "
             "layer contributes its own |w_l|, so use the product of the |w_l|", float(absw.max()) ** L * m ** L),
            ("that is the derivative for one particular input (a_0 = 1) with all biases 0. The biases are free: "
             "choose each b_l so that z_l sits where f' is largest, and every factor reaches its maximum at once",
             abs(_chain_at(w, f, df, 1.0))),
            ("that is the derivative for one particular input (a_0 = 0) with all biases 0. The biases are free: "
             "choose each b_l so that z_l sits where f' is largest, and every factor reaches its maximum at once",
             abs(_chain_at(w, f, df, 0.0))),
            ("you evaluated f' at z = w_l. The biases are free: choose each b_l so that z_l sits where f' is "
             "largest, and every factor reaches its maximum at once",
             float(np.prod([abs(x) * df(x) for x in w]))),
        ]
        # drop "mistakes" that happen to give the right value on this case (e.g. a_0 = 0 for tanh)
        candidates = [(h, v) for h, v in candidates if v is None or not np.isclose(v, ref, rtol=1e-9, atol=0)]
        what = f"sigmoid_chain_bound(w={np.round(w, 2).tolist()}, {act!r})"
        dtype = getattr(out, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype != np.float64 and np.size(out) == 1:
            # expect_scalar turns the value into a Python float first, so it would report dtype float64
            fail(f"{what} returned a {dtype} number: compute in float64 (float32 keeps only about 7 "
                 "significant digits; the check compares 9).")
        _expect(out, ref, what, _mistakes(candidates), rtol=1e-9, atol=1e-300,
                approximate="Is a slope found numerically (on a grid that misses its maximum) or rounded? "
                            "Derive the exact largest slope of each activation.")
    return ("the largest |da_L/da_0| over biases and inputs, prod|w_l| (max f')^L with max f' = 1/4 (sigmoid) "
            "and 1 (tanh, ReLU), on 7 chains")


# --------------------------------------------------------------------------- task 2


def _not_normal_hint(W: np.ndarray, what: str) -> str | None:
    """A hint when the entries of W are not drawn from a normal distribution (tested on >= 16,000 samples).

    For N(0, s^2): excess kurtosis 0, 4.55% of the samples beyond 2 s, and among 16,000 samples the
    largest is about 4 s from the mean (below 3 s with probability about e^-44). A uniform
    distribution has excess kurtosis -1.2 and nothing beyond sqrt(3) s; a clipped normal piles
    samples up at its bounds; a truncated one has nothing beyond its cut.
    """
    x = W.ravel() - W.mean()
    s = x.std()
    kurt = float(np.mean(x ** 4) / s ** 4 - 3.0)
    beyond = float(np.mean(np.abs(x) > 2 * s))
    reach = float(np.max(np.abs(x)) / s)
    at_bounds = float(np.mean((W == W.max()) | (W == W.min())))
    if reach < 1.8 and abs(kurt + 1.2) < 0.3:
        return (f"{what} looks UNIFORM, not normal (no entry is beyond {reach:.2f} standard deviations, and the "
                f"excess kurtosis is {kurt:.2f} where a normal has 0 and a uniform -1.2). Glorot & Bengio's paper "
                "draws from U(-a, a) with a = sqrt(6 / (n_in + n_out)), which has the right variance; this task, "
                "like the lecture and the library, asks for the NORMAL N(0, Var): use rng.standard_normal or "
                "rng.normal.")
    if at_bounds > 1e-3:
        return (f"{what} has {at_bounds:.2%} of its entries exactly at its smallest or largest value: the samples "
                "were clipped (np.clip). The task asks for the plain normal N(0, Var), not a clipped one: "
                "scale rng.standard_normal samples and leave them as they are.")
    if reach < 3.0:
        return (f"{what} has no entry beyond {reach:.2f} standard deviations (among {W.size} normal samples the "
                "largest is about 4): it looks truncated. The task asks for the plain normal N(0, Var), not a "
                "truncated one (e.g. Keras's TruncatedNormal, torch's trunc_normal_): use rng.standard_normal "
                "or rng.normal.")
    if abs(kurt) > 0.3 or not 0.035 < beyond < 0.057:
        return (f"{what} is not normally distributed (excess kurtosis {kurt:.2f} where a normal has 0; "
                f"{beyond:.2%} of the entries beyond 2 standard deviations where a normal has 4.55%). "
                "Draw the entries with rng.standard_normal (or rng.normal) and scale them.")
    return None


@task("scaled_init", points=1, references=[init_std, init_weights])
def check_scaled_init(fn):
    for kind, n_in, n_out in (("xavier", 300, 120), ("he", 300, 120), ("he", 150, 400), ("xavier", 64, 256)):
        W = call(fn, kind, n_in, n_out, np.random.default_rng(0))
        what = f"scaled_init({kind!r}, n_in={n_in}, n_out={n_out}, rng)"
        if not isinstance(W, np.ndarray):
            fail(f"{what} should return a numpy array of shape ({n_out}, {n_in}), got "
                 f"{'None (did you forget `return`?)' if W is None else type(W).__name__}.")
        if W.shape == (n_in, n_out):
            fail(f"{what} has shape {W.shape}: weights are (n_out, n_in) in this course (like torch.nn.Linear): "
                 "row j holds the n_in incoming weights of unit j.")
        if W.shape != (n_out, n_in):
            fail(f"{what} has shape {W.shape}, expected ({n_out}, {n_in}).")
        if W.dtype != np.float64:
            fail(f"{what} has dtype {W.dtype}: keep float64 (the course's default).")
        W2 = call(fn, kind, n_in, n_out, np.random.default_rng(0))
        W3 = call(fn, kind, n_in, n_out, np.random.default_rng(1))
        if not np.array_equal(W, W2) or np.array_equal(W, W3):
            fail(f"{what}: draw the numbers from the `rng` argument (e.g. rng.standard_normal(...)), "
                 "not from np.random directly or from a generator you make yourself, so the same seed gives "
                 "the same weights and another seed other weights.")
        ref = init_std(kind, n_in, n_out)
        if np.all(W == W.flat[0]):
            fail(f"{what} has every entry equal to {W.flat[0]:.4g}: the weights must be random "
                 "(equal weights keep every unit identical, the symmetry problem of notebook 03).")
        if abs(W.mean()) > 6 * W.std() / np.sqrt(W.size):  # 6 standard errors of the mean
            if W.min() >= 0:
                fail(f"{what} has mean {W.mean():.4f} and no negative entry: rng.random and rng.uniform(0, a) draw "
                     "from [0, a). The weights must have mean 0 (a normal N(0, Var)).")
            fail(f"{what} has mean {W.mean():.4f}: the weights should have mean 0.")
        shape_hint = _not_normal_hint(W, what)
        if shape_hint:
            fail(shape_hint)
        he_var, xavier_var = 2.0 / n_in, 2.0 / (n_in + n_out)
        candidates = [
            ("you used the variance where the standard deviation is needed: multiply the N(0, 1) samples by "
             "sqrt(Var) (rng.normal(loc, scale) takes the standard deviation as `scale`)", ref ** 2),
            ("the standard deviation is the square root of the whole fraction, sqrt(2 / fan), not sqrt(2) / fan",
             np.sqrt(2.0) / (n_in + n_out if kind == "xavier" else n_in)),
        ]
        if kind == "he":
            candidates += [
                ("fan_in and fan_out are swapped: He uses Var = 2 / n_in (the inputs of each unit)",
                 np.sqrt(2.0 / n_out)),
                ("He has a 2 in the numerator (ReLU zeroes half the inputs): Var = 2 / n_in, not 1 / n_in",
                 np.sqrt(1.0 / n_in)),
                ("for kind 'he' you used Xavier's variance 2 / (n_in + n_out): check how you compare `kind`",
                 np.sqrt(xavier_var)),
                ("sqrt(6 / n_in) is the half-width a of He's UNIFORM variant (Var = a^2 / 3), not the standard "
                 "deviation of the normal one", np.sqrt(6.0 / n_in)),
                ("the std is sqrt(2 / n_in): the square root covers the 2 too (you used 2 / sqrt(n_in))",
                 2.0 / np.sqrt(n_in)),
            ]
        else:
            candidates += [
                ("Xavier uses Var = 2 / (n_in + n_out), with the 2", np.sqrt(1.0 / (n_in + n_out))),
                ("Xavier averages both fans, Var = 2 / (n_in + n_out); you used only n_in", np.sqrt(1.0 / n_in)),
                ("Xavier averages both fans, Var = 2 / (n_in + n_out); you used only n_out", np.sqrt(1.0 / n_out)),
                ("for kind 'xavier' you used He's variance 2 / n_in: check how you compare `kind`",
                 np.sqrt(he_var)),
                ("sqrt(6 / (n_in + n_out)) is the half-width a of Glorot's UNIFORM distribution (Var = a^2 / 3), "
                 "not the standard deviation of the normal one", np.sqrt(6.0 / (n_in + n_out))),
                ("operator precedence: `2 / n_in + n_out` is (2 / n_in) + n_out; write 2 / (n_in + n_out)",
                 np.sqrt(2.0 / n_in + n_out)),
                ("the std is sqrt(2 / (n_in + n_out)): the square root covers the 2 too (you used "
                 "2 / sqrt(n_in + n_out))", 2.0 / np.sqrt(n_in + n_out)),
            ]
        expect_scalar(float(W.std()), ref, f"the standard deviation of {what}",
                      mistakes=_mistakes(candidates, rtol=0.03), rtol=0.03)
    return ("normal weights with Xavier std sqrt(2/(n_in+n_out)) and He std sqrt(2/n_in), shape (n_out, n_in), "
            "float64, seeded by rng")


# --------------------------------------------------------------------------- task 3


def _norms_variant(weights, zs, acts, delta_out, df, *, deriv="z", W_T=False, dW_input="prev", at_output=False,
                   what="weight", norm="fro", shift=False):
    """The per-layer norms a backward pass with one typical mistake returns (None if it cannot run)."""
    L = len(weights)
    out: list[Any] = [0.0] * L  # floats and numpy floats (np.linalg.norm)
    delta = delta_out * df(zs[-1]) if at_output else delta_out
    try:
        for l in range(L, 0, -1):
            a_in = acts[l - 1] if dW_input == "prev" else acts[l]
            g = {"weight": delta.T @ a_in, "delta": delta, "bias": delta.sum(axis=0)}[what]
            if norm == "l1":
                out[l - 1] = float(np.sum(np.abs(g)))
            elif norm == "maxabs":
                out[l - 1] = float(np.max(np.abs(g)))
            else:
                out[l - 1] = np.linalg.norm(g, 2) if (norm == "spectral" and g.ndim == 2) else np.linalg.norm(g)
            if l > 1:
                back = delta @ (weights[l - 1].T if W_T else weights[l - 1])
                if deriv == "none":
                    delta = back
                elif deriv == "a":
                    delta = back * df(acts[l - 1])
                elif deriv == "sigmoid_a":
                    delta = back * acts[l - 1] * (1 - acts[l - 1])
                elif deriv == "tanh_a":
                    delta = back * (1 - acts[l - 1] ** 2)
                else:
                    delta = back * df(zs[l - 1] if shift else zs[l - 2])
    except ValueError:  # shapes do not fit: the learner's code would raise (the check reports the line)
        return None
    return np.array(out)


def _grad_norm_case(sizes, activation, seed):
    rng = np.random.default_rng(seed)
    net = MLP(sizes, activation=activation, init="xavier", seed=seed, bias_std=0.5)
    X = rng.standard_normal((8, sizes[0]))
    y = rng.integers(0, sizes[-1], size=8)
    return net, net.backprop(X, y)


@task("per_layer_grad_norms", points=1,
      references=[layer_grad_norms, output_grads, output_grad_norms, gradient_flow, MLP, linear_backward])
def check_per_layer_grad_norms(fn):
    # the first net is square (every layer 4 wide), so a wrong index or a W.T still runs and gives numbers
    for sizes, act, seed in (([4, 4, 4, 4], "tanh", 4), ([6, 5, 4, 3], "tanh", 1), ([5, 7, 7, 7, 4], "sigmoid", 2),
                             ([4, 3, 2], "tanh", 3)):
        net, bp = _grad_norm_case(sizes, act, seed)
        L = net.n_layers
        weights = [net.params[f"W{l}"] for l in range(1, L + 1)]
        zs, acts, delta_out, df = bp.trace.zs, bp.trace.activations, bp.deltas[-1], net.activation.df
        what = f"per_layer_grad_norms for a {sizes} {act} net"
        out = call(fn, weights, zs, acts, delta_out, df)
        ref = np.array([np.linalg.norm(bp.grads[f"W{l}"]) for l in range(1, L + 1)])
        if isinstance(out, (list, tuple, np.ndarray)) and np.ndim(out) == 1 and len(out) == L - 1:
            fail(f"{what} returned {L - 1} norms for {L} weight matrices: the loop must also give layer 1, "
                 "dL/dW_1 = delta_1^T a_0 with a_0 = activations[0] = X (check the range of your loop).")
        if isinstance(out, (list, tuple)) and len(out) == L and all(np.ndim(o) == 2 for o in out):
            fail(f"{what} returned the {L} weight gradients themselves: return their Frobenius NORMS, one number "
                 "per layer (np.linalg.norm(dW)), as an array of shape (L,).")
        variant = _norms_variant
        args = (weights, zs, acts, delta_out, df)
        N = delta_out.shape[0]
        candidates = [
            ("each layer's delta needs the activation's derivative: delta_l = (delta_{l+1} W_{l+1}) * f'(z_l)",
             variant(*args, deriv="none")),
            ("act_grad takes the pre-activation z: use f'(z_l) = act_grad(zs[l-1]), not act_grad(a_l) "
             "(f'(a) is a different number)", variant(*args, deriv="a")),
            ("you wrote the sigmoid's derivative a(1 - a) yourself; the nets here are not all sigmoid nets: "
             "use f'(z) = act_grad(z), which is given",
             variant(*args, deriv="sigmoid_a") if act != "sigmoid" else None),
            ("you wrote tanh's derivative 1 - a^2 yourself; the nets here are not all tanh nets: "
             "use f'(z) = act_grad(z), which is given", variant(*args, deriv="tanh_a") if act != "tanh" else None),
            ("f'(z) of the wrong layer: delta_{l-1} = (delta_l W_l) * f'(z_{l-1}), and z_{l-1} is zs[l-2]",
             variant(*args, shift=True)),
            ("the output layer is linear: delta_out is already dL/dz_L, do not multiply it by f'(z_L)",
             variant(*args, at_output=True)),
            ("z_l = a_{l-1} W_l^T + b_l, so the error goes back as delta_l W_l (no transpose): "
             "delta_{l-1} = (delta_l W_l) * f'(z_{l-1})", variant(*args, W_T=True)),
            ("dL/dW_l = delta_l^T a_{l-1} uses the layer's INPUT a_{l-1} = activations[l-1], not its output a_l",
             variant(*args, dW_input="own")),
            ("return the norms of dL/dW_l = delta_l^T a_{l-1}, not of the deltas themselves",
             variant(*args, what="delta")),
            ("return the norms of the WEIGHT gradients dL/dW_l = delta_l^T a_{l-1}, not of the bias gradients "
             "(Nielsen's speed of learning)", variant(*args, what="bias")),
            ("np.linalg.norm(M, 2) of a matrix is its largest singular value; the task asks for the Frobenius "
             "norm, np.linalg.norm(M) (the square root of the sum of squares)", variant(*args, norm="spectral")),
            ("the Frobenius norm SUMS the squares: np.mean gives the root-mean-square, smaller by "
             "sqrt(number of entries of W_l)", ref / np.sqrt([W.size for W in weights])),
            ("return the norms of dL/dW_l = delta_l^T a_{l-1}, not of the gradient delta_l W_l sent back to the "
             "layer's input", np.array([np.linalg.norm(d @ W) for d, W in zip(bp.deltas, weights)])),
            ("the norms are in the wrong order: layer 1 (nearest the input) comes first", ref[::-1]),
            ("you returned squared norms: take the square root (np.linalg.norm)", ref ** 2),
            ("np.sum(np.abs(dW)) is the L1 norm of the entries; the Frobenius norm is the square root of the sum "
             "of their SQUARES, np.linalg.norm(dW)", variant(*args, norm="l1")),
            ("np.max(np.abs(dW)) is the largest entry; the Frobenius norm is the square root of the sum of the "
             "squares of ALL entries, np.linalg.norm(dW)", variant(*args, norm="maxabs")),
            ("delta_out already carries the 1/N of the mean loss (delta_L = (Y_hat - Y)/N): dL/dW_l = "
             "delta_l^T a_{l-1} sums over the batch, do not divide by N again", ref / N),
            ("delta_out already carries the 1/N of the mean loss: do not multiply by the batch size N", ref * N),
            ("the top layer's norm is missing (0): the loop must start at layer L, whose gradient is "
             "delta_out^T a_{L-1} (delta_L = delta_out, nothing applied to it)", np.append(ref[:-1], 0.0)),
        ]
        _expect(out, ref, what, _mistakes(candidates))
    return "per-layer ||dL/dW_l||_F match the library's backprop on 4 nets (tanh and sigmoid)"


# --------------------------------------------------------------------------- task 4


def _flat(grads: dict, keys) -> np.ndarray:
    return np.concatenate([np.asarray(grads[k], dtype=np.float64).ravel() for k in keys])


def _scaled(grads: dict, factor: float) -> dict:
    return {k: g * factor for k, g in grads.items()}


def _scaled_flat(grads: dict, c: float, keys: list, total: float) -> np.ndarray:
    """The gradients clipped as if their global norm were ``total``, flattened."""
    return _flat(_scaled(grads, min(1.0, c / total)), keys)


@task("clip_by_global_norm", points=1, references=[clip_grad_norm, global_norm])
def check_clip_by_global_norm(fn):
    rng = np.random.default_rng(44)
    cases = [({"W1": 3.0 * rng.standard_normal((4, 3)), "b1": rng.standard_normal(4), "W2": rng.standard_normal((2, 4)),
               "b2": rng.standard_normal(2)}, 1.0),
             ({"W1": np.array([[3.0, 0.0]]), "b1": np.array([4.0])}, 2.5),
             ({"W1": 0.1 * rng.standard_normal((3, 3)), "b1": 0.1 * rng.standard_normal(3)}, 5.0),
             ({"W1": np.zeros((2, 3)), "b1": np.zeros(2)}, 1.0)]
    for grads, c in cases:
        keys = list(grads)
        out = call(fn, grads, c)
        zero = not _flat(grads, keys).any()
        what = f"clip_by_global_norm(grads, max_norm={c})" + (" with all-zero gradients" if zero else "")
        if out is grads:
            fail(f"{what} returned the input dict itself: return a NEW dict (e.g. a dict comprehension), so the "
                 "caller's gradients stay as they were.")
        if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], dict):
            fail(f"{what} returned a tuple (dict, number): return only the clipped dict (the library's "
                 "clip_grad_norm and PyTorch's clip_grad_norm_ also return the norm; this task does not).")
        if not isinstance(out, dict):
            fail(f"{what} should return a dict with the same keys as grads, got "
                 f"{'None (did you forget `return`?)' if out is None else type(out).__name__}.")
        if set(out) != set(keys):
            fail(f"{what} returned keys {sorted(out)}, expected {sorted(keys)}.")
        for k in keys:
            if np.shape(out[k]) != grads[k].shape:
                fail(f"{what}[{k!r}] has shape {np.shape(out[k])}, expected {grads[k].shape}.")
            if np.asarray(out[k]).dtype != np.float64:
                fail(f"{what}[{k!r}] has dtype {np.asarray(out[k]).dtype}: keep float64.")
        ref, norm = clip_grad_norm(grads, c)
        torch_ref, _ = clip_grad_norm(grads, c, eps=1e-6)  # PyTorch's clip_grad_norm_: c / (norm + 1e-6)
        got = _flat(out, keys)
        expected = _flat(torch_ref, keys) if np.allclose(got, _flat(torch_ref, keys), rtol=1e-12, atol=0) \
            else _flat(ref, keys)
        if norm == 0.0:
            _expect(got, expected, what, {})
            continue
        sq = {k: float(np.sum(g ** 2)) for k, g in grads.items()}
        per = {k: float(np.linalg.norm(g)) for k, g in grads.items()}
        flat = _flat(grads, keys)

        scaled_by = functools.partial(_scaled_flat, grads, c, keys)

        spectral = np.sqrt(sum((np.linalg.norm(g, 2) if g.ndim == 2 else np.linalg.norm(g)) ** 2
                               for g in grads.values()))
        candidates = [
            ("np.clip clips each ENTRY to [-max_norm, max_norm] (clipping by value), which changes the direction "
             "of the gradient: clipping by global norm scales every entry by ONE common factor "
             "min(1, max_norm / ||g||)", _flat({k: np.clip(g, -c, c) for k, g in grads.items()}, keys)),
            ("you clipped each tensor separately: compute ONE norm over all gradients, "
             "sqrt(sum_k ||g_k||^2), and scale every tensor by the same factor",
             _flat({k: g * min(1.0, c / per[k]) for k, g in grads.items()}, keys)),
            ("the global norm is sqrt(sum_k ||g_k||^2) (the norm of all entries as one long vector), not the sum "
             "of the per-tensor norms sum_k ||g_k||", scaled_by(sum(per.values()))),
            ("you forgot the square root: ||g|| = sqrt(sum_k ||g_k||^2), not sum_k ||g_k||^2",
             scaled_by(sum(sq.values()))),
            ("the global norm is sqrt(sum_k ||g_k||^2) over ALL tensors, not the largest per-tensor norm "
             "max_k ||g_k||", scaled_by(max(per.values()))),
            ("sum(|entries|) is the L1 norm; the global norm is the Euclidean one: the square root of the sum of "
             "the SQUARES of all entries", scaled_by(float(np.sum(np.abs(flat))))),
            ("the norm SUMS the squares of all entries: np.mean gives the root-mean-square, which is smaller by "
             "sqrt(number of entries)", scaled_by(float(np.sqrt(np.mean(flat ** 2))))),
            ("np.linalg.norm(M, 2) of a matrix is its largest singular value; the global norm uses the "
             "Frobenius norm of each array (np.linalg.norm(M), the square root of the sum of squares)",
             scaled_by(float(spectral))),
            ("every array is scaled by the SAME factor, biases too: you scaled only the weights",
             _flat({k: (g * min(1.0, c / norm) if k.startswith("W") else g) for k, g in grads.items()}, keys)
             if norm > 0 else None),
            ("every array in the dict counts, biases too: ||g||^2 = sum over ALL keys of ||g_k||^2",
             scaled_by(float(np.sqrt(sum(v for k, v in sq.items() if k.startswith("W")))))),
            ("the factor is inverted: scale by max_norm / ||g|| (capped at 1), not ||g|| / max_norm",
             _flat(_scaled(grads, min(1.0, norm / c)), keys)),
            ("the factor is inverted: scale by min(1, max_norm / ||g||), not by ||g|| / max_norm",
             _flat(_scaled(grads, norm / c), keys)),
            ("only scale when the global norm exceeds max_norm (factor min(1, max_norm / norm)): small "
             "gradients must stay as they are", _flat(_scaled(grads, c / norm), keys)),
            ("the global norm is above max_norm here, so the gradients must be scaled down (by max_norm / ||g||)",
             flat if norm > c else None),
            (f"you used a fixed max_norm 1.0 instead of the `max_norm` argument (this call passes {c:g})",
             _flat(_scaled(grads, min(1.0, 1.0 / norm)), keys) if c != 1.0 and norm > 0 else None),
        ]
        mistakes = _mistakes([(h, v) for h, v in candidates if v is None or not np.allclose(v, expected, rtol=1e-9)])
        _expect(got, expected, what, mistakes,
                approximate="Is a step computed in float32, or a constant (an eps) added to the norm? The text "
                            "allows ||g|| or PyTorch's ||g|| + 1e-6 in the denominator, nothing else.")
    return ("scales all gradients by min(1, max_norm/global_norm) (PyTorch's + 1e-6 accepted), the direction "
            "kept, zero gradients untouched, inputs not modified")


# --------------------------------------------------------------------------- task 5


def _residual_grads(delta, *, x, skip, back_W) -> tuple:
    """(dx, dW, db) of a residual block given its branch's error ``delta`` (and the skip's gradient)."""
    return skip + delta @ back_W, delta.T @ x, delta.sum(axis=0)


def _part_mistakes(hints: dict, variants: dict, right: tuple, part: int, extra=()) -> dict:
    """The hints of the variants whose ``part`` (0: dx, 1: dW, 2: db) differs from the right one."""
    return _mistakes([(hints[k], v[part]) for k, v in variants.items()
                      if not np.allclose(v[part], right[part], rtol=1e-9, atol=1e-12)] + list(extra))


@task("residual_block_backward", points=1, references=[residual_backward, linear_backward, MLP, Value,
                                                         numerical_gradient])
def check_residual_block_backward(fn):
    rng = np.random.default_rng(45)
    cases = []
    for N, n, s in ((5, 4, 0.5), (3, 6, 1.0), (7, 3, 0.2)):
        cases.append((rng.standard_normal((N, n)), rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n),
                      rng.standard_normal((N, n)), s))
    # a block whose first input feature is huge and unused by the branch (W[:, 0] = 0): exact backward
    # passes are unaffected, a finite-difference approximation loses about 6 digits
    x, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)) / np.sqrt(3)
    x[:, 0] *= 1e6
    W[:, 0] = 0.0
    cases.append((x, W, rng.standard_normal(3), rng.standard_normal((4, 3)), 0.7))
    for x, W, b, dout, s in cases:
        N, n = x.shape
        out = call(fn, dout, x, W, b, s)
        what = f"residual_block_backward (N={N}, n={n}, scale={s})"
        if isinstance(out, list) and len(out) == 3:
            out = tuple(out)  # a list of the three arrays is as good as a tuple
        if not isinstance(out, tuple) or len(out) != 3:
            fail(f"{what} should return a tuple (dx, dW, db), got "
                 f"{'None (did you forget `return`?)' if out is None else _kind(out)}.")
        _, cache = residual_forward(x, W, b, "tanh", s)
        dx, dW, db = residual_backward(dout, cache)
        shapes = tuple(np.shape(o) for o in out)
        if shapes != ((N, n), (n, n), (n,)):
            if set(shapes) == {(N, n), (n, n), (n,)} or shapes[:2] == ((n, n), (N, n)):
                fail(f"{what} returned arrays of shapes {shapes}: return them in the order of the forward "
                     f"arguments, (dx, dW, db), with shapes {((N, n), (n, n), (n,))}.")
            if shapes[2] == (1, n):
                fail(f"{what}: db has shape (1, {n}); keep it one-dimensional, shape ({n},), like b: sum over the "
                     "batch without keepdims=True.")
            if shapes[2] == (N,):
                fail(f"{what}: db has shape (N,) = {shapes[2]}; it needs one value per unit, shape ({n},): sum "
                     "delta over the batch, axis 0, not over the units.")
        z = x @ W.T + b
        t = np.tanh(z)
        a = x + s * t

        grads = functools.partial(_residual_grads, x=x, skip=dout, back_W=W)

        t_nob, t_noT = np.tanh(x @ W.T), np.tanh(x @ W + b)

        variants = {
            "no_skip": (dx - dout, dW, db),
            "no_scale": grads(dout * (1 - t ** 2)),
            "scale_twice": grads(s * s * dout * (1 - t ** 2)),
            "no_tanh_grad": grads(s * dout),
            "one_minus_a2": grads(s * dout * (1 - a ** 2)),
            "one_minus_t": grads(s * dout * (1 - t)),
            "one_minus_z2": grads(s * dout * (1 - z ** 2)),
            "skip_scaled": grads(s * dout * (1 - t ** 2), skip=s * dout),
            "W_T": grads(s * dout * (1 - t ** 2), back_W=W.T),
            "one_minus_t_sq": grads(s * dout * (1 - t) ** 2),
            "raw_dout": grads(dout),
            "no_branch": (dout, dW, db),
            "no_bias": grads(s * dout * (1 - t_nob ** 2)),
            "z_no_T": grads(s * dout * (1 - t_noT ** 2)),
            "sigmoid_grad": grads(s * dout * (1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-z)))),
        }
        hints = {
            "no_skip": "dx is missing the identity path: the skip connection a = x + s f(z) passes dout straight "
                       "back, so dx = dout + (s * dout * f'(z)) W",
            "no_scale": "forgot the scale s of the residual branch: delta = s * dout * (1 - tanh(z)^2)",
            "scale_twice": "the scale s enters once, in delta = s * dout * f'(z); you multiplied by s twice",
            "no_tanh_grad": "forgot tanh'(z) = 1 - tanh(z)^2 in the branch",
            "one_minus_a2": "1 - a^2 uses the block's OUTPUT a = x + s tanh(z), which includes the skip: "
                            "the branch's derivative is 1 - tanh(z)^2, of the tanh's own output t = tanh(z)",
            "one_minus_t": "tanh'(z) = 1 - tanh(z)^2: the tanh is squared",
            "one_minus_z2": "tanh'(z) = 1 - tanh(z)^2, not 1 - z^2: apply the tanh before squaring",
            "skip_scaled": "the identity path is not scaled: a = x + s f(z), so the skip passes dout itself, "
                           "dx = dout + delta W (only the branch carries s)",
            "W_T": "z = x W^T + b, so the branch sends delta back as delta W (no transpose): dx = dout + delta W",
            "one_minus_t_sq": "tanh'(z) = 1 - tanh(z)^2: square the tanh, not (1 - tanh(z))",
            "raw_dout": "the branch's error is delta = s * dout * (1 - tanh(z)^2): you used dout itself",
            "no_branch": "dx has only the identity path: the branch sends gradient back too, dx = dout + delta W",
            "no_bias": "the pre-activation is z = x W^T + b: you left out the bias b",
            "z_no_T": "the pre-activation is z = x W^T + b (W is (n_out, n_in)): x @ W uses its transpose",
            "sigmoid_grad": "the branch is a tanh: its derivative is 1 - tanh(z)^2, not the sigmoid's "
                            "sigma(z)(1 - sigma(z))",
        }

        candidates = functools.partial(_part_mistakes, hints, variants, (dx, dW, db))

        m_dx = candidates(0)
        _expect(out[0], dx, f"dx of {what}", m_dx)
        m_dW = candidates(1, [("dW = delta^T x has W's shape (n_out, n_in): you computed its transpose x^T delta",
                               dW.T)])
        _expect(out[1], dW, f"dW of {what}", m_dW)
        m_db = candidates(2, [("db needs the SUM over the batch (axis 0), not the mean: dout already carries the 1/N "
                               "of a mean loss", db / N)])
        _expect(out[2], db, f"db of {what}", m_db)
    return "dx (identity path + branch), dW and db match the library's residual_backward on 4 blocks"


def _kind(value) -> str:
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return type(value).__name__


# --------------------------------------------------------------------------- task 6

from .. import normalization as _normalization  # noqa: E402
from ..normalization import batchnorm_backward, batchnorm_forward, layernorm_backward, norm_gradient_flow  # noqa: E402

__all__ += ["check_batchnorm_backward"]


def _bn_compact(dout, xhat, inv_std, gamma, axis=0):
    M = xhat.shape[axis]
    g = dout * gamma
    return inv_std / M * (M * g - g.sum(axis=axis, keepdims=True) - xhat * np.sum(g * xhat, axis=axis, keepdims=True))


@task("batchnorm_backward", points=1, references=[batchnorm_backward, layernorm_backward, _normalization._denormalise,
                                                    norm_gradient_flow, MLP, Value, numerical_gradient])
def check_batchnorm_backward(fn):
    rng = np.random.default_rng(46)
    cases = []
    for N, D, eps in ((6, 4, 1e-5), (5, 3, 0.5), (9, 5, 1e-5)):
        cases.append((rng.standard_normal((N, D)) * rng.uniform(0.5, 3.0, D) + rng.standard_normal(D),
                      rng.standard_normal(D), rng.standard_normal((N, D)), eps))
    # features with a large common offset: the exact backward is unaffected, finite differences lose digits
    x = rng.standard_normal((4, 3)) + 1e5
    cases.append((x, rng.standard_normal(3), rng.standard_normal((4, 3)), 1e-5))
    for x, gamma, dout, eps in cases:
        N, D = x.shape
        what = f"batchnorm_backward (N={N}, D={D}, eps={eps:g})"
        out = call(fn, dout, x, gamma, eps)
        if isinstance(out, list) and len(out) == 3:
            out = tuple(out)
        if not isinstance(out, tuple) or len(out) != 3:
            fail(f"{what} should return a tuple (dx, dgamma, dbeta), got "
                 f"{'None (did you forget `return`?)' if out is None else _kind(out)}.")
        _, cache = batchnorm_forward(x, gamma, np.zeros(D), eps)
        dx, dgamma, dbeta = batchnorm_backward(dout, cache)
        shapes = tuple(np.shape(o) for o in out)
        if shapes[0] != (N, D):
            fail(f"{what}: dx has shape {shapes[0]}, it needs x's shape {(N, D)}; return (dx, dgamma, dbeta) in the "
                 "order of the forward arguments.")
        for part, name in ((1, "dgamma"), (2, "dbeta")):
            if shapes[part] == (N, D):
                fail(f"{what}: {name} has shape {(N, D)}, one value per example and unit; gamma and beta are shared "
                     f"by the whole batch, so sum over the batch (axis 0): shape ({D},).")
            if shapes[part] in ((1, D), (N,)):
                fail(f"{what}: {name} has shape {shapes[part]}; it needs gamma's shape ({D},): sum over the batch, "
                     "axis 0, without keepdims=True.")
        mu, var = x.mean(axis=0), x.var(axis=0)
        inv_std = 1 / np.sqrt(var + eps)
        xhat = (x - mu) * inv_std
        g = dout * gamma
        var_s = x.var(axis=0, ddof=1)
        inv_s = 1 / np.sqrt(var_s + eps)
        xhat_s = (x - mu) * inv_s
        inv_noeps = 1 / np.sqrt(var)
        xhat_noeps = (x - mu) * inv_noeps
        inv_ln = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
        xhat_ln = (x - x.mean(axis=1, keepdims=True)) * inv_ln
        dx_hints = [
            ("the mean's dependence on x is missing: mu = mean(x) depends on every x_n, so dx needs the term "
             "-sum(g) (g = gamma * dout): dx = (N g - sum(g) - xhat * sum(g * xhat)) / (N sqrt(var + eps))",
             inv_std * (g - xhat * np.mean(g * xhat, axis=0))),
            ("the path through the variance is missing: var depends on every x_n too, which gives the term "
             "-xhat * sum(g * xhat) in dx = (N g - sum(g) - xhat * sum(g * xhat)) / (N sqrt(var + eps))",
             inv_std * (g - g.mean(axis=0))),
            ("you treated the batch mean and variance as constants (dx = gamma * dout / sqrt(var + eps)); "
             "both depend on every x_n: dx = (N g - sum(g) - xhat * sum(g * xhat)) / (N sqrt(var + eps))", g * inv_std),
            ("a 1/N factor is missing: the whole bracket is divided by N, dx = (N g - sum(g) - xhat * sum(g * xhat)) "
             "/ (N sqrt(var + eps)), so dx came out N times too large", N * dx),
            ("the two sums need the 1/N factor (they are means over the batch): dx = (g - mean(g) - xhat * "
             "mean(g * xhat)) / sqrt(var + eps); you used the plain sums",
             inv_std * (g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0))),
            ("batch norm uses the population variance, mean((x - mu)^2) with 1/N (np.var's default, ddof=0, as "
             "torch.nn.BatchNorm1d in training); you used the sample variance with N - 1 (ddof=1)",
             _bn_compact(dout, xhat_s, inv_s, gamma)),
            ("eps belongs inside the square root, sqrt(var + eps), as in the forward pass; you left it out",
             _bn_compact(dout, xhat_noeps, inv_noeps, gamma)),
            ("dx needs gamma: y = gamma * xhat + beta, so the gradient reaching xhat is g = gamma * dout",
             _bn_compact(dout, xhat, inv_std, np.ones(D))),
            ("you normalised each example over its units (axis 1): that is layer norm; batch norm's mean, variance and "
             "sums run over the batch, axis 0", _bn_compact(dout, xhat_ln, inv_ln, gamma, axis=1)),
            ("dout already carries the 1/N of a mean loss: do not divide by N again", dx / N),
            ("the sign of the mean's path is flipped: dx = (N g - sum(g) - xhat * sum(g * xhat)) / (N sqrt(var + eps))",
             inv_std / N * (N * g + g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0))),
            ("the sign of the variance's path is flipped: "
             "dx = (N g - sum(g) - xhat * sum(g * xhat)) / (N sqrt(var + eps))",
             inv_std / N * (N * g - g.sum(axis=0) + xhat * np.sum(g * xhat, axis=0))),
        ]
        def keep(items, ref):
            return [(h, v) for h, v in items if not np.allclose(v, ref, rtol=1e-9, atol=1e-12)]

        approx = ("The task asks for the exact backward pass: a finite-difference approximation (here the features sit "
                  "near 1e5, where central differences lose digits) or float32 gives these small errors.")
        _expect(out[0], dx, f"dx of {what}", _mistakes(keep(dx_hints, dx)), approximate=approx)
        dgamma_hints = [
            ("dgamma = sum over the batch of dout * xhat, the NORMALISED input; you used x itself",
             np.sum(dout * x, axis=0)),
            ("dgamma = sum(dout * xhat): y = gamma * xhat + beta does not multiply by gamma again",
             np.sum(dout * xhat * gamma, axis=0)),
            ("dgamma is the SUM over the batch of dout * xhat, not the mean: dout already carries the 1/N",
             dgamma / N),
            ("dgamma uses the population variance (1/N), like the forward pass; you used N - 1",
             np.sum(dout * xhat_s, axis=0)),
        ]
        _expect(out[1], dgamma, f"dgamma of {what}", _mistakes(keep(dgamma_hints, dgamma)))
        dbeta_hints = [
            ("dbeta is the SUM over the batch of dout, not the mean: dout already carries the 1/N", dbeta / N),
            ("dbeta = sum(dout): beta is added, not multiplied by gamma", np.sum(dout * gamma, axis=0)),
            ("dbeta = sum(dout) over the batch; you multiplied by xhat (that is dgamma)", dgamma),
        ]
        _expect(out[2], dbeta, f"dbeta of {what}", _mistakes(keep(dbeta_hints, dbeta)))
    return ("dx (with the paths through the batch mean and variance), dgamma and dbeta match the library's "
            "batchnorm_backward on 4 batches, eps inside the square root, population variance")
