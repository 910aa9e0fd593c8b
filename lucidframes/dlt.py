"""A dlt source over lucidframes' drain: ``lucid_source(client=None, endpoints=None)`` (the ``dlt`` extra).

::

    import dlt
    from lucidframes.dlt import lucid_source

    pipeline = dlt.pipeline("lucid", destination="duckdb", dataset_name="lucid")
    pipeline.run(lucid_source())          # a Client from the LUCID_* environment; or lucid_source(client)

One ``dlt.resource`` per snapshot table (``products``, ``batches``, ``assets_texts`` .. ``assets_files``,
``brands``) with ``primary_key`` from the registry and ``write_disposition="merge"``, yielding **pages** (lists of
the raw records): dlt keeps destinations, schemas and state, lucidframes keeps the API guide's retry table, the
origin guard and the drift checks. Columns are typed from the registry.

The destination holds what ``client.load`` returns at the same moment. Only pages the drain has verified are
yielded: they are spooled to a private temp file (memory holds a page) and handed to dlt once the drain has ended;
when the data moved during the drain, the earlier pass is dropped unseen (the rows carry their ``_lucid_drain_pass``).
Rows deleted since the last run are yielded as deletions dlt understands (``_lucid_deleted``, a ``hard_delete``
column): the keys loaded are kept in the resource's state. A drain that gives up yields nothing, so a failed run
loads nothing and the destination keeps the last complete load.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from lucidframes.client import Client
from lucidframes.endpoints import get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.pipelines import pages as pagesource
from lucidframes.pipelines.targets import Target, resolve_targets

__all__ = ["DELETED_COLUMN", "DRAIN_PASS_COLUMN", "lucid_source"]

DRAIN_PASS_COLUMN = "_lucid_drain_pass"
DELETED_COLUMN = "_lucid_deleted"  # True on the row dlt deletes: a key loaded before that the API no longer has
# The registry's column kinds -> dlt's data types.
_DLT_TYPES = {
    "string": "text",
    "decimal": "text",
    "bool": "bool",
    "int": "bigint",
    "datetime": "timestamp",
    "object": "json",
}


def _require_dlt() -> Any:
    """The real ``dlt`` library (an absolute import: this module's own name does not shadow it)."""
    try:
        import dlt
    except ImportError:
        raise ConfigError("The dlt source needs dlt: pip install 'lucidframes[dlt]'.") from None
    if not hasattr(dlt, "resource"):  # pragma: no cover - only if something put this module first on the path
        raise ConfigError("`import dlt` found lucidframes.dlt instead of the dlt library; check sys.path.")
    return dlt


def _columns(target: Target) -> dict[str, dict[str, Any]]:
    """dlt column hints from the registry (list-row columns), plus the drain pass that breaks ties in the merge."""
    ep = get_endpoint(target.endpoint)
    hints: dict[str, dict[str, Any]] = {
        name: {"data_type": _DLT_TYPES.get(kind, "text"), "nullable": name != ep.key}
        for name, kind in ep.columns.items()
    }
    hints[DRAIN_PASS_COLUMN] = {"data_type": "bigint", "nullable": False, "dedup_sort": "desc"}
    if ep.key is not None:
        hints[DELETED_COLUMN] = {"data_type": "bool", "nullable": True, "hard_delete": True}
    return hints


def _pages(dlt: Any, client: Client, target: Target) -> Iterator[list[dict[str, Any]]]:
    """The verified pages of one target (records tagged with their drain pass), then the rows deleted since."""
    key = get_endpoint(target.endpoint).key
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:  # private, and gone when closed
        drain_pass = 1
        for page in pagesource.pages(client, target.endpoint, target.params):
            if page.drain_pass != drain_pass:  # the data moved: the earlier pass never reaches dlt
                drain_pass = page.drain_pass
                spool.seek(0)
                spool.truncate()
            spool.write(json.dumps(page.rows) + "\n")  # one line a page: JSON escapes line breaks in text
        spool.seek(0)
        keys: set[Any] = set()
        for line in spool:
            rows = json.loads(line)
            if key is not None:
                keys.update(row.get(key) for row in rows)
            yield [{**row, DRAIN_PASS_COLUMN: drain_pass} for row in rows]
    if key is not None:
        yield from _deleted(dlt.current.resource_state(), key, keys, drain_pass)


def _deleted(state: Any, key: str, keys: set[Any], drain_pass: int) -> Iterator[list[dict[str, Any]]]:
    """Deletions of the keys loaded last time that this drain did not see; the resource's state keeps this one's."""
    kept = sorted(k for k in keys if isinstance(k, str))
    gone = sorted(set(state.get("keys") or ()) - set(kept))
    state["keys"] = kept
    if gone:
        yield [{key: k, DELETED_COLUMN: True, DRAIN_PASS_COLUMN: drain_pass} for k in gone]


def lucid_source(client: Client | None = None, endpoints: Iterable[str] | None = None) -> Any:
    """A dlt source with one merge resource per list endpoint (or those named), yielding pages.

    Args:
        client: the Client to fetch with (one from the ``LUCID_*`` environment when omitted).
        endpoints: snapshot table or endpoint names (``assets`` means the four asset types); all by default.

    Returns:
        A ``dlt`` source: pass it to ``pipeline.run``.
    """
    dlt = _require_dlt()
    targets = resolve_targets(endpoints)
    if client is None:
        client = Client(progress=False)
    resources = []
    for target in targets:
        key = get_endpoint(target.endpoint).key
        resources.append(
            dlt.resource(
                _pages(dlt, client, target),
                name=target.name,
                primary_key=key,
                write_disposition="merge" if key else "append",
                columns=_columns(target),
            )
        )

    @dlt.source(name="lucidframes")  # type: ignore[untyped-decorator]
    def lucidframes_source() -> Any:
        return resources

    return lucidframes_source()
