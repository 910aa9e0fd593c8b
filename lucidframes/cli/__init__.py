"""The ``lucidframes`` command line, thin over the library: one module per command, ``main`` maps errors to exit codes.

``lucidframes.cli:main`` is the console script; ``python -m lucidframes`` runs it too.
"""

from __future__ import annotations

from lucidframes.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
