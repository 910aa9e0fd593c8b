"""The sandbox's data and what changes it: the seeded dataset, its look-up tables, inventory, transactions, exports.

The views (``source.py``, ``retail.py``) read and change it through a ``State``; ``app.App`` is a ``State`` that
also answers requests. Every change goes through ``lock``.
"""

from __future__ import annotations

import random
import threading

from lucidframes.sandbox import records
from lucidframes.sandbox.data import Dataset
from lucidframes.sandbox.ids import shortuuid
from lucidframes.sandbox.messages import not_found
from lucidframes.sandbox.records import ASSET_TYPES, Record

__all__ = ["MUTABLE", "State"]

MUTABLE = ("products", "batches", "assets")


class State:
    """The sandbox's data; every change to it goes through ``lock``."""

    def __init__(self, dataset: Dataset, *, seed: int, page_size: int) -> None:
        self.data = dataset
        self.seed = seed
        self.page_size = page_size
        self.lock = threading.RLock()
        self.inventory: dict[str, Record] = {}  # inventory collection identifier -> collection
        self.inventory_of: dict[str, str] = {}  # LucidID -> inventory collection identifier
        self.transactions: dict[str, Record] = {}  # order id -> transaction
        self.exports: set[str] = set()  # export dates already requested once (the next request gets the URL)
        self._ids = random.Random(f"requests:{seed}")
        self._serials = {name: len(self._rows(name)) for name in ("products", "batches")}
        self._serials.update({f"assets:{t}": len(dataset["assets"][t]) for t in ASSET_TYPES})
        self.index: dict[str, dict[str, Record]] = {}
        self.reindex()

    # --- data --------------------------------------------------------------------------------------------------

    def reindex(self) -> None:
        """Rebuild the lookup tables from ``data`` (after editing its lists directly)."""
        with self.lock:
            index = {name: {r["uuid"]: r for r in self.data[name]} for name in
                     ("products", "batches", "brands", "digital_coas", "items", "collections")}  # fmt: skip
            for kind in ASSET_TYPES:
                index[f"assets:{kind}"] = {r["uuid"]: r for r in self.data["assets"][kind]}
            index["collections:identifier"] = {c["identifier"]: c for c in self.data["collections"]}
            self.index = index

    def _rows(self, resource: str, asset_type: str | None = None) -> list[Record]:
        """The live list of a resource (assets need their type)."""
        if resource == "assets":
            if asset_type not in ASSET_TYPES:
                raise ValueError(f"asset_type must be one of {', '.join(ASSET_TYPES)}, got {asset_type!r}")
            rows: list[Record] = self.data["assets"][asset_type]
            return rows
        if resource not in self.data:
            raise ValueError(f"unknown resource {resource!r}: expected one of {', '.join(self.data)}")
        listed: list[Record] = self.data[resource]
        return listed

    def new_uuid(self) -> str:
        """A new shortuuid for a record created through the API, seeded."""
        with self.lock:
            return shortuuid(self._ids)

    def request_id(self) -> str:
        """A new request id (hex, like a UUID without dashes), seeded."""
        with self.lock:
            return f"{self._ids.getrandbits(128):032x}"

    def lookup(self, table: str, key: str, model: str) -> Record:
        """A record by uuid from an index, or DRF's 404."""
        found = self.index[table].get(key)
        if found is None:
            raise not_found(model)
        return found

    def mutate(
        self,
        resource: str,
        insert: int = 0,
        delete: int = 0,
        position: str | int = "start",
        asset_type: str | None = None,
    ) -> tuple[list[Record], list[Record]]:
        """Delete then insert records at a position ("start", "end" or an index); returns (inserted, deleted)."""
        if resource not in MUTABLE:
            raise ValueError(f"only {', '.join(MUTABLE)} can be mutated, not {resource!r}")
        if insert < 0 or delete < 0:
            raise ValueError("insert and delete must not be negative")
        with self.lock:
            rows = self._rows(resource, asset_type)
            if position == "start":
                at = 0
            elif position == "end":
                at = len(rows)
            elif isinstance(position, int) and not isinstance(position, bool):
                at = max(0, min(position, len(rows)))
            else:
                raise ValueError(f"position must be 'start', 'end' or an index, got {position!r}")
            # "end" deletes the last records; "start" and an index delete the records from there on
            start = max(0, len(rows) - delete) if position == "end" else at
            deleted = rows[start : start + delete]
            del rows[start : start + delete]
            table = f"assets:{asset_type}" if resource == "assets" else resource
            for gone in deleted:
                self.index[table].pop(gone["uuid"], None)
            inserted = [self._new_record(resource, asset_type) for _ in range(insert)]
            at = len(rows) if position == "end" else min(at, len(rows))
            rows[at:at] = inserted
            for new in inserted:
                self.index[table][new["uuid"]] = new
            return inserted, deleted

    def _new_record(self, resource: str, asset_type: str | None) -> Record:
        """One new seeded record for mutate(): dated after the generated data, with a fresh serial."""
        key = f"assets:{asset_type}" if resource == "assets" else resource
        serial = self._serials[key]
        self._serials[key] = serial + 1
        rng = random.Random(f"{self.seed}:{key}:{serial}")
        if resource == "assets":
            assert asset_type is not None
            return records.asset(rng, asset_type, serial)
        if not self.data["brands"]:
            raise ValueError("cannot add products or batches to a dataset without brands")
        owner = rng.choice(self.data["brands"])
        if resource == "products":
            return records.product(rng, serial, owner, start=records.LATER)
        return records.batch(rng, serial, owner, rng.choice(records.STRAINS), start=records.LATER)
