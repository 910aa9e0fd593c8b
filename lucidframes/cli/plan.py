"""``--plan`` / ``--dry-run`` for the ``fetch`` and ``lookup`` commands: print what a run will cost, send nothing more.

Self-contained so that the command's module wires it in two lines::

    add_plan_flag(fetch_parser)                    # and lookup_parser
    if args.plan:
        return print_plan(client, args.endpoint, ids=None, params=dict(args.param))

The plan goes to stderr as its one line (``items: 5,000 look-ups, 0 cached, 5,000 requests ≈ 83 min at 60/min
(source)``), or as one JSON object with ``--log-format json``; the exit code is 0. A drain's plan costs one request
(page 1, for the count); a look-up's plan none.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import IO, Any

from lucidframes.client import Client
from lucidframes.loaders.plan import Plan

__all__ = ["EXIT_PLANNED", "add_plan_flag", "plan_record", "print_plan"]

EXIT_PLANNED = 0


def add_plan_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--plan`` (alias ``--dry-run``) to a command's parser; ``args.plan`` is then True or False.

    Args:
        parser: the command's parser (``fetch``, ``lookup``).
    """
    parser.add_argument(
        "--plan",
        "--dry-run",
        dest="plan",
        action="store_true",
        help="print the requests and the time the run would take, then stop (a fetch asks for page 1 only)",
    )


def plan_record(plan: Plan) -> dict[str, Any]:
    """The plan as a JSON-able record (for ``--log-format json``), with its one-line summary as ``message``.

    Args:
        plan: the Plan.

    Returns:
        The record.
    """
    record = asdict(plan)
    record["limit"] = list(plan.limit) if plan.limit is not None else None
    return {"event": "plan", "message": repr(plan), **record}


def print_plan(
    client: Client,
    endpoint: str,
    *,
    ids: Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    log_format: str = "text",
    stream: IO[str] | None = None,
    **options: Any,
) -> int:
    """Plan ``endpoint`` (a load, or a look-up of ``ids``) and print it; nothing else is fetched.

    Args:
        client: the configured Client.
        endpoint: the endpoint name.
        ids: the ids of a look-up (None: plan a load).
        params: the endpoint's parameters (``asset_type=images``).
        log_format: "text" (the one line) or "json" (one object).
        stream: where to print (stderr by default: stdout carries data).
        **options: passed to ``Client.plan`` (``workers``, ``max_age``, ``checkpoint``).

    Returns:
        The exit code (0).
    """
    plan = client.plan(endpoint, ids, **options, **dict(params or {}))
    out = stream if stream is not None else sys.stderr
    print(json.dumps(plan_record(plan)) if log_format == "json" else repr(plan), file=out, flush=True)
    return EXIT_PLANNED
