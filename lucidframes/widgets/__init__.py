"""The notebook Explorer (ipywidgets): explorer (the widget), view (what it shows), fetch and lookup (the panels of
its two modes).

Layer 5. The public path is ``lucidframes.widgets``: ``from lucidframes.widgets import Explorer``.
"""

from lucidframes.widgets.explorer import Explorer, explore
from lucidframes.widgets.fetch import listable_endpoints

__all__ = ["Explorer", "explore", "listable_endpoints"]
