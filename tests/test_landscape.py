"""Test surfaces and loss-landscape slices."""

import numpy as np
import pytest

from backprop_lib.data import digits
from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.landscape import (SURFACES, get_surface, hessian, interpolate_loss, loss_surface_2d,
                                    random_direction, trajectory)
from backprop_lib.mlp import MLP, train
from backprop_lib.optim import SGD, Adam


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_gradients_match_finite_differences_and_vanish_at_the_minimum(name):
    s = SURFACES[name]
    for p in np.random.default_rng(0).uniform(-1.5, 1.5, size=(5, 2)):
        assert rel_error(s.grad(p), numerical_gradient(lambda q: s(q), p.copy())) < 1e-8
    np.testing.assert_allclose(s.grad(np.array(s.minimum)), 0.0, atol=1e-12)


def test_hessians_of_the_surfaces_match_their_closed_forms():
    np.testing.assert_allclose(hessian("ravine", (-4.0, 1.0)), np.diag([1.0, 25.0]), atol=1e-8)
    # Rosenbrock: [[2 + 1200 x^2 - 400 y, -400 x], [-400 x, 200]], at the minimum (1, 1)
    H = hessian("rosenbrock", (1.0, 1.0))
    np.testing.assert_allclose(H, [[802.0, -400.0], [-400.0, 200.0]], rtol=1e-8)
    lo, hi = np.linalg.eigvalsh(H)
    assert hi / lo == pytest.approx((1002 + np.sqrt(1002**2 - 1600)) / (1002 - np.sqrt(1002**2 - 1600)), rel=1e-6)
    np.testing.assert_allclose(hessian("saddle", (0.0, 0.0)), np.diag([2.0, -1.0]), atol=1e-8)
    with pytest.raises(ValueError, match="point"):
        hessian("ravine", (1.0, 2.0, 3.0))


def test_trajectory_starts_at_start_and_sgd_descends_the_ravine():
    path = trajectory("ravine", SGD(lr=0.03), steps=200)
    assert path.shape == (201, 2)
    np.testing.assert_array_equal(path[0], SURFACES["ravine"].start)
    s = get_surface("ravine")
    assert s(path[-1]) < 1e-2 * s(path[0])


def test_a_diverging_optimizer_is_stopped_not_propagated_as_nan():
    path = trajectory("ravine", SGD(lr=0.2), steps=300)  # lr > 2/25 diverges along y
    assert np.all(np.isfinite(path))


def test_gradient_descent_stalls_on_the_saddle_ridge_while_adam_escapes():
    s = SURFACES["saddle"]
    sgd = trajectory(s, SGD(lr=0.05), steps=100)
    adam = trajectory(s, Adam(lr=0.05), steps=100)
    assert abs(sgd[-1, 1]) < 0.2           # still near the ridge y = 0 (grows only as 1.05^t)
    assert abs(adam[-1, 1]) > 0.5          # found a valley at y = +-1


def test_bad_arguments():
    with pytest.raises(ValueError, match="surface"):
        get_surface("nope")
    with pytest.raises(ValueError, match="steps"):
        trajectory("ravine", SGD(lr=0.1), steps=0)
    with pytest.raises(ValueError, match="start"):
        trajectory("ravine", SGD(lr=0.1), start=[1, 2, 3])


def test_interpolation_endpoints_are_the_losses_of_the_two_networks():
    X, y, _, _ = digits()
    X, y = X[:200], y[:200]
    net = MLP([64, 16, 10], seed=0)
    start = {k: v.copy() for k, v in net.params.items()}
    train(net, X, y, epochs=3, lr=0.1)
    alphas = np.linspace(0, 1, 5)
    losses = interpolate_loss(net, start, net.params, X, y, alphas)
    trained = net.loss(X, y)
    initial = MLP([64, 16, 10], seed=0).loss(X, y)
    assert losses[0] == pytest.approx(initial) and losses[-1] == pytest.approx(trained)
    grid = loss_surface_2d(net, X, y, random_direction(net.params, 1), random_direction(net.params, 2),
                           alphas=[-0.5, 0, 0.5], betas=[-0.5, 0, 0.5])
    assert grid.shape == (3, 3) and grid[1, 1] == pytest.approx(trained)


def test_filter_normalized_direction_matches_row_norms_and_skips_biases():
    params = MLP([5, 4, 3], seed=0).params
    d = random_direction(params, seed=0)
    np.testing.assert_allclose(np.linalg.norm(d["W1"], axis=1), np.linalg.norm(params["W1"], axis=1))
    assert not d["b1"].any()


def test_fraction_of_random_critical_points_that_are_minima_collapses_with_dimension():
    from backprop_lib.landscape import fraction_minima

    assert fraction_minima(1, samples=4000) == pytest.approx(0.5, abs=0.03)
    fractions = [fraction_minima(d, samples=4000) for d in (1, 2, 3, 4)]
    assert all(a > b for a, b in zip(fractions, fractions[1:]))
    assert fraction_minima(8, samples=2000) == 0.0
    with pytest.raises(ValueError, match="dim"):
        fraction_minima(0)


def test_a_walk_is_the_trajectory_without_end_and_stops_stepping_once_it_diverges():
    from itertools import islice

    from backprop_lib.landscape import walk

    opt = Adam(lr=0.05)
    points = np.array(list(islice(walk("rosenbrock", opt, (-1.0, 2.0)), 201)))
    np.testing.assert_array_equal(points, trajectory("rosenbrock", Adam(lr=0.05), start=(-1.0, 2.0), steps=200))
    assert opt.steps == 200, "the walk steps the optimiser once per point after the start, and only when asked"
    diverging = SGD(lr=0.2)
    points = np.array(list(islice(walk("ravine", diverging), 400)))
    assert np.isfinite(points).all() and diverging.steps < 399
    np.testing.assert_array_equal(points[diverging.steps:], np.tile(points[-1], (400 - diverging.steps, 1)))
