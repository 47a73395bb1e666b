"""MLP: the public contract, gradients against finite differences, deltas, training."""

import itertools
import pickle

import numpy as np
import pytest

from backprop_lib.data import digits, xor
from backprop_lib.gradcheck import numerical_gradient, rel_error
from backprop_lib.losses import one_hot
from backprop_lib.mlp import MLP, History, accuracy, train
from backprop_lib.optim import clip_grad_norm

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu"]


def _batch(n_in=4, n_out=3, n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    y = rng.integers(0, n_out, size=n)
    return X, y


def test_public_contract_shapes_and_keys():
    net = MLP([784, 128, 10], activation="relu", init="he", seed=0)
    assert net.params["W1"].shape == (128, 784) and net.params["b1"].shape == (128,)
    assert net.params["W2"].shape == (10, 128) and net.params["b2"].shape == (10,)
    X = np.random.default_rng(0).uniform(size=(5, 784))
    assert net.forward(X).shape == (5, 10)
    y = np.array([0, 1, 2, 3, 9])
    loss, grads = net.loss_and_grads(X, y)
    assert np.isfinite(loss) and grads.keys() == net.params.keys()
    loss, grads = net.loss_and_grads(X, one_hot(y, 10), loss="mse")
    assert grads.keys() == net.params.keys()
    assert all(grads[k].shape == p.shape for k, p in net.params.items())


def test_same_seed_same_network():
    a, b = MLP([3, 5, 2], seed=4), MLP([3, 5, 2], seed=4)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["W1"], MLP([3, 5, 2], seed=5).params["W1"])


def _check_grads(net, X, y, loss):
    value, grads = net.loss_and_grads(X, y, loss=loss)
    assert value == pytest.approx(net.loss(X, y, loss=loss), rel=1e-15)
    for k, p in net.params.items():
        num = numerical_gradient(lambda _: net.loss(X, y, loss=loss), p)
        # per entry: relative 1e-7, or absolute 1e-10 for entries near the round-off level of
        # central differences (about 1e-11 here), where a relative error means nothing
        np.testing.assert_allclose(grads[k], num, rtol=1e-7, atol=1e-10, err_msg=k)


@pytest.mark.parametrize("activation, loss", list(itertools.product(ACTS, ["cross_entropy", "mse"])))
def test_loss_and_grads_match_finite_differences(activation, loss):
    X, y = _batch()
    net = MLP([4, 5, 4, 3], activation=activation, init="xavier", seed=1, bias_std=0.1)
    _check_grads(net, X, one_hot(y, 3) if loss == "mse" else y, loss)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_residual_network_gradients_match_finite_differences(activation):
    X, y = _batch()
    net = MLP([4, 5, 5, 5, 3], activation=activation, seed=2, residual=True, residual_scale=0.5, bias_std=0.1)
    assert net.residual == (False, True, True, False)
    _check_grads(net, X, y, "cross_entropy")


def test_sigmoid_output_with_mse_gradients_match_finite_differences():
    X, y = _batch()
    net = MLP([4, 6, 3], activation="tanh", seed=3, output_activation="sigmoid")
    out = net.forward(X)
    assert np.all((out > 0) & (out < 1))
    _check_grads(net, X, one_hot(y, 3), "mse")


def test_one_hot_labels_give_the_same_cross_entropy_as_int_labels():
    X, y = _batch()
    net = MLP([4, 5, 3], seed=0)
    l1, g1 = net.loss_and_grads(X, y)
    l2, g2 = net.loss_and_grads(X, one_hot(y, 3))
    assert l1 == pytest.approx(l2, rel=1e-14)
    assert all(rel_error(g1[k], g2[k]) < 1e-14 for k in g1)


def test_backprop_exposes_deltas_and_activations_consistent_with_the_four_equations():
    X, y = _batch(n=7)
    net = MLP([4, 6, 5, 3], activation="sigmoid", seed=0)
    bp = net.backprop(X, y)
    L = net.n_layers
    acts, zs, deltas = bp.trace.activations, bp.trace.zs, bp.deltas
    assert len(acts) == L + 1 and len(zs) == L and len(deltas) == L
    assert acts[0] is not None and np.array_equal(acts[0], X)
    p = np.exp(zs[-1]) / np.exp(zs[-1]).sum(axis=1, keepdims=True)
    assert np.allclose(deltas[-1], (p - one_hot(y, 3)) / 7)  # delta_L = (p - y)/N
    for l in range(1, L + 1):
        assert deltas[l - 1].shape == (7, net.sizes[l])
        assert np.allclose(bp.grads[f"W{l}"], deltas[l - 1].T @ acts[l - 1])  # dW = delta^T a_{l-1}
        assert np.allclose(bp.grads[f"b{l}"], deltas[l - 1].sum(axis=0))
        if l < L:  # delta_l = (delta_{l+1} W_{l+1}) * sigma'(z_l)
            s = 1 / (1 + np.exp(-zs[l - 1]))
            assert np.allclose(deltas[l - 1], (deltas[l] @ net.params[f"W{l + 1}"]) * s * (1 - s))
    # delta_l is dL/dz_l: compare with finite differences through z_1
    l1 = 0
    num = numerical_gradient(lambda z: _loss_from_z1(net, z, y), zs[l1].copy())
    assert rel_error(deltas[l1], num) <= 1e-7


def _loss_from_z1(net, z1, y):
    a = net.activation.f(z1)
    for l in range(2, net.n_layers + 1):
        _, a = net.layer_forward(l, a)
    return net.output_loss(a, y)[0]


def test_layer_by_layer_equals_loss_and_grads_bit_for_bit():
    X, y = _batch(n=9)
    for kwargs in ({"activation": "relu"}, {"activation": "tanh", "residual": True},
                   {"activation": "sigmoid", "output_activation": "sigmoid"}):
        net = MLP([4, 5, 5, 3], seed=0, **kwargs)
        loss = "mse" if "output_activation" in kwargs else "cross_entropy"
        target = one_hot(y, 3) if loss == "mse" else y
        value, grads = net.loss_and_grads(X, target, loss=loss)
        acts, zs = [X], []
        for l in range(1, net.n_layers + 1):
            z, a = net.layer_forward(l, acts[-1])
            zs.append(z)
            acts.append(a)
        v2, da = net.output_loss(acts[-1], target, loss=loss)
        assert v2 == value
        for l in range(net.n_layers, 0, -1):
            da, dW, db, _ = net.layer_backward(l, da, acts[l - 1], zs[l - 1], need_input_grad=l > 1)
            assert np.array_equal(dW, grads[f"W{l}"]) and np.array_equal(db, grads[f"b{l}"])


@pytest.mark.parametrize("kwargs, loss", [
    ({"activation": "relu"}, "cross_entropy"),
    ({"activation": "relu", "dtype": np.float32}, "cross_entropy"),
    ({"activation": "tanh", "residual": True}, "cross_entropy"),
    ({"activation": "leaky_relu"}, "mse"),
    ({"activation": "sigmoid", "output_activation": "sigmoid"}, "mse"),
])
def test_train_is_exactly_minibatch_sgd_with_loss_and_grads(kwargs, loss):
    X, y = _batch(n=10)
    net = MLP([4, 5, 5, 3], seed=0, **kwargs)
    ref = net.copy()
    hist = train(net, X, y, epochs=2, lr=0.3, batch_size=4, loss=loss, seed=7)
    rng = np.random.default_rng(7)
    target = one_hot(y, 3) if loss == "mse" else y
    steps = []
    for _ in range(2):
        order = rng.permutation(10)
        for start in range(0, 10, 4):
            idx = order[start:start + 4]
            value, grads = ref.loss_and_grads(X[idx].astype(ref.dtype), target[idx].astype(ref.dtype)
                                              if loss == "mse" else target[idx], loss=loss)
            ref.sgd_step(grads, 0.3)
            steps.append(value)
    assert hist.step_loss == steps
    for k in net.params:
        assert np.array_equal(net.params[k], ref.params[k]), k


def test_digits_64_32_10_relu_reaches_95_percent_test_accuracy_deterministically():
    X_train, y_train, X_test, y_test = digits(seed=0)
    net = MLP([64, 32, 10], activation="relu", init="he", seed=0)
    hist = train(net, X_train, y_train, epochs=30, lr=0.1, batch_size=32, seed=0)
    # a simple learning-rate decay: 10 more epochs at a tenth of the rate
    fine = train(net, X_train, y_train, epochs=10, lr=0.01, batch_size=32, seed=1, X_val=X_test, y_val=y_test)
    acc = net.accuracy(X_test, y_test)
    assert acc >= 0.95, f"test accuracy {acc:.4f}"
    assert fine.val_accuracy[-1] == acc and len(fine.val_accuracy) == 10
    assert hist.loss[-1] < hist.loss[0] / 10
    # same seeds, same numbers
    runs = [train(MLP([64, 32, 10], seed=0), X_train, y_train, epochs=2, seed=0).step_loss for _ in range(2)]
    assert runs[0] == runs[1]


def test_train_callback_sees_history_and_can_stop_early():
    X, y = xor(n=40, seed=0)
    seen = []

    def cb(epoch, history):
        assert isinstance(history, History)
        seen.append((epoch, len(history.loss)))
        return epoch < 2  # stop after the third epoch

    hist = train(MLP([2, 4, 2], seed=0), X, y, epochs=10, callback=cb)
    assert seen == [(0, 1), (1, 2), (2, 3)] and len(hist.loss) == 3
    assert set(hist.as_dict()) >= {"loss", "accuracy", "val_loss", "val_accuracy", "step_loss"}


def test_progress_bar_changes_nothing_and_clipping_caps_each_step():
    X, y = xor(n=40, seed=1)
    runs = [train(MLP([2, 8, 2], activation="tanh", seed=0), X, y, epochs=3, progress=p, clip_norm=1.0).as_dict()
            for p in (True, False)]
    assert runs[0] == runs[1] and len(runs[0]["loss"]) == 3
    # one clipped step = loss_and_grads, clip_grad_norm to the global norm, then the SGD update
    net, ref = MLP([2, 8, 2], activation="tanh", seed=0), MLP([2, 8, 2], activation="tanh", seed=0)
    train(net, X[:8], y[:8], epochs=1, batch_size=8, lr=0.5, clip_norm=0.01, seed=0)
    order = np.random.default_rng(0).permutation(8)
    _, grads = ref.loss_and_grads(X[:8][order], y[:8][order])
    clipped, norm = clip_grad_norm(grads, 0.01)
    assert norm > 0.01
    ref.sgd_step(clipped, 0.5)
    for k in net.params:
        assert np.array_equal(net.params[k], ref.params[k]), k


def test_mlp_learns_xor_with_a_hidden_layer():
    X, y = xor(n=200, noise=0.1, seed=0)
    net = MLP([2, 8, 2], activation="tanh", init="xavier", seed=0)
    train(net, X, y, epochs=200, lr=0.5, batch_size=20, seed=0)
    assert net.accuracy(X, y) > 0.95


def test_zero_init_keeps_hidden_units_identical():
    X, y = _batch(n=20)
    net = MLP([4, 5, 3], activation="tanh", init="zeros", seed=0)
    train(net, X, y, epochs=5, lr=0.5, batch_size=5)
    W1 = net.params["W1"]
    assert np.allclose(W1, W1[0])  # every hidden unit has the same weights: symmetry is never broken


def test_float32_network_computes_in_float32():
    X, y = _batch()
    net = MLP([4, 5, 3], dtype=np.float32, seed=0)
    assert net.forward(X).dtype == np.float32
    _, grads = net.loss_and_grads(X, y)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_copy_and_pickle_are_independent_networks():
    X, y = _batch()
    net = MLP([4, 5, 3], activation="leaky_relu", leaky_slope=0.2, seed=0)
    train(net, X, y, epochs=1)
    twin = pickle.loads(pickle.dumps(net))
    clone = net.copy()
    assert np.array_equal(twin.forward(X), net.forward(X))
    clone.params["W1"] += 1.0
    assert not np.array_equal(clone.params["W1"], net.params["W1"])


def test_predict_and_accuracy():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    X, y = _batch()
    net = MLP([4, 5, 3], seed=0)
    assert net.predict(X).shape == (6,)
    assert net.accuracy(X, y) == np.mean(net.predict(X) == y)


def test_sgd_step_moves_against_the_gradient():
    X, y = _batch()
    net = MLP([4, 5, 3], seed=0)
    before = net.loss(X, y)
    _, grads = net.loss_and_grads(X, y)
    W1 = net.params["W1"].copy()
    net.sgd_step(grads, 0.1)
    assert np.allclose(net.params["W1"], W1 - 0.1 * grads["W1"])
    assert net.loss(X, y) < before


def test_forward_and_loss_and_grads_do_not_mutate_inputs():
    X, y = _batch()
    Xc, yc = X.copy(), y.copy()
    net = MLP([4, 5, 3], seed=0)
    net.forward(X), net.loss_and_grads(X, y), net.backprop(X, y), train(net, X, y, epochs=1)
    assert np.array_equal(X, Xc) and np.array_equal(y, yc)
