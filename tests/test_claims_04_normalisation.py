"""The claims of section 9 of notebooks/04_vanishing_gradients.ipynb (normalisation layers), recomputed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from backprop_lib.diagnostics import digits_batch
from backprop_lib.normalization import norm_gradient_flow

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "04_vanishing_gradients.ipynb"
STARTS = {"sigmoid + Xavier": ("sigmoid", "xavier", None), "relu + He": ("relu", "he", None),
          "relu + N(0, 0.1^2)": ("relu", "normal", 0.1)}


def notebook_output(marker: str) -> str:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert len(cells) == 1, marker
    return "".join("".join(o.get("text", "")) for o in cells[0]["outputs"] if o["output_type"] == "stream")


@pytest.fixture(scope="module")
def flows():
    X, y = digits_batch(1000)
    with threadpool_limits(1):
        return {(start, norm): norm_gradient_flow(X[:256], y[:256], depth=30, width=32, activation=act, init=init,
                                                  norm=norm, init_scale=scale, seed=0)
                for start, (act, init, scale) in STARTS.items() for norm in ("none", "batch", "layer")}


def test_the_table_is_the_notebooks(flows):
    printed = notebook_output("norm_flows = {")
    for (start, norm), f in flows.items():
        row = f"{start:<20}{norm:>7}{f.weight_norms[0]:>13.2e}{f.weight_norms[-1]:>14.2e}{f.ratio:>14.3g}"
        assert row in printed, row


def test_batch_norm_rescues_the_sigmoid_net(flows):
    """"its first layer's gradient goes from 6e-20 to 0.40, and the first/last ratio from 4e-19 to 1.7"."""
    none, batch = flows["sigmoid + Xavier", "none"], flows["sigmoid + Xavier", "batch"]
    assert f"{none.weight_norms[0]:.0e}" == "6e-20" and round(batch.weight_norms[0], 2) == 0.40
    assert f"{none.ratio:.0e}" == "4e-19" and round(batch.ratio, 1) == 1.7


def test_both_norms_rescue_the_small_relu_start(flows):
    """"without normalisation every layer's gradient is about 1e-13 ..., with either norm it is 0.2 to 0.3 at the
    last layer, the scale of the healthy He start"."""
    w = flows["relu + N(0, 0.1^2)", "none"].weight_norms
    assert np.all((w > 1e-14) & (w < 1e-12))
    for norm in ("batch", "layer"):
        assert 0.2 <= flows["relu + N(0, 0.1^2)", norm].weight_norms[-1] <= 0.35
    assert 0.1 <= flows["relu + He", "none"].weight_norms[-1] <= 0.3


def test_batch_norm_makes_deep_relu_gradients_grow_towards_the_input(flows):
    """"by a factor of about 400 over 30 layers (393 with He, 369 with the small start; about 1.23 per layer),
    where the plain He net has 2"."""
    assert round(flows["relu + He", "batch"].ratio) == 393 and round(flows["relu + N(0, 0.1^2)", "batch"].ratio) == 369
    assert round(393 ** (1 / 29), 2) == 1.23
    assert round(flows["relu + He", "none"].ratio) == 2


def test_layer_norm_keeps_relu_near_one_but_not_the_sigmoid(flows):
    """"Layer norm keeps the ReLU nets' ratios near 1 (0.43 and 0.63) but does not rescue the sigmoid net (ratio
    2e-12)"."""
    assert round(flows["relu + He", "layer"].ratio, 2) == 0.43
    assert round(flows["relu + N(0, 0.1^2)", "layer"].ratio, 2) == 0.63
    assert f"{flows['sigmoid + Xavier', 'layer'].ratio:.0e}" == "2e-12"
