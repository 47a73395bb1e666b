"""Widgets of notebook 02 (computational graph): stepping through the backward pass.

:func:`backward_steps` replays ``Value.backward()`` one operation node at a time without
touching any ``.grad`` (plain functions, tested without a browser); :func:`backward_stepper`
is the widget that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import Value, topological_order

__all__ = ["describe_rule", "BackwardStep", "backward_steps", "n_backward_steps",
           "show_backward_step", "backward_stepper", "backward_step_title"]


_RULES = {
    "+": ("a + b", ("1", "1")),
    "-": ("a - b", ("1", "-1")),
    "*": ("a * b", ("b", "a")),
    "/": ("a / b", ("1/b", "-a/b²")),
    "neg": ("-a", ("-1",)),
    "exp": ("exp(a)", ("exp(a)",)),
    "log": ("log(a)", ("1/a",)),
    "tanh": ("tanh(a)", ("1 - out²",)),
    "sigmoid": ("sigmoid(a)", ("out·(1 - out)",)),
    "relu": ("relu(a)", ("1 if a > 0 else 0",)),
}


def describe_rule(node: Value) -> str:
    """The local backward rule of ``node`` as text, e.g. ``out = a * b: ∂out/∂a = b, ∂out/∂b = a``."""
    op = node.op
    if not node.inputs:
        return "leaf: nothing to propagate"
    if op in _RULES:
        form, locals_ = _RULES[op]
    elif op.startswith("**"):
        form, locals_ = f"a{op}", (f"{op[2:]}·a^({op[2:]}-1)",)
    elif op.endswith("**"):
        form, locals_ = f"{op}a", ("out·ln c",)
    else:
        form, locals_ = f"{op}(...)", tuple("?" for _ in node.inputs)
    names = "ab" if len(node.inputs) == 2 else "a"
    parts = ", ".join(f"∂out/∂{n} = {r}" for n, r in zip(names, locals_))
    return f"out = {form}: {parts}"


def _name(node: Value, index: dict) -> str:
    return node.label or f"{node.op or 'leaf'}#{index[node]}"


@dataclass(frozen=True)
class BackwardStep:
    """One entry of the backward pass, as the stepping widget shows it.

    ``index`` is the step number: 0 for the seed (the root's gradient set to 1, nothing
    propagated yet), then 1, 2, ... for the backward steps proper, one per operation node.
    ``node`` is the node whose gradient is passed to its inputs at this step (the root at
    step 0); ``grads`` maps every node reached so far to its gradient after this step
    (nodes not yet reached are absent); ``text`` explains the step with numbers.
    """

    index: int
    node: Value
    grads: dict
    text: str


def backward_steps(root: Value) -> list[BackwardStep]:
    """The backward pass of ``root`` one node at a time, without touching any ``.grad``.

    Entry 0 is the seed (``root``'s gradient set to 1); entry k (k = 1 .. K) is backward
    step k: the k-th operation node in reverse topological order applies
    ``input.grad += local * out.grad`` to its inputs. A *backward step* is therefore one
    operation node passing its gradient on, and there are K = :func:`n_backward_steps`
    of them (leaves have nothing to pass on and take no step). The last entry's ``grads``
    equal what ``root.backward()`` gives.
    """
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    grads: dict = {root: 1.0}
    steps = [BackwardStep(0, root, dict(grads), f"seed (step 0): {_name(root, index)}.grad = 1 (∂out/∂out)")]
    for node in reversed(order):
        if not node.inputs:
            continue
        g = grads.get(node, 0.0)
        lines = [f"step {len(steps)}: {_name(node, index)} (value {node.data:.4f}, grad {g:.4f}). "
                 f"{describe_rule(node)}"]
        for child, local in zip(node.inputs, node.local_grads):
            before = grads.get(child, 0.0)
            grads[child] = before + local * g
            lines.append(
                f"  {_name(child, index)}.grad += {local:.4f} × {g:.4f}  →  "
                f"{before:.4f} + ({local * g:.4f}) = {grads[child]:.4f}"
            )
        steps.append(BackwardStep(len(steps), node, dict(grads), "\n".join(lines)))
    return steps


def n_backward_steps(steps: list[BackwardStep]) -> int:
    """The number of backward steps in ``steps`` (from :func:`backward_steps`): one per operation node.

    The seed is step 0 and is not counted, so the steps are numbered 0 .. ``n_backward_steps(steps)``
    and ``len(steps) == n_backward_steps(steps) + 1``. The notebook's print, the figure title
    ("backward step k of K") and the widget's slider all use this count.
    """
    return steps[-1].index



def backward_step_title(step: int, steps) -> str:
    """The figure title for ``step``: "backward step k of K", with K = :func:`n_backward_steps`.

    Step 0 is the seed (the root's gradient set to 1), before any of the K steps.
    """
    total = n_backward_steps(steps)
    if step == 0:
        return f"step 0 of {total}: the seed, before any backward step"
    return f"backward step {step} of {total}"


def show_backward_step(root, step: int, steps=None, ax=None):
    """Draw the graph of ``root`` as it is after backward step ``step`` and return ``(ax, text)``.

    The node handled at that step is highlighted, only the gradients filled in so far are
    printed (others show ``grad ?``), and ``text`` is the local rule applied at the step.
    ``steps`` (from :func:`backward_steps`) is computed when omitted.
    ``step`` runs from 0 (the seed) to ``n_backward_steps(steps)`` (one step per operation node).
    """
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

    from ..plotting import LiveFigure, graph_figsize

    steps = backward_steps(root)
    slider = w.IntSlider(value=0, min=0, max=n_backward_steps(steps), description="step", continuous_update=False)
    prev, nxt = w.Button(description="◀ previous"), w.Button(description="next ▶")

    def draw(live, state, _):
        live.axes.cla()
        return show_backward_step(root, state["step"], steps, ax=live.axes)[1]

    live = LiveFigure(graph_figsize(root), {"step": slider}, draw, text=True)
    prev.on_click(lambda _: setattr(slider, "value", max(slider.min, slider.value - 1)))
    nxt.on_click(lambda _: setattr(slider, "value", min(slider.max, slider.value + 1)))
    slider.observe(live.show, names="value")
    live.show()
    box = w.VBox([w.HBox([prev, slider, nxt]), live.widget])
    box.live = live  # the tests (and bench/widgets.py) read the figure
    return box
