"""The claims of notebooks/05_checkpointing.ipynb about dynamic loss scaling, bfloat16, master weights and the
memory of a real transformer, recomputed (same net, data and settings as the notebook)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from backprop_lib.checkpoint import fp16_roundtrip, overflow_fraction, underflow_fraction
from backprop_lib.memory import training_state_bytes, transformer_layer_activation_bytes
from backprop_lib.mlp import MLP
from backprop_lib.precision import DynamicLossScaler, to_bfloat16

from notebook_cells import NOTEBOOKS, stream_output

NOTEBOOK = NOTEBOOKS / "05_checkpointing.ipynb"
notebook_output = partial(stream_output, NOTEBOOK)


@pytest.fixture(scope="module")
def grads():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 32)), rng.integers(0, 10, 64)
    _, g = MLP([32] * 10 + [10], activation="sigmoid", init="xavier", seed=3).loss_and_grads(X, y)
    return g


def test_dynamic_scaling_finds_the_top_of_the_window(grads):
    """"S climbs from 2^16, one doubling every 20 steps, to 2^20, where the last layer's largest gradient overflows
    (8.3e-2 * 2^20 ~ 87 000 > 65504) ... halved back to 2^19 ... probes 2^20 every 21 steps (11 skipped steps out of
    300); with PyTorch's growth interval of 2000 that costs one skipped step in 2001"."""
    scaler = DynamicLossScaler(init_scale=2.0 ** 16, growth_interval=20)
    log, skipped = [], []
    for step in range(300):
        S = scaler.scale
        found = any(overflow_fraction(gl, S) > 0 for gl in grads.values())
        if found:
            skipped.append(step)
        log.append(S)
        scaler.update(found)
    assert sorted({math.log2(S) for S in log}) == [16, 17, 18, 19, 20]
    assert skipped[:4] == [80, 101, 122, 143] and len(skipped) == 11 and np.all(np.diff(skipped) == 21)
    assert scaler.scale == 2.0 ** 19
    top = np.abs(grads["W10"]).max()
    assert round(top, 3) == 0.083 and top * 2 ** 20 > 65504 > top * 2 ** 19 and round(top * 2 ** 20, -3) == 87000
    printed = notebook_output("DynamicLossScaler(init_scale")
    assert "scales used: 2^16, 2^17, 2^18, 2^19, 2^20" in printed
    assert "skipped steps (overflow): 11 of 300, at steps [80, 101, 122, 143]" in printed


def test_bfloat16_against_float16_and_master_weights(grads):
    """bfloat16 "loses no gradient entry even without loss scaling, where float16 loses 44.8 % of the first layer's";
    bf16 error "up to 2^-8 (measured 3.5e-3 to 3.8e-3)", float16 "4.6e-4 and 4.8e-4 for layers 4 and 10", first layer
    2.6e-3; 1000 updates of 1e-4: "still 1.0000", float32 "1.1000"; spacings 9.77e-4 and 7.81e-3."""
    bf_err, f16_err = {}, {}
    for layer in ("W1", "W4", "W10"):
        gl = grads[layer]
        nz = gl != 0
        bf = to_bfloat16(gl[nz]).astype(np.float64)
        assert np.all(bf != 0)
        bf_err[layer] = np.max(np.abs(bf - gl[nz]) / np.abs(gl[nz]))
        f16_err[layer] = np.max(np.abs(fp16_roundtrip(gl[nz], 2.0 ** 16) - gl[nz]) / np.abs(gl[nz]))
    assert round(underflow_fraction(grads["W1"]), 3) == 0.448
    assert all(3.45e-3 <= e <= 3.85e-3 for e in bf_err.values()) and max(bf_err.values()) <= 2.0 ** -8
    assert [f"{f16_err[k]:.1e}" for k in ("W1", "W4", "W10")] == ["2.6e-03", "4.6e-04", "4.8e-04"]
    w16, wbf, w32 = np.float16(1.0), to_bfloat16(np.float32(1.0)), np.float32(1.0)
    for _ in range(1000):
        w16 = np.float16(w16 + np.float16(1e-4))
        wbf = to_bfloat16(np.float32(wbf) + np.float32(1e-4))
        w32 = np.float32(w32 + np.float32(1e-4))
    assert float(w16) == 1.0 and float(wbf) == 1.0 and round(float(w32), 4) == 1.1
    assert f"{float(np.spacing(np.float16(1))):.2e}" == "9.77e-04" and f"{2.0 ** -7:.2e}" == "7.81e-03"
    printed = notebook_output("w16, wbf, w32")
    assert "float16 weight 1.0000, bfloat16 1.0000, float32 master weight 1.1000" in printed


def test_transformer_memory_for_gpt2_small_and_gpt3():
    """GPT-3: "one layer keeps 2.87 GB per sequence ...; selective ... 0.856 GB, 70 % less ..., full 0.050 GB. Over
    96 layers a single sequence needs 275 GB ..., against 2800 GB ...: activations overtake the state at about 10
    sequences"; "GPT-2 small already crosses over at 1.8 sequences"."""
    per = {r: transformer_layer_activation_bytes(2048, 1, 12288, 96, r) for r in ("none", "selective", "full")}
    assert round(per["none"] / 1e9, 2) == 2.87 and round(per["selective"] / 1e9, 3) == 0.856
    assert round(per["full"] / 1e9, 3) == 0.050 and round(1 - per["selective"] / per["none"], 2) == 0.70
    assert round(96 * per["none"] / 1e9) == 275 and training_state_bytes(175_000_000_000) / 1e9 == 2800
    assert round(2800e9 / (96 * per["none"])) == 10
    gpt2 = transformer_layer_activation_bytes(1024, 1, 768, 12)
    assert round(training_state_bytes(124_000_000) / (12 * gpt2), 1) == 1.8
    printed = notebook_output("models = {")
    assert "GPT-3 175B" in printed and "275.4 GB" in printed and "2800 GB" in printed and "10.2" in printed


def test_pytorch_checkpoint_sequential_numbers():
    """"its gradients equal ours to rounding (relative error about 5e-16 ...). Plain autograd saves 16.3 arrays, not
    our cache's 31.6 ... With 4 segments checkpoint_sequential saves 8.3 arrays"."""
    pytest.importorskip("torch")
    from backprop_lib.checkpoint import store_all_bytes
    from backprop_lib.torch_bridge import torch_checkpoint_run
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 32)), rng.integers(0, 10, 64)
    net = MLP([32] * 16 + [10], activation="relu", init="he", seed=0)
    _, ref = net.loss_and_grads(X, y)
    one = 64 * 32 * 8
    for segments, arrays in ((None, 16.3), (4, 8.3)):
        run = torch_checkpoint_run(net, X, y, segments)
        err = max(np.max(np.abs(run.grads[k] - ref[k])) / np.max(np.abs(ref[k])) for k in ref)
        assert err < 2e-15 and round(run.saved_bytes / one, 1) == arrays
    assert round(store_all_bytes([32] * 16 + [10], 64) / one, 1) == 31.6
