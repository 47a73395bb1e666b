"""Bad input: a ValueError/TypeError that names the argument, the expected and the actual
shape/dtype/value; inputs are never mutated, not even on the error path."""

import copy

import numpy as np
import pytest

from backprop_lib import activations, data, init, layers, losses
from backprop_lib.mlp import MLP, train

NET = MLP([4, 5, 3], seed=0)
X = np.random.default_rng(0).standard_normal((6, 4))
Y = np.array([0, 1, 2, 0, 1, 2])
W = np.random.default_rng(1).standard_normal((3, 4))
B = np.zeros(3)


def _nan(a):
    a = a.copy()
    a[1, 2] = np.nan
    return a


def _inf(a):
    a = a.copy()
    a[0, 0] = np.inf
    return a


# (id, callable, args, error type, fragments the message must contain)
CASES = [
    # MLP inputs
    ("X wrong columns", NET.forward, (np.ones((3, 5)),), ValueError, ["X", "(N, 4)", "(3, 5)"]),
    ("X 1-D", NET.forward, (np.ones(4),), ValueError, ["X", "(N, 4)", "(4,)"]),
    ("X strings", NET.forward, (np.array([["a"] * 4]),), TypeError, ["X", "numeric", "<U1"]),
    ("X objects", NET.forward, (np.array([[1, None, 2, 3]], dtype=object),), TypeError, ["X", "object"]),
    ("X NaN", NET.forward, (_nan(X),), ValueError, ["X", "NaN"]),
    ("X inf", NET.loss_and_grads, (_inf(X), Y), ValueError, ["X", "inf"]),
    ("X empty batch", NET.forward, (np.ones((0, 4)),), ValueError, ["X", "empty"]),
    ("y out of range", NET.loss_and_grads, (X, np.array([0, 1, 2, 3, 0, 1])), ValueError, ["y", "[0, 3)", "3"]),
    ("y negative", NET.loss_and_grads, (X, np.array([0, 1, 2, -1, 0, 1])), ValueError, ["y", "[0, 3)", "-1"]),
    ("y wrong length", NET.loss_and_grads, (X, Y[:5]), ValueError, ["y", "(6,)", "(5,)"]),
    ("y float labels", NET.loss_and_grads, (X, Y.astype(float)), TypeError, ["y", "integer", "float64"]),
    ("y strings", NET.loss_and_grads, (X, Y.astype(str)), TypeError, ["y", "<U"]),
    ("y mse shape", lambda X, y: NET.loss_and_grads(X, y, loss="mse"), (X, Y), ValueError,
     ["y", "(6, 3)", "(6,)", "one_hot"]),
    ("y mse NaN", lambda X, y: NET.loss_and_grads(X, y, loss="mse"), (X, _nan(np.ones((6, 3)))), ValueError,
     ["y", "NaN"]),
    ("y one-hot NaN", NET.loss_and_grads, (X, _nan(np.ones((6, 3)))), ValueError, ["y", "NaN"]),
    ("unknown loss", lambda X, y: NET.loss_and_grads(X, y, loss="hinge"), (X, Y), ValueError,
     ["loss", "hinge", "cross_entropy", "mse"]),
    ("unknown activation", lambda: MLP([4, 3], activation="swish"), (), ValueError,
     ["activation", "swish", "relu"]),
    ("unknown output activation", lambda: MLP([4, 3], output_activation="softplus"), (), ValueError,
     ["output_activation", "softplus", "sigmoid"]),
    ("activation not a name", lambda: MLP([4, 3], activation=3), (), TypeError, ["activation", "int"]),
    ("unknown init", lambda: MLP([4, 3], init="uniformish"), (), ValueError, ["init", "uniformish", "orthogonal"]),
    ("bad sizes", lambda: MLP([4]), (), ValueError, ["sizes", "[4]"]),
    ("zero width", lambda: MLP([4, 0, 3]), (), ValueError, ["sizes[1]", "0"]),
    ("int dtype", lambda: MLP([4, 3], dtype=np.int64), (), TypeError, ["dtype", "int64"]),
    ("sgd bad lr", lambda: NET.copy().sgd_step(NET.loss_and_grads(X, Y)[1], -1.0), (), ValueError, ["lr", "-1.0"]),
    ("sgd bad grads", lambda: NET.copy().sgd_step({"W1": np.ones((5, 4))}, 0.1), (), ValueError, ["grads", "b1"]),
    ("ce with sigmoid output", lambda: MLP([4, 3], output_activation="sigmoid").loss_and_grads(X, Y), (), ValueError,
     ["cross_entropy", "output_activation"]),
    # train
    ("train epochs", lambda: train(NET.copy(), X, Y, epochs=0), (), ValueError, ["epochs", "0"]),
    ("train batch_size", lambda: train(NET.copy(), X, Y, batch_size=0), (), ValueError, ["batch_size", "0"]),
    ("train lr", lambda: train(NET.copy(), X, Y, lr=float("nan")), (), ValueError, ["lr", "nan"]),
    ("train clip", lambda: train(NET.copy(), X, Y, clip_norm=-1), (), ValueError, ["clip_norm", "-1"]),
    ("train net", lambda: train("net", X, Y), (), TypeError, ["net", "str"]),
    ("train y length", lambda: train(NET.copy(), X, Y[:4]), (), ValueError, ["y", "(6,)", "(4,)"]),
    # losses
    ("mse shapes", losses.mse, (np.ones((2, 3)), np.ones((3, 2))), ValueError, ["pred", "target", "(2, 3)", "(3, 2)"]),
    ("mse empty", losses.mse, (np.ones((0, 3)), np.ones((0, 3))), ValueError, ["pred", "empty"]),
    ("mse NaN", losses.mse, (_nan(np.ones((2, 3))), np.ones((2, 3))), ValueError, ["pred", "NaN"]),
    ("mse strings", losses.mse, (np.array(["a"]), np.ones(1)), TypeError, ["pred", "<U1"]),
    ("ce 1-D logits", losses.softmax_cross_entropy, (np.ones(3), np.array([0])), ValueError, ["logits", "(3,)"]),
    ("ce empty", losses.softmax_cross_entropy, (np.ones((0, 3)), np.array([], int)), ValueError, ["logits", "empty"]),
    ("ce labels range", losses.softmax_cross_entropy, (np.ones((2, 3)), np.array([0, 3])), ValueError,
     ["labels", "[0, 3)", "3"]),
    ("ce labels length", losses.softmax_cross_entropy, (np.ones((2, 3)), np.array([0])), ValueError,
     ["labels", "(2,)", "(1,)"]),
    ("ce labels float", losses.softmax_cross_entropy, (np.ones((2, 3)), np.array([0.0, 1.0])), TypeError,
     ["labels", "float64"]),
    ("ce logits inf", losses.softmax_cross_entropy, (_inf(np.ones((2, 3))), np.array([0, 1])), ValueError,
     ["logits", "inf"]),
    ("ce one-hot shape", losses.softmax_cross_entropy, (np.ones((2, 3)), np.ones((2, 4))), ValueError,
     ["labels", "(2, 3)", "(2, 4)"]),
    ("one_hot range", losses.one_hot, (np.array([0, 5]), 3), ValueError, ["labels", "[0, 3)", "5"]),
    # layers
    ("linear x columns", layers.linear_forward, (np.ones((2, 5)), W, B), ValueError, ["x", "(N, 4)", "(2, 5)"]),
    ("linear b shape", layers.linear_forward, (np.ones((2, 4)), W, np.zeros(4)), ValueError, ["b", "(3,)", "(4,)"]),
    ("linear W 1-D", layers.linear_forward, (np.ones((2, 4)), np.ones(4), B), ValueError, ["W", "(4,)"]),
    ("linear int x", layers.linear_forward, (np.ones((2, 4), int), W, B), TypeError, ["x", "int64"]),
    ("linear list W", layers.linear_forward, (np.ones((2, 4)), [[1.0] * 4] * 3, B), TypeError, ["W", "list"]),
    ("linear_backward dout", lambda: layers.linear_backward(np.ones((2, 4)), layers.linear_forward(X, W, B)[1]), (),
     ValueError, ["dout", "(6, 3)", "(2, 4)"]),
    ("activation_backward da", lambda: layers.activation_backward(np.ones(3), layers.activation_forward(X, "relu")[1]),
     (), ValueError, ["da", "(6, 4)", "(3,)"]),
    ("activation strings", activations.relu, (np.array(["a"]),), TypeError, ["z", "<U1"]),
    ("unknown activation name", activations.get_activation, ("gelu",), ValueError, ["activation", "gelu"]),
    ("leaky slope", lambda: activations.get_activation("leaky_relu", slope=1.5), (), ValueError, ["slope", "1.5"]),
    ("residual W", layers.residual_forward, (X, W, B), ValueError, ["square", "(3, 4)"]),
    # init
    ("init unknown", init.init_weights, ("uniformish", 3, 2), ValueError, ["init", "uniformish", "xavier"]),
    ("init not a name", init.init_weights, (None, 3, 2), TypeError, ["init", "NoneType"]),
    ("init n_in", init.init_weights, ("he", 0, 2), ValueError, ["n_in", "0"]),
    ("init n_out", init.init_weights, ("he", 3, 2.5), ValueError, ["n_out", "2.5"]),
    ("init scale", lambda: init.init_weights("normal", 3, 2, scale=-1.0), (), ValueError, ["scale", "-1.0"]),
    ("init orthogonal n_out", init.init_weights, ("orthogonal", 3, 0), ValueError, ["n_out", "0"]),
    ("init orthogonal gain", lambda: init.init_weights("orthogonal", 3, 2, scale=float("nan")), (), ValueError,
     ["scale", "nan"]),
    # data
    ("xor n", data.xor, (2,), ValueError, ["n", ">= 4", "2"]),
    ("moons noise", lambda: data.moons(noise=-0.1), (), ValueError, ["noise", "-0.1"]),
    ("spirals classes", lambda: data.spirals(classes=1), (), ValueError, ["classes", "1"]),
    ("blobs centers", lambda: data.blobs(centers=0), (), ValueError, ["centers", "0"]),
    ("digits test_size", lambda: data.digits(test_size=1.5), (), ValueError, ["test_size", "1.5"]),
    ("split rows", data.train_test_split, (np.ones((4, 2)), np.ones(3)), ValueError, ["X", "y", "4", "3"]),
]


@pytest.mark.parametrize("fn, args, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error_and_mutates_nothing(fn, args, exc, fragments):
    before = copy.deepcopy(args)
    params_before = {k: v.copy() for k, v in NET.params.items()}
    with pytest.raises(exc) as info:
        fn(*args)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    assert all(np.array_equal(NET.params[k], v) for k, v in params_before.items())


def test_valid_inputs_are_not_mutated_either():
    Xc, Yc = X.copy(), Y.copy()
    net = NET.copy()
    net.forward(X), net.loss_and_grads(X, Y), net.loss(X, Y), net.backprop(X, Y), net.predict(X)
    train(net, X, Y, epochs=2, batch_size=4)
    losses.softmax_cross_entropy(X[:, :3], Y), losses.mse(X, X + 1)
    layers.linear_forward(X, W, B)
    assert np.array_equal(X, Xc) and np.array_equal(Y, Yc)


def test_int_inputs_are_accepted_and_converted():
    out = NET.forward(np.ones((2, 4), dtype=np.int64))
    assert out.dtype == np.float64 and out.shape == (2, 3)
