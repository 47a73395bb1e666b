"""Optimisers, schedules and clipping: closed forms, and parity with torch.optim."""

import numpy as np
import pytest

from backprop_lib.optim import (SGD, Adam, RMSProp, clip_grad_norm, cosine_schedule, global_norm,
                                step_decay)


def quadratic_problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(3)}
    targets = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    scales = {k: rng.uniform(0.5, 3.0, v.shape) for k, v in params.items()}

    def grads(p):  # gradient of sum(scale * (p - target)^2) / 2
        return {k: scales[k] * (p[k] - targets[k]) for k in p}

    return params, grads


def run(opt, steps=20, seed=0):
    params, grads = quadratic_problem(seed)
    history = []
    for _ in range(steps):
        opt.step(params, grads(params))
        history.append({k: v.copy() for k, v in params.items()})
    return params, history


def test_plain_sgd_is_p_minus_lr_g():
    params, grads = quadratic_problem()
    g = grads(params)
    expected = {k: params[k] - 0.1 * g[k] for k in params}
    SGD(lr=0.1).step(params, g)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-15)


def test_momentum_accumulates_a_velocity():
    p = {"w": np.array([1.0])}
    opt = SGD(lr=1.0, momentum=0.9)
    for _ in range(3):
        opt.step(p, {"w": np.array([1.0])})
    # velocities 1, 1.9, 2.71 -> p = 1 - 5.61
    np.testing.assert_allclose(p["w"], [1 - 5.61], rtol=1e-14)


def test_adam_first_step_moves_each_parameter_by_lr_times_the_sign():
    p = {"w": np.array([0.0, 0.0, 0.0])}
    Adam(lr=0.01).step(p, {"w": np.array([3.0, -0.001, 100.0])})
    np.testing.assert_allclose(p["w"], [-0.01, 0.01, -0.01], rtol=1e-4)  # eps shrinks tiny steps


def test_optimizer_state_persists_between_steps_and_is_per_parameter():
    opt = Adam()
    run(opt, steps=3)
    assert set(opt.state) == {"W1", "b1"} and opt.state["W1"]["step"] == 3


def test_weight_decay_can_skip_biases():
    p = {"W": np.ones(2), "b": np.ones(2)}
    zero = {"W": np.zeros(2), "b": np.zeros(2)}
    SGD(lr=0.1, weight_decay=0.5, no_decay=("b",)).step(p, zero)
    np.testing.assert_allclose(p["W"], 0.95)
    np.testing.assert_allclose(p["b"], 1.0)


@pytest.mark.parametrize("factory", [lambda: SGD(lr=0.1, momentum=0.9), lambda: RMSProp(lr=0.01),
                                     lambda: Adam(lr=0.05)])
def test_optimizers_decrease_a_quadratic(factory):
    params, grads = quadratic_problem()
    before = sum(float(np.sum(g * g)) for g in grads(params).values())
    params, _ = run(factory(), steps=200)
    after = sum(float(np.sum(g * g)) for g in grads(params).values())
    assert after < 1e-2 * before


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: SGD(lr=-1), "lr"),
        (lambda: SGD(lr=0.1, momentum=1.5), "momentum"),
        (lambda: SGD(lr=0.1, nesterov=True), "nesterov"),
        (lambda: Adam(betas=(0.9,)), "betas"),
        (lambda: RMSProp(eps=0), "eps"),
        (lambda: Adam(weight_decay=-1), "weight_decay"),
    ],
)
def test_bad_hyperparameters_are_rejected_by_name(make, bad):
    with pytest.raises(ValueError, match=bad):
        make()


def test_step_rejects_mismatched_grads():
    opt = SGD(lr=0.1)
    with pytest.raises(ValueError, match="keys"):
        opt.step({"w": np.zeros(2)}, {"v": np.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        opt.step({"w": np.zeros(2)}, {"w": np.zeros(3)})


def test_schedules_match_their_closed_forms():
    assert [step_decay(1.0, e, step_size=2, gamma=0.5) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    assert cosine_schedule(1.0, 0, t_max=10) == 1.0
    assert cosine_schedule(1.0, 10, t_max=10, eta_min=0.1) == pytest.approx(0.1)
    assert cosine_schedule(1.0, 5, t_max=10) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="step_size"):
        step_decay(1.0, 0, step_size=0)


def test_clip_grad_norm_scales_all_gradients_together_and_keeps_direction():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([4.0])}
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0], rtol=1e-12)
    np.testing.assert_allclose(clipped["b"], [0.8], rtol=1e-12)
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])  # input untouched
    small, _ = clip_grad_norm(grads, 10.0)
    np.testing.assert_array_equal(small["b"], grads["b"])


# ----------------------------------------------------------------------------- torch parity

TORCH_CASES = [
    ("SGD", {"lr": 0.1}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.01}, {}),
    ("RMSprop", {"lr": 0.01}, {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.1}, {}),
    ("Adam", {"lr": 0.01}, {}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.05}, {}),
    ("default", {}, {}),
]


@pytest.mark.parametrize("name, kwargs, _", TORCH_CASES)
def test_parameters_after_20_steps_match_torch_optim(name, kwargs, _):
    torch = pytest.importorskip("torch")
    if name == "default":  # default hyper-parameters must match too
        pairs = [(SGD(), torch.optim.SGD, {"lr": 1e-3}), (RMSProp(), torch.optim.RMSprop, {}),
                 (Adam(), torch.optim.Adam, {})]
    else:
        ours = {"SGD": SGD, "RMSprop": RMSProp, "Adam": Adam}[name](**kwargs)
        pairs = [(ours, getattr(torch.optim, name), kwargs)]
    for ours, torch_cls, torch_kwargs in pairs:
        params, grads = quadratic_problem(seed=3)
        tparams = {k: torch.tensor(v.copy(), dtype=torch.float64, requires_grad=True) for k, v in params.items()}
        topt = torch_cls(list(tparams.values()), **torch_kwargs)
        for _ in range(20):
            g = grads(params)
            tg = grads({k: t.detach().numpy() for k, t in tparams.items()})
            ours.step(params, g)
            for k, t in tparams.items():
                t.grad = torch.tensor(tg[k], dtype=torch.float64)
            topt.step()
        for k in params:
            theirs = tparams[k].detach().numpy()
            err = np.max(np.abs(params[k] - theirs)) / max(1e-8, np.max(np.abs(params[k]) + np.abs(theirs)))
            assert err <= 1e-10, f"{type(ours).__name__} {k}: rel. error {err:.2e}"


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = {"a": rng.standard_normal((3, 4)) * 10, "b": rng.standard_normal(5)}
    ts = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for t, g in zip(ts, grads.values()):
        t.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(ts, max_norm=2.0)
    clipped, norm = clip_grad_norm(grads, 2.0, eps=1e-6)  # torch adds 1e-6 to the norm
    assert norm == pytest.approx(float(total), rel=1e-12)
    for t, g in zip(ts, clipped.values()):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9)
