"""backprop_lib: the small package behind the backpropagation course.

One module per concept (see README.md for the map)::

    gradcheck     finite differences, relative error, compare_gradients    (01, 03)
    engine        Value, a scalar reverse-mode autodiff engine             (02)
    nn_scalar     neurons, layers and a tiny MLP made of Values            (02)
    forward_mode  dual numbers (forward-mode AD) and its cost vs reverse mode (02)
    activations   sigmoid, tanh, relu, ... and their derivatives
    losses        mse, softmax cross-entropy, binary cross-entropy
    layers        forward/backward pairs with caches
    init          zeros, normal, LeCun, Xavier, He
    mlp           MLP: forward, deltas, gradients, training                 (03-06)
    data          XOR (two sets), spirals, moons, blobs, digits, MNIST
    delta         the layerwise-delta experiments                          (03)
    source        library_line: a notebook quotes the library's own code   (03)
    timing        single_thread_blas: fair timings on a shared machine
    diagnostics   gradient norms, activation statistics, dead units         (04)
    checkpoint    gradient checkpointing: sqrt and binomial schedules      (05)
    optim         SGD, momentum, RMSProp, Adam, schedules, clipping         (04, 06)
    landscape     optimiser test surfaces and loss-landscape slices        (06)
    parallel      backprop split across two processes (a pipeline)          (06)
    plotting/     matplotlib helpers, one module per notebook, one colour per concept
    widgets/      the notebooks' widgets, one module per notebook (logic in plain functions)
    checks/       graded checks for the exercise notebooks, one module per notebook
    grade         the instructor's grading command
    exercises     generates exercises/ from solutions/

The most used names are importable from the top level, e.g.
``from backprop_lib import Value, MLP, numerical_gradient``; they load lazily.
"""

from importlib import import_module, metadata

try:  # the version is stated once, in pyproject.toml
    __version__ = metadata.version("backprop-course")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a copy that was never installed
    __version__ = "unknown"

_EXPORTS = {
    "numerical_gradient": "gradcheck",
    "rel_error": "gradcheck",
    "central_difference": "gradcheck",
    "forward_difference": "gradcheck",
    "Value": "engine",
    "MLP": "mlp",
    "train": "mlp",
    "grads_with_checkpoints": "checkpoint",
    "revolve_cost": "checkpoint",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = list(_EXPORTS)
