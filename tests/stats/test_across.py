"""Formulae across corpora: one lexicon formula in a Chinese and an English corpus."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import FormulaeError
from analysis.formulae.lexicon import lexicon_load
from analysis.stats.across import TIMELINE_COLUMNS, stat_compare_across, stat_timeline_across

runner = CliRunner()


@pytest.fixture(scope="module")
def sides(cn_mfa, ungd, store):
    return cn_mfa, ungd


def test_every_chinese_wording_occurs_in_cn_mfa(cn_mfa, store) -> None:
    from analysis.formulae.match import formulae_find

    lex = lexicon_load().for_language("zh")
    assert len(lex.formulae) >= 10
    occ = formulae_find(cn_mfa, store=store, lexicon=lex)
    found = occ.explode("patterns").group_by("formula", "patterns").len()
    want = {(f.id, i) for f in lex.formulae for i in range(len(f.patterns))}
    assert set(zip(found["formula"].to_list(), found["patterns"].to_list(), strict=True)) == want


def test_timeline_across_two_languages(sides, store) -> None:
    cn, un = sides
    res = stat_timeline_across([cn, un], "mutual-respect", store=store, by="year")
    f = res.frame
    assert tuple(f.columns) == TIMELINE_COLUMNS
    assert f["corpus"].unique(maintain_order=True).to_list() == [cn, un]
    zh = f.filter(pl.col("corpus") == cn)
    # 相互尊重 in 292 cn-mfa statements (tests/phrases/test_cn_mfa.py), 2020-2022
    assert zh["statements"].sum() == 292 and zh["label"].to_list() == ["2020", "2021", "2022"]
    assert zh["statements_total"].sum() == 5008
    en = f.filter(pl.col("corpus") == un)
    assert en["language"].unique().to_list() == ["en"] and en["statements_total"].sum() == 743
    assert any("character" in n for n in res.notes)  # per_10k is not one scale across en and zh


def test_timeline_across_errors(sides, store) -> None:
    cn, un = sides
    with pytest.raises(FormulaeError, match="has no pattern in 'zh'"):
        stat_timeline_across([un, cn], "constructive-businesslike", store=store)
    with pytest.raises(FormulaeError, match="given twice"):
        stat_timeline_across([cn, cn], "mutual-respect", store=store)
    with pytest.raises(FormulaeError, match=f"corpus '{un}': --by month is finer"):
        stat_timeline_across([cn, un], "mutual-respect", store=store, by="month")
    with pytest.raises(FormulaeError, match="'stem' is not available for language 'zh'"):
        stat_timeline_across([un, cn], "mutual-respect", store=store, level="stem")


def test_compare_across(sides, store) -> None:
    cn, un = sides
    res = stat_compare_across(cn, un, store=store)
    rows = {r["formula"]: r for r in res.frame.iter_rows(named=True)}
    ti = rows["territorial-integrity"]
    assert ti["side"] == "both" and ti["a_statements"] == 138  # 主权和领土完整
    assert rows["mutual-respect"]["a_statements"] == 292
    assert rows["mutual-interest"]["side"] == "b (no a pattern)"  # no Chinese wording in the lexicon
    assert res.params["a_statements"] == 5008 and res.params["b_statements"] == 743
    both = res.frame.filter(pl.col("side") == "both")
    assert both["g2"].to_list() == sorted(both["g2"].to_list(), reverse=True)
    # two sources of one corpus
    two = stat_compare_across(cn, cn, store=store, where_a="source=赵立坚", where_b="source=华春莹")
    assert two.params["a_statements"] + two.params["b_statements"] < 5008


def test_cli_two_corpora(sides, store) -> None:
    cn, un = sides
    res = runner.invoke(app, ["timeline", "mutual-respect", "--corpus", cn, "--corpus", un,
                              "--store", str(store), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {r["corpus"] for r in rows} == {cn, un}
    res = runner.invoke(app, ["compare", "--corpus", cn, "--corpus", un, "--store", str(store), "-f", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["side"] == "both"
    bad = runner.invoke(app, ["compare", "--corpus", cn, "--store", str(store)])
    assert bad.exit_code != 0 and "two --corpus" in str(bad.exception)
