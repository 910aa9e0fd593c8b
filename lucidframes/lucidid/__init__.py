"""LucidID and uuid columns: formats, per-cell diagnosis, the vectorised tier, the report and the ``df.lucid`` accessor.

Importing this package registers the ``.lucid`` accessor on pandas DataFrame and Series.
"""

from __future__ import annotations

from lucidframes.lucidid.api import *  # noqa: F403
from lucidframes.lucidid.api import __all__
