"""A small ast-based mutation tester: do the named tests notice when the code under them is changed?

Each mutant is the module with one small change (below); the named test files run against it with ``-x -q`` in a
copy of the repository, and a failing run (or one past the timeout) *kills* the mutant. A mutant that survives is
either a gap in the tests or an *equivalent* mutant (no behaviour changed); the equivalent ones are listed with a
one-line reason in a file (``--equivalent``), and the score is reported both over all mutants and over the
behaviour-changing ones.

Usage, from the repository root (tests/README.md has the figures)::

    python bench/mutate.py lucidframes/_http/retry.py tests/test_retry.py
    python bench/mutate.py lucidframes/lucidid/engine/rules.py tests/test_lucidid_reasons.py \\
        tests/test_lucidid_engines.py --pytest-args "-k 'not spark'"
    python bench/mutate.py MODULE TESTS... --list           # the mutants, not run
    python bench/mutate.py MODULE TESTS... --only 3,17      # only these mutants (numbers from --list)

The changes: comparison operators (``<`` and ``<=``, ``>`` and ``>=``, ``==`` and ``!=``, ``in`` and ``not in``,
``is`` and ``is not``), arithmetic and bitwise operators (``+ -``, ``* /``, ``**`` to ``*``, ``& |``), ``and``/``or``,
``not``/``~``/unary minus removed, integers and floats +1 and -1, ``True``/``False`` swapped, strings changed,
``min``/``max`` swapped, conditions negated (``if``, ``while``, ``x if c else y``, and the ``.when(c)`` of expression
chains), a ``return`` value replaced by ``None``, a statement replaced by ``pass``, a ``.when(c).then(v)`` link or a
``.str.replace_all(...)`` call dropped from an expression chain. Docstrings, imports, ``__all__``, annotations and
the constant parts of f-strings (messages) are left alone.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EQUIVALENT = Path(__file__).resolve().parent / "mutate_equivalent.txt"

_COMPARE = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_BINOP = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult, ast.Mod: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
}  # fmt: skip
_REMOVABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.If, ast.Raise, ast.Return, ast.For, ast.With)


@dataclass
class Mutant:
    """One change: where it is, what it is, and the module's source with it."""

    number: int
    line: int
    op: str
    before: str
    after: str
    key: str = ""  # stable across line moves: op, before, after and the occurrence among identical ones
    status: str = ""
    seconds: float = 0.0

    def describe(self) -> str:
        return f"#{self.number} line {self.line} {self.op}: `{self.before}` -> `{self.after}`"


# ---------------------------------------------------------------------------------------------------- the sites


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes never mutated: docstrings, imports, ``__all__``, annotations, f-string text."""
    skip: set[int] = set()

    def drop(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                drop(first)
        if isinstance(node, ast.Import | ast.ImportFrom):
            drop(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            drop(node)
        if isinstance(node, ast.AnnAssign):
            drop(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            drop(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs, node.args.vararg,
                        node.args.kwarg]:  # fmt: skip
                if arg is not None:
                    drop(arg.annotation)
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values if isinstance(v, ast.Constant))
        if isinstance(node, ast.ClassDef):
            for d in node.decorator_list:
                drop(d)
    return skip


def _in_function(tree: ast.Module) -> set[int]:
    """ids of the statements directly in a function body (the ones that ``pass`` may replace)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                for name in ("body", "orelse", "finalbody"):
                    stmts = getattr(sub, name, [])
                    if isinstance(stmts, list):
                        inside.update(id(s) for s in stmts if isinstance(s, ast.stmt))
    return inside


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    out: dict[int, tuple[ast.AST, str, int | None]] = {}
    for node in ast.walk(tree):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        out[id(item)] = (node, name, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (node, name, None)
    return out


def _replace(parents: dict[int, tuple[ast.AST, str, int | None]], old: ast.AST, new: ast.AST) -> None:
    parent, name, index = parents[id(old)]
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new


Change = Callable[[ast.AST], ast.AST]


def _sites(node: ast.AST, skip: set[int], in_function: set[int]) -> Iterator[tuple[str, Change]]:
    """Every mutation of ``node`` as (name, change); a change edits the node in place or returns its replacement."""
    if id(node) in skip:
        return
    yield from _operator_sites(node)
    yield from _value_sites(node)
    if isinstance(node, ast.If | ast.While | ast.IfExp):

        def negate(n: ast.AST) -> ast.AST:
            n.test = ast.UnaryOp(ast.Not(), n.test)  # type: ignore[attr-defined]
            return n

        yield "condition negated", negate
    yield from _chain_sites(node)
    yield from _statement_sites(node, in_function)


def _operator_sites(node: ast.AST) -> Iterator[tuple[str, Change]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARE:

                def flip(n: ast.AST, i: int = i) -> ast.AST:
                    assert isinstance(n, ast.Compare)
                    n.ops[i] = _COMPARE[type(n.ops[i])]()
                    return n

                yield "compare", flip
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP:

        def binop(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.BinOp)
            n.op = _BINOP[type(n.op)]()
            return n

        yield "operator", binop
    elif isinstance(node, ast.BoolOp):

        def boolop(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.BoolOp)
            n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
            return n

        yield "and/or", boolop
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert | ast.USub):
        yield "unary removed", lambda n: n.operand  # type: ignore[attr-defined]


def _value_sites(node: ast.AST) -> Iterator[tuple[str, Change]]:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        for delta in (1, -1):
            yield f"number {delta:+d}", lambda n, d=delta: ast.Constant(n.value + d)  # type: ignore[attr-defined]
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield "bool", lambda n: ast.Constant(not n.value)  # type: ignore[attr-defined]
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield "string", lambda n: ast.Constant(f"XX{n.value}XX")  # type: ignore[attr-defined]
    elif isinstance(node, ast.Name) and node.id in ("min", "max") and isinstance(node.ctx, ast.Load):
        yield "min/max", lambda n: ast.Name("max" if n.id == "min" else "min", ast.Load())  # type: ignore[attr-defined]


def _chain_sites(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """Expression chains (narwhals): ``.when(c)`` negated, a ``.when(c).then(v)`` or ``.str.replace_all()`` dropped."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
        return
    attr = node.func.attr
    if attr == "when":

        def invert(n: ast.AST) -> ast.AST:
            n.args[0] = ast.UnaryOp(ast.Invert(), n.args[0])  # type: ignore[attr-defined]
            return n

        yield "when negated", invert
    inner = node.func.value
    linked = isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "when"
    if attr == "then" and linked and not isinstance(inner.func.value, ast.Name):  # type: ignore[attr-defined]
        yield "when/then dropped", lambda n: n.func.value.func.value  # type: ignore[attr-defined]
    if attr == "replace_all" and isinstance(inner, ast.Attribute) and inner.attr == "str":
        yield "replace_all dropped", lambda n: n.func.value.value  # type: ignore[attr-defined]


def _statement_sites(node: ast.AST, in_function: set[int]) -> Iterator[tuple[str, Change]]:
    value = node.value if isinstance(node, ast.Return) else None
    if value is not None and not (isinstance(value, ast.Constant) and value.value is None):

        def to_none(n: ast.AST) -> ast.AST:
            n.value = ast.Constant(None)  # type: ignore[attr-defined]
            return n

        yield "return None", to_none
    if isinstance(node, _REMOVABLE) and id(node) in in_function and not isinstance(node, ast.Return):
        yield "statement removed", lambda n: ast.Pass()


def mutants(source: str) -> list[Mutant]:
    """Every mutant of ``source``, numbered in the order of ``ast.walk``; each with its full mutated source."""
    out: list[Mutant] = []
    plan = _plan(source)
    seen: Counter[str] = Counter()
    for number, (index, which, op, line) in enumerate(plan, start=1):
        tree = ast.parse(source)
        nodes = list(ast.walk(tree))
        skip = _skipped_nodes(tree)
        inside = _in_function(tree)
        parents = _parents(tree)
        node = nodes[index]
        before = _short(node, op)
        change = list(_sites(node, skip, inside))[which][1]
        new = change(node)
        if new is not node:
            _replace(parents, node, new)
        after = "(dropped)" if op.endswith("dropped") else _short(new, op)
        ident = f"{op} | {before} | {after}"
        seen[ident] += 1
        out.append(Mutant(number, line, op, before, after, key=f"{ident} | {seen[ident]}"))
    return out


def _plan(source: str) -> list[tuple[int, int, str, int]]:
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    inside = _in_function(tree)
    plan = []
    for index, node in enumerate(ast.walk(tree)):
        for which, (op, _) in enumerate(_sites(node, skip, inside)):
            plan.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), index, which, op))
    plan.sort()  # in the order of the source
    return [(index, which, op, line) for line, _, index, which, op in plan]


def mutated_source(source: str, number: int) -> str:
    """The module's source with mutant ``number`` applied (``ast.unparse``: formatting and comments are lost)."""
    index, which, _, _ = _plan(source)[number - 1]
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    node = nodes[index]
    new = list(_sites(node, _skipped_nodes(tree), _in_function(tree)))[which][1](node)
    if new is not node:
        _replace(_parents(tree), node, new)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _short(node: ast.AST, op: str, width: int = 90) -> str:
    """The node as source; for a change in an expression chain only its last links (``.when(c)``)."""
    text = ast.unparse(node)
    if op in ("when negated", "replace_all dropped") and isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Attribute)
        receiver = ast.unparse(node.func.value)
        text = text[len(receiver) :] if text.startswith(receiver) else text
    elif op == "when/then dropped" and isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call)
        receiver = ast.unparse(node.func.value.func.value)  # type: ignore[attr-defined]
        text = text[len(receiver) :] if text.startswith(receiver) else text
    text = text.replace("\n", "; ")
    return text if len(text) <= width else text[: width - 3] + "..."


# ---------------------------------------------------------------------------------------------------- the runs


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".venv", "*.pyc", ".mypy_cache", ".ruff_cache", "mutants")
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def _run_tests(workdir: Path, tests: list[str], extra: list[str], timeout: float) -> tuple[str, float]:
    env = dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *extra, *tests]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's own process group (Spark's JVM included)
        proc.wait()
        return "timeout", time.monotonic() - start
    except BaseException:  # this script stopped: its test run goes too
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    seconds = time.monotonic() - start
    if code == 0:
        return "survived", seconds
    # 1 tests failed; 2 interrupted (a KeyboardInterrupt of the mutant) or a collection error; 3 an internal error;
    # 4 a conftest that cannot be imported (the mutant breaks the import). The clean run checked the arguments.
    if code in (1, 2, 3, 4):
        return "killed", seconds
    return f"error (exit {code})", seconds


def read_equivalent(path: Path, module: str) -> dict[str, str]:
    """``module | key | reason`` lines (``#`` starts a comment): the mutants known to change no behaviour."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" || ")]
        if len(parts) == 3 and parts[0] == module:
            out[parts[1]] = parts[2]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="the module to mutate, e.g. lucidframes/_http/retry.py")
    parser.add_argument("tests", nargs="+", help="the test files run against each mutant (in this order)")
    parser.add_argument("--pytest-args", default="", help="more pytest arguments, e.g. \"-k 'not spark'\"")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per mutant (default: 3x the clean run)")
    parser.add_argument("--only", default="", help="comma-separated mutant numbers")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--equivalent", type=Path, default=DEFAULT_EQUIVALENT, help="the equivalent mutants' file")
    parser.add_argument("--json", type=Path, help="write every mutant's result here")
    args = parser.parse_args(argv)

    module = Path(args.module).as_posix()
    source = (ROOT / module).read_text(encoding="utf-8")
    found = mutants(source)
    equivalent = read_equivalent(args.equivalent, module)
    if args.list:
        for m in found:
            print(m.describe(), "[equivalent]" if m.key in equivalent else "")
        print(f"{len(found)} mutants of {module}")
        return 0
    chosen = [m for m in found if not args.only or str(m.number) in args.only.split(",")]
    extra = shlex.split(args.pytest_args)
    print(f"$ {shlex.join([Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])])}", flush=True)
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still removes its copy
    with tempfile.TemporaryDirectory(prefix="lucidframes-mutate-") as tmp:
        work = Path(tmp)
        _copy_tree(work)
        target = work / module
        status, clean = _run_tests(work, args.tests, extra, timeout=args.timeout or 3600)
        if status != "survived":
            print(f"the tests do not pass on the unchanged module ({status}): nothing to measure", flush=True)
            return 2
        timeout = args.timeout or max(60.0, 3 * clean)
        print(f"clean run {clean:.1f}s; timeout per mutant {timeout:.0f}s; {len(chosen)} mutants", flush=True)
        try:
            for m in chosen:
                target.write_text(mutated_source(source, m.number), encoding="utf-8")
                m.status, m.seconds = _run_tests(work, args.tests, extra, timeout)
                mark = " [equivalent]" if m.status == "survived" and m.key in equivalent else ""
                print(f"{m.status:>9} {m.seconds:6.1f}s  {m.describe()}{mark}", flush=True)
        finally:
            target.write_text(source, encoding="utf-8")

    killed = [m for m in chosen if m.status in ("killed", "timeout")]
    survived = [m for m in chosen if m.status == "survived"]
    errors = [m for m in chosen if m.status not in ("killed", "timeout", "survived")]
    equiv = [m for m in survived if m.key in equivalent]
    real = len(chosen) - len(equiv)
    print(f"\n{module}: {len(killed)} killed of {len(chosen)} ({100 * len(killed) / max(1, len(chosen)):.1f}%)")
    print(
        f"behaviour-changing: {len(killed)} killed of {real} ({100 * len(killed) / max(1, real):.1f}%), "
        f"{len(equiv)} equivalent survivors excluded"
    )
    for m in survived:
        note = f"  [equivalent: {equivalent[m.key]}]" if m.key in equivalent else ""
        print(f"  survived {m.describe()}{note}\n           key: {m.key}")
    for m in errors:
        print(f"  {m.status} {m.describe()}")
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in chosen], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
