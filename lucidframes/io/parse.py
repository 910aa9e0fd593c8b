"""The readers of ``read_table``: CSV (plain or as Excel saves it, every cell as text) and Parquet.

``io/formats.py`` names them in its table; ``read.py`` dispatches through it. The CSV reader's encoding rules (UTF-8,
the cp1252 fallback with a warning, UTF-16 by its byte-order mark) are described in ``read.py``.
"""

from __future__ import annotations

import codecs
import io
import os
import warnings
from pathlib import Path

import pandas as pd

from lucidframes.errors import EncodingFallbackWarning, ReadError

__all__ = ["read_csv_file", "read_parquet_file", "sniff_csv"]

_SEPARATORS = (",", ";", "\t", "|")


def read_csv_file(
    file: Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int = 1,
) -> pd.DataFrame:
    """Read a CSV file with every cell as text (only empty cells missing).

    Args:
        file: the file.
        sep: the separator; detected when None.
        encoding: the encoding; None means UTF-8 with the documented cp1252 fallback.
        sheet: unused (``read_table`` refuses it for a CSV file).
        header_row: the line of the header, from 1 (after Excel's ``sep=`` line): lines above it are skipped.

    Returns:
        The table; ``attrs["source"]`` holds the path, separator, encoding and ``first_row_line``.
    """
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ReadError(f"{file}: cannot read it ({exc.strerror or exc})") from exc
    return _read_csv(file, raw, sep=sep, encoding=encoding, header_row=header_row)


def read_parquet_file(
    file: Path,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_row: int = 1,
) -> pd.DataFrame:
    """Read a Parquet file with the types it was written with.

    Args:
        file: the file.
        sep: ignored (the readers share one signature).
        encoding: ignored.
        sheet: ignored (``read_table`` refuses it for a Parquet file).
        header_row: ignored (likewise).

    Returns:
        The table; ``attrs["source"]`` holds the path and the format.
    """
    try:
        frame = pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises its own errors (ArrowInvalid, OSError) for damaged files
        raise ReadError(f"{file}: not a readable Parquet file ({type(exc).__name__}: {exc})") from exc
    frame.attrs["source"] = {"path": str(file), "format": "parquet", "first_row_line": None}
    return frame


def sniff_csv(path: str | os.PathLike[str], sep: str | None = None) -> tuple[str, int]:
    """The separator of a CSV file and how many lines come before its header (1 for Excel's ``sep=;`` line).

    Only the start of the file is read, so this works on files of any size (engines that scan lazily use it).

    Args:
        path: the file.
        sep: the separator when known.

    Returns:
        ``(separator, lines before the header)``.
    """
    with open(path, "rb") as f:
        head = f.read(65536)
    text = head.decode("utf-8-sig", errors="replace")
    found, rest = _detect_sep(text)
    skipped = 1 if rest is not text else 0
    return (sep or found), skipped


def _decode(file: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    """The text of the file and the encoding that decoded it."""
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except LookupError:
            raise ReadError(f"{file}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ReadError(f"{file}: not valid {encoding}: {_where(raw, exc)}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ReadError(f"{file}: not valid UTF-16 despite its byte-order mark: {_where(raw, exc)}") from None
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError as exc:
        where = _where(raw, exc)
    try:
        text, used = raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, used = raw.decode("latin-1"), "latin-1"
    warnings.warn(
        f"{file}: not UTF-8 ({where}); decoded as {used}. Ids are unaffected; check other text, or save the "
        "file as CSV UTF-8",
        EncodingFallbackWarning,
        stacklevel=4,  # the line in read_table, as before the readers moved out of read.py
    )
    return text, used


def _where(raw: bytes, exc: UnicodeDecodeError) -> str:
    """Where decoding failed, as a person would look for it: line number and the bytes."""
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"byte {raw[exc.start : exc.start + 1]!r} at offset {exc.start} (line {line})"


def _detect_sep(text: str) -> tuple[str, str]:
    """The separator, and the text without Excel's ``sep=X`` line when there is one."""
    first, _, rest = text.partition("\n")
    hint = first.strip("\r")
    if hint.lower().startswith("sep=") and len(hint) == 5:
        return hint[4], rest
    # The header decides: ids and names rarely contain the separator, and a header never should.
    counts = {s: _count_outside_quotes(first, s) for s in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda s: counts[s])
    return (best if counts[best] else ","), text


def _count_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


def _skip_lines(file: Path, text: str, lines: int) -> str:
    """The text after its first ``lines`` lines (the title lines above a header)."""
    parts = text.split("\n", lines)
    if len(parts) <= lines or not parts[lines].strip():
        raise ReadError(f"{file}: nothing at line {lines + 1}, where header_row= puts the header")
    return parts[lines]


def _read_csv(file: Path, raw: bytes, *, sep: str | None, encoding: str | None, header_row: int = 1) -> pd.DataFrame:
    text, used = _decode(file, raw, encoding)
    if not text.strip():
        raise ReadError(f"{file}: the file is empty")
    first_row_line = 2  # the header is line 1 in a spreadsheet
    named = sep
    if sep is None:
        sep, rest = _detect_sep(text)
        named = sep if rest is not text else None  # Excel's sep= line names it
        first_row_line += rest is not text
        text = rest
    if header_row > 1:
        text = _skip_lines(file, text, header_row - 1)
        first_row_line += header_row - 1
        sep = named or _detect_sep(text)[0]  # the header line decides, not a title line
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,  # no guessing: leading zeros stay, long digit strings stay exact
            keep_default_na=False,  # "NA", "null", "n/a" are text, not missing
            na_values=[""],  # only an empty cell is missing
            skipinitialspace=False,  # spaces around ids are reported by the validator, not hidden
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ReadError(f"{file}: not a readable CSV file with separator {sep!r}: {exc}") from exc
    frame.attrs["source"] = {
        "path": str(file),
        "format": "csv",
        "sep": sep,
        "encoding": used,
        "first_row_line": first_row_line,  # the spreadsheet line of row 0 (valid while no cell spans lines)
    }
    return frame
