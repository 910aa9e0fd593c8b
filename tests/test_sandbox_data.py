"""The sandbox's seeded data: deterministic, shaped as REFERENCE.md says, consistent, and equal to data/sandbox/."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from lucidframes.sandbox import data, records
from lucidframes.sandbox.ids import ALPHABET, MAX_SHORTUUID, encode, pacific

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "sandbox"
SHORTUUID = re.compile(f"[{ALPHABET}]{{22}}")
LUCID_ID = re.compile(f"[{ALPHABET}]{{20}}")
DECIMAL = re.compile(r"-?\d+\.\d{2}")


@pytest.fixture(scope="module")
def dataset() -> data.Dataset:
    return data.generate()


def is_shortuuid(value: object) -> bool:
    return isinstance(value, str) and SHORTUUID.fullmatch(value) is not None and value <= MAX_SHORTUUID


def is_datetime(value: object) -> bool:
    """ISO-8601 with an offset, as DRF renders aware datetimes."""
    return isinstance(value, str) and datetime.fromisoformat(value).utcoffset() is not None


def test_generation_is_deterministic(dataset):
    assert data.generate() == dataset
    assert data.generate(seed=1) != dataset
    assert data.cached() == dataset
    copy = data.cached()
    copy["products"].clear()
    assert len(data.cached()["products"]) == 1203  # each sandbox gets its own copy


def test_files_equal_the_generated_default_dataset(dataset):
    expected = dict(data.files(dataset))
    assert sorted(p.name for p in DATA_DIR.glob("*.json")) == sorted(expected)
    for name, rows in expected.items():
        text = (DATA_DIR / name).read_text(encoding="utf-8")
        assert text == data.dump(rows), f"{name} is stale: run python -m lucidframes.sandbox.data --out data/sandbox"
        assert json.loads(text) == rows


def test_default_sizes(dataset):
    assert len(dataset["products"]) == 1203 and len(dataset["products"]) % 100
    assert len(dataset["batches"]) == 300 and len(dataset["brands"]) == 25
    assert [len(a) for a in dataset["assets"].values()] == [40, 40, 40, 40]
    assert len(dataset["items"]) == 2000 and len(dataset["collections"]) == 60
    assert 250 <= len(dataset["digital_coas"]) <= 400
    assert {c["collection_type"] for c in dataset["collections"]} == set(records.COLLECTION_TYPES)


def test_sizes_are_configurable(dataset):
    small = data.generate(sizes={"products": 10, "items": 30})
    assert len(small["products"]) == 10 and len(small["items"]) == 30
    assert data.generate(sizes={"products": 0})["products"] == []
    with pytest.raises(ValueError, match="unknown size"):
        data.generate(sizes={"widgets": 3})


def test_ids_have_the_documented_shapes(dataset):
    for name in ("products", "batches", "brands", "digital_coas", "collections"):
        assert all(is_shortuuid(r["uuid"]) for r in dataset[name]), name
    assert all(is_shortuuid(a["uuid"]) for assets in dataset["assets"].values() for a in assets)
    lucid_ids = [i["uuid"] for i in dataset["items"]]
    assert all(LUCID_ID.fullmatch(v) for v in lucid_ids)
    assert len(set(lucid_ids)) == len(lucid_ids)
    assert encode(2**128 - 1, 22) == MAX_SHORTUUID


def test_references_are_consistent(dataset):
    uuids = {name: {r["uuid"] for r in dataset[name]} for name in ("products", "batches", "brands", "digital_coas")}
    batches = {b["uuid"]: b for b in dataset["batches"]}
    for p in dataset["products"]:
        assert p["brand_uuid"] in uuids["brands"] and p["brand"]["uuid"] == p["brand_uuid"]
    for b in dataset["batches"]:
        assert b["brand_uuid"] in uuids["brands"] and set(b["digital_coa_uuids"]) <= uuids["digital_coas"]
    for c in dataset["digital_coas"]:
        assert c["uuid"] in batches[c["batch_uuid"]]["digital_coa_uuids"]
    items = {i["uuid"]: i for i in dataset["items"]}
    for i in dataset["items"]:
        assert i["brand_uuid"] in uuids["brands"]
        if i["batch_uuid"]:
            assert i["digital_coa_uuids"] == batches[i["batch_uuid"]]["digital_coa_uuids"]
            assert i["product_uuid"] in uuids["products"]
    memberships = 0
    for c in dataset["collections"]:
        for row in c["items"]:
            memberships += 1
            held = items[row["lucid_id"]]["removed_collections" if row["removed_on"] else "collections"]
            assert c["uuid"] in [ref["uuid"] for ref in held]
    assert memberships == sum(len(i["collections"]) + len(i["removed_collections"]) for i in dataset["items"])
    assert any(i["product_uuid"] is None for i in dataset["items"])  # some labels are not assigned yet


def test_value_types(dataset):
    product = dataset["products"][0]
    assert list(product)[:6] == list(data.LIST_FIELDS["products"])
    assert set(product["package_size"]) == {"name", "value", "unit"}
    assert all(DECIMAL.fullmatch(p["package_size"]["value"]) for p in dataset["products"])
    assert all(isinstance(p["is_published"], bool) for p in dataset["products"])
    assert any(p["published_on"] is None for p in dataset["products"])
    assert all(is_datetime(p["published_on"]) for p in dataset["products"] if p["published_on"])
    assert all(is_datetime(b["updated_on"]) for b in dataset["batches"])
    totals = [t["value"] for c in dataset["digital_coas"] for t in c["totals"].values()]
    assert None in totals and all(DECIMAL.fullmatch(v) for v in totals if v is not None)
    outcomes = {v for c in dataset["digital_coas"] for v in c["tests_performed"].values()}
    assert outcomes == {"pass", "fail", "not_tested"}
    assert all("," in b["regulatory_id"] or len(b["regulatory_id"]) in (0, 24) for b in dataset["batches"])


def test_names_are_not_all_ascii(dataset):
    names = [p["name"] for p in dataset["products"]] + [b["name"] for b in dataset["brands"]]
    text = " ".join(names)
    for sample in ("é", "ñ", "ü", "日本", "Ελληνικά"):
        assert sample in text, sample


def test_datetimes_are_pacific_with_daylight_saving():
    assert pacific(datetime(2025, 1, 15, 20, 0)) == "2025-01-15T12:00:00-08:00"
    assert pacific(datetime(2025, 7, 15, 19, 0, 0, 5)) == "2025-07-15T12:00:00.000005-07:00"
    assert pacific(datetime(2025, 3, 9, 9, 59)) == "2025-03-09T01:59:00-08:00"  # just before the change
    assert pacific(datetime(2025, 3, 9, 10, 0)) == "2025-03-09T03:00:00-07:00"
    assert pacific(datetime(2025, 11, 2, 9, 0)) == "2025-11-02T01:00:00-08:00"
