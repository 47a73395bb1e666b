"""The claims of section 2 of notebooks/04_vanishing_gradients.ipynb about the speed of learning during training."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from backprop_lib.diagnostics import digits_batch, speed_during_training

from notebook_cells import NOTEBOOKS, stream_output

NOTEBOOK = NOTEBOOKS / "04_vanishing_gradients.ipynb"
notebook_output = partial(stream_output, NOTEBOOK)


@pytest.fixture(scope="module")
def runs():
    X, y = digits_batch(1000)
    with threadpool_limits(1):
        out = []
        for s in range(3):
            speeds, hist = speed_during_training(3, lr=0.5, epochs=20, seed=s, X=X, y=y)
            ratio, loss = speeds[:, 0] / speeds[:, -1], np.array(hist.loss)
            out.append(dict(speeds=speeds, ratio=ratio, loss=loss, accuracy=hist.accuracy[-1],
                            leaves=int(np.argmax(loss < 0.95 * np.log(10))) + 1))
        return out


def test_the_printed_lines_are_the_notebooks(runs):
    printed = notebook_output("speed_runs = [")
    for s, r in enumerate(runs):
        assert f"seed {s}: layer 1 / layer 3 speed {r['ratio'][0]:.3f} at the start" in printed
        assert f"median over the last 10 epochs {np.median(r['ratio'][-10:]):.2f}" in printed


def test_the_first_layer_starts_20_to_30_times_slower(runs):
    """"20 to 30 times more slowly than the third (ratio 0.034 to 0.050)"."""
    assert [f"{r['ratio'][0]:.3f}" for r in runs] == ["0.034", "0.050", "0.041"]
    assert all(20 <= 1 / r["ratio"][0] <= 30 for r in runs)


def test_every_layer_slows_down_on_the_plateau(runs):
    """"while the loss sits on its plateau all three layers slow down (left)": seed 0, the plotted run."""
    speeds, leaves = runs[0]["speeds"], runs[0]["leaves"]
    assert np.all(speeds[1:leaves].min(axis=0) < speeds[0])


def test_the_first_layer_catches_up_once_the_loss_falls(runs):
    """"Once the loss falls (epochs 6 to 10), ... median ratio 1.28 to 1.46, ... 88 to 92 % of the 1000 digits"."""
    assert sorted(r["leaves"] for r in runs) == [6, 8, 10]
    medians = [round(float(np.median(r["ratio"][-10:])), 2) for r in runs]
    assert min(medians) == 1.28 and max(medians) == 1.46
    assert all(0.875 <= r["accuracy"] <= 0.925 for r in runs)
