"""A widget's figure, redrawn in place: what keeps the course's sliders up with the hand.

A slider move used to build a new :class:`~matplotlib.figure.Figure`, lay it out with
``tight_layout`` and send it through ``display`` into an ``ipywidgets.Output``, where
matplotlib-inline drew it twice more (``bbox_inches="tight"`` measures the figure with
one draw, then renders it), each time with a new renderer that measured every text
again. :class:`LiveFigure` instead

* keeps one figure, its axes and one Agg canvas per widget, lays the figure out once (at
  the first draw), and draws it once per move into a PNG that replaces the bytes of an
  ``ipywidgets.Image`` (one message, no clearing of an output, no flicker);
* remembers the last pictures by the controls' values, so going back to a setting shows
  its picture at once (the picture is a pure function of the values: same values, same
  bytes, which the tests check against fresh widgets);
* after a move, draws in a background thread the moved control's two neighbouring values
  (one step on, one step back), then one step of every other control (in a widget of many
  controls, only the dropdowns' next and previous options), so the next key press usually
  finds its picture ready. Nothing is prefetched before the first move: a notebook's Run All
  (and the timings its cells measure) never competes with it. A neighbour that is not ready
  yet is simply drawn when asked for, and no prefetch starts while a move's picture is being
  shown; a move that arrives while a neighbour is being drawn stops that draw at its next
  animated artist (in a widget with a ``scene``) or waits for it (and uses it, if it is the
  picture it asked for).

A widget whose picture has a part that few controls change (notebook 06's contours, axes and
titles and legend change only with the surface; its paths, loss curves and step axis with
every slider) names those controls with ``scene``. Its ``draw`` marks what changes within a scene as animated
(``artist.set_animated(True)``, or a whole Axes); the rest is drawn once per scene into a
background, and a move restores that background and draws only the animated artists over it
(matplotlib's blitting). Most of a redraw's time goes to text (tick labels, legends, titles),
so a move that leaves them in the background costs a fraction of a full draw.

All figure work holds :data:`~backprop_lib.plotting.threadsafe.DRAW_LOCK` (see
``threadsafe.py``): callbacks on kernel subshells, the prefetch thread and a cell drawing
at the same time stay serialised.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import html
import io
import threading
from typing import Any, Callable, Iterator

import matplotlib

from .threadsafe import DRAW_LOCK, new_figure, serialize_matplotlib

__all__ = ["LiveFigure", "Preempted", "animated_artists", "figure_png"]


def figure_png(fig, background: Any = None, abort: Callable[[], bool] | None = None) -> bytes:
    """``fig`` drawn once by its Agg canvas, as PNG bytes (RGB, zlib level 1).

    The figure keeps one :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` (made at
    the first call): its renderer, and with it matplotlib's text-size cache, live as long
    as the figure, where ``savefig`` would make a new renderer (and measure every text
    again) each time. No ``bbox_inches="tight"`` (one draw, not two); zlib level 1 encodes
    a few times faster than the default for a slightly larger file.

    With ``background`` (what ``canvas.copy_from_bbox(fig.bbox)`` saved after a full draw)
    the canvas is restored to it and only the animated artists are drawn over it (see
    :func:`animated_artists`), instead of drawing the whole figure. ``abort`` is asked before
    each of those artists; when it says True, :class:`Preempted` is raised (a prefetch gives
    way to a learner's move) and the canvas is left half drawn, for the next draw to redo.
    """
    import numpy as np
    from PIL import Image

    with DRAW_LOCK:
        canvas = _agg_canvas(fig)
        if background is None:
            canvas.draw()
        else:
            canvas.restore_region(background)
            for ax in fig.axes:
                ax.viewLim  # noqa: B018 - brings autoscaled limits up to date, as a full draw of the Axes would
        for artist in animated_artists(fig):
            if abort is not None and abort():
                raise Preempted
            fig.draw_artist(artist)
        rgb = np.asarray(canvas.buffer_rgba())[..., :3]
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="png", compress_level=1)
    return buf.getvalue()


class Preempted(Exception):
    """A prefetch's drawing stopped to let a learner's move draw first (see :func:`figure_png`)."""


def _agg_canvas(fig):
    """``fig``'s :class:`~matplotlib.backends.backend_agg.FigureCanvasAgg` (made at the first call)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def animated_artists(fig) -> list:
    """The artists a full draw of ``fig`` leaves out (``get_animated()``), in the order a full
    draw would draw them: Axes by Axes, each Axes' animated children by z-order; an animated
    Axes counts as one artist (drawn whole)."""
    found = []
    for ax in fig.axes:
        if ax.get_animated():
            found.append(ax)
        else:
            found.extend(sorted((a for a in ax.get_children() if a.get_animated()), key=lambda a: a.get_zorder()))
    return found


def _exact(value):
    """A control's value as the picture's key and as what is drawn: floats to 12 significant
    digits, so ``1.0 + 0.05`` computed here and ``1.05`` sent by the browser are one setting."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


class LiveFigure:
    """One widget's figure (``fig``, its ``axes``), shown as an ``ipywidgets.Image`` updated in place.

    Parameters
    ----------
    figsize : (width, height) in inches
    controls : name -> control widget; the picture is a function of their values, given to
        ``draw`` (and ``compute``) as a dict ``state`` (floats rounded to 12 significant digits)
    draw : ``draw(live, state, data)`` updates the axes' artists for ``state`` (``data`` is
        what ``compute(state)`` returned, None without ``compute``) and may return the text
        line shown under the plot (with ``text=True``). It must set everything that depends
        on ``state``: any earlier picture, or a prefetched neighbour, may have been drawn last.
    compute : optional ``compute(state)``, run outside the drawing lock (a training run does
        not hold up other drawing)
    text : show a text line under the plot
    resets : optional ``{name: resets(value)}``: for a control whose change makes the widget set
        other controls too (notebook 06's surface resets the learning rates, steps and start),
        the values ``resets(value)`` gives them (name -> value), so that such a change counts as
        that control's move and its neighbours are prefetched as the widget would set them
    scene : optional ``scene(state)``: the values of the controls that the figure's
        non-animated artists depend on (hashable). ``draw`` then marks every artist that
        changes within one scene as animated; the rest is drawn once per scene into a
        background that each move restores before drawing the animated artists over it
    subplots : keyword arguments of :meth:`~matplotlib.figure.Figure.subplots`; ``axes`` is
        what it returns (one Axes or an array)

    ``widget`` is the box to put in the widget's layout: the image, the text (if any) and an
    ``ipywidgets.Output`` that shows the traceback when a redraw raises (the learner sees it
    where the plot is; the next good redraw clears it). Call :meth:`show` from the controls'
    observers and once at the start.
    """

    #: pictures remembered per widget (PNG bytes, some tens of kB each)
    CACHE_SIZE = 64
    #: prefetch one step of every control (not only the moved one) in widgets of at most this many controls
    PREFETCH_ALL_UP_TO = 5
    #: scene backgrounds remembered per widget (the canvas's pixels, about 1.5 MB each)
    BACKGROUNDS = 6

    def __init__(self, figsize: tuple[float, float], controls: dict, draw: Callable[..., str | None], *,
                 compute: Callable[[dict], Any] | None = None, text: bool = False,
                 resets: dict[str, Callable[[Any], dict]] | None = None, scene: Callable[[dict], Any] | None = None,
                 **subplots: Any):
        import ipywidgets as widgets

        self.fig = new_figure(figsize=figsize)
        with DRAW_LOCK:
            self.axes = self.fig.subplots(**subplots)
        self.controls, self._draw, self._compute, self._scene = dict(controls), draw, compute, scene
        self._backgrounds: collections.OrderedDict = collections.OrderedDict()  # scene -> the canvas's pixels
        self._resets = dict(resets or {})
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.text = widgets.HTML() if text else None
        self.errors = widgets.Output()
        self.draws = 0          # pictures shown (drawn or remembered)
        self.renders = 0        # pictures drawn (shown or prefetched)
        self.backgrounds = 0    # scene backgrounds drawn (with ``scene``)
        self.caching = True     # remember pictures and prefetch neighbours (tests switch it off)
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        self._show_lock = threading.RLock()
        self._error_shown = False
        self._laid_out = False
        self._last: dict | None = None
        parts = [self.image] + ([self.text] if self.text is not None else []) + [self.errors]
        self.widget = widgets.VBox(parts)

    def state(self) -> dict:
        """The controls' current values (floats rounded as in the keys)."""
        return {name: _exact(control.value) for name, control in self.controls.items()}

    def show(self, *_: Any) -> None:
        """Show the picture of the controls' current values: remembered, or drawn now (then the
        moved slider's neighbours are queued for the prefetch thread). An exception shows in
        ``errors`` and leaves the last good picture in place.

        One show at a time per figure, reading the controls inside: when callbacks run on two
        threads at once (kernel subshells), the one that shows last shows the latest values."""
        with self._show_lock:
            self._show()

    def _show(self) -> None:
        state = self.state()
        key = tuple(state.items())
        with _PREFETCH.foreground(), self.errors:
            if self._error_shown:
                self.errors.clear_output()
                self._error_shown = False
            self._error_shown = True  # until a picture is shown below
            hit = self._remembered(key)  # not under DRAW_LOCK: never waits for a prefetch's draw
            picture = hit if hit is not None else self._render(state, key)
            self.image.value = picture[0]
            if self.text is not None:
                self.text.value = f"<pre style='margin:0'>{html.escape(picture[1] or '')}</pre>"
            self.draws += 1
            self._error_shown = False
        moved, before, self._last = self._moved_control(state), self._last, state
        if moved is not None and self.caching:
            # the moved control's neighbours first; then, for a widget of a few controls, one step
            # of every other control, so the first move of the next control is ready too. With
            # more controls those 2(k - 1) extra draws outlast the pause between two key presses
            # and the next move would wait for them (measured on notebook 06's nine controls).
            # Dropdowns are the exception: their next and previous options are always prefetched
            # (in notebook 06 a new surface is a new scene and resets five sliders: the slowest
            # picture of all, worth drawing ahead once its turn comes after the moved slider's).
            states = [self._moved_to(moved, v, state) for v in self._neighbours(moved, state, before)]
            every = len(self.controls) <= self.PREFETCH_ALL_UP_TO
            states += [self._moved_to(name, v, state) for name, control in self.controls.items()
                       if name != moved and (every or type(control).__name__ == "Dropdown")
                       for v in self._neighbours(name, state)]
            _PREFETCH.submit(self, states)

    def _render(self, state: dict, key: tuple, abort: Callable[[], bool] | None = None) -> tuple[bytes, str | None]:
        serialize_matplotlib()
        data = self._compute(state) if self._compute is not None else None
        with DRAW_LOCK:
            done = self._remembered(key)  # the prefetch thread may have drawn it while we waited
            if done is not None:
                return done
            if abort is not None and abort():
                raise Preempted
            # titles at the top of their axes (y = 1, plus the usual pad) instead of placed by
            # measuring every tick label at each draw (about a tenth of a redraw's time)
            with matplotlib.rc_context({"axes.titley": 1.0}):
                line = self._draw(self, state, data)
            if not self._laid_out:
                self.fig.tight_layout()
                self._laid_out = True
            picture = (self._png(state, abort), line)
            self.renders += 1
        if self.caching:
            with self._cache_lock:
                self._cache[key] = picture
                self._cache.move_to_end(key)
                while len(self._cache) > self.CACHE_SIZE:
                    self._cache.popitem(last=False)
        return picture

    def _png(self, state: dict, abort: Callable[[], bool] | None = None) -> bytes:
        """The figure as PNG: drawn whole, or (with ``scene``) its animated artists over the
        scene's background, which is drawn (whole, without the animated artists) and saved
        when the scene is new. The last few scenes' backgrounds are kept: a prefetched picture
        of another scene (n + 1 in notebook 05, another surface in 06) does not cost the
        current scene its background. Called under DRAW_LOCK."""
        if self._scene is None:
            return figure_png(self.fig)
        scene = self._scene(state)
        if scene not in self._backgrounds:
            canvas = _agg_canvas(self.fig)
            canvas.draw()
            self._backgrounds[scene] = canvas.copy_from_bbox(self.fig.bbox)
            self.backgrounds += 1
            while len(self._backgrounds) > self.BACKGROUNDS:
                self._backgrounds.popitem(last=False)
        self._backgrounds.move_to_end(scene)
        return figure_png(self.fig, background=self._backgrounds[scene], abort=abort)

    def _remembered(self, key: tuple) -> tuple[bytes, str | None] | None:
        """The remembered picture for ``key`` (now the most recently used), or None."""
        with self._cache_lock:
            hit = self._cache.get(key) if self.caching else None
            if hit is not None:
                self._cache.move_to_end(key)
        return hit

    def prefetch(self, state: dict) -> None:
        """Draw ``state``'s picture into the cache unless it is there (the prefetch thread calls it)."""
        key = tuple(state.items())
        with self._cache_lock:
            if not self.caching or key in self._cache:
                return
        self._render(state, key, abort=_PREFETCH.move_waiting)

    def _moved_to(self, name: str, value: Any, state: dict) -> dict:
        """``state`` after control ``name`` moves to ``value`` (and the controls it resets, if any)."""
        reset = self._resets[name](value) if name in self._resets else {}
        return dict(state, **{k: _exact(v) for k, v in reset.items()}, **{name: value})

    def _moved_control(self, state: dict) -> str | None:
        """The one control whose value changed since the last picture (None: none, or several,
        unless one of them is a control with ``resets`` and the others are those it resets)."""
        if self._last is None:
            return None
        changed = {name for name in state if state[name] != self._last.get(name)}
        if len(changed) == 1:
            return next(iter(changed))
        for name in changed & set(self._resets):
            if changed <= {name, *self._resets[name](state[name])}:
                return name
        return None

    def _neighbours(self, name: str, state: dict, before: dict | None = None) -> list:
        """The values next to control ``name``'s: a slider's one step either side (the direction it
        moved from ``before`` first), a dropdown's next and previous options, a checkbox's other value."""
        control, value = self.controls[name], state[name]
        kind = type(control).__name__
        if kind == "Checkbox":
            return [not value]
        if kind == "Dropdown":
            options = [o[1] if isinstance(o, tuple) else o for o in control.options]
            if value not in options:
                return []
            i = options.index(value)
            around = (options[(i + 1) % len(options)], options[i - 1])
            return list(dict.fromkeys(v for v in around if v != value))
        if not _is_slider(control):
            return []
        up = value >= (before or {}).get(name, value)
        if kind == "FloatLogSlider":
            import math

            # on the slider's grid of exponents, as the browser's slider computes them
            k = round((math.log(value, control.base) - control.min) / control.step)
            candidates = [control.base ** _exact(control.min + (k + s) * control.step) for s in (1, -1)]
            inside = [v for v in candidates if control.base ** control.min <= v * (1 + 1e-12)
                      and v <= control.base ** control.max * (1 + 1e-12)]
        else:
            candidates = [value + control.step, value - control.step]
            inside = [v for v in candidates if control.min <= v <= control.max]
        ordered = inside if up else inside[::-1]
        return [_exact(v) if isinstance(v, float) else v for v in ordered]

    def wait_prefetched(self, timeout: float = 30.0) -> bool:
        """Block until the prefetch thread has nothing queued or running for this figure (tests)."""
        return _PREFETCH.wait_idle(self, timeout)


def _is_slider(control) -> bool:
    return type(control).__name__ in ("IntSlider", "FloatSlider", "FloatLogSlider")


class _Prefetcher:
    """One daemon thread that draws queued neighbour pictures; a newer request for a figure
    replaces its older, not yet started ones (the hand has moved on)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: collections.deque = collections.deque()
        self._busy: LiveFigure | None = None
        self._waiting = 0  # pictures being shown for a move right now
        self._thread: threading.Thread | None = None

    def submit(self, live: LiveFigure, states: list[dict]) -> None:
        with self._cond:
            self._queue = collections.deque(item for item in self._queue if item[0] is not live)
            self._queue.extend((live, s) for s in states)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="backprop-prefetch", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def move_waiting(self) -> bool:
        """True while a move's picture is being shown: a prefetch that is drawing stops (its
        ``abort``, checked between the artists it draws) and tries again later."""
        return self._waiting > 0

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        """Around a picture a move asks for: no prefetch starts a draw meanwhile, and one that
        is drawing stops at its next artist (:meth:`move_waiting`)."""
        with self._cond:
            self._waiting += 1
        try:
            yield
        finally:
            with self._cond:
                self._waiting -= 1
                self._cond.notify_all()

    def wait_idle(self, live: LiveFigure, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: self._busy is not live and all(item[0] is not live for item in self._queue), timeout)

    def stop(self) -> None:
        """Drop what is queued and wait for the picture being drawn (at exit: a daemon thread
        killed inside matplotlib's C++ code aborts the interpreter)."""
        with self._cond:
            self._queue.clear()
            self._cond.wait_for(lambda: self._busy is None, 30.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) and not self._waiting)
                live, state = self._queue.popleft()
                self._busy = live
            try:
                live.prefetch(state)
            except Preempted:  # a move came first: this picture waits for its turn again
                with self._cond:
                    if all(item[0] is not live for item in self._queue):  # unless the move queued anew
                        self._queue.appendleft((live, state))
            except Exception:  # noqa: BLE001 - a neighbour that cannot be drawn is drawn (and shown) when asked for
                pass
            finally:
                with self._cond:
                    self._busy = None
                    self._cond.notify_all()


_PREFETCH = _Prefetcher()
atexit.register(_PREFETCH.stop)
