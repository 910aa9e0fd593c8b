"""The facade: client (``Client``), connection (raw verbs), settings (``resolve_settings``), arguments (checks of
call arguments), shared (the ``sandbox=True`` client).

Layer 4: above the loaders, below pipelines, notebook, widgets and the CLI.
"""

from lucidframes.client.client import Client

__all__ = ["Client"]
