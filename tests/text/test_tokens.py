"""Tokenisation: offsets, kinds, boundaries (hypothesis) and golden tests on mfa-ar."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import FormulaeError
from analysis.text.analyzer import Analyzer, aliases_load
from analysis.text.grammar import IDEOGRAPH
from analysis.text.tokens import tokens_build, tokens_level
from analysis.vocab import LEVELS, default_level

_PIECES = st.sampled_from(
    [
        "سلامة",
        "وَسَلامَةِ",
        "أراضيها",
        "الإتحادية",
        "ـــ",
        "٣٫٥",
        "2025",
        "3.5",
        "1,000",
        "U.N.",
        "Mr.",
        "e.g.",
        "inter-\nnational",
        "co-operation",
        "don't",
        "world’s",
        "☝️",
        "🤝",
        "🇸🇾",
        "👍🏽",
        "👨\u200d👩\u200d👧",
        "#️⃣",
        "#روسيا_سوريا",
        "#tag",
        "@user",
        "http://x.org/a?b=1.",
        "www.un.org,",
        "a.b@c.org",
        "Ёлка",
        "ё",
        "é",
        "e\u0301",
        "\u0301",
        "\u200f",
        "\ufeff",
        "\u00ad",
        ".",
        "...",
        "…",
        "!",
        "?",
        "؟",
        "؛",
        ";",
        "،",
        ",",
        ":",
        "(",
        ")",
        "«",
        "»",
        '"',
        "“",
        "”",
        "'",
        "-",
        "—",
        "$",
        "%",
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n",
        "\r\n",
        " \n \n ",
        "\u2029",
        "\u00a0",
    ]
)
TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=40).map("".join)
_HARD_END = re.compile(r"[!?؟;؛…]")


def _build(texts: list[str], language: str = "ar", line_breaks: str = "paragraph") -> pl.DataFrame:
    frame = pl.DataFrame(
        {"doc": list(range(len(texts))), "text": texts},
        schema={"doc": pl.UInt32, "text": pl.String},
    )
    return tokens_build(frame, language=language, line_breaks=line_breaks).collect()


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=4), st.sampled_from(["paragraph", "wrap"]))
def test_offsets_boundaries_and_coverage(texts: list[str], line_breaks: str) -> None:
    toks = _build(texts, "en", line_breaks)
    for doc, text in enumerate(texts):
        rows = toks.filter(pl.col("doc") == doc).to_dicts()
        assert [r["tok"] for r in rows] == list(range(len(rows)))
        covered = 0
        prev = None
        for r in rows:
            # offsets slice the verbatim text to the surface
            assert text[r["start"] : r["end"]] == r["surface"]
            assert r["start"] >= covered
            # nothing but whitespace / invisible format characters between tokens
            gap = text[covered : r["start"]]
            assert all(
                ch.isspace()
                or ch in "\u200b\u200c\u200d\u200e\u200f\ufeff\u00ad\u2060\u061c"
                or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                for ch in gap
            ), gap
            covered = r["end"]
            if r["kind"] in ("word", "number", "emoji", "hashtag", "mention"):
                assert not _HARD_END.search(r["surface"])
            if line_breaks == "paragraph" or r["kind"] != "word":
                assert "\n" not in r["surface"]
            if prev is not None:
                assert prev["sent"] <= r["sent"] and prev["para"] <= r["para"]
                assert r["sent"] - prev["sent"] <= 1 and r["para"] - prev["para"] <= 1
                between = text[prev["end"] : r["start"]]
                breaks = between.count("\n") + between.count("\u2029") - between.count("\r\n") * 0
                if breaks >= (1 if line_breaks == "paragraph" else 2):
                    assert r["para"] == prev["para"] + 1 and r["sent"] == prev["sent"] + 1
                if r["para"] != prev["para"]:
                    assert r["sent"] != prev["sent"]  # a sentence never spans paragraphs
                if (
                    prev["kind"] == "punct"
                    and _HARD_END.fullmatch(prev["surface"][-1])
                    and r["kind"] != "punct"
                ):
                    assert r["sent"] == prev["sent"] + 1
            else:
                assert r["sent"] == 0 and r["para"] == 0
            prev = r
        assert (
            text[covered:].strip(
                "".join(chr(c) for c in range(0x20))
                + " \u0085\u00a0\u2028\u2029\u200b\u200c\u200d\u200e\u200f\ufeff\u00ad\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\u2060"
            )
            == ""
        )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(TEXTS, min_size=1, max_size=3), st.sampled_from(["exact", "norm", "clitic", "stem"])
)
def test_form_stream_pieces_inside_tokens(texts: list[str], level: str) -> None:
    toks = _build(texts)
    analyzer = Analyzer.from_tokens(toks, "ar")
    forms = tokens_level(toks, level, analyzer=analyzer).collect()
    countable = toks.filter(pl.col("kind").is_in(["word", "number"]))
    assert forms.height >= countable.height
    for doc in range(len(texts)):
        f = forms.filter(pl.col("doc") == doc)
        assert f["pos"].to_list() == list(range(f.height))
        assert f["sent"].is_sorted() and f["start"].is_sorted()
        assert (f["start"] <= f["end"]).all()
        assert (f["form"].str.len_chars() > 0).all()
    # every piece lies inside one countable token; the stream's sentence is the token's,
    # split further only at punctuation next to an ideograph (so each stream sentence lies
    # inside one token sentence, and without ideographs the numbers are the same)
    spans = countable.select(
        "doc",
        pl.col("start").alias("t_start"),
        pl.col("end").alias("t_end"),
        pl.col("sent").alias("t_sent"),
    ).sort("doc", "t_start")
    inside = forms.sort("doc", "start").join_asof(
        spans,
        left_on="start",
        right_on="t_start",
        by="doc",
        strategy="backward",
        check_sortedness=False,
    )
    assert inside.filter(pl.col("t_start").is_null() | (pl.col("end") > pl.col("t_end"))).height == 0
    per = inside.group_by("doc", "sent").agg(pl.col("t_sent").n_unique().alias("k"))
    assert (per["k"] == 1).all()
    plain = inside.filter(~pl.col("form").str.contains(IDEOGRAPH).any().over("doc"))
    assert (plain["sent"] == plain["t_sent"]).all()


def test_kinds_and_english_sentences() -> None:
    text = (
        'Mr. Smith said "no." Then the U.N. met. It costs 3.5 dollars, i.e. 1,000 cents! '
        "See http://un.org/x. Ask @un_news #UNGA ☝️ now? Yes; fine… end"
    )
    toks = _build([text], "en")
    kinds = dict(zip(toks["surface"], toks["kind"], strict=True))
    assert kinds["3.5"] == "number" and kinds["1,000"] == "number"
    assert kinds["http://un.org/x"] == "url" and kinds["@un_news"] == "mention"
    assert kinds["#UNGA"] == "hashtag" and kinds["☝️"] == "emoji" and kinds["i.e."] == "word"
    sents = toks.group_by("sent", maintain_order=True).agg(pl.col("surface").str.join(" "))[
        "surface"
    ]
    assert sents.to_list() == [
        'Mr . Smith said " no . "',
        "Then the U.N . met .",
        "It costs 3.5 dollars , i.e. 1,000 cents !",
        "See http://un.org/x .",
        "Ask @un_news #UNGA ☝️ now ?",
        "Yes ;",
        "fine …",
        "end",
    ]
    forms = tokens_level(toks, "norm").collect()["form"].to_list()
    assert "☝️" not in forms and "#unga" not in forms and "http://un.org/x" not in forms
    assert forms[:4] == ["mr", "smith", "said", "no"]


def test_wrap_mode_joins_lines_and_hyphenation() -> None:
    text = "promote mutual\nrespect and inter-\nnational co-\noperation.\n\nNext paragraph"
    wrap = _build([text], "en", "wrap")
    words = wrap.filter(pl.col("kind") == "word")
    assert words["norm"].to_list() == [
        "promote",
        "mutual",
        "respect",
        "and",
        "international",
        "cooperation",
        "next",
        "paragraph",
    ]
    joined = words.filter(pl.col("norm") == "international").row(0, named=True)
    assert (
        joined["surface"] == "inter-\nnational"
        and text[joined["start"] : joined["end"]] == "inter-\nnational"
    )
    assert wrap["para"].max() == 1 and wrap.filter(pl.col("norm") == "respect")["sent"].item() == 0
    para = _build([text], "en", "paragraph")
    assert para["para"].max() == 4
    assert "international" not in para["norm"].to_list()


def test_russian_yo_and_case() -> None:
    toks = _build(["Всё ещё ЁЛКА. Россия–Сирия."], "ru")
    assert toks.filter(pl.col("kind") == "word")["norm"].to_list() == [
        "все",
        "еще",
        "елка",
        "россия",
        "сирия",
    ]
    assert toks["sent"].to_list() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_empty_and_null_texts() -> None:
    frame = pl.DataFrame(
        {"doc": [0, 1, 2], "text": ["", None, "  \n "]},
        schema={"doc": pl.UInt32, "text": pl.String},
    )
    toks = tokens_build(frame, language="ar", line_breaks="paragraph").collect()
    assert toks.height == 0
    assert toks.columns == ["doc", "para", "sent", "tok", "start", "end", "kind", "surface", "norm"]
    assert (
        tokens_level(toks, "clitic", analyzer=Analyzer.from_tokens(toks, "ar")).collect().height
        == 0
    )


def test_bad_arguments_name_the_value() -> None:
    frame = pl.DataFrame({"doc": [0], "text": ["x"]}, schema={"doc": pl.UInt32, "text": pl.String})
    with pytest.raises(FormulaeError, match="'lines'"):
        tokens_build(frame, language="ar", line_breaks="lines")
    with pytest.raises(FormulaeError, match="'lemma'"):
        tokens_level(_build(["x"]), "lemma")
    with pytest.raises(FormulaeError, match="needs an Analyzer"):
        tokens_level(_build(["x"]), "stem")
    assert set(LEVELS) == {"exact", "norm", "clitic", "stem", "lemma"}
    assert default_level("ar") == "clitic" and default_level("en") == "norm"


# --- golden tests on the real sample -------------------------------------------------


@pytest.fixture(scope="module")
def mfa(mfa_ar, store, project_root):
    from analysis.ingest.snapshot import corpus_load, corpus_manifest

    manifest = corpus_manifest(mfa_ar, store)
    toks = tokens_build(
        corpus_load(mfa_ar, store), language="ar", line_breaks=manifest["line_breaks"]
    ).collect()
    aliases = aliases_load(project_root / "corpus" / "aliases.yml")
    return toks, Analyzer.from_tokens(toks, "ar", aliases=aliases)


def _docs_with(forms: pl.DataFrame, phrase: list[str]) -> int:
    n = len(phrase)
    cols = [pl.col("form").shift(-i).over("doc").alias(f"f{i}") for i in range(n)]
    sents = [pl.col("sent").shift(-i).over("doc").alias(f"s{i}") for i in range(n)]
    grams = forms.select("doc", *cols, *sents)
    hit = pl.all_horizontal(
        [pl.col(f"f{i}") == w for i, w in enumerate(phrase)]
        + [pl.col(f"s{i}") == pl.col("s0") for i in range(n)]
    )
    return grams.filter(hit)["doc"].n_unique()


def test_mfa_ar_tokens(mfa) -> None:
    toks, _ = mfa
    assert toks["doc"].unique().to_list() == [0, 1]
    assert toks.group_by("kind").len().sort("kind").rows() == [
        ("emoji", 4),
        ("hashtag", 2),
        ("number", 2),
        ("punct", 28),
        ("word", 370),
    ]
    emoji = toks.filter(pl.col("kind") == "emoji")["surface"].to_list()
    assert emoji == ["🗓", "☝️", "🤝", "📞"]
    # الإتحادية and الاتحادية: one token after normalisation
    variants = toks.filter(pl.col("norm") == "الاتحاديه")["surface"].unique().sort().to_list()
    assert variants == ["الإتحادية", "الاتحادية"]


def test_mfa_ar_territorial_integrity_formula(mfa) -> None:
    toks, analyzer = mfa
    phrase = analyzer.query_forms("سلامة أراضي", "norm")
    assert phrase == ["سلامه", "اراضي"]
    counts = {}
    for level in ("norm", "clitic", "stem"):
        forms = tokens_level(toks, level, analyzer=analyzer).collect()
        counts[level] = _docs_with(forms, analyzer.query_forms("سلامة أراضي", level))
    exact = tokens_level(toks, "exact").collect()
    counts["exact"] = _docs_with(exact, ["سلامة", "أراضي"])
    assert counts == {"exact": 0, "norm": 0, "clitic": 1, "stem": 2}
    assert analyzer.query_forms("وسيادتها", "clitic") == ["و", "سيادتها"]
    stem = tokens_level(toks, "stem", analyzer=analyzer).collect()
    # both wordings share stems: سيادة/سيادتها and أراضي/أراضيها
    assert analyzer.query_forms("سيادة", "stem") == analyzer.query_forms("سيادتها", "stem")
    assert analyzer.query_forms("أراضي", "stem") == analyzer.query_forms("أراضيها", "stem")
    one = analyzer.query_forms("وحدة وسلامة أراضي وسيادة", "stem")
    two = analyzer.query_forms("وحدة الدولة السورية وسيادتها وسلامة أراضيها", "stem")
    assert set(one) <= set(two)
    assert _docs_with(stem, analyzer.query_forms("سيادة", "stem")) == 2
    clitic = analyzer.query_forms("وسلامة", "clitic")
    assert clitic == ["و", "سلامه"]


def test_mfa_ar_clitics_keep_whole_words(mfa) -> None:
    _, analyzer = mfa
    assert analyzer.query_forms("بوتين بناءة وزير", "clitic") == ["بوتين", "بناءه", "وزير"]
    assert analyzer.query_forms("لوحدة والاحترام للعلاقات", "clitic") == [
        "ل",
        "وحده",
        "و",
        "الاحترام",
        "ل",
        "العلاقات",
    ]


def test_mfa_ar_alias_putin(mfa) -> None:
    toks, analyzer = mfa
    exact = tokens_level(toks, "exact").collect()
    assert sorted(set(exact["form"]) & {"بوتين", "بوتن"}) == ["بوتن", "بوتين"]
    for level in ("norm", "clitic", "stem"):
        forms = tokens_level(toks, level, analyzer=analyzer).collect()
        putin = analyzer.query_forms("بوتين", level)
        assert analyzer.query_forms("بوتن", level) == putin
        assert forms.filter(pl.col("form") == putin[0]).height == 3  # 2 × بوتين + 1 × بوتن


def test_alias_variant_after_a_clitic_splits(mfa) -> None:
    """A variant behind a proclitic splits as its name does: the vocabulary counts the
    aliased forms, so the variant is looked up as its name (وبوتن was left whole)."""
    _, analyzer = mfa
    assert analyzer.parts("وبوتين") == (("و", "بوتين"), (1, 5))
    assert analyzer.parts("وبوتن") == (("و", "بوتين"), (1, 4))
    assert analyzer.parts("ولبوتن")[0] == ("و", "ل", "بوتين")
    assert analyzer.parts("وبوتينات")[0] == ("وبوتينات",)  # not a variant: as before


@pytest.fixture(scope="module")
def mfa_texts(mfa_ar, store) -> dict[int, str]:
    from analysis.ingest.snapshot import corpus_load

    frame = corpus_load(mfa_ar, store).select("doc", "text").collect()
    return dict(zip(frame["doc"].to_list(), frame["text"].to_list(), strict=True))


@pytest.mark.parametrize("level", ["exact", "norm", "clitic", "stem"])
def test_mfa_ar_query_forms_match_the_corpus_stream(mfa, mfa_texts, level) -> None:
    """Every sentence of the sample, queried as a phrase, gives the corpus's own forms."""
    toks, analyzer = mfa
    stream = tokens_level(toks, level, analyzer=analyzer).collect()
    sentences = stream.group_by("doc", "sent", maintain_order=True).agg(
        pl.col("start").min(), pl.col("end").max(), pl.col("form")
    )
    assert sentences.height >= 15
    for row in sentences.iter_rows(named=True):  # a bounded golden check (19 sentences)
        text = mfa_texts[row["doc"]][row["start"] : row["end"]]
        assert analyzer.query_forms(text, level) == row["form"], text


def test_missing_columns_are_named() -> None:
    with pytest.raises(FormulaeError, match="missing: text"):
        tokens_build(pl.DataFrame({"doc": [0]}), language="en", line_breaks="wrap")


@settings(max_examples=100, deadline=None)
@given(
    TEXTS,
    st.sampled_from(["exact", "norm", "clitic", "stem"]),
    st.sampled_from(["paragraph", "wrap"]),
)
def test_query_forms_of_any_sentence_match_the_stream(
    text: str, level: str, line_breaks: str
) -> None:
    """The phrase engine's contract: a sentence cut from the corpus and queried gives its forms."""
    toks = _build([text], "ar", line_breaks)
    analyzer = Analyzer.from_tokens(toks, "ar", line_breaks=line_breaks)
    stream = tokens_level(toks, level, analyzer=analyzer).collect()
    sentences = stream.group_by("sent", maintain_order=True).agg(
        pl.col("start").min(), pl.col("end").max(), pl.col("form")
    )
    for row in sentences.to_dicts():
        assert analyzer.query_forms(text[row["start"] : row["end"]], level) == row["form"]


def test_fingerprint_holds_the_stemmer_libraries(monkeypatch) -> None:
    """Another nltk (its stemmers) or pymorphy3 (its lemmas) may give other forms: the
    fingerprint, in every index's stamp and every kept form shard's key, changes with them."""
    import importlib.metadata

    from analysis.text.versions import library_versions

    before = Analyzer("en").fingerprint()
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0" if name == "nltk" else real(name))
    library_versions.cache_clear()  # (read once a process)
    try:
        assert Analyzer("en").fingerprint() != before
    finally:
        monkeypatch.undo()
        library_versions.cache_clear()
