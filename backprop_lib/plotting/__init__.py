"""Plot helpers shared by the notebooks, drawn with matplotlib only.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the
axes it drew on; notebooks end plot cells with ``plt.show()``. One colour per concept
across the whole course lives in :data:`COLORS`.

One module per notebook; everything is re-exported here, so
``from backprop_lib.plotting import ...`` works for every helper.
"""

from . import style, threadsafe, chain_rule, computational_graph, layerwise_delta, vanishing_gradients, checkpointing, beyond_sgd

from .style import *  # noqa: F401,F403
from .threadsafe import *  # noqa: F401,F403
from .chain_rule import *  # noqa: F401,F403
from .computational_graph import *  # noqa: F401,F403
from .layerwise_delta import *  # noqa: F401,F403
from .vanishing_gradients import *  # noqa: F401,F403
from .checkpointing import *  # noqa: F401,F403
from .beyond_sgd import *  # noqa: F401,F403

__all__ = [name for module in (style, threadsafe, chain_rule, computational_graph, layerwise_delta, vanishing_gradients, checkpointing, beyond_sgd) for name in module.__all__]
