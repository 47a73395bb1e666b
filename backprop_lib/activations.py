r"""Activation functions and their derivatives, elementwise on arrays of any shape.

===========  ===============================================  ===========================================
name         :math:`f(z)`                                     :math:`f'(z)`
===========  ===============================================  ===========================================
sigmoid      :math:`\sigma(z) = 1 / (1 + e^{-z})`             :math:`\sigma(z)(1 - \sigma(z)) \le 1/4`
tanh         :math:`\tanh z`                                  :math:`1 - \tanh^2 z \le 1`
relu         :math:`\max(0, z)`                               :math:`1` if :math:`z > 0` else :math:`0`
leaky_relu   :math:`z` if :math:`z > 0` else :math:`\alpha z`  :math:`1` if :math:`z > 0` else :math:`\alpha`
identity     :math:`z`                                        :math:`1`
===========  ===============================================  ===========================================

Every function keeps a floating input's dtype (float64 unless you pass float32) and
never warns, whatever the input: the sigmoid only ever exponentiates :math:`-|z|`.

The backward pass of an activation is the elementwise product
:math:`\partial L/\partial z = \partial L/\partial a \odot f'(z)`;
``Activation.backward(da, z)`` computes it (for ReLU without building :math:`f'(z)` as
a float array, which is the same numbers with one allocation less).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

__all__ = [
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad",
    "leaky_relu", "leaky_relu_grad", "identity", "identity_grad",
    "sigmoid_backward", "tanh_backward", "relu_backward", "leaky_relu_backward", "identity_backward",
    "Activation", "ACTIVATIONS", "get_activation",
]


def _float(z) -> np.ndarray:
    z = np.asarray(z)
    if z.dtype.kind == "f":
        return z
    if z.dtype.kind in "iub":
        return z.astype(np.float64)
    raise TypeError(f"z must be a numeric array, got dtype {z.dtype}")


def sigmoid(z) -> np.ndarray:
    r"""Numerically stable :math:`\sigma(z) = 1/(1+e^{-z})`: exact 0/1 limits, no overflow."""
    z = _float(z)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_grad(z) -> np.ndarray:
    r""":math:`\sigma'(z) = \sigma(z)(1-\sigma(z)) = e^{-|z|} / (1 + e^{-|z|})^2`, at most 1/4 (at z = 0).

    The second form is exact in floating point for large :math:`|z|` too (no ``1 - 1.0`` cancellation).
    """
    z = _float(z)
    e = np.exp(-np.abs(z))
    return (e / ((1.0 + e) * (1.0 + e))).astype(z.dtype, copy=False)


def tanh(z) -> np.ndarray:
    return np.tanh(_float(z))


def tanh_grad(z) -> np.ndarray:
    r""":math:`\tanh'(z) = 1 - \tanh^2 z = 4e^{-2|z|} / (1 + e^{-2|z|})^2`, at most 1 (at z = 0).

    The second form keeps full relative precision for large :math:`|z|` (``1 - t*t`` cancels to 0).
    """
    z = _float(z)
    e = np.exp(-2.0 * np.abs(z))
    return (4.0 * e / ((1.0 + e) * (1.0 + e))).astype(z.dtype, copy=False)


def relu(z) -> np.ndarray:
    z = _float(z)
    return np.maximum(z, 0.0).astype(z.dtype, copy=False)


def relu_grad(z) -> np.ndarray:
    """1 where z > 0, else 0 (the subgradient 0 is used at z = 0, as PyTorch does)."""
    z = _float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, slope: float = 0.01) -> np.ndarray:
    z = _float(z)
    return np.where(z > 0, z, slope * z).astype(z.dtype, copy=False)


def leaky_relu_grad(z, slope: float = 0.01) -> np.ndarray:
    z = _float(z)
    return np.where(z > 0, 1.0, slope).astype(z.dtype, copy=False)


def identity(z) -> np.ndarray:
    return _float(z)


def identity_grad(z) -> np.ndarray:
    return np.ones_like(_float(z))


# Backward passes: dL/dz = dL/da * f'(z). Same numbers as ``da * f_grad(z)``, bit for bit.
def sigmoid_backward(da, z) -> np.ndarray:
    return da * sigmoid_grad(z)


def tanh_backward(da, z) -> np.ndarray:
    return da * tanh_grad(z)


def relu_backward(da, z) -> np.ndarray:
    """``da`` where z > 0, else 0: multiplies by the boolean mask (no float copy of f'(z))."""
    return np.multiply(da, np.greater(z, 0))


def leaky_relu_backward(da, z, slope: float = 0.01) -> np.ndarray:
    return da * leaky_relu_grad(z, slope)


def identity_backward(da, z) -> np.ndarray:
    """``da`` itself (times f'(z) = 1), in the dtype ``da * 1.0`` would have."""
    return np.asarray(da, dtype=np.result_type(da, _float(z)))


@dataclass(frozen=True)
class Activation:
    """An activation by name, with its function ``f`` and derivative ``df`` (both of z)."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    vjp: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def __call__(self, z):
        return self.f(z)

    def backward(self, da, z) -> np.ndarray:
        r""":math:`\partial L/\partial z = \partial L/\partial a \odot f'(z)` (bitwise equal to ``da * df(z)``)."""
        if self.vjp is not None:
            return self.vjp(da, z)
        return da * self.df(z)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_grad, sigmoid_backward),
    "tanh": Activation("tanh", tanh, tanh_grad, tanh_backward),
    "relu": Activation("relu", relu, relu_grad, relu_backward),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_grad, leaky_relu_backward),
    "identity": Activation("identity", identity, identity_grad, identity_backward),
}


def get_activation(name, slope: float | None = None, *, arg: str = "activation") -> Activation:
    """Look up an activation by name (or pass an :class:`Activation` through).

    ``slope`` sets leaky ReLU's negative slope (default 0.01); ``arg`` is the argument
    name used in error messages.
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"{arg} must be a name (str), got {type(name).__name__}")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown {arg} {name!r}; expected one of {sorted(ACTIVATIONS)}")
    if name == "leaky_relu" and slope is not None:
        if isinstance(slope, bool) or not isinstance(slope, (int, float, np.floating)) or not (0 <= slope < 1):
            raise ValueError(f"slope must be a number in [0, 1), got {slope!r}")
        return Activation(
            "leaky_relu", partial(leaky_relu, slope=slope), partial(leaky_relu_grad, slope=slope),
            partial(leaky_relu_backward, slope=slope),
        )  # partial, not lambda: networks must pickle (they are sent to worker processes)
    return ACTIVATIONS[name]
