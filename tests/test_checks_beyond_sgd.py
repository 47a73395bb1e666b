"""The checks of exercises/06_beyond_sgd.ipynb: right answers pass, typical mistakes get their hint."""

import numpy as np
import pytest

from backprop_lib.checks import registry
from backprop_lib.checks.beyond_sgd import (check_opt_adam_step, check_opt_cosine_lr, check_opt_momentum_step,
                                            check_opt_weight_decay_grads, check_pipe_stage_backward)


def _stub(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


def _passes(check, fn):
    result = check.run(fn)
    assert result.status == "pass", result.message
    assert result.score == result.max_score == 1


def _fails_with(check, fn, *fragments):
    result = check.run(fn)
    assert result.status in ("fail", "error"), result.message
    assert result.score == 0
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result.message


# --------------------------------------------------------------------------- reference solutions


def momentum_step(w, grad, velocity, lr, momentum):
    v = momentum * velocity + grad
    return w - lr * v, v


def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / t_max))


def weight_decay_grads(params, grads, weight_decay):
    return {k: g + weight_decay * params[k] if k.startswith("W") else g for k, g in grads.items()}


def stage_backward(da, a_received, z, W, act_grad):
    delta = da * act_grad(z)
    return delta @ W, delta.T @ a_received, delta.sum(axis=0)


# --------------------------------------------------------------------------- tests


def test_the_tasks_are_registered_with_one_point_each():
    tasks = registry()
    for name in ("opt_momentum_step", "opt_adam_step", "opt_cosine_lr", "opt_weight_decay_grads",
                 "pipe_stage_backward"):
        assert tasks[name].points == 1


@pytest.mark.parametrize("check, fn", [(check_opt_momentum_step, momentum_step), (check_opt_adam_step, adam_step),
                                       (check_opt_cosine_lr, cosine_lr),
                                       (check_opt_weight_decay_grads, weight_decay_grads),
                                       (check_pipe_stage_backward, stage_backward)])
def test_reference_solutions_pass_and_stubs_are_not_implemented(check, fn):
    _passes(check, fn)
    assert check.run(_stub).status == "not_implemented"


def test_momentum_with_the_raw_gradient_in_the_update_is_named():
    def wrong(w, grad, velocity, lr, momentum):
        v = momentum * velocity + grad
        return w - lr * grad, v
    _fails_with(check_opt_momentum_step, wrong, "raw gradient")


def test_momentum_that_forgets_its_state_is_caught_on_the_second_call():
    def wrong(w, grad, velocity, lr, momentum):
        v = momentum * np.zeros_like(velocity) + grad  # ignores the velocity it is given
        return w - lr * v, v
    _fails_with(check_opt_momentum_step, wrong, "step 2", "carried over")


def test_momentum_as_an_average_is_named():
    def wrong(w, grad, velocity, lr, momentum):
        v = momentum * velocity + (1 - momentum) * grad
        return w - lr * v, v
    _fails_with(check_opt_momentum_step, wrong, "undamped")


def test_momentum_that_updates_the_input_in_place_is_caught():
    def wrong(w, grad, velocity, lr, momentum):
        velocity *= momentum
        velocity += grad
        return w - lr * velocity, velocity
    _fails_with(check_opt_momentum_step, wrong, "in place")


def test_adam_without_bias_correction_is_named():
    def wrong(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return w - lr * m / (np.sqrt(v) + eps), m, v
    _fails_with(check_opt_adam_step, wrong, "bias correction")


def test_adam_stepping_with_the_raw_gradient_is_named():
    def wrong(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return w - lr * grad / (np.sqrt(v / (1 - beta2**t)) + eps), m, v
    _fails_with(check_opt_adam_step, wrong, "raw gradient")


def test_adam_that_restarts_its_moments_every_step_is_named():
    def wrong(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = (1 - beta1) * grad
        v = (1 - beta2) * grad**2
        return w - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v
    _fails_with(check_opt_adam_step, wrong, "t=2", "not carried over")


def test_adam_with_eps_inside_the_root_is_named():
    def wrong(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return w - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v
    _fails_with(check_opt_adam_step, wrong, "eps goes outside")


def test_adam_returning_a_pair_gets_a_shape_of_return_hint():
    _fails_with(check_opt_adam_step, lambda w, g, m, v, *a: (w, m), "(w_new, m_new, v_new)")


@pytest.mark.parametrize("wrong, fragment", [
    (lambda lr0, e, T, eta_min=0.0: eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * e / T)), "1/2"),
    (lambda lr0, e, T, eta_min=0.0: eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(e / T)), "pi"),
    (lambda lr0, e, T, eta_min=0.0: 0.5 * lr0 * (1 + np.cos(np.pi * e / T)), "floor"),
    (lambda lr0, e, T, eta_min=0.0: eta_min + 0.5 * (lr0 - eta_min) * (1 - np.cos(np.pi * e / T)), "reversed"),
])
def test_cosine_schedule_mistakes_are_named(wrong, fragment):
    _fails_with(check_opt_cosine_lr, wrong, fragment)


def test_weight_decay_on_biases_is_named():
    def wrong(params, grads, weight_decay):
        return {k: g + weight_decay * params[k] for k, g in grads.items()}
    _fails_with(check_opt_weight_decay_grads, wrong, "bias")


def test_weight_decay_with_the_wrong_sign_is_named():
    def wrong(params, grads, weight_decay):
        return {k: g - weight_decay * params[k] if k.startswith("W") else g for k, g in grads.items()}
    _fails_with(check_opt_weight_decay_grads, wrong, "sign")


def test_weight_decay_that_mutates_the_grads_is_caught():
    def wrong(params, grads, weight_decay):
        for k in grads:
            if k.startswith("W"):
                grads[k] += weight_decay * params[k]
        return grads
    _fails_with(check_opt_weight_decay_grads, wrong, "in place")


def test_stage_backward_without_the_activation_derivative_is_named():
    def wrong(da, a_received, z, W, act_grad):
        return da @ W, da.T @ a_received, da.sum(axis=0)
    _fails_with(check_pipe_stage_backward, wrong, "activation's derivative")


def test_stage_backward_sending_delta_instead_of_its_product_with_W_is_named():
    def wrong(da, a_received, z, W, act_grad):
        delta = da * act_grad(z)
        return delta, delta.T @ a_received, delta.sum(axis=0)
    _fails_with(check_pipe_stage_backward, wrong, "delta @ W")


def test_stage_backward_with_a_mean_bias_gradient_is_named():
    def wrong(da, a_received, z, W, act_grad):
        delta = da * act_grad(z)
        return delta @ W, delta.T @ a_received, delta.mean(axis=0)
    _fails_with(check_pipe_stage_backward, wrong, "SUM")


def test_stage_backward_with_a_transposed_weight_gradient_gets_the_transpose_hint():
    def wrong(da, a_received, z, W, act_grad):
        delta = da * act_grad(z)
        return delta @ W, a_received.T @ delta, delta.sum(axis=0)
    _fails_with(check_pipe_stage_backward, wrong, "transpose")
