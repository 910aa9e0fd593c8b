"""Issue 9, redesign: exceptions are classified by class (every requests exception has its own entry), and the
module graph of lucidframes has no cycle, lazy and TYPE_CHECKING imports included."""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import pytest
import requests

import lucidframes as lf

PACKAGE = Path(lf.__file__).resolve().parent
REQUESTS_ERRORS = sorted(
    (
        cls
        for _name, cls in inspect.getmembers(requests.exceptions, inspect.isclass)
        if issubclass(cls, requests.exceptions.RequestException)
    ),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", REQUESTS_ERRORS, ids=lambda c: c.__name__)
def test_every_requests_exception_has_its_own_entry(cls):
    from lucidframes._http.classify import EXCEPTION_TABLE, classify_exception

    assert cls in EXCEPTION_TABLE
    err = cls("boom", "doc", 0) if issubclass(cls, ValueError) else cls("boom")  # JSONDecodeError(msg, doc, pos)
    assert classify_exception(err) is EXCEPTION_TABLE[cls]
    assert issubclass(EXCEPTION_TABLE[cls].error, lf.APIError)


@pytest.mark.parametrize("cls", REQUESTS_ERRORS, ids=lambda c: c.__name__)
def test_every_requests_exception_becomes_one_of_our_errors(cls):
    from lucidframes._http.classify import classify_exception

    err = cls("boom", "doc", 0) if issubclass(cls, ValueError) else cls("boom")
    failure = classify_exception(err)
    assert failure is not None and issubclass(failure.error, lf.APIError)


def test_the_table_is_keyed_by_class_not_by_name():
    from lucidframes._http.classify import EXCEPTION_TABLE, classify_exception

    assert all(isinstance(key, type) and issubclass(key, BaseException) for key in EXCEPTION_TABLE)
    assert classify_exception(KeyError("not a transport failure")) is None


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts)  # a package's __init__ is its own node: lucidframes.sandbox.__init__


def imports_of(path, name):
    """Every lucidframes module a file imports, anywhere in it (functions, TYPE_CHECKING, importlib strings)."""
    package = name.rsplit(".", 1)[0]  # the package a relative import starts from (for __init__ too)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from pkg import mod` depends on pkg.mod (pkg itself is imported first by any submodule import, so
            # counting it would make every package cyclic); `from mod import name` depends on mod.
            targets = [module, *(f"{module}.{a.name}" for a in node.names)]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets = [node.args[0].value]
        found.update(t for t in targets if t == "lucidframes" or t.startswith("lucidframes."))
    return found


@functools.cache
def graph():
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    nodes = set(files)

    def resolve(target):
        if target in nodes:
            return target
        if f"{target}.__init__" in nodes:
            return f"{target}.__init__"
        return None  # `from lucidframes.x import name` where name is not a module

    edges = {}
    for name, path in files.items():
        targets = imports_of(path, name)
        found = set()
        for target in targets:
            if any(t.startswith(target + ".") and resolve(t) for t in targets):
                continue  # `from pkg import mod`: the edge is to mod
            if (node := resolve(target)) is not None and node != name:
                found.add(node)
        edges[name] = found
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_module_graph_has_no_cycle():
    edges = graph()
    assert len(edges) > 20 and edges["lucidframes.client"]  # the walk sees the package
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))


# The two front-ends start a sandbox when asked (`lucidframes sandbox`, `fetch --sandbox`, the widget's demo
# button), importing it lazily; nothing else outside the sandbox may import it.
# The layers on top that start a sandbox when asked (`--sandbox`, the Explorer's demo, lf.load(sandbox=True)).
FRONT_ENDS = {"lucidframes.cli", "lucidframes.widgets", "lucidframes.client.shared"}


def _front_end(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FRONT_ENDS)


def test_the_module_graph_outside_the_sandbox_has_no_cycle():
    edges = graph()
    core = {k: {t for t in v if not t.startswith("lucidframes.sandbox")} for k, v in edges.items()
            if not k.startswith("lucidframes.sandbox")}  # fmt: skip
    assert find_cycle(core) is None, " -> ".join(find_cycle(core))


def test_the_core_never_imports_the_sandbox():
    edges = graph()
    offenders = {
        name
        for name, targets in edges.items()
        if not name.startswith("lucidframes.sandbox") and any(t.startswith("lucidframes.sandbox") for t in targets)
    }
    assert {o for o in offenders if not _front_end(o)} == set()


def test_the_sandbox_imports_no_front_end():
    edges = graph()
    for name, targets in edges.items():
        if name.startswith("lucidframes.sandbox"):
            assert not any(_front_end(t) or t == "lucidframes.__init__" for t in targets), name
