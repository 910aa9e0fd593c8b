"""The notebook Explorer (ipywidgets): explorer (the widget), view (what it shows), lookup (the Look up panel).

Layer 5. The public path is ``lucidframes.widgets``: ``from lucidframes.widgets import Explorer``.
"""

from lucidframes.widgets.explorer import Explorer, explore, listable_endpoints

__all__ = ["Explorer", "explore", "listable_endpoints"]
