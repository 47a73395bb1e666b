"""A progress bar for long notebook cells (training runs, sweeps)."""

from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def progress(items: Iterable[T], description: str = "running", total: int | None = None) -> Iterator[T]:
    """Yield ``items`` while an ipywidgets progress bar counts them.

    Outside a notebook front end the bar is simply not shown; the items are yielded all the same.
    """
    if total is None:
        items = list(items)
        total = len(items)
    try:
        import ipywidgets as widgets
        from IPython.display import display

        bar = widgets.IntProgress(min=0, max=max(total, 1), description=description)
        display(bar)
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        bar = None
    for i, item in enumerate(items, start=1):
        yield item
        if bar is not None:
            bar.value = i
