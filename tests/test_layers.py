"""Layer forward/backward pairs against finite differences."""

import numpy as np
import pytest

from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.layers import (activation_backward, activation_forward, linear_backward, linear_forward,
                                 residual_backward, residual_forward)

rng = np.random.default_rng(0)


def _scalar_loss(out, w):
    return float(np.sum(w * out))


def test_linear_forward_shapes_and_values():
    x, W, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    out, _ = linear_forward(x, W, b)
    assert out.shape == (5, 4)
    assert np.allclose(out, np.einsum("ni,oi->no", x, W) + b)


def test_linear_backward_matches_finite_differences():
    x, W, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    w = rng.standard_normal((5, 4))
    _, cache = linear_forward(x, W, b)
    dx, dW, db = linear_backward(w, cache)
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape
    f = lambda: _scalar_loss(linear_forward(x, W, b)[0], w)  # noqa: E731
    assert rel_error(dx, numerical_gradient(lambda _: f(), x)) <= 1e-7
    assert rel_error(dW, numerical_gradient(lambda _: f(), W)) <= 1e-7
    assert rel_error(db, numerical_gradient(lambda _: f(), b)) <= 1e-7


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_activation_backward_matches_finite_differences(name):
    z = rng.uniform(-2, 2, size=(4, 3))
    z[np.abs(z) < 1e-2] = 0.3
    w = rng.standard_normal(z.shape)
    _, cache = activation_forward(z, name)
    dz = activation_backward(w, cache)
    num = numerical_gradient(lambda zz: _scalar_loss(activation_forward(zz, name)[0], w), z.copy())
    assert rel_error(dz, num) <= 1e-7


@pytest.mark.parametrize("name", ["tanh", "relu"])
def test_residual_backward_matches_finite_differences(name):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    w = rng.standard_normal((5, 4))
    _, cache = residual_forward(x, W, b, name, scale=0.5)
    dx, dW, db = residual_backward(w, cache)
    f = lambda _: _scalar_loss(residual_forward(x, W, b, name, scale=0.5)[0], w)  # noqa: E731
    for grad, arr in ((dx, x), (dW, W), (db, b)):
        assert rel_error(grad, numerical_gradient(f, arr)) <= 1e-7


def test_layers_do_not_mutate_inputs():
    x, W, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    copies = [a.copy() for a in (x, W, b)]
    out, cache = linear_forward(x, W, b)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    linear_backward(dout, cache)
    a, acache = activation_forward(out, "relu")
    activation_backward(dout, acache)
    for before, after in zip(copies, (x, W, b)):
        assert np.array_equal(before, after)
    assert np.array_equal(dout, dout_copy)
