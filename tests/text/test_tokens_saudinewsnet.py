"""Golden tests of the text layer on the full saudinewsnet corpus (Arabic news, 2015)."""

from __future__ import annotations

import polars as pl
import pytest

from analysis.text.analyzer import Analyzer
from analysis.text.tokens import tokens_build, tokens_level

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def news(saudinewsnet, store):
    from analysis.ingest.snapshot import corpus_load, corpus_manifest

    manifest = corpus_manifest(saudinewsnet, store)
    statements = corpus_load(saudinewsnet, store)
    toks = tokens_build(statements, language="ar", line_breaks=manifest["line_breaks"]).collect()
    texts = statements.select("doc", "text").collect()
    return toks, Analyzer.from_tokens(toks, "ar"), texts


def _docs_with(forms: pl.DataFrame, phrase: list[str]) -> int:
    """Statements holding ``phrase`` as consecutive forms within one sentence."""
    cond = [pl.col("form").shift(-i) == w for i, w in enumerate(phrase)]
    cond += [
        (pl.col("doc").shift(-i) == pl.col("doc")) & (pl.col("sent").shift(-i) == pl.col("sent"))
        for i in range(len(phrase))
    ]
    return forms.filter(pl.all_horizontal(cond))["doc"].n_unique()


def test_offsets_and_kinds(news) -> None:
    toks, _, texts = news
    assert set(toks["kind"].unique()) == {
        "word",
        "number",
        "punct",
        "emoji",
        "hashtag",
        "url",
        "mention",
    }
    # every token of a sample of 300 statements slices its verbatim text
    sample = toks.filter(pl.col("doc") < 300).join(texts, on="doc")
    sliced = sample.select(
        (
            pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))
            == pl.col("surface")
        ).all()
    ).item()
    assert sliced
    # spelling variants of one word are one form after normalisation
    variants = set(toks.filter(pl.col("norm") == "الاتحاديه")["surface"].unique())
    assert {"الإتحادية", "الاتحادية", "الاتحاديـة"} <= variants


def test_clitic_level_finds_the_wordings_norm_misses(news) -> None:
    toks, analyzer, _ = news
    norm = tokens_level(toks, "norm", analyzer=analyzer).collect()
    clitic = tokens_level(toks, "clitic", analyzer=analyzer).collect()
    counts = {
        q: (
            _docs_with(norm, analyzer.query_forms(q, "norm")),
            _docs_with(clitic, analyzer.query_forms(q, "clitic")),
        )
        for q in ("الاحترام المتبادل", "عدم التدخل في الشؤون الداخلية", "الأمم المتحدة")
    }
    assert counts == {
        "الاحترام المتبادل": (17, 46),
        "عدم التدخل في الشؤون الداخلية": (9, 60),
        "الأمم المتحدة": (729, 952),
    }


@pytest.mark.parametrize(
    ("word", "pieces"),
    [
        ("وأضاف", ["و", "اضاف"]),
        ("للأمم", ["ل", "الامم"]),
        ("والاحترام", ["و", "الاحترام"]),
        ("وفي", ["و", "في"]),
        ("وحدة", ["وحده"]),
        ("وزير", ["وزير"]),
        ("ولي", ["ولي"]),
        ("فيصل", ["فيصل"]),
        ("كافة", ["كافه"]),
        ("بوتين", ["بوتين"]),
    ],
)
def test_clitic_decisions_on_news_vocabulary(news, word, pieces) -> None:
    _, analyzer, _ = news
    assert analyzer.query_forms(word, "clitic") == pieces
