r"""A multilayer perceptron in numpy, with backprop written out layer by layer.

For layers :math:`l = 1..L`, weights :math:`W_l` of shape (n_l, n_{l-1}) (like
``torch.nn.Linear``) and a batch :math:`a_0 = X` of shape (N, n_0):

.. math::
    z_l = a_{l-1} W_l^\top + b_l, \qquad a_l = f(z_l)
    \quad(\text{residual layers: } a_l = a_{l-1} + s\,f(z_l))

The output layer is linear unless ``output_activation`` is given. The backward pass
computes the error terms :math:`\delta_l = \partial L / \partial z_l` (rows = examples):

.. math::
    \delta_L = \frac{\partial L}{\partial a_L} \odot f_{out}'(z_L), \qquad
    \delta_l = (\delta_{l+1} W_{l+1}) \odot f'(z_l), \qquad
    \frac{\partial L}{\partial W_l} = \delta_l^\top a_{l-1}, \qquad
    \frac{\partial L}{\partial b_l} = \textstyle\sum_n \delta_{l,n}

The 1/N convention: the loss :math:`L` is the MEAN of the per-example losses over the batch and
every :math:`\delta_l` is a gradient of that mean, so the 1/N enters once, inside
:math:`\delta_L` (e.g. :math:`(\hat Y - Y)/N` for softmax + cross-entropy); the weight and bias
gradients then SUM over the batch and nothing divides by N again. The forward pass keeps
:math:`z_l` and :math:`a_l` for the backward pass: that is the cache (a :class:`Trace`).

    >>> net = MLP([784, 128, 10], activation="relu", init="he", seed=0)
    >>> net.params["W1"].shape, net.params["b1"].shape
    ((128, 784), (128,))
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .init import init_weights
from .losses import _mse, _softmax_cross_entropy
from .optim import clip_grad_norm, sgd_update

__all__ = ["MLP", "Trace", "Backprop", "History", "train", "accuracy", "LOSSES"]

LOSSES = ("cross_entropy", "mse")
_LOSS_ALIASES = {"cross_entropy": "cross_entropy", "ce": "cross_entropy", "softmax_cross_entropy": "cross_entropy",
                 "mse": "mse"}


@dataclass
class Trace:
    """The cache: what the forward pass keeps for the backward pass, ``zs[l-1]`` = z_l and
    ``activations[l]`` = a_l (a_0 = X)."""

    zs: list[np.ndarray]
    activations: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


@dataclass
class Backprop:
    """Everything one backward pass produces, for plotting and teaching.

    ``deltas[l-1]`` is :math:`\\delta_l = \\partial L/\\partial z_l` of the MEAN loss L, shape (N, n_l)
    (each row carries the 1/N); ``trace`` is the forward pass's cache.
    """

    loss: float
    grads: dict[str, np.ndarray]
    deltas: list[np.ndarray]
    trace: Trace


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
        None (linear output, the default) or e.g. "sigmoid" for the MSE demos.
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
        self.output_activation = (None if output_activation is None or output_activation == "identity"
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

    def copy(self) -> "MLP":
        return copy.deepcopy(self)

    def __getstate__(self):
        # The training workspace is scratch memory: never copied or pickled.
        state = dict(self.__dict__)
        state.pop("_workspaces", None)
        return state

    # ------------------------------------------------------------------ validation
    def _check_X(self, X) -> np.ndarray:
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.dtype.kind not in "fiu":
            raise TypeError(f"X must be a numeric array, got dtype {X.dtype}")
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (N, {self.sizes[0]}) for this network, got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X is an empty batch: need at least one example")
        X = X.astype(self.dtype, copy=False)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or inf")
        return X

    def _check_y(self, y, n: int, loss: str):
        y = np.asarray(y)
        c = self.sizes[-1]
        if loss == "mse":
            if y.shape != (n, c):
                hint = " (for class labels use backprop_lib.losses.one_hot(y, %d))" % c if y.ndim == 1 else ""
                raise ValueError(f"y must be targets of shape ({n}, {c}) for loss='mse', got {y.shape}{hint}")
            if y.dtype.kind not in "fiub":
                raise TypeError(f"y must be numeric, got dtype {y.dtype}")
            if not np.isfinite(y).all():
                raise ValueError("y contains NaN or inf")
            return y.astype(self.dtype, copy=False)
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
            raise TypeError(f"y must be numeric one-hot rows, got dtype {y.dtype}")
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or inf")
        return y.astype(self.dtype, copy=False)

    def _loss_name(self, loss: str) -> str:
        if not isinstance(loss, str):
            raise TypeError(f"loss must be a name (str), got {type(loss).__name__}")
        if loss not in _LOSS_ALIASES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {list(LOSSES)}")
        name = _LOSS_ALIASES[loss]
        if name == "cross_entropy" and self.output_activation is not None:
            raise ValueError("loss='cross_entropy' applies softmax itself: use output_activation=None")
        return name

    # ------------------------------------------------------------------ forward
    def layer_forward(self, l: int, a_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Layer ``l`` (1..L) alone: ``a_prev`` (N, n_{l-1}) -> ``(z_l, a_l)``, both (N, n_l).

        The building block of :meth:`forward` and of checkpointed backprop, which
        re-runs single layers (same floating-point operations, so identical results).
        """
        z = a_prev @ self.params[f"W{l}"].T
        z += self.params[f"b{l}"]
        if l == self.n_layers:
            a = z if self.output_activation is None else self.output_activation.f(z)
        elif self.residual[l - 1]:
            a = a_prev + self.residual_scale * self.activation.f(z)
        else:
            a = self.activation.f(z)
        return z, a

    def layer_backward(self, l: int, da: np.ndarray, a_prev: np.ndarray, z: np.ndarray,
                       need_input_grad: bool = True):
        """Backward through layer ``l``: ``da`` = dL/da_l -> ``(da_prev, dW, db, delta)``.

        ``delta`` = dL/dz_l (N, n_l); ``da_prev`` = dL/da_{l-1} (None when not needed). ``a_prev`` and
        ``z`` come from the cache. ``da`` is a gradient of the mean loss (it carries the 1/N), so
        ``dW = delta.T @ a_prev`` and ``db = delta.sum(axis=0)`` sum over the batch: no second 1/N.
        """
        if l == self.n_layers:
            delta = da if self.output_activation is None else self.output_activation.backward(da, z)
        elif self.residual[l - 1]:
            delta = self.activation.backward(self.residual_scale * da, z)
        else:
            delta = self.activation.backward(da, z)
        dW = delta.T @ a_prev
        db = delta.sum(axis=0)
        da_prev = None
        if need_input_grad:
            da_prev = delta @ self.params[f"W{l}"]
            if l < self.n_layers and self.residual[l - 1]:
                da_prev += da
        return da_prev, dW, db, delta

    def _forward(self, X: np.ndarray) -> Trace:
        zs, acts = [], [X]
        a = X
        for l in range(1, self.n_layers + 1):
            z, a = self.layer_forward(l, a)
            zs.append(z)
            acts.append(a)
        return Trace(zs, acts)

    def forward(self, X) -> np.ndarray:
        """Network output for a batch: (N, n_in) -> (N, n_out) (logits unless an output activation is set)."""
        return self._forward(self._check_X(X)).output

    def forward_trace(self, X) -> Trace:
        """Forward pass keeping every z_l and a_l: the cache that backprop needs."""
        return self._forward(self._check_X(X))

    # ------------------------------------------------------------------ backward
    def output_loss(self, out: np.ndarray, y, loss: str = "cross_entropy") -> tuple[float, np.ndarray]:
        """Mean loss of a network output and its gradient dL/da_L, which carries the 1/N (y already validated)."""
        return self._output_grad(out, y, self._loss_name(loss))

    def _output_grad(self, out: np.ndarray, y, loss: str) -> tuple[float, np.ndarray]:
        # Unchecked: X and y were validated once on the way in (the losses' public
        # functions validate their arguments; these internals compute the same numbers).
        if loss == "cross_entropy":
            return _softmax_cross_entropy(out, y)
        return _mse(out, y)

    def _backward(self, trace: Trace, dout: np.ndarray, keep_deltas: bool = False,
                  need_input_grad: bool = False):
        """Backprop ``dout = dL/da_L`` through the cache (``trace``). Returns (grads, deltas, dX)."""
        L = self.n_layers
        grads: dict[str, np.ndarray] = {}
        deltas: list[np.ndarray] = [None] * L  # type: ignore[list-item]
        da = dout
        for l in range(L, 0, -1):
            da, grads[f"W{l}"], grads[f"b{l}"], delta = self.layer_backward(
                l, da, trace.activations[l - 1], trace.zs[l - 1], need_input_grad=(l > 1 or need_input_grad))
            if keep_deltas:
                deltas[l - 1] = delta
        ordered = {k: grads[k] for k in self.params}
        return ordered, deltas, (da if need_input_grad else None)

    def backprop(self, X, y, loss: str = "cross_entropy") -> Backprop:
        """Forward and backward pass with everything kept: loss, grads, deltas and the cache (``trace``)."""
        loss = self._loss_name(loss)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], loss)
        trace = self._forward(X)
        value, dout = self._output_grad(trace.output, y, loss)
        grads, deltas, _ = self._backward(trace, dout, keep_deltas=True)
        return Backprop(value, grads, deltas, trace)

    def loss_and_grads(self, X, y, loss: str = "cross_entropy") -> tuple[float, dict[str, np.ndarray]]:
        """Mean loss over the batch and its gradient for every parameter (same keys as ``params``).

        ``loss="cross_entropy"``: y is (N,) int class ids or (N, C) one-hot (``F.cross_entropy``).
        ``loss="mse"``: y is (N, C) targets (``F.mse_loss``, mean over all elements).
        """
        loss = self._loss_name(loss)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], loss)
        return self._loss_and_grads(X, y, loss)

    def _loss_and_grads(self, X: np.ndarray, y, loss: str):
        trace = self._forward(X)
        value, dout = self._output_grad(trace.output, y, loss)
        grads, _, _ = self._backward(trace, dout)
        return value, grads

    def _train_step(self, X: np.ndarray, y, loss: str, lr: float, clip_norm: float | None = None,
                    optimizer=None) -> float:
        """One unchecked SGD step on a validated batch (what :func:`train` runs); returns the loss.

        The parameters end up exactly (bit for bit) as after ``loss_and_grads`` + ``sgd_step``:
        the same operations, but the large intermediate arrays are written into buffers
        kept between steps (see :meth:`_workspace`).
        """
        if clip_norm is None and optimizer is None:
            return self._train_step_buffered(X, y, loss, lr)
        value, grads = self._loss_and_grads(X, y, loss)
        if clip_norm is not None:
            grads, _ = clip_grad_norm(grads, clip_norm)
        if optimizer is not None:  # e.g. backprop_lib.optim.Adam(): its own learning rate
            optimizer.step(self.params, grads)
            return value
        for k, p in self.params.items():
            g = grads[k]
            g *= lr  # the gradients are fresh arrays: scale in place, then one in-place update
            p -= g
        return value

    def loss(self, X, y, loss: str = "cross_entropy") -> float:
        """The mean loss only (one forward pass), e.g. for finite differences."""
        loss = self._loss_name(loss)
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0], loss)
        return self._output_grad(self._forward(X).output, y, loss)[0]

    def _workspace(self, X: np.ndarray) -> dict:
        """Scratch buffers for one batch size: z_l, a_l, delta_l, dL/da_l and dW_l.

        Why: a step of a big net allocates and frees megabytes of arrays; the C allocator
        hands large freed blocks back to the operating system, so every step pays page
        faults on fresh memory (measured: up to 2x the matrix products' time for
        784-(256x4)-10 in float64). Reusing buffers removes that cost. At most two
        workspaces are kept (the full batch and a smaller last batch).
        """
        key = (X.shape, X.dtype.str) + tuple((p.shape, p.dtype.str) for p in self.params.values())
        cache = self.__dict__.setdefault("_workspaces", {})
        ws = cache.get(key)
        if ws is None:
            if len(cache) >= 2:
                cache.pop(next(iter(cache)))
            n, L = X.shape[0], self.n_layers
            z, a, delta, da, dW = [], [], [], [], []
            a_dtype = X.dtype
            for l in range(1, L + 1):
                W = self.params[f"W{l}"]
                z_dtype = np.result_type(a_dtype, W.dtype)  # z = a W^T, then z += b in place
                z.append(np.empty((n, W.shape[0]), z_dtype))
                a.append(np.empty((n, W.shape[0]), z_dtype))
                delta.append(np.empty((n, W.shape[0]), z_dtype))
                da.append(np.empty((n, W.shape[1]), np.result_type(z_dtype, W.dtype)))
                dW.append(np.empty(W.shape, np.result_type(z_dtype, a_dtype)))
                a_dtype = z_dtype
            ws = cache[key] = {"z": z, "a": a, "delta": delta, "da": da, "dW": dW}
        return ws

    def _train_step_buffered(self, X: np.ndarray, y, loss: str, lr: float) -> float:
        """:meth:`_loss_and_grads` + SGD update, with ``out=`` buffers; same numbers as
        :meth:`layer_forward` / :meth:`layer_backward` (checked bit for bit in the tests)."""
        ws = self._workspace(X)
        L = self.n_layers
        # ReLU gets the buffered fast path, other activations allocate. Compare the functions,
        # not the Activation object: copies and unpickled networks hold equal copies of it.
        relu = self.activation.f is _RELU.f and self.activation.vjp is _RELU.vjp
        acts, zs = [X], []
        a_prev = X
        for l in range(1, L + 1):  # layer_forward with out= buffers
            z = np.matmul(a_prev, self.params[f"W{l}"].T, out=ws["z"][l - 1])
            z += self.params[f"b{l}"]
            if l == L:
                a = z if self.output_activation is None else self.output_activation.f(z)
            elif self.residual[l - 1]:
                a = a_prev + self.residual_scale * self.activation.f(z)
            elif relu:
                a = np.maximum(z, 0.0, out=ws["a"][l - 1])
            else:
                a = self.activation.f(z)
            zs.append(z)
            acts.append(a)
            a_prev = a
        value, da = self._output_grad(acts[-1], y, loss)
        dWs, dbs = [None] * L, [None] * L
        for l in range(L, 0, -1):  # layer_backward with out= buffers
            z = zs[l - 1]
            if l == L:
                delta = da if self.output_activation is None else self.output_activation.backward(da, z)
            elif self.residual[l - 1]:
                delta = self.activation.backward(self.residual_scale * da, z)
            elif relu:
                delta = np.multiply(da, np.greater(z, 0), out=ws["delta"][l - 1])
            else:
                delta = self.activation.backward(da, z)
            dWs[l - 1] = np.matmul(delta.T, acts[l - 1], out=ws["dW"][l - 1])
            dbs[l - 1] = delta.sum(axis=0)
            if l > 1:
                da_prev = np.matmul(delta, self.params[f"W{l}"], out=ws["da"][l - 1])
                if l < L and self.residual[l - 1]:
                    da_prev += da
                da = da_prev
        for l in range(1, L + 1):  # the update of _train_step: g *= lr; p -= g
            for g, p in ((dWs[l - 1], self.params[f"W{l}"]), (dbs[l - 1], self.params[f"b{l}"])):
                g *= lr
                p -= g
        return value

    # ------------------------------------------------------------------ updates & predictions
    def sgd_step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        r"""Plain gradient descent in place: :math:`\theta \leftarrow \theta - \eta\,\partial L/\partial\theta`."""
        if not (isinstance(lr, (int, float, np.floating)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        sgd_update(self.params, grads, lr)

    def predict(self, X) -> np.ndarray:
        """Predicted class ids (N,): the argmax of the output."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, y) -> float:
        return accuracy(self.predict(X), y)


_RELU = ACTIVATIONS["relu"]


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

    Inputs are validated once; each step then runs unchecked, with plain SGD on buffers
    reused between steps, and gives exactly the numbers of ``net.loss_and_grads`` followed
    by ``net.sgd_step`` on the same minibatch.
    """
    from .losses import one_hot

    if not isinstance(net, MLP):
        raise TypeError(f"net must be a backprop_lib.mlp.MLP, got {type(net).__name__}")
    loss = net._loss_name(loss)
    X = net._check_X(X)
    labels = np.asarray(y)
    targets = one_hot(labels, net.sizes[-1]) if (loss == "mse" and labels.ndim == 1) else labels
    targets = net._check_y(targets, X.shape[0], loss)
    if X_val is not None:
        X_val = net._check_X(X_val)
        y_val = np.asarray(y_val)
        val_targets = one_hot(y_val, net.sizes[-1]) if (loss == "mse" and y_val.ndim == 1) else y_val
        val_targets = net._check_y(val_targets, X_val.shape[0], loss)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(lr, bool) or not (isinstance(lr, (int, float, np.floating)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if clip_norm is not None and (isinstance(clip_norm, bool) or not (
            isinstance(clip_norm, (int, float, np.floating)) and np.isfinite(clip_norm) and clip_norm > 0)):
        raise ValueError(f"clip_norm must be None or a positive number, got {clip_norm!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if optimizer is not None and not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    lr = float(lr)
    rng = np.random.default_rng(seed)
    history = History()
    bar = _progress_bar(epochs) if progress else None
    n = X.shape[0]
    batch_buffers: dict[int, np.ndarray] = {}  # reused minibatch arrays (see MLP._workspace)
    for epoch in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            buf = batch_buffers.get(idx.size)
            if buf is None:
                buf = batch_buffers[idx.size] = np.empty((idx.size, X.shape[1]), X.dtype)
            value = net._train_step(np.take(X, idx, axis=0, out=buf), targets[idx], loss, lr, clip_norm,
                                    optimizer)
            history.step_loss.append(value)
            total += value * len(idx)
        history.loss.append(total / n)
        history.accuracy.append(accuracy(net._forward(X).output, labels))
        if X_val is not None:
            out = net._forward(X_val).output
            history.val_loss.append(net._output_grad(out, val_targets, loss)[0])
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
