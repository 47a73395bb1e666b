"""bfloat16 rounding and dynamic loss scaling against PyTorch; the transformer memory formulas."""

import numpy as np
import pytest

from backprop_lib.memory import STATE_BYTES_PER_PARAMETER, training_state_bytes, transformer_layer_activation_bytes
from backprop_lib.precision import DynamicLossScaler, to_bfloat16


def test_bfloat16_rounding_matches_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(20000) * 10.0 ** rng.uniform(-42, 38, 20000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 3.3e38, 1e-45, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8]])
    theirs = torch.tensor(x, dtype=torch.float32).to(torch.bfloat16).to(torch.float32).numpy()
    np.testing.assert_array_equal(to_bfloat16(x), theirs)


def test_bfloat16_has_float32_range_and_eight_significant_bits():
    assert to_bfloat16(np.array([1e-30]))[0] != 0  # float16 flushes this to 0
    assert to_bfloat16(np.array([1.0 + 2.0 ** -9]))[0] == 1.0  # below half the spacing 2^-7: ties/rounds to 1
    assert to_bfloat16(np.array([1.0 + 2.0 ** -8 + 2.0 ** -12]))[0] == 1.0 + 2.0 ** -7
    x = np.random.default_rng(1).standard_normal(10000)
    assert np.max(np.abs(to_bfloat16(x) - x) / np.abs(x)) <= 2.0 ** -8
    with pytest.raises(TypeError, match="floating-point"):
        to_bfloat16(np.arange(3))


def test_dynamic_loss_scaler_follows_torch_update_rule():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    found = rng.random(200) < 0.05
    ours = DynamicLossScaler(init_scale=2.0 ** 16, growth_interval=7)
    scale, tracker = torch.tensor([2.0 ** 16]), torch.tensor([0], dtype=torch.int32)
    for f in found:
        ours.update(bool(f))
        torch._amp_update_scale_(scale, tracker, torch.tensor([float(f)]), 2.0, 0.5, 7)
        assert ours.scale == float(scale) and ours.good_steps == int(tracker)


@pytest.mark.parametrize("kwargs, match", [({"init_scale": 0}, "init_scale"), ({"growth_factor": 1.0}, "growth_factor"),
                                           ({"backoff_factor": 1.5}, "backoff_factor"),
                                           ({"growth_interval": 0}, "growth_interval")])
def test_dynamic_loss_scaler_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DynamicLossScaler(**kwargs)


def test_transformer_activation_formula():
    """Korthikanti et al. (2022): sbh(34 + 5as/h) without recomputation, 34 sbh selective, 2 sbh full."""
    s, b, h, a = 2048, 1, 12288, 96
    assert transformer_layer_activation_bytes(s, b, h, a) == s * b * h * 34 + 5 * a * s * s * b
    assert transformer_layer_activation_bytes(s, b, h, a, "selective") == 34 * s * b * h
    assert transformer_layer_activation_bytes(s, b, h, a, "full") == 2 * s * b * h
    assert transformer_layer_activation_bytes(s, 4, h, a) == 4 * transformer_layer_activation_bytes(s, 1, h, a)
    full = transformer_layer_activation_bytes(s, b, h, a)
    saving = 1 - transformer_layer_activation_bytes(s, b, h, a, "selective") / full
    assert round(saving, 2) == 0.70  # "70%" for GPT-3 (Korthikanti et al.)


def test_training_state_bytes():
    assert sum(STATE_BYTES_PER_PARAMETER["adam, mixed precision"]) == 16
    assert training_state_bytes(175_000_000_000) == 2_800_000_000_000
    assert training_state_bytes(10, "sgd, float32") == 80


@pytest.mark.parametrize("call, match", [
    (lambda: transformer_layer_activation_bytes(0, 1, 8, 2), "s must be"),
    (lambda: transformer_layer_activation_bytes(4, 1, 10, 3), "divisible"),
    (lambda: transformer_layer_activation_bytes(4, 1, 8, 2, "some"), "recompute"),
    (lambda: transformer_layer_activation_bytes(4, 1.5, 8, 2), "b must be"),
    (lambda: training_state_bytes(10, "lion"), "recipe"),
    (lambda: training_state_bytes(-1), "P must be"),
])
def test_memory_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------- the PyTorch bridge

from backprop_lib.mlp import MLP  # noqa: E402
from backprop_lib.torch_bridge import torch_available, torch_checkpoint_run  # noqa: E402


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("segments", [None, 1, 3])
def test_torch_copy_gives_our_gradients(activation, segments):
    pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    net = MLP([5, 7, 7, 7, 3], activation=activation, init="xavier", seed=1)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    loss, grads = net.loss_and_grads(X, y)
    run = torch_checkpoint_run(net, X, y, segments)
    assert run.loss == pytest.approx(loss, rel=1e-13)
    for k in grads:
        np.testing.assert_allclose(run.grads[k], grads[k], rtol=1e-10, atol=1e-15)
    assert run.saved_bytes > 0


def test_torch_bridge_bad_input_and_availability():
    assert torch_available() in (True, False)
    with pytest.raises(TypeError, match="net must be"):
        torch_checkpoint_run("net", np.zeros((2, 2)), np.zeros(2, int))
    net = MLP([3, 4, 2], activation="leaky_relu", seed=0)
    with pytest.raises(ValueError, match="activation"):
        torch_checkpoint_run(net, np.zeros((2, 3)), np.zeros(2, int))
    with pytest.raises(ValueError, match="segments"):
        torch_checkpoint_run(MLP([3, 4, 2], activation="relu", seed=0), np.zeros((2, 3)), np.zeros(2, int), 0)
