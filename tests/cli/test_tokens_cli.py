"""Alias tables, the Analyzer's options and the `formulae tokens` command."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import FormulaeError
from analysis.text.analyzer import Analyzer, aliases_load, stopwords


def _write(tmp_path, text: str):
    path = tmp_path / "aliases.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_alias_table_is_normalised(tmp_path) -> None:
    path = _write(tmp_path, 'aliases:\n  بوتين: [بوتن, "بُوتن"]\n  الاتحادية: الإتحاديّة\n')
    assert aliases_load(path) == {"بوتن": "بوتين"}  # الإتحادية folds to the name itself


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("aliases:\n  بوتين: [بوتن]\n  بوتينا: [بوتن]\n", 3, "listed under"),
        ("aliases:\n  بوتين: [بوتن]\n  بوتن: [بوتينن]\n", 2, "both a name and a variant"),
        ("aliases:\n  بوتين: [فلاديمير بوتن]\n", 2, "exactly one word"),
        ("names:\n  بوتين: [بوتن]\n", 1, "unknown key 'names'"),
        ("aliases: [بوتن]\n", 1, "must map each name"),
        ("aliases:\n  بوتين: [بوتن\n", None, "not valid YAML"),
    ],
)
def test_alias_table_errors_name_file_and_line(tmp_path, text, line, message) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(FormulaeError, match=message) as err:
        aliases_load(path)
    assert err.value.file == str(path)
    if line is not None:
        assert err.value.line == line


def test_missing_alias_file(tmp_path) -> None:
    with pytest.raises(FormulaeError, match="cannot read alias table"):
        aliases_load(tmp_path / "nope.yml")


def test_split_article_option_and_stemmers() -> None:
    plain = Analyzer("ar", {})
    assert plain.query_forms("والاحترام للعلاقات", "clitic") == ["و", "الاحترام", "ل", "العلاقات"]
    split = Analyzer("ar", {}, split_article=True)
    assert split.query_forms("والاحترام للعلاقات", "clitic") == [
        "و",
        "ال",
        "احترام",
        "ل",
        "ال",
        "علاقات",
    ]
    arl = Analyzer("ar", {}, stemmer="arlstem2")
    assert arl.query_forms("سيادتها", "stem") == arl.query_forms("سيادة", "stem")
    assert plain.fingerprint() != split.fingerprint() != arl.fingerprint()
    with pytest.raises(FormulaeError, match="'khoja'"):
        Analyzer("ar", {}, stemmer="khoja")


def test_corpus_counts_license_splits() -> None:
    # a rest seen often enough in the corpus licenses the split; a rare one does not
    an = Analyzer("ar", {"كتابه": 40, "وكتابه": 10, "وزبرجد": 5, "زبرجد": 1})
    assert an.split("وكتابه") == ("و", "كتابه")
    assert an.split("وزبرجد") == ("وزبرجد",)
    assert an.split("بوتين") == ("بوتين",)


def test_english_and_russian_stems() -> None:
    en = Analyzer("en", {})
    assert en.query_forms("Relations between States", "stem") == ["relat", "between", "state"]
    ru = Analyzer("ru", {})
    assert ru.query_forms("Отношения", "stem") == ["отношен"]


def test_stopwords_offline() -> None:
    ar = stopwords("ar")
    assert "في" in ar and "الي" in ar  # normalised: إلى -> الي
    assert "the" in stopwords("en") and "и" in stopwords("ru")
    with pytest.raises(FormulaeError, match="'xx'"):
        stopwords("xx")


def test_cli_tokens_json() -> None:
    result = CliRunner().invoke(
        app, ["tokens", "وأكد دعمه لوحدة وسلامة أراضيها ☝️", "--level", "stem", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["kind"] for r in rows] == ["word"] * 5 + ["emoji"]
    assert rows[3]["forms"] == "و + سلم" and rows[5]["forms"] == ""
    assert rows[4]["surface"] == "أراضيها" and rows[4]["start"] == 23


def test_cli_tokens_with_corpus_aliases(mfa_ar, store) -> None:
    result = CliRunner().invoke(
        app, ["tokens", "بوتن", "--corpus", mfa_ar, "--store", str(store), "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].endswith(",بوتين")


def test_cli_tokens_bad_level() -> None:
    import sys

    from analysis.cli import main

    argv = sys.argv
    sys.argv = ["formulae", "tokens", "x", "--level", "lemma"]
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        sys.argv = argv
    assert exit_.value.code == 2


_AR_WORD = st.text(alphabet=list("وفبكلالسمةهيأإآىؤئءتنردعحخجقصضطظغشثذزًٌٍَُِّْـ"), min_size=1, max_size=9)


@settings(max_examples=300, deadline=None)
@given(_AR_WORD, st.booleans())
def test_clitic_pieces_partition_the_word(surface: str, split_article: bool) -> None:
    from analysis.text.normalise import normalise

    norm = normalise(surface, "ar")
    if not norm:
        return
    an = Analyzer("ar", {"سلامه": 50, "كتاب": 9, "الكتاب": 9}, split_article=split_article)
    pieces = an.pieces(surface, norm)
    # offsets are contiguous and cover the verbatim word
    assert pieces[0][1] == 0 and pieces[-1][2] == len(surface)
    assert all(a[2] == b[1] for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(s < e for _, s, e in pieces)
    # each piece's verbatim span normalises to the piece, bar the alef restored in لل
    for form, s, e in pieces:
        span = normalise(surface[s:e], "ar")
        assert span == form or form == "ا" + span or (form == "ال" and span == "ل"), (
            surface,
            pieces,
        )


def test_lam_lam_offsets() -> None:
    an = Analyzer("ar", {"كتاب": 9, "الكتاب": 9})
    assert an.pieces("لِلْكِتاب", "للكتاب") == [("ل", 0, 2), ("الكتاب", 2, 9)]
    art = Analyzer("ar", {"كتاب": 9}, split_article=True)
    assert art.pieces("للكتاب", "للكتاب") == [("ل", 0, 1), ("ال", 1, 2), ("كتاب", 2, 6)]


def test_norm_plus_mode_reaches_queries() -> None:
    from analysis.text.tokens import tokens_build

    frame = pl.DataFrame(
        {"doc": [0], "text": ["مسؤول رئيس"]}, schema={"doc": pl.UInt32, "text": pl.String}
    )
    toks = tokens_build(frame, language="ar", line_breaks="paragraph", mode="norm+").collect()
    assert toks["norm"].to_list() == ["مسوول", "رييس"]
    an = Analyzer.from_tokens(toks, "ar", mode="norm+")
    assert an.query_forms("المسؤول", "norm") == ["المسوول"]
