"""Hyphens and dashes at norm and above, on real corpus lines: a hyphenated compound is
its spaced phrase, a bound prefix joins, a dash glued between Arabic words separates."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.ingest.snapshot import corpus_load
from analysis.text.analyzer import Analyzer
from analysis.text.tokens import BOUND_PREFIXES, tokens_build, tokens_level


def _statements(corpus: str, store, needle: str) -> pl.DataFrame:
    return (corpus_load(corpus, store).filter(pl.col("text").str.contains(needle, literal=True))
            .select("doc", "text").collect())


def _spans(stream: pl.DataFrame, forms: list[str]) -> list[tuple[int, int, int]]:
    """(doc, start, end) of every occurrence of ``forms`` in one sentence of the stream."""
    out = []
    for (doc, _), part in stream.group_by("doc", "sent", maintain_order=True):
        f = part["form"].to_list()
        for i in range(len(f) - len(forms) + 1):
            if f[i : i + len(forms)] == forms:
                out.append((doc, part["start"][i], part["end"][i + len(forms) - 1]))
    return out


def test_new_world_order_matches_the_hyphenated_compound(ungdc, store) -> None:
    frame = _statements(ungdc, store, "new-world-order")
    assert frame.height == 1  # "... to the \ncentre of new-world-order politics"
    text = frame["text"][0]
    toks = tokens_build(frame, language="en", line_breaks="wrap")
    analyzer = Analyzer("en", {}, line_breaks="wrap")
    phrase = analyzer.query_forms("new world order", "norm")
    assert phrase == analyzer.query_forms("new-world-order", "norm") == ["new", "world", "order"]
    hits = _spans(tokens_level(toks, "norm", analyzer=analyzer).collect(), phrase)
    assert [text[a:b] for _, a, b in hits if "-" in text[a:b]] == ["new-world-order"]
    # the stem level too; the exact level keeps the verbatim word
    stems = analyzer.query_forms("new world order", "stem")
    assert any("-" in text[a:b] for _, a, b in _spans(tokens_level(toks, "stem", analyzer=analyzer).collect(), stems))
    exact = tokens_level(toks, "exact").collect()["form"].to_list()
    assert "new-world-order" in exact


def test_cooperation_with_and_without_the_hyphen_is_one_word(ungdc, store) -> None:
    analyzer = Analyzer("en", {}, line_breaks="wrap")
    assert analyzer.query_forms("international co-operation", "norm") == ["international", "cooperation"]
    assert analyzer.query_forms("Non-Aligned", "norm") == ["nonaligned"]
    assert analyzer.query_forms("non-self-governing", "norm") == ["non", "self", "governing"]
    assert analyzer.query_forms("self-determination", "norm") == ["self", "determination"]
    assert {"co", "non", "re"} <= BOUND_PREFIXES
    frame = _statements(ungdc, store, "international co-operation").head(3)
    toks = tokens_build(frame, language="en", line_breaks="wrap")
    hits = _spans(tokens_level(toks, "norm").collect(), ["international", "cooperation"])
    texts = dict(zip(frame["doc"], frame["text"], strict=True))
    assert {texts[d][a:b].replace("\n", " ") for d, a, b in hits} >= {"international co-operation"}


def test_a_dash_glued_between_arabic_words_separates_them(saudinewsnet, store) -> None:
    frame = _statements(saudinewsnet, store, "الشريفين-يحفظه")
    assert frame.height == 1  # "... رؤية خادم الحرمين الشريفين-يحفظه الله- في تطوير التعليم"
    text = frame["text"][0]
    toks = tokens_build(frame, language="ar", line_breaks="paragraph")
    analyzer = Analyzer.from_tokens(toks, "ar")
    for level in ("norm", "clitic", "stem"):
        phrase = analyzer.query_forms("خادم الحرمين الشريفين", level)
        stream = tokens_level(toks, level, analyzer=analyzer).collect()
        found = [text[a:b] for _, a, b in _spans(stream, phrase)]
        assert "خادم الحرمين الشريفين" in found, level
        after = analyzer.query_forms("الشريفين يحفظه الله", level)
        assert _spans(stream, after), level
    exact = tokens_level(toks, "exact").collect()["form"].to_list()
    assert "الشريفين-يحفظه" in exact  # the verbatim surface is one token; the forms split


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("Secretary-\nGeneral", ["secretary", "general"]),  # wrap-mode hyphen that norm keeps
        ("inter-\nnational", ["international"]),  # an OCR break norm joins
        ("co‑operation", ["cooperation"]),  # non-breaking hyphen U+2011
        ("peace-keeping", ["peace", "keeping"]),
        ("world's", ["world's"]),  # an apostrophe does not split
    ],
)
def test_hyphen_pieces_keep_offsets(word: str, forms: list[str]) -> None:
    frame = pl.DataFrame({"doc": [0], "text": [word]}, schema={"doc": pl.UInt32, "text": pl.String})
    stream = tokens_level(tokens_build(frame, language="en", line_breaks="wrap"), "norm").collect()
    assert stream["form"].to_list() == forms
    assert stream["start"][0] == 0 and stream["end"][-1] == len(word)
    assert stream["pos"].to_list() == list(range(len(forms)))
