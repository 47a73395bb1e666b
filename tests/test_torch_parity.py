"""Parity with PyTorch (float64): losses, activations, whole-network gradients, SGD training.

Skipped unless PyTorch is installed (the optional ``[parity]`` extra; CI installs torch==2.13.0).
"""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from backprop_lib.activations import get_activation  # noqa: E402
from backprop_lib.gradcheck import rel_error  # noqa: E402
from backprop_lib.init import init_std  # noqa: E402
from backprop_lib.losses import mse, one_hot, sigmoid_cross_entropy, softmax_cross_entropy  # noqa: E402
from backprop_lib.mlp import MLP, train  # noqa: E402
from backprop_lib.optim import clip_grad_norm  # noqa: E402

TOL = 1e-10
TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "identity": lambda z: z}


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _torch_loss_and_grads(net: MLP, X, y, loss: str):
    """The same network written with torch ops, differentiated by autograd."""
    params = {k: _t(v, grad=True) for k, v in net.params.items()}
    act = TORCH_ACT[net.activation.name]
    if net.activation.name == "leaky_relu":
        act = lambda z: F.leaky_relu(z, net.leaky_slope)  # noqa: E731
    a = _t(X)
    L = net.n_layers
    for l in range(1, L + 1):
        z = a @ params[f"W{l}"].T + params[f"b{l}"]
        if l == L:
            a = z if net.output_activation is None else TORCH_ACT[net.output_activation.name](z)
        elif net.residual[l - 1]:
            a = a + net.residual_scale * act(z)
        else:
            a = act(z)
    if loss == "mse":
        value = F.mse_loss(a, _t(y))
    elif loss == "cross_entropy_soft":  # (N, C) target rows of any kind
        value = F.cross_entropy(a, _t(y))
    else:
        value = F.cross_entropy(a, torch.as_tensor(y))
    value.backward()
    return value.item(), {k: p.grad.numpy() for k, p in params.items()}


def _random_case(seed, activation, loss, **kwargs):
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 4))
    sizes = [int(rng.integers(2, 9))] + [int(rng.integers(3, 12)) for _ in range(depth)] + [int(rng.integers(2, 6))]
    net = MLP(sizes, activation=activation, init=str(rng.choice(["xavier", "he", "normal"])), seed=seed,
              bias_std=0.1, **kwargs)
    n = int(rng.integers(1, 17))
    X = rng.standard_normal((n, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=n)
    y = one_hot(labels, sizes[-1]) + 0.1 * rng.standard_normal((n, sizes[-1])) if loss == "mse" else labels
    return net, X, y


@pytest.mark.parametrize("activation, loss, seed", list(itertools.product(
    ["sigmoid", "tanh", "relu", "leaky_relu"], ["cross_entropy", "mse"], range(3))))
def test_random_networks_loss_and_every_gradient_match_torch(activation, loss, seed):
    net, X, y = _random_case(100 * seed + len(activation), activation, loss)
    value, grads = net.loss_and_grads(X, y, loss=loss)
    t_value, t_grads = _torch_loss_and_grads(net, X, y, loss)
    assert abs(value - t_value) <= TOL * abs(t_value)
    for k in net.params:
        assert rel_error(grads[k], t_grads[k]) <= TOL, k


@pytest.mark.parametrize("seed", range(3))
def test_residual_and_sigmoid_output_networks_match_torch(seed):
    rng = np.random.default_rng(seed)
    X, labels = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    net = MLP([6, 8, 8, 8, 3], activation="tanh", residual=True, residual_scale=0.7, seed=seed, bias_std=0.1)
    value, grads = net.loss_and_grads(X, labels)
    t_value, t_grads = _torch_loss_and_grads(net, X, labels, "cross_entropy")
    assert abs(value - t_value) <= TOL * t_value and all(rel_error(grads[k], t_grads[k]) <= TOL for k in grads)
    net = MLP([6, 8, 3], activation="relu", output_activation="sigmoid", seed=seed)
    Y = one_hot(labels, 3)
    value, grads = net.loss_and_grads(X, Y, loss="mse")
    t_value, t_grads = _torch_loss_and_grads(net, X, Y, "mse")
    assert abs(value - t_value) <= TOL * t_value and all(rel_error(grads[k], t_grads[k]) <= TOL for k in grads)


def test_leaky_slope_argument_matches_torch():
    rng = np.random.default_rng(0)
    net = MLP([3, 5, 2], activation="leaky_relu", leaky_slope=0.2, seed=0, bias_std=0.1)
    X, y = rng.standard_normal((4, 3)), rng.integers(0, 2, 4)
    _, grads = net.loss_and_grads(X, y)
    params = {k: _t(v, grad=True) for k, v in net.params.items()}
    z = F.leaky_relu(_t(X) @ params["W1"].T + params["b1"], 0.2) @ params["W2"].T + params["b2"]
    F.cross_entropy(z, torch.as_tensor(y)).backward()
    assert all(rel_error(grads[k], params[k].grad.numpy()) <= TOL for k in grads)


def test_losses_match_torch_functional():
    rng = np.random.default_rng(1)
    z, labels = 5 * rng.standard_normal((9, 4)), rng.integers(0, 4, 9)
    probs = rng.dirichlet(np.ones(4), size=9)
    for target, t_target in ((labels, torch.as_tensor(labels)), (probs, _t(probs))):
        zt = _t(z, grad=True)
        ref = F.cross_entropy(zt, t_target)
        ref.backward()
        loss, d = softmax_cross_entropy(z, target)
        assert abs(loss - ref.item()) <= TOL * ref.item() and rel_error(d, zt.grad.numpy()) <= TOL
    t = rng.standard_normal((9, 4))
    zt = _t(z, grad=True)
    ref = F.mse_loss(zt, _t(t))
    ref.backward()
    loss, d = mse(z, t)
    assert abs(loss - ref.item()) <= TOL * ref.item() and rel_error(d, zt.grad.numpy()) <= TOL
    u = rng.uniform(size=(9, 4))
    zt = _t(z, grad=True)
    ref = F.binary_cross_entropy_with_logits(zt, _t(u))
    ref.backward()
    loss, d = sigmoid_cross_entropy(z, u)
    assert abs(loss - ref.item()) <= TOL * ref.item() and rel_error(d, zt.grad.numpy()) <= TOL


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_activation_derivatives_match_autograd(name):
    z = np.random.default_rng(2).uniform(-30, 30, size=200)
    zt = _t(z, grad=True)
    TORCH_ACT[name](zt).sum().backward()
    act = get_activation(name)
    assert rel_error(act.f(z), TORCH_ACT[name](_t(z)).numpy()) <= 1e-15
    # torch's backward is s(1 - s) and 1 - t^2, whose cancellation leaves an absolute error of
    # about eps in the tails (a relative error up to 1e-6 at |z| = 30); ours keeps full relative
    # precision there, so compare with eps-sized absolute slack.
    np.testing.assert_allclose(act.df(z), zt.grad.numpy(), rtol=1e-14, atol=4 * np.finfo(np.float64).eps)


def test_init_standard_deviations_match_torch_formulas():
    n_in, n_out = 300, 200
    gain = torch.nn.init.calculate_gain("relu")
    assert init_std("he", n_in, n_out) == pytest.approx(gain / np.sqrt(n_in), rel=1e-12)  # kaiming_normal_
    assert init_std("xavier", n_in, n_out) == pytest.approx(np.sqrt(2.0 / (n_in + n_out)), rel=1e-12)
    w = torch.empty(n_out, n_in, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.xavier_normal_(w)
    assert float(w.std()) == pytest.approx(init_std("xavier", n_in, n_out), rel=0.02)


def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(3)
    grads = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4)}
    tensors = [_t(g, grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = _t(g)
    norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.0)
    clipped, ours = clip_grad_norm(grads, 1.0, eps=1e-6)  # torch adds 1e-6 to the norm
    assert ours == pytest.approx(float(norm), rel=1e-12)
    assert all(rel_error(c, t.grad.numpy()) <= TOL for c, t in zip(clipped.values(), tensors))


def test_sgd_training_matches_torch_sgd_step_for_step():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((24, 5)), rng.integers(0, 3, 24)
    net = MLP([5, 7, 3], activation="tanh", seed=0, bias_std=0.1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
    with torch.no_grad():
        for lin, l in ((model[0], 1), (model[2], 2)):
            lin.weight.copy_(_t(net.params[f"W{l}"]))
            lin.bias.copy_(_t(net.params[f"b{l}"]))
    # torch.optim.SGD's update without momentum (its constructor alone imports for seconds)
    hist = train(net, X, y, epochs=3, lr=0.2, batch_size=8, seed=5)
    rng_order = np.random.default_rng(5)
    t_losses = []
    for _ in range(3):
        order = rng_order.permutation(24)
        for start in range(0, 24, 8):
            idx = order[start:start + 8]
            model.zero_grad()
            loss = F.cross_entropy(model(_t(X[idx])), torch.as_tensor(y[idx]))
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.2 * p.grad
            t_losses.append(loss.item())
    assert rel_error(np.array(hist.step_loss), np.array(t_losses)) <= TOL
    assert rel_error(net.params["W1"], model[0].weight.detach().numpy()) <= TOL
    assert rel_error(net.params["b2"], model[2].bias.detach().numpy()) <= TOL


@pytest.mark.parametrize("rows", ["multi-hot", "all-zero", "partial", "negative", "probabilities"])
def test_cross_entropy_with_any_target_rows_matches_torch(rows):
    rng = np.random.default_rng(7)
    z = rng.standard_normal((4, 5))
    y = {"multi-hot": (rng.random((4, 5)) < 0.4).astype(float),
         "all-zero": np.zeros((4, 5)),
         "partial": 0.3 * one_hot([0, 1, 2, 3], 5),
         "negative": rng.standard_normal((4, 5)),
         "probabilities": rng.dirichlet(np.ones(5), size=4)}[rows]
    zt = _t(z, grad=True)
    expected = F.cross_entropy(zt, _t(y))
    expected.backward()
    loss, grad = softmax_cross_entropy(z, y)
    assert loss == pytest.approx(expected.item(), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-10, atol=1e-15)
    # the network and checkpointed paths share the loss: a soft-target MLP gradient matches too
    net = MLP([3, 6, 5], activation="tanh", seed=1, bias_std=0.1)
    X = rng.standard_normal((4, 3))
    value, grads = net.loss_and_grads(X, y)
    ref_value, ref_grads = _torch_loss_and_grads(net, X, y, "cross_entropy_soft")
    assert value == pytest.approx(ref_value, rel=1e-12, abs=1e-15)
    for k in grads:
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-10, atol=1e-15)


def test_leaky_relu_output_uses_the_networks_slope():
    rng = np.random.default_rng(8)
    net = MLP([3, 5, 4], activation="leaky_relu", output_activation="leaky_relu", leaky_slope=0.2, seed=2)
    X = rng.standard_normal((6, 3))
    target = rng.standard_normal((6, 4))
    value, grads = net.loss_and_grads(X, target, loss="mse")
    params = {k: _t(v, grad=True) for k, v in net.params.items()}
    h = F.leaky_relu(_t(X) @ params["W1"].T + params["b1"], 0.2)
    out = F.leaky_relu(h @ params["W2"].T + params["b2"], 0.2)
    expected = F.mse_loss(out, _t(target))
    expected.backward()
    np.testing.assert_allclose(net.forward(X), out.detach().numpy(), rtol=1e-12)
    assert value == pytest.approx(expected.item(), rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], params[k].grad.numpy(), rtol=1e-10, atol=1e-15)
