"""Tests for the notebook-02 drawing helpers and the backward-stepping widget logic."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.engine import Value  # noqa: E402
from backprop_lib.widgets.computational_graph import backward_steps, n_backward_steps  # noqa: E402
from backprop_lib.nn_scalar import ValueMLP, xor_data  # noqa: E402
from backprop_lib.plotting import draw_graph, plot_decision_regions, plot_hidden_space  # noqa: E402
from backprop_lib.plotting.computational_graph import _graph_layout  # noqa: E402
from backprop_lib.widgets import backward_stepper, show_backward_step  # noqa: E402


def cs231n_graph():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return x, y, z, q, f


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_layout_puts_every_input_left_of_its_user():
    x, y, z, q, f = cs231n_graph()
    order, col, ypos, height = _graph_layout(f)
    for node in order:
        for child in node.inputs:
            assert col[child] < col[node]
    assert height == 2 and col[f] == max(col.values())


def test_draw_graph_prints_data_grad_and_ops_and_returns_axes():
    x, y, z, q, f = cs231n_graph()
    f.backward()
    ax = draw_graph(f)
    shown = texts(ax)
    assert "x\ndata -2.0000\ngrad -4.0000" in shown
    assert "z\ndata -4.0000\ngrad 3.0000" in shown
    assert "+" in shown and "*" in shown
    ax.figure.canvas.draw()  # renders without error (arrows clipped to the boxes)
    plt.close(ax.figure)


def test_draw_graph_uses_given_axes_hides_grads_and_highlights():
    x, y, z, q, f = cs231n_graph()
    fig, ax = plt.subplots()
    assert draw_graph(f, ax=ax, show_grad=False, highlight=[q]) is ax
    assert not any("grad" in t for t in texts(ax))
    frames = {t.get_text().split("\n")[0]: t.get_bbox_patch().get_linewidth() for t in ax.texts if t.get_bbox_patch()}
    assert frames["q"] > frames["x"]
    plt.close(fig)


def test_draw_graph_handles_a_40_node_neuron_graph():
    model = ValueMLP(3, [1], seed=0)
    out = model([Value(0.1), Value(0.2), Value(0.3)])
    out.backward()
    ax = draw_graph(out)
    assert len([t for t in ax.texts if "data" in t.get_text()]) >= 14
    ax.figure.canvas.draw()
    plt.close(ax.figure)


def test_show_backward_step_marks_unreached_grads_and_returns_rule_text():
    x, y, z, q, f = cs231n_graph()
    ax, text = show_backward_step(f, 1)
    shown = texts(ax)
    assert "x\ndata -2.0000\ngrad ?" in shown
    assert "z\ndata -4.0000\ngrad 3.0000" in shown
    assert "∂out/∂a = b" in text
    assert ax.get_title() == "backward step 1 of 2"   # f = q * z has 2 operation nodes
    plt.close(ax.figure)
    ax, _ = show_backward_step(f, 0)
    assert ax.get_title().startswith("step 0 of 2: the seed")
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="step"):
        show_backward_step(f, n_backward_steps(backward_steps(f)) + 1)
    assert x.grad == 0.0  # stepping never touches the graph


def test_backward_stepper_widget_builds_and_moves():
    pytest.importorskip("ipywidgets")
    x, y, z, q, f = cs231n_graph()
    box = backward_stepper(f)
    prev, slider, nxt = box.children[0].children
    assert slider.max == n_backward_steps(backward_steps(f)) == 2
    nxt.click()
    assert slider.value == 1
    prev.click()
    prev.click()
    assert slider.value == 0
    plt.close("all")


def test_decision_regions_and_hidden_space_plots_return_axes():
    X, y = xor_data(12, 0.1, 0)
    model = ValueMLP(2, [2, 1], seed=0)
    ax = plot_decision_regions(model.predict, X, y, title="t", resolution=30)
    assert ax.get_xlabel() == "$x_1$"
    W, b = model.layers[-1].weights()
    ax2 = plot_hidden_space(model.hidden(X), y, W[0], b[0])
    assert "hidden" in ax2.get_xlabel()
    with pytest.raises(ValueError, match="H must have shape"):
        plot_hidden_space(np.zeros((3, 3)), y[:3])
    plt.close("all")
