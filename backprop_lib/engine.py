r"""A scalar reverse-mode autodiff engine: :class:`Value`.

Every arithmetic operation on a ``Value`` returns a new ``Value`` node that remembers

* ``inputs``      the nodes it was computed from,
* ``op``          the operation's name (``"+"``, ``"*"``, ``"tanh"``, ...),
* ``local_grads`` its *local backward rule*, evaluated during the forward pass:
  the partial derivatives :math:`\partial\,\text{out} / \partial\,\text{input}_i`
  (together with ``inputs``, this is the node's *cache*: what the forward pass stores
  for the backward pass),
* ``label``       an optional name for drawing.

:meth:`Value.backward` walks the graph from the output back to the leaves in reverse
topological order and applies the chain rule at every node

.. math:: \text{input}_i.\text{grad} \mathrel{+}= \frac{\partial\,\text{out}}{\partial\,\text{input}_i}\;\text{out.grad}

with ``+=``, so a node used by several others receives the *sum* of the gradients
arriving along every path. Addition passes ``out.grad`` unchanged to both inputs
(local derivatives 1 and 1); multiplication swaps (the local derivative for ``a`` in
``a * b`` is ``b`` and vice versa).

Compared with micrograd (which this follows closely): the topological sort is
iterative (a chain of 100,000 nodes works), each node stores a tuple of local
derivatives instead of a closure (faster to build and to walk), ``tanh``/``sigmoid``
are numerically stable, ``log`` of a non-positive number raises ``ValueError`` and an
unsupported operand raises ``TypeError``.

Example::

    x, y = Value(0.5, label="x"), Value(-1.5, label="y")
    f = (x * y + x ** 2 / y).tanh()
    f.backward()          # f.grad = 1, then every node's .grad
    x.grad, y.grad        # (-1.02996, 0.18486): tanh is at -0.72, far from saturation
"""

from __future__ import annotations

import math
import numbers
from typing import Union

__all__ = ["Value", "topological_order"]

Number = Union[int, float]


def _as_float(x: object, name: str) -> float:
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"{name} must be a real number (int or float), got {type(x).__name__} {x!r}")


class Value:
    """One scalar node of a computational graph.

    Parameters
    ----------
    data : float
        The value computed in the forward pass (stored as a Python float, i.e. float64).
    label : str, optional
        A name shown by :func:`backprop_lib.plotting.draw_graph`.

    Attributes
    ----------
    grad : float
        :math:`\\partial\\,\\text{root} / \\partial\\,\\text{self}` after ``root.backward()``.
    inputs : tuple[Value, ...]
        The nodes this one was computed from (empty for a leaf).
    local_grads : tuple[float, ...]
        :math:`\\partial\\,\\text{self} / \\partial\\,\\text{inputs}[i]`, one per input.
    op : str
        Name of the operation that produced this node ("" for a leaf).
    """

    __slots__ = ("data", "grad", "inputs", "local_grads", "op", "label")
    __array_ufunc__ = None  # numpy scalars defer to Value's reflected operators

    def __init__(self, data: Number, inputs: tuple = (), local_grads: tuple = (), op: str = "", label: str = ""):
        self.data = data if type(data) is float else _as_float(data, "Value data")
        self.grad = 0.0
        self.inputs = inputs
        self.local_grads = local_grads
        self.op = op
        self.label = label

    # ------------------------------------------------------------------ operations
    # Each operation: compute the result, store the local derivatives, done.

    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "+")
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "*")
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __sub__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "-")
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else _lift(other, "/")
        b = other.data
        if b == 0.0:
            raise ZeroDivisionError(f"Value division by zero: {self.data!r} / {b!r}")
        out = self.data / b
        return Value(out, (self, other), (1.0 / b, -out / b), "/")

    def __pow__(self, n: Number) -> Value:
        """``self ** n`` for a number ``n``: local derivative :math:`n x^{n-1}`."""
        if isinstance(n, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be an int or float "
                            "(for x ** y with a Value y write (y * x.log()).exp())")
        n = _as_float(n, "exponent")
        x = self.data
        if x < 0.0 and not n.is_integer():
            raise ValueError(f"Value ** {n!r}: a negative base ({x!r}) needs an integer exponent")
        if x == 0.0 and n < 1.0 and n != 0.0:
            raise ValueError(f"Value ** {n!r} at 0.0: the derivative n * x**(n-1) is infinite")
        local = 0.0 if n == 0.0 else n * x ** (n - 1.0)
        return Value(x ** n, (self,), (local,), f"**{n:g}")

    def __neg__(self) -> Value:
        return Value(-self.data, (self,), (-1.0,), "neg")

    def exp(self) -> Value:
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}) overflows float64 (exp of more than ~709)") from None
        return Value(out, (self,), (out,), "exp")

    def log(self) -> Value:
        """Natural logarithm; local derivative :math:`1/x`. Raises ValueError for x <= 0."""
        x = self.data
        if not x > 0.0:
            raise ValueError(f"log is only defined for positive values, got Value(data={x!r})")
        return Value(math.log(x), (self,), (1.0 / x,), "log")

    def tanh(self) -> Value:
        """:math:`\\tanh x`; local derivative :math:`1 - \\tanh^2 x` (finite for any x)."""
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """:math:`\\sigma(x) = 1/(1+e^{-x})`, computed without overflow; derivative :math:`\\sigma(1-\\sigma)`."""
        x = self.data
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """:math:`\\max(0, x)`; local derivative 1 for x > 0, else 0."""
        x = self.data
        return Value(x if x > 0.0 else 0.0, (self,), (1.0 if x > 0.0 else 0.0,), "relu")

    # reflected operators: 2 + x, 2 * x, 2 - x, 2 / x, 2 ** x
    def __radd__(self, other: Number) -> Value:
        return _lift(other, "+") + self

    def __rmul__(self, other: Number) -> Value:
        return _lift(other, "*") * self

    def __rsub__(self, other: Number) -> Value:
        return _lift(other, "-") - self

    def __rtruediv__(self, other: Number) -> Value:
        return _lift(other, "/") / self

    def __rpow__(self, base: Number) -> Value:
        """``base ** self`` for a positive number ``base``: :math:`e^{x \\ln c}`, derivative :math:`c^x \\ln c`."""
        c = _lift(base, "**").data
        if not c > 0.0:
            raise ValueError(f"number ** Value needs a positive base, got {c!r}")
        out = c ** self.data
        return Value(out, (self,), (out * math.log(c),), f"{c:g}**")

    # ------------------------------------------------------------------ backward pass

    def backward(self) -> None:
        """Fill ``.grad`` of every node of the graph with :math:`\\partial\\,\\text{self}/\\partial\\,\\text{node}`.

        Seeds ``self.grad = 1``, then visits the nodes in reverse topological order and
        applies ``input.grad += local_grad * node.grad``. Like PyTorch, the gradients of
        *leaves* (inputs and parameters) accumulate across calls: call :meth:`zero_grad`
        (or set ``p.grad = 0`` for each parameter) between training steps. Gradients of
        intermediate nodes are recomputed from scratch on every call.
        """
        order = topological_order(self)
        for node in order:
            if node.inputs:
                node.grad = 0.0
        self.grad = 1.0
        # The rule, for every node from the root down: child.grad += local * node.grad for each
        # (child, local) in zip(node.inputs, node.local_grads); += because a node may feed several.
        # Written out for one and two inputs: the zip loop makes backward 1.2-1.3x slower
        # (bench/engine.py's MLP, 29 ms vs 36-38 ms; micrograd takes 36 ms).
        for node in reversed(order):
            g = node.grad
            if len(node.inputs) == 2:
                (a, b), (da, db) = node.inputs, node.local_grads
                a.grad += da * g
                b.grad += db * g
            elif node.inputs:
                node.inputs[0].grad += node.local_grads[0] * g

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on every node of the graph that ends at this node."""
        for node in topological_order(self):
            node.grad = 0.0

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _lift(x: object, op: str) -> Value:
    """Wrap a plain number as a leaf; anything else is a TypeError naming the operand."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(
        f"unsupported operand for Value {op}: {type(x).__name__} {x!r:.40}; expected a Value, int or float"
    )


def topological_order(root: Value) -> list[Value]:
    """Every node of the graph ending at ``root``, each once, inputs before the nodes that use them.

    An iterative depth-first search (explicit stack, no recursion), so a chain of any
    length works. ``root`` is last; walking the list backwards visits every node after
    all the nodes that use it, which is the order backpropagation needs.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    order: list[Value] = []
    visited = {root}
    stack = [(root, iter(root.inputs))]  # (node, iterator over the inputs still to visit)
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in visited:
                visited.add(child)
                if child.inputs:  # descend into it
                    stack.append((child, iter(child.inputs)))
                    break
                order.append(child)  # a leaf is finished at once
        else:  # all inputs done: the node itself comes next
            stack.pop()
            order.append(node)
    return order
