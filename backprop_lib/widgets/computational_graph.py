"""Widgets of notebook 02 (computational graph)."""

from __future__ import annotations

__all__ = ["show_backward_step", "backward_stepper"]


def show_backward_step(root, step: int, steps=None, ax=None):
    """Draw the graph of ``root`` as it is after backward step ``step`` and return ``(ax, text)``.

    The node handled at that step is highlighted, only the gradients filled in so far are
    printed (others show ``grad ?``), and ``text`` is the local rule applied at the step.
    ``steps`` (from :func:`backprop_lib.engine.backward_steps`) is computed when omitted.
    """
    from ..engine import backward_steps
    from ..plotting import draw_graph

    steps = backward_steps(root) if steps is None else steps
    if not 0 <= step < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {step}")
    s = steps[step]
    ax = draw_graph(root, ax=ax, highlight=s.node, grads=s.grads)
    ax.set_title(f"backward step {step} of {len(steps) - 1}", fontsize=10)
    return ax, s.text


def backward_stepper(root):
    """A slider plus previous/next buttons that walk the backward pass of ``root`` one node at a time."""
    import ipywidgets as w
    from IPython.display import display

    from ..engine import backward_steps
    from ..plotting import graph_figsize, new_figure, redraw_into

    steps = backward_steps(root)
    slider = w.IntSlider(value=0, min=0, max=len(steps) - 1, description="step", continuous_update=False)
    prev, nxt = w.Button(description="◀ previous"), w.Button(description="next ▶")
    out = w.Output()

    def render(*_):
        with redraw_into(out):
            fig = new_figure(figsize=graph_figsize(root))
            _, text = show_backward_step(root, slider.value, steps, ax=fig.subplots())
            display(fig)
            print(text)

    prev.on_click(lambda _: setattr(slider, "value", max(slider.min, slider.value - 1)))
    nxt.on_click(lambda _: setattr(slider, "value", min(slider.max, slider.value + 1)))
    slider.observe(render, names="value")
    render()
    return w.VBox([w.HBox([prev, slider, nxt]), out])
