r"""Notebook 03's experiments: layerwise deltas as functions that return plain numbers.

The backward pass of :class:`backprop_lib.mlp.MLP` computes the error terms
:math:`\delta_l = \partial L/\partial z_l`. This module holds the small experiments built
on it (each a pure function the notebook plots and the tests call):

- :func:`array_shapes`: the shape of every cached and backward array of a net;
- :func:`per_example_grads`: the other place for the 1/N (per-example deltas, averaged at the end);
- :func:`two_layer_forward` / :func:`two_layer_backward`: the four equations written out
  for one sigmoid hidden layer and a softmax output (the exercises' reference);
- :func:`single_neuron_curve`, :func:`first_epoch_below`: Nielsen's saturated neuron under
  the quadratic cost and cross-entropy, and how long it stays on its plateau;
- :func:`symmetry_experiment`: zero initialisation keeps hidden units identical;
- :func:`matmul_cost_model`, :func:`gradient_cost`: backprop vs finite differences, counted and
  timed, on the same net;
- :func:`confusion_matrix`, :func:`largest_confusions`, :func:`quick_digits_run`, :func:`example_deltas`.

Conventions: rows are examples. With the textbook's column vectors
:math:`\delta_l = (W_{l+1}^\top \delta_{l+1}) \odot \sigma'(z_l)` and
:math:`\partial L/\partial W_l = \delta_l a_{l-1}^\top`; with a batch stored as rows
(N, n_l) the same equations read ``delta_l = (delta_next @ W_next) * f'(z_l)`` and
``dW_l = delta_l.T @ a_prev``.

The 1/N convention of the course: the batch loss :math:`L` is the MEAN of the per-example
losses :math:`\ell_n`, and :math:`\delta_l = \partial L/\partial z_l` is the gradient of that
mean, so the 1/N enters once, in the output delta (:math:`\delta_L = (Y_hat - Y)/N` for softmax +
cross-entropy). Nothing later divides by N again: ``dW = delta.T @ a_prev`` and
``db = delta.sum(axis=0)`` SUM over the batch. The forward pass keeps what the backward pass
reads in its cache (:math:`z_l`, :math:`a_l`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .activations import sigmoid, sigmoid_grad
from .gradcheck import compare_gradients, numerical_gradient, rel_error  # noqa: F401  (compare_gradients: re-exported)
from .losses import sigmoid_cross_entropy, softmax_cross_entropy
from .mlp import MLP, History, train
from .source import library_line  # noqa: F401  (re-exported: notebook 03 imported it from here)
from .timing import single_thread_blas

__all__ = [
    "array_shapes",
    "per_example_grads",
    "PerExampleGrads",
    "two_layer_init",
    "two_layer_forward",
    "two_layer_backward",
    "single_neuron_curve",
    "first_epoch_below",
    "symmetry_experiment",
    "matmul_cost_model",
    "gradient_cost",
    "GradientCost",
    "confusion_matrix",
    "largest_confusions",
    "quick_digits_run",
    "QuickRun",
    "example_deltas",
]


# --------------------------------------------------------------------------- shapes


def array_shapes(net: MLP, X: np.ndarray, y) -> list[tuple[str, tuple[int, ...], str]]:
    """``(name, shape, meaning)`` of every array of one forward and backward pass on ``X``.

    The shapes are read from the real arrays that :meth:`MLP.backprop` returns, in the
    order the passes create them (forward: a_0, z_1, a_1, ...; backward: delta_L, dW_L, ...).
    """
    bp = net.backprop(X, y)
    rows: list[tuple[str, tuple[int, ...], str]] = [("a0 = X", bp.trace.activations[0].shape, "input batch")]
    L = net.n_layers
    for l in range(1, L + 1):
        rows.append((f"W{l}", net.params[f"W{l}"].shape, "weights (n_out, n_in)"))
        rows.append((f"b{l}", net.params[f"b{l}"].shape, "bias"))
        rows.append((f"z{l}", bp.trace.zs[l - 1].shape, "cached pre-activation"))
        kind = "logits (output)" if l == L else "cached activation"
        rows.append((f"a{l}", bp.trace.activations[l].shape, kind))
    for l in range(L, 0, -1):
        rows.append((f"delta{l}", bp.deltas[l - 1].shape, "dL/dz (one row per example)"))
        rows.append((f"dW{l}", bp.grads[f"W{l}"].shape, "same shape as W"))
        rows.append((f"db{l}", bp.grads[f"b{l}"].shape, "same shape as b"))
    return rows


@dataclass
class PerExampleGrads:
    r"""The per-example form of backprop: ``deltas[l-1][n]`` is :math:`d_{l,n} = \partial \ell_n/\partial z_{l,n}`."""

    deltas: list[np.ndarray]
    grads: dict[str, np.ndarray]


def per_example_grads(net: MLP, X: np.ndarray, y, loss: str = "cross_entropy") -> PerExampleGrads:
    r"""Gradients of the mean loss the other way round: per-example deltas, averaged at the end.

    Each example is sent through the net alone (a batch of one, where the mean loss is
    :math:`\ell_n` itself), which gives its own deltas :math:`d_{l,n} = \partial \ell_n/\partial z_{l,n}`
    (no 1/N). The gradient of :math:`L = \frac1N\sum_n \ell_n` is then the average of the
    per-example outer products,

    .. math:: \frac{\partial L}{\partial W_l} = \frac1N \sum_n d_{l,n}\, a_{l-1,n}^\top, \qquad
              \frac{\partial L}{\partial b_l} = \frac1N \sum_n d_{l,n},

    the same numbers as the course's form (:math:`\delta_l = d_l / N`, then sums) up to rounding.
    Returns the stacked per-example deltas (one (N, n_l) array per layer) and the gradients.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    N = X.shape[0]
    rows = [net.backprop(X[n:n + 1], y[n:n + 1], loss=loss) for n in range(N)]
    deltas = [np.concatenate([r.deltas[l] for r in rows]) for l in range(net.n_layers)]
    grads: dict[str, np.ndarray] = {}
    for l in range(1, net.n_layers + 1):
        d = deltas[l - 1]
        a_prev = np.concatenate([r.trace.activations[l - 1] for r in rows])
        grads[f"W{l}"] = sum(np.outer(d[n], a_prev[n]) for n in range(N)) / N
        grads[f"b{l}"] = d.sum(axis=0) / N
    return PerExampleGrads(deltas, {k: grads[k] for k in net.params})


# --------------------------------------------------------------------------- the two-layer reference


def _check_params(params: dict) -> None:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with W1, b1, W2, b2, got {type(params).__name__}")
    missing = {"W1", "b1", "W2", "b2"} - set(params)
    if missing:
        raise ValueError(f"params is missing {sorted(missing)}")
    W1, b1, W2, b2 = (np.asarray(params[k]) for k in ("W1", "b1", "W2", "b2"))
    if W1.ndim != 2 or W2.ndim != 2 or W2.shape[1] != W1.shape[0]:
        raise ValueError(f"W1 (h, d) and W2 (c, h) must chain, got W1 {W1.shape} and W2 {W2.shape}")
    if b1.shape != (W1.shape[0],) or b2.shape != (W2.shape[0],):
        raise ValueError(f"b1 must be {(W1.shape[0],)} and b2 {(W2.shape[0],)}, got {b1.shape} and {b2.shape}")


def two_layer_init(n_in: int, n_hidden: int, n_out: int, seed: int = 0,
                   scale: float | None = None) -> dict[str, np.ndarray]:
    r"""Parameters of a ``n_in``-``n_hidden``-``n_out`` net: Xavier-normal weights, zero biases.

    ``scale`` overrides the weight std (``0.0`` gives the all-zero initialisation).
    """
    net = MLP([n_in, n_hidden, n_out], activation="sigmoid",
              init="xavier" if scale is None else "normal", init_scale=scale, seed=seed)
    return {k: v.copy() for k, v in net.params.items()}


def two_layer_forward(params: dict, X: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    r"""Forward pass of a sigmoid hidden layer and a linear (logit) output, with its cache.

    .. math:: z_1 = X W_1^\top + b_1,\quad a_1 = \sigma(z_1),\quad z_2 = a_1 W_2^\top + b_2

    X (N, d), W1 (h, d), b1 (h,), W2 (c, h), b2 (c,) -> logits z2 (N, c) and
    ``cache = {"X", "z1", "a1", "z2"}`` (everything the backward pass reads).
    """
    _check_params(params)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != params["W1"].shape[1]:
        raise ValueError(f"X must be (N, {params['W1'].shape[1]}), got {X.shape}")
    z1 = X @ params["W1"].T + params["b1"]
    a1 = sigmoid(z1)
    z2 = a1 @ params["W2"].T + params["b2"]
    return z2, {"X": X, "z1": z1, "a1": a1, "z2": z2}


def two_layer_backward(params: dict, cache: dict, labels) -> dict[str, np.ndarray]:
    r"""Gradients of the mean softmax cross-entropy for :func:`two_layer_forward`.

    The four equations, rows = examples, with the course's 1/N convention: the deltas are
    gradients of the MEAN loss, so the 1/N enters once, in the output delta, and the weight
    and bias gradients sum over the batch:

    .. math::
        \delta_2 = \frac{\hat Y - Y}{N}, \qquad \delta_1 = (\delta_2 W_2) \odot \sigma'(z_1), \qquad
        \frac{\partial L}{\partial W_l} = \delta_l^\top a_{l-1}, \qquad
        \frac{\partial L}{\partial b_l} = \textstyle\sum_n \delta_{l,n}

    (:math:`\hat Y` = softmax rows, :math:`Y` = one-hot rows, :math:`a_0 = X`). ``cache`` is what
    :func:`two_layer_forward` returns. Returns ``{"W1", "b1", "W2", "b2"}`` shaped like
    ``params``; the cache is not modified.
    """
    _check_params(params)
    X, z1, a1, z2 = cache["X"], cache["z1"], cache["a1"], cache["z2"]
    _, d2 = softmax_cross_entropy(z2, np.asarray(labels))   # (Y_hat - Y) / N: the 1/N of the mean
    d1 = (d2 @ params["W2"]) * sigmoid_grad(z1)
    return {"W1": d1.T @ X, "b1": d1.sum(axis=0), "W2": d2.T @ a1, "b2": d2.sum(axis=0)}


# --------------------------------------------------------------------------- learning speed


def single_neuron_curve(loss: str, w: float = 2.0, b: float = 2.0, x: float = 1.0, target: float = 0.0,
                        lr: float = 0.15, epochs: int = 300) -> dict[str, np.ndarray]:
    r"""Gradient descent on one sigmoid neuron :math:`a = \sigma(wx + b)` (Nielsen, ch. 3).

    One example, so the cost is a per-example loss :math:`\ell` (Nielsen calls it C), with target
    :math:`y` = ``target``. ``loss="mse"``: Nielsen's quadratic cost :math:`\ell = \tfrac12 (a - y)^2`,
    so :math:`\partial \ell/\partial z = (a - y)\,\sigma'(z)`: a saturated neuron
    (:math:`\sigma'(z) \approx 0`) learns slowly although it is badly wrong.
    ``loss="cross_entropy"``: :math:`\ell = -y\log a - (1-y)\log(1-a)`, so
    :math:`\partial \ell/\partial z = a - y`: the :math:`\sigma'` cancels.

    Returns ``{"epoch", "cost", "output", "w", "b", "dz"}``, arrays of length ``epochs + 1``
    (entry 0 is the start).
    """
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if not (lr > 0):
        raise ValueError(f"lr must be positive, got {lr!r}")
    n = int(epochs) + 1
    out: dict[str, np.ndarray] = {k: np.empty(n) for k in ("cost", "output", "w", "b", "dz")}
    for i in range(n):
        z = w * x + b
        a = float(sigmoid(np.float64(z)))
        if loss == "mse":
            cost = 0.5 * (a - target) ** 2
            dz = (a - target) * float(sigmoid_grad(np.float64(z)))
        else:
            value, grad = sigmoid_cross_entropy(np.array([z]), np.array([float(target)]))
            cost, dz = value, float(grad[0])
        for k, v in (("cost", cost), ("output", a), ("w", w), ("b", b), ("dz", dz)):
            out[k][i] = v
        w, b = w - lr * dz * x, b - lr * dz
    out["epoch"] = np.arange(n)
    return out


def first_epoch_below(curve: dict, level: float, key: str = "output") -> int | None:
    """The first epoch at which ``curve[key]`` (from :func:`single_neuron_curve`) is below ``level``.

    With the neuron's output starting near 1 and a target of 0, ``first_epoch_below(curve, 0.9)``
    is how many epochs it stays on its plateau. ``None`` when it never gets there.
    """
    below = np.flatnonzero(np.asarray(curve[key]) < level)
    return int(below[0]) if below.size else None


# --------------------------------------------------------------------------- symmetry


def symmetry_experiment(X: np.ndarray, y: np.ndarray, init: str = "zeros", hidden: int = 16, epochs: int = 5,
                        lr: float = 0.5, seed: int = 0, init_scale: float | None = None) -> dict:
    r"""Train a sigmoid ``d``-``hidden``-``c`` net from ``init`` and measure how alike its hidden units are.

    With all-zero weights every hidden unit computes the same function, receives the same
    :math:`\delta` and gets the same update: the rows of :math:`W_1` stay equal forever.

    Returns ``{"net", "history", "W1", "row_spread", "distinct_rows"}`` where
    ``row_spread`` is :math:`\max_{i,j} |W_1[i,j] - W_1[0,j]|` (exactly 0 for identical units)
    and ``distinct_rows`` counts the different rows of :math:`W_1` (rounded to 12 digits).
    """
    n_classes = int(np.max(y)) + 1
    net = MLP([X.shape[1], hidden, n_classes], activation="sigmoid", init=init, init_scale=init_scale, seed=seed)
    with single_thread_blas():
        history = train(net, X, y, epochs=epochs, lr=lr, batch_size=32, seed=seed)
    W1 = net.params["W1"].copy()
    spread = float(np.max(np.abs(W1 - W1[0])))
    distinct = int(np.unique(np.round(W1, 12), axis=0).shape[0])
    return {"net": net, "history": history, "W1": W1, "row_spread": spread, "distinct_rows": distinct}


# --------------------------------------------------------------------------- cost of backprop vs FD


@dataclass
class MatmulCost:
    """Multiply-adds of the matrix products of one forward and one backward pass (batch of N)."""

    forward: int
    backward_dW: int
    backward_dA: int

    @property
    def backward(self) -> int:
        return self.backward_dW + self.backward_dA

    @property
    def ratio(self) -> float:
        """(forward + backward) / forward, counted in multiply-adds of the matrix products."""
        return (self.forward + self.backward) / self.forward


def matmul_cost_model(sizes, N: int = 1) -> MatmulCost:
    r"""The cost model of backprop for a dense net ``sizes`` = [n_0, ..., n_L] on a batch of ``N``.

    Layer l's forward pass is one matrix product, :math:`Z_l = A_{l-1} W_l^\top`
    (:math:`N n_l n_{l-1}` multiply-adds); its backward pass is two of the same size,
    :math:`\partial L/\partial W_l = \delta_l^\top A_{l-1}` and
    :math:`\partial L/\partial A_{l-1} = \delta_l W_l`, except that layer 1 needs no
    :math:`\partial L/\partial A_0` (nobody asks for the gradient of the input). So the backward
    pass costs about twice the forward pass and the whole gradient about three times, whatever
    the number of parameters; the missing product of layer 1 makes it a little less (the more
    of the work sits in layer 1, the closer to 2). Elementwise work (activations, the loss) is
    not counted.
    """
    sizes = [int(n) for n in sizes]
    per_layer = [N * sizes[l] * sizes[l - 1] for l in range(1, len(sizes))]
    return MatmulCost(forward=sum(per_layer), backward_dW=sum(per_layer), backward_dA=sum(per_layer[1:]))


@dataclass
class GradientCost:
    """Timings of one full gradient by backprop and by central differences on the same net.

    ``grads`` (backprop) and ``numeric`` (central differences with step ``h``) are the two
    gradients, ``loss`` the loss at the point (for :func:`compare_gradients`'s round-off test);
    ``matmul_seconds`` is the time of the forward pass's matrix products alone, ``backward_seconds``
    the backward pass alone (from a cached forward pass).
    """

    num_params: int
    backprop_seconds: float
    fd_seconds: float
    forward_seconds: float
    fd_forward_passes: int
    max_rel_error: float
    rel_errors: dict[str, float]
    loss: float = float("nan")
    h: float = 1e-5
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    matmul_seconds: float = float("nan")
    backward_seconds: float = float("nan")

    @property
    def ratio(self) -> float:
        """How many times slower finite differences are."""
        return self.fd_seconds / self.backprop_seconds

    @property
    def backprop_over_forward(self) -> float:
        """Measured cost of forward+backward in units of one forward pass.

        The matrix products alone predict about 3 for dense nets (:func:`matmul_cost_model`);
        a small net in numpy measures less, because fixed per-call work (input checks, the loss,
        Python) that both passes share dominates its tiny products.
        """
        return self.backprop_seconds / self.forward_seconds


def _best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return float(best)


def gradient_cost(net: MLP, X: np.ndarray, y, h: float = 1e-5, repeat: int = 20) -> GradientCost:
    r"""Time the gradient of every parameter by backprop and by central differences.

    Finite differences need :math:`2P` forward passes (P = number of parameters); backprop
    one forward and one backward pass. Both run on ``net``'s own arrays (restored after
    each perturbation), so the two gradients are of the very same function. Times are the
    best of ``repeat`` runs (finite differences: one run), with BLAS on one thread.
    """
    with single_thread_blas():
        return _gradient_cost(net, X, y, h, repeat)


def _gradient_cost(net: MLP, X: np.ndarray, y, h: float, repeat: int) -> GradientCost:
    grads: dict[str, np.ndarray] = {}

    def by_backprop():
        grads.update(net.loss_and_grads(X, y)[1])

    # Interleaved, so that a change of machine load hits all three measurements alike.
    cache = net.forward_cache(X)
    _, dout = net.output_loss(cache.activations[-1], y)
    t_bp = t_fwd = t_bwd = np.inf
    for _ in range(repeat):
        t_fwd = min(t_fwd, _best_time(lambda: net.loss(X, y), 1))
        t_bp = min(t_bp, _best_time(by_backprop, 1))
        t_bwd = min(t_bwd, _best_time(lambda: net._backward(cache, dout), 1))
    acts = net.forward_trace(X).activations
    Ws = [net.params[f"W{l}"] for l in range(1, net.n_layers + 1)]
    t_mm = _best_time(lambda: [a @ W.T for a, W in zip(acts, Ws)], repeat)
    t0 = time.perf_counter()
    numeric = {k: numerical_gradient(lambda _p: net.loss(X, y), p, h=h) for k, p in net.params.items()}
    t_fd = time.perf_counter() - t0
    errors = {k: rel_error(grads[k], numeric[k]) for k in net.params}
    return GradientCost(net.num_params, float(t_bp), t_fd, float(t_fwd), 2 * net.num_params, max(errors.values()),
                        errors, loss=float(net.loss(X, y)), h=h, grads=grads, numeric=numeric, matmul_seconds=t_mm,
                        backward_seconds=float(t_bwd))


# --------------------------------------------------------------------------- evaluation


def confusion_matrix(pred, labels, num_classes: int | None = None) -> np.ndarray:
    """``M[i, j]`` = number of examples of true class ``i`` predicted as ``j`` (int64)."""
    pred = np.asarray(pred)
    labels = np.asarray(labels)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    if pred.shape != labels.shape or labels.ndim != 1:
        raise ValueError(f"pred and labels must be 1-D of the same length, got {pred.shape} and {labels.shape}")
    if pred.dtype.kind not in "iu" or labels.dtype.kind not in "iu":
        raise TypeError(f"pred and labels must be integer class ids, got {pred.dtype} and {labels.dtype}")
    k = int(max(pred.max(initial=0), labels.max(initial=0)) + 1) if num_classes is None else int(num_classes)
    M = np.zeros((k, k), dtype=np.int64)
    np.add.at(M, (labels, pred), 1)
    return M


def largest_confusions(M) -> tuple[int, list[tuple[int, int]]]:
    """The largest off-diagonal count of a confusion matrix and EVERY (true, predicted) pair with it.

    Ties are the rule on a small test set, so all tied pairs are returned (in row order);
    ``(0, [])`` when nothing is confused.
    """
    M = np.asarray(M)
    off = M - np.diag(np.diag(M))
    top = int(off.max(initial=0))
    if top == 0:
        return 0, []
    return top, [(int(i), int(j)) for i, j in np.argwhere(off == top)]


@dataclass
class QuickRun:
    """Per-epoch curves of :func:`quick_digits_run`; ``diverged`` when the loss blew up (NaN/inf)."""

    loss: list[float]
    val_loss: list[float]
    val_accuracy: list[float]
    diverged: bool


def quick_digits_run(lr: float = 0.1, hidden: int = 32, init: str = "he", batch_size: int = 32, epochs: int = 6,
                     n_train: int = 400, seed: int = 0, split=None) -> QuickRun:
    r"""A short training run on the digits for the notebook's widget (well under a second).

    ReLU hidden layer of ``hidden`` units, the first ``n_train`` training digits, the test set
    for validation. ``diverged`` is set when the loss exceeds ten times that of a uniform
    guess (:math:`10 \ln 10`) or overflows; an overflow stops the run early.
    """
    from .data import digits

    split = digits() if split is None else split
    X, y = split.X_train[:n_train], split.y_train[:n_train]
    net = MLP([X.shape[1], int(hidden), 10], activation="relu", init=init, seed=seed)
    seen: list[History] = []

    def keep(epoch, history):
        if not seen:
            seen.append(history)
        return bool(np.isfinite(history.loss[-1]))

    diverged = False
    with np.errstate(over="ignore", invalid="ignore"), single_thread_blas():
        try:
            history = train(net, X, y, epochs=epochs, lr=float(lr), batch_size=int(batch_size), seed=seed,
                            X_val=split.X_test, y_val=split.y_test, callback=keep)
        except ValueError as exc:  # the loss refuses NaN/inf logits: the run diverged
            if "NaN or inf" not in str(exc):
                raise
            history = seen[0] if seen else History()
            diverged = True
    blown_up = 10 * np.log(10)  # ten times the loss of a uniform guess
    diverged = diverged or not all(np.isfinite(v) and v < blown_up for v in history.loss)
    return QuickRun(list(history.loss), list(history.val_loss), list(history.val_accuracy), diverged)


def example_deltas(net: MLP, x: np.ndarray, label: int) -> list[np.ndarray]:
    r"""The error terms :math:`\delta_l` (one vector per layer) for a single example.

    These are per-example deltas :math:`\partial \ell/\partial z_l` (a batch of one, so the
    1/N of the mean is 1). ``x`` is (d,) or (1, d); returns ``[delta_1, ..., delta_L]``.
    """
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    bp = net.backprop(x, np.array([int(label)]))
    return [d[0].copy() for d in bp.deltas]
