"""The concordance without polars: the texts store, the lines and their order against the
polars definition (:func:`kwic_context`, the reports' own), the CSV writer against polars'."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cli import output as output_module
from analysis.cli.output import csv_text
from analysis.ingest.periods import date_label_expr
from analysis.ingest.snapshot import corpus_ingest, corpus_load
from analysis.ingest.texts import texts_dir
from analysis.phrases.build import index_build
from analysis.phrases.check import corpus_check
from analysis.phrases.query import KWIC_SCHEMA, kwic_context, kwic_lines, query_kwic, query_phrase

# every kind of white space and line break the two regex engines might tell apart
_CHARS = "ab ،وحدة中\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000¶"


def reference(corpus: str, store, frame: pl.DataFrame, width: int) -> pl.DataFrame:
    """The concordance as it was made with polars: the statements' texts joined to the
    hits, :func:`kwic_context`, sorted by date, source, id and start."""
    hits = frame.select("doc", "start", "end")
    texts = (corpus_load(corpus, store).filter(pl.col("doc").is_in(hits["doc"].unique().implode()))
             .select("doc", "id", "source", "date", "date_precision", "text").collect())
    return (hits.join(texts, on="doc", how="left").with_columns(kwic_context(width))
            .sort(["date", "source", "id", "start"], nulls_last=True)
            .with_columns(date_label_expr().alias("date")).select(list(KWIC_SCHEMA)))


CASES = [
    ("ungd", None, "territorial integrity", {}),
    ("ungd", None, "the", {"width": 7}),
    ("ungd", None, "united nations", {"source": ["RUS", "USA"], "distinct": True}),
    ("ungd", None, "peace", {"where": "year>=2000", "date_to": "2010"}),
    ("mfa_ar", "stem", "سلامة أراضي", {"width": 15}),
    ("mfa_ar", "clitic", "سوريا", {}),
    ("cn_mfa", None, "主权和领土完整", {}),
    ("cn_mfa", None, "中方", {"width": 3}),
]


@pytest.mark.parametrize("corpus, level, phrase, options", CASES)
def test_kwic_equals_the_polars_concordance(request, store, corpus, level, phrase, options):
    """Lines, labels and order equal the polars path's, row for row, on the real corpora
    (English, Arabic with its line breaks, Chinese)."""
    name = request.getfixturevalue(corpus)
    index_build(name, level, store)
    got = query_kwic(name, phrase, level=level, store=store, **options)
    frame = got.frame
    assert frame.height > 0 and frame.schema == pl.Schema({k: getattr(pl, v) for k, v in KWIC_SCHEMA.items()})
    want = reference(name, store, frame, options.get("width", 60))
    assert frame.equals(want), (frame.head(3), want.head(3))
    limited = query_kwic(name, phrase, level=level, store=store, limit=2, **options)
    assert limited.frame.equals(want.head(2))
    assert f"showing 2 of {frame.height} lines (--limit)" in limited.notes or frame.height <= 2


PATTERNS = [
    ("ungd", None, ["respect for the * of", "(peace|war) and security", "the *{0,2} of the united nations",
                    "(Sovereignty|sovereignty) and (territorial|political)? integrity", "xyzzy * of", "the (xyzzy|peace)"]),
    ("mfa_ar", "clitic", ["(وحدة|سيادة) * أراضي", "سلامة أراضي (سوريا|الجمهورية)?", "وسيادتها *{0,2} سوريا"]),
    ("mfa_ar", "stem", ["(وحدة|سيادة) * أراضي", "سلامة أراضي (سوريا|الجمهورية)?"]),
    ("cn_mfa", None, ["(主|中) * 领", "中方 * 反对"]),
]


@pytest.mark.parametrize("corpus, level, patterns", PATTERNS)
def test_patterns_from_the_surface_map_equal_the_analyzer_path(request, store, monkeypatch, corpus, level, patterns):
    """A pattern whose words are all in the index's surface map is expanded into token ids
    there (no analyzer, no polars); its query and kwic results, notes included, equal the
    path through the analyzer's forms (taken when a word is not in the map)."""
    from analysis.phrases.index import PhraseIndex

    name = request.getfixturevalue(corpus)
    index_build(name, level, store)
    got = {p: (query_phrase(name, p, level=level, store=store), query_kwic(name, p, level=level, store=store))
           for p in patterns}
    monkeypatch.setattr(PhraseIndex, "surface_ids", lambda self, phrase: None)
    for p in patterns:
        q, k = query_phrase(name, p, level=level, store=store), query_kwic(name, p, level=level, store=store)
        assert got[p][0].frame.equals(q.frame) and got[p][0].notes == q.notes, p
        assert got[p][1].frame.equals(k.frame) and got[p][1].notes == k.notes, p
    assert any(sum(r.frame["occurrences"]) > 0 for r, _ in got.values())


def test_kwic_without_hits_keeps_its_columns(ungd, store):
    index_build(ungd, None, store)
    frame = query_kwic(ungd, "xyzzy plugh", store=store).frame
    assert frame.height == 0 and list(frame.schema) == list(KWIC_SCHEMA)
    assert frame.schema["doc"] == pl.UInt32


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_CHARS, max_size=40), st.data())
def test_kwic_lines_equal_kwic_context(text, data):
    """The Python lines and polars' (Rust's regex: its \\s is Unicode's White_Space, which
    U+001C-U+001F are not) agree on any text, match and width."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    width = data.draw(st.integers(1, 12))
    frame = pl.DataFrame({"text": [text], "start": [start], "end": [end]}).with_columns(kwic_context(width))
    assert kwic_lines(text, start, end, width) == (frame["before"][0], frame["match"][0], frame["after"][0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.text(alphabet='a,"\n\r ¶\t', max_size=6)),
                          st.integers(0, 2**32 - 1), st.one_of(st.none(), st.booleans())), min_size=0, max_size=6),
       st.integers(1, 40), st.integers(1, 9))
def test_csv_text_equals_polars_write_csv(rows, times, chunk):
    """Any strings (quoted or not, empty, null), integers and booleans, each row repeated
    (a column of repeated values is made a cell a value), written a few rows at a time."""
    rows = rows * times
    columns = {"text": [r[0] for r in rows], "n": [r[1] for r in rows], "flag": [r[2] for r in rows],
               "label": [r[0] or "" for r in rows]}
    frame = pl.DataFrame(columns, schema={"text": pl.String, "n": pl.UInt32, "flag": pl.Boolean, "label": pl.String})
    kept, output_module.CSV_CHUNK = output_module.CSV_CHUNK, chunk
    try:
        assert csv_text(columns) == frame.write_csv()
    finally:
        output_module.CSV_CHUNK = kept


def test_kwic_process_imports_no_polars(ungd, store):
    """A whole `formulae kwic` process (csv, json, the terminal's lines) is numpy alone."""
    index_build(ungd, None, store)
    query_kwic(ungd, "peace", store=store)  # the texts store made
    code = ("import sys; from analysis.cli import main; sys.argv = ['formulae', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "heavy = ('polars', 'pyarrow', 'altair', 'numba', 'pandas', 'pydivsufsort', 'distributed')\n"
            "print('LOADED', *sorted(m for m in heavy if m in sys.modules))")
    for fmt in ("csv", "json", "table"):
        out = subprocess.run([sys.executable, "-c", code, "kwic", "territorial integrity", "--corpus", ungd,
                              "--store", str(store), "-f", fmt], capture_output=True, text=True, check=True)
        assert "territorial" in out.stdout and "IRN_01_1946" in out.stdout  # the first line, by date
        assert out.stdout.splitlines()[-1] == "LOADED", out.stdout.splitlines()[-1]
    for command in ("kwic", "query"):  # a pattern of words the corpus has: the surface map too
        out = subprocess.run([sys.executable, "-c", code, command, "(sovereignty|independence) and * integrity",
                              "--corpus", ungd, "--store", str(store), "-f", "csv"], capture_output=True, text=True,
                             check=True)
        assert out.stdout.count("\n") > 2 and out.stdout.splitlines()[-1] == "LOADED", out.stdout[-300:]


def test_texts_store_made_once_remade_when_stale_or_damaged(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    rows = ['{"id": "b", "date": "2021-03-01", "text": "Peace and\\r\\n  security. Peace."}',
            '{"id": "a", "date": "2021", "text": "Peace, first."}',
            '{"id": "c", "text": "Undated peace."}']
    (folder / "c.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    decl = folder / "c.yml"
    decl.write_text("name: kw\nformat: jsonl\npath: c.jsonl\nlanguage: en\n"
                    "fields: {id: id, text: text, date: date}\n", encoding="utf-8")
    store = tmp_path / "store"
    corpus_ingest(decl, store=store)
    index_build("kw", None, store)
    got = query_kwic("kw", "peace", store=store, width=10)
    # by date (the year-only 2021 is 2021-01-01), undated last; line breaks as ¶
    assert got.frame.select("date", "id", "before", "match", "after").rows() == [
        ("2021", "a", "", "Peace", ", first."),
        ("2021-03-01", "b", "", "Peace", " and ¶ se"),  # 10 code points: " and\r\n  se"
        ("2021-03-01", "b", "security. ", "Peace", "."),
        (None, "c", "Undated ", "peace", "."),
    ]
    stamp = texts_dir("kw", store) / "texts.json"
    made = stamp.stat().st_mtime_ns
    assert query_kwic("kw", "peace", store=store).notes == [] and stamp.stat().st_mtime_ns == made  # reused
    assert [r["status"] for r in corpus_check("kw", store) if r["kind"] == "texts"] == ["ok"]
    # damaged: cut short, found on read, made again with a note; the lines unchanged
    with open(texts_dir("kw", store) / "text.bin", "r+b") as fh:
        fh.truncate(5)
    assert [r["why"] for r in corpus_check("kw", store) if r["kind"] == "texts"] == [
        "text.bin is 5 bytes, 56 when written"]
    again = query_kwic("kw", "peace", store=store, width=10)
    assert again.frame.equals(got.frame)
    assert again.notes == ["the stored texts of the corpus were damaged (text.bin is 5 bytes, 56 when written): "
                           "made again"]
    # another snapshot: made again for it
    (folder / "c.jsonl").write_text("\n".join(rows[:2]) + "\n", encoding="utf-8")
    corpus_ingest(decl, store=store)
    index_build("kw", None, store)
    assert query_kwic("kw", "peace", store=store).frame["id"].to_list() == ["a", "b", "b"]
    assert os.path.getsize(texts_dir("kw", store) / "text.bin") == len("Peace and\r\n  security. Peace.Peace, first.")
