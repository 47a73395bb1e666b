r"""A multilayer perceptron in numpy, with backprop written out layer by layer.

For layers :math:`l = 1..L`, weights :math:`W_l` of shape (n_l, n_{l-1}) (like
``torch.nn.Linear``) and a batch :math:`a_0 = X` of shape (N, n_0):

.. math::
    z_l = a_{l-1} W_l^\top + b_l, \qquad a_l = f(z_l)
    \quad(\text{residual layers: } a_l = a_{l-1} + s\,f(z_l))

The output layer is linear (the identity activation) unless ``output_activation`` is given.
The backward pass computes the error terms :math:`\delta_l = \partial L / \partial z_l`
(rows = examples):

.. math::
    \delta_L = \frac{\partial L}{\partial a_L} \odot f_{out}'(z_L), \qquad
    \delta_l = (\delta_{l+1} W_{l+1}) \odot f'(z_l), \qquad
    \frac{\partial L}{\partial W_l} = \delta_l^\top a_{l-1}, \qquad
    \frac{\partial L}{\partial b_l} = \textstyle\sum_n \delta_{l,n}

Each equation is written once, in :mod:`backprop_lib.layers` (``linear_forward`` /
``linear_backward`` and ``activation_forward`` / ``activation_backward``);
:meth:`MLP.layer_forward` and :meth:`MLP.layer_backward` call them, and everything else
(training, checkpointing, the pipeline of :mod:`backprop_lib.parallel`) calls those two.

The 1/N convention: the loss :math:`L` is the MEAN of the per-example losses over the batch and
every :math:`\delta_l` is a gradient of that mean, so the 1/N enters once, inside
:math:`\delta_L` (e.g. :math:`(\hat Y - Y)/N` for softmax + cross-entropy); the weight and bias
gradients then SUM over the batch and nothing divides by N again. The forward pass keeps
:math:`z_l` and :math:`a_l` for the backward pass: that is the cache (a :class:`Cache`).

    >>> net = MLP([784, 128, 10], activation="relu", init="he", seed=0)
    >>> net.params["W1"].shape, net.params["b1"].shape
    ((128, 784), (128,))
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import _malloc
from .activations import ACTIVATIONS, Activation, get_activation
from .init import init_weights
from .layers import activation_backward, activation_forward, linear_backward, linear_forward
from .losses import _mse, _softmax_cross_entropy, one_hot
from .optim import clip_grad_norm, sgd_update

__all__ = ["MLP", "Cache", "BackpropResult", "History", "train", "accuracy", "LOSSES",
           "Trace", "Backprop"]

LOSSES = ("cross_entropy", "mse")
_LOSS_ALIASES = {"cross_entropy": "cross_entropy", "ce": "cross_entropy", "softmax_cross_entropy": "cross_entropy",
                 "mse": "mse"}

# Large temporary arrays (a step of 784-256x4-10 frees and re-allocates megabytes) would
# otherwise cost a page fault per 4 KiB on every step; see backprop_lib/_malloc.py.
_malloc.keep_freed_memory()


@dataclass
class Cache:
    """What the forward pass keeps for the backward pass: ``zs[l-1]`` = z_l and
    ``activations[l]`` = a_l (a_0 = X)."""

    zs: list[np.ndarray]
    activations: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


@dataclass
class BackpropResult:
    """Everything one backward pass produces, for plotting and teaching.

    ``deltas[l-1]`` is :math:`\\delta_l = \\partial L/\\partial z_l` of the MEAN loss L, shape (N, n_l)
    (each row carries the 1/N); ``cache`` is the forward pass's :class:`Cache`.
    """

    loss: float
    grads: dict[str, np.ndarray]
    deltas: list[np.ndarray]
    cache: Cache

    @property
    def trace(self) -> Cache:
        """The old name of :attr:`cache`."""
        return self.cache


Trace = Cache              # the old names, kept for notebooks and submissions written against them
Backprop = BackpropResult


@dataclass
class History:
    """Per-epoch training record (``val_accuracy`` stays empty without validation data)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.__dict__.items()}


_IDENTITY = ACTIVATIONS["identity"]


class MLP:
    """Fully connected network with a chosen activation, initialisation and loss.

    Parameters
    ----------
    sizes : list of int
        Layer widths ``[n_in, hidden..., n_out]`` (at least two).
    activation : "sigmoid" | "tanh" | "relu" | "leaky_relu" | "identity"
        Hidden-layer activation.
    init : "zeros" | "normal" | "lecun" | "xavier" | "he"
        Weight initialiser (see :mod:`backprop_lib.init`); ``init_scale`` is the std of "normal".
    seed : int
        Seeds the initial weights (and biases when ``bias_std > 0``).
    output_activation : str or None
        None or "identity" (a linear output, the default) or e.g. "sigmoid" for the MSE demos.
    bias_std : float
        Biases start at 0, or ~ N(0, bias_std^2) when positive.
    residual, residual_scale : bool, float
        Make every hidden layer whose input and output widths match a residual block
        ``a = a_prev + residual_scale * f(z)``.
    leaky_slope : float
        Negative slope of "leaky_relu", in hidden layers and (if chosen) at the output.
    dtype : numpy float dtype
        float64 by default; float32 for speed comparisons.
    """

    def __init__(self, sizes, activation: str = "relu", init: str = "he", seed: int = 0, *,
                 output_activation: str | None = None, init_scale: float | None = None, bias_std: float = 0.0,
                 residual: bool = False, residual_scale: float = 1.0, leaky_slope: float = 0.01,
                 dtype=np.float64):
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else sizes
        if not isinstance(sizes, list) or len(sizes) < 2:
            raise ValueError(f"sizes must be a list of at least two layer widths, got {sizes!r}")
        for i, n in enumerate(sizes):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"sizes[{i}] must be a positive integer, got {n!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating-point dtype, got {self.dtype}")
        if not (isinstance(bias_std, (int, float)) and bias_std >= 0):
            raise ValueError(f"bias_std must be a non-negative number, got {bias_std!r}")
        self.sizes = [int(n) for n in sizes]
        self.activation = get_activation(activation, slope=leaky_slope if activation == "leaky_relu" else None)
        #: None for a linear output (the identity), else the output layer's Activation
        self.output_activation: Activation | None = (
            None if output_activation is None or output_activation == "identity"
            else get_activation(output_activation, arg="output_activation",
                                slope=leaky_slope if output_activation == "leaky_relu" else None))
        self.init, self.init_scale, self.seed = init, init_scale, seed
        self.leaky_slope = float(leaky_slope)
        self.residual_scale = float(residual_scale)
        L = len(self.sizes) - 1
        self.residual = tuple(bool(residual) and 1 <= i < L - 1 and self.sizes[i] == self.sizes[i + 1]
                              for i in range(L))
        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        for l in range(1, L + 1):
            n_in, n_out = self.sizes[l - 1], self.sizes[l]
            self.params[f"W{l}"] = init_weights(init, n_in, n_out, rng, scale=init_scale, dtype=self.dtype)
            b = bias_std * rng.standard_normal(n_out) if bias_std > 0 else np.zeros(n_out)
            self.params[f"b{l}"] = b.astype(self.dtype)

    # ------------------------------------------------------------------ info
    @property
    def n_layers(self) -> int:
        """Number of weight layers L (hidden layers + output)."""
        return len(self.sizes) - 1

    @property
    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self) -> str:
        res = ", residual" if any(self.residual) else ""
        out = f", output={self.output_activation.name}" if self.output_activation else ""
        return f"MLP({self.sizes}, activation={self.activation.name!r}{out}{res}, params={self.num_params})"

    def copy(self) -> MLP:
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ validation
    def check_batch(self, X, y=None, loss: str = "cross_entropy") -> tuple[np.ndarray, Any, str]:
        """Validate a batch once, for every entry point: returns ``(X, y, loss_name)``.

        ``X`` becomes a finite (N, n_in) array of the network's dtype; ``y`` class ids (N,) or
        rows (N, n_out) as ``loss`` needs; ``loss`` a canonical name of :data:`LOSSES` (without
        ``y``, only X is checked). Everything after this call runs unchecked.
        """
        X = _as_batch(X, self.sizes[0], self.dtype)
        if y is None:
            return X, None, loss
        loss = self._loss_name(loss)
        return X, _as_targets(y, X.shape[0], self.sizes[-1], loss, self.dtype), loss

    def _loss_name(self, loss: str) -> str:
        if not isinstance(loss, str):
            raise TypeError(f"loss must be a name (str), got {type(loss).__name__}")
        if loss not in _LOSS_ALIASES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {list(LOSSES)}")
        name = _LOSS_ALIASES[loss]
        if name == "cross_entropy" and self.output_activation is not None:
            raise ValueError("loss='cross_entropy' applies softmax itself: use output_activation=None")
        return name

    # ------------------------------------------------------------------ one layer
    def layer_activation(self, l: int) -> Activation:
        """The activation f of layer ``l``: the output layer's (identity when linear) or the hidden one."""
        if l == self.n_layers:
            return self.output_activation or _IDENTITY
        return self.activation

    def layer_forward(self, l: int, a_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Layer ``l`` (1..L) alone: ``a_prev`` (N, n_{l-1}) -> ``(z_l, a_l)``, both (N, n_l).

        The building block of :meth:`forward` and of checkpointed backprop, which
        re-runs single layers (same floating-point operations, so identical results).
        """
        W, b = self.params[f"W{l}"], self.params[f"b{l}"]
        z, _ = linear_forward(a_prev, W, b)  # z = a_prev W^T + b
        a, _ = activation_forward(z, self.layer_activation(l))  # a = f(z)
        if self.residual[l - 1]:
            a = a_prev + self.residual_scale * a
        return z, a

    def layer_backward(self, l: int, da: np.ndarray, a_prev: np.ndarray, z: np.ndarray,
                       need_input_grad: bool = True):
        """Backward through layer ``l``: ``da`` = dL/da_l -> ``(da_prev, dW, db, delta)``.

        ``delta`` = dL/dz_l (N, n_l); ``da_prev`` = dL/da_{l-1} (None when not needed). ``a_prev`` and
        ``z`` come from the cache. ``da`` is a gradient of the mean loss (it carries the 1/N), so
        ``dW`` and ``db`` sum over the batch (:func:`~backprop_lib.layers.linear_backward`): no second 1/N.
        """
        residual = self.residual[l - 1]
        da_branch = self.residual_scale * da if residual else da
        delta = activation_backward(da_branch, (z, self.layer_activation(l)))  # delta = da * f'(z)
        da_prev, dW, db = linear_backward(delta, (a_prev, self.params[f"W{l}"]), need_dx=need_input_grad)
        if residual and need_input_grad:
            da_prev += da  # the identity path carries da past the layer
        return da_prev, dW, db, delta

    # ------------------------------------------------------------------ the whole network
    def _forward(self, X: np.ndarray) -> Cache:
        cache = Cache(zs=[], activations=[X])
        for l in range(1, self.n_layers + 1):
            z, a = self.layer_forward(l, cache.activations[-1])
            cache.zs.append(z)
            cache.activations.append(a)
        return cache

    def _backward(self, cache: Cache, dout: np.ndarray) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        """Backprop ``dout = dL/da_L`` through the cache: returns (grads, deltas), output layer first."""
        grads: dict[str, np.ndarray] = {}
        deltas = []
        da = dout
        for l in range(self.n_layers, 0, -1):
            da, grads[f"W{l}"], grads[f"b{l}"], delta = self.layer_backward(
                l, da, cache.activations[l - 1], cache.zs[l - 1], need_input_grad=l > 1)
            deltas.append(delta)
        return {k: grads[k] for k in self.params}, deltas[::-1]

    def _output_loss(self, out: np.ndarray, y, loss: str) -> tuple[float, np.ndarray]:
        # Unchecked: y was validated by check_batch (the losses' public functions validate
        # their arguments; these internals compute the same numbers).
        return _softmax_cross_entropy(out, y) if loss == "cross_entropy" else _mse(out, y)

    def _backprop(self, X: np.ndarray, y, loss: str) -> BackpropResult:
        """The one path of every training step: forward, loss, backward, on a checked batch."""
        cache = self._forward(X)
        value, dout = self._output_loss(cache.output, y, loss)
        grads, deltas = self._backward(cache, dout)
        return BackpropResult(value, grads, deltas, cache)

    def forward(self, X) -> np.ndarray:
        """Network output for a batch: (N, n_in) -> (N, n_out) (logits unless an output activation is set)."""
        return self._forward(self.check_batch(X)[0]).output

    def forward_cache(self, X) -> Cache:
        """Forward pass keeping every z_l and a_l: the cache that backprop needs."""
        return self._forward(self.check_batch(X)[0])

    forward_trace = forward_cache  # the old name

    def output_loss(self, out: np.ndarray, y, loss: str = "cross_entropy") -> tuple[float, np.ndarray]:
        """Mean loss of a network output and its gradient dL/da_L, which carries the 1/N (y already validated)."""
        return self._output_loss(out, y, self._loss_name(loss))

    def backprop(self, X, y, loss: str = "cross_entropy") -> BackpropResult:
        """Forward and backward pass with everything kept: loss, grads, deltas and the cache."""
        return self._backprop(*self.check_batch(X, y, loss))

    def loss_and_grads(self, X, y, loss: str = "cross_entropy") -> tuple[float, dict[str, np.ndarray]]:
        """Mean loss over the batch and its gradient for every parameter (same keys as ``params``).

        ``loss="cross_entropy"``: y is (N,) int class ids or (N, C) one-hot (``F.cross_entropy``).
        ``loss="mse"``: y is (N, C) targets (``F.mse_loss``, mean over all elements).
        """
        result = self._backprop(*self.check_batch(X, y, loss))
        return result.loss, result.grads

    def loss(self, X, y, kind: str = "cross_entropy", **kwargs) -> float:
        """The mean loss only (one forward pass), e.g. for finite differences; ``kind`` names the loss."""
        kind = kwargs.pop("loss", kind)  # the old keyword, ``net.loss(X, y, loss="mse")``
        if kwargs:
            raise TypeError(f"loss() got unexpected keyword arguments {sorted(kwargs)}")
        X, y, kind = self.check_batch(X, y, kind)
        return self._output_loss(self._forward(X).output, y, kind)[0]

    # ------------------------------------------------------------------ updates & predictions
    def sgd_step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        r"""Plain gradient descent in place: :math:`\theta \leftarrow \theta - \eta\,\partial L/\partial\theta`."""
        sgd_update(self.params, grads, _positive(lr, "lr"))

    def _train_step(self, X: np.ndarray, y, loss: str, lr: float, clip_norm: float | None = None,
                    optimizer=None) -> float:
        """One step on a checked batch (what :func:`train` runs): exactly ``loss_and_grads`` + update."""
        result = self._backprop(X, y, loss)
        grads = result.grads if clip_norm is None else clip_grad_norm(result.grads, clip_norm)[0]
        if optimizer is not None:  # e.g. backprop_lib.optim.Adam(): its own learning rate
            optimizer.step(self.params, grads)
        else:
            sgd_update(self.params, grads, lr)
        return result.loss

    def predict(self, X) -> np.ndarray:
        """Predicted class ids (N,): the argmax of the output."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, y) -> float:
        return accuracy(self.predict(X), y)


def _as_batch(X, n_in: int, dtype: np.dtype) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"X must be a numeric array, got dtype {X.dtype}")
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ValueError(f"X must have shape (N, {n_in}) for this network, got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X is an empty batch: need at least one example")
    X = X.astype(dtype, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf")
    return X


def _as_targets(y, n: int, c: int, loss: str, dtype: np.dtype):
    y = np.asarray(y)
    if loss == "mse" and y.shape != (n, c):
        hint = f" (for class labels use backprop_lib.losses.one_hot(y, {c}))" if y.ndim == 1 else ""
        raise ValueError(f"y must be targets of shape ({n}, {c}) for loss='mse', got {y.shape}{hint}")
    if y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise TypeError(f"y must be integer class ids for loss='cross_entropy', got dtype {y.dtype}")
        if y.shape[0] != n:
            raise ValueError(f"y must have one label per row of X: expected ({n},), got {y.shape}")
        if y.min() < 0 or y.max() >= c:
            raise ValueError(f"y must be class ids in [0, {c}), got values from {y.min()} to {y.max()}")
        return y
    if y.shape != (n, c):
        raise ValueError(f"y must be class ids ({n},) or one-hot ({n}, {c}), got {y.shape}")
    if y.dtype.kind not in "fiub":
        what = "numeric" if loss == "mse" else "numeric one-hot rows"
        raise TypeError(f"y must be {what}, got dtype {y.dtype}")
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or inf")
    return y.astype(dtype, copy=False)


def _positive(value, name: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not (isinstance(value, (int, float, np.floating)) and np.isfinite(value)
                                       and value > 0):
        raise ValueError(f"{name} must be {'None or ' if allow_none else ''}a positive number, got {value!r}")
    return float(value)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def accuracy(pred, y) -> float:
    """Fraction of correct predictions; ``pred`` are class ids (N,) or scores (N, C)."""
    pred = np.asarray(pred)
    y = np.asarray(y)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    if pred.shape != y.shape:
        raise ValueError(f"pred and y must have the same length, got {pred.shape} and {y.shape}")
    if y.size == 0:
        raise ValueError("cannot compute the accuracy of an empty batch")
    return float(np.mean(pred == y))


def train(net: MLP, X, y, *, epochs: int = 10, lr: float = 0.1, batch_size: int = 32,
          loss: str = "cross_entropy", seed: int = 0, X_val=None, y_val=None,
          clip_norm: float | None = None, callback: Callable[[int, History], object] | None = None,
          progress: bool = False, optimizer=None) -> History:
    """Minibatch SGD, in place on ``net``; returns the per-epoch :class:`History`.

    ``y`` holds class ids (N,) for either loss (for ``loss="mse"`` they are turned into
    one-hot targets). Each epoch shuffles with ``seed`` (same call, same numbers).
    ``clip_norm`` clips every step's gradient to that global norm. ``callback(epoch, history)``
    runs after every epoch (return ``False`` to stop early). ``progress=True`` shows an
    ipywidgets progress bar in a notebook. ``optimizer`` (e.g. ``backprop_lib.optim.Adam()``)
    replaces plain SGD; its own learning rate is used and ``lr`` is ignored.

    Inputs are validated once; each step then runs the path of ``net.loss_and_grads``
    followed by ``net.sgd_step`` (the same numbers, bit for bit) without checking again.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib.mlp.MLP, got {type(net).__name__}")

    def targets(labels):
        labels = np.asarray(labels)
        return one_hot(labels, net.sizes[-1]) if (net._loss_name(loss) == "mse" and labels.ndim == 1) else labels

    labels = np.asarray(y)
    X, Y, loss = net.check_batch(X, targets(labels), loss)
    if X_val is not None:
        y_val = np.asarray(y_val)
        X_val, Y_val, _ = net.check_batch(X_val, targets(y_val), loss)
    epochs, batch_size = _positive_int(epochs, "epochs"), _positive_int(batch_size, "batch_size")
    lr, clip_norm = _positive(lr, "lr"), _positive(clip_norm, "clip_norm", allow_none=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if optimizer is not None and not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    rng = np.random.default_rng(seed)
    history = History()
    bar = _progress_bar(epochs) if progress else None
    n = X.shape[0]
    for epoch in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            value = net._train_step(X[idx], Y[idx], loss, lr, clip_norm, optimizer)
            history.step_loss.append(value)
            total += value * len(idx)
        history.loss.append(total / n)
        history.accuracy.append(accuracy(net._forward(X).output, labels))
        if X_val is not None:
            out = net._forward(X_val).output
            history.val_loss.append(net._output_loss(out, Y_val, loss)[0])
            history.val_accuracy.append(accuracy(out, y_val))
        if bar is not None:
            bar.value = epoch + 1
            bar.description = f"epoch {epoch + 1}/{epochs}"
        if callback is not None and callback(epoch, history) is False:
            break
    return history


def _progress_bar(total: int):
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        return None
    bar = widgets.IntProgress(min=0, max=total, description="training")
    display(bar)
    return bar
