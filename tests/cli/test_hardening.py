"""Hardening (issue 11): stale results, dates at their precision, one-line errors instead
of tracebacks, corpus names that cannot leave the store, empty input refused.

Every test here failed on the code before the fix (noted per test)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
from pathlib import Path

import pytest

from analysis.errors import FormulaeError
from analysis.store import read_json


def write_corpus(folder: Path, rows: list[dict], name: str = "tiny", language: str = "en",
                 precision: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "c.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                    encoding="utf-8")
    date = f"date: {{precision: {precision}}}\n" if precision else ""
    decl = folder / f"{name}.yml"
    decl.write_text(f"name: {name}\nformat: jsonl\npath: c.jsonl\nlanguage: {language}\n"
                    f"fields: {{id: id, text: text, date: date}}\n{date}", encoding="utf-8")
    return decl


OLD = [{"id": "a1", "date": "2020-01-02", "text": "the quick brown fox jumps over the lazy dog. alpha beta."},
       {"id": "a2", "date": "2020-02-02", "text": "the quick brown fox jumps over the lazy dog too. alpha beta."}]
NEW = [{"id": "a1", "date": "2020-01-02", "text": "peaceful coexistence of nations. one two."},
       {"id": "a2", "date": "2020-02-02", "text": "peaceful coexistence of nations again. one two."}]


def ok(proc):
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def fails(proc, pattern: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == 1, err
    assert err.startswith("formulae: error: "), err
    assert re.search(pattern, err), err
    return err


# --- 1. stale phrases ------------------------------------------------------------------


@pytest.mark.parametrize("maximal", [True, False])
def test_phrases_after_reingest_are_the_new_corpus(tmp_path, cli, maximal):
    """Before: `phrases` read the old index after a re-ingest and printed the old phrases."""
    decl = write_corpus(tmp_path, OLD)
    store = str(tmp_path / "S")
    flag = ["--maximal"] if maximal else ["--n", "2"]
    ok(cli("ingest", str(decl), "--store", store))
    first = ok(cli("phrases", "--corpus", "tiny", *flag, "--store", store, "-f", "csv"))
    assert "quick brown" in first
    write_corpus(tmp_path, NEW)
    ok(cli("ingest", str(decl), "--store", store))
    again = ok(cli("phrases", "--corpus", "tiny", *flag, "--store", store, "-f", "csv"))
    assert "quick" not in again and "peaceful coexistence" in again
    # and every other reader of the index too
    assert "quick" not in ok(cli("kwic", "quick brown", "--corpus", "tiny", "--store", store, "-f", "csv")).split("\n", 1)[1]
    q = ok(cli("query", "peaceful coexistence", "--corpus", "tiny", "--store", store, "-f", "csv", "--all-time"))
    assert q.splitlines()[1].split(",")[2] == "2"  # statements


def test_index_code_change_is_stale(tmp_path, cli, monkeypatch):
    """Every reader goes through the one freshness check: a different code hash rebuilds."""
    from analysis.phrases import index as ix

    decl = write_corpus(tmp_path, OLD)
    store = tmp_path / "S"
    ok(cli("ingest", str(decl), "--store", str(store)))
    ok(cli("phrases", "--corpus", "tiny", "--store", str(store)))
    monkeypatch.setattr(ix, "code_sha", lambda: "another-code")
    with pytest.raises(FormulaeError, match="built by other code"):
        ix.index_load("tiny", None, store)


@pytest.fixture
def versions_fresh():
    """:func:`library_versions` read again after the test (it is cached per process)."""
    from analysis.phrases.index import library_versions

    yield
    library_versions.cache_clear()


def test_index_library_upgrade_is_stale(tmp_path, cli, monkeypatch, versions_fresh):
    """An upgrade of a library that decides the forms (nltk's stemmers here) makes a stored
    index stale for every reader, naming the library and both versions; a build then makes
    it again, its shards too (their key holds the versions)."""
    from analysis.phrases import index as ix

    decl = write_corpus(tmp_path, OLD)
    store = tmp_path / "S"
    ok(cli("ingest", str(decl), "--store", str(store)))
    ok(cli("phrases", "--corpus", "tiny", "--store", str(store)))
    before = {p.name for p in (store / "tiny" / "shards" / "norm").iterdir()}
    now = ix.library_versions()
    assert ix.index_stale(read_json(store / "tiny" / "index" / "norm" / "manifest.json"),
                          read_json(store / "tiny" / "snapshot" / "manifest.json"), "norm") is None
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "99.0" if name == "nltk" else real(name))
    ix.library_versions.cache_clear()  # (and again after the test: the fixture below)
    with pytest.raises(FormulaeError, match=rf"other versions of the libraries .*\(nltk {re.escape(now['nltk'])} -> 99\.0\)"):
        ix.index_load("tiny", None, store)
    rebuilt = ok(cli("phrases", "--corpus", "tiny", "--store", str(store), "-f", "csv"))
    assert "quick brown" in rebuilt
    assert ix.index_load("tiny", None, store).manifest["libraries"]["nltk"] == "99.0"
    after = {p.name for p in (store / "tiny" / "shards" / "norm").iterdir()}
    assert after and not after & before  # every shard made again, the old ones pruned
    # an index from before versions were stamped is stale too
    manifest = read_json(store / "tiny" / "index" / "norm" / "manifest.json")
    manifest.pop("libraries")
    assert "(none recorded)" in ix.index_stale(manifest, read_json(store / "tiny" / "snapshot" / "manifest.json"), "norm")


# --- 2. dates at their precision ---------------------------------------------------------


YEARLY = [{"id": "u1", "date": "1946", "text": "peaceful coexistence is our aim. mutual respect."},
          {"id": "u2", "date": "1950", "text": "again peaceful coexistence. mutual respect matters."}]


@pytest.fixture
def yearly(tmp_path, cli):
    decl = write_corpus(tmp_path / "y", YEARLY, name="yearly", precision="year")
    store = str(tmp_path / "SY")
    ok(cli("ingest", str(decl), "--store", store))
    return store


def test_year_precision_dates_print_as_years(yearly, cli):
    """Before: months {"1946-01": ...}, kwic and lifecycle printed 1946-01-01."""
    info = json.loads(ok(cli("corpus", "info", "yearly", "--store", yearly, "--format", "json")))
    assert info["months"] == {} and info["years"] == {"1946": 1, "1950": 1}
    assert (info["first_date"], info["last_date"]) == ("1946", "1950")
    kwic = json.loads(ok(cli("kwic", "peaceful coexistence", "--corpus", "yearly", "--store", yearly, "-f", "json")))
    assert [r["date"] for r in kwic] == ["1946", "1950"]
    life = json.loads(ok(cli("timeline", "peaceful coexistence", "--corpus", "yearly", "--store", yearly,
                             "--group", "none", "--lifecycle", "-f", "json")))
    assert (life[0]["first_date"], life[0]["last_date"], life[0]["peak_period"]) == ("1946", "1950", "1950")
    out = ok(cli("timeline", "peaceful coexistence", "--corpus", "yearly", "--store", yearly, "--lifecycle"))
    assert "1946-01-01" not in out


def test_formulae_counts_first_last_ids(cli, mfa_ar, store):
    """Before: --counts had dates only (the README promised ids) and day dates as Date."""
    rows = json.loads(ok(cli("formulae", "--corpus", mfa_ar, "--store", str(store), "--counts", "-f", "json")))
    ti = next(r for r in rows if r["formula"] == "territorial-integrity")
    assert ti == {"formula": "territorial-integrity", "statements": 2, "occurrences": 2,
                  "first_date": "2025-01-28", "first_id": "mfa-ar:mid.ru:1",
                  "last_date": "2025-02-12", "last_id": "mfa-ar:mid.ru:3"}


def test_formulae_counts_year_precision(yearly, cli, tmp_path):
    lex = tmp_path / "lex.yml"
    lex.write_text("version: 1\nformulae:\n  - id: coexistence\n    label: peaceful coexistence\n"
                   "    patterns:\n      - {lang: en, phrase: peaceful coexistence}\n", encoding="utf-8")
    rows = json.loads(ok(cli("formulae", "--corpus", "yearly", "--store", yearly, "--lexicon", str(lex),
                             "--counts", "-f", "json")))
    assert [(r["first_date"], r["first_id"], r["last_date"], r["last_id"]) for r in rows] == [
        ("1946", "u1", "1950", "u2")]
    every = json.loads(ok(cli("formulae", "--corpus", "yearly", "--store", yearly, "--lexicon", str(lex), "-f", "json")))
    assert [r["date"] for r in every] == ["1946", "1950"]


# --- 5. one-line errors instead of tracebacks ------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from analysis.ingest.snapshot import corpus_ingest

    folder = tmp_path_factory.mktemp("small")
    decl = write_corpus(folder, [*OLD, dict(NEW[0], id="a3")])
    store = folder / "S"
    corpus_ingest(decl, store=store)
    return str(store)


@pytest.mark.parametrize(("args", "pattern"), [
    (["timeline", "peaceful coexistence", "--group", "bogus"], r"--group 'bogus'"),
    (["timeline", "peaceful coexistence", "--group", "id"], r"--group 'id'"),
    (["kwic", "quick", "-n", "-1"], r"--limit must be 0 or more"),
    (["kwic", "quick", "--from", "2000", "--to", "1990"], r"--from 2000 is after --to 1990"),
    (["query", "quick", "--from", "2000", "--to", "1990"], r"--from 2000 is after --to 1990"),
    (["phrases", "--limit", "-5"], r"--limit must be 0"),
])
def test_bad_arguments_are_one_line_errors(small, cli, args, pattern):
    """Before: ColumnNotFoundError, DuplicateError tracebacks; kwic -n -1 printed odd output."""
    fails(cli(*args, "--corpus", "tiny", "--store", small), pattern)


def test_lifecycle_of_a_phrase_with_no_hit(small, cli):
    """Before: ShapeError in stat_lifecycle."""
    life = json.loads(ok(cli("timeline", "zebra crossing", "--corpus", "tiny", "--store", small,
                             "--group", "none", "--lifecycle", "--by", "month", "-f", "json")))
    assert life[0]["statements"] == 0 and life[0]["first_date"] is None and life[0]["peak_period"] is None
    by_source = json.loads(ok(cli("timeline", "zebra crossing", "--corpus", "tiny", "--store", small,
                                  "--lifecycle", "-f", "json")))
    assert by_source == []


def test_refused_write_is_one_line(tmp_path, cli, monkeypatch):
    """A file system that refuses the write (read-only: errno 30) names the path, even as root."""
    import tempfile

    decl = write_corpus(tmp_path, OLD)
    store = tmp_path / "S"
    ok(cli("ingest", str(decl), "--store", str(store)))

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    fails(cli("phrases", "--corpus", "tiny", "--store", str(store)), r"S/tiny/(index|shards)/norm\S*: cannot write: Read-only")
    fails(cli("ingest", str(decl), "--store", str(store)), r"S/tiny/snapshot: cannot write: Read-only")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_store_is_one_line(tmp_path, cli):
    """Before: OSError [Errno 13/30] traceback on any write."""
    decl = write_corpus(tmp_path, OLD)
    store = tmp_path / "S"
    ok(cli("ingest", str(decl), "--store", str(store)))
    os.chmod(store / "tiny", 0o555)
    try:
        fails(cli("phrases", "--corpus", "tiny", "--store", str(store)), r"S/tiny.*cannot write")
        fails(cli("ingest", str(decl), "--store", str(store)), r"S/tiny.*cannot write")
    finally:
        os.chmod(store / "tiny", 0o755)


def test_main_turns_an_oserror_into_one_line(cli, monkeypatch):
    import sys

    app_module = sys.modules["analysis.cli.app"]

    def boom():
        raise OSError(30, "Read-only file system", "/somewhere/x")

    monkeypatch.setattr(app_module, "app", boom)
    fails(cli("anything"), r"^formulae: error: /somewhere/x: Read-only file system$")


# --- 6. path traversal -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside/x", "..", "a/b", "/etc", "Tiny", "x\n", ""])
def test_corpus_names_cannot_leave_the_store(tmp_path, cli, name):
    """Before: --corpus ../outside/x read and wrote outside the store."""
    store = tmp_path / "S"
    store.mkdir()
    for args in (["index", "--corpus", name], ["phrases", "--corpus", name], ["corpus", "info", name],
                 ["query", "x", "--corpus", name]):
        fails(cli(*args, "--store", str(store)), r"not a valid corpus name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S"]


def test_store_corpus_dir_is_the_choke_point(tmp_path):
    from analysis.store import corpus_dir

    assert corpus_dir("ungd-2024.v1", tmp_path) == tmp_path / "ungd-2024.v1"
    for bad in ("../x", "..", ".", "a/../b", "-x"):
        with pytest.raises(FormulaeError, match="not a valid corpus name"):
            corpus_dir(bad, tmp_path)


# --- 7. empty input ----------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n", '{"id": "x", "date": "2020-01-01", "text": "   "}\n'])
def test_empty_input_keeps_the_old_snapshot(tmp_path, cli, content):
    """Before: exit 0 and an empty snapshot replaced the good one."""
    decl = write_corpus(tmp_path, OLD)
    store = tmp_path / "S"
    ok(cli("ingest", str(decl), "--store", str(store)))
    before = (store / "tiny" / "snapshot" / "statements.parquet").read_bytes()
    (tmp_path / "c.jsonl").write_text(content, encoding="utf-8")
    fails(cli("ingest", str(decl), "--store", str(store)), r"tiny\.yml: no statements.*--allow-empty")
    assert (store / "tiny" / "snapshot" / "statements.parquet").read_bytes() == before
    ok(cli("ingest", str(decl), "--store", str(store), "--allow-empty"))
    info = json.loads(ok(cli("corpus", "info", "tiny", "--store", str(store), "-f", "json")))
    assert info["statements"] == 0


# --- 12. bidi controls shown inert -----------------------------------------------------------


def test_bidi_controls_inert_in_cli_but_verbatim_in_snapshot(tmp_path, cli):
    """Before: U+202E reached the terminal raw (tables, kwic) and reversed the text."""
    from analysis.ingest.snapshot import corpus_load

    spoof = "peaceful coexistence \u202ejavascript:alert(1) and \u2067more\u2069 [red]text[/red]. peaceful coexistence."
    decl = write_corpus(tmp_path, [{"id": "b1", "date": "2020-01-01", "text": spoof},
                                   {"id": "b2", "date": "2020-01-02", "text": "peaceful coexistence again."}],
                        name="bidi")
    store = str(tmp_path / "S")
    ok(cli("ingest", str(decl), "--store", store))
    assert corpus_load("bidi", store).collect()["text"].to_list()[0] == spoof  # verbatim kept
    for args in (["kwic", "peaceful coexistence"], ["corpus", "show", "bidi"]):
        out = ok(cli(*args, *([] if args[0] == "corpus" else ["--corpus", "bidi"]), "--store", store))
        assert "\u202e" not in out and "\u2067" not in out and "\u2069" not in out
        assert "⟨U+202E⟩javascript" in out and "⟨U+2067⟩more⟨U+2069⟩" in out
        if args[0] == "corpus":
            assert "[red]text[/red]" in out  # rich markup in a statement is text
    # data formats keep the verbatim text
    assert "\u202e" in ok(cli("kwic", "peaceful coexistence", "--corpus", "bidi", "--store", store, "-f", "json"))


def test_corpus_show_and_reuse_dates_at_precision(yearly, cli):
    shown = json.loads(ok(cli("corpus", "show", "yearly", "--store", yearly, "-f", "json")))
    assert [r["date"] for r in shown] == ["1946", "1950"]
    pairs = json.loads(ok(cli("reuse", "--corpus", "yearly", "--store", yearly, "--passage-min-len", "2",
                              "-f", "json")))
    assert pairs and (pairs[0]["date_a"], pairs[0]["date_b"]) == ("1946", "1950")


def test_corpus_show_and_dropped_limits(small, cli):
    """Found by the hostile test: --limit -1 (ValueError) and 99999999999 (OverflowError)."""
    for sub in ("show", "dropped"):
        fails(cli("corpus", sub, "tiny", "--store", small, "--limit", "-1"), r"--limit must be 0 or more")
        ok(cli("corpus", sub, "tiny", "--store", small, "--limit", "99999999999"))


@pytest.mark.parametrize("where", ["index", "query"])
def test_ctrl_c_is_one_line_and_status_130(tmp_path, cli, monkeypatch, where):
    """Ctrl-C: exit status 130 and one line (typer exited 130 without a word; a real SIGINT
    to a build of ungdc's process group, by hand: the same line, no temporary left)."""
    import analysis.cli.phrases as phrases_cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(phrases_cli, "index_build_shown" if where == "index" else "with_index", interrupted)
    args = ["index"] if where == "index" else ["query", "peace"]
    got = cli(*args, "--corpus", "tiny", "--store", str(tmp_path))
    assert got.returncode == 130
    assert got.stderr == "formulae: interrupted (nothing half-written is kept)\n"
