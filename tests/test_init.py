"""Initialisers: shapes, seeds and the standard deviations of the formulas."""

import numpy as np
import pytest

from backprop_lib.init import INITS, init_std, init_weights


def test_every_named_init_gives_the_torch_weight_shape():
    for name in ("zeros", "normal", "xavier", "he"):
        assert name in INITS
        W = init_weights(name, n_in=7, n_out=3, rng=0)
        assert W.shape == (3, 7) and W.dtype == np.float64


def test_zeros_is_all_zero():
    assert not np.any(init_weights("zeros", 5, 4, rng=0))


@pytest.mark.parametrize("name, n_in, n_out, std", [
    ("normal", 400, 300, 0.1),
    ("xavier", 400, 300, np.sqrt(2 / 700)),
    ("he", 400, 300, np.sqrt(2 / 400)),
    ("lecun", 400, 300, np.sqrt(1 / 400)),
])
def test_sample_std_matches_the_formula(name, n_in, n_out, std):
    W = init_weights(name, n_in, n_out, rng=1)
    assert init_std(name, n_in, n_out) == pytest.approx(std)
    # 120000 samples: the sample std is within 1% of the true one (about 5 standard errors)
    assert W.std() == pytest.approx(std, rel=0.01)
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)


def test_normal_scale_argument():
    W = init_weights("normal", 300, 300, rng=2, scale=0.01)
    assert W.std() == pytest.approx(0.01, rel=0.02)


def test_same_seed_same_weights_other_seed_other_weights():
    a = init_weights("he", 10, 6, rng=5)
    assert np.array_equal(a, init_weights("he", 10, 6, rng=5))
    assert not np.array_equal(a, init_weights("he", 10, 6, rng=6))
    g = np.random.default_rng(5)
    assert np.array_equal(init_weights("he", 10, 6, rng=g), a)


def test_dtype_argument():
    assert init_weights("xavier", 4, 3, rng=0, dtype=np.float32).dtype == np.float32
