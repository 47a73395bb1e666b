"""The notebook 04 checks: reference solutions pass, typical mistakes get their hint, stubs are TODO."""

import numpy as np
import pytest

from backprop_lib.checks import vanishing_gradients as vg

from check_helpers import fails_with, stub


# ----------------------------------------------------------------- reference solutions (as in solutions/04)

def chain_bound(weights, activation):
    c = 0.25 if activation == "sigmoid" else 1.0
    return float(np.prod(np.abs(weights)) * c ** len(weights))


def scaled_init(kind, n_in, n_out, rng):
    var = 2.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_in
    return np.sqrt(var) * rng.standard_normal((n_out, n_in))


def grad_norms(weights, zs, activations, delta_out, act_grad):
    L = len(weights)
    norms = [0.0] * L
    delta = delta_out
    for l in range(L, 0, -1):
        norms[l - 1] = np.linalg.norm(delta.T @ activations[l - 1])
        if l > 1:
            delta = (delta @ weights[l - 1]) * act_grad(zs[l - 2])
    return np.array(norms)


def clip(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    f = min(1.0, max_norm / norm)
    return {k: g * f for k, g in grads.items()}


def res_backward(dout, x, W, b, scale):
    z = x @ W.T + b
    dz = scale * dout * (1 - np.tanh(z) ** 2)
    return dout + dz @ W, dz.T @ x, dz.sum(axis=0)


def bn_backward(dout, x, gamma, eps):
    N = x.shape[0]
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    g = dout * gamma
    return inv_std / N * (N * g - g.sum(axis=0) - xhat * np.sum(g * xhat, axis=0)), (dout * xhat).sum(0), dout.sum(0)


CASES = {
    vg.check_sigmoid_chain_bound: chain_bound,
    vg.check_scaled_init: scaled_init,
    vg.check_per_layer_grad_norms: grad_norms,
    vg.check_clip_by_global_norm: clip,
    vg.check_residual_block_backward: res_backward,
    vg.check_batchnorm_backward: bn_backward,
}


@pytest.mark.parametrize("check", list(CASES), ids=lambda c: c.task)
def test_reference_solution_passes(check):
    result = check.run(CASES[check])
    assert result.status == "pass", result.message


@pytest.mark.parametrize("check", list(CASES), ids=lambda c: c.task)
def test_untouched_stub_is_not_implemented(check):
    assert check.run(stub).status == "not_implemented"


def _fails_with(check, fn, fragment):
    fails_with(check, fn, fragment, statuses=("fail",))


# ----------------------------------------------------------------- typical mistakes

def test_chain_bound_with_one_half_gets_the_slope_hint():
    _fails_with(vg.check_sigmoid_chain_bound,
                lambda w, a: float(np.prod(np.abs(w)) * (0.5 if a == "sigmoid" else 1.0) ** len(w)), "1/2 is sigma(0)")


def test_chain_bound_without_abs_gets_the_sign_hint():
    _fails_with(vg.check_sigmoid_chain_bound,
                lambda w, a: float(np.prod(w) * (0.25 if a == "sigmoid" else 1.0) ** len(w)), "use |w_l|")


def test_chain_bound_with_quarter_for_tanh_gets_the_tanh_hint():
    _fails_with(vg.check_sigmoid_chain_bound, lambda w, a: float(np.prod(np.abs(w)) * 0.25 ** len(w)), "at most 1")


def test_init_with_variance_instead_of_std_is_named():
    def wrong(kind, n_in, n_out, rng):
        var = 2.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_in
        return var * rng.standard_normal((n_out, n_in))
    _fails_with(vg.check_scaled_init, wrong, "variance where the standard deviation")


def test_he_init_with_fans_swapped_is_named():
    def wrong(kind, n_in, n_out, rng):
        var = 2.0 / (n_in + n_out) if kind == "xavier" else 2.0 / n_out
        return np.sqrt(var) * rng.standard_normal((n_out, n_in))
    _fails_with(vg.check_scaled_init, wrong, "fan_in and fan_out are swapped")


def test_init_with_transposed_shape_is_named():
    _fails_with(vg.check_scaled_init, lambda k, i, o, rng: scaled_init(k, i, o, rng).T.copy(), "(n_out, n_in)")


def test_init_ignoring_rng_is_named():
    def wrong(kind, n_in, n_out, rng):
        return scaled_init(kind, n_in, n_out, np.random.default_rng())
    _fails_with(vg.check_scaled_init, wrong, "from the `rng` argument")


def test_grad_norms_without_activation_derivative_is_named():
    _fails_with(vg.check_per_layer_grad_norms, lambda W, z, a, d, f: grad_norms(W, z, a, d, lambda z: np.ones_like(z)),
                "derivative")


def test_grad_norms_in_reverse_order_is_named():
    _fails_with(vg.check_per_layer_grad_norms, lambda *args: grad_norms(*args)[::-1], "wrong order")


def test_grad_norms_squared_is_named():
    _fails_with(vg.check_per_layer_grad_norms, lambda *args: grad_norms(*args) ** 2, "squared norms")


def test_clipping_each_tensor_separately_is_named():
    def wrong(grads, c):
        return {k: g * min(1.0, c / np.linalg.norm(g)) for k, g in grads.items()}
    _fails_with(vg.check_clip_by_global_norm, wrong, "each tensor separately")


def test_clipping_that_always_rescales_is_named():
    def wrong(grads, c):
        norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        return {k: g * c / norm for k, g in grads.items()}
    _fails_with(vg.check_clip_by_global_norm, wrong, "only scale when")


def test_clipping_in_place_is_named():
    def wrong(grads, c):
        norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        for g in grads.values():
            g *= min(1.0, c / norm)
        return grads
    _fails_with(vg.check_clip_by_global_norm, wrong, "in place")


def test_residual_backward_without_identity_path_is_named():
    def wrong(dout, x, W, b, s):
        dx, dW, db = res_backward(dout, x, W, b, s)
        return dx - dout, dW, db
    _fails_with(vg.check_residual_block_backward, wrong, "identity path")


def test_residual_backward_without_scale_is_named():
    _fails_with(vg.check_residual_block_backward, lambda dout, x, W, b, s: res_backward(dout, x, W, b, 1.0), "scale s")


def test_residual_backward_without_tanh_derivative_is_named():
    def wrong(dout, x, W, b, s):
        dz = s * dout
        return dout + dz @ W, dz.T @ x, dz.sum(axis=0)
    _fails_with(vg.check_residual_block_backward, wrong, "tanh'")


def test_grad_norms_divided_by_n_again_get_the_one_over_n_hint():
    def divided(weights, zs, activations, delta_out, act_grad):
        return grad_norms(weights, zs, activations, delta_out, act_grad) / delta_out.shape[0]

    _fails_with(vg.check_per_layer_grad_norms, divided, "do not divide by N again")
