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
=========  =========================================================  ====================================

Xavier's derivation assumes the unit is linear near 0 with slope 1. The sigmoid has
:math:`\sigma'(0) = 1/4`: with Xavier weights each sigmoid layer still multiplies the spread of
the signal (forward) and of the gradient (backward) by about 1/4 (notebook 04, section 4).
Glorot & Bengio draw from a uniform distribution of this variance; this module uses a normal one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INITS", "init_weights", "init_std"]

INITS = ("zeros", "normal", "lecun", "xavier", "he")


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
    raise ValueError(f"unknown init {name!r}; expected one of {list(INITS)}")


def init_weights(name: str, n_in: int, n_out: int, rng: np.random.Generator | int | None = None,
                 scale: float | None = None, dtype=np.float64) -> np.ndarray:
    """A (n_out, n_in) weight matrix drawn from the named initialiser.

    ``rng`` is a ``np.random.Generator`` or a seed; ``scale`` is the std of "normal"
    (and multiplies nothing else).
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
    return (std * rng.standard_normal((n_out, n_in))).astype(dtype, copy=False)
