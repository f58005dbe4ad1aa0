"""One phrase language: query, kwic and timeline honour the pattern grammar on real data."""

from __future__ import annotations

import re

import numpy as np
import pytest

from analysis.errors import FormulaeError
from analysis.phrases.build import index_build
from analysis.phrases.index import index_load
from analysis.phrases.query import phrase_positions, query_kwic, query_phrase
from analysis.stats.timeline import stat_timeline
from analysis.text.pattern import is_pattern, pattern_parse


@pytest.fixture(scope="module")
def ungdc_ix(ungdc, store):
    index_build(ungdc, "norm", store)
    return ungdc


def _docs_and_count(ix, phrase):
    pos = ix.find(ix.forms_of(phrase))
    return set(ix.doc_of(pos).tolist()), len(pos)


@pytest.mark.parametrize("pattern, wordings", [
    ("(sovereignty|independence) and territorial integrity",
     ["sovereignty and territorial integrity", "independence and territorial integrity"]),
    ("peaceful settlement of (disputes|conflicts)",
     ["peaceful settlement of disputes", "peaceful settlement of conflicts"]),
    ("general and complete disarmament (under|with) effective international control",
     ["general and complete disarmament under effective international control",
      "general and complete disarmament with effective international control"]),
])
def test_pattern_query_is_union_of_literal_wordings(ungdc_ix, store, pattern, wordings):
    ix = index_load(ungdc_ix, "norm", store)
    docs, count = set(), 0
    for w in wordings:
        d, c = _docs_and_count(ix, w)
        assert c > 0, w
        docs |= d
        count += c
    res = query_phrase(ungdc_ix, pattern, by=None, store=store)
    assert sum(res.columns["occurrences"]) == count
    assert sum(res.columns["statements"]) == len(docs)
    lines = query_kwic(ungdc_ix, pattern, store=store).frame
    assert lines.height == count
    firsts = {re.findall(r"\w[\w-]*", m.lower())[0] for m in lines["match"].to_list()}
    assert firsts <= {w.split()[0] for w in wordings}
    tl = stat_timeline(ungdc_ix, pattern, store=store, group=None)
    assert tl.frame["occurrences"].sum() == count


def test_gap_and_optional_word(ungdc_ix, store):
    ix = index_load(ungdc_ix, "norm", store)
    start, end, _ = phrase_positions(ix, "respect for the * of")
    assert len(start) > 100 and (end - start == 4).all()
    ids = np.asarray(ix.array("ids"))
    assert len({int(ids[p + 3]) for p in start[:500]}) > 5  # the slot takes many fillers
    s_opt, _, _ = phrase_positions(ix, "peaceful settlement of all? disputes")
    with_all = len(ix.find(ix.forms_of("peaceful settlement of all disputes")))
    without = len(ix.find(ix.forms_of("peaceful settlement of disputes")))
    assert len(s_opt) == with_all + without


def test_constructs_a_command_cannot_honour_are_errors(ungdc_ix, store):
    for bad in ("* of the", "respect for the *", "(a|) b", "a *{3,1} b", "a ** b"):
        with pytest.raises(FormulaeError, match="phrase pattern"):
            query_phrase(ungdc_ix, bad, store=store)
    with pytest.raises(FormulaeError, match="phrase pattern"):
        stat_timeline(ungdc_ix, "* of the", store=store, group=None)


def test_grammar_units():
    assert not is_pattern("territorial integrity") and is_pattern("(a|b) c") and is_pattern("a * b")
    assert pattern_parse("a (b|c d)? *{0,2} e") == [
        ("word", "a"), ("alt", (["b", "c d"], True)), ("gap", (0, 2)), ("word", "e")]
    with pytest.raises(ValueError, match="gap"):
        pattern_parse("a *{0,9} b")


def test_timeline_lifecycle_has_the_trend(ungdc_ix, store):
    rising = stat_timeline(ungdc_ix, "climate change", store=store, group=None).extra["lifecycle"].row(0, named=True)
    assert rising["trend"] == "rising" and rising["tau"] > 0.5 and rising["slope"] > 0 and rising["trend_p"] < 1e-6
    falling = stat_timeline(ungdc_ix, "general and complete disarmament", store=store, group=None)
    row = falling.extra["lifecycle"].row(0, named=True)
    assert row["trend"] == "falling" and row["tau"] < 0 and row["periods_used"] == 79
    few = stat_timeline(ungdc_ix, "climate change", store=store, group=None, min_tokens=10**9)
    assert few.extra["lifecycle"]["trend"][0] == "too short" and any("not used for the trend" in n for n in few.notes)
