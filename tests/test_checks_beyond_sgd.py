"""The checks of exercises/06_beyond_sgd.ipynb: what the answer table (tests/answers/nb06_beyond_sgd.py)
cannot say row by row: the stubs, the declared references, and how conventions are held."""

import numpy as np
import pytest

from backprop_lib.checks import registry
from backprop_lib.checks.beyond_sgd import (check_opt_adam_step, check_opt_cosine_lr, check_opt_momentum_step,
                                            check_opt_weight_decay_grads, check_pipe_stage_backward)
from backprop_lib.layers import linear_backward
from backprop_lib.mlp import MLP
from backprop_lib.optim import SGD, Adam, cosine_schedule

from check_helpers import fails_with, passes, stub


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


CHECKS = [(check_opt_momentum_step, momentum_step), (check_opt_adam_step, adam_step),
          (check_opt_cosine_lr, cosine_lr), (check_opt_weight_decay_grads, weight_decay_grads),
          (check_pipe_stage_backward, stage_backward)]


# --------------------------------------------------------------------------- tests


def test_the_tasks_are_registered_with_one_point_each():
    tasks = registry()
    for name in ("opt_momentum_step", "opt_adam_step", "opt_cosine_lr", "opt_weight_decay_grads",
                 "pipe_stage_backward"):
        assert tasks[name].points == 1


@pytest.mark.parametrize("check, fn", CHECKS, ids=[c.task for c, _ in CHECKS])
def test_reference_solutions_pass_and_stubs_are_not_implemented(check, fn):
    passes(check, fn)
    assert check.run(stub).status == "not_implemented"


@pytest.mark.parametrize("check, reference", [
    (check_opt_momentum_step, SGD), (check_opt_adam_step, Adam), (check_opt_cosine_lr, cosine_schedule),
    (check_opt_weight_decay_grads, SGD), (check_pipe_stage_backward, MLP.layer_backward),
    (check_pipe_stage_backward, linear_backward),
], ids=lambda x: getattr(x, "task", getattr(x, "__qualname__", "")))
def test_every_task_declares_the_library_code_that_computes_its_answer(check, reference):
    assert reference in check.references


def test_the_checks_own_reference_helpers_are_out_of_bounds_too():
    from backprop_lib.checks.beyond_sgd import _adam_reference

    def sly(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return _adam_reference(w, grad, m, v, t, lr, beta1, beta2, eps)
    fails_with(check_opt_adam_step, sly, "reference implementation")


def test_a_momentum_convention_read_off_the_first_step_is_held_for_the_whole_sequence():
    def switches(w, grad, velocity, lr, momentum):
        if not np.any(velocity):  # first step: PyTorch's velocity ...
            v = momentum * velocity + grad
            return w - lr * v, v
        v = momentum * velocity + lr * grad  # ... then the lr-inside form
        return w - v, v
    fails_with(check_opt_momentum_step, switches, "step 2", "PyTorch's convention")


def test_coinciding_cosine_mistakes_are_named_together():
    message = fails_with(check_opt_cosine_lr,
                         lambda lr0, e, T, eta_min=0.0: eta_min + (lr0 - eta_min) * np.cos(np.pi * e / T) ** 2,
                         "full period").message
    assert "cos^2(pi e / T)" in message


def test_an_unknown_cosine_mistake_is_told_which_properties_it_breaks():
    message = fails_with(check_opt_cosine_lr,
                         lambda lr0, e, T, eta_min=0.0: eta_min + (lr0 - eta_min) * (1 - e / T) ** 2).message
    assert "halfway" in message


def test_an_unknown_stage_mistake_still_gets_the_formula():
    def wrong(da, a_received, z, W, act_grad):
        delta = da * act_grad(z)
        return delta @ W + 1e-3, delta.T @ a_received, delta.sum(axis=0)
    fails_with(check_pipe_stage_backward, wrong, "da_send = delta @ W with delta = da * act_grad(z)")
