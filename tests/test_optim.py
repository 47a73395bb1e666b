"""Optimisers, schedules and clipping: closed forms, and parity with torch.optim."""

import numpy as np
import pytest

from backprop_lib.optim import (SGD, Adam, AdamW, RMSProp, Scheduled, clip_grad_norm, cosine_schedule, global_norm,
                                step_decay, warmup_cosine)


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
        (lambda: AdamW(weight_decay=-0.1), "weight_decay"),
        (lambda: AdamW(lr=float("nan")), "lr"),
        (lambda: AdamW(betas=(1.0, 0.999)), "betas"),
        (lambda: warmup_cosine(0.1, 0, warmup=10, t_max=10), "warmup"),
        (lambda: warmup_cosine(0.1, 0, warmup=-1, t_max=10), "warmup"),
        (lambda: warmup_cosine(0.1, -1, warmup=2, t_max=10), "epoch"),
        (lambda: warmup_cosine(0.1, 0, warmup=2, t_max=10, eta_min=0.5), "eta_min"),
        (lambda: warmup_cosine(0.0, 0, warmup=2, t_max=10), "lr0"),
    ],
)
def test_bad_hyperparameters_are_rejected_by_name(make, bad):
    with pytest.raises(ValueError, match=bad):
        make()


def test_adamw_shrinks_weights_by_lr_times_decay_outside_the_normalisation():
    # zero loss gradient: Adam's step is 0 (m = 0), so only the decoupled shrinking acts ...
    p = {"W": np.full(3, 2.0), "b": np.full(3, 2.0)}
    zero = {"W": np.zeros(3), "b": np.zeros(3)}
    opt = AdamW(lr=0.1, weight_decay=0.5, no_decay=("b",))
    for _ in range(4):
        opt.step(p, zero)
    np.testing.assert_allclose(p["W"], 2.0 * 0.95 ** 4, rtol=1e-14)
    np.testing.assert_array_equal(p["b"], 2.0)
    # ... while L2 inside Adam normalises the decay term lambda * p to a step of about lr per coordinate
    q = {"W": np.full(3, 2.0)}
    Adam(lr=0.1, weight_decay=0.5).step(q, {"W": np.zeros(3)})
    np.testing.assert_allclose(q["W"], 1.9, rtol=1e-7)


def test_adamw_without_decay_is_adam():
    a, _ = run(AdamW(lr=0.05, weight_decay=0.0))
    b, _ = run(Adam(lr=0.05))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_warmup_cosine_rises_linearly_then_follows_the_cosine():
    lrs = [warmup_cosine(1.0, t, warmup=4, t_max=14) for t in range(20)]
    np.testing.assert_allclose(lrs[:4], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(lrs[4:15], [cosine_schedule(1.0, e, t_max=10) for e in range(11)], rtol=1e-15)
    assert lrs[15:] == [lrs[14]] * 5  # stays at eta_min after t_max
    assert [warmup_cosine(1.0, t, 0, 10) for t in range(11)] == [cosine_schedule(1.0, e, 10) for e in range(11)]


def test_scheduled_sets_the_learning_rate_before_every_step():
    sched = Scheduled(SGD(lr=1.0), lambda t: 0.1 * (t + 1))
    p = {"w": np.array([0.0])}
    for _ in range(3):
        sched.step(p, {"w": np.array([1.0])})
    assert sched.lrs == [0.1, 0.2, 0.30000000000000004] and sched.optimizer.lr == sched.lrs[-1]
    np.testing.assert_allclose(p["w"], [-0.6])
    with pytest.raises(TypeError, match="schedule"):
        Scheduled(SGD(lr=1.0), 0.1)
    with pytest.raises(TypeError, match="optimizer"):
        Scheduled(object(), lambda t: 0.1)
    with pytest.raises(ValueError, match="schedule"):
        Scheduled(SGD(lr=1.0), lambda t: -1.0).step(p, {"w": np.array([1.0])})


def test_warmup_cosine_matches_torch_linear_then_cosine_annealing():
    """torch's own pieces: LinearLR(start_factor=1/w, total_iters=w-1), then CosineAnnealingLR(T_max=T-w)."""
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.3)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / 5, end_factor=1.0, total_iters=4),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.03)], milestones=[5])
    for t in range(31):
        assert opt.param_groups[0]["lr"] == pytest.approx(warmup_cosine(0.3, t, 5, 30, 0.03), rel=1e-12), t
        w.grad = torch.zeros(1)
        opt.step()
        sched.step()


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
    ("AdamW", {"lr": 0.01}, {}),
    ("AdamW", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.5}, {}),
    ("default", {}, {}),
]


@pytest.mark.parametrize("name, kwargs, _", TORCH_CASES)
def test_parameters_after_20_steps_match_torch_optim(name, kwargs, _):
    torch = pytest.importorskip("torch")
    if name == "default":  # default hyper-parameters must match too
        pairs = [(SGD(), torch.optim.SGD, {"lr": 1e-3}), (RMSProp(), torch.optim.RMSprop, {}),
                 (Adam(), torch.optim.Adam, {}), (AdamW(), torch.optim.AdamW, {})]
    else:
        ours = {"SGD": SGD, "RMSprop": RMSProp, "Adam": Adam, "AdamW": AdamW}[name](**kwargs)
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
