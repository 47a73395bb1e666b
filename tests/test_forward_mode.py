"""Dual numbers: every operation's tangent equals the reverse-mode derivative of the same expression."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_lib.engine import Value
from backprop_lib.forward_mode import Dual, derivatives_forward, gradient_forward, gradient_reverse, jvp

OPS = [
    ("a + b", lambda a, b: a + b),
    ("a * b", lambda a, b: a * b),
    ("a - b", lambda a, b: a - b),
    ("a / b", lambda a, b: a / b),
    ("a ** 3", lambda a, b: a ** 3),
    ("b ** -2", lambda a, b: b ** -2),
    ("-a", lambda a, b: -a),
    ("2.5 - a", lambda a, b: 2.5 - a),
    ("2.5 / b", lambda a, b: 2.5 / b),
    ("3 + a * 2", lambda a, b: 3 + a * 2),
    ("tanh(a * b)", lambda a, b: (a * b).tanh()),
    ("exp(a) * b", lambda a, b: a.exp() * b),
    ("relu(a) + relu(b)", lambda a, b: a.relu() + b.relu()),
    ("a * a + a", lambda a, b: a * a + a),
]


@pytest.mark.parametrize("name, f", OPS, ids=[name for name, _ in OPS])
def test_dual_tangent_matches_reverse_mode(name, f):
    for a, b in [(0.7, -1.3), (-0.4, 2.1)]:
        g = gradient_reverse(lambda x: f(x[0], x[1]), [a, b])
        value, tangent = jvp(lambda x: f(x[0], x[1]), [a, b], [1.0, 0.0])
        assert math.isclose(tangent, g[0], rel_tol=1e-13, abs_tol=1e-15)
        _, tangent_b = jvp(lambda x: f(x[0], x[1]), [a, b], [0.0, 1.0])
        assert math.isclose(tangent_b, g[1], rel_tol=1e-13, abs_tol=1e-15)
        assert math.isclose(value, f(Value(a), Value(b)).data, rel_tol=1e-15)


def test_gradient_forward_matches_finite_differences():
    from backprop_lib.gradcheck import central_difference

    f = lambda x: (x[0] * x[1]).tanh() + x[2].exp() * x[0]  # noqa: E731
    x = [0.3, -0.8, 0.5]
    g = gradient_forward(f, x)
    for i in range(3):
        def fi(t, i=i):
            y = list(x)
            y[i] = t
            return ((y[0] * y[1]).tanh() + y[2].exp() * y[0]) if isinstance(y[0], Value) else (
                math.tanh(y[0] * y[1]) + math.exp(y[2]) * y[0])
        assert math.isclose(g[i], central_difference(fi, x[i]), rel_tol=1e-7)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same length"):
        jvp(lambda x: x[0], [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="Dual"):
        Dual(1.0) + "a"
    with pytest.raises(ValueError, match="x must not be empty"):
        gradient_forward(lambda x: x, [])


def test_derivatives_forward_of_a_vector_function():
    d = derivatives_forward(lambda t: [t[0] * 2.0, t[0].tanh(), t[0] ** 2], 0.5)
    assert np.allclose(d, [2.0, 1 - math.tanh(0.5) ** 2, 1.0], rtol=1e-14)
