r"""Forward-mode automatic differentiation with dual numbers, and its cost next to reverse mode.

A :class:`Dual` carries a value and a *tangent*, :math:`a + \dot a\,\varepsilon` with
:math:`\varepsilon^2 = 0`; every operation applies its local derivative to the tangent at once,
in the forward direction:

.. math::  (a + \dot a\varepsilon)(b + \dot b\varepsilon) = ab + (\dot a b + a\dot b)\varepsilon,
           \qquad f(a + \dot a\varepsilon) = f(a) + f'(a)\,\dot a\,\varepsilon .

Seeding the inputs with tangent :math:`v` gives the Jacobian-vector product :math:`J v` in one
pass (:func:`jvp`). Reverse mode (:class:`~backprop_lib.engine.Value`) gives the vector-Jacobian
product :math:`u^\top J` in one backward pass. So for :math:`f:\mathbb R^n\to\mathbb R` the
gradient costs ``n`` forward-mode passes (one per input direction) but one reverse pass; for
:math:`g:\mathbb R\to\mathbb R^m` it is the other way round (Baydin et al. 2018, section 3).

A function to differentiate takes a list of scalars and returns a scalar (or a list of scalars)
using only ``+ - * / **``, ``tanh``, ``exp`` and ``relu``, so it runs on floats, ``Dual`` and ``Value``.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Callable, Sequence

from .engine import Value

__all__ = [
    "Dual",
    "jvp",
    "gradient_forward",
    "gradient_reverse",
    "derivatives_forward",
    "derivatives_reverse",
    "sum_tanh_products",
    "tanh_fan_out",
    "time_modes",
]


class Dual:
    r"""A dual number :math:`a + \dot a\,\varepsilon`: ``value`` and ``tangent`` (the derivative carried forward)."""

    __slots__ = ("value", "tangent")
    __array_ufunc__ = None

    def __init__(self, value: float, tangent: float = 0.0):
        self.value = float(value)
        self.tangent = float(tangent)

    @staticmethod
    def _lift(other: object, op: str) -> "Dual":
        if isinstance(other, Dual):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Dual(float(other), 0.0)
        raise TypeError(f"unsupported operand for Dual {op}: {type(other).__name__}; expected a Dual, int or float")

    def __add__(self, other) -> "Dual":
        o = self._lift(other, "+")
        return Dual(self.value + o.value, self.tangent + o.tangent)

    def __mul__(self, other) -> "Dual":
        o = self._lift(other, "*")
        return Dual(self.value * o.value, self.tangent * o.value + self.value * o.tangent)

    def __sub__(self, other) -> "Dual":
        o = self._lift(other, "-")
        return Dual(self.value - o.value, self.tangent - o.tangent)

    def __truediv__(self, other) -> "Dual":
        o = self._lift(other, "/")
        q = self.value / o.value
        return Dual(q, (self.tangent - q * o.tangent) / o.value)

    def __pow__(self, n) -> "Dual":
        if isinstance(n, Dual):
            raise TypeError("Dual ** Dual is not supported: the exponent must be an int or float")
        return Dual(self.value ** n, n * self.value ** (n - 1) * self.tangent)

    def __neg__(self) -> "Dual":
        return Dual(-self.value, -self.tangent)

    def __radd__(self, other) -> "Dual":
        return self + other

    def __rmul__(self, other) -> "Dual":
        return self * other

    def __rsub__(self, other) -> "Dual":
        return self._lift(other, "-") - self

    def __rtruediv__(self, other) -> "Dual":
        return self._lift(other, "/") / self

    def tanh(self) -> "Dual":
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.tangent)

    def exp(self) -> "Dual":
        e = math.exp(self.value)
        return Dual(e, e * self.tangent)

    def relu(self) -> "Dual":
        on = self.value > 0.0
        return Dual(self.value if on else 0.0, self.tangent if on else 0.0)

    def __repr__(self) -> str:
        return f"Dual(value={self.value:.6g}, tangent={self.tangent:.6g})"


def _floats(x: Sequence[float], name: str) -> list[float]:
    try:
        out = [float(v) for v in x]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(x).__name__}") from None
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def jvp(f: Callable, x: Sequence[float], v: Sequence[float]):
    r"""``(f(x), J v)`` in ONE forward pass: the inputs are seeded ``Dual(x_i, v_i)``.

    For a scalar ``f`` the second entry is the directional derivative :math:`\nabla f \cdot v`;
    for a list-valued ``f`` it is the list :math:`J v`.
    """
    x, v = _floats(x, "x"), _floats(v, "v")
    if len(x) != len(v):
        raise ValueError(f"x and v must have the same length, got {len(x)} and {len(v)}")
    out = f([Dual(a, b) for a, b in zip(x, v)])
    if isinstance(out, (list, tuple)):
        return [o.value for o in out], [o.tangent for o in out]
    return out.value, out.tangent


def gradient_forward(f: Callable, x: Sequence[float]) -> list[float]:
    r""":math:`\nabla f(x)` of a scalar ``f`` by forward mode: ``n`` passes, one per unit direction :math:`e_i`."""
    x = _floats(x, "x")
    n = len(x)
    return [jvp(f, x, [1.0 if j == i else 0.0 for j in range(n)])[1] for i in range(n)]


def gradient_reverse(f: Callable, x: Sequence[float]) -> list[float]:
    r""":math:`\nabla f(x)` of a scalar ``f`` by reverse mode: one forward pass with ``Value``, one ``backward()``."""
    leaves = [Value(a) for a in _floats(x, "x")]
    f(leaves).backward()
    return [leaf.grad for leaf in leaves]


def derivatives_forward(g: Callable, t: float) -> list[float]:
    r""":math:`\mathrm d g_k/\mathrm d t` of ``g: R -> R^m`` by forward mode: ONE pass (seed ``Dual(t, 1)``)."""
    return [o.tangent for o in g([Dual(float(t), 1.0)])]


def derivatives_reverse(g: Callable, t: float) -> list[float]:
    r""":math:`\mathrm d g_k/\mathrm d t` of ``g: R -> R^m`` by reverse mode: one backward pass per output (``m``)."""
    out = []
    m = len(g([Value(float(t))]))
    for k in range(m):
        leaf = Value(float(t))
        g([leaf])[k].backward()
        out.append(leaf.grad)
    return out


def sum_tanh_products(x: Sequence) -> object:
    r""":math:`f(x) = \sum_i \tanh(x_i)\,x_{i+1}` (indices mod n): a scalar function of ``n`` inputs, O(n) ops."""
    n = len(x)
    total = x[0].tanh() * x[1 % n]
    for i in range(1, n):
        total = total + x[i].tanh() * x[(i + 1) % n]
    return total


def tanh_fan_out(t: Sequence, m: int = 8) -> list:
    r""":math:`g(t) = (\tanh(c_1 t), \dots, \tanh(c_m t))` with :math:`c_k = k/m`: one input, ``m`` outputs."""
    return [(t[0] * ((k + 1) / m)).tanh() for k in range(m)]


def time_modes(sizes: Sequence[int], repeat: int = 3, seed: int = 0) -> dict[str, list[float]]:
    """Best-of-``repeat`` seconds of both modes on both shapes, for every size in ``sizes``.

    ``grad_forward`` / ``grad_reverse``: the gradient of :func:`sum_tanh_products` with ``n`` inputs;
    ``out_forward`` / ``out_reverse``: the ``m`` derivatives of :func:`tanh_fan_out` with ``m`` outputs.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    result: dict[str, list[float]] = {k: [] for k in ("grad_forward", "grad_reverse", "out_forward", "out_reverse")}

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    for n in sizes:
        x = list(rng.normal(size=int(n)))
        result["grad_forward"].append(best(lambda x=x: gradient_forward(sum_tanh_products, x)))
        result["grad_reverse"].append(best(lambda x=x: gradient_reverse(sum_tanh_products, x)))
        g = lambda t, m=int(n): tanh_fan_out(t, m)  # noqa: E731
        result["out_forward"].append(best(lambda g=g: derivatives_forward(g, 0.3)))
        result["out_reverse"].append(best(lambda g=g: derivatives_reverse(g, 0.3)))
    return result
