r"""Loss landscapes: 2-D test surfaces for optimisers, and slices of a network's loss.

Test surfaces (each with its exact gradient):

- ``"ravine"``: the ill-conditioned quadratic :math:`\tfrac12(x^2 + 25 y^2)`, condition number 25;
- ``"rosenbrock"``: :math:`(1-x)^2 + 100 (y - x^2)^2`, a curved valley, minimum at (1, 1);
- ``"saddle"``: :math:`x^2 + \tfrac14 y^4 - \tfrac12 y^2`, a saddle at the origin between
  minima at :math:`(0, \pm 1)`: gradient descent started on the ridge stalls.

Network slices (Goodfellow et al. 2015; Li et al. 2018):
:func:`interpolate_loss` evaluates :math:`L((1-\alpha)\theta_0 + \alpha\theta_1)` along the
segment between two parameter sets; :func:`loss_surface_2d` evaluates
:math:`L(\theta + \alpha d_1 + \beta d_2)` on a grid, with random directions scaled
filter-wise (row-wise) to the weights' norms so that the picture is not an artefact
of the weights' scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .mlp import MLP

__all__ = ["Surface", "SURFACES", "get_surface", "hessian", "trajectory", "walk", "interpolate_loss",
           "random_direction", "loss_surface_2d", "fraction_minima"]


@dataclass(frozen=True)
class Surface:
    """A 2-D function with its gradient, a sensible plotting window, and its minimum."""

    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]  # vectorised over grids
    grad: Callable[[np.ndarray], np.ndarray]  # (2,) -> (2,)
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minimum: tuple[float, float]
    start: tuple[float, float]

    def __call__(self, p) -> float:
        p = np.asarray(p, dtype=np.float64)
        return float(self.f(p[0], p[1]))


SURFACES: dict[str, Surface] = {
    "ravine": Surface(
        "ravine",
        lambda x, y: 0.5 * (x ** 2 + 25.0 * y ** 2),
        lambda p: np.array([p[0], 25.0 * p[1]]),
        (-4.5, 4.5), (-1.5, 1.5), (0.0, 0.0), (-4.0, 1.0),
    ),
    "rosenbrock": Surface(
        "rosenbrock",
        lambda x, y: (1 - x) ** 2 + 100.0 * (y - x ** 2) ** 2,
        lambda p: np.array([-2 * (1 - p[0]) - 400.0 * p[0] * (p[1] - p[0] ** 2), 200.0 * (p[1] - p[0] ** 2)]),
        (-2.0, 2.0), (-1.0, 3.0), (1.0, 1.0), (-1.5, 2.5),
    ),
    "saddle": Surface(
        "saddle",
        lambda x, y: x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2,
        lambda p: np.array([2 * p[0], p[1] ** 3 - p[1]]),
        (-2.0, 2.0), (-1.6, 1.6), (0.0, 1.0), (-1.8, 1e-3),
    ),
}


def get_surface(name: str | Surface) -> Surface:
    if isinstance(name, Surface):
        return name
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; expected one of {sorted(SURFACES)}")
    return SURFACES[name]


def hessian(surface: str | Surface, point, h: float = 1e-5) -> np.ndarray:
    r"""The 2x2 Hessian :math:`\nabla^2 L` of a surface at ``point``, by central differences of its gradient.

    Its eigenvalues are the curvatures along the principal directions; their ratio
    :math:`\kappa = \lambda_{max}/\lambda_{min}` (when both are positive) is the condition number
    that limits plain gradient descent. Symmetrised; truncation error of order ``h**2``.
    """
    surface = get_surface(surface)
    p = np.asarray(point, dtype=np.float64)
    if p.shape != (2,):
        raise ValueError(f"point must be a point (x, y), got shape {p.shape}")
    H = np.empty((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        H[:, j] = (surface.grad(p + e) - surface.grad(p - e)) / (2 * h)
    return 0.5 * (H + H.T)


def trajectory(surface: str | Surface, optimizer, start=None, steps: int = 100) -> np.ndarray:
    """Run ``optimizer`` (any :mod:`backprop_lib.optim` optimiser) on a surface.

    Returns the visited points, shape (steps + 1, 2), starting at ``start`` (default: the
    surface's own start). Stops early (repeating the last point) if the iterate diverges.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    points = walk(surface, optimizer, _start_point(get_surface(surface), start))
    return np.array([next(points) for _ in range(steps + 1)])


def walk(surface: str | Surface, optimizer, start=None) -> Iterator[np.ndarray]:
    """The points ``optimizer`` visits on a surface, without end: ``start`` first, then one per
    step. Once the iterate diverges (beyond 1e6, inf or nan) the last finite point repeats and
    the optimiser takes no more steps. :func:`trajectory` takes the first ``steps + 1``; notebook
    06's widget keeps a walk and takes more when the step count grows.
    """
    surface = get_surface(surface)
    params = {"p": _start_point(surface, start)}
    point = params["p"].copy()
    yield point
    while True:
        optimizer.step(params, {"p": surface.grad(params["p"])})
        x, y = params["p"].tolist()
        if not (abs(x) <= 1e6 and abs(y) <= 1e6):  # every comparison with inf or nan is False too
            while True:
                yield point
        point = params["p"].copy()
        yield point


def _start_point(surface: Surface, start) -> np.ndarray:
    p = np.array(surface.start if start is None else start, dtype=np.float64)
    if p.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {p.shape}")
    return p


def interpolate_loss(net: MLP, start: dict, end: dict, X, y, alphas, loss: str = "cross_entropy") -> np.ndarray:
    r"""Loss along :math:`\theta(\alpha) = (1-\alpha)\,\theta_{start} + \alpha\,\theta_{end}`, one value per alpha."""
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1:
        raise ValueError(f"alphas must be 1-D, got shape {alphas.shape}")
    for name, params in (("start", start), ("end", end)):
        if set(params) != set(net.params) or any(params[k].shape != net.params[k].shape for k in net.params):
            raise ValueError(f"{name} must have the keys and shapes of net.params")
    probe = net.copy()
    out = np.empty(alphas.size)
    for i, a in enumerate(alphas):
        probe.params = {k: (1 - a) * start[k] + a * end[k] for k in net.params}
        out[i] = probe.loss(X, y, loss=loss)
    return out


def random_direction(params: dict[str, np.ndarray], seed: int = 0,
                     filter_normalize: bool = True) -> dict[str, np.ndarray]:
    """A Gaussian direction in parameter space; with ``filter_normalize`` each row of each
    weight (one unit's incoming weights) is rescaled to that row's norm, and biases are zeroed
    (Li et al. 2018)."""
    rng = np.random.default_rng(seed)
    direction = {}
    for k, p in params.items():
        d = rng.standard_normal(p.shape)
        if filter_normalize:
            if p.ndim == 1:
                d = np.zeros_like(p)
            else:
                d *= np.linalg.norm(p, axis=1, keepdims=True) / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-12)
        direction[k] = d
    return direction


def loss_surface_2d(net: MLP, X, y, d1: dict, d2: dict, alphas, betas, loss: str = "cross_entropy") -> np.ndarray:
    r"""Grid of :math:`L(\theta + \alpha d_1 + \beta d_2)`: shape (len(betas), len(alphas)) for ``contourf``."""
    alphas = np.asarray(alphas, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    theta = net.params
    probe = net.copy()
    grid = np.empty((betas.size, alphas.size))
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            probe.params = {k: theta[k] + a * d1[k] + b * d2[k] for k in theta}
            grid[i, j] = probe.loss(X, y, loss=loss)
    return grid


def fraction_minima(dim: int, samples: int = 10000, seed: int = 0) -> float:
    r"""Monte-Carlo fraction of random symmetric ``dim x dim`` Hessians that are positive definite.

    A critical point (:math:`\nabla L = 0`) is a minimum only if *every* eigenvalue of the
    Hessian is positive. For a random symmetric matrix (GOE: :math:`H = (A + A^\top)/2`,
    :math:`A_{ij} \sim N(0, 1)`) the chance of that falls faster than exponentially with
    ``dim``, not like the :math:`2^{-d}` of d independent signs: the eigenvalues repel each
    other and spread over about :math:`[-\sqrt{2d}, \sqrt{2d}]` (Wigner's semicircle), so all
    of them positive needs the whole spectrum to shift, and the probability decays like
    :math:`3^{-d^2/4}` for large d (Dean & Majumdar 2006). In high dimensions almost every
    critical point is a saddle (Dauphin et al. 2014).
    """
    for name, value in (("dim", dim), ("samples", samples)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((samples, dim, dim))
    H = 0.5 * (A + np.swapaxes(A, 1, 2))
    return float(np.mean(np.linalg.eigvalsh(H)[:, 0] > 0))
