"""A dlt source over lucidframes' drain: ``lucid_source(client=None, endpoints=None)`` (the ``dlt`` extra).

::

    import dlt
    from lucidframes.dlt import lucid_source

    pipeline = dlt.pipeline("lucid", destination="duckdb", dataset_name="lucid")
    pipeline.run(lucid_source())          # a Client from the LUCID_* environment; or lucid_source(client)

One ``dlt.resource`` per snapshot table (``products``, ``batches``, ``assets_texts`` .. ``assets_files``,
``brands``) with ``primary_key`` from the registry and ``write_disposition="merge"``, yielding **pages** (lists of
the raw records): dlt keeps destinations, schemas and state, lucidframes keeps the API guide's retry table, the
origin guard and the drift checks. Columns are typed from the registry. When the data moved during a drain, the
pages of the later pass carry a higher ``_lucid_drain_pass``, and the merge keeps their version of a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from lucidframes.client import Client
from lucidframes.endpoints import get_endpoint
from lucidframes.errors import ConfigError
from lucidframes.pipelines import pages as pagesource
from lucidframes.pipelines.targets import Target, resolve_targets

__all__ = ["DRAIN_PASS_COLUMN", "lucid_source"]

DRAIN_PASS_COLUMN = "_lucid_drain_pass"
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
    return hints


def _pages(client: Client, target: Target) -> Iterator[list[dict[str, Any]]]:
    """The pages of one target, each a list of records tagged with its drain pass."""
    for page in pagesource.pages(client, target.endpoint, target.params):
        yield [{**row, DRAIN_PASS_COLUMN: page.drain_pass} for row in page.rows]


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
                _pages(client, target),
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
