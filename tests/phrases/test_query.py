"""query / kwic / phrases: the library results and the thin CLI over them (on the sample)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import FormulaeError
from analysis.phrases.build import index_build
from analysis.phrases.query import QUERY_COLUMNS, phrases_table, query_phrase

runner = CliRunner()


@pytest.fixture(scope="session")
def sample(mfa_ar, store):
    index_build(mfa_ar, "clitic", store)
    index_build(mfa_ar, "stem", store)
    return mfa_ar


def run(*args):
    return runner.invoke(app, [*args], catch_exceptions=True)


def test_query_json_columns(sample, store):
    r = run("query", "سلامة أراضي", "--corpus", sample, "--store", str(store), "--level", "stem",
            "--by", "month", "-f", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [list(row) for row in rows] == [list(QUERY_COLUMNS)] * 2
    assert [(x["period"], x["statements"], x["occurrences"]) for x in rows] == [("2025-01", 1, 1), ("2025-02", 1, 1)]
    tokens = [x["tokens"] for x in rows]
    assert [x["per_10k"] for x in rows] == [round(10_000 / t, 4) for t in tokens]


@pytest.mark.parametrize(("by", "periods"), [
    ("week", ["2025-01-27", "2025-02-10"]),  # Mondays
    ("quarter", ["2025-Q1"]),
    ("year", ["2025"]),
    ("day", ["2025-01-28", "2025-02-12"]),
])
def test_query_periods(sample, store, by, periods):
    r = query_phrase(sample, "سلامة أراضي", level="stem", by=by, store=store)
    assert r.columns["period"] == periods
    assert sum(r.columns["occurrences"]) == 2


def test_query_filters(sample, store):
    r = query_phrase(sample, "سلامة أراضي", level="stem", by=None, date_from="2025-02", store=store)
    assert (r.columns["statements"], r.columns["statements_total"]) == ([1], [1])
    r = query_phrase(sample, "سلامة أراضي", level="stem", by=None, date_to="2025-01-28", store=store)
    assert r.columns["statements_total"] == [1]
    with pytest.raises(FormulaeError, match="--source 'tass'.*mid.ru"):
        query_phrase(sample, "سلامة", source="tass", store=store)
    with pytest.raises(FormulaeError, match="--from '2025-13' is not a valid date"):
        query_phrase(sample, "سلامة", date_from="2025-13", store=store)
    with pytest.raises(FormulaeError, match="--by 'decade'"):
        query_phrase(sample, "سلامة", by="decade", store=store)


def test_query_slow_path_matches_fast_path(sample, store):
    # punctuation sends the phrase through the tokenizer + Analyzer: same forms, same counts
    fast = query_phrase(sample, "سلامة أراضي", level="stem", by=None, store=store)
    slow = query_phrase(sample, "سلامة، أراضي", level="stem", by=None, store=store)
    assert fast.columns == slow.columns
    # a clitic-bearing word never seen as such in the corpus still splits like the corpus
    assert sum(query_phrase(sample, "وسلامة", level="clitic", by=None, store=store).columns["statements"]) == 2


def test_query_csv_and_parquet(sample, store, tmp_path):
    r = run("query", "التعاون الثنائي", "--corpus", sample, "--store", str(store), "-f", "csv", "--all-time")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == ",".join(QUERY_COLUMNS)
    assert r.stdout.splitlines()[1].startswith("all,mid.ru,2,2,")
    out = tmp_path / "q.parquet"
    r = run("query", "التعاون الثنائي", "--corpus", sample, "--store", str(store), "-f", "parquet", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert pl.read_parquet(out).columns == list(QUERY_COLUMNS)


def test_kwic_cli(sample, store):
    r = run("kwic", "سلامة أراضي", "--corpus", sample, "--store", str(store), "--level", "stem", "-w", "15")
    assert r.exit_code == 0, r.output
    assert "⟦سلامة أراضي⟧" in r.stdout and "⟦سلامة أراضيها⟧" in r.stdout
    assert r.stdout.index("2025-01-28") < r.stdout.index("2025-02-12")
    r = run("kwic", "سلامة أراضي", "--corpus", sample, "--store", str(store), "--level", "stem", "-f", "json")
    rows = json.loads(r.stdout)
    assert [x["match"] for x in rows] == ["سلامة أراضي", "سلامة أراضيها"]
    assert set(rows[0]) == {"date", "source", "id", "before", "match", "after", "doc", "start", "end"}


def test_phrases_table(sample, store):
    frame = phrases_table(sample, level="clitic", n=(3, 3), store=store).frame
    assert frame.height > 0 and set(frame["n"].to_list()) == {3}
    assert frame["statements"].is_sorted(descending=True)
    frame = phrases_table(sample, level="clitic", maximal=True, store=store).frame
    assert "تم التاكيد علي اهميه" in frame["phrase"].to_list()
    per = phrases_table(sample, level="clitic", by="month", limit=3, store=store).frame
    assert per.columns == ["phrase", "n", "period", "statements", "occurrences"]
    assert set(per["period"].to_list()) == {"2025-01", "2025-02"}
    with pytest.raises(FormulaeError, match="--sort 'x'"):
        phrases_table(sample, level="clitic", sort="x", store=store)


def _phrases_by_oracle(corpus, store, by, **kw):
    """``phrases --by``'s per-period rows as the index defines them: each row's counts by
    statement (``statement_counts``, every occurrence expanded) joined with the statements'
    dates, grouped by polars; statements dated more coarsely than ``by`` left out."""
    from analysis.phrases.index import index_load
    from analysis.vocab import PERIOD_STEP, precision_rank

    frame = phrases_table(corpus, store=store, **kw).frame
    ix = index_load(corpus, kw.get("level"), store)
    rows = ix.table("ngrams").filter(pl.col("n") >= 2).collect()  # the rows' sa_lo and freq, found by phrase
    rows = rows.with_columns(ix.phrases(rows)).join(frame.select("phrase", "n"), on=["phrase", "n"], how="semi")
    rows = frame.select("phrase", "n").with_row_index("row").join(rows, on=["phrase", "n"], maintain_order="left")
    docs = ix.table("docs").select("doc", "date", "date_precision").collect()
    fine = {"day": 0, "month": 2, "year": 4, "none": 9}
    docs = docs.filter(pl.col("date").is_not_null()
                       & (pl.col("date_precision").replace_strict(fine, return_dtype=pl.Int8) <= precision_rank(by)))
    counts = ix.statement_counts(rows.select("sa_lo", "freq")).join(docs, on="doc")
    per = (counts.with_columns(pl.col("date").dt.truncate(PERIOD_STEP[by]).alias("_p"))
           .group_by("row", "_p").agg(pl.len().alias("statements"), pl.col("count").sum().alias("occurrences")))
    return per.join(rows.select(pl.col("row").cast(pl.UInt32), "phrase", "n"), on="row").sort("row", "_p")


@pytest.mark.parametrize(("by", "kw"), [("year", {}), ("month", {"n": (3, 5)}), ("week", {"sort": "phrase", "limit": 40}),
                                        ("day", {"limit": 300})])
def test_phrases_by_period_equal_each_statements_counts(ungd, sample, store, by, kw):
    """``phrases --by``: every (phrase, period) row equals the sums of the phrase's counts
    by statement over that period's statements, on ungd (dated by year: every statement
    left out below ``--by year``, and said so) and on the Arabic seed (dated by day)."""
    index_build(ungd, None, store)  # reused once built
    for corpus, level in ((ungd, None), (sample, "clitic")):
        r = phrases_table(corpus, level=level, by=by, store=store, **kw)
        want = _phrases_by_oracle(corpus, store, by, level=level, **kw)
        assert r.frame.columns == ["phrase", "n", "period", "statements", "occurrences"]
        assert r.frame.height == want.height
        assert r.frame.select("phrase", "n").equals(want.select("phrase", "n"))
        assert r.frame["statements"].to_list() == want["statements"].to_list()
        assert r.frame["occurrences"].to_list() == want["occurrences"].to_list()
        if corpus == ungd and by != "year":
            assert r.frame.height == 0 and any("dated more coarsely than --by" in n for n in r.notes)
        else:
            assert r.frame.height > 10 and (r.frame["occurrences"] >= r.frame["statements"]).all()


def test_phrases_cli(sample, store):
    r = run("phrases", "--corpus", sample, "--store", str(store), "--maximal", "-f", "json", "--limit", "5")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 5 and {"phrase", "n", "freq", "statements", "dp", "g2", "log_dice", "pmi"} <= set(rows[0])
    r = run("phrases", "--corpus", sample, "--store", str(store), "--n", "x..y")
    assert isinstance(r.exception, FormulaeError)


def test_missing_index_is_built_by_the_cli(sample, store):
    import shutil

    shutil.rmtree(store / sample / "index" / "exact", ignore_errors=True)  # other tests may have built it
    assert not (store / sample / "index" / "exact").exists()
    r = run("query", "سلامة", "--corpus", sample, "--store", str(store), "--level", "exact", "-f", "json")
    assert r.exit_code == 0, r.output
    assert (store / sample / "index" / "exact" / "manifest.json").exists()


@pytest.mark.parametrize("command", ["index", "query", "kwic", "phrases"])
def test_help_has_an_example(command):
    r = run(command, "--help")
    assert r.exit_code == 0 and "Example" in r.stdout and "--format" in r.stdout and "--store" in r.stdout


def test_kwic_context_is_one_definition():
    """The concordance line of the CLI and of the reports: verbatim context, line breaks
    (with the white space around them) as ¶, other spacing kept, width counted in code
    points from the match."""
    import polars as pl

    from analysis.phrases.query import kwic_context

    text = "أكد الوزير  على\n\n  وحدة وسلامة أراضي\r\nسوريا. ثم"
    start = text.index("وحدة")
    end = start + len("وحدة وسلامة أراضي")
    frame = pl.DataFrame({"text": [text], "start": [start], "end": [end]}).with_columns(
        kwic_context(6)
    )
    assert frame["before"][0] == "لى ¶ "  # the 6 code points "لى\n\n  "
    assert frame["match"][0] == "وحدة وسلامة أراضي"
    assert frame["after"][0] == " ¶ سوري"  # "\r\nسوري"
    wide = pl.DataFrame({"text": [text], "start": [start], "end": [end]}).with_columns(
        kwic_context(100)
    )
    assert wide["before"][0] == "أكد الوزير  على ¶ " and wide["after"][0] == " ¶ سوريا. ثم"


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_query_process_imports_no_polars(sample, store, fmt):
    """`formulae query` of words the corpus has (the surface map) is numpy alone (the whole process stays under half a
    second): a fresh interpreter runs the console entry point and lists what it imported."""
    import subprocess
    import sys

    code = ("import sys; from analysis.cli import main; sys.argv = ['formulae', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "heavy = ('polars', 'pyarrow', 'altair', 'numba', 'pandas', 'pydivsufsort', 'distributed')\n"
            "print('LOADED', *sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, "query", "روسيا", "--corpus", sample, "--level", "stem",
                          "--by", "year", "--store", str(store), "-f", fmt], capture_output=True, text=True, check=True)
    assert "415" in out.stdout and "24" in out.stdout  # the query ran: 10 occurrences in 415 tokens (240.96 per 10k)
    assert out.stdout.splitlines()[-1] == "LOADED", out.stdout.splitlines()[-1]


@pytest.mark.parametrize("sort", ["statements", "freq", "dp", "g2", "log_dice", "pmi", "n", "phrase"])
@pytest.mark.parametrize("maximal", [False, True])
def test_phrases_first_rows_are_the_whole_tables_first(ungd, store, sort, maximal):
    """`phrases --limit` reads only the first rows (polars' top-k): the same rows, in the
    same order, as the whole table sorted (ties broken by statements, freq, n, sa_lo)."""
    index_build(ungd, None, store)
    whole = phrases_table(ungd, maximal=maximal, sort=sort, limit=None, store=store)
    first = phrases_table(ungd, maximal=maximal, sort=sort, limit=25, store=store)
    assert whole.frame.height > 25
    assert first.frame.equals(whole.frame.head(25))
    assert first.notes[-1] == f"showing 25 of {whole.frame.height} phrases (--limit)"
