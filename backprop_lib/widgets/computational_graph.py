"""Widgets of notebook 02 (computational graph)."""

from __future__ import annotations

__all__ = ["show_backward_step", "backward_stepper", "backward_step_title"]


def backward_step_title(step: int, steps) -> str:
    """The figure title for ``step``: "backward step k of K", with K = :func:`~backprop_lib.engine.n_backward_steps`.

    Step 0 is the seed (the root's gradient set to 1), before any of the K steps.
    """
    from ..engine import n_backward_steps

    total = n_backward_steps(steps)
    if step == 0:
        return f"step 0 of {total}: the seed, before any backward step"
    return f"backward step {step} of {total}"


def show_backward_step(root, step: int, steps=None, ax=None):
    """Draw the graph of ``root`` as it is after backward step ``step`` and return ``(ax, text)``.

    The node handled at that step is highlighted, only the gradients filled in so far are
    printed (others show ``grad ?``), and ``text`` is the local rule applied at the step.
    ``steps`` (from :func:`backprop_lib.engine.backward_steps`) is computed when omitted.
    ``step`` runs from 0 (the seed) to ``n_backward_steps(steps)`` (one step per operation node).
    """
    from ..engine import backward_steps, n_backward_steps
    from ..plotting import draw_graph

    steps = backward_steps(root) if steps is None else steps
    if not 0 <= step <= n_backward_steps(steps):
        raise ValueError(f"step must be in 0..{n_backward_steps(steps)}, got {step}")
    s = steps[step]
    ax = draw_graph(root, ax=ax, highlight=s.node, grads=s.grads)
    ax.set_title(backward_step_title(step, steps), fontsize=10)
    return ax, s.text


def backward_stepper(root):
    """A slider plus previous/next buttons that walk the backward pass of ``root`` one node at a time."""
    import ipywidgets as w
    from IPython.display import display

    from ..engine import backward_steps, n_backward_steps
    from ..plotting import graph_figsize, new_figure, redraw_into

    steps = backward_steps(root)
    slider = w.IntSlider(value=0, min=0, max=n_backward_steps(steps), description="step", continuous_update=False)
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
