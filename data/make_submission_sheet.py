"""Write data/submission_sheet.csv and data/submission_sheet_expected.csv from the sandbox's default dataset.

The sheet is what an analyst might be about to submit: ``order_id, lucid_id, product_uuid, note``, saved the way
Excel saves "CSV UTF-8" (a byte-order mark, CRLF line endings). Its LucidIDs and product uuids are real ones from
``lucidframes.sandbox.data.generate(seed=0)``; some cells carry the mistakes people make. The manifest lists each
planted mistake as ``row, column, reason, mistake``, where ``row`` is the row label ``lucidframes.read_table``
gives (0 = the first row below the header) and ``reason`` the code ``validate_lucid_ids`` must report, checking
``lucid_id`` with the defaults and ``product_uuid`` with ``kind="uuid", unique=False``.

Run from the repository root: ``python data/make_submission_sheet.py`` (deterministic: same output every time).
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from lucidframes.sandbox.data import generate

HERE = Path(__file__).resolve().parent
SHEET = HERE / "submission_sheet.csv"
EXPECTED = HERE / "submission_sheet_expected.csv"
ROWS = 40
QR = "https://qr.lcdg.io/"


class _Typo:
    """A lookalike typed for a character the id really has (so the hint's candidate gives back the real id)."""

    def __init__(self, right: str, wrong: str) -> None:
        self.right, self.wrong = right, wrong

    def __call__(self, value: str, ctx: dict[str, str]) -> str:
        return value.replace(self.right, self.wrong, 1)


# (column, reason, what was done, how): applied to the lucid_id or product_uuid of the row it lands on.
MISTAKES = [
    ("lucid_id", "url_wrapped", "scanned: the QR code's URL", lambda v, ctx: QR + v),
    ("lucid_id", "url_wrapped", "scanned on the dev host", lambda v, ctx: f"https://dev-qr.lcdg.io/{v}"),
    ("lucid_id", "case_id", "a CaseID URL in the LucidID column", lambda v, ctx: f"{QR}case/{ctx['case']}"),
    ("lucid_id", "whitespace", "surrounding spaces", lambda v, ctx: f"  {v} "),
    ("lucid_id", "whitespace", "a zero-width space pasted from a web page", lambda v, ctx: v + "\u200b"),
    ("lucid_id", "bad_character", "o typed as 0", _Typo("o", "0")),
    ("lucid_id", "bad_character", "o typed as O", _Typo("o", "O")),
    ("lucid_id", "bad_character", "i typed as 1", _Typo("i", "1")),
    ("lucid_id", "bad_character", "L typed as l", _Typo("L", "l")),
    ("lucid_id", "bad_character", "i typed as I", _Typo("i", "I")),
    ("lucid_id", "wrong_length", "last character lost", lambda v, ctx: v[:-1]),
    ("lucid_id", "wrong_length", "a character typed twice", lambda v, ctx: v[:9] + v[8:]),
    ("lucid_id", "missing", "empty cell", lambda v, ctx: ""),
    ("lucid_id", "duplicate", "the same item entered twice", lambda v, ctx: ctx["first_id"]),
    ("product_uuid", "not_decodable", "first character mistyped: above the largest uuid",
     lambda v, ctx: "z" + v[1:]),
    ("product_uuid", "wrong_length", "a LucidID in the product column", lambda v, ctx: ctx["item_id"]),
    ("product_uuid", "missing", "empty cell", lambda v, ctx: ""),
]  # fmt: skip


def build(seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """The sheet's rows (with header) and the manifest's rows (with header)."""
    dataset = generate(seed=0)
    rng = random.Random(seed)
    items = [i for i in dataset["items"] if i["product_uuid"]]
    picked = rng.sample(items, k=ROWS)
    case = next(c["uuid"] for c in dataset["collections"] if c["collection_type"] == "case")
    notes = ["", "", "", "NA", "back room, shelf 3", 'said "urgent"', "Ñandú order; check", "café counter"]
    # Mistakes land on every other row after the first two, so each row has at most one.
    slots = dict(zip(range(2, 2 + 2 * len(MISTAKES), 2), MISTAKES, strict=True))
    sheet = [["order_id", "lucid_id", "product_uuid", "note"]]
    expected = [["row", "column", "reason", "mistake"]]
    spare = iter([i for i in items if i not in picked])
    for row, (_column, _reason, _mistake, spoil) in slots.items():
        if isinstance(spoil, _Typo) and spoil.right not in picked[row]["uuid"]:
            # The typo needs the character it mistypes: take the next unused item that has one.
            picked[row] = next(i for i in spare if spoil.right in i["uuid"])
    for row, item in enumerate(picked):
        cells = {"lucid_id": item["uuid"], "product_uuid": item["product_uuid"]}
        if row in slots:
            column, reason, mistake, spoil = slots[row]
            ctx = {"case": case, "first_id": picked[0]["uuid"], "item_id": item["uuid"]}
            cells[column] = spoil(cells[column], ctx)
            expected.append([str(row), column, reason, mistake])
        order_id = f"{(row // 3) + 7:06d}"  # leading zeros that a dtype-guessing reader would lose
        sheet.append([order_id, cells["lucid_id"], cells["product_uuid"], notes[row % len(notes)]])
    return sheet, expected


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def main() -> None:
    """Write both files next to this script."""
    sheet, expected = build()
    SHEET.write_bytes(_csv(sheet).encode("utf-8-sig"))  # Excel's "CSV UTF-8": with a byte-order mark
    EXPECTED.write_text(_csv(expected).replace("\r\n", "\n"), encoding="utf-8")
    print(f"wrote {SHEET.name} ({len(sheet) - 1} rows) and {EXPECTED.name} ({len(expected) - 1} mistakes)")


if __name__ == "__main__":
    main()
