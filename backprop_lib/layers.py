r"""Layers as forward/backward pairs of pure functions (the CS231n pattern).

``out, cache = X_forward(...)`` computes the layer and returns what the backward pass
needs; ``dx, ... = X_backward(dout, cache)`` returns the gradients of the loss with
respect to the forward arguments, in the same order. ``dout`` is the gradient of the
loss with respect to ``out`` (the "upstream" gradient).

Shapes follow ``torch.nn.Linear``: a batch ``x`` is (N, n_in), a weight ``W`` is
(n_out, n_in), a bias ``b`` is (n_out,).
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation

__all__ = [
    "linear_forward", "linear_backward",
    "activation_forward", "activation_backward",
    "residual_forward", "residual_backward",
]


def _check_linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:
    for name, arr in (("x", x), ("W", W), ("b", b)):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(arr).__name__}")
        if arr.dtype.kind != "f":
            raise TypeError(f"{name} must be a floating-point array, got dtype {arr.dtype}")
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D (n_out, n_in), got shape {W.shape}")
    if x.ndim != 2 or x.shape[1] != W.shape[1]:
        raise ValueError(f"x must be (N, {W.shape[1]}) to match W {W.shape}, got {x.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"b must be ({W.shape[0]},) to match W {W.shape}, got {b.shape}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    r"""Affine layer :math:`z = x W^\top + b`.

    x : (N, n_in), W : (n_out, n_in), b : (n_out,) -> out : (N, n_out); cache = (x, W).
    """
    _check_linear(x, W, b)
    return x @ W.T + b, (x, W)


def linear_backward(dout: np.ndarray, cache: tuple, need_dx: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""Gradients of the affine layer.

    .. math:: \frac{\partial L}{\partial x} = \delta W, \qquad
              \frac{\partial L}{\partial W} = \delta^\top x, \qquad
              \frac{\partial L}{\partial b} = \sum_n \delta_n

    dout (= delta) : (N, n_out) -> dx : (N, n_in), dW : (n_out, n_in), db : (n_out,).
    ``cache`` is what :func:`linear_forward` returned. When the loss is a mean over the batch,
    ``dout`` is a gradient of that mean and already carries its 1/N, so dW and db SUM over the
    batch and do not divide by N again. ``need_dx=False`` skips dx (returned as None): the first
    layer of a network needs no gradient for its input.
    """
    x, W = cache
    if not isinstance(dout, np.ndarray) or dout.dtype.kind != "f":
        raise TypeError(f"dout must be a floating-point numpy array, got "
                        f"{getattr(dout, 'dtype', type(dout).__name__)}")
    if dout.shape != (x.shape[0], W.shape[0]):
        raise ValueError(f"dout must be {(x.shape[0], W.shape[0])}, got {dout.shape}")
    dx = dout @ W if need_dx else None
    dW = dout.T @ x
    db = dout.sum(axis=0)
    return dx, dW, db


def activation_forward(z: np.ndarray, activation: str | Activation) -> tuple[np.ndarray, tuple]:
    """Elementwise ``a = f(z)``, any shape; cache = (z, activation)."""
    act = get_activation(activation)
    z = np.asarray(z)
    if z.dtype.kind not in "fiu":
        raise TypeError(f"z must be a numeric array, got dtype {z.dtype}")
    return act.f(z), (z, act)


def activation_backward(da: np.ndarray, cache: tuple) -> np.ndarray:
    r"""Elementwise :math:`\frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z)`."""
    z, act = cache
    if da is None:
        raise TypeError("da must be a numeric array (dL/da of the layer's output), got None")
    da = np.asarray(da)
    if da.dtype.kind not in "fiu":
        raise TypeError(f"da must be a numeric array, got dtype {da.dtype}")
    if da.dtype.kind != "f":
        da = da.astype(np.float64)
    if da.shape != z.shape:
        raise ValueError(f"da must have the shape of z {z.shape}, got {da.shape}")
    return act.backward(da, z)


def residual_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str | Activation = "relu",
                     scale: float = 1.0) -> tuple[np.ndarray, tuple]:
    r"""Residual block :math:`a = x + s\, f(x W^\top + b)` (W must be square).

    x : (N, n), W : (n, n), b : (n,) -> out : (N, n).
    """
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"a residual block needs a square W (n, n), got {W.shape}")
    z, lin_cache = linear_forward(x, W, b)
    a, act_cache = activation_forward(z, activation)
    return x + scale * a, (lin_cache, act_cache, scale)


def residual_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of the residual block: the identity path passes ``dout`` straight through.

    .. math:: \delta = s\,\frac{\partial L}{\partial a} \odot f'(z), \qquad
              \frac{\partial L}{\partial x} = \frac{\partial L}{\partial a} + \delta W
    """
    lin_cache, act_cache, scale = cache
    dz = activation_backward(scale * dout, act_cache)
    dx, dW, db = linear_backward(dz, lin_cache)
    return dout + dx, dW, db
