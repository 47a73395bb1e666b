r"""Diagnostics for deep nets: how gradients and activations behave layer by layer.

Backprop multiplies one factor per layer,

.. math::
    \delta_l = (\delta_{l+1} W_{l+1}) \odot f'(z_l)
    \quad\Rightarrow\quad
    \lVert \delta_1 \rVert \lesssim \lVert\delta_L\rVert \prod_{l} \lVert W_{l+1}\rVert\,\max|f'|,

so with :math:`\sigma' \le 1/4` the early layers of a deep sigmoid net get tiny
gradients (vanishing), and with large weights the product blows up (exploding).
This module measures it: per-layer gradient norms, activation statistics,
dead ReLU units, and the experiments of the course's notebook 04 as plain functions
(Nielsen's "speed of learning" per layer, Glorot & Bengio's activation statistics,
residual connections, gradient clipping).

Layers are numbered like :class:`~backprop_lib.mlp.MLP`: weight layer ``l = 1..L``,
hidden layers ``1..L-1``, output layer ``L``. Every function is seeded and float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .activations import get_activation
from .mlp import MLP, History, train

__all__ = [
    "layer_grad_norms",
    "output_grads",
    "output_grad_norms",
    "activation_stats",
    "LayerStats",
    "dead_unit_fraction",
    "derivative_max",
    "chain_derivative_bound",
    "deep_net",
    "digits_batch",
    "speed_of_learning",
    "nielsen_experiment",
    "NIELSEN_PUBLISHED",
    "activation_std_by_depth",
    "GradientFlow",
    "gradient_flow",
    "first_last_ratio",
    "growth_factor",
    "residual_growth_estimates",
    "ResidualGrowth",
    "InitDiagnosis",
    "diagnose_init",
    "dead_relu_experiment",
    "DeadReluResult",
    "clipping_experiment",
    "ClippingRun",
    "train_curves",
]

#: Nielsen, "Neural Networks and Deep Learning", ch. 5: norms of the bias gradient of each
#: hidden layer (first .. last) at initialisation, [784, 30 x k, 10] sigmoid nets, one random
#: net per depth, gradient averaged over the first 1000 MNIST training images. His output layer
#: is 10 sigmoid units with the cross-entropy cost (delta_L = a_L - y): ``output="sigmoid"`` below.
NIELSEN_PUBLISHED: dict[int, tuple[float, ...]] = {
    2: (0.07, 0.31),
    3: (0.012, 0.060, 0.283),
    4: (0.003, 0.017, 0.070, 0.285),
}

_WHICH = ("weight", "bias", "delta", "output")


def _check_which(which: str) -> str:
    if which not in _WHICH:
        raise ValueError(f"which must be one of {list(_WHICH)}, got {which!r}")
    return which


def _positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- measuring


def layer_grad_norms(net: MLP, X, y, loss: str = "cross_entropy", which: str = "bias",
                     hidden_only: bool = True) -> np.ndarray:
    r"""Euclidean norm of each layer's gradient at the current parameters.

    ``which="bias"``: :math:`\lVert \partial L/\partial b_l \rVert` (Nielsen's "speed of
    learning" of layer l); ``"weight"``: Frobenius norm :math:`\lVert \partial L/\partial W_l
    \rVert_F`; ``"delta"``: :math:`\lVert \delta_l \rVert_F` over the batch; ``"output"``:
    :math:`\lVert \partial L/\partial a_l \rVert_F`, the gradient reaching layer l's output
    (for residual nets the fair measure: it does not contain the block's scale s).
    Returns shape (L-1,) for the hidden layers (``hidden_only``) or (L,), first layer first.
    """
    _check_which(which)
    bp = net.backprop(X, y, loss=loss)
    L = net.n_layers
    if which == "output":
        norms = list(output_grad_norms(net, bp)) + [np.nan]
    elif which == "delta":
        norms = [np.linalg.norm(d) for d in bp.deltas]
    else:
        key = "b" if which == "bias" else "W"
        norms = [np.linalg.norm(bp.grads[f"{key}{l}"]) for l in range(1, L + 1)]
    out = np.asarray(norms, dtype=np.float64)
    return out[:-1] if hidden_only else out


def output_grads(net: MLP, bp) -> list[np.ndarray]:
    r""":math:`\partial L/\partial a_l` for the hidden layers ``l = 1..L-1`` from a :class:`Backprop`.

    .. math:: \frac{\partial L}{\partial a_l} = \delta_{l+1} W_{l+1}
              \;\bigl(+\,\frac{\partial L}{\partial a_{l+1}} \text{ if layer } l+1 \text{ is residual}\bigr)
    """
    L = net.n_layers
    out: list[np.ndarray] = [None] * (L - 1)  # type: ignore[list-item]
    da_next = None
    for l in range(L - 1, 0, -1):
        da = bp.deltas[l] @ net.params[f"W{l + 1}"]
        if net.residual[l]:
            da = da + da_next
        out[l - 1] = da
        da_next = da
    return out


def output_grad_norms(net: MLP, bp) -> np.ndarray:
    """Frobenius norms of :func:`output_grads`, shape (L-1,)."""
    return np.array([np.linalg.norm(g) for g in output_grads(net, bp)])


@dataclass
class LayerStats:
    """Statistics of one layer's activations :math:`a_l` (or pre-activations) over a batch."""

    layer: int
    mean: float
    std: float
    saturated: float  # fraction of |a| > 0.99 (tanh) or a < 0.01 / > 0.99 (sigmoid); 0 for others
    zero: float       # fraction of entries exactly 0 (ReLU)
    spread: float     # mean over units of the std ACROSS EXAMPLES: how differently the layer sees the inputs


def activation_stats(net: MLP, X) -> list[LayerStats]:
    """Mean, std, saturated and zero fractions and the spread across examples of every hidden
    layer's activations a_1..a_{L-1} (see :class:`LayerStats`)."""
    trace = net.forward_trace(X)
    name = net.activation.name
    out = []
    for l in range(1, net.n_layers):
        a = trace.activations[l]
        if name == "tanh":
            sat = float(np.mean(np.abs(a) > 0.99))
        elif name == "sigmoid":
            sat = float(np.mean((a < 0.01) | (a > 0.99)))
        else:
            sat = 0.0
        out.append(LayerStats(l, float(a.mean()), float(a.std()), sat, float(np.mean(a == 0)),
                              float(a.std(axis=0).mean())))
    return out


def dead_unit_fraction(net: MLP, X) -> np.ndarray:
    r"""Per hidden layer, the fraction of units that are inactive (:math:`z \le 0`) on EVERY row of X.

    For ReLU such a unit is dead: its output and its gradient are 0 on the whole data set,
    so gradient descent never changes its incoming weights again. Shape (L-1,).
    """
    trace = net.forward_trace(X)
    return np.array([float(np.mean(np.all(z <= 0, axis=0))) for z in trace.zs[:-1]])


# --------------------------------------------------------------------------- closed forms


def derivative_max(activation: str, lo: float = -10.0, hi: float = 10.0, num: int = 200001) -> float:
    r"""Largest :math:`f'(z)` on a fine grid over ``[lo, hi]`` (1/4 for sigmoid, 1 for tanh and ReLU)."""
    act = get_activation(activation)
    z = np.linspace(lo, hi, num)
    return float(act.df(z).max())


def chain_derivative_bound(weights, activation: str = "sigmoid") -> float:
    r"""Upper bound on :math:`|\partial a_L / \partial a_0|` for a scalar chain
    :math:`a_l = f(w_l a_{l-1} + b_l)`:

    .. math:: \left|\frac{\partial a_L}{\partial a_0}\right| = \prod_l |w_l|\,f'(z_l)
              \le \prod_l |w_l| \cdot \bigl(\max f'\bigr)^L,

    with :math:`\max\sigma' = 1/4` and :math:`\max\tanh' = 1`. ``weights`` has shape (L,).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array (L,), got shape {w.shape}")
    bounds = {"sigmoid": 0.25, "tanh": 1.0}
    if activation not in bounds:
        raise ValueError(f"activation must be 'sigmoid' or 'tanh', got {activation!r}")
    return float(np.prod(np.abs(w)) * bounds[activation] ** w.size)


# --------------------------------------------------------------------------- building nets and data


def deep_net(depth: int, width: int = 30, activation: str = "sigmoid", init: str = "lecun", seed: int = 0, *,
             n_in: int = 64, n_out: int = 10, **kwargs) -> MLP:
    """An MLP with ``depth`` hidden layers of ``width`` units: ``[n_in] + [width]*depth + [n_out]``.

    Extra keyword arguments (``init_scale``, ``bias_std``, ``residual``, ``residual_scale``,
    ``leaky_slope``) go to :class:`MLP`.
    """
    depth = _positive_int(depth, "depth")
    width = _positive_int(width, "width")
    return MLP([n_in] + [width] * depth + [n_out], activation=activation, init=init, seed=seed, **kwargs)


_DIGITS_CACHE: dict = {}


def digits_batch(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed batch of ``n`` training digits (8x8 = 64 inputs in [0, 1]) and their labels."""
    from .data import digits

    if "split" not in _DIGITS_CACHE:
        _DIGITS_CACHE["split"] = digits(seed=0)
    split = _DIGITS_CACHE["split"]
    n = _positive_int(n, "n")
    if n > split.X_train.shape[0]:
        raise ValueError(f"n must be at most {split.X_train.shape[0]} (the training set), got {n}")
    idx = np.random.default_rng(seed).permutation(split.X_train.shape[0])[:n]
    return split.X_train[idx].copy(), split.y_train[idx].copy()


# --------------------------------------------------------------------------- Nielsen's experiment


_OUTPUTS = ("softmax", "sigmoid")


def _bias_grad_norms(net: MLP, X, y, output: str) -> np.ndarray:
    r""":math:`\lVert\partial L/\partial b_l\rVert` of every layer (output last) for one of two output layers.

    ``"softmax"``: the course's softmax + cross-entropy, :math:`\delta_L = (Y_hat - Y)/N`.
    ``"sigmoid"``: Nielsen's ``network2.py``: C sigmoid output units and the cross-entropy
    :math:`-\sum_c [y_c \ln a_c + (1-y_c)\ln(1-a_c)]` summed over the units, mean over the
    batch, so :math:`\delta_L = (\sigma(z_L) - Y)/N`. (The library's
    :func:`~backprop_lib.losses.sigmoid_cross_entropy` averages over all N C entries: times C.)
    """
    if output == "softmax":
        return layer_grad_norms(net, X, y, which="bias", hidden_only=False)
    from .losses import one_hot, sigmoid_cross_entropy

    trace = net.forward_trace(X)
    C = net.sizes[-1]
    _, dz = sigmoid_cross_entropy(trace.output, one_hot(y, C))
    da = C * dz  # = (sigmoid(z_L) - Y) / N: the linear output layer passes it on as delta_L
    norms = []
    for l in range(net.n_layers, 0, -1):
        da, _, db, _ = net.layer_backward(l, da, trace.activations[l - 1], trace.zs[l - 1], need_input_grad=l > 1)
        norms.append(np.linalg.norm(db))
    return np.asarray(norms[::-1], dtype=np.float64)


def speed_of_learning(depth: int, activation: str = "sigmoid", init: str = "lecun", *, width: int = 30,
                      bias_std: float = 1.0, seeds=(0, 1, 2, 3, 4), output: str = "softmax",
                      hidden_only: bool = True, X=None, y=None) -> np.ndarray:
    r"""Nielsen's "speed of learning" of each hidden layer at initialisation.

    For each seed: a fresh ``[64, width x depth, 10]`` net (weights from ``init``; Nielsen:
    :math:`W \sim \mathcal N(0, 1/n_{in})` = "lecun", :math:`b \sim \mathcal N(0, 1)`),
    the mean loss over a fixed batch (default: 1000 training digits), and
    :math:`\lVert\partial L/\partial b_l\rVert` per hidden layer (and the output layer last
    unless ``hidden_only``). ``output``: ``"softmax"`` (the course's softmax + cross-entropy) or
    ``"sigmoid"`` (Nielsen's 10 sigmoid units with cross-entropy, :math:`\delta_L = (a_L - Y)/N`;
    see :func:`_bias_grad_norms`). Returns the mean over seeds, first hidden layer first.
    """
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {list(_OUTPUTS)}, got {output!r}")
    if X is None:
        X, y = digits_batch(1000)
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    norms = [_bias_grad_norms(deep_net(depth, width, activation, init, seed=s, n_in=X.shape[1],
                                       bias_std=bias_std), X, y, output)
             for s in seeds]
    mean = np.mean(norms, axis=0)
    return mean[:-1] if hidden_only else mean


def nielsen_experiment(depths=(2, 3, 4), activation: str = "sigmoid", init: str = "lecun", *,
                       bias_std: float = 1.0, seeds=(0, 1, 2, 3, 4), output: str = "softmax",
                       X=None, y=None) -> dict[int, np.ndarray]:
    """:func:`speed_of_learning` for several depths: ``{depth: per-layer bias-gradient norms}``.

    The published MNIST numbers are in :data:`NIELSEN_PUBLISHED`; compare them with
    ``output="sigmoid"`` (his output layer). For ReLU use ``activation="relu", init="he", bias_std=0.0``.
    """
    return {int(d): speed_of_learning(d, activation, init, bias_std=bias_std, seeds=seeds, output=output,
                                      X=X, y=y)
            for d in depths}


# --------------------------------------------------------------------------- activations through depth


def activation_std_by_depth(activation: str, init: str, *, depth: int = 30, width: int = 100,
                            init_scale: float | None = None, n: int = 500, seeds=(0, 1, 2),
                            X=None) -> np.ndarray:
    r"""Std of the activations :math:`a_l` of each hidden layer ``l = 1..depth`` (Glorot & Bengio 2010).

    Input: ``X`` or ``n`` standard-normal rows of ``width`` features; a square net of
    ``depth`` hidden layers, zero biases. Mean over ``seeds``; shape (depth,).
    """
    depth = _positive_int(depth, "depth")
    width = _positive_int(width, "width")
    stds = []
    for s in seeds:
        Xs = np.random.default_rng(1000 + s).standard_normal((n, width)) if X is None else X
        net = deep_net(depth, width, activation, init, seed=s, n_in=Xs.shape[1], init_scale=init_scale)
        trace = net.forward_trace(Xs)
        stds.append([a.std() for a in trace.activations[1:-1]])
    return np.mean(stds, axis=0)


# --------------------------------------------------------------------------- one gradient-flow snapshot


@dataclass
class GradientFlow:
    """What one forward/backward pass of a deep net shows (the notebook's widget draws it).

    Per hidden layer ``l = 1..depth``: ``output_norms`` :math:`\\lVert\\partial L/\\partial a_l\\rVert`
    (the gradient reaching the layer), ``bias_norms`` :math:`\\lVert\\partial L/\\partial b_l\\rVert`
    (the backward signal alone, Nielsen's "speed of learning"), ``weight_norms``
    :math:`\\lVert\\partial L/\\partial W_l\\rVert_F`, and ``clipped_weight_norms`` after clipping
    all gradients together to global norm ``clip_norm`` (equal when no clipping).
    ``activations``/``deltas``: :math:`a_l` and :math:`\\delta_l` of every hidden layer (histograms).
    """

    output_norms: np.ndarray
    bias_norms: np.ndarray
    weight_norms: np.ndarray
    clipped_weight_norms: np.ndarray
    global_norm: float
    loss: float
    activations: list[np.ndarray] = field(repr=False)
    deltas: list[np.ndarray] = field(repr=False)
    config: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """:math:`\\lVert\\partial L/\\partial a_1\\rVert / \\lVert\\partial L/\\partial a_D\\rVert`
        (first over last hidden layer)."""
        return first_last_ratio(self.output_norms)


def gradient_flow(depth: int = 10, activation: str = "sigmoid", init: str = "xavier", *, width: int = 32,
                  residual: bool = False, residual_scale: float | None = None, clip_norm: float | None = None,
                  init_scale: float | None = None, bias_std: float = 0.0, seed: int = 0, X=None, y=None,
                  n: int = 256) -> GradientFlow:
    r"""One backward pass of a ``depth``-hidden-layer net on digits, measured layer by layer.

    The net is ``[64, width x depth, 10]``; with ``residual`` every hidden layer after the
    first is a block :math:`a_l = a_{l-1} + s f(z_l)` with ``residual_scale`` s
    (None means :math:`1/\sqrt{\text{depth}}`). Overflow in an exploding net gives
    inf/NaN norms instead of warnings.
    """
    from .optim import clip_grad_norm, global_norm

    depth = _positive_int(depth, "depth")
    if X is None:
        X, y = digits_batch(n)
    if residual_scale is None:
        residual_scale = 1.0 / np.sqrt(depth)
    net = deep_net(depth, width, activation, init, seed=seed, n_in=X.shape[1], init_scale=init_scale,
                   bias_std=bias_std, residual=residual, residual_scale=residual_scale)
    with np.errstate(all="ignore"):
        bp = net.backprop(X, y)
        hidden = range(1, depth + 1)
        bias = np.array([np.linalg.norm(bp.grads[f"b{l}"]) for l in hidden])
        weight = np.array([np.linalg.norm(bp.grads[f"W{l}"]) for l in hidden])
        gnorm = global_norm(bp.grads)
        if clip_norm is not None and np.isfinite(gnorm):
            clipped, _ = clip_grad_norm(bp.grads, clip_norm)
            cweight = np.array([np.linalg.norm(clipped[f"W{l}"]) for l in hidden])
        else:
            cweight = weight.copy()
        outn = output_grad_norms(net, bp)
    config = dict(depth=depth, activation=activation, init=init, width=width, residual=residual,
                  residual_scale=residual_scale if residual else None, clip_norm=clip_norm)
    return GradientFlow(outn, bias, weight, cweight, gnorm, float(bp.loss), bp.trace.activations[1:-1],
                        bp.deltas[:-1], config)


def first_last_ratio(norms) -> float:
    """``norms[0] / norms[-1]``: < 1 vanishing, > 1 exploding, about 1 healthy."""
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1 or norms.size < 2:
        raise ValueError(f"norms must be 1-D with at least two layers, got shape {norms.shape}")
    with np.errstate(all="ignore"):
        return float(norms[0] / norms[-1])


def growth_factor(norms) -> float:
    r"""Geometric growth per layer towards the input: :math:`(\lVert g_1\rVert/\lVert g_D\rVert)^{1/(D-1)}`."""
    norms = np.asarray(norms, dtype=np.float64)
    return first_last_ratio(norms) ** (1.0 / (norms.size - 1))


@dataclass
class ResidualGrowth:
    r"""Two estimates of how :math:`\lVert\partial L/\partial a_l\rVert` grows per residual ReLU block
    (He init, :math:`a_l = a_{l-1} + s\,\mathrm{relu}(W_l a_{l-1} + b_l)`, biases 0).

    ``per_block_independent`` :math:`= \sqrt{1 + s^2}`: units independent with mean 0, so the
    branch adds the variance :math:`s^2\, n\,\mathrm{Var}(w)\,\mathbb E[f'^2] = s^2` to the
    identity path's. ``per_block_drift`` :math:`= 1 + s/\sqrt{\pi}`: ReLU outputs are never
    negative, so the stream drifts to a large common mean m; unit i is then on when its
    weight row's sum :math:`r_i \sim \mathcal N(0, 2)` is positive, and the gradient's component
    along the all-ones direction is multiplied by :math:`1 + s\,\mathbb E[r\,[r>0]] = 1 + s/\sqrt{\pi}`.
    ``independent``/``drift``: the same over all ``blocks``.
    """

    blocks: int
    scale: float
    per_block_independent: float
    per_block_drift: float

    @property
    def independent(self) -> float:
        return self.per_block_independent ** self.blocks

    @property
    def drift(self) -> float:
        return self.per_block_drift ** self.blocks


def residual_growth_estimates(depth: int, scale: float | None = None) -> ResidualGrowth:
    r"""Predicted first/last gradient ratio of a ``depth``-hidden-layer residual ReLU net (He init).

    The first hidden layer changes the width, so ``depth - 1`` blocks lie between
    :math:`a_1` and :math:`a_{depth}`; ``scale`` None means :math:`s = 1/\sqrt{depth}`
    (as :func:`gradient_flow`). See :class:`ResidualGrowth` for the two estimates.
    """
    depth = _positive_int(depth, "depth", minimum=2)
    s = 1.0 / np.sqrt(depth) if scale is None else float(scale)
    return ResidualGrowth(depth - 1, s, float(np.sqrt(1.0 + s * s)), float(1.0 + s / np.sqrt(np.pi)))


@dataclass
class InitDiagnosis:
    r"""A net at initialisation on a batch, per hidden layer (first layer first).

    ``bias_norms``: :math:`\lVert\partial L/\partial b_l\rVert`; ``spread``: mean over units of the
    std of :math:`a_l` across the examples (how differently the layer sees different inputs);
    ``saturated``: fraction of saturated activations (see :class:`LayerStats`).
    """

    bias_norms: np.ndarray
    spread: np.ndarray
    saturated: np.ndarray

    @property
    def last_first(self) -> float:
        r""":math:`\lVert\partial L/\partial b_{last}\rVert / \lVert\partial L/\partial b_1\rVert`."""
        return 1.0 / first_last_ratio(self.bias_norms)


def diagnose_init(X, y, **net_kwargs) -> InitDiagnosis:
    """:class:`InitDiagnosis` of ``deep_net(n_in=X.shape[1], **net_kwargs)`` (the nets of :func:`train_curves`)."""
    net = deep_net(n_in=X.shape[1], **net_kwargs)
    stats = activation_stats(net, X)
    return InitDiagnosis(layer_grad_norms(net, X, y, which="bias"), np.array([s.spread for s in stats]),
                         np.array([s.saturated for s in stats]))


# --------------------------------------------------------------------------- dead ReLUs


@dataclass
class DeadReluResult:
    """Dead-unit fraction (all hidden units pooled) before, right after one huge step, and after recovery."""

    activation: str
    before: float
    after_big_step: float
    after_recovery: float
    recovery_loss: list[float]


def dead_relu_experiment(activation: str = "relu", *, big_lr: float = 5.0, epochs: int = 10, lr: float = 0.5,
                         depth: int = 1, width: int = 64, seed: int = 0, leaky_slope: float = 0.3,
                         X=None, y=None) -> DeadReluResult:
    r"""Kill ReLUs with one large learning-rate step, then train normally and count the dead.

    1. A ``[64, width x depth, 10]`` net (He init) on ``X`` (default: 500 digits).
    2. One full-batch gradient step with ``big_lr``: the biases of many units are pushed
       so far negative that :math:`z \le 0` on every example.
    3. ``epochs`` of ordinary minibatch SGD with ``lr``.

    "Dead" = :math:`z \le 0` for every example (:func:`dead_unit_fraction`, pooled over layers).
    A ReLU unit that is dead gets exactly zero gradient and stays dead; a leaky ReLU
    (slope ``leaky_slope`` for z < 0) still passes a gradient and can come back.
    """
    if X is None:
        X, y = digits_batch(500)
    net = deep_net(depth, width, activation, "he", seed=seed, n_in=X.shape[1], leaky_slope=leaky_slope)

    def pooled() -> float:
        trace = net.forward_trace(X)
        return float(np.mean(np.concatenate([np.all(z <= 0, axis=0) for z in trace.zs[:-1]])))

    before = pooled()
    _, grads = net.loss_and_grads(X, y)
    net.sgd_step(grads, big_lr)
    after = pooled()
    hist = train(net, X, y, epochs=epochs, lr=lr, batch_size=32, seed=seed)
    return DeadReluResult(activation, before, after, pooled(), list(hist.loss))


# --------------------------------------------------------------------------- training experiments


@dataclass
class ClippingRun:
    """Per-step record of :func:`clipping_experiment` (NaN after the run diverged).

    ``loss``/``grad_norm``: minibatch loss and global gradient norm (before clipping) per step;
    ``final_loss``/``final_accuracy``: on the whole ``X`` after the last step (NaN if diverged).
    """

    clip_norm: float | None
    loss: np.ndarray
    grad_norm: np.ndarray
    diverged_at: int | None
    final_loss: float = float("nan")
    final_accuracy: float = float("nan")


def clipping_experiment(clip_norm: float | None, *, steps: int = 150, depth: int = 10, width: int = 32,
                        activation: str = "relu", gain: float = 1.5, lr: float = 0.05, batch_size: int = 32,
                        seed: int = 0, X=None, y=None) -> ClippingRun:
    r"""Minibatch SGD on a deep net that starts too large, with or without gradient clipping.

    The weights are :math:`\mathcal N(0, (g\,\sigma_{He})^2)` with gain ``g`` > 1, so with ReLU every
    layer multiplies the signal (forward and backward) by about ``g``: the first gradients are
    huge. Each step clips the gradients to global norm ``clip_norm`` (None: no clipping).
    ``gain=1`` is plain He initialisation (the healthy reference). A run that produces inf/NaN
    (or a loss the library rejects) stops; the rest is NaN.
    """
    from .optim import clip_grad_norm, global_norm

    if X is None:
        X, y = digits_batch(1000)
    steps = _positive_int(steps, "steps")
    net = deep_net(depth, width, activation, "normal", seed=seed, n_in=X.shape[1],
                   init_scale=gain * float(np.sqrt(2.0 / width)))
    rng = np.random.default_rng(seed)
    losses = np.full(steps, np.nan)
    norms = np.full(steps, np.nan)
    diverged = None
    with np.errstate(all="ignore"):
        for t in range(steps):
            idx = rng.choice(X.shape[0], size=batch_size, replace=False)
            out = net.forward(X[idx])
            if not np.isfinite(out).all():
                diverged = t
                break
            value, grads = net.loss_and_grads(X[idx], y[idx])
            norm = global_norm(grads)
            if not (np.isfinite(value) and np.isfinite(norm)):
                diverged = t
                break
            losses[t], norms[t] = value, norm
            if clip_norm is not None:
                grads, _ = clip_grad_norm(grads, clip_norm)
            net.sgd_step(grads, lr)
        final_loss = final_acc = float("nan")
        if diverged is None and np.isfinite(net.forward(X)).all():
            final_loss, final_acc = float(net.loss(X, y)), float(net.accuracy(X, y))
    return ClippingRun(clip_norm, losses, norms, diverged, final_loss, final_acc)


def train_curves(configs: dict[str, dict], *, epochs: int = 20, lr: float = 0.1, batch_size: int = 32,
                 seed: int = 0, X=None, y=None, X_val=None, y_val=None, progress: bool = False) -> dict[str, History]:
    """Train one net per entry of ``configs`` (keyword arguments of :func:`deep_net`) with the same budget.

    ``progress=True`` shows a progress bar per net in a notebook.

    Returns ``{name: History}``; the data default to the digits training/test split.
    """
    from .data import digits

    if X is None:
        split = digits(seed=0)
        X, y, X_val, y_val = split
    out = {}
    for name, cfg in configs.items():
        net = deep_net(n_in=X.shape[1], **cfg)
        out[name] = train(net, X, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                          X_val=X_val, y_val=y_val, progress=progress)
    return out
