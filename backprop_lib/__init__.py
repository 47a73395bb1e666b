"""backprop_lib: the small package behind the backpropagation course.

One module per concept (see README.md for the map)::

    gradcheck    finite differences, relative error
    engine       Value, a scalar reverse-mode autodiff engine
    activations  sigmoid, tanh, relu, ... and their derivatives
    losses       mse, softmax cross-entropy
    layers       forward/backward pairs with caches
    init         zeros, normal, Xavier, He
    mlp          MLP: forward, deltas, gradients, training
    data         XOR, spirals, moons, blobs, digits, MNIST
    checkpoint   gradient checkpointing (sqrt and binomial schedules)
    plotting     matplotlib helpers with one colour per concept
    widgets      the notebooks' interactive widgets (logic in plain functions)
    checks       graded checks for the exercise notebooks
    grade        the instructor's grading command
    exercises    generates exercises/ from solutions/

The most used names are importable from the top level, e.g.
``from backprop_lib import Value, MLP, numerical_gradient``; they load lazily.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "numerical_gradient": "gradcheck",
    "rel_error": "gradcheck",
    "central_difference": "gradcheck",
    "forward_difference": "gradcheck",
    "Value": "engine",
    "MLP": "mlp",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = list(_EXPORTS)
