"""The library quoting itself: show a learner the very line of code that implements an equation.

Notebooks print :func:`library_line` (and nbval compares the output), so a quote cannot go
stale: when the library changes, the notebook's output changes with it.
"""

from __future__ import annotations

import inspect
import io
import textwrap
import tokenize

__all__ = ["library_line"]


def library_line(obj, *needles: str) -> str:
    """The first source line of ``obj`` (function, class or module) whose CODE contains one of ``needles``.

    Returns ``"<name>:  <line>"`` so a notebook can show the very line of the library that
    implements an equation. Lines inside docstrings and comment-only lines are skipped (a
    docstring that quotes the code must not be shown as the code); a code line keeps its
    trailing comment. Several needles allow for rewordings of that line (the first needle
    that matches wins); ``ValueError`` when none is found.
    """
    if not needles:
        raise ValueError("give at least one text to look for")
    name = getattr(obj, "__qualname__", obj.__name__)
    module = getattr(obj, "__module__", None)
    where = f"{module}.{name}" if module and module != name else name
    source = textwrap.dedent(inspect.getsource(obj))
    not_code = {tokenize.STRING, tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                tokenize.DEDENT, tokenize.ENDMARKER}
    code_rows: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in not_code:
            code_rows.update(range(tok.start[0], tok.end[0] + 1))
    lines = [line for row, line in enumerate(source.splitlines(), start=1) if row in code_rows]
    for needle in needles:
        for line in lines:
            if needle in line:
                return f"{where}:  {line.strip()}"
    raise ValueError(f"no line containing any of {list(needles)} in {where}")
