"""LucidID and uuid columns: formats, per-cell diagnosis, the vectorised checks (any engine), report, accessor, fixes.

Modules, each importing only those before it: ``formats`` (alphabet, lengths, ``Reason``), ``wording`` (how values
read in messages: ``visible``, ``quote``, ``for_cli``), ``known`` (``KnownIds``: ids known to exist, for hints),
``cells`` (one cell: normalise, diagnose, hints), ``labels`` and ``columns`` (``columns=``; pandas string views);
``engine/``: ``internal_columns`` (the names of the internal columns, shared by the engine and the report),
``prepare`` (any input to one narwhals frame), ``rules`` (the whole-column rules as narwhals expressions),
``collect`` (a narwhals frame back as pandas objects), ``values`` (unknown ids and repeats among the well-formed
values), ``duckdb_scan`` (a file bigger than memory: two scans down to the rows that can fail), ``run`` (run the
rules: exact counts, capped failing rows), ``valid`` (the passing rows as a query on the input's engine),
``pandas_path`` (the same for pandas: native passes over every cell, the shared functions over the few failing or
repeated ones); ``fixes`` (``suggest_fixes``) and ``apply`` (``report.apply_fixes``: fixes and their change log);
``report/``: ``html``, ``excel`` (the report as a workbook), ``report`` (ValidationReport) and ``assemble``; then
``api`` (the public functions), ``accessor`` (``df.lucid``, registered on import) and ``files`` (``validate_file``).
"""

from __future__ import annotations

from lucidframes.lucidid.accessor import LucidFrameAccessor, LucidSeriesAccessor
from lucidframes.lucidid.api import *  # noqa: F403
from lucidframes.lucidid.api import __all__ as _api_names
from lucidframes.lucidid.files import validate_file
from lucidframes.lucidid.fixes import suggest_fixes

__all__ = ["LucidFrameAccessor", "LucidSeriesAccessor", *_api_names, "suggest_fixes", "validate_file"]
