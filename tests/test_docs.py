"""The docs are checked against the CLI (sqlite-utils' test_docs.py idea).

Every command (and sub-command) has an example in its ``--help``, is mentioned in the
README as ``formulae <command>``, and every ``formulae <command>`` the README shows exists.
The README starts with the two commands that do everything on a fresh machine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from analysis.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(cmd, path: tuple[str, ...]) -> None:  # typer vendors click: duck-type groups
        if getattr(cmd, "commands", None):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found.append(path)

    walk(root, ())
    return sorted(found)


COMMANDS = _commands()


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:8])
    assert "make report" in head and "make test" in head


def test_there_are_commands() -> None:
    assert ("ingest",) in COMMANDS and ("query",) in COMMANDS and len(COMMANDS) >= 10


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_every_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert re.search(r"Examples?:", result.output), f"formulae {' '.join(path)} --help has no example"
    assert "formulae " + " ".join(path) in result.output


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_every_command_is_in_the_readme(path: tuple[str, ...]) -> None:
    assert "formulae " + " ".join(path) in README, f"README never shows `formulae {' '.join(path)}`"


def test_readme_shows_only_commands_that_exist() -> None:
    shown = set(re.findall(r"(?m)(?:^|[`\s])formulae ([a-z][a-z-]+)(?: ([a-z][a-z-]+))?", README))
    top = {p[0] for p in COMMANDS}
    groups = {p[0] for p in COMMANDS if len(p) > 1}
    for first, second in shown:
        if first not in top and first not in groups:
            # prose such as "formulae repeated" is not a command: only flag code-looking uses
            if re.search(rf"`formulae {first}\b|^formulae {first}\b", README, re.M):
                pytest.fail(f"README shows `formulae {first}` but there is no such command")
        if first in groups and second and (first, second) not in COMMANDS:
            pytest.fail(f"README shows `formulae {first} {second}` but there is no such command")
