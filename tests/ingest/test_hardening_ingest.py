"""Ingest hardening (issue 11, items 8-10): folder front matter, error positions,
stale temporaries, one builder at a time, permissions that follow the umask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from analysis.errors import FormulaeError
from analysis.ingest.snapshot import corpus_dropped, corpus_ingest, corpus_load
from analysis.store import HOST


def folder_corpus(tmp_path: Path, files: dict[str, str]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    decl = tmp_path / "f.yml"
    decl.write_text("name: f\nformat: folder\npath: docs\nlanguage: en\n", encoding="utf-8")
    return decl


GOOD = "---\nid: g1\ndate: 2020-01-02\n---\nA good statement.\n"


# --- 8. folder front matter, error positions ---------------------------------------------


def test_unclosed_front_matter_is_an_error(tmp_path):
    """Before: the front matter (id: ..., date: ...) was ingested as statement text."""
    decl = folder_corpus(tmp_path, {"a.md": GOOD, "b.md": "---\nid: b1\ndate: 2020-01-03\nThe text, no closing line.\n"})
    with pytest.raises(FormulaeError, match=r"b\.md:1: front matter opened with '---' is never closed"):
        corpus_ingest(decl, store=tmp_path / "S")


@pytest.mark.parametrize(("bad", "line", "problem"), [
    ("---\nid: b1\ndate: 2020-01-03\nThe text, no closing line.\n", 1, "never closed"),
    ("---\nid: [b1\n---\ntext\n", 2, "not valid YAML"),
    ("---\n- a list\n---\ntext\n", 2, "must be a YAML mapping"),
])
def test_skip_bad_skips_malformed_front_matter(tmp_path, bad, line, problem):
    """Before: --skip-bad stopped at malformed front matter (or kept it as text)."""
    decl = folder_corpus(tmp_path, {"a.md": GOOD, "b.md": bad})
    res = corpus_ingest(decl, store=tmp_path / "S", skip_bad=True)
    assert res.log["records_in"] == 2 and res.log["kept"] == 1 and res.log["dropped"] == {"unparseable": 1}
    dropped = corpus_dropped("f", tmp_path / "S").collect().row(0, named=True)
    assert dropped["file"].endswith("b.md") and dropped["line"] == line and problem in dropped["detail"]
    assert corpus_load("f", tmp_path / "S").collect()["text"].to_list() == ["A good statement.\n"]


def test_bad_folder_date_names_its_line(tmp_path):
    """Before: the bad date was reported at the line the text starts (6), not the date key (4)."""
    bad = "---\nid: b1\ntitle: T\ndate: the fifth of never\nsource: x\n---\ntext\n"
    decl = folder_corpus(tmp_path, {"a.md": GOOD, "b.md": bad})
    with pytest.raises(FormulaeError, match=r"b\.md:4: unparseable date 'the fifth of never'"):
        corpus_ingest(decl, store=tmp_path / "S")
    res = corpus_ingest(decl, store=tmp_path / "S", skip_bad=True)
    assert res.log["dropped"] == {"unparseable": 1}
    assert corpus_dropped("f", tmp_path / "S").collect()["line"].to_list() == [4]


def test_bad_telegram_date_names_the_message(tmp_path):
    """Before: 'unparseable date' without any position when the export is not indented."""
    export = {"name": "chan", "messages": [
        {"id": 1, "type": "message", "date": "2020-01-01T10:00:00", "text": "one"},
        {"id": 2, "type": "message", "date": "not a date", "text": "two"}]}
    (tmp_path / "result.json").write_text(json.dumps(export), encoding="utf-8")  # one line, no indent
    decl = tmp_path / "t.yml"
    decl.write_text("name: t\nformat: telegram\npath: result.json\nlanguage: en\n", encoding="utf-8")
    with pytest.raises(FormulaeError, match=r"unparseable date 'not a date' \(message 2, id 2\)"):
        corpus_ingest(decl, store=tmp_path / "S")


# --- 9. stale temporaries, one builder at a time -------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_are_cleaned_on_the_next_write(tmp_path):
    """Before: .snapshot.tmp-* of a killed ingest stayed forever."""
    decl = folder_corpus(tmp_path, {"a.md": GOOD})
    store = tmp_path / "S"
    corpus_ingest(decl, store=store)
    base = store / "f"
    dead = dead_pid()
    left = [base / f".snapshot.tmp-{dead}-abc123", base / f".snapshot.old-{dead}-", base / "index" / f".norm.tmp-{dead}-x"]
    for p in left:
        p.mkdir(parents=True)
        (p / "statements.parquet").write_bytes(b"x" * 1000)
    alive = base / f".snapshot.tmp-{os.getppid()}-zz"  # a writer still running: left alone
    alive.mkdir()
    corpus_ingest(decl, store=store)
    assert not left[0].exists() and not left[1].exists() and alive.exists()
    from analysis.phrases.build import index_build

    index_build("f", "norm", store)
    assert not left[2].exists()


def _indexed_store(tmp_path):
    """A store with a small corpus indexed at norm: (store, the corpus's folder, its shards'
    kind folder, a dead pid, another machine's name)."""
    from analysis.phrases.build import index_build

    decl = folder_corpus(tmp_path, {"a.md": GOOD})
    store = tmp_path / "S"
    corpus_ingest(decl, store=store)
    index_build("f", "norm", store)
    base = store / "f"
    kind = next(p for p in (base / "shards").iterdir() if p.is_dir())
    dead, other = dead_pid(), "0" * 8 if HOST != "0" * 8 else "1" * 8
    return store, base, kind, dead, other


def test_killed_index_builds_leave_no_scratch_behind(tmp_path):
    """Before: a killed index build's scratch (``.merge-*`` among the shards, ``.tables-*``
    beside the index: about 500 MB on ungdc) and a killed shard's temporary of another key
    stayed forever. Now they carry the writer's pid and machine, and the next build removes
    them once that process is gone; one without a pid (an older build's) or of another
    machine (a store shared by a cluster) when it is older than a day."""
    from analysis.phrases.build import index_build

    store, base, kind, dead, other = _indexed_store(tmp_path)
    left = [kind / f".merge.tmp-{dead}@{HOST}-a", base / "index" / f".tables.tmp-{dead}-b",
            kind / f".0123abcd.tmp-{dead}@{HOST}-c"]
    old = [kind / ".merge-old1", base / "index" / ".tables-old2", kind / f".merge.tmp-{dead}@{other}-e"]
    kept = [kind / ".merge-new3", kind / f".merge.tmp-{os.getppid()}@{HOST}-d",  # maybe running: an older
            kind / f".merge.tmp-{dead}@{other}-f"]  # build, a live one, one of another machine (its pid not ours)
    for p in left + old + kept:
        p.mkdir()
        (p / "ids.npy").write_bytes(b"x" * 1000)
    for p in old:
        os.utime(p, (time.time() - 2 * 86400,) * 2)
    index_build("f", "norm", store, force=True)
    assert [p.name for p in left + old if p.exists()] == []
    assert all(p.exists() for p in kept)


def test_index_removes_a_killed_builds_scratch_when_nothing_is_rebuilt(tmp_path):
    """Before: a build killed (SIGKILL: an out-of-memory kill, a batch job's time limit) left
    its scratch (about 1 GB on ungdc: ``.tables.tmp-*`` beside the index, ``.merge.tmp-*``
    among the shards) until the next build that rebuilt something; ``formulae index`` on
    an index that is up to date kept it. Now every ``formulae index`` removes the
    temporaries of writers that are gone, anywhere in the corpus's folder, and says so;
    a live writer's, and another machine's younger than a day, stay."""
    from analysis.cli import app

    store, base, kind, dead, other = _indexed_store(tmp_path)
    left = [kind / f".merge.tmp-{dead}@{HOST}-a", base / "index" / f".tables.tmp-{dead}@{HOST}-b",
            base / "index" / f".norm.delta.tmp-{dead}@{HOST}-c", base / f".texts.tmp-{dead}@{HOST}-d"]
    kept = [kind / f".merge.tmp-{os.getppid()}@{HOST}-e", kind / f".merge.tmp-{dead}@{other}-f"]
    for p in left + kept:
        p.mkdir()
        (p / "ids.npy").write_bytes(b"x" * 300_000)
    r = CliRunner().invoke(app, ["index", "--corpus", "f", "--level", "norm", "--store", str(store), "-f", "csv"])
    assert r.exit_code == 0, r.output
    assert "removed 4 temporaries that a killed run left in the store (1.2 MB)" in r.stderr
    assert "the index was up to date" in r.stderr
    assert [p.name for p in left if p.exists()] == [] and all(p.exists() for p in kept)
    r = CliRunner().invoke(app, ["index", "--corpus", "f", "--level", "norm", "--store", str(store), "-f", "csv"])
    assert r.exit_code == 0 and "temporar" not in r.stderr


def test_concurrent_index_builds_wait_and_reuse(tmp_path, monkeypatch):
    """Before: two builds of the same corpus and level both did the full work."""
    from analysis.phrases import build

    decl = folder_corpus(tmp_path, {"a.md": GOOD, "b.md": "---\nid: b\ndate: 2020-01-03\n---\nA good statement too.\n"})
    store = tmp_path / "S"
    corpus_ingest(decl, store=store)
    calls = []
    real = build._index_write

    def slow_write(*args, **kwargs):
        calls.append(threading.get_ident())
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "_index_write", slow_write)
    out = []
    threads = [threading.Thread(target=lambda: out.append(build.index_build("f", "norm", store))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(out) == 2
    assert out[0].manifest == out[1].manifest


# --- 10. permissions follow the umask -------------------------------------------------------


def test_store_folders_follow_the_umask(tmp_path):
    """Before: snapshot and index folders were created 0700 (mkdtemp)."""
    from analysis.phrases.build import index_build

    decl = folder_corpus(tmp_path, {"a.md": GOOD, "b.md": "---\nid: b\ndate: 2020-01-03\n---\nA good statement too.\n"})
    store = tmp_path / "S"
    old = os.umask(0o002)
    try:
        corpus_ingest(decl, store=store)
        index_build("f", "norm", store)
    finally:
        os.umask(old)
    for folder in (store / "f" / "snapshot", store / "f" / "index" / "norm"):
        assert folder.stat().st_mode & 0o777 == 0o775, oct(folder.stat().st_mode)
        manifest = folder / "manifest.json"
        assert manifest.stat().st_mode & 0o777 == 0o664, oct(manifest.stat().st_mode)
    assert pl.read_parquet(store / "f" / "snapshot" / "statements.parquet").height == 2
