"""Batch norm and layer norm: the compact backward against central differences and against PyTorch, the
forward's statistics, bad input, extreme input, and the gradient-flow experiment of notebook 04."""

import warnings

import numpy as np
import pytest

from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.normalization import (batchnorm_backward, batchnorm_forward, layernorm_backward, layernorm_forward,
                                        norm_gradient_flow)

PAIRS = {"batch": (batchnorm_forward, batchnorm_backward, 0), "layer": (layernorm_forward, layernorm_backward, 1)}


def case(seed=0, N=6, D=5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, D)) * 3 + 2, rng.standard_normal(D), rng.standard_normal(D),
            rng.standard_normal((N, D)))


@pytest.mark.parametrize("kind", PAIRS)
def test_forward_output_has_zero_mean_and_unit_population_variance_before_gamma_beta(kind):
    fwd, _, axis = PAIRS[kind]
    x, _, _, _ = case()
    out, _ = fwd(x, np.ones(5), np.zeros(5), eps=1e-12)
    np.testing.assert_allclose(out.mean(axis=axis), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=axis), 1, rtol=1e-9)  # np.var divides by M: the population variance


@pytest.mark.parametrize("kind", PAIRS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_matches_central_differences(kind, seed):
    fwd, bwd, _ = PAIRS[kind]
    x, gamma, beta, dout = case(seed)
    _, cache = fwd(x, gamma, beta)
    dx, dgamma, dbeta = bwd(dout, cache)
    def loss(x_, g_, b_):
        return float(np.sum(fwd(x_, g_, b_)[0] * dout))

    assert rel_error(dx, numerical_gradient(lambda v: loss(v, gamma, beta), x.copy())) < 1e-7
    assert rel_error(dgamma, numerical_gradient(lambda v: loss(x, v, beta), gamma.copy())) < 1e-7
    assert rel_error(dbeta, numerical_gradient(lambda v: loss(x, gamma, v), beta.copy())) < 1e-7


def test_batchnorm_dx_sums_to_zero_over_the_batch():
    """The mean's path: shifting every example by the same amount does not change the output."""
    x, gamma, beta, dout = case(3)
    dx, _, _ = batchnorm_backward(dout, batchnorm_forward(x, gamma, beta)[1])
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-12)


@pytest.mark.parametrize("kind", PAIRS)
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    fwd, bwd, _ = PAIRS[kind]
    x, gamma, beta, dout = case(4, N=8, D=6)
    out, cache = fwd(x, gamma, beta, eps=1e-5)
    dx, dgamma, dbeta = bwd(dout, cache)
    tx = torch.tensor(x, requires_grad=True)
    if kind == "batch":
        layer = torch.nn.BatchNorm1d(6, eps=1e-5, dtype=torch.float64)
    else:
        layer = torch.nn.LayerNorm(6, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(gamma))
        layer.bias.copy_(torch.tensor(beta))
    layer.train()
    tout = layer(tx)
    tout.backward(torch.tensor(dout))
    for ours, theirs in ((out, tout), (dx, tx.grad), (dgamma, layer.weight.grad), (dbeta, layer.bias.grad)):
        assert rel_error(ours, theirs.detach().numpy()) < 1e-10


@pytest.mark.parametrize("kind", PAIRS)
def test_inputs_are_not_modified_and_constant_features_give_finite_gradients(kind):
    fwd, bwd, _ = PAIRS[kind]
    x = np.full((4, 3), 1e8)  # zero variance: only eps keeps 1/sqrt(var + eps) finite
    x_copy = x.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = fwd(x, np.ones(3), np.zeros(3))
        dx, dg, db = bwd(np.ones((4, 3)), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    np.testing.assert_array_equal(x, x_copy)


@pytest.mark.parametrize("call, error, match", [
    (lambda: batchnorm_forward(np.zeros((1, 3)), np.ones(3), np.zeros(3)), ValueError, "at least 2 examples"),
    (lambda: layernorm_forward(np.zeros((4, 1)), np.ones(1), np.zeros(1)), ValueError, "at least 2 features"),
    (lambda: batchnorm_forward(np.zeros((4, 3)), np.ones(4), np.zeros(3)), ValueError, r"gamma must have shape \(3,\)"),
    (lambda: layernorm_forward(np.zeros((4, 3)), np.ones(3), np.zeros((1, 3))), ValueError, "beta must have shape"),
    (lambda: batchnorm_forward(np.zeros(3), np.ones(3), np.zeros(3)), ValueError, r"x must have shape \(N, D\)"),
    (lambda: batchnorm_forward(np.zeros((4, 3), dtype=int), np.ones(3), np.zeros(3)), TypeError, "x must be a float"),
    (lambda: batchnorm_forward([[1.0, 2.0]], np.ones(2), np.zeros(2)), TypeError, "x must be a numpy array"),
    (lambda: layernorm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3), eps=0), ValueError, "eps"),
    (lambda: batchnorm_forward(np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2), np.zeros(2)), ValueError, "NaN"),
    (lambda: batchnorm_backward(np.zeros((4, 2)), batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3))[1]),
     ValueError, "dout must have"),
    (lambda: norm_gradient_flow(np.zeros((4, 3)), np.zeros(4, int), norm="group"), ValueError, "norm must be one of"),
    (lambda: norm_gradient_flow(np.zeros((4, 3)), np.zeros(4, int), depth=0), ValueError, "depth"),
])
def test_bad_input_is_rejected_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gradient_flow_weight_norms_match_finite_differences_of_the_first_layer():
    """The experiment's own backward pass: the first layer's gradient norm against central differences."""
    from backprop_lib.init import init_weights
    from backprop_lib.losses import softmax_cross_entropy
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 4)), np.array([0, 1, 2, 0, 1, 2])
    for norm in ("none", "batch", "layer"):
        flow = norm_gradient_flow(X, y, depth=3, width=5, activation="tanh", init="xavier", norm=norm, seed=1)
        r = np.random.default_rng(1)
        Ws = [init_weights("xavier", a, b, r) for a, b in ((4, 5), (5, 5), (5, 5), (5, 3))]

        def loss(W1, Ws=Ws, norm=norm):
            a = X
            for W in [W1] + Ws[1:-1]:
                z = a @ W.T
                if norm == "batch":
                    z = batchnorm_forward(z, np.ones(5), np.zeros(5))[0]
                elif norm == "layer":
                    z = layernorm_forward(z, np.ones(5), np.zeros(5))[0]
                a = np.tanh(z)
            return softmax_cross_entropy(a @ Ws[-1].T, y)[0]

        fd = numerical_gradient(loss, Ws[0].copy())
        assert flow.weight_norms[0] == pytest.approx(np.linalg.norm(fd), rel=1e-7), norm
