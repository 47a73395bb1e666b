"""The claims of notebooks/06_beyond_sgd.ipynb about momentum's rates on a quadratic, Nesterov, warmup + cosine
and AdamW, recomputed here with the library (same settings and seeds as the notebook).

Each test quotes the claim it guards; where the notebook prints a table, the test compares its own numbers with
the stored output, so notebook, prose and test cannot drift apart.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from backprop_lib.data import digits
from backprop_lib.landscape import Surface, trajectory
from backprop_lib.mlp import MLP, train
from backprop_lib.optim import SGD, Adam, AdamW, Scheduled, warmup_cosine

from notebook_cells import NOTEBOOKS, stream_output, markdown_containing as markdown_cell

NOTEBOOK = NOTEBOOKS / "06_beyond_sgd.ipynb"
notebook_output = partial(stream_output, NOTEBOOK)
markdown_containing = partial(markdown_cell, NOTEBOOK)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield


# ----------------------------------------------------------------------------- rates on a quadratic


def errors(kappa, steps=500, **settings):
    surface = Surface("q", lambda x, y: 0.5 * (x ** 2 + kappa * y ** 2), lambda p: np.array([p[0], kappa * p[1]]),
                      (-1.5, 1.5), (-1.5, 1.5), (0.0, 0.0), (1.0, 1.0))
    return np.linalg.norm(trajectory(surface, SGD(**settings), steps=steps), axis=1)


def best(kappa):
    sk = np.sqrt(kappa)
    return {"lr": 2 / (1 + kappa)}, {"lr": (2 / (1 + sk)) ** 2, "momentum": ((sk - 1) / (sk + 1)) ** 2}


def rate(e, last=100):
    return (e[-1] / e[-1 - last]) ** (1 / last)


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_measured_rates_match_the_closed_forms(kappa):
    """"Gradient descent matches its formula to four digits for every kappa. Momentum's measured rate is a little
    above its formula in every row ..., always by the same factor 1.0022" = (500/400)^(1/100)."""
    gd, mom = best(kappa)
    sk = np.sqrt(kappa)
    r_gd, r_mom = (kappa - 1) / (kappa + 1), (sk - 1) / (sk + 1)
    m_gd, m_mom = rate(errors(kappa, **gd)), rate(errors(kappa, **mom))
    assert m_gd == pytest.approx(r_gd, abs=5e-5)
    assert (500 / 400) ** (1 / 100) == pytest.approx(1.0022, abs=5e-5)
    assert m_mom / r_mom == pytest.approx((500 / 400) ** (1 / 100), abs=2e-4)
    row = f"{kappa:>6}{r_gd:>17.4f}{m_gd:>10.4f}{r_mom:>33.4f}{m_mom:>10.4f}"
    assert row in notebook_output("def quadratic(kappa)"), row


def test_steps_per_factor_of_ten_at_kappa_1000():
    """"at kappa = 1000 gradient descent needs about ln 10 / (1 - 0.998) ~ 1150 steps per factor of 10, momentum
    about ln 10 / (1 - 0.9387) ~ 38"."""
    assert np.log(10) / (1 - 0.998) == pytest.approx(1150, abs=2)
    assert np.log(10) / (1 - 0.9387) == pytest.approx(38, abs=0.5)
    gd, mom = best(1000)
    assert -np.log(10) / np.log(rate(errors(1000, **gd))) == pytest.approx(1150, rel=0.01)


def test_matched_effective_learning_rate_on_the_quadratic():
    """"effective learning rate 0.100, five times gradient descent's stability limit 2/lambda_max = 0.02: gradient
    descent at that rate diverges (... 9 per step)"; "momentum given gradient descent's best rate as its effective
    rate converges at 0.9793, hardly faster than gradient descent's 0.9802"; Nesterov "0.9020 per step"."""
    gd, mom = best(100)
    eff = mom["lr"] / (1 - mom["momentum"])
    assert eff == pytest.approx(0.1, rel=1e-12) and eff / (2 / 100) == pytest.approx(5)
    e = errors(100, lr=eff)
    assert e[-1] > e[0] and e[3] / e[2] == pytest.approx(9.0, rel=1e-3)
    slow = rate(errors(100, lr=gd["lr"] * (1 - mom["momentum"]), momentum=mom["momentum"]))
    assert round(slow, 4) == 0.9793 and round(rate(errors(100, **gd)), 4) == 0.9802
    nesterov = rate(errors(100, lr=0.01, momentum=9 / 11, nesterov=True))
    assert round(nesterov, 4) == 0.9020
    assert nesterov < 0.98 and nesterov > rate(errors(100, **mom))  # sqrt(kappa)-type, slower than heavy ball
    printed = notebook_output("KAPPA = 100")
    for text in ("rate 0.9802", "rate 0.8200", "diverges: error x9.00 per step", "rate 0.9793", "rate 0.9020"):
        assert text in printed, text


# ----------------------------------------------------------------------------- warmup + cosine on digits


def test_warmup_rescues_adam_at_a_large_learning_rate():
    """"With a constant rate of 0.1, and with the cosine alone ..., the loss jumps to 4.56 in the first epoch (the
    first mini-batch's loss is 2.439 ...) and the network never recovers: its validation accuracy stays at 0.10";
    with one epoch (22 steps) of warmup "0.391 after epoch 1, 0.702 after epoch 6, 0.882 after 12"; below Adam +
    cosine at 3e-3 (0.967)."""
    X_train, y_train, X_val, y_val = digits()
    steps_per_epoch = -(-len(X_train) // 64)
    assert steps_per_epoch == 22
    total = 12 * steps_per_epoch
    initial = MLP([64, 48, 48, 48, 48, 10], activation="tanh", init="xavier", seed=0)
    schedules = {"constant 0.1": lambda t: 0.1, "cosine from 0.1": lambda t: warmup_cosine(0.1, t, 0, total),
                 "1 epoch warmup + cosine": lambda t: warmup_cosine(0.1, t, steps_per_epoch, total)}
    h = {name: train(initial.copy(), X_train, y_train, epochs=12, batch_size=64, optimizer=Scheduled(Adam(), s),
                     X_val=X_val, y_val=y_val) for name, s in schedules.items()}
    printed = notebook_output("STEPS_PER_EPOCH =")
    for name, run in h.items():
        row = (f"{name:<26}{max(run.step_loss[:steps_per_epoch]):>20.3f}{run.val_accuracy[0]:>17.3f}"
               f"{run.val_accuracy[5]:>7.3f}{run.val_accuracy[-1]:>7.3f}{run.loss[-1]:>12.4f}")
        assert row in printed, row
    for name in ("constant 0.1", "cosine from 0.1"):
        assert round(max(h[name].step_loss[:22]), 2) == 4.56
        assert max(h[name].val_accuracy[1:]) <= 0.105  # chance level, never recovers
    warm = h["1 epoch warmup + cosine"]
    assert round(warm.step_loss[0], 3) == 2.439 and max(warm.step_loss[:22]) == warm.step_loss[0]
    assert [round(warm.val_accuracy[i], 3) for i in (0, 5, 11)] == [0.391, 0.702, 0.882]
    assert warm.val_accuracy[-1] < 0.967


# ----------------------------------------------------------------------------- AdamW vs L2 in Adam


def mean_weight(optimizer, scales=(0.01, 1.0, 100.0), steps=2000, seed=0):
    noise = np.random.default_rng(seed).standard_normal((steps, len(scales), 200))
    params = {f"s = {s:g}": np.ones(200) for s in scales}
    for t in range(steps):
        optimizer.step(params, {k: s * noise[t, j] for j, (k, s) in enumerate(zip(params, scales))})
    return [float(p.mean()) for p in params.values()]


def test_adamw_decays_every_weight_alike_and_l2_in_adam_does_not():
    """"AdamW shrinks every group alike, to 0.602, 0.601 and 0.607, close to (1 - eta lambda)^2000 = 0.606";
    "Adam with L2 agrees with it only for s = 1 (0.601)"; s = 0.01: "driven to zero (mean -0.001)"; s = 100:
    "hardly move (0.997)"."""
    assert round((1 - 2.5e-3 * 0.1) ** 2000, 3) == 0.606
    adamw = mean_weight(AdamW(lr=2.5e-3, weight_decay=0.1))
    l2 = mean_weight(Adam(lr=2.5e-3, weight_decay=0.1))
    assert [round(m, 3) for m in adamw] == [0.602, 0.601, 0.607]
    assert [round(m, 3) for m in l2] == [-0.001, 0.601, 0.997]
    printed = notebook_output("SCALES, DECAY_LR")
    assert "Adam + L2                           -0.001       0.601       0.997" in printed
    assert "AdamW                                0.602       0.601       0.607" in printed
    prose = markdown_containing("AdamW shrinks every group alike")
    for number in ("0.602", "0.601", "0.607", "0.606", "-0.001", "0.997"):
        assert number in prose, number
