"""Filters, timelines, comparisons and reuse on the sample; CLI wiring."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from typer.testing import CliRunner

from analysis import measures as stats
from analysis.errors import FormulaeError
from analysis.ingest.snapshot import corpus_ingest
from analysis.ingest.where import filter_parse
from analysis.phrases.query import query_phrase
from analysis.stats.across import stat_compare_across
from analysis.stats.compare import stat_compare
from analysis.stats.reuse import stat_reuse
from analysis.stats.timeline import stat_timeline


def test_filter_parse():
    df = pl.select(pl.Series("date", ["1975-01-01", "2015-06-01"]).str.to_date(),
                   pl.Series("source", ["RUS", "USA"]), pl.Series("id", ["a", "b"]),
                   pl.Series("language", ["en", "en"]))
    ids = lambda s: df.filter(filter_parse(s))["id"].to_list()  # noqa: E731
    assert ids("year=1970..1979") == ["a"]
    assert ids("date>=2015") == ["b"]
    assert ids("date=2015-06") == ["b"]
    assert ids("date<2015-06-01") == ["a"]
    assert ids("source=RUS|CHN") == ["a"]
    assert ids("source!=RUS & year>1900") == ["b"]
    for bad, msg in (("colour=red", "unknown field"), ("date<x", "not a date"), ("source<RUS", "= or !="),
                     ("year", "cannot read"), ("", "empty")):
        with pytest.raises(FormulaeError, match=msg):
            filter_parse(bad)


def test_timeline_and_lifecycle(mfa_ar, store):
    r = stat_timeline(mfa_ar, "territorial-integrity", store=store, by="month")
    f = r.frame
    assert f["statements"].to_list() == [1, 1] and f["occurrences"].to_list() == [1, 1]
    lo, hi = stats.poisson_interval(1)
    assert f["per_10k_lo"][0] == pytest.approx(lo * 1e4 / f["tokens_total"][0])
    assert f["per_10k_hi"][0] == pytest.approx(hi * 1e4 / f["tokens_total"][0])
    assert f["share_lo"][0] == pytest.approx(stats.wilson(1, 1)[0])
    assert f["peak"].sum() == 1
    life = r.extra["lifecycle"].row(0, named=True)
    assert life["first_id"] == "mfa-ar:mid.ru:1" and life["last_id"] == "mfa-ar:mid.ru:3"
    assert str(life["first_date"]) == "2025-01-28"
    # a literal phrase works too; the corpus has day precision, so --by day is allowed
    r2 = stat_timeline(mfa_ar, "التعاون الثنائي", store=store, by="day", group=None)
    assert r2.frame["occurrences"].sum() == 2
    with pytest.raises(FormulaeError, match="--by"):
        stat_timeline(mfa_ar, "التعاون الثنائي", store=store, by="decade")


def test_compare_hand_checked(mfa_ar, store):
    r = stat_compare(mfa_ar, "date<2025-02", "date>=2025-02", store=store, phrases=False)
    row = r.frame.filter(pl.col("item") == "political-settlement").row(0, named=True)
    p = r.params
    assert (row["a_occ"], row["b_occ"], row["a_st"], row["b_st"]) == (2, 0, 1, 0)
    assert row["g2"] == pytest.approx(stats.g2(2, 0, p["a_tokens"], p["b_tokens"]))
    assert row["log_ratio"] == pytest.approx(math.log2((2 / p["a_tokens"]) / (0.5 / p["b_tokens"])))
    assert row["df_g2"] == pytest.approx(stats.g2(1, 0, 1, 1, cells=4))
    assert row["status"] == "vanished in B"
    appeared = r.frame.filter(pl.col("status") == "appeared in B")["item"].to_list()
    assert set(appeared) == {"constructive-businesslike", "mutual-benefit"}
    with pytest.raises(FormulaeError, match="has no statements"):
        stat_compare(mfa_ar, "year=1990", "year=2025", store=store, phrases=False)


def test_reuse_links_the_two_statements(mfa_ar, store):
    r = stat_reuse(mfa_ar, store=store)
    assert r.frame.height == 1
    row = r.frame.row(0, named=True)
    assert (row["id_a"], row["id_b"]) == ("mfa-ar:mid.ru:1", "mfa-ar:mid.ru:3")
    assert {"territorial-integrity", "political-forces", "ethnic-religious-groups"} <= set(row["formulae"])


def test_cli_commands(mfa_ar, store):
    from analysis.cli import app

    run = CliRunner().invoke
    base = ["--corpus", mfa_ar, "--store", str(store)]
    out = run(app, ["reuse", *base, "--format", "json", "--no-families"])
    assert out.exit_code == 0, out.output
    assert "territorial-integrity" in json.loads(out.stdout)[0]["formulae"]
    out = run(app, ["timeline", "territorial-integrity", *base, "--by", "month", "--format", "csv"])
    assert out.exit_code == 0 and out.stdout.startswith("source,period,label,statements_total")
    out = run(app, ["timeline", "territorial-integrity", *base, "--by", "quarter", "--group", "none"])
    assert out.exit_code == 0, out.output
    # piped, the table keeps each row on one line (no folding to 80 columns) and the
    # period carries query's label
    assert "statements_total" in out.stdout and "2025-Q1" in out.stdout
    rows = json.loads(run(app, ["timeline", "territorial-integrity", *base, "--by", "month",
                                "--format", "json"]).stdout)
    assert [(r["period"], r["label"]) for r in rows] == [("2025-01-01", "2025-01"),
                                                          ("2025-02-01", "2025-02")]
    # a period without the formula: its Wilson lower bound is exactly 0, not 1e-17 of rounding
    rows = json.loads(run(app, ["timeline", "mutual-respect", *base, "--by", "month",
                                "--format", "json"]).stdout)
    absent = [r for r in rows if r["statements"] == 0]
    assert absent and all(r["share_lo"] == 0.0 for r in absent)
    out = run(app, ["formulae", *base, "--counts", "--format", "json"])
    assert {r["formula"] for r in json.loads(out.stdout)} >= {"political-forces"}
    out = run(app, ["lexicon", "--language", "en", "--format", "csv"])
    assert out.exit_code == 0 and "sovereignty and territorial integrity" in out.stdout
    out = run(app, ["compare", *base, "--a", "date<2025-02", "--b", "date>=2025-02", "--no-phrases",
                    "--format", "csv"])
    assert out.exit_code == 0 and "political-settlement" in out.stdout
    out = run(app, ["families", *base, "--format", "csv"])
    assert out.exit_code == 0 and out.stdout.startswith("family,canonical")


def test_reuse_cli_default_is_the_library_cap():
    """`formulae reuse --max-docs` writes its default out (no polars at CLI start-up):
    it must stay the library's, which the report's reuse section also uses."""
    import inspect

    from analysis.cli.formulae import reuse_cmd
    from analysis.stats.reuse import REUSE_MAX_DOCS, stat_reuse

    assert inspect.signature(reuse_cmd).parameters["max_docs"].default == REUSE_MAX_DOCS
    assert inspect.signature(stat_reuse).parameters["max_docs"].default == REUSE_MAX_DOCS


def test_timeline_labels_are_query_labels():
    """`timeline`'s label and `query`'s period label are one naming (two implementations:
    query's runs without polars)."""
    import datetime as dt

    import numpy as np
    import polars as pl

    from analysis.ingest.periods import period_expr, period_keys, period_label, period_label_expr

    days = [dt.date(1946, 1, 1), dt.date(2015, 7, 9), dt.date(2015, 12, 31), dt.date(2024, 2, 29),
            dt.date(2023, 1, 1), dt.date(2020, 3, 30)]
    frame = pl.DataFrame({"date": days})
    day_numbers = np.array([(d - dt.date(1970, 1, 1)).days for d in days], np.int64)
    for by in ("day", "week", "month", "quarter", "year"):
        ours = frame.select(period_expr(by)).select(period_label_expr(by))["period"].to_list()
        theirs = [period_label(int(k), by) for k in period_keys(day_numbers, by)]
        assert ours == theirs, by



@pytest.fixture(scope="module")
def no_token_year(tmp_path_factory):
    """A corpus whose 2021 statement is punctuation only: statements but no token."""
    folder = tmp_path_factory.mktemp("notoken")
    rows = [("a1", "2020-01-02", "Peaceful coexistence of nations. One two."),
            ("a2", "2021-02-02", "... !!! ---"),
            ("a3", "2022-02-02", "Peaceful coexistence again.")]
    (folder / "c.jsonl").write_text("".join(json.dumps({"id": i, "date": d, "text": t}) + "\n" for i, d, t in rows),
                                    encoding="utf-8")
    (folder / "nt.yml").write_text("name: nt\nformat: jsonl\npath: c.jsonl\nlanguage: en\n"
                                   "fields: {id: id, text: text, date: date}\n", encoding="utf-8")
    store = folder / "store"
    corpus_ingest(folder / "nt.yml", store=store)
    return store


def test_period_without_tokens_has_no_rate(no_token_year):
    """A period whose statements have no token: its rate is empty (it was NaN, its upper
    bound inf), it is never the peak or a burst, and a note names it."""
    r = stat_timeline("nt", "peaceful coexistence", store=no_token_year, by="year", group=None)
    f = r.frame
    assert f["label"].to_list() == ["2020", "2021", "2022"]
    assert f["tokens_total"].to_list() == [6, 0, 3]
    assert f["per_10k"].to_list()[1] is None and f["per_10k_hi"].to_list()[1] is None
    assert f["per_10k"].to_list()[2] == pytest.approx(1e4 / 3)
    assert not any(math.isnan(x) or math.isinf(x) for c in ("per_10k", "per_10k_lo", "per_10k_hi")
                   for x in f[c].drop_nulls().to_list())
    assert f["peak"].to_list() == [False, False, True] and not f["burst"].to_list()[1]
    assert any("1 period with statements but no token at level norm (2021)" in n for n in r.notes)
    grouped = stat_timeline("nt", "peaceful coexistence", store=no_token_year, by="year", group="source")
    assert any("(2021 nt)" in n for n in grouped.notes)
    q = query_phrase("nt", "peaceful coexistence", store=no_token_year)  # the same period: empty, not 0
    assert q.frame["tokens"].to_list() == [6, 0, 3]
    assert q.frame["per_10k"].to_list() == [pytest.approx(1e4 / 6, abs=1e-4), None, pytest.approx(1e4 / 3, abs=1e-4)]


def test_compare_side_without_tokens_is_an_error(no_token_year):
    with pytest.raises(FormulaeError, match=r"compare: A \('year=2021'\) has 1 statements but no token"):
        stat_compare("nt", "year=2021", "year!=2021", store=no_token_year, phrases=False)
    with pytest.raises(FormulaeError, match=r"compare: B \('year=2021'\) has 1 statements but no token"):
        stat_compare("nt", "year!=2021", "year=2021", store=no_token_year, phrases=False)


def test_compare_across_side_without_tokens_has_no_rate(no_token_year):
    r = stat_compare_across("nt", "nt", store=no_token_year, where_a="year=2021", where_b="year!=2021")
    row = r.frame.filter(pl.col("formula") == "peaceful-coexistence").row(0, named=True)
    assert row["a_statements"] == 0 and row["b_statements"] == 2
    assert row["a_per_10k"] is None and row["b_per_10k"] == pytest.approx(2e4 / 9)
    assert "A has no token at its level: no rate per 10k" in r.notes


def test_candidates_period_without_tokens_has_no_rate(no_token_year):
    """`candidates --by`: a period whose statements have no token has an empty rate (it
    was 0.0), as in query and timeline."""
    from analysis.formulae.candidates import formulae_candidates

    r = formulae_candidates("nt", store=no_token_year, by="year", min_statements=2)
    per = r.extra["periods"].filter(pl.col("phrase") == "peaceful coexistence")
    assert per["period"].to_list() == ["2020", "2021", "2022"] and per["tokens_total"].to_list() == [6, 0, 3]
    assert per["per_10k"].to_list() == [pytest.approx(1e4 / 6), None, pytest.approx(1e4 / 3)]


def test_compare_phrase_counts_equal_each_statements_counts(ungd, store):
    """Recurring phrases of A and B, A and B overlapping (1970-1999 in both) and leaving
    statements out (the 1960s, 2010s and on): each phrase's occurrences and statements on
    each side equal the sums of its per-statement counts (the index's
    ``statement_counts``, which expands every occurrence), and exactly the maximal phrases
    with a content word are there."""
    from analysis.stats.compare import _content_ids
    from analysis.stats.items import view_of

    a, b = "year=1946..1999", "year=1970..2009"
    r = stat_compare(ungd, a, b, store=store, lexicon=False, phrase_min_statements=3)
    got = r.frame.filter(pl.col("kind") == "phrase").select("item", "a_occ", "a_st", "b_occ", "b_st")
    view = view_of(ungd, store)
    ix = view.index(r.params["level"])
    rows = ix.table("maximal").filter(pl.col("distinct_statements") >= 3).select("sa_lo", "freq", "pos", "n").collect()
    ids, content = ix.array("ids"), _content_ids(view, r.params["level"])
    words = [ids[p:p + k] for p, k in zip(rows["pos"].to_list(), rows["n"].to_list(), strict=True)]
    with_content = pl.Series([bool(content[w].any()) for w in words])
    years = view.statements.select("doc", pl.col("date").dt.year().alias("year"))
    sides = years.select("doc", pl.col("year").is_between(1946, 1999).alias("in_a"),
                         pl.col("year").is_between(1970, 2009).alias("in_b"))
    per_doc = ix.statement_counts(rows).join(sides, on="doc")
    want = (per_doc.group_by("row").agg(
        pl.col("count").filter(pl.col("in_a")).sum().alias("a_occ"), pl.col("in_a").sum().alias("a_st"),
        pl.col("count").filter(pl.col("in_b")).sum().alias("b_occ"), pl.col("in_b").sum().alias("b_st"))
        .join(pl.DataFrame({"row": pl.Series(range(rows.height), dtype=pl.UInt32), "item": ix.phrases(rows),
                            "content": with_content}), on="row")
        .filter(pl.col("content") & ((pl.col("a_occ") + pl.col("b_occ")) > 0))
        .select("item", *(pl.col(c).cast(pl.UInt32) for c in ("a_occ", "a_st", "b_occ", "b_st"))))
    assert got.height == want.height > 1000
    assert got.sort("item").equals(want.sort("item"))
    both = got.filter((pl.col("a_st") > 0) & (pl.col("b_st") > 0))
    assert both.height > 0 and (got["a_occ"] >= got["a_st"]).all()


def test_compare_limit_gives_the_whole_tables_first_rows(ungd, store):
    """``limit`` names and measures only the rows that can come first, and gives the first
    rows of the whole table, with ``max_p`` too; ``rows`` counts them all. Cut inside a
    run of rows with equal g2 (so the order among them is the kind and phrase), and at
    more rows than there are."""
    a, b = "year=1946..1999", "year=1970..2024"
    full = stat_compare(ungd, a, b, store=store, phrase_min_statements=2)
    g2 = full.frame["g2"].to_list()
    tied = next(k for k in range(150, len(g2) - 1) if g2[k - 1] == g2[k])  # rows k-1 and k tie
    for limit in (1, 7, tied, full.frame.height + 5):
        for max_p in (None, 0.05, 1e-6):
            want = full.frame if max_p is None else full.frame.filter(pl.col("p") < max_p)
            got = stat_compare(ungd, a, b, store=store, phrase_min_statements=2, limit=limit, max_p=max_p)
            assert got.frame.equals(want.head(limit)), (limit, max_p)
            assert got.params["rows"] == want.height and got.params["items"] == full.params["items"]
    assert full.params["rows"] == full.params["items"] == full.frame.height
    with pytest.raises(FormulaeError, match="limit must be at least 1"):
        stat_compare(ungd, a, b, store=store, limit=0)
