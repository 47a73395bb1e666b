r"""A tiny neural network made of :class:`~backprop_lib.engine.Value` scalars.

A neuron computes :math:`y = f\left(\sum_i w_i x_i + b\right)`; a layer is a list of
neurons reading the same inputs; :class:`ValueMLP` stacks layers. Every weight is a
``Value``, so ``loss.backward()`` fills every ``p.grad`` and a gradient-descent step is
``p.data -= lr * p.grad``. Slow (one Python object per number) but every step is
visible; the numpy :class:`backprop_lib.mlp.MLP` is the fast, vectorised version.

Also here: the helpers the XOR experiments of notebook 02 use (mean squared error, a
training loop, accuracy, the best possible straight-line classifier); the XOR data set
itself is :func:`backprop_lib.data.xor_signs`.
"""

from __future__ import annotations

from typing import Sequence, cast

import numpy as np

from .data import xor_signs as xor_data  # noqa: F401  (re-exported: notebook 02 and its checks import it here)
from .engine import Value

__all__ = ["Neuron", "Layer", "ValueMLP", "mse_loss", "fit", "accuracy", "xor_data", "best_linear_accuracy"]

_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


def _check_activation(name: str) -> str:
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {name!r}")
    return name


def _activate(z: Value, name: str) -> Value:
    if name == "tanh":
        return z.tanh()
    if name == "sigmoid":
        return z.sigmoid()
    if name == "relu":
        return z.relu()
    return z


def _activate_np(z: np.ndarray, name: str) -> np.ndarray:
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow
    if name == "relu":
        return np.maximum(z, 0.0)
    return z


class Neuron:
    r""":math:`y = f(\mathbf{w}\cdot\mathbf{x} + b)` with ``nin`` weights
    :math:`w_i \sim \mathcal{N}(0, 1/n_{in})` and ``b = 0``."""

    def __init__(self, nin: int, activation: str = "tanh", rng: np.random.Generator | None = None):
        if not isinstance(nin, (int, np.integer)) or nin < 1:
            raise ValueError(f"nin must be a positive int, got {nin!r}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.w = [Value(float(v), label="w") for v in rng.normal(0.0, 1.0 / np.sqrt(nin), size=nin)]
        self.b = Value(0.0, label="b")
        self.activation = _check_activation(activation)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"x must have {len(self.w)} entries, got {len(x)}")
        z = self.b
        for wi, xi in zip(self.w, x):
            z = z + wi * xi
        return _activate(z, self.activation)

    def parameters(self) -> list[Value]:
        return self.w + [self.b]


class Layer:
    """``nout`` neurons that read the same ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng: np.random.Generator | None = None):
        rng = np.random.default_rng(0) if rng is None else rng
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` as float arrays, W of shape (nout, nin) like ``torch.nn.Linear``."""
        W = np.array([[w.data for w in n.w] for n in self.neurons])
        b = np.array([n.b.data for n in self.neurons])
        return W, b


class ValueMLP:
    """A multilayer perceptron of ``Value`` scalars, e.g. ``ValueMLP(2, [2, 1])`` for the 2-2-1 XOR net.

    Parameters
    ----------
    nin : int
        Number of inputs.
    sizes : list of int
        Width of each layer; the last one is the output layer.
    activation : str
        Hidden-layer nonlinearity: "tanh", "sigmoid", "relu" or "linear".
    out_activation : str
        Output nonlinearity ("sigmoid" gives a probability for binary classification).
    seed : int
        Seeds the weight initialisation: the same seed gives the same network.
    """

    def __init__(self, nin: int, sizes: Sequence[int], activation: str = "tanh",
                 out_activation: str = "sigmoid", seed: int = 0):
        if len(sizes) == 0:
            raise ValueError("sizes must list at least one layer width")
        rng = np.random.default_rng(seed)
        dims = [nin] + list(sizes)
        acts = [activation] * (len(sizes) - 1) + [out_activation]
        self.layers = [Layer(dims[i], dims[i + 1], acts[i], rng) for i in range(len(sizes))]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Forward one example; a single ``Value`` when the last layer has one unit."""
        h = self.layers[0](x)
        for layer in self.layers[1:]:
            h = layer(h)
        return h[0] if len(h) == 1 else h

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def hidden(self, X: np.ndarray) -> np.ndarray:
        """Activations of the last hidden layer for a batch ``X`` (N, nin) -> (N, width), with numpy."""
        return self._forward_np(X, len(self.layers) - 1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Outputs for a batch ``X`` (N, nin) -> (N,) (or (N, nout)), with numpy: same numbers as calling the net."""
        out = self._forward_np(X, len(self.layers))
        return out[:, 0] if out.shape[1] == 1 else out

    def _forward_np(self, X: np.ndarray, n_layers: int) -> np.ndarray:
        A = np.asarray(X, dtype=np.float64)
        nin = len(self.layers[0].neurons[0].w)
        if A.ndim != 2 or A.shape[1] != nin:
            raise ValueError(f"X must have shape (N, {nin}), got {A.shape}")
        for layer in self.layers[:n_layers]:
            W, b = layer.weights()
            A = _activate_np(A @ W.T + b, layer.neurons[0].activation)
        return A

    def __repr__(self) -> str:
        sizes = [len(self.layers[0].neurons[0].w)] + [len(l.neurons) for l in self.layers]
        return f"ValueMLP({'-'.join(map(str, sizes))}, {len(self.parameters())} parameters)"


def mse_loss(preds: Sequence[Value], targets: Sequence[float] | np.ndarray) -> Value:
    r"""Mean squared error :math:`L = \frac1N \sum_n (p_n - y_n)^2` as a ``Value`` (``targets`` are the :math:`y_n`)."""
    if len(preds) != len(targets):
        raise ValueError(f"preds and targets must have the same length, got {len(preds)} and {len(targets)}")
    total = Value(0.0)
    for p, t in zip(preds, targets):
        total = total + (p - float(t)) ** 2
    return total / len(preds)


def fit(model: ValueMLP, X: np.ndarray, y: np.ndarray, lr: float = 0.5, steps: int = 100,
        zero_grad: bool = True) -> list[float]:
    """Full-batch gradient descent on the mean squared error; returns the loss before each step.

    One step: ``loss = mse_loss([model(x) for x in X], y)``; zero the gradients;
    ``loss.backward()``; ``p.data -= lr * p.grad`` for every parameter.
    ``zero_grad=False`` shows what happens when the zeroing is forgotten.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, nin) and y (N,), got {X.shape} and {y.shape}")
    params = model.parameters()
    rows = [list(map(float, x)) for x in X]
    losses = []
    for _ in range(steps):
        loss = mse_loss([cast(Value, model(x)) for x in rows], y)
        if zero_grad:
            for p in params:
                p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


def accuracy(model: ValueMLP, X: np.ndarray, y: np.ndarray) -> float:
    """The fraction of examples where ``model``'s output is on the same side of 0.5 as the 0/1 label ``y``."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((model.predict(X) > 0.5) == (y > 0.5)))


def best_linear_accuracy(X: np.ndarray, y: np.ndarray, n_angles: int = 360) -> tuple[float, np.ndarray, float]:
    r"""The best accuracy any straight line :math:`\mathbf{w}\cdot\mathbf{x} + b = 0` reaches on ``(X, y)``.

    Tries ``n_angles`` directions :math:`\mathbf{w} = (\cos\theta, \sin\theta)` and, for
    each, every threshold between two projected points, with either side labelled 1.
    Returns ``(accuracy, w, b)``; the line predicts 1 where :math:`\mathbf{w}\cdot\mathbf{x} + b > 0`.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    best = (-1.0, np.array([1.0, 0.0]), 0.0)
    for theta in np.linspace(0.0, 2 * np.pi, n_angles, endpoint=False):
        w = np.array([np.cos(theta), np.sin(theta)])
        proj = X @ w
        cuts = np.sort(proj)
        thresholds = np.concatenate([[cuts[0] - 1.0], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1.0]])
        acc = ((proj[None, :] > thresholds[:, None]) == (y[None, :] > 0.5)).mean(axis=1)
        i = int(np.argmax(acc))
        if acc[i] > best[0] + 1e-12:
            best = (float(acc[i]), w, float(-thresholds[i]))
    return best
