"""Activations: closed forms, stability, derivatives against finite differences."""

import warnings

import numpy as np
import pytest

from backprop_lib import activations as A
from backprop_lib.gradcheck import numerical_gradient, rel_error

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]


def _points(seed=0):
    # away from relu's kink at 0, so central differences are exact up to round-off
    z = np.random.default_rng(seed).uniform(-3, 3, size=(4, 5))
    z[np.abs(z) < 1e-2] = 0.5
    return z


def test_registry_has_every_activation_by_name():
    assert set(NAMES) <= set(A.ACTIVATIONS)
    for name in NAMES:
        act = A.get_activation(name)
        assert act.name == name and callable(act.f) and callable(act.df)


def test_sigmoid_is_stable_and_exact_at_plus_minus_1000():
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = A.sigmoid(z)
        ds = A.sigmoid_grad(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.all(np.isfinite(ds)) and ds[0] == 0.0 and ds[-1] == 0.0
    assert ds[1] > 0  # exact, not 1 - 1.0


def test_sigmoid_matches_closed_form_on_moderate_inputs():
    z = np.linspace(-20, 20, 101)
    assert rel_error(A.sigmoid(z), 1.0 / (1.0 + np.exp(-z))) < 1e-15


def test_sigmoid_derivative_is_at_most_a_quarter_with_max_at_zero():
    z = np.linspace(-10, 10, 2001)
    d = A.sigmoid_grad(z)
    assert d.max() == pytest.approx(0.25) and d[np.argmax(d)] == A.sigmoid_grad(0.0)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_finite_differences(name):
    act = A.get_activation(name)
    z = _points()
    w = np.random.default_rng(1).standard_normal(z.shape)
    num = numerical_gradient(lambda zz: np.sum(w * act.f(zz)), z.copy())
    assert rel_error(w * act.df(z), num) <= 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_backward_is_upstream_times_derivative_bit_for_bit(name):
    act = A.get_activation(name)
    z = np.random.default_rng(2).standard_normal((6, 7))
    da = np.random.default_rng(3).standard_normal((6, 7))
    assert np.array_equal(act.backward(da, z), da * act.df(z))


def test_relu_and_leaky_relu_values_and_slope_argument():
    z = np.array([-2.0, 0.0, 3.0])
    assert np.array_equal(A.relu(z), [0.0, 0.0, 3.0])
    assert np.array_equal(A.relu_grad(z), [0.0, 0.0, 1.0])  # subgradient 0 at 0, as PyTorch
    assert np.allclose(A.leaky_relu(z), [-0.02, 0.0, 3.0])
    assert np.allclose(A.leaky_relu(z, slope=0.2), [-0.4, 0.0, 3.0])
    assert np.allclose(A.leaky_relu_grad(z, slope=0.2), [0.2, 0.2, 1.0])
    leaky = A.get_activation("leaky_relu", slope=0.3)
    assert np.allclose(leaky.f(z), [-0.6, 0.0, 3.0])
    assert np.allclose(leaky.backward(np.ones(3), z), [0.3, 0.3, 1.0])


def test_tanh_derivative_closed_form():
    z = np.linspace(-3, 3, 13)
    assert rel_error(A.tanh_grad(z), 1 / np.cosh(z) ** 2) < 1e-14


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_and_ints_become_float64(name):
    act = A.get_activation(name)
    assert act.f(np.ones(3, np.float32)).dtype == np.float32
    assert act.df(np.ones(3, np.float32)).dtype == np.float32
    assert act.f(np.arange(3)).dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_activations_do_not_mutate_their_input(name):
    act = A.get_activation(name)
    z = _points()
    before = z.copy()
    act.f(z), act.df(z), act.backward(np.ones_like(z), z)
    assert np.array_equal(z, before)


def test_activation_objects_pickle():
    import pickle
    leaky = A.get_activation("leaky_relu", slope=0.2)
    again = pickle.loads(pickle.dumps(leaky))
    assert np.allclose(again.f(np.array([-1.0])), [-0.2])
