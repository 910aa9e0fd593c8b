"""The sandbox's layout (issue 13, item 6): imports point down, one options type, no module named like the drain's."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
from pathlib import Path

import pytest

import lucidframes.sandbox as sandbox_package
from lucidframes.sandbox import SandboxOptions, serve
from lucidframes.sandbox.cli import build, parser

SANDBOX = Path(sandbox_package.__file__).parent


def _imports_inside_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(f"{path.name}:{inner.lineno}")
    return found


def test_no_module_of_the_sandbox_imports_lazily():
    # __init__.py's __getattr__ is the one exception, on purpose: `python -m lucidframes.sandbox.data` runs without
    # importing the server (it is not there to dodge a cycle).
    modules = [p for p in SANDBOX.glob("*.py") if p.name != "__init__.py"]
    assert modules and [hit for p in modules for hit in _imports_inside_functions(p)] == []


def test_views_do_not_import_the_app():
    for name in ("source", "retail", "routes", "views", "state"):
        tree = ast.parse((SANDBOX / f"{name}.py").read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "lucidframes.sandbox.app" not in imported, name
        assert "lucidframes.sandbox.server" not in imported, name


def test_the_sandbox_paginator_is_not_named_like_the_drain():
    assert importlib.util.find_spec("lucidframes.sandbox.pagination") is None
    assert importlib.util.find_spec("lucidframes.sandbox.page_numbers") is not None


def test_one_options_type_for_serve_sandbox_and_the_command():
    with serve(SandboxOptions(seed=3, page_size=7), rate_limits=None) as sb:
        assert sb.options == SandboxOptions(seed=3, page_size=7, rate_limits=None)
        assert sb.page_size == 7 and len(sb.list_rows("brands")) == 25
    with pytest.raises(TypeError, match="unknown sandbox option"):
        serve(pagesize=3)
    with pytest.raises(ValueError, match="page_size"):
        SandboxOptions(page_size=0)
    args = parser().parse_args(["--seed", "4", "--page-size", "9", "--no-rate-limit", "--port", "0", "--products", "5"])
    assert build(args).options == SandboxOptions(seed=4, page_size=9, rate_limits=None, sizes={"products": 5},
                                                 token_lifetime=36000.0)  # fmt: skip
    # every option can be given on the command line (the sizes one by one, the limits as a spec)
    flags = {a.dest for a in parser()._actions}
    missing = {f.name for f in dataclasses.fields(SandboxOptions)} - flags - {"sizes", "rate_limits"}
    assert missing == set()
