"""The seeded dataset: ``generate(seed, sizes)``, its list-row projections, and the files in ``data/sandbox/``.

A dataset is a dict of full (detail-form) records, in list order::

    {"products": [...], "batches": [...], "assets": {"texts": [...], "images": [...], "videos": [...],
     "files": [...]}, "brands": [...], "digital_coas": [...], "items": [...], "collections": [...]}

References are consistent: products and batches point at brands, batches at their COAs, items at a brand,
product, batch and COAs, collections at items, and each item lists the collections that hold it.

Regenerate the files with ``python -m lucidframes.sandbox.data --out data/sandbox``.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import random
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lucidframes.sandbox import records
from lucidframes.sandbox.ids import lucid_id
from lucidframes.sandbox.records import ASSET_TYPES, Record

DEFAULT_SEED = 0
DEFAULT_SIZES: dict[str, int] = {
    "products": 1203,  # not a multiple of any usual page size, so the last page is short
    "batches": 300,
    "brands": 25,
    "assets": 40,  # of each type
    "items": 2000,
    "collections": 60,
}  # digital COAs follow from batches: none, one or two each

# The fields of a list row, where a row is not the whole record (None: rows are whole records).
LIST_FIELDS: dict[str, tuple[str, ...] | None] = {
    "products": ("uuid", "name", "sku", "product_type", "is_published", "brand_uuid"),
    "batches": None,
    "assets": None,
    "brands": ("uuid", "name", "state"),
}
COLLECTION_CYCLE = ("case", "order", "case", "regulator", "case", "origin", "case", "order", "regulator", "collection")

Dataset = dict[str, Any]


def resolve_sizes(sizes: Mapping[str, int] | None) -> dict[str, int]:
    """The default sizes overridden by ``sizes``; unknown names or negative sizes are errors."""
    merged = dict(DEFAULT_SIZES)
    for name, value in (sizes or {}).items():
        if name not in DEFAULT_SIZES:
            raise ValueError(f"unknown size {name!r}: expected one of {', '.join(DEFAULT_SIZES)}")
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"size {name!r} must be a non-negative integer, got {value!r}")
        merged[name] = value
    return merged


def generate(seed: int = DEFAULT_SEED, sizes: Mapping[str, int] | None = None) -> Dataset:
    """Generate a fresh dataset, deterministic from the seed (``random.Random(seed)``, no clock)."""
    n = resolve_sizes(sizes)
    rng = random.Random(seed)
    brands = [records.brand(rng, i) for i in range(n["brands"])]
    products = [records.product(rng, i, rng.choice(brands)) for i in range(n["products"] if brands else 0)]
    by_brand: dict[str, list[Record]] = {}
    for p in products:
        by_brand.setdefault(p["brand_uuid"], []).append(p)

    batches: list[Record] = []
    batch_products: list[Record | None] = []  # the product each batch is of (not a field of the record)
    for i in range(n["batches"] if brands else 0):
        owner = rng.choice(brands)
        made = rng.choice(by_brand[owner["uuid"]]) if owner["uuid"] in by_brand else None
        batches.append(records.batch(rng, i, owner, made["strain"] if made else None))
        batch_products.append(made)

    labs = [records.laboratory(rng, i) for i in range(len(records.LABS))]
    coas: list[Record] = []
    for b in batches:
        for _ in range(rng.choices((0, 1, 2), weights=(10, 75, 15))[0]):
            coa = records.digital_coa(rng, b, rng.choice(labs))
            b["digital_coa_uuids"].append(coa["uuid"])
            coas.append(coa)

    assets = {kind: [records.asset(rng, kind, i) for i in range(n["assets"])] for kind in ASSET_TYPES}
    items, runs = _items(rng, n["items"], brands, batches, batch_products)
    collections = _collections(rng, n["collections"], brands, items, runs)
    return {
        "products": products,
        "batches": batches,
        "assets": assets,
        "brands": brands,
        "digital_coas": coas,
        "items": items,
        "collections": collections,
    }


def _items(
    rng: random.Random, count: int, brands: list[Record], batches: list[Record], made: list[Record | None]
) -> tuple[list[Record], list[list[Record]]]:
    """Items in runs of one batch each (labels are printed in runs); a few are not yet assigned to a batch."""
    items: list[Record] = []
    runs: list[list[Record]] = []
    seen: set[str] = set()
    while len(items) < count and brands:
        size = min(rng.randrange(4, 30), count - len(items))
        k = rng.randrange(len(batches)) if batches and rng.random() < 0.97 else None
        of_batch = batches[k] if k is not None else None
        of_product = made[k] if k is not None else None
        owner = of_batch["brand_uuid"] if of_batch else rng.choice(brands)["uuid"]
        run = []
        for _ in range(size):
            new = records.item(rng, owner, of_product["uuid"] if of_product else None, of_batch)
            while new["uuid"] in seen:  # astronomically unlikely, but ids must be unique
                new["uuid"] = lucid_id(rng)
            seen.add(new["uuid"])
            run.append(new)
        items.extend(run)
        runs.append(run)
    return items, runs


def _collections(
    rng: random.Random, count: int, brands: list[Record], items: list[Record], runs: list[list[Record]]
) -> list[Record]:
    """Collections of every type over existing items, then each item's view of the collections that hold it."""
    by_id = {i["uuid"]: i for i in items}
    names = {b["uuid"]: b["name"] for b in brands}
    out: list[Record] = []
    for serial in range(count if items else 0):
        kind = COLLECTION_CYCLE[serial % len(COLLECTION_CYCLE)]
        if kind in ("case", "regulator"):  # a case or a package holds part of one run
            members = rng.choice(runs)[: rng.randrange(4, 25)]
        elif kind == "origin":
            owner = rng.choice(items)["brand_uuid"]
            members = [i for i in items if i["brand_uuid"] == owner][:40]
        else:
            members = rng.sample(items, k=min(len(items), rng.randrange(1, 31)))
        brand_name = names.get(members[0]["brand_uuid"], "Lucid")
        out.append(records.collection(rng, kind, 1000 + serial, brand_name, members))
    for c in out:
        for row in c["items"]:
            ref = {key: c[key] for key in ("uuid", "identifier", "collection_type")}
            ref.update(added_on=row["added_on"], name=c["name"], is_public=c["is_public"], removed_on=row["removed_on"])
            by_id[row["lucid_id"]]["removed_collections" if row["removed_on"] else "collections"].append(ref)
    return out


_CACHE: dict[tuple[int, tuple[tuple[str, int], ...]], bytes] = {}  # (seed, sizes) -> pickled dataset
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


def cached(seed: int = DEFAULT_SEED, sizes: Mapping[str, int] | None = None) -> Dataset:
    """A private copy of the dataset for (seed, sizes): generated once, then unpickled (faster than deepcopy)."""
    key = (seed, tuple(sorted(resolve_sizes(sizes).items())))
    with _CACHE_LOCK:
        blob = _CACHE.get(key)
    if blob is None:
        dataset = generate(seed, sizes)
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = pickle.dumps(dataset, protocol=pickle.HIGHEST_PROTOCOL)
        return dataset  # the first caller may have the original: the cache holds its own pickled copy
    collecting = gc.isenabled()
    gc.disable()  # unpickling creates many containers: collections triggered meanwhile would double the time
    try:
        copy: Dataset = pickle.loads(blob)
    finally:
        if collecting:
            gc.enable()
    return copy


def row(resource: str, record: Record) -> Record:
    """The list row for a full record of a resource (``resource`` as in LIST_FIELDS)."""
    fields = LIST_FIELDS.get(resource)
    return dict(record) if fields is None else {field: record[field] for field in fields}


# --- files -----------------------------------------------------------------------------------------------------


def files(dataset: Dataset) -> Iterator[tuple[str, list[Record]]]:
    """(file name, records) for each file of the dataset: one per resource, one per asset type."""
    for name, value in dataset.items():
        if name == "assets":
            for kind, assets in value.items():
                yield f"assets_{kind}.json", assets
        else:
            yield f"{name}.json", value


def dump(rows: list[Record]) -> str:
    """A JSON array with one record per line: valid JSON, readable, and diffs by record."""
    lines = [json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in rows]
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def write(dataset: Dataset, out: Path) -> list[Path]:
    """Write the dataset's files (UTF-8, LF line endings) into a directory."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in files(dataset):
        path = out / name
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(dump(rows))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m lucidframes.sandbox.data --out data/sandbox``: regenerate the dataset files."""
    parser = argparse.ArgumentParser(prog="python -m lucidframes.sandbox.data", description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True, help="directory for the JSON files")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    for name, value in DEFAULT_SIZES.items():
        parser.add_argument(f"--{name}", type=int, default=value, metavar="N", help=f"(default {value})")
    args = parser.parse_args(argv)
    dataset = generate(args.seed, {name: getattr(args, name) for name in DEFAULT_SIZES})
    for path in write(dataset, args.out):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
