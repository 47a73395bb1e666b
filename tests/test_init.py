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


@pytest.mark.parametrize("n_in, n_out", [(32, 32), (64, 32), (32, 10), (10, 32), (1, 5), (5, 1)])
def test_orthogonal_has_orthonormal_rows_or_columns(n_in, n_out):
    W = init_weights("orthogonal", n_in, n_out, rng=3)
    assert W.shape == (n_out, n_in)
    gram = W @ W.T if n_out <= n_in else W.T @ W
    np.testing.assert_allclose(gram, np.eye(min(n_in, n_out)), atol=1e-12)
    # every singular value is 1: the matrix keeps the length of every vector in its row space
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.0, atol=1e-12)
    assert np.mean(W**2) == pytest.approx(init_std("orthogonal", n_in, n_out) ** 2)


def test_orthogonal_gain_scales_every_singular_value():
    W = init_weights("orthogonal", 20, 20, rng=4, scale=1.5)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.5, atol=1e-12)
    assert init_std("orthogonal", 20, 20, scale=1.5) == pytest.approx(1.5 / np.sqrt(20))


def test_orthogonal_is_seeded_and_uniformly_distributed():
    """The sign fix makes Q Haar-distributed: the entries are symmetric about 0 and the diagonal has no bias
    (numpy's raw QR makes R's diagonal negative, which biases Q's diagonal negative without the fix)."""
    assert np.array_equal(init_weights("orthogonal", 8, 8, rng=5), init_weights("orthogonal", 8, 8, rng=5))
    assert not np.array_equal(init_weights("orthogonal", 8, 8, rng=5), init_weights("orthogonal", 8, 8, rng=6))
    rng = np.random.default_rng(7)
    diag = np.array([np.diag(init_weights("orthogonal", 4, 4, rng=rng)) for _ in range(4000)])
    # Haar: each diagonal entry has mean 0 and variance 1/4; 16000 samples, std error 0.004
    assert abs(diag.mean()) < 0.02
    assert np.mean(diag**2) == pytest.approx(0.25, abs=0.02)


def test_orthogonal_matches_torch_in_distribution_not_bits():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    T = torch.nn.init.orthogonal_(torch.empty(10, 32, dtype=torch.float64)).numpy()
    W = init_weights("orthogonal", 32, 10, rng=0)
    for M in (T, W):   # both have orthonormal rows of the same shape
        np.testing.assert_allclose(M @ M.T, np.eye(10), atol=1e-12)
    assert not np.allclose(T, W)
