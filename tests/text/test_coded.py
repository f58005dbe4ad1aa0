"""The coded form stream (what a shard is tokenised into) against its definition.

``forms_coded`` must give the rows of ``tokens_level(tokens_build(...))`` (statement,
sentence, position, offsets, form) at ``exact`` and ``norm``, and every countable surface
with the forms of its pieces: on generated texts built from the scanner's edge cases
(hyphens, bound prefixes, wrap-mode line breaks, ideographs beside punctuation) and on
every real corpus.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_scanner import TEXTS

from analysis.errors import FormulaeError
from analysis.ingest.snapshot import corpus_load
from analysis.phrases.build import surface_forms
from analysis.phrases.shards import surface_kept
from analysis.text.coded import forms_coded
from analysis.text.tokens import tokens_build, tokens_level

HYPHENS = st.sampled_from(["new-world-order", "co-operation", "Non-Aligned", "non-self-governing",
                           "anti-", "-a", "a--b", "re-\nelected", "Secretary-\n General", "x‐y", "a‑b-c",
                           "الشريفين-يحفظه", "1-2", "e.g.-", "中-国", "、", "合作、共赢", "“冷战”思维"])
MIXED = st.lists(st.one_of(TEXTS, HYPHENS), max_size=12).map(" ".join)


def _definition(statements: pl.DataFrame, level: str, line_breaks: str, language: str = "en"):
    tok = (tokens_build(statements, language=language, line_breaks=line_breaks, engine="scan")
           .filter(pl.col("kind").is_in(["word", "number"])).collect())
    stream = tokens_level(tok.lazy(), level).collect()
    return stream, surface_forms(tok, stream)  # the query map as shards made it before


def _assert_coded(statements: pl.DataFrame, level: str, line_breaks: str, language: str = "en") -> int:
    coded = forms_coded(statements, language=language, line_breaks=line_breaks, level=level)
    stream, pieces = _definition(statements, level, line_breaks, language)
    got = coded.stream.with_columns(form=coded.pieces.gather(coded.stream["code"])).drop("code")
    assert_frame_equal(got, stream)
    assert coded.surfaces["surface"].n_unique() == coded.surfaces.height
    assert_frame_equal(surface_kept(coded.surfaces), pieces)
    return stream.height


@settings(max_examples=200, deadline=None)
@given(st.lists(MIXED, min_size=1, max_size=4), st.sampled_from(["paragraph", "wrap"]),
       st.sampled_from(["norm", "exact"]))
def test_coded_equals_tokens_level(texts: list[str], line_breaks: str, level: str) -> None:
    frame = pl.DataFrame({"doc": list(range(len(texts))), "text": texts},
                         schema={"doc": pl.UInt32, "text": pl.String})
    _assert_coded(frame, level, line_breaks)


def test_coded_examples_and_edges() -> None:
    """Hyphen pieces keep their offsets into the verbatim text; an ideograph beside
    punctuation starts a clause; nulls, empty and token-less statements have no rows."""
    texts = ["The new-world-order of co-operation.", None, "", "— !", "合作、共赢。\n合作共赢",
             "re-\nelected Secretary-\nGeneral"]
    frame = pl.DataFrame({"doc": [5, 0, 1, 2, 3, 4], "text": texts}, schema={"doc": pl.UInt32, "text": pl.String})
    coded = forms_coded(frame, language="en", line_breaks="wrap", level="norm")
    rows = coded.stream.with_columns(form=coded.pieces.gather(coded.stream["code"]))
    doc5 = rows.filter(pl.col("doc") == 5)
    assert doc5["form"].to_list() == ["the", "new", "world", "order", "of", "cooperation"]
    assert doc5.select("start", "end").rows()[1:4] == [(4, 7), (8, 13), (14, 19)]
    assert doc5["pos"].to_list() == list(range(6))
    zh = rows.filter(pl.col("doc") == 3)
    assert zh["form"].to_list() == list("合作共赢合作共赢")
    assert zh["sent"].to_list() == [0, 0, 1, 1, 2, 2, 2, 2]  # 、 cuts the clause; 。 and the line end the sentence
    assert set(rows["doc"].to_list()) == {3, 4, 5}
    assert _assert_coded(frame, "norm", "wrap") == rows.height
    assert _assert_coded(frame, "exact", "wrap") == rows.height - 3  # no hyphen pieces at exact
    empty = forms_coded(frame.head(0), language="en", line_breaks="wrap", level="norm")
    assert empty.stream.height == 0 and empty.surfaces.height == 0
    with pytest.raises(FormulaeError, match="level 'stem' is not one of exact, norm"):
        forms_coded(frame, language="en", line_breaks="wrap", level="stem")


@pytest.mark.parametrize("fixture, rows, language, line_breaks, expect", [
    ("mfa_ar", None, "ar", "paragraph", 372),
    ("ungd", None, "en", "wrap", 2_819_976),
    ("cn_mfa", 1500, "zh", "paragraph", None),
    ("saudinewsnet", 3000, "ar", "paragraph", None),
    ("ungdc", 600, "en", "wrap", None),
])
def test_coded_on_real_corpora(request, store, fixture, rows, language, line_breaks, expect) -> None:
    """Every real corpus (a slice of the three large ones) at both levels: identical rows."""
    name = request.getfixturevalue(fixture)
    frame = corpus_load(name, store).select("doc", "text").collect()
    if rows:
        frame = frame.filter(pl.col("doc") < rows)
    n = _assert_coded(frame, "norm", line_breaks, language)
    _assert_coded(frame, "exact", line_breaks, language)
    if expect:
        assert n == expect
