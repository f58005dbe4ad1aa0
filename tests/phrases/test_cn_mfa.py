"""Chinese: a character a token, sentence ends at 。！？； and line breaks, queries equal to
a plain-Python oracle on cn-mfa, maximal phrases whole."""

from __future__ import annotations

import re

import polars as pl
import pytest

from analysis.errors import FormulaeError
from analysis.phrases.build import index_build
from analysis.phrases.query import phrases_table, query_phrase
from analysis.text.normalise import normalise
from analysis.text.tokens import tokens_build, tokens_level

# statements of cn-mfa (5,008 after 9 same-source duplicates are dropped) holding each
# formula inside one sentence: checked against the oracle below, and pinned
GOLDEN = {
    "一个中国原则": 238,
    "核心利益": 102,
    "互利共赢": 191,
    "人类命运共同体": 193,
    "主权和领土完整": 138,
    "冷战思维": 148,
    "零和博弈": 62,
    "干涉中国内政": 298,
    "相互尊重": 292,
    "合作共赢": 149,
}
SENTENCE = re.compile(r"[。！？；!?;\n]")


def oracle(texts: list[str], phrase: str) -> int:
    """Statements where ``phrase`` occurs as a string inside one sentence (plain Python)."""
    return sum(any(phrase in s for s in SENTENCE.split(t)) for t in texts)


@pytest.fixture(scope="module")
def cn(cn_mfa, store):
    from analysis.ingest.snapshot import corpus_load

    index_build(cn_mfa, "norm", store)
    texts = corpus_load(cn_mfa, store).select("text").collect()["text"].to_list()
    return cn_mfa, texts


@pytest.mark.parametrize("phrase", list(GOLDEN))
def test_query_equals_the_oracle(cn, store, phrase) -> None:
    corpus, texts = cn
    got = query_phrase(corpus, phrase, level="norm", by=None, store=store).columns
    assert sum(got["statements"]) == GOLDEN[phrase] == oracle(texts, phrase)


def test_punctuation_between_characters_breaks_a_phrase(cn, store) -> None:
    """``合作、共赢`` (cooperation, win-win: 12 statements) and ``“冷战”思维`` are not the
    formulae: the index would count them if punctuation were transparent as in English."""
    corpus, texts = cn
    assert sum("合作、共赢" in t for t in texts) == 12
    assert sum(query_phrase(corpus, "合作、共赢", level="norm", by=None, store=store).columns["statements"]) == 149
    assert sum("“冷战”思维" in t for t in texts) == 3


def test_maximal_phrases_list_formulae_whole(cn, store) -> None:
    corpus, _ = cn
    frame = phrases_table(corpus, level="norm", maximal=True, limit=None, store=store).frame
    rows = frame.filter(pl.col("phrase").is_in(["人类命运共同体", "一个中国原则", "主权和领土完整"]))
    got = dict(zip(rows["phrase"].to_list(), rows["statements"].to_list(), strict=True))
    assert got == {"人类命运共同体": 193, "一个中国原则": 238, "主权和领土完整": 138}
    assert rows.filter(pl.col("phrase") == "人类命运共同体")["n"].item() == 7
    assert not frame["phrase"].str.contains("人 类").any()


def test_stem_is_not_a_chinese_level(cn, store) -> None:
    corpus, _ = cn
    with pytest.raises(FormulaeError, match="'stem' is not available for language 'zh'; it has exact, norm"):
        query_phrase(corpus, "核心利益", level="stem", store=store)


TEXT = "赵立坚：我们坚持一个中国原则。ＷＨＯ的２０２１年报告！第二段\n新段；“冷战”思维.end"


@pytest.mark.parametrize("engine", ["regex", "scan"])
def test_characters_sentences_and_full_width(engine) -> None:
    frame = pl.DataFrame({"doc": [0], "text": [TEXT]}, schema={"doc": pl.UInt32, "text": pl.String})
    toks = tokens_build(frame, language="zh", line_breaks="paragraph", engine=engine).collect()
    words = toks.filter(pl.col("kind") == "word")
    assert words["surface"].head(8).to_list() == list("赵立坚我们坚持一")
    assert words.filter(pl.col("surface") == "ＷＨＯ")["norm"].to_list() == ["who"]
    assert toks.filter(pl.col("kind") == "number")["norm"].to_list() == ["2021"]
    # 。 ！ the line break and ； end sentences; the offsets point into the verbatim text
    sents = toks.group_by("sent", maintain_order=True).agg(pl.col("start").min(), pl.col("end").max())
    pieces = [TEXT[a:b] for a, b in zip(sents["start"], sents["end"], strict=True)]
    assert pieces == ["赵立坚：我们坚持一个中国原则。", "ＷＨＯ的２０２１年报告！", "第二段", "新段；",
                      "“冷战”思维.", "end"]
    # in the form stream, the quotes inside the sentence break the phrase 冷战思维
    stream = tokens_level(toks, "norm").collect()
    sent_of = dict(zip(stream["form"].to_list(), stream["sent"].to_list(), strict=False))
    assert sent_of["战"] != sent_of["思"]


def test_full_width_letters_and_digits_fold_at_norm() -> None:
    assert normalise("ＷＨＯ　Ｇ２０，２０２２年", "zh") == "who\u3000g20，2022年"
