"""The lexicon: validation errors name file and line; the shipped lexicon is valid and attested."""

from __future__ import annotations

import pytest

from analysis.errors import FormulaeError
from analysis.formulae.lexicon import Pattern, lexicon_load, lexicon_parse, pattern_sequences


def _write(tmp_path, text):
    p = tmp_path / "lex.yml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_lexicon_is_valid():
    lex = lexicon_load()
    ids = [f.id for f in lex.formulae]
    assert len(ids) == len(set(ids)) >= 12
    for needed in ("territorial-integrity", "mutual-respect", "traditional-friendship", "non-interference",
                   "bilateral-cooperation", "political-settlement", "constructive-businesslike",
                   "mutual-interest", "political-forces", "ethnic-religious-groups"):
        f = lex.get(needed)
        assert {"ar", "en"} <= set(f.languages), needed
    frame = lex.frame()
    assert frame.columns == ["formula", "label", "pattern", "lang", "kind", "level", "text"]
    assert lex.sha256 and len(lex.sha256) == 64


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("version: 1\nformulae:\n  - id: Bad Id\n    label: x\n    patterns: [{lang: ar, phrase: a}]\n",
         "lower-case slug", 3),
        ("version: 1\nformulae:\n  - id: a\n    label: x\n    patterns:\n      - {lang: xx, phrase: a}\n",
         "lang 'xx'", 6),
        ("version: 1\nformulae:\n  - id: a\n    label: x\n    patterns:\n      - {lang: en, all: [a, b]}\n",
         "'window'", 6),
        ("version: 1\nformulae:\n  - id: a\n    label: x\n    patterns:\n      - {lang: en, phrase: '* a'}\n",
         "cannot start or end with a gap", 6),
        ("version: 1\nformulae:\n  - id: a\n    label: x\n    patterns:\n      - {lang: en, phrase: 'a (b'}\n",
         "cannot read", 6),
        ("version: 1\nformulae:\n  - id: a\n    label: x\n    patterns: [{lang: en, phrase: a}]\n"
         "  - id: a\n    label: y\n    patterns: [{lang: en, phrase: b}]\n", "duplicate formula id", 6),
        ("version: 1\nformulae:\n  - id: a\n    label: x\n    colour: red\n    patterns: [{lang: en, phrase: a}]\n",
         "unknown key", 3),
        ("version: 1\nformulae: [\n", "invalid YAML", None),
        ("version: 2\nformulae: []\n", "unsupported lexicon version", 1),
    ],
)
def test_lexicon_errors_name_file_and_line(tmp_path, text, message, line):
    path = _write(tmp_path, text)
    with pytest.raises(FormulaeError) as info:
        lexicon_load(path)
    err = info.value
    assert message in str(err)
    assert err.file == str(path)
    if line is not None:
        assert err.line == line
    assert "\n" not in str(err)


def test_missing_lexicon_file(tmp_path):
    with pytest.raises(FormulaeError, match="cannot read lexicon"):
        lexicon_load(tmp_path / "nope.yml")


def test_pattern_expansion():
    split = str.split  # a stand-in analyzer: one form per word
    assert pattern_sequences("a b", split) == [("a", "b")]
    assert pattern_sequences("a (b|c d) e", split) == [("a", "b", "e"), ("a", "c", "d", "e")]
    assert pattern_sequences("a b? c", split) == [("a", "b", "c"), ("a", "c")]
    assert pattern_sequences("a *{0,2} c", split) == [("a", None, None, "c"), ("a", None, "c"), ("a", "c")]
    assert pattern_sequences("a * c", split) == [("a", None, "c")]
    with pytest.raises(ValueError, match="more than"):
        pattern_sequences(" ".join(["(a|b|c|d)"] * 6), split)


def test_lexicon_parse_requires_formulae():
    with pytest.raises(FormulaeError, match="non-empty list"):
        lexicon_parse({"version": 1, "formulae": []})


def test_mfa_ar_formulae_are_attested(mfa_ar, store):
    """Every formula whose note quotes the sample matches in the sample, pattern by pattern."""
    from analysis.formulae.lexicon import Formula, Lexicon
    from analysis.formulae.match import formulae_find
    from analysis.phrases.view import corpus_view

    lex = lexicon_load().for_language("ar")
    view = corpus_view(mfa_ar, store)
    quoted = [f for f in lex.formulae if f.note and "mfa-ar" in f.note]
    assert len(quoted) >= 6
    for f in quoted:
        hits = formulae_find(view, lexicon=Lexicon((f,)))
        assert hits.height >= 1, f.id
    # and a pattern that is not in the sample does not match there
    fake = Formula("x", "x", (Pattern("phrase", ("الصداقة الأبدية",), "ar"),))
    assert formulae_find(view, lexicon=Lexicon((fake,))).height == 0
