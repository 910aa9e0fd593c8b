"""Every CLI command and option is documented: named in README.md or in the command's own ``--help`` epilog.

The commands and options are read from the parser that ``lucidframes`` itself uses (``build_parser``); ``sandbox``
parses its own options (``lucidframes sandbox --help`` prints that parser), so its options are read from there.
A new option therefore fails this test until the README's command list (section "Use it") or the command's epilog
names it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from lucidframes.cli import sandbox as sandbox_cmd
from lucidframes.cli.main import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
HELP = {"-h", "--help"}  # argparse's own, on every parser


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands = dict(sub.choices)
    commands["sandbox"] = sandbox_cmd._parser()  # what `lucidframes sandbox --help` shows
    return commands


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for action in parser._actions for o in action.option_strings if o not in HELP]


def _named(text: str, word: str) -> bool:
    """``word`` (an option like ``--table`` or ``-o``) occurs in ``text`` as a whole token."""
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


COMMANDS = _subcommands()


def test_the_parser_has_the_commands_of_the_design() -> None:
    """The walk below sees every command (a parser that hid them would make this test pass on nothing)."""
    assert {"fetch", "snapshot", "lookup", "validate", "endpoints", "sandbox"} <= set(COMMANDS)
    assert all(_options(p) for p in COMMANDS.values())  # every command has options to check


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"lucidframes {name}" in README, f"README.md does not mention `lucidframes {name}`"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_is_in_the_readme_or_the_epilog(name: str) -> None:
    parser = COMMANDS[name]
    epilog = parser.epilog or ""
    missing = [o for o in _options(parser) if not (_named(README, o) or _named(epilog, o))]
    assert not missing, f"`lucidframes {name}`: {missing} named neither in README.md nor in its --help epilog"


def test_top_level_options_are_in_the_readme() -> None:
    parser = build_parser()
    missing = [o for o in _options(parser) if not (_named(README, o) or _named(parser.epilog or "", o))]
    assert not missing, f"`lucidframes`: {missing} not in README.md"


def test_named_matches_whole_options_only() -> None:
    assert _named("use `--table NAME`", "--table")
    assert not _named("use `--tables`", "--table") and not _named("--no-table", "--table")
    assert not _named("a-o", "-o") and _named("(-o is --output)", "-o")
