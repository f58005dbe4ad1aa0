"""Formula candidates on the real ungdc corpus (golden properties) and the thin CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import FormulaeError
from analysis.formulae.candidates import candidate_id, formulae_candidates
from analysis.ingest.where import filter_parse
from analysis.phrases.build import index_build
from analysis.phrases.query import phrases_table
from analysis.text.function_words import function_words

DEVSET = Path(__file__).resolve().parent.parent / "data" / "formulae_devset.yml"


@pytest.fixture(scope="module")
def ungdc_ix(ungdc, store):
    index_build(ungdc, "norm", store)
    return ungdc


@pytest.fixture(scope="module")
def top(ungdc_ix, store):
    return formulae_candidates(ungdc_ix, store=store, limit=100)


def test_top_100_has_no_function_word_edge(top):
    edges = function_words("en")
    words = [p.split(" ") for p in top.frame["phrase"].to_list()]
    assert len(words) == 100
    assert [w for w in words if w[0] in edges or w[-1] in edges] == []
    assert all(len(w) >= 2 for w in words)


def test_top_100_only_attracting_pairs(top):
    f = top.frame
    assert f.filter(pl.col("g2").is_null() & (pl.col("n") <= 8)).height == 0
    assert f.filter(pl.col("g2") <= 0).height == 0
    assert f.filter(pl.col("pmi") <= 0).height == 0


def test_ingredients_are_consistent(top):
    f = top.frame
    assert f.filter(pl.col("independent") > pl.col("freq")).height == 0
    assert f.filter(pl.col("independent_statements") > pl.col("statements")).height == 0
    assert f.filter(pl.col("sources") > pl.col("statements")).height == 0
    assert f.filter(~pl.col("period_share").is_between(0, 1) | ~pl.col("dp").is_between(0, 1)).height == 0
    assert f["score"].to_list() == sorted(f["score"].to_list(), reverse=True)
    assert f["rank"].to_list() == list(range(1, 101))
    assert f["id"].to_list() == [candidate_id(p) for p in f["phrase"].to_list()]


def test_known_formulae_rank_and_names_are_flagged(ungdc_ix, store, top):
    phrases = top.frame["phrase"].to_list()
    for formula in ("international peace and security", "territorial integrity", "rule of law"):
        assert formula in phrases
    full = formulae_candidates(ungdc_ix, store=store, limit=400).frame
    flag = dict(zip(full["phrase"].to_list(), full["name"].to_list(), strict=True))
    assert flag["united nations"] and flag["security council"] and flag["middle east"]
    assert not flag["international community"] and not flag["territorial integrity"]
    # names never lead: the name weight keeps them below unflagged rows of equal strength
    assert not any(full.head(10)["name"].to_list())
    trend = dict(zip(full["phrase"].to_list(), full["trend"].to_list(), strict=True))
    assert trend["climate change"] == "rising" and trend["economic and social"] == "falling"


def test_reference_keyness(ungdc_ix, ungd, store):
    from analysis.measures import g2_critical
    from analysis.phrases.index import index_load

    index_build(ungd, "norm", store)
    res = formulae_candidates(ungdc_ix, store=store, limit=30, reference=ungd)
    f = res.frame
    assert {"ref_freq", "ref_g2", "ref_p", "ref_sig", "ref_log_ratio"} <= set(f.columns)
    crit = g2_critical(0.05, 30)
    assert f.filter((pl.col("ref_g2").abs() < crit) & (pl.col("ref_log_ratio") != 0)).height == 0
    assert f.filter((pl.col("ref_g2") * pl.col("ref_log_ratio")) < 0).height == 0  # one direction
    ref = index_load(ungd, "norm", store)
    for phrase, count in zip(f["phrase"].head(5).to_list(), f["ref_freq"].head(5).to_list(), strict=True):
        assert len(ref.find(ref.forms_of(phrase))) == count
    assert any("keyness against" in n for n in res.notes)


def test_independent_frequency_discounts_subphrases(ungdc_ix, store):
    f = formulae_candidates(ungdc_ix, store=store, limit=None).frame
    row = {p: r for p, r in zip(f["phrase"].to_list(), f.iter_rows(named=True), strict=True)}
    longer, shorter = row["maintenance of international peace and security"], row["maintenance of international peace"]
    assert shorter["freq"] >= longer["freq"]
    assert shorter["independent"] <= shorter["freq"] - longer["freq"]  # inside the longer one: dependent
    assert row["international peace and security"]["independent"] < row["international peace and security"]["freq"]


def test_no_names_and_where(ungdc_ix, store):
    res = formulae_candidates(ungdc_ix, store=store, names=False, where=filter_parse("year=1990..1999"), limit=50)
    f = res.frame
    assert f.height == 50 and not any(f["name"].to_list())
    assert any("kept by --where" in n for n in res.notes)
    assert res.params["by"] == "year" and res.params["periods"] == 10
    assert f["period_share"].max() <= 1.0


def test_phrases_sort_g2_never_ranks_repelled_pairs(ungdc_ix, store):
    frame = phrases_table(ungdc_ix, maximal=True, sort="g2", limit=300, store=store).frame
    assert frame.filter(pl.col("g2") <= 0).height == 0
    assert "the the" not in frame["phrase"].to_list() and "the of" not in frame["phrase"].to_list()
    bottom = phrases_table(ungdc_ix, n=(2, 2), sort="g2", limit=None, store=store).frame
    the_the = bottom.filter(pl.col("phrase") == "the the")
    assert the_the.height == 1 and the_the["g2"][0] < 0 and the_the["log_dice"][0] is None


def test_devset_entries_are_documented_and_occur(ungdc_ix, store):
    from analysis.phrases.index import index_load

    data = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    assert set(data) == {"ungdc", "saudinewsnet", "cn-mfa"}
    for corpus in data.values():
        for e in corpus["formulae"]:
            assert e["why"].strip() and e["found"] in ("known", "corpus"), e
    ix = index_load(ungdc_ix, "norm", store)
    missing = [e["phrase"] for e in data["ungdc"]["formulae"] if len(ix.find(ix.forms_of(e["phrase"]))) < 5]
    assert missing == []


def test_cli_candidates_json_and_accept(ungdc_ix, store, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["candidates", "--corpus", ungdc_ix, "--store", str(store), "-n", "5", "-f", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 5 and rows[0]["rank"] == 1 and {"phrase", "independent", "name", "score"} <= set(rows[0])
    lex = tmp_path / "lex.yml"
    lex.write_text((DEVSET.parent.parent.parent / "corpus" / "formulae.yml").read_text(encoding="utf-8"), encoding="utf-8")
    r = runner.invoke(app, ["candidates", "--corpus", ungdc_ix, "--store", str(store), "--accept", rows[0]["id"],
                            "--lexicon", str(lex)])
    assert r.exit_code == 0, r.output
    assert rows[0]["id"] in lex.read_text(encoding="utf-8") and rows[0]["phrase"] in lex.read_text(encoding="utf-8")
    r = runner.invoke(app, ["candidates", "--corpus", ungdc_ix, "--store", str(store), "--accept", "cand-0000000000",
                            "--lexicon", str(lex)])
    assert isinstance(r.exception, FormulaeError) and "unknown candidate" in str(r.exception)


def test_by_year_per_period_table_equals_the_timeline(ungdc_ix, store):
    from analysis.stats.timeline import stat_timeline

    res = formulae_candidates(ungdc_ix, store=store, by="year", limit=100)
    per = res.extra["periods"]
    assert per.columns == ["rank", "id", "phrase", "period", "tokens_total", "used", "freq", "statements",
                           "per_10k", "trend", "trend_p", "slope", "changes"]
    assert per.height == 100 * 79 and res.params["periods"] == 79  # every candidate x every year, zeros kept
    # per candidate, the periods add up to its counts (every ungdc speech is dated)
    sums = per.group_by("id").agg(pl.col("freq").sum(), pl.col("statements").sum())
    both = res.frame.select("id", "freq", "statements").join(sums, on="id", suffix="_p")
    assert both.filter((pl.col("freq") != pl.col("freq_p")) | (pl.col("statements") != pl.col("statements_p"))).height == 0
    # golden, and equal to formulae timeline's counts, trend and change points (another code path)
    ti = per.filter(pl.col("phrase") == "territorial integrity")
    y1990 = ti.filter(pl.col("period") == "1990").row(0, named=True)
    assert (y1990["tokens_total"], y1990["freq"], y1990["statements"]) == (482857, 95, 65)
    tl = stat_timeline(ungdc_ix, "territorial integrity", store=store, by="year", group=None)
    want = tl.frame.select(pl.col("label").alias("period"), pl.col("tokens_total").cast(pl.Int64),
                           pl.col("occurrences").alias("freq"), "statements", "per_10k")
    got = ti.select("period", "tokens_total", "freq", "statements", "per_10k").filter(pl.col("tokens_total") > 0)
    from polars.testing import assert_frame_equal

    assert_frame_equal(got, want.filter(pl.col("tokens_total") > 0), check_dtypes=False, rel_tol=1e-12)
    life = tl.extra["lifecycle"].row(0, named=True)
    assert (y1990["trend"], y1990["changes"]) == (life["trend"], life["changes"]) == (
        "rising", ["1956", "1974", "1987", "1997", "2022"])
    assert y1990["slope"] == pytest.approx(life["slope"]) and y1990["trend_p"] == pytest.approx(life["trend_p"])
    # the minimum-tokens rule: with 500,000 tokens a year only the big years are used
    strict = formulae_candidates(ungdc_ix, store=store, by="year", limit=3, min_tokens=500_000)
    used = strict.extra["periods"].filter(pl.col("used"))
    assert used["tokens_total"].min() >= 500_000 and used.height < strict.extra["periods"].height
    assert any("fewer than 500000 tokens not used" in n for n in strict.notes)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_cli_candidates_by_every_format(ungdc_ix, store, tmp_path, fmt):
    out = tmp_path / f"by.{fmt}"
    r = CliRunner().invoke(app, ["candidates", "--corpus", ungdc_ix, "--store", str(store), "--by", "year",
                                 "-n", "2", "-f", fmt, "-o", str(out)])
    assert r.exit_code == 0, r.output
    frame = (pl.read_parquet(out) if fmt == "parquet" else pl.read_json(out) if fmt == "json"
             else pl.read_csv(out))
    assert frame.height == 2 * 79 and {"period", "per_10k", "used", "trend", "slope", "changes"} <= set(frame.columns)
    assert frame["period"].cast(pl.String).head(2).to_list() == ["1946", "1947"] and frame["rank"].max() == 2


def test_trends_are_bounded_to_the_first_rows(ungdc_ix, store, monkeypatch):
    """Per-period counts and trends are computed for the first TREND_ROWS candidates only
    (a grid of every candidate x year of ungdc once took 7 GB); the rest say so (null + note)."""
    from analysis.formulae import candidates

    monkeypatch.setattr(candidates, "TREND_ROWS", 50)
    res = formulae_candidates(ungdc_ix, store=store, limit=120, by="year")
    f = res.frame
    assert f.height == 120
    assert f["trend"].head(50).null_count() == 0 and f["trend"].tail(70).null_count() == 70
    assert any("first 50 candidates only" in n for n in res.notes)
    assert res.extra["periods"]["rank"].max() == 50


class _Index:
    """What :func:`analysis.formulae.candidates._occurrences` reads of an index: its suffix array."""

    def __init__(self, sa):
        self.sa = sa

    def array(self, name):
        assert name == "sa"
        return self.sa


def test_occurrences_independence_equals_its_definition():
    """Every occurrence of every pool row, in row order, each dependent exactly when some
    other occurrence starts at its start and ends after its end, or starts before it and
    ends at or after its end (plain Python over random pools: overlapping, nested and
    repeated ranges, cores cut from longer phrases by an offset)."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from analysis.formulae.candidates import _occurrences

    @settings(max_examples=300, deadline=None)
    @given(data=st.data(), total=st.integers(1, 40))
    def check(data, total):
        sa = np.array(data.draw(st.permutations(range(total))), np.int32)
        rows = []
        for _ in range(data.draw(st.integers(0, 8))):
            lo = data.draw(st.integers(0, total - 1))
            fr = data.draw(st.integers(1, total - lo))
            top = int(sa[lo:lo + fr].max())
            offset = data.draw(st.integers(0, 2))
            if top + offset + 1 > total:
                continue
            n = data.draw(st.integers(1, total - top - offset))
            rows.append((lo, fr, offset, n))
        pool = pl.DataFrame(rows, schema={"sa_lo": pl.Int64, "freq": pl.Int64, "offset": pl.Int64, "n": pl.UInt32},
                            orient="row")
        row, pos, indep = _occurrences(_Index(sa), pool)
        occ = [(i, int(sa[r]) + o, int(sa[r]) + o + n) for i, (lo, fr, o, n) in enumerate(rows) for r in range(lo, lo + fr)]
        assert row.tolist() == [i for i, _, _ in occ] and pos.tolist() == [p for _, p, _ in occ]
        inside = [any((q == p and f > e) or (q < p and f >= e) for _, q, f in occ) for _, p, e in occ]
        assert indep.tolist() == [not x for x in inside]

    check()


def test_occurrences_refuse_a_pool_past_the_tokens():
    import numpy as np

    from analysis.formulae.candidates import _occurrences

    sa = np.array([2, 0, 1], np.int32)
    pool = pl.DataFrame({"sa_lo": [0], "freq": [1], "offset": [0], "n": [2]})
    with pytest.raises(ValueError, match="past the corpus's tokens"):
        _occurrences(_Index(sa), pool)  # position 2, two tokens: past the third
    with pytest.raises(ValueError, match="outside the suffix array"):
        _occurrences(_Index(sa), pool.with_columns(pl.lit(4).alias("freq")))
