"""Identifiers and timestamps in the shapes the real service uses: shortuuids, LucidIDs, Pacific-time datetimes."""

from __future__ import annotations

import functools
import random
import re
from datetime import datetime, timedelta, timezone

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SHORTUUID_LENGTH = 22
LUCID_ID_LENGTH = 20
MAX_SHORTUUID = "oZEq7ovRbLq6UnGMPwc8B5"  # shortuuid's encoding of 2**128 - 1

LUCID_ID_RE = re.compile(f"[{ALPHABET}]{{{LUCID_ID_LENGTH}}}")
SHORTUUID_RE = re.compile(f"[{ALPHABET}]{{{SHORTUUID_LENGTH}}}")


def encode(number: int, length: int) -> str:
    """Encode a non-negative integer in base57, most significant digit first, left-padded like shortuuid."""
    digits: list[str] = []
    while number:
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(length, ALPHABET[0])


def shortuuid(rng: random.Random) -> str:
    """A 22-character shortuuid (the encoding of a random 128-bit number, so never above MAX_SHORTUUID)."""
    return encode(rng.getrandbits(128), SHORTUUID_LENGTH)


def lucid_id(rng: random.Random) -> str:
    """A 20-character base57 LucidID."""
    return "".join(rng.choices(ALPHABET, k=LUCID_ID_LENGTH))


def is_lucid_id(value: object) -> bool:
    """Whether a value is a well-formed LucidID (exact: no trimming, no case folding)."""
    return isinstance(value, str) and LUCID_ID_RE.fullmatch(value) is not None


# All datetimes are rendered in America/Los_Angeles, as a Django server with TIME_ZONE set there does.
# The US rule is computed here instead of using zoneinfo, so that no tz database is needed (Windows).
_PST = timezone(timedelta(hours=-8))
_PDT = timezone(timedelta(hours=-7))


def _nth_sunday(year: int, month: int, n: int) -> datetime:
    """The n-th Sunday of a month, at midnight (naive)."""
    first = datetime(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


@functools.cache
def _daylight_saving(year: int) -> tuple[datetime, datetime]:
    """The UTC instants daylight saving time starts and ends in a year (US rule since 2007)."""
    return _nth_sunday(year, 3, 2) + timedelta(hours=10), _nth_sunday(year, 11, 1) + timedelta(hours=9)


def pacific(instant: datetime) -> str:
    """Render a naive UTC instant as ISO-8601 in US Pacific time with its offset, as DRF renders datetimes."""
    dst_start, dst_end = _daylight_saving(instant.year)
    zone = _PDT if dst_start <= instant < dst_end else _PST
    offset = zone.utcoffset(None)
    return (instant + offset).replace(tzinfo=zone).isoformat()
