"""Data sets, all offline: generated 2-D problems and real 8x8 handwritten digits.

Every function is seeded (``seed=``): the same call returns the same arrays.
Features are float64 (N, D); labels are int64 (N,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["xor", "spirals", "moons", "blobs", "digits", "Split", "train_test_split"]


def _check_n(n, name: str = "n", minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _check_noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    return float(noise)


def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: points around the four corners of the unit square.

    Label 1 when exactly one coordinate is "on" (corners (0, 1) and (1, 0)), else 0.
    ``n`` points, spread evenly over the corners, with Gaussian noise of std ``noise``.
    """
    n = _check_n(n, minimum=4)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    which = np.arange(n) % 4
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = np.array([0, 1, 1, 0])[which].astype(np.int64)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (the CS231n toy problem), ``n`` points in all."""
    n = _check_n(n, minimum=classes if isinstance(classes, int) else 1)
    classes = _check_n(classes, "classes", minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = np.linspace(0.05, 1.0, n)[rng.permutation(n)]
    t = 4.0 * r + 2 * np.pi * y / classes + noise * rng.standard_normal(n)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return X, y.astype(np.int64)


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``)."""
    n = _check_n(n, minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    X = X + noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0), np.ones(n1)]).astype(np.int64)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def blobs(n: int = 300, centers: int = 3, std: float = 0.5, dim: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around ``centers`` random centres in [-3, 3]^dim."""
    n = _check_n(n)
    centers = _check_n(centers, "centers")
    dim = _check_n(dim, "dim")
    std = _check_noise(std)
    rng = np.random.default_rng(seed)
    mu = rng.uniform(-3, 3, size=(centers, dim))
    y = (np.arange(n) % centers).astype(np.int64)
    X = mu[y] + std * rng.standard_normal((n, dim))
    perm = rng.permutation(n)
    return X[perm], y[perm]


@dataclass
class Split:
    """A train/test split: ``X_train`` (N, D), ``y_train`` (N,), ``X_test``, ``y_test``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __iter__(self):  # allows X_train, y_train, X_test, y_test = digits()
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))


def train_test_split(X: np.ndarray, y: np.ndarray, test_size: float = 0.25, seed: int = 0) -> Split:
    """Seeded stratified split: every class keeps its share in train and test."""
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}")
    if not (0 < test_size < 1):
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.append(idx[: int(round(test_size * idx.size))])
    test_idx = np.sort(np.concatenate(test))
    mask = np.ones(y.shape[0], bool)
    mask[test_idx] = False
    train_idx = np.flatnonzero(mask)
    train_idx = train_idx[rng.permutation(train_idx.size)]
    return Split(X[train_idx], y[train_idx], X[test_idx], y[test_idx])


def digits(test_size: float = 0.25, seed: int = 0) -> Split:
    """The real 8x8 handwritten digits bundled with scikit-learn (1797 images, 10 classes).

    Pixels (0..16) are scaled to [0, 1]; X is (N, 64) float64, y is (N,) int64.
    Returns a seeded stratified :class:`Split` (unpacks as ``X_train, y_train, X_test, y_test``).
    """
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    raw = load_digits()
    X = raw.data.astype(np.float64) / 16.0
    y = raw.target.astype(np.int64)
    return train_test_split(X, y, test_size=test_size, seed=seed)
