"""Factories for one seeded record of each resource, shaped as REFERENCE.md lists the fields (detail form).

Every factory takes a ``random.Random`` and never reads the clock: the same calls give the same records.
Names mix ASCII, accents and non-Latin scripts, because analysts' exports must survive all of them.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from lucidframes.sandbox.ids import lucid_id, pacific, shortuuid

Record = dict[str, Any]

# A fixed timeline: the data never depends on when it was generated.
EPOCH = datetime(2023, 6, 1, 15, 0, 0)  # naive UTC
SPAN_DAYS = 600
LATER = EPOCH + timedelta(days=SPAN_DAYS + 30)  # records added by mutate() are dated after everything else

ASSET_TYPES = ("texts", "images", "videos", "files")
ASSET_USAGES = ("description", "usage_recommendation", "testing_methodology", "about_ingredients")
COLLECTION_TYPES = ("order", "case", "regulator", "origin", "collection")
MEDIA = "https://assets.example.com"  # a reserved domain: nothing real is ever linked

BRAND_NAMES = (
    "Café Verde", "Niño Farms", "Grüne Wiese", "日本草本", "Ελληνικά Φυτά", "Sol y Sombra", "Ōkami Gardens",
    "Søren & Co.", "Maison Élan", "Über Bloom", "Coastal Canopy", "High Desert Botanicals", "Señorita Sativa",
    "Čistá Tráva", "Zürich Leaf", "Aurora Borealis Farms", "Kōyō Kush", "Ñandú Herbals", "O'Malley's Organics",
    "Smith, Jones & Daughters", "Северный Сад", "Golden State Greens", "Mesa Verde Collective", "Lumière",
    "Cielo Azul", "Green Dragon 龍", "Bodega Bay Botanicals", "Fjällbacka Flowers", "Pacific Pines", "Río Claro",
)  # fmt: skip
STATES = ("CA", "CA", "CA", "OR", "WA", "NV", "CO", "MI", "MA", "NY", "IL", "AZ")
CITIES = {
    "CA": "Oakland", "OR": "Portland", "WA": "Spokane", "NV": "Las Vegas", "CO": "Denver", "MI": "Detroit",
    "MA": "Worcester", "NY": "Albany", "IL": "Chicago", "AZ": "Flagstaff",
}  # fmt: skip
STRAINS = (
    "Blue Dream", "OG Kush", "Sour Diesel", "Girl Scout Cookies", "Granddaddy Purple", "Jack Herer", "Durban Poison",
    "Pineapple Express", "Northern Lights", "Gelato", "Wedding Cake", "Zkittlez", "Harlequin", "ACDC", "Café Racer",
    "Mañana Haze", "Crème Brûlée", "Pâte de Fruit", "抹茶 Matcha", "Ζάχαρη Kush", "Über Lemon", "Piña Colada",
    "Jalapeño Popper", "Runtz", "Ice Cream Cake", "Strawberry Cough", "Purple Punch", "Lemon Cherry Gelato",
)  # fmt: skip
# product_type -> (form words, package sizes (name, value, unit), containers, has servings)
PRODUCT_KINDS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, str], ...], tuple[str, ...], bool]] = {
    "flower": (("Flower", "Smalls"), (("1 g", "1.00", "g"), ("3.5 g", "3.50", "g"), ("7 g", "7.00", "g"),
               ("14 g", "14.00", "g"), ("28 g", "28.00", "g")), ("jar", "bag"), False),
    "pre_roll": (("Pre-Roll", "Infused Pre-Roll"), (("1 x 1 g", "1.00", "g"), ("5 x 0.5 g", "2.50", "g")),
                 ("tube", "box"), False),
    "vape": (("Cartridge", "All-in-One"), (("0.5 g", "0.50", "g"), ("1 g", "1.00", "g")), ("cartridge",), False),
    "edible": (("Gummies", "Chocolate", "Mints"), (("100 mg", "100.00", "mg"), ("50 mg", "50.00", "mg")),
               ("box", "bag"), True),
    "concentrate": (("Live Resin", "Rosin", "Badder"), (("1 g", "1.00", "g"), ("2 g", "2.00", "g")), ("jar",), False),
    "tincture": (("Tincture", "Drops"), (("30 ml", "30.00", "ml"),), ("bottle",), True),
    "topical": (("Balm", "Lotion"), (("2 oz", "2.00", "oz"), ("4 oz", "4.00", "oz")), ("jar", "tube"), False),
    "beverage": (("Sparkling Tonic", "Seltzer"), (("355 ml", "355.00", "ml"),), ("can", "bottle"), True),
}  # fmt: skip
PRODUCT_LINES = ("Reserve", "Everyday", "Small Batch", "Édition Limitée", "日常 Daily", None, None)
LABS = (
    ("Bay Analytical", "C8-0000012-LIC", "CA"), ("Sierra Testing Co.", "C8-0000047-LIC", "CA"),
    ("Laboratoire Lumière", "C8-0000101-LIC", "CA"), ("Coastal Assay", "010-10029", "OR"),
    ("Zeta Labs", "413-00217", "WA"), ("Análisis del Valle", "C8-0000233-LIC", "CA"),
    ("Nordic Potency Lab", "AU-L-000031", "MI"), ("Canyon Quality Labs", "L00000045", "AZ"),
)  # fmt: skip
TESTS = ("potency", "pesticides", "heavy_metals", "microbials", "mycotoxins", "residual_solvents", "moisture",
         "foreign_matter")  # fmt: skip
TEXT_SNIPPETS = (
    "Grown under the sun on the north coast; hand-trimmed and slow-cured for 21 days.",
    "Start low and go slow: effects of edibles can take up to two hours.",
    "Potency is measured by HPLC; totals are reported on a dry-weight basis.",
    "Ingrédients : huile de coco, extrait de chanvre, arôme naturel de citron.",
    "Ingredientes: aceite de oliva, cera de abejas, extracto de caléndula.",
    "原材料：有機ココナッツオイル、ヘンプエキス。",
    "Συστατικά: ελαιόλαδο, κερί μέλισσας, αιθέριο έλαιο λεβάντας.",
    'Keep out of reach of children. "Use only as directed."',
    "Line one of two.\nLine two, after a newline.",
)  # fmt: skip


def instant(rng: random.Random, start: datetime = EPOCH, days: float = SPAN_DAYS) -> datetime:
    """A random whole-second instant in [start, start + days)."""
    return start + timedelta(seconds=rng.randrange(int(days * 86400)))


def stamp(rng: random.Random, start: datetime = EPOCH, days: float = SPAN_DAYS, micro: bool = False) -> str:
    """A random datetime string; with micro, it has microseconds as auto_now fields do."""
    moment = instant(rng, start, days)
    if micro:
        moment = moment.replace(microsecond=rng.randrange(1, 1_000_000))
    return pacific(moment)


def slugify(text: str) -> str:
    """Django's slugify (allow_unicode=False): ASCII only, so a non-Latin name gives an empty slug."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"[^\w\s-]", "", ascii_text.lower())
    return re.sub(r"[-\s]+", "-", ascii_text).strip("-_")


def decimal(value: float) -> str:
    """A decimal string with two places, as DRF's DecimalField renders."""
    return f"{value:.2f}"


def brand(rng: random.Random, index: int) -> Record:
    """One brand (detail form; the list shows uuid, name and state)."""
    name = BRAND_NAMES[index % len(BRAND_NAMES)]
    if index >= len(BRAND_NAMES):
        name = f"{name} {index // len(BRAND_NAMES) + 1}"
    state = rng.choice(STATES)
    slug = slugify(name)
    return {
        "uuid": shortuuid(rng),
        "name": name,
        "state": state,
        "company": f"{name} {rng.choice(('LLC', 'Inc.', 'S.A.', 'GmbH', 'Co-op'))}",
        "slug": slug,
        "description": rng.choice(TEXT_SNIPPETS) if rng.random() < 0.8 else "",
        "website": f"https://{slug or f'brand-{index}'}.example.com" if rng.random() < 0.85 else None,
        "updated_on": stamp(rng, micro=True),
        "country": "US",
        "images": {
            "logo": f"{MEDIA}/brands/{index}/logo.png",
            "banner": f"{MEDIA}/brands/{index}/banner.jpg" if rng.random() < 0.6 else None,
        },
        "address": f"{rng.randrange(10, 9999)} {rng.choice(('Main St', 'Harbor Way', 'Calle Sol'))}, "
        f"{CITIES[state]}, {state} {rng.randrange(10000, 99999)}",
    }


def _upc(rng: random.Random) -> str:
    """A 12-digit UPC-A with a valid check digit."""
    digits = [int(d) for d in f"{rng.randrange(10**11):011d}"]
    total = 3 * sum(digits[0::2]) + sum(digits[1::2])
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def product(rng: random.Random, serial: int, owner: Record, start: datetime = EPOCH) -> Record:
    """One product of a brand (detail form; list rows are its first six fields)."""
    # The helpers draw from rng in the order the fields are listed, so a seed still gives the same data.
    product_type = rng.choice(tuple(PRODUCT_KINDS))
    forms, sizes, containers, has_servings = PRODUCT_KINDS[product_type]
    size_name, size_value, size_unit = rng.choice(sizes)
    strain = _strain_of(rng, product_type)
    name = f"{strain or rng.choice(('House', 'Classic', 'Signature'))} {rng.choice(forms)} {size_name}"
    published = rng.random() < 0.85
    servings = rng.choice((10, 20, 30)) if has_servings else None
    imaged = rng.random() < 0.9
    return {
        "uuid": shortuuid(rng),
        "name": name,
        "sku": f"{_sku_code(owner)}-{serial:05d}",
        "product_type": product_type,
        "is_published": published,
        "brand_uuid": owner["uuid"],
        "description": rng.choice(TEXT_SNIPPETS) if rng.random() < 0.9 else "",
        "label_type": rng.choice(("standard", "compliance", "custom", None)),
        "container_type": rng.choice(containers) if rng.random() < 0.95 else None,
        **_product_dates(rng, start, published),
        "brand": {"uuid": owner["uuid"], "name": owner["name"]},
        "usage": rng.choice(("Adult Use", "Medical", "Adult Use & Medical", None)),
        "variety": rng.choice(("indica", "sativa", "hybrid", "cbd", None)),
        "strain": strain,
        "product_line": rng.choice(PRODUCT_LINES),
        "package_size": {"name": size_name, "value": size_value, "unit": size_unit},
        "upc": _upc(rng) if rng.random() < 0.8 else None,
        "servings": servings,
        "serving_size": {"value": decimal(rng.choice((2.5, 5, 10))), "unit": "mg"} if servings else None,
        "images": _product_images(rng, serial, imaged),
    }


def _strain_of(rng: random.Random, product_type: str) -> str | None:
    """A product's strain: nearly always for flower and the like, now and then for topicals and beverages."""
    return rng.choice(STRAINS) if product_type not in ("topical", "beverage") or rng.random() < 0.3 else None


def _sku_code(owner: Record) -> str:
    """The brand's initials (up to four) that start its SKUs, ``LG`` when its slug has none."""
    return "".join(word[0] for word in owner["slug"].split("-") if word)[:4].upper() or "LG"


def _product_dates(rng: random.Random, start: datetime, published: bool) -> Record:
    """published_on (when published), available_on and, rarely, discontinued_on."""
    return {
        "published_on": stamp(rng, start, 60) if published else None,
        "available_on": stamp(rng, start + timedelta(days=60), 60) if rng.random() < 0.8 else None,
        "discontinued_on": stamp(rng, start + timedelta(days=120), 400) if rng.random() < 0.05 else None,
    }


def _product_images(rng: random.Random, serial: int, imaged: bool) -> Record:
    """The image URLs of an imaged product (a banner for some), all None otherwise."""
    return {
        "thumbnail": f"{MEDIA}/products/{serial}/thumb.jpg" if imaged else None,
        "primary": f"{MEDIA}/products/{serial}/primary.jpg" if imaged else None,
        "banner": f"{MEDIA}/products/{serial}/banner.jpg" if imaged and rng.random() < 0.3 else None,
    }


def metrc_tag(serial: int) -> str:
    """A 24-character Metrc-style package tag."""
    return f"1A4FF0100000022{serial:09d}"


def batch(rng: random.Random, serial: int, owner: Record, strain: str | None, start: datetime = EPOCH) -> Record:
    """One batch of a brand; digital_coa_uuids is filled once its COAs exist."""
    produced = instant(rng, start)
    tags = [metrc_tag(serial * 3 + k) for k in range(rng.choice((1, 1, 1, 2, 3)))]
    label = "".join(ch for ch in (strain or "House") if ch.isalnum())[:3].upper() or "BT"
    return {
        "uuid": shortuuid(rng),
        "brand_uuid": owner["uuid"],
        "name": f"{label}-{produced:%y%m%d}-{serial:04d}",
        "regulatory_id": ",".join(tags) if rng.random() < 0.95 else "",
        "produced_on": pacific(produced) if rng.random() < 0.9 else None,
        "updated_on": pacific(produced + timedelta(days=rng.randrange(1, 30), microseconds=rng.randrange(1, 10**6))),
        "digital_coa_uuids": [],
    }


def laboratory(rng: random.Random, index: int) -> Record:
    """One testing laboratory (nested in COAs, listed by Retail batch details)."""
    name, license_number, state = LABS[index % len(LABS)]
    return {"uuid": shortuuid(rng), "name": name, "license_number": license_number, "state": state}


def digital_coa(rng: random.Random, of_batch: Record, lab: Record) -> Record:
    """One digital certificate of analysis for a batch."""
    sampled = instant(rng)

    def total(name: str, low: float, high: float, unit: str = "%", missing: float = 0.1) -> Record:
        value = None if rng.random() < missing else decimal(rng.uniform(low, high))
        return {"name": name, "value": value, "unit": unit}

    return {
        "uuid": shortuuid(rng),
        "batch_uuid": of_batch["uuid"],
        "testing_laboratory": dict(lab),
        "totals": {
            "thc": total("Total THC", 0.1, 32.0, missing=0.02),
            "cbd": total("Total CBD", 0.0, 18.0, missing=0.2),
            "cbg": total("Total CBG", 0.0, 2.0, missing=0.4),
            "cbn": total("Total CBN", 0.0, 1.0, missing=0.5),
            "terpenes": total("Total Terpenes", 0.2, 4.5, missing=0.3),
        },
        "tests_performed": {
            test: rng.choices(("pass", "fail", "not_tested"), weights=(85, 3, 12))[0] for test in TESTS
        },
        "sampled_on": pacific(sampled),
        "received_on": pacific(sampled + timedelta(hours=rng.randrange(2, 48))),
        "reported_on": pacific(sampled + timedelta(days=rng.randrange(3, 14), seconds=rng.randrange(86400))),
    }


def asset(rng: random.Random, asset_type: str, serial: int) -> Record:
    """One asset of a type: texts carry their text, the other types a URL."""
    uuid = shortuuid(rng)
    usage = rng.choice(ASSET_USAGES)
    if asset_type == "texts":
        content = " ".join(rng.sample(TEXT_SNIPPETS, k=rng.randrange(1, 4)))
    else:
        extension = {"images": "jpg", "videos": "mp4", "files": "pdf"}[asset_type]
        content = f"{MEDIA}/{asset_type}/{uuid}.{extension}"
    title = usage.replace("_", " ").capitalize()
    return {
        "uuid": uuid,
        "name": f"{title} #{serial} {rng.choice(('', '— édition', '(日本語)', '· Ελληνικά'))}".rstrip(),
        "content": content,
        "description": rng.choice(TEXT_SNIPPETS) if rng.random() < 0.7 else "",
        "usage": usage,
    }


def item(rng: random.Random, owner_uuid: str, product_uuid: str | None, of_batch: Record | None) -> Record:
    """One item (a LucidID); its collection lists are filled once collections exist."""
    return {
        "created": stamp(rng, days=SPAN_DAYS / 2, micro=True),  # before any collection could hold it
        "uuid": lucid_id(rng),
        "brand_uuid": owner_uuid,
        "product_uuid": product_uuid,
        "batch_uuid": of_batch["uuid"] if of_batch else None,
        "digital_coa_uuids": list(of_batch["digital_coa_uuids"]) if of_batch else [],
        "collections": [],
        "removed_collections": [],
    }


COLLECTION_STYLE: dict[str, tuple[str, tuple[str | None, ...]]] = {
    # type -> (identifier template, sub types); identifiers are free text, so some need URL-encoding
    "case": ("CASE-{n:05d}", ("master_case", "inner_pack", None)),
    "order": ("PO #{n} — {brand}", ("purchase_order", "transfer")),
    "regulator": ("{tag}", ("metrc_package",)),
    "origin": ("Origin {brand} {n}", (None,)),
    "collection": ("Showcase {n}: à la carte ☀", ("showcase", None)),
}


def collection(rng: random.Random, kind: str, serial: int, brand_name: str, members: list[Record]) -> Record:
    """One collection of a type holding the given items (some memberships already removed)."""
    template, sub_types = COLLECTION_STYLE[kind]
    identifier = template.format(n=serial, brand=brand_name, tag=metrc_tag(10**8 + serial))
    added = instant(rng, EPOCH + timedelta(days=SPAN_DAYS / 2), SPAN_DAYS / 2)  # after the items were created
    removed = rng.random() < 0.05
    rows = []
    for member in members:
        joined = added + timedelta(minutes=rng.randrange(0, 600))
        left = pacific(joined + timedelta(days=rng.randrange(1, 60))) if rng.random() < 0.05 else None
        rows.append({"lucid_id": member["uuid"], "added_on": pacific(joined), "removed_on": left})
    return {
        "uuid": shortuuid(rng),
        "identifier": identifier,
        "name": f"{kind.capitalize()} {serial} · {brand_name}",
        "collection_type": kind,
        "added_on": pacific(added),
        "is_public": rng.random() < 0.7,
        "is_removed": removed,
        "removed_on": pacific(added + timedelta(days=rng.randrange(30, 90))) if removed else None,
        "sub_type": rng.choice(sub_types),
        "items": rows,
    }
