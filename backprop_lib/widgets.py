"""The notebooks' interactive widgets.

Each widget is a thin ipywidgets shell around a plain function that computes what
the widget shows (the tests call those functions directly, without a browser).
Widget builders return the widget so a notebook cell can display it; they import
ipywidgets lazily so the rest of the package works without a front end.
"""

from __future__ import annotations

__all__: list[str] = []


# =============================================================================
# 01 chain rule
# =============================================================================



# =============================================================================
# 02 computational graph
# =============================================================================



# =============================================================================
# 03 layerwise delta
# =============================================================================



# =============================================================================
# 04 vanishing gradients
# =============================================================================



# =============================================================================
# 05 checkpointing
# =============================================================================
