"""A local cache of results, so that a re-run notebook cell is answered from disk instead of the rate limit.

What is stored is *results*, not HTTP answers: a look-up per id (the record and its ``_status``), a drain as one
whole, reconciled result (its records and account). A drain is a snapshot, so its pages are never stored or served
one by one: pages of different ages would mix two versions of the data.

Storage is one SQLite database (the standard library's ``sqlite3``) in the cache folder. SQLite rather than Parquet
files: it is always there (Parquet needs pyarrow, an optional extra); a look-up of 5,000 ids is 5,000 small rows,
each upserted as it arrives, which would be 5,000 files or a rewrite per id in Parquet; and its transactions make
two processes writing at once safe (write-ahead log, ``BEGIN IMMEDIATE``, a busy timeout) where files would need
locks of our own. Records are kept as JSON text, exactly as the API sent them, and typed again on the way out.

Every entry is keyed by its *scope* (the base URL, the product's API prefix and the client id: the sandbox,
production and two brands never mix), the endpoint, its parameters and the id. Credentials are never stored: a
fixed token is represented by a short SHA-256 digest, which identifies it and cannot be used in its place.

A cache never costs the data it was meant to save: when it cannot be used (a full disk, a lock held past
``BUSY_TIMEOUT``) it warns once (``CacheWarning``) and the client goes on without it; a damaged file is set aside
and the cache rebuilt (``cache_file.py``, which also keeps it private). Only a whole, reconciled drain is stored
and served: not one that ended with unresolved drift, or with rows that do not add up to its count.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lucidframes import config
from lucidframes.errors import ConfigError
from lucidframes.loaders.cache_file import (
    Damaged,
    check_layout,
    inode,
    private_file,
    private_folder,
    set_aside,
    warn_aside,
    warn_off,
)
from lucidframes.loaders.cache_keys import identity_of, parse_max_age, reconciled, scope_key

__all__ = [
    "CacheInfo",
    "DrainEntry",
    "ResultCache",
    "identity_of",
    "open_cache",
    "parse_max_age",
    "reconciled",
    "scope_key",
]

T = TypeVar("T")

SCHEMA_VERSION = 1
BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's transaction before giving up
# Look-up answers worth keeping: a row's content, or the server's definite word that there is none.
CACHED_STATUSES = ("ok", "not_found", "forbidden")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (scope TEXT NOT NULL, endpoint TEXT NOT NULL, params TEXT NOT NULL, "
    "kind TEXT NOT NULL, key TEXT NOT NULL, fetched_at REAL NOT NULL, body TEXT NOT NULL, "
    "PRIMARY KEY (scope, endpoint, params, kind, key))",
)


def open_cache(cache: object, scopes: Mapping[str, str]) -> ResultCache | None:
    """A client's result cache: None when off (None, False), the user cache dir (True), or the folder given.

    Args:
        cache: the client's ``cache=`` argument.
        scopes: the scope per product (``scope_key``: server, prefix, account).

    Returns:
        The cache, or None.
    """
    if cache is None or cache is False:
        return None
    folder = config.default_cache_dir() if cache is True else cache
    if not isinstance(folder, str | os.PathLike):
        raise ConfigError(f"cache takes a folder or True (got {type(cache).__name__}).")
    return ResultCache(Path(folder), scopes)


def _params_key(params: Mapping[str, str]) -> str:
    """The parameters as canonical JSON (sorted keys), so their order never splits an entry."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class DrainEntry:
    """A whole drain from the cache: the records, the drain's account, and when it was fetched (Unix time)."""

    records: list[dict[str, Any]]
    info: dict[str, Any]
    fetched_at: float


@dataclass(frozen=True)
class CacheInfo:
    """What a cache holds: its file, its size, and per endpoint the ids and drains of this client's scope."""

    path: Path
    size_bytes: int
    endpoints: dict[str, dict[str, int]]  # endpoint -> {"ids": n, "drains": n}
    oldest: float | None  # Unix times of the oldest and newest entry of this scope
    newest: float | None

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}: {v['ids']} ids, {v['drains']} drains" for name, v in sorted(self.endpoints.items()))
        return f"CacheInfo({str(self.path)!r}, {self.size_bytes / 2**20:.1f} MiB; {parts or 'empty'})"


class ResultCache:
    """Results of one client, in a SQLite file in ``folder`` shared with other clients and processes.

    Args:
        folder: the cache folder (created if missing).
        scopes: the scope per product (see ``scope_key``).
        clock: Unix time, for ages (a test may move it).
    """

    def __init__(self, folder: str | Path, scopes: Mapping[str, str], *, clock: Any = time.time) -> None:
        self.folder = Path(folder).expanduser()
        private_folder(self.folder)
        self.path = self.folder / config.DEFAULT_CACHE_FILE
        self.scopes = dict(scopes)
        self.clock = clock
        self.off: str | None = None  # why the cache is off for this client (after a failure), or None
        self._lock = threading.Lock()
        self._inode: int | None = None  # the file the last connection opened (to set aside only that one)
        self._guard(self._create, None)

    def __repr__(self) -> str:
        return f"ResultCache({str(self.path)!r})"

    def _create(self) -> None:
        """The file (``0600``) and its tables, once it is known to be ours."""
        private_file(self.path)
        with self._connect(write=True) as db:
            check_layout(db, SCHEMA_VERSION)
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection for one transaction (committed on success or Ctrl-C), serialised within this process.

        A writer takes the write lock at once (``BEGIN IMMEDIATE``), so two processes never both read, then both
        try to write and one fails; readers never block (write-ahead log). ``mode=rw``: only ``_create`` creates.
        """
        with self._lock:
            self._inode = inode(self.path)
            db = sqlite3.connect(self.path.absolute().as_uri() + "?mode=rw", uri=True, timeout=BUSY_TIMEOUT,
                                 isolation_level=None)  # fmt: skip
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield db
                db.execute("COMMIT")
            except KeyboardInterrupt:  # it lands between statements: the rows written are whole, keep them
                if db.in_transaction:
                    db.execute("COMMIT")
                raise
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()

    def _guard(self, work: Callable[[], T], default: T) -> T:
        """``work()``, or ``default`` once the cache failed: a damaged file is set aside, anything else turns it off.

        Only the cache's own failures are caught (SQLite's, the file system's): an interrupt goes through.
        """
        if self.off is not None:
            return default
        try:
            return work()
        except Damaged as exc:
            reason = str(exc)
        except sqlite3.OperationalError as exc:  # locked, full, I/O: the file may be fine, this client goes on
            self._turn_off(str(exc))
            return default
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            reason = str(exc)
        except (sqlite3.Error, OSError) as exc:
            self._turn_off(getattr(exc, "strerror", None) or str(exc))
            return default
        self._rebuild(reason)
        return default

    def _turn_off(self, reason: str) -> None:
        self.off = reason
        warn_off(self.path, reason)

    def _rebuild(self, reason: str) -> None:
        """Set the damaged file aside, say where, and start an empty cache (turned off if even that fails)."""
        warn_aside(self.path, set_aside(self.path, self._inode), reason)
        try:
            self._create()
        except (Damaged, sqlite3.Error, OSError) as exc:
            self._turn_off(str(exc))

    def _checked(self, work: Callable[[], T]) -> T:
        """``work()`` for an explicit call on the cache (``info``, ``clear``): its failure is a ConfigError."""
        try:
            return work()
        except (Damaged, sqlite3.Error, OSError) as exc:
            raise ConfigError(f"The result cache {self.path} cannot be used ({exc}).") from None

    def _scope(self, product: str) -> str:
        return self.scopes[product]

    # -- look-ups, per id ---------------------------------------------------------------------------------

    def get_ids(
        self, product: str, endpoint: str, params: Mapping[str, str], ids: Iterable[str], max_age: float
    ) -> dict[str, dict[str, Any]]:
        """The rows cached for ``ids`` no older than ``max_age`` seconds (id -> row with ``_status``).

        Args:
            product: the endpoint's product (picks the scope).
            endpoint: the endpoint name.
            params: its path parameters.
            ids: the ids wanted.
            max_age: the oldest acceptable entry, in seconds.

        Returns:
            The fresh rows found; ids missing or stale are absent.
        """
        wanted = list(dict.fromkeys(ids))
        since = self.clock() - max_age
        key = (self._scope(product), endpoint, _params_key(params))

        def read() -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            with self._connect() as db:
                for start in range(0, len(wanted), 500):  # SQLite's limit on bound variables
                    chunk = wanted[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(
                        f"SELECT key, body FROM entries WHERE scope=? AND endpoint=? AND params=? AND kind='id' "
                        f"AND fetched_at>=? AND key IN ({marks})",
                        (*key, since, *chunk),
                    )
                    found.update((k, json.loads(body)) for k, body in rows)
            return found

        return self._guard(read, {})

    def put_ids(self, product: str, endpoint: str, params: Mapping[str, str], rows: Mapping[str, Any]) -> None:
        """Store look-up rows (id -> row with ``_status``); rows whose status is not worth keeping are skipped."""
        now = self.clock()
        key = (self._scope(product), endpoint, _params_key(params))
        values = [
            (*key, "id", id_, now, json.dumps(row, separators=(",", ":")))
            for id_, row in rows.items()
            if row.get("_status") in CACHED_STATUSES
        ]
        if values:
            self._guard(lambda: self._write_many(values), None)

    def _write_many(self, values: list[tuple[Any, ...]]) -> None:
        with self._connect(write=True) as db:
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", values)

    # -- drains, whole ------------------------------------------------------------------------------------

    def get_drain(self, product: str, endpoint: str, params: Mapping[str, str], max_age: float) -> DrainEntry | None:
        """The whole, reconciled drain cached no older than ``max_age`` seconds, or None."""
        since = self.clock() - max_age
        key = (self._scope(product), endpoint, _params_key(params), since)

        def read() -> Any:
            with self._connect() as db:
                return db.execute(
                    "SELECT fetched_at, body FROM entries WHERE scope=? AND endpoint=? AND params=? "
                    "AND kind='drain' AND key='' AND fetched_at>=?",
                    key,
                ).fetchone()

        row = self._guard(read, None)
        if row is None:
            return None
        body = json.loads(row[1])
        if not reconciled(body["info"]):  # stored by an earlier release, which kept unreconciled drains too
            return None
        return DrainEntry(body["records"], body["info"], float(row[0]))

    def put_drain(
        self,
        product: str,
        endpoint: str,
        params: Mapping[str, str],
        records: list[dict[str, Any]],
        info: Mapping[str, Any],
    ) -> None:
        """Store a whole, reconciled drain as one entry (replacing the older one); any other drain is not stored."""
        if not reconciled(info):
            return
        body = json.dumps({"records": records, "info": dict(info)}, separators=(",", ":"), default=str)
        values = [(self._scope(product), endpoint, _params_key(params), "drain", "", self.clock(), body)]
        self._guard(lambda: self._write_many(values), None)

    # -- housekeeping -------------------------------------------------------------------------------------

    def clear(self, name: str | None = None) -> int:
        """Forget this client's entries (of one endpoint, or all of them); other scopes are left alone.

        Args:
            name: an endpoint name, or None for every endpoint.

        Returns:
            The number of entries removed.
        """
        scopes = sorted(set(self.scopes.values()))
        marks = ",".join("?" * len(scopes))
        where = f"scope IN ({marks})" + (" AND endpoint=?" if name is not None else "")
        args = (*scopes, name) if name is not None else tuple(scopes)

        def delete() -> int:
            with self._connect(write=True) as db:
                return int(db.execute(f"DELETE FROM entries WHERE {where}", args).rowcount)

        return self._checked(delete)

    def info(self) -> CacheInfo:
        """What the cache holds for this client (per endpoint), and the size of the whole file.

        Returns:
            The CacheInfo.
        """
        scopes = sorted(set(self.scopes.values()))
        marks = ",".join("?" * len(scopes))

        def read() -> list[Any]:
            with self._connect() as db:
                return db.execute(
                    f"SELECT endpoint, kind, COUNT(*), MIN(fetched_at), MAX(fetched_at) FROM entries "
                    f"WHERE scope IN ({marks}) GROUP BY endpoint, kind",
                    scopes,
                ).fetchall()

        rows = self._checked(read)
        endpoints: dict[str, dict[str, int]] = {}
        times: list[float] = []
        for endpoint, kind, n, oldest, newest in rows:
            counts = endpoints.setdefault(endpoint, {"ids": 0, "drains": 0})
            counts["ids" if kind == "id" else "drains"] += int(n)
            times += [oldest, newest]
        files = [self.path, *(Path(f"{self.path}{suffix}") for suffix in ("-wal", "-shm"))]
        size = sum(p.stat().st_size for p in files if p.is_file())
        return CacheInfo(self.path, size, endpoints, min(times, default=None), max(times, default=None))
