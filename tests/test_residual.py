"""Residual blocks a = x + s f(x W^T + b): finite differences and PyTorch parity."""

import numpy as np
import pytest

from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.layers import residual_backward, residual_forward
from backprop_lib.mlp import MLP


def _block_case(seed, N=5, n=4):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, n)), rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n),
            rng.standard_normal((N, n)))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "leaky_relu"])
@pytest.mark.parametrize("scale", [1.0, 0.3])
def test_residual_backward_matches_finite_differences(activation, scale):
    x, W, b, dout = _block_case(0)
    if activation in ("relu", "leaky_relu"):  # keep pre-activations away from the kink at 0
        z = x @ W.T + b
        b = b + np.where(np.abs(z).min(axis=0) < 0.05, 0.2, 0.0)
    _, cache = residual_forward(x, W, b, activation, scale)
    dx, dW, db = residual_backward(dout, cache)

    def loss(_):
        return float(np.sum(residual_forward(x, W, b, activation, scale)[0] * dout))

    for analytic, arr in ((dx, x), (dW, W), (db, b)):
        assert rel_error(analytic, numerical_gradient(loss, arr)) < 1e-7


def test_residual_backward_identity_path_carries_dout_when_branch_is_off():
    x, W, b, dout = _block_case(1)
    _, cache = residual_forward(x, W, b, "tanh", scale=0.0)
    dx, dW, db = residual_backward(dout, cache)
    np.testing.assert_array_equal(dx, dout)
    assert not dW.any() and not db.any()


def test_residual_forward_rejects_non_square_weight():
    with pytest.raises(ValueError, match="square"):
        residual_forward(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(4))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_residual_mlp_gradients_match_finite_differences(activation):
    rng = np.random.default_rng(3)
    net = MLP([5, 4, 4, 4, 3], activation=activation, init="xavier", seed=3, bias_std=0.3, residual=True,
              residual_scale=0.5)
    assert net.residual == (False, True, True, False)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, size=6)
    _, grads = net.loss_and_grads(X, y)
    for k, p in net.params.items():
        num = numerical_gradient(lambda _: net.loss(X, y), p)
        assert rel_error(grads[k], num) < 1e-7, k


# ------------------------------------------------------------------------------------------ PyTorch


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_residual_block_matches_torch(activation, scale):
    torch = pytest.importorskip("torch")
    x, W, b, dout = _block_case(4, N=7, n=6)
    out, cache = residual_forward(x, W, b, activation, scale)
    dx, dW, db = residual_backward(dout, cache)

    tx, tW, tb = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, W, b))
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    tout = tx + scale * f(torch.nn.functional.linear(tx, tW, tb))
    tout.backward(torch.tensor(dout, dtype=torch.float64))
    assert rel_error(out, tout.detach().numpy()) <= 1e-10
    for mine, theirs in ((dx, tx), (dW, tW), (db, tb)):
        assert rel_error(mine, theirs.grad.numpy()) <= 1e-10


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_deep_residual_mlp_matches_torch(activation):
    torch = pytest.importorskip("torch")
    depth, width, s = 12, 8, 1 / np.sqrt(12)
    net = MLP([5] + [width] * depth + [3], activation=activation, init="he", seed=5, bias_std=0.1,
              residual=True, residual_scale=s)
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((9, 5)), rng.integers(0, 3, size=9)
    loss, grads = net.loss_and_grads(X, y)

    f = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in net.params.items()}
    a = torch.tensor(X, dtype=torch.float64)
    L = net.n_layers
    for l in range(1, L + 1):
        z = torch.nn.functional.linear(a, params[f"W{l}"], params[f"b{l}"])
        if l == L:
            a = z
        elif net.residual[l - 1]:
            a = a + s * f(z)
        else:
            a = f(z)
    tloss = torch.nn.functional.cross_entropy(a, torch.tensor(y))
    tloss.backward()
    assert abs(loss - tloss.item()) <= 1e-10 * abs(loss)
    for k in net.params:
        assert rel_error(grads[k], params[k].grad.numpy()) <= 1e-10, k
