"""Plot helpers shared by the notebooks, drawn with matplotlib only.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the
axes it drew on; notebooks end plot cells with ``plt.show()``. One colour per concept
across the whole course lives in :data:`COLORS`.

One module per notebook; everything is re-exported here, so
``from backprop_lib.plotting import ...`` works for every helper.
"""

from . import (beyond_sgd, chain_rule, checkpointing, computational_graph, layerwise_delta, live, style,
               threadsafe, vanishing_gradients)

from .style import *  # noqa: F401,F403
from .threadsafe import *  # noqa: F401,F403
from .live import *  # noqa: F401,F403
from .chain_rule import *  # noqa: F401,F403
from .computational_graph import *  # noqa: F401,F403
from .layerwise_delta import *  # noqa: F401,F403
from .vanishing_gradients import *  # noqa: F401,F403
from .checkpointing import *  # noqa: F401,F403
from .beyond_sgd import *  # noqa: F401,F403

_MODULES = (style, threadsafe, live, chain_rule, computational_graph, layerwise_delta, vanishing_gradients,
            checkpointing, beyond_sgd)
__all__ = [name for module in _MODULES for name in module.__all__]
