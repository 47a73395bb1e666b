r"""Loss functions, each returning ``(loss, dpred)``: the scalar and its gradient.

Definitions match PyTorch's defaults so results can be compared directly:

- :func:`mse`: :math:`L = \frac{1}{NC}\sum (p - t)^2` (``F.mse_loss``, mean over all elements, no 1/2);
- :func:`softmax_cross_entropy`: :math:`L = -\frac1N \sum_n \log \mathrm{softmax}(z_n)_{y_n}`
  (``F.cross_entropy``); its gradient is :math:`(p - y)/N` for one-hot (or probability) targets;
- :func:`sigmoid_cross_entropy`: binary cross-entropy on logits (``F.binary_cross_entropy_with_logits``).

The 1/N convention of the course: every loss is the MEAN over the batch and returns the
gradient of that mean, so the 1/N of the mean enters the backward pass here, once. The layers
below sum over the batch (``dW = delta.T @ a_prev``, ``db = delta.sum(axis=0)``) and never
divide by N again.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid

__all__ = ["softmax", "log_softmax", "logsumexp", "mse", "softmax_cross_entropy",
           "sigmoid_cross_entropy", "one_hot"]


def _float_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _same_shape_pair(a, a_name: str, b, b_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a prediction and its target: finite numbers, the same shape (no broadcasting), not empty."""
    a = _float_array(a, a_name)
    b = _float_array(b, b_name)
    if a.shape != b.shape:
        raise ValueError(f"{a_name} and {b_name} must have the same shape, "
                         f"got {a_name} {a.shape} and {b_name} {b.shape}")
    if a.size == 0:
        raise ValueError(f"{a_name} is empty: need at least one example")
    return a, b


def logsumexp(z, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    r"""Stable :math:`\log\sum_j e^{z_j} = m + \log\sum_j e^{z_j - m}` with :math:`m = \max_j z_j`."""
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    return z - logsumexp(z, axis=axis, keepdims=True)


def softmax(z, axis: int = -1) -> np.ndarray:
    r""":math:`\mathrm{softmax}(z)_j = e^{z_j - m} / \sum_k e^{z_k - m}`: finite for any finite z."""
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def one_hot(labels, num_classes: int) -> np.ndarray:
    """(N,) int labels -> (N, num_classes) float64 one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be a 1-D integer array, got shape {labels.shape} dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got values from {labels.min()} to {labels.max()}")
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def mse(pred, target) -> tuple[float, np.ndarray]:
    r"""Mean squared error over all elements and its gradient.

    pred, target : same shape, e.g. (N, C). No broadcasting.

    .. math:: L = \frac{1}{NC}\sum_{n,c}(p_{nc} - y_{nc})^2, \qquad
              \frac{\partial L}{\partial p} = \frac{2}{NC}(p - y)

    (C = number of outputs; the gradient carries the 1/N of the mean.)
    """
    pred, target = _same_shape_pair(pred, "pred", target, "target")
    return _mse(pred, target)


def _mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`mse` without input checks (for validated arrays in hot loops)."""
    diff = pred - target
    return float((diff * diff).sum()) / diff.size, (2.0 / diff.size) * diff


def _targets(labels, n: int, c: int, name: str = "labels") -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 1:
        if labels.dtype.kind not in "iu":
            raise TypeError(f"{name} of shape ({n},) must be integer class ids, got dtype {labels.dtype}")
        if labels.shape[0] != n:
            raise ValueError(f"{name} must have one entry per row of logits: expected ({n},), got {labels.shape}")
        if n and (labels.min() < 0 or labels.max() >= c):
            raise ValueError(f"{name} must be class ids in [0, {c}), got values from {labels.min()} to {labels.max()}")
        return labels
    if labels.shape != (n, c):
        raise ValueError(f"{name} must be class ids of shape ({n},) or one-hot of shape ({n}, {c}), got {labels.shape}")
    return _float_array(labels, name)


def softmax_cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    r"""Softmax cross-entropy, mean over the batch, and its gradient.

    logits : (N, C) scores; labels : (N,) int class ids or (N, C) target rows (one-hot,
    probabilities, or any finite weights, as ``F.cross_entropy`` accepts).

    .. math:: L = -\frac1N\sum_n \sum_c y_{nc}\log p_{nc}, \quad p = \mathrm{softmax}(z), \qquad
              \frac{\partial L}{\partial z_{nj}} = \frac{1}{N}\Big(p_{nj} \sum_c y_{nc} - y_{nj}\Big)

    which is the familiar :math:`(p - y)/N` when every row of ``y`` sums to 1 (class ids,
    one-hot rows, probabilities). Rows that do not (multi-hot, all-zero, partial) get the
    general formula, the gradient that PyTorch and finite differences give.
    """
    z = _float_array(logits, "logits")
    if z.ndim != 2:
        raise ValueError(f"logits must be 2-D (N, C), got shape {z.shape}")
    n, c = z.shape
    if n == 0:
        raise ValueError("logits is empty: need at least one example")
    y = _targets(labels, n, c)
    return _softmax_cross_entropy(z, y)


def _softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    r""":func:`softmax_cross_entropy` without input checks (for validated arrays in hot loops).

    With :math:`s = z - \max_c z`: :math:`\log p = s - \log\sum_c e^{s_c}`, and for class ids
    only the picked entries are needed, :math:`L = \mathrm{mean}_n(\log\sum_c e^{s_{nc}} - s_{n y_n})`.
    """
    n = z.shape[0]
    s = z - z.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1, keepdims=True)
    # (``x.sum() / n`` rather than ``np.mean``: same value, a fraction of the call overhead)
    if y.ndim == 1:
        rows = np.arange(n)
        loss = float(np.log(total).sum() - s[rows, y].sum()) / n
        e /= total  # e is now p = softmax(z)
        e[rows, y] -= 1.0
    else:
        s -= np.log(total)  # s is now log p
        loss = -float((y * s).sum()) / n
        e /= total
        e *= y.sum(axis=1, keepdims=True)  # d/dz of -sum_c y_c log p_c is p sum_c y_c - y (x1.0 for one-hot)
        e -= y
    e /= n
    return loss, e


def sigmoid_cross_entropy(logits, targets) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy on logits, mean over all elements, and its gradient.

    .. math:: L = \mathrm{mean}\big(\max(z,0) - z t + \log(1 + e^{-|z|})\big), \qquad
              \frac{\partial L}{\partial z} = \frac{\sigma(z) - t}{\text{size}}
    """
    z, t = _same_shape_pair(logits, "logits", targets, "targets")
    loss = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(loss)), (sigmoid(z) - t) / z.size
