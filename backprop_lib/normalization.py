r"""Batch normalisation and layer normalisation as forward/backward pairs with a cache (CS231n style).

Both normalise a batch ``x`` of shape (N, D) to zero mean and unit variance, then scale and shift:

.. math:: \mu = \tfrac1M \textstyle\sum x, \quad \sigma^2 = \tfrac1M \textstyle\sum (x - \mu)^2, \quad
          \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \odot \hat x + \beta

*Batch* norm (Ioffe & Szegedy 2015) averages over the batch (axis 0, :math:`M = N`, one mean per feature);
*layer* norm (Ba, Kiros & Hinton 2016) over the features of each example (axis 1, :math:`M = D`). The
variance is the population (biased) one, divided by :math:`M`, as ``torch.nn.BatchNorm1d`` in training mode
and ``torch.nn.LayerNorm`` use. :math:`\gamma, \beta` have shape (D,) in both.

The backward pass in its compact form (CS231n, assignment 2): with :math:`g = \gamma \odot dy` and sums over the
normalised axis,

.. math:: dx = \frac{1}{M\sqrt{\sigma^2+\epsilon}}
              \Bigl(M g - \textstyle\sum g - \hat x \textstyle\sum (g \odot \hat x)\Bigr),
          \qquad d\gamma = \textstyle\sum_n dy \odot \hat x, \qquad d\beta = \textstyle\sum_n dy

The two subtracted sums are the paths through :math:`\mu` and through :math:`\sigma^2`: both depend on every
:math:`x` of the group. :func:`norm_gradient_flow` measures what normalisation does to the gradients of a deep net.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .init import init_weights
from .layers import activation_backward, activation_forward, linear_backward, linear_forward
from .losses import softmax_cross_entropy

__all__ = ["batchnorm_forward", "batchnorm_backward", "layernorm_forward", "layernorm_backward",
           "NormFlow", "norm_gradient_flow"]


def _check(x, gamma, beta, eps) -> None:
    for name, value in (("x", x), ("gamma", gamma), ("beta", beta)):
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"{name} must be a float array, got dtype {value.dtype}")
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D), got shape {x.shape}")
    D = x.shape[1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},) for x of shape {x.shape}, got {value.shape}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (eps > 0 and np.isfinite(eps)):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf")


def _normalise(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, axis: int):
    mu = x.mean(axis=axis, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=axis, keepdims=True)  # population variance: divide by M, not M - 1
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std
    return gamma * xhat + beta, (xhat, inv_std, gamma, axis)


def _denormalise(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, inv_std, gamma, axis = cache
    if not isinstance(dout, np.ndarray) or dout.shape != xhat.shape:
        raise ValueError(f"dout must have the forward output's shape {xhat.shape}, got "
                         f"{getattr(dout, 'shape', type(dout).__name__)}")
    M = xhat.shape[axis]
    g = dout * gamma
    dx = inv_std / M * (M * g - g.sum(axis=axis, keepdims=True) - xhat * np.sum(g * xhat, axis=axis, keepdims=True))
    return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    r"""Batch normalisation in training mode: statistics over the batch, one per feature.

    x: (N, D), gamma and beta: (D,). Returns ``(out, cache)``, out of shape (N, D). Needs N >= 2.
    """
    _check(x, gamma, beta, eps)
    if x.shape[0] < 2:
        raise ValueError(f"batch norm needs a batch of at least 2 examples, got x of shape {x.shape}")
    return _normalise(x, gamma, beta, eps, axis=0)


def batchnorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``(dx, dgamma, dbeta)`` of :func:`batchnorm_forward`, compact form (module docstring), M = N."""
    return _denormalise(dout, cache)


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                      eps: float = 1e-5) -> tuple[np.ndarray, tuple]:
    r"""Layer normalisation: statistics over the D features of each example (the same at training and test time).

    x: (N, D), gamma and beta: (D,). Returns ``(out, cache)``. Needs D >= 2.
    """
    _check(x, gamma, beta, eps)
    if x.shape[1] < 2:
        raise ValueError(f"layer norm needs at least 2 features, got x of shape {x.shape}")
    return _normalise(x, gamma, beta, eps, axis=1)


def layernorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``(dx, dgamma, dbeta)`` of :func:`layernorm_forward`: the same compact form, sums over axis 1, M = D."""
    return _denormalise(dout, cache)


# =============================================================================
# The gradient-flow experiment: a deep net with and without normalisation
# =============================================================================

_NORMS = {"none": None, "batch": (batchnorm_forward, batchnorm_backward),
          "layer": (layernorm_forward, layernorm_backward)}


@dataclass
class NormFlow:
    """Per hidden layer l = 1..depth: ||dL/dW_l||_F (``weight_norms``), ||dL/da_l|| (``output_norms``)."""

    weight_norms: np.ndarray
    output_norms: np.ndarray
    loss: float

    @property
    def ratio(self) -> float:
        """First over last hidden layer's weight-gradient norm (1 = no vanishing, no exploding)."""
        return float(self.weight_norms[0] / self.weight_norms[-1])


def norm_gradient_flow(X: np.ndarray, y: np.ndarray, depth: int = 20, width: int = 32, activation: str = "sigmoid",
                       init: str = "xavier", norm: str = "none", seed: int = 0,
                       init_scale: float | None = None) -> NormFlow:
    r"""One forward and backward pass of a deep net ``linear -> [norm] -> activation`` (x depth) ``-> linear``.

    Mean softmax cross-entropy on ``(X, y)``; weights from ``init_weights(init, ..., scale=init_scale)`` with
    ``seed``, biases 0,
    :math:`\gamma = 1, \beta = 0`. The norm sits between the linear map and the activation, as in Ioffe &
    Szegedy. ``norm`` is ``"none"``, ``"batch"`` or ``"layer"``.
    """
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {sorted(_NORMS)}, got {norm!r}")
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1]] + [width] * depth + [int(np.max(y)) + 1]
    Ws = [init_weights(init, n_in, n_out, rng, scale=init_scale) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    pair = _NORMS[norm]
    ones, zeros = np.ones(width), np.zeros(width)
    a, caches = np.asarray(X, dtype=np.float64), []
    for W in Ws[:-1]:
        z, lin = linear_forward(a, W, np.zeros(W.shape[0]))
        nc = None
        if pair is not None:
            z, nc = pair[0](z, ones, zeros)
        a, act = activation_forward(z, activation)
        caches.append((lin, nc, act))
    logits, lin_out = linear_forward(a, Ws[-1], np.zeros(Ws[-1].shape[0]))
    loss, dlogits = softmax_cross_entropy(logits, y)  # the 1/N enters here, once
    da = dlogits @ Ws[-1]  # the output layer's dx (linear_backward's dx = delta W)
    w_norms: list[float] = []
    a_norms: list[float] = []
    for lin, nc, act in reversed(caches):
        a_norms.append(float(np.linalg.norm(da)))
        dz = activation_backward(da, act)
        if pair is not None:
            dz, _, _ = pair[1](dz, nc)
        _, dW, _ = linear_backward(dz, lin, need_dx=False)
        da = dz @ lin[1]  # lin = (input, W): the gradient for the layer below, delta W
        w_norms.append(float(np.linalg.norm(dW)))
    return NormFlow(np.array(w_norms[::-1]), np.array(a_norms[::-1]), float(loss))
