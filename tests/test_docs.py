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


# --- every command the README shows runs (issue 11, item 3) ---------------------------------

# Commands of the README's code blocks that are not run here, and why (say so, never silently):
NOT_RUN = {
    "report build --all": "renders every report of every corpus in the store (many minutes); "
                          "tests/report covers the builder, and the single-report commands run here",
}
# Heavy real corpora are replaced by a smaller one of the same kind (same format, language and
# date precision), so that the README's commands run in a test's time; the full corpora's
# figures are pinned by their own golden tests (tests/ingest, tests/phrases, tests/stats).
STAND_IN = {"ungdc": "ungd", "tests/corpora/ungdc.yml": "corpus/ungd.yml", "saudinewsnet": "mfa-ar"}


EXPECTED_ERRORS: set[tuple[str, ...]] = set()


def readme_commands() -> list[list[str]]:
    """Every ``formulae ...`` command in the README's ```sh code blocks, as argv lists
    (comments dropped, a quoted argument may span lines)."""
    import shlex

    commands, pending = [], ""
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines(keepends=True):
            text = pending + line
            try:
                argv = shlex.split(text, comments=True)
            except ValueError:  # an open quote: the argument continues on the next line
                pending = text
                continue
            pending = ""
            if argv[:1] == ["formulae"]:
                commands.append(argv[1:])
                if "# formulae: error:" in text:  # the README shows this command failing
                    EXPECTED_ERRORS.add(tuple(argv[1:]))
    # whole commands quoted in the prose (`formulae timeline ... --lifecycle`), not the
    # templates (`formulae timeline ITEM --corpus X ...`)
    for quoted in re.findall(r"`formulae ([^`]+)`", README.replace("\n", " ")):
        argv = shlex.split(quoted)
        template = ("|" in re.sub(r"'[^']*'", "", quoted) or "…" in quoted
                    or any(re.fullmatch(r"[A-Z]+", a) for a in argv))
        if len(argv) > 2 and not template and argv not in commands:
            commands.append(argv)
    return commands


def _accepts(argv: list[str], option: str) -> bool:
    root = typer.main.get_command(app)
    cmd = root
    for arg in argv:
        sub = getattr(cmd, "commands", {}).get(arg)
        if sub is None:
            break
        cmd = sub
    return any(option in getattr(p, "opts", ()) for p in cmd.params)


def _stand_in(argv: list[str], store: str, out_dir: str | None = None) -> list[str]:
    """The command on the test's store (and report folder), with the stand-in corpora."""
    args, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--store", "--out"):  # every command runs on the test's own store and folder
            skip = True
            continue
        args.append(STAND_IN.get(arg, arg))
    if _accepts(args, "--store"):
        args += ["--store", store]
    if out_dir is not None and _accepts(args, "--out"):
        args += ["--out", out_dir]
    return args


def test_readme_shows_commands():
    cmds = readme_commands()
    assert len(cmds) >= 20 and ["corpus", "list"] in cmds


@pytest.mark.slow
@pytest.mark.parametrize("argv", readme_commands(), ids=lambda a: " ".join(a)[:60])
def test_readme_command_runs(argv, store, mfa_ar, ungd, cn_mfa, cli, project_root, tmp_path):
    """Before: `formulae formulae --counts` lacked the first/last ids the README promised."""
    name = " ".join(argv)
    if any(name.startswith(k) for k in NOT_RUN):
        pytest.skip(NOT_RUN[next(k for k in NOT_RUN if name.startswith(k))])
    proc = cli(*_stand_in(argv, str(store), str(tmp_path / "reports")), cwd=project_root)
    if tuple(argv) in EXPECTED_ERRORS:  # shown with its `# formulae: error: ...` line
        assert proc.returncode == 2 and proc.stderr.startswith("formulae: error: "), (argv, proc.stderr)
        return
    assert proc.returncode == 0, (argv, proc.stderr[-1500:])
    assert "Traceback" not in proc.stderr
    if argv[:1] == ["formulae"] and "--counts" in argv:
        assert "first_id" in proc.stdout and "last_id" in proc.stdout
