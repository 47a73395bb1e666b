"""The notebooks' interactive widgets.

Each widget is a thin ipywidgets shell around a plain function that computes what
the widget shows (the tests call those functions directly, without a browser).
Widget builders return the widget so a notebook cell can display it; they import
ipywidgets lazily so the rest of the package works without a front end.

One module per notebook; everything is re-exported here, so
``from backprop_lib.widgets import ...`` works for every helper.
"""

from . import (beyond_sgd, chain_rule, checkpointing, computational_graph, layerwise_delta, progress_bar,
               vanishing_gradients)

from .chain_rule import *  # noqa: F401,F403
from .computational_graph import *  # noqa: F401,F403
from .layerwise_delta import *  # noqa: F401,F403
from .vanishing_gradients import *  # noqa: F401,F403
from .checkpointing import *  # noqa: F401,F403
from .beyond_sgd import *  # noqa: F401,F403
from .progress_bar import *  # noqa: F401,F403

_MODULES = (chain_rule, computational_graph, layerwise_delta, vanishing_gradients, checkpointing, beyond_sgd,
            progress_bar)
__all__ = [name for module in _MODULES for name in module.__all__]
