"""The architecture as DESIGN.md draws it, checked on the real import graph (grimp: lazy and TYPE_CHECKING imports
count): imports point down the layers, the sandbox stands beside everything, config imports nothing of ours, the
top of the package stays small, and no function or module outgrows the limits (radon, lines)."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from radon.complexity import cc_visit

import lucidframes

PACKAGE = Path(lucidframes.__file__).resolve().parent

# Highest first. Modules of one layer may import each other where `independent=False`; nothing imports upward.
LAYERS = [
    grimp.Layer("lucidframes.cli"),
    grimp.Layer(
        "lucidframes.pipelines", "lucidframes.dlt", "lucidframes.notebook", "lucidframes.widgets", independent=False
    ),
    grimp.Layer("lucidframes.client"),
    grimp.Layer("lucidframes.loaders"),
    grimp.Layer("lucidframes.lucidid"),
    grimp.Layer("lucidframes.endpoints", "lucidframes.io", "lucidframes._http", independent=True),
    grimp.Layer("lucidframes.errors", "lucidframes.config", "lucidframes._version", independent=True),
]
# Where a front end starts the sandbox on request (`--sandbox`, the Explorer's demo, lf.load(sandbox=True)).
SANDBOX_STARTERS = {"lucidframes.cli", "lucidframes.widgets", "lucidframes.client.shared"}
TOP_LEVEL = {"__init__", "__main__", "_version", "errors", "config", "endpoints", "dlt"}
MAX_COMPLEXITY = 15
MAX_LINES = 400


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("lucidframes", include_external_packages=False)


def _within(module: str, roots) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def _explain(dependencies) -> list[str]:
    return [
        f"{dep.importer} -> {dep.imported}: {sorted(route.heads)} -> {list(route.middle)} -> {sorted(route.tails)}"
        for dep in sorted(dependencies, key=lambda d: (d.importer, d.imported))
        for route in dep.routes
    ]


def test_the_graph_is_the_package(graph):
    assert "lucidframes.client.client" in graph.modules and "lucidframes.io.export" in graph.modules
    assert graph.direct_import_exists(importer="lucidframes.client.client", imported="lucidframes.loaders.load")


def test_imports_point_down_the_layers(graph):
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS)
    assert not illegal, "\n".join(_explain(illegal))


def test_a_layer_check_would_see_an_upward_import(graph):
    # The check above is only worth something if it can fail: one planted upward import is found.
    graph = grimp.build_graph("lucidframes", include_external_packages=False)
    graph.add_import(importer="lucidframes.config", imported="lucidframes.client.client")
    assert graph.find_illegal_dependencies_for_layers(layers=LAYERS)


def test_config_imports_nothing_of_ours(graph):
    assert graph.find_modules_directly_imported_by("lucidframes.config") == set()


def test_the_sandbox_imports_nothing_of_the_core(graph):
    sandbox = {m for m in graph.modules if _within(m, {"lucidframes.sandbox"})}
    outside = {(m, t) for m in sandbox for t in graph.find_modules_directly_imported_by(m) if t not in sandbox}
    assert outside == set()


def test_only_the_front_ends_start_the_sandbox(graph):
    importers = {
        m
        for m in graph.find_modules_that_directly_import("lucidframes.sandbox")
        | {i for s in graph.find_children("lucidframes.sandbox") for i in graph.find_modules_that_directly_import(s)}
        if not _within(m, {"lucidframes.sandbox"})
    }
    assert importers and all(_within(m, SANDBOX_STARTERS) for m in importers), importers


def test_no_module_imports_the_package_root(graph):
    # `lucidframes/__init__.py` is the public face; a module importing it would import everything above itself.
    assert graph.find_modules_that_directly_import("lucidframes") == set()


def test_the_top_of_the_package_is_small():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules <= TOP_LEVEL, modules - TOP_LEVEL
    assert len(modules) <= 8


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_function_above_complexity_15():
    # radon counts boolean operators too (ruff's C901 does not), so this is the stricter check of the two.
    over = set()
    for path in _sources():
        for block in cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "closures", []), *getattr(block, "methods", [])]:
                if item.complexity > MAX_COMPLEXITY:
                    over.add(f"{path.relative_to(PACKAGE.parent)}:{item.lineno} {item.fullname} {item.complexity}")
    assert sorted(over) == []


def test_no_module_above_400_lines():
    lines = {str(p.relative_to(PACKAGE.parent)): len(p.read_text(encoding="utf-8").splitlines()) for p in _sources()}
    long = {name: n for name, n in lines.items() if n > MAX_LINES}
    assert long == {}
