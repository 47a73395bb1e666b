r"""Parameter updates: gradient clipping and plain SGD (optimisers with state come later).

Gradient clipping by global norm (``torch.nn.utils.clip_grad_norm_``): with
:math:`g` all gradients stacked,

.. math:: g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert_2}\right)

so the direction is kept and only the length is capped. Clipping each tensor
separately would change the direction.
"""

from __future__ import annotations

import numpy as np

__all__ = ["global_norm", "clip_grad_norm", "sgd_update"]


def global_norm(grads: dict[str, np.ndarray]) -> float:
    r""":math:`\sqrt{\sum_k \lVert g_k \rVert^2}` over every gradient array."""
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Scale all gradients together so their global norm is at most ``max_norm``.

    Returns ``(clipped, norm_before)``; the input dict and arrays are not modified.
    """
    if not (isinstance(max_norm, (int, float, np.floating)) and max_norm > 0 and np.isfinite(max_norm)):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    norm = global_norm(grads)
    factor = min(1.0, float(max_norm) / (norm + 1e-12))
    return {k: g * factor for k, g in grads.items()}, norm


def sgd_update(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
    r"""In place :math:`\theta_k \leftarrow \theta_k - \eta\, g_k` for every key."""
    if set(params) != set(grads):
        raise ValueError(f"grads must have the keys of params {sorted(params)}, got {sorted(grads)}")
    for k, p in params.items():
        if grads[k].shape != p.shape:
            raise ValueError(f"grads[{k!r}] must have shape {p.shape}, got {grads[k].shape}")
        p -= lr * grads[k]
