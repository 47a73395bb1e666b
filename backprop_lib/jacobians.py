r"""Jacobians and vector-Jacobian products (VJPs): what a backward step computes (notebook 03).

A function :math:`y = f(x)` from :math:`\mathbb{R}^n` to :math:`\mathbb{R}^m` has the Jacobian
:math:`J_{ij} = \partial y_i / \partial x_j`, an :math:`(m, n)` matrix. A backward step never
builds it: given the upstream gradient (the *seed*) :math:`v = \partial L/\partial y`, it returns

.. math:: \frac{\partial L}{\partial x} = v^\top J \quad (\text{a row of length } n),

the vector-Jacobian product. It is also the gradient of the scalar :math:`\sum_i v_i y_i`, which is
what PyTorch's ``y.backward(v)`` computes; a scalar loss is the special case :math:`v = 1`.

- :func:`numerical_jacobian`: J by central differences, an independent reference;
- :func:`elementwise_jacobian`: an elementwise activation's J is diagonal, :math:`\mathrm{diag}(\sigma'(z))`;
- :func:`softmax_jacobian`: softmax's J is not, :math:`\mathrm{diag}(p) - p p^\top`;
- :func:`softmax_vjp`: its VJP without building J, :math:`p \odot (v - v \cdot p)` row by row;
- :func:`jacobian_vs_vjp_cost`: what building J costs against the VJP;
- :func:`matmul_candidates`: the products two arrays allow, for shape reasoning;
- :func:`hand_trace_222`: the 2-2-2 network of the notebook's worked trace, step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = [
    "numerical_jacobian",
    "elementwise_jacobian",
    "softmax_jacobian",
    "softmax_vjp",
    "JacobianCost",
    "jacobian_vs_vjp_cost",
    "TRACE_222",
    "hand_trace_222",
    "matmul_candidates",
]


def _float_array(x, name: str, ndim: tuple[int, ...]) -> np.ndarray:
    """``x`` as a finite float64 array with one of the allowed numbers of dimensions."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def numerical_jacobian(f: Callable[[np.ndarray], np.ndarray], x, h: float = 1e-5) -> np.ndarray:
    r"""The Jacobian of ``f`` at the vector ``x`` by central differences: column j is
    :math:`(f(x + h e_j) - f(x - h e_j)) / 2h`.

    x : (n,) -> J : (m, n), where ``f(x)`` has shape (m,).
    """
    x = _float_array(x, "x", (1,))
    if not (isinstance(h, (int, float)) and not isinstance(h, bool) and h > 0):
        raise ValueError(f"h must be a positive number, got {h!r}")
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        plus = np.asarray(f(x + step), dtype=np.float64)
        minus = np.asarray(f(x - step), dtype=np.float64)
        if plus.ndim != 1:
            raise ValueError(f"f must return a vector (m,), got shape {plus.shape}")
        columns.append((plus - minus) / (2.0 * h))
    return np.stack(columns, axis=1)


def elementwise_jacobian(df: Callable[[np.ndarray], np.ndarray], z) -> np.ndarray:
    r"""The Jacobian of an elementwise function at the vector ``z``: :math:`\mathrm{diag}(f'(z))`.

    ``df`` is the derivative :math:`f'` (e.g. ``sigmoid_grad``); z : (n,) -> J : (n, n).
    """
    z = _float_array(z, "z", (1,))
    return np.diag(np.asarray(df(z), dtype=np.float64))


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z) -> np.ndarray:
    r"""The Jacobian of :math:`p = \mathrm{softmax}(z)` for one row: :math:`\mathrm{diag}(p) - p p^\top`,
    i.e. :math:`\partial p_i/\partial z_j = p_i([i = j] - p_j)`. z : (C,) -> J : (C, C), symmetric."""
    p = _softmax_rows(_float_array(z, "z", (1,)))
    return np.diag(p) - np.outer(p, p)


def softmax_vjp(z, v) -> np.ndarray:
    r"""The VJP of the row-wise softmax: the gradient of :math:`\sum v \odot \mathrm{softmax}(z)` w.r.t. z.

    For each row, :math:`v^\top J = v^\top(\mathrm{diag}(p) - p p^\top) = p \odot (v - v \cdot p)`:
    O(C) work per row instead of the C x C Jacobian. z, v : (C,) or (N, C) -> (same shape).
    """
    z = _float_array(z, "z", (1, 2))
    v = _float_array(v, "v", (1, 2))
    if v.shape != z.shape:
        raise ValueError(f"v must have the shape of z, {z.shape}, got {v.shape}")
    p = _softmax_rows(z)
    return p * (v - (v * p).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class JacobianCost:
    """Multiplications for the backward step of an elementwise function of n inputs."""

    n: int
    jacobian_entries: int     # the (n, n) matrix, built
    explicit_multiplies: int  # v^T J as a vector-matrix product
    vjp_multiplies: int       # v * f'(z), elementwise

    @property
    def ratio(self) -> float:
        return self.explicit_multiplies / self.vjp_multiplies


def jacobian_vs_vjp_cost(n: int) -> JacobianCost:
    """Count the work of ``v @ diag(f'(z))`` (build J: n^2 entries, then n^2 multiply-adds) against
    ``v * f'(z)`` (n multiplies) for a layer of n units."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n = int(n)
    return JacobianCost(n=n, jacobian_entries=n * n, explicit_multiplies=n * n, vjp_multiplies=n)


#: The 2-2-2 network of the notebook's trace: ReLU hidden layer, softmax + cross-entropy output,
#: one example (so N = 1 and the 1/N of the mean loss is 1). Every number is exact in binary.
TRACE_222: dict[str, Any] = {
    "x": np.array([1.0, 2.0]),
    "label": 0,
    "W1": np.array([[0.5, -0.25], [1.0, 0.5]]),
    "b1": np.array([0.5, -1.0]),
    "W2": np.array([[1.0, -0.5], [-1.0, 0.5]]),
    "b2": np.array([0.0, 0.0]),
}


def hand_trace_222(net: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    r"""Every intermediate of one forward and backward pass through a 2-2-2 ReLU/softmax net, one
    line per step as on paper (column vectors, one example; ``net`` defaults to :data:`TRACE_222`).

    Returns z1, a1, z2, y_hat, loss, delta2, dW2, db2, delta1, dW1, db1 (in that order).
    """
    p = TRACE_222 if net is None else net
    x, W1, b1, W2, b2 = (np.asarray(p[k], dtype=np.float64) for k in ("x", "W1", "b1", "W2", "b2"))
    y = np.zeros(W2.shape[0])
    y[int(p["label"])] = 1.0
    out: dict[str, np.ndarray] = {}
    out["z1"] = W1 @ x + b1                        # z1 = W1 x + b1
    out["a1"] = np.maximum(out["z1"], 0.0)         # a1 = relu(z1)
    out["z2"] = W2 @ out["a1"] + b2                # z2 = W2 a1 + b2
    e = np.exp(out["z2"] - out["z2"].max())
    out["y_hat"] = e / e.sum()                     # y_hat = softmax(z2)
    out["loss"] = np.array(-np.log(out["y_hat"][int(p["label"])]))
    out["delta2"] = out["y_hat"] - y               # softmax + CE, N = 1
    out["dW2"] = np.outer(out["delta2"], out["a1"])  # delta2 a1^T
    out["db2"] = out["delta2"].copy()
    out["delta1"] = (W2.T @ out["delta2"]) * (out["z1"] > 0)  # (W2^T delta2) * relu'(z1)
    out["dW1"] = np.outer(out["delta1"], x)        # delta1 x^T
    out["db1"] = out["delta1"].copy()
    return out


def matmul_candidates(left: tuple[str, np.ndarray], right: tuple[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """Every matrix product of two named 2-D arrays (either order, either transposed) whose inner
    dimensions agree, as ``(expression, product)``: the candidates of shape reasoning.

    ``matmul_candidates(("delta", d), ("a_prev", a))`` gives e.g. ``("delta.T @ a_prev", d.T @ a)``.
    """
    arrays = []
    for name, arr in (left, right):
        arr = _float_array(arr, name, (2,))
        arrays.append([(name, arr), (f"{name}.T", arr.T)])
    out, seen = [], set()
    for first, second in ((arrays[0], arrays[1]), (arrays[1], arrays[0])):
        for name_a, a in first:
            for name_b, b in second:
                expr = f"{name_a} @ {name_b}"
                if a.shape[1] == b.shape[0] and expr not in seen:
                    seen.add(expr)
                    out.append((expr, a @ b))
    return out
