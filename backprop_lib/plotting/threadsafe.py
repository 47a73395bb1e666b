"""Drawing from widget callbacks without races.

JupyterLab 4.4 and later send widget messages to kernel *subshells*, and ipykernel 7
serves every subshell on a thread of its own: a slider's callback can then draw while
the main thread runs a cell, or while another callback draws. matplotlib is not
thread-safe (the mathtext parser is one object per process; pyplot keeps one "current
figure" for everybody), and the symptoms are a ``ParseException`` from mathtext, "failed
to load glyph", and half-drawn or blank figures.

Every widget of the course therefore

* draws on a figure of its own, made by :func:`new_figure` without pyplot, so a cell that
  is building a pyplot figure at the same moment is not disturbed (and not shown twice);
* does all its figure work holding :data:`DRAW_LOCK`, through
  :class:`~backprop_lib.plotting.live.LiveFigure` (one figure per widget, drawn in place,
  also from its prefetch thread);
* and :func:`serialize_matplotlib` makes matplotlib's text parsing and rendering take
  the same lock wherever they run, so a cell's ``plt.show()`` or ``tight_layout()`` waits
  for a widget that is drawing, and the other way round. It also keeps the inline
  backend's end-of-cell display on the main thread: ipykernel 7 fires ``post_execute``
  hooks after a widget message handled on a subshell too (ipykernel issue #1564), and
  matplotlib-inline's ``flush_figures`` would then show (and close) the figure a running
  cell is still drawing, tagged to the widget message, so it would appear in no cell.

``make lab`` also keeps widget messages off subshells (JupyterLab's ``commsOverSubshells``
setting, written by ``make venv``), so callbacks run on the main thread as they did before
JupyterLab 4.4. The browser test runs the widgets both ways: with that setting, and with
JupyterLab's default (subshells), where these measures alone keep the course safe.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["DRAW_LOCK", "serialize_matplotlib", "new_figure"]

#: One process-wide lock around figure work (re-entrant: a locked redraw may render).
DRAW_LOCK = threading.RLock()

_LOCKED_METHODS = (
    ("matplotlib.mathtext", "MathTextParser", "parse"),          # the parser singleton's state
    ("matplotlib.backends.backend_agg", "FigureCanvasAgg", "draw"),   # rendering a figure
    ("matplotlib.backend_bases", "FigureCanvasBase", "print_figure"),  # saving / inline display
)


def _locked(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with DRAW_LOCK:
            return method(*args, **kwargs)

    locked._draw_lock = True  # type: ignore[attr-defined]  # marks the wrapper: wrapped once
    return locked


def serialize_matplotlib() -> None:
    """Make matplotlib's mathtext parsing and rendering hold :data:`DRAW_LOCK`, and keep the
    inline backend's end-of-cell ``flush_figures`` on the main thread (idempotent)."""
    import importlib

    if all(getattr(getattr(importlib.import_module(m), c).__dict__[f], "_draw_lock", False)
           for m, c, f in _LOCKED_METHODS) and _flush_guarded():
        return  # every redraw calls this: once all is in place it does not wait for DRAW_LOCK
    with DRAW_LOCK:
        for module_name, class_name, method_name in _LOCKED_METHODS:
            cls = getattr(importlib.import_module(module_name), class_name)
            method = cls.__dict__[method_name]
            if not getattr(method, "_draw_lock", False):
                setattr(cls, method_name, _locked(method))
        _flush_figures_on_the_main_thread_only()


def _main_thread_only(flush):
    @functools.wraps(flush)
    def flush_figures(*args, **kwargs):
        # On a subshell thread, a post_execute hook belongs to a widget message, not to the
        # cell whose figures are open: leave them for the cell's own post_execute.
        if threading.current_thread() is threading.main_thread():
            return flush(*args, **kwargs)
        return None

    flush_figures._main_thread_only = True  # type: ignore[attr-defined]  # marks the guard: installed once
    return flush_figures


def _flush_guarded() -> bool:
    """The inline backend's ``flush_figures`` is guarded, and no ``post_execute`` hook holds the
    unguarded one (or there is no inline backend)."""
    try:
        import matplotlib_inline.backend_inline as inline
        from IPython import get_ipython
    except ImportError:
        return True
    guard = inline.flush_figures
    if not getattr(guard, "_main_thread_only", False):
        return False
    callbacks = getattr(getattr(get_ipython(), "events", None), "callbacks", {}).get("post_execute", [])
    original = getattr(guard, "__wrapped__", None)
    return all(callback is not original for callback in callbacks)


def _flush_figures_on_the_main_thread_only() -> None:
    try:
        import matplotlib_inline.backend_inline as inline
        from IPython import get_ipython
    except ImportError:  # no IPython kernel stack: nothing to guard
        return
    original = inline.flush_figures
    if not getattr(original, "_main_thread_only", False):
        # later activations of the inline backend register the guarded function
        inline.flush_figures = _main_thread_only(original)
    shell = get_ipython()
    callbacks = getattr(getattr(shell, "events", None), "callbacks", {}).get("post_execute", [])
    for i, callback in enumerate(callbacks):
        if callback is original or (getattr(callback, "__wrapped__", None) is original
                                    and not getattr(callback, "_main_thread_only", False)):
            callbacks[i] = inline.flush_figures


def new_figure(**kwargs):
    """A :class:`matplotlib.figure.Figure` that pyplot does not know about (no shared state).

    Takes :class:`~matplotlib.figure.Figure`'s arguments (``figsize=...``); add axes with
    ``fig.subplots(...)`` and show it with :class:`~backprop_lib.plotting.live.LiveFigure` (a widget)
    or ``IPython.display.display(fig)``.
    """
    from matplotlib.figure import Figure

    return Figure(**kwargs)
