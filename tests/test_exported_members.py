"""The public API is ``lucidframes.__all__``: complete, sorted and spelled out (httpx's test_exported_members)."""

from __future__ import annotations

import ast
import pathlib

import lucidframes as lf
from lucidframes import errors

INIT = pathlib.Path(lf.__file__)


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def test_all_is_sorted_and_unique():
    assert list(lf.__all__) == sorted(set(lf.__all__), key=_isort_key)


def test_all_is_spelled_out():
    # No splat (`*errors.__all__`): every public name is written in __init__.py, where a reader looks for it.
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    assigned = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__all__")  # type: ignore[attr-defined]
    assert isinstance(assigned.value, ast.List)
    assert all(isinstance(e, ast.Constant) for e in assigned.value.elts)


def test_every_error_and_warning_is_public():
    public = set(lf.__all__)
    missing = [name for name in errors.__all__ if name not in public and name != "Attempt"]
    assert missing == []
    for name in lf.__all__:
        assert hasattr(lf, name), name


def test_internal_helpers_are_not_exported():
    for name in ("check_same_origin", "check_ids_before_send", "Transport", "WaitStats"):
        assert name not in lf.__all__


def test_every_public_name_of_the_design_is_there():
    for name in ("Client", "load", "RetryPolicy", "validate_lucid_ids", "ValidationReport", "DrainState", "Page",
                 "PageStream", "WaitEvent", "RedirectError", "DrainStopped", "DrainInterrupted", "DriftWarning",
                 "ConfigWarning", "EncodingFallbackWarning", "export", "read_table"):  # fmt: skip
        assert name in lf.__all__, name
