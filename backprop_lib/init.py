r"""Weight initialisation, seeded. Weights are (n_out, n_in) like ``torch.nn.Linear``.

=========  =========================================================  ====================================
name       distribution                                               keeps ... stable
=========  =========================================================  ====================================
zeros      all 0 (every hidden unit stays identical: symmetry)        nothing
normal     :math:`\mathcal N(0, s^2)`, s = ``scale`` (default 0.1)    nothing in general (fixed std,
                                                                      whatever the width)
lecun      :math:`\mathcal N(0, 1/n_{in})` (LeCun et al. 1998)        forward variance of a unit that is
                                                                      linear near 0 with slope 1
xavier     :math:`\mathcal N(0, 2/(n_{in}+n_{out}))` (Glorot 2010)    forward and backward (a compromise)
                                                                      for f(0) = 0, f'(0) = 1 (tanh)
he         :math:`\mathcal N(0, 2/n_{in})` (He et al. 2015)           forward variance (ReLU)
orthogonal ``scale`` (default 1) times a random orthogonal matrix:         every singular value (linear nets):
           :math:`W W^\top = I` if n_out <= n_in, else                  the norm of *every* vector, not only
           :math:`W^\top W = I` (Saxe, McClelland & Ganguli 2014)       the mean square
=========  =========================================================  ====================================

The orthogonal matrix is the Q of the QR decomposition of a Gaussian matrix, with the signs of its
columns fixed so that R has a positive diagonal: without the fix, numpy's QR would not give a
uniformly (Haar) distributed Q (Mezzadri 2007). ``torch.nn.init.orthogonal_`` does the same, with
its own random numbers.

Xavier's derivation assumes the unit is linear near 0 with slope 1. The sigmoid has
:math:`\sigma'(0) = 1/4`: with Xavier weights each sigmoid layer still multiplies the spread of
the signal (forward) and of the gradient (backward) by about 1/4 (notebook 04, section 4).
Glorot & Bengio draw from a uniform distribution of this variance; this module uses a normal one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INITS", "init_weights", "init_std"]

INITS = ("zeros", "normal", "lecun", "xavier", "he", "orthogonal")


def init_std(name: str, n_in: int, n_out: int, scale: float | None = None) -> float:
    """Standard deviation of the named initialiser for a (n_out, n_in) weight."""
    if name == "zeros":
        return 0.0
    if name == "normal":
        return 0.1 if scale is None else float(scale)
    if name == "lecun":
        return float(np.sqrt(1.0 / n_in))
    if name == "xavier":
        return float(np.sqrt(2.0 / (n_in + n_out)))
    if name == "he":
        return float(np.sqrt(2.0 / n_in))
    if name == "orthogonal":  # unit rows (or columns) of length 1: mean square 1/max(n_in, n_out) per entry
        return (1.0 if scale is None else float(scale)) / float(np.sqrt(max(n_in, n_out)))
    raise ValueError(f"unknown init {name!r}; expected one of {list(INITS)}")


def init_weights(name: str, n_in: int, n_out: int, rng: np.random.Generator | int | None = None,
                 scale: float | None = None, dtype=np.float64) -> np.ndarray:
    """A (n_out, n_in) weight matrix drawn from the named initialiser.

    ``rng`` is a ``np.random.Generator`` or a seed; ``scale`` is the std of "normal" and the
    gain of "orthogonal" (and multiplies nothing else).
    """
    if not isinstance(name, str):
        raise TypeError(f"init must be a name (str), got {type(name).__name__}")
    for arg, value in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")
    if scale is not None and not (np.isfinite(scale) and scale >= 0):
        raise ValueError(f"scale must be a non-negative number, got {scale!r}")
    std = init_std(name, int(n_in), int(n_out), scale)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if std == 0.0:
        return np.zeros((n_out, n_in), dtype=dtype)
    if name == "orthogonal":
        return ((1.0 if scale is None else float(scale)) * _orthogonal(n_in, n_out, rng)).astype(dtype, copy=False)
    return (std * rng.standard_normal((n_out, n_in))).astype(dtype, copy=False)


def _orthogonal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""A random (n_out, n_in) matrix with orthonormal rows (n_out <= n_in) or columns (n_out > n_in).

    :math:`A = QR` for a Gaussian :math:`A` of shape (max, min); multiplying each column of
    :math:`Q` by :math:`\operatorname{sign}(R_{ii})` makes :math:`Q` Haar-distributed.
    """
    big, small = max(n_in, n_out), min(n_in, n_out)
    q, r = np.linalg.qr(rng.standard_normal((big, small)))
    d = np.sign(np.diag(r))
    q = q * np.where(d == 0, 1.0, d)
    return q.T if n_out <= n_in else q
