"""Any ISO 639-1 language at exact and norm; stems where Snowball has the language;
the levels a language lacks are errors naming the ones it has; `formulae languages`."""

from __future__ import annotations

import gzip
import json
import re

import polars as pl
import pytest
from nltk.stem.snowball import SnowballStemmer
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import FormulaeError
from analysis.phrases.build import index_build
from analysis.phrases.query import query_phrase
from analysis.text.analyzer import Analyzer, stopwords
from analysis.text.languages import languages_table
from analysis.text.tokens import tokens_build, tokens_level
from analysis.vocab import LANGUAGES, STEMMERS, check_level, language_levels

runner = CliRunner()

FRENCH = [
    "La France réaffirme son attachement à l'intégrité territoriale de l'Ukraine.",
    "Nous appelons au respect de l’Intégrité territoriale et de la souveraineté. Le dialogue reste ouvert.",
    "Le ministre a rencontré son homologue; l'intégrité des frontières a été évoquée.",
    "INTÉGRITÉ TERRITORIALE : un principe du droit international.",
]
SPANISH = [
    "España defiende el derecho internacional y la integridad territorial de los Estados.",
    "El Derecho Internacional humanitario debe respetarse. ¿Quién lo niega?",
    "Pedimos diálogo, derecho e internacional cooperación.",
]


def _forms(texts: list[str], language: str, level: str = "norm") -> list[list[str]]:
    frame = pl.DataFrame({"doc": list(range(len(texts))), "text": texts},
                         schema={"doc": pl.UInt32, "text": pl.String})
    toks = tokens_build(frame, language=language, line_breaks="paragraph")
    analyzer = Analyzer(language, {})
    stream = tokens_level(toks, level, analyzer=analyzer).collect()
    return stream.group_by("doc", maintain_order=True).agg("form")["form"].to_list()


def test_french_and_spanish_tokenise_at_norm() -> None:
    fr = _forms(FRENCH[:2], "fr")
    assert fr[0] == ["la", "france", "réaffirme", "son", "attachement", "à", "l'intégrité",
                     "territoriale", "de", "l'ukraine"]
    # the curly apostrophe folds to ' and upper case to lower: one form for both spellings
    assert fr[1][5:8] == ["l'intégrité", "territoriale", "et"]
    es = _forms(SPANISH[1:2], "es")
    assert es[0] == ["el", "derecho", "internacional", "humanitario", "debe", "respetarse",
                     "quién", "lo", "niega"]


def test_french_stems_are_snowball_french() -> None:
    snow = SnowballStemmer("french")
    forms = _forms(["relations internationales"], "fr", "stem")[0]
    assert forms == [snow.stem("relations"), snow.stem("internationales")] == ["relat", "international"]
    # Spanish through Spanish Snowball, not English (English would give "internacion")
    assert _forms(["derechos internacionales"], "es", "stem")[0] == ["derech", "internacional"]


def _oracle(texts: list[str], phrase: str, language: str) -> int:
    """Statements holding the phrase as whole words, case-folded, inside one sentence."""
    want = phrase.lower().split()
    hits = 0
    for text in texts:
        text = text.replace("\u2019", "'").lower()
        sentences = re.split(r"[.!?;:]", text)
        hits += any(re.search(r"(?<![\w'])" + r"\s+".join(map(re.escape, want)) + r"(?![\w'])", s)
                    for s in sentences)
    return hits


@pytest.fixture(scope="module")
def romance(tmp_path_factory, store):
    """A French and a Spanish corpus of the statements above, ingested and indexed at norm."""
    from analysis.ingest.snapshot import corpus_ingest

    folder = tmp_path_factory.mktemp("romance")
    names = {}
    for lang, texts in (("fr", FRENCH), ("es", SPANISH)):
        rows = [{"id": f"{lang}{i}", "date": f"2024-0{i + 1}-01", "text": t} for i, t in enumerate(texts)]
        with gzip.open(folder / f"{lang}.jsonl.gz", "wt", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        (folder / f"{lang}.yml").write_text(
            f"name: romance-{lang}\nformat: jsonl\npath: {lang}.jsonl.gz\nlanguage: {lang}\n"
            "fields: {id: id, text: text, date: date}\n", encoding="utf-8")
        names[lang] = corpus_ingest(folder / f"{lang}.yml", store=store).corpus
        index_build(names[lang], "norm", store)
    return names


@pytest.mark.parametrize(
    ("lang", "phrase", "want"),
    [
        ("fr", "intégrité territoriale", 1),  # elided l'intégrité is one token (as English world's)
        ("fr", "l'intégrité territoriale", 2),
        ("fr", "droit international", 1),
        ("es", "derecho internacional", 2),  # not "derecho e internacional"
        ("es", "integridad territorial", 1),
    ],
)
def test_french_and_spanish_query_at_norm(romance, store, lang, phrase, want) -> None:
    texts = FRENCH if lang == "fr" else SPANISH
    got = sum(query_phrase(romance[lang], phrase, level="norm", by=None, store=store).columns["statements"])
    assert got == want == _oracle(texts, phrase, lang)


def test_a_level_the_language_lacks_names_the_levels_it_has(romance, store) -> None:
    with pytest.raises(FormulaeError, match="level 'clitic' is not available for language 'fr'; it has exact, norm, stem"):
        query_phrase(romance["fr"], "droit", level="clitic", store=store)
    with pytest.raises(FormulaeError, match="'stem' is not available for language 'zh'; it has exact, norm$"):
        check_level("stem", "zh")
    with pytest.raises(FormulaeError, match="'clitic' is not available for language 'en'"):
        Analyzer("en", {}).query_forms("relations", "clitic")


def test_language_table() -> None:
    assert len(LANGUAGES) == len(set(LANGUAGES)) == 184
    assert all(re.fullmatch("[a-z]{2}", c) for c in LANGUAGES)
    # every Snowball language nltk ships is in the table (porter is English)
    snowball = set(SnowballStemmer.languages) - {"porter", "arabic"}
    assert snowball == {STEMMERS[c] for c in STEMMERS if c != "ar"}
    assert language_levels("ar") == ("exact", "norm", "clitic", "stem")
    assert language_levels("fa") == ("exact", "norm")
    frame = languages_table()
    assert frame.height == 184
    zh = frame.filter(pl.col("language") == "zh").row(0, named=True)
    assert zh == {"language": "zh", "levels": "exact norm", "stemmer": "", "stopwords": 794,
                  "tokens": "characters", "analyzer": "basic"}
    assert stopwords("xh") == frozenset()  # no stopwordsiso list: nothing taken out
    with pytest.raises(FormulaeError, match="'xx' is not an ISO 639-1 code"):
        languages_table(["xx"])


def test_languages_command() -> None:
    res = runner.invoke(app, ["languages", "fr", "zh", "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["language"] for r in rows] == ["fr", "zh"]
    assert rows[0]["levels"] == "exact norm stem" and rows[0]["stemmer"] == "french"
    bad = runner.invoke(app, ["tokens", "bonjour", "--language", "xx"])
    assert bad.exit_code != 0 and "ISO 639-1" in str(bad.exception)


def test_forms_without_splits_are_the_norm_forms_stemmed(ungd, store) -> None:
    """English (ungd, real speeches): no token splits, so each norm piece is one piece at
    ``stem``, its stem (the stemmer called a token: the oracle), at the same offsets; the
    analyzer takes its path without list columns for a corpus without splits."""
    from analysis.ingest.snapshot import corpus_load, corpus_manifest

    manifest = corpus_manifest(ungd, store)
    tokens = tokens_build(corpus_load(ungd, store), language="en", line_breaks=manifest.get("line_breaks", "paragraph"))
    tokens = tokens.collect()
    an = Analyzer.for_corpus(manifest, tokens=tokens.lazy())
    norm = tokens_level(tokens, "norm", analyzer=an).collect()
    got = tokens_level(tokens, "stem", analyzer=an).collect()
    assert norm.height > 10_000 and got.drop("form").equals(norm.drop("form"))
    assert got["form"].to_list() == [an.stem(f) for f in norm["form"].to_list()]
