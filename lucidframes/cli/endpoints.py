"""``lucidframes endpoints``: the registry as a table on stdout."""

from __future__ import annotations

import argparse
from typing import Any

from lucidframes.cli import common

__all__ = ["add_parser", "run"]

EXAMPLES = [
    "lucidframes endpoints",
    "lucidframes endpoints | grep retail",
]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``endpoints`` on the subcommands.

    Args:
        sub: the subparsers action.

    Returns:
        The parser.
    """
    p = common.subcommand(
        sub,
        "endpoints",
        "list the endpoints lucidframes knows",
        "List every endpoint name with its product (source, retail), methods, whether it is "
        "paginated, its path and what it is. The names are what fetch, lookup and snapshot take.",
        EXAMPLES,
        exit_codes=False,
        environment=None,
    )
    common.add_log_options(p)
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Print the registry.

    Args:
        args: the parsed options.

    Returns:
        0.
    """
    from lucidframes.endpoints import ENDPOINTS

    rows = [("NAME", "PRODUCT", "METHODS", "PAGINATED", "PATH", "DESCRIPTION")]
    for ep in ENDPOINTS.values():
        path = ep.list_path or ep.detail_path or ep.submit_path or ep.delete_path or ""
        rows.append((ep.name, ep.product, ",".join(ep.methods), "yes" if ep.paginated else "no", path, ep.description))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True)) + "  " + row[5])
    return common.EXIT_OK
