"""Every CLI command driven with hostile arguments (issue 11, item 5): unknown names, empty
strings, bad periods, reversed --from/--to, negative limits, path tricks, bidi controls.

Whatever the arguments, the command ends with exit status 0, 1 or 2 and never a
traceback: the console entry point runs in this process (``cli_main``), so any exception
other than the ones it turns into one line fails the test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import app

HOSTILE = ["", " ", "bogus", "tiny", "../outside/x", "..", "/etc", "-1", "0", "1", "3", "99999999999", "2000",
           "1990", "2000-13", "2000-02-30", "1..0", "3..", "none", "id", "doc", "text", "source", "year", "month",
           "day", "decade", "exact", "stem", "clitic", "ar", "xx", "g2", "phrase", "date<2020", "year=2000..1990",
           "source=", "&", "|", "peaceful coexistence", "\u202e", "--", "nan", "-0.5", "1e309", "fam-0000",
           "table", "csv", "json", "parquet", "quick brown", "mutual-respect"]
FIXED = {"--store", "--out", "--accept", "--lexicon", "--corpus-dir", "--screenshot", "--all"}
# --output: relative paths only (the commands run in a scratch folder): a folder, a file under
# a file, a missing folder
OUTPUTS = ["", ".", "o.csv", "new/sub/o.csv", "o.csv/x", "corpus"]


def commands() -> dict[tuple[str, ...], list]:
    root = typer.main.get_command(app)
    found = {}

    def walk(cmd, path):
        if getattr(cmd, "commands", None):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found[path] = cmd.params

    walk(root, ())
    return found


COMMANDS = commands()


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    from analysis.ingest.snapshot import corpus_ingest

    folder = tmp_path_factory.mktemp("hostile")
    rows = [{"id": "a1", "date": "2020-01-02", "source": "s1",
             "text": "peaceful coexistence and the quick brown fox. mutual respect matters."},
            {"id": "a2", "date": "2021-02-03", "source": "s2",
             "text": "peaceful coexistence again, quick brown dogs. mutual respect for all."}]
    (folder / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "tiny.yml").write_text("name: tiny\nformat: jsonl\npath: c.jsonl\nlanguage: en\n"
                                     "fields: {id: id, text: text, date: date, source: source}\n", encoding="utf-8")
    corpus_ingest(folder / "tiny.yml", store=folder / "S")
    work = folder / "cwd"  # the commands run here: the project's lexicon, nothing else
    (work / "corpus").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "corpus" / "formulae.yml", work / "corpus" / "formulae.yml")
    return folder


INTS = ["-1", "0", "1", "2", "3", "99999999999", "-99999999999"]
FLOATS = ["-0.5", "0", "nan", "inf", "1e309", "0.05", "2"]


def value_of(param) -> st.SearchStrategy[str]:
    """Values typer accepts (so the library is reached) mixed with hostile ones."""
    import enum
    import typing

    kind = param.type_descriptor.annotation
    kinds = [k for k in (typing.get_args(kind) or (kind,)) if k is not type(None)]
    kind = typing.get_args(kinds[0])[0] if typing.get_origin(kinds[0]) is list else kinds[0]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.one_of(st.sampled_from([m.value for m in kind]), st.sampled_from(HOSTILE))
    if kind is int:
        return st.sampled_from(INTS)
    if kind is float:
        return st.sampled_from(FLOATS)
    if param.name == "output":
        return st.sampled_from(OUTPUTS)
    if param.name == "corpus":
        return st.one_of(st.just("tiny"), st.just("tiny"), st.sampled_from(HOSTILE))
    return st.sampled_from(HOSTILE)


@st.composite
def invocation(draw):
    path = draw(st.sampled_from(sorted(COMMANDS)))
    args = list(path)
    params = COMMANDS[path]
    for p in params:
        if p.param_type_name == "argument":
            n = 1 if p.nargs == 1 else draw(st.integers(0, 2))
            args += [draw(st.sampled_from(HOSTILE)) for _ in range(n)]
    options = [p for p in params if p.param_type_name == "option" and p.opts[0] not in FIXED]
    chosen = [p for p in options if p.required and p.opts[0] != "--corpus"]
    chosen += draw(st.lists(st.sampled_from(options), max_size=4)) if options else []
    for p in chosen:
        args.append(p.opts[0])
        if not p.is_flag:
            args.append(draw(value_of(p)))
    if any(p.opts[0] == "--corpus" for p in options) and "--corpus" not in args and draw(st.integers(0, 4)):
        args += ["--corpus", "tiny"]
    return args


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(args=invocation())
def test_hostile_arguments_never_trace(hostile_store, cli, args):
    fixed = []
    path = next(p for p in COMMANDS if tuple(args[:len(p)]) == p)
    opts = {p.opts[0] for p in COMMANDS[path] if p.param_type_name == "option"}
    if "--store" in opts:
        fixed += ["--store", str(hostile_store / "S")]
    if "--out" in opts:
        fixed += ["--out", str(hostile_store / "out")]
    proc = cli(*args, *fixed, cwd=hostile_store / "cwd")
    assert proc.returncode in (0, 1, 2), (args, proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout, (args, proc.stderr[-2000:])
    if proc.returncode == 2 and proc.stderr.startswith("formulae: error: "):
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
