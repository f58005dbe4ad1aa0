"""Languages: what the package supports in each ISO 639-1 language, and which forms
carry content (for stopword edges and "made of stopwords only" filters)."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from ..vocab import (
    CHARACTER_LANGUAGES,
    FULL_LANGUAGES,
    LANGUAGES,
    check,
    language_levels,
)
from ..vocab import STEMMERS as LANGUAGE_STEMMERS
from .analyzer import stopwords
from .grammar import IDEOGRAPH


def languages_table(only: Iterable[str] | None = None) -> pl.DataFrame:
    """One row per ISO 639-1 code (or per code of ``only``, each checked): ``language``,
    ``levels`` (matching levels it has), ``stemmer``, ``stopwords`` (size of its
    stopwordsiso list, 0: none), ``tokens`` (``words``, or ``characters`` where the text is
    written without spaces), ``analyzer`` (``full``: clitics or stems, stopwords, lexicon
    wordings and month names; ``basic``: the Unicode word grammar at exact and norm)."""
    import stopwordsiso

    codes = sorted({check("language", c, LANGUAGES) for c in only}) if only else list(LANGUAGES)
    rows = [
        {
            "language": c,
            "levels": " ".join(language_levels(c)),
            "stemmer": LANGUAGE_STEMMERS.get(c, ""),
            "stopwords": len(stopwordsiso.stopwords(c)) if stopwordsiso.has_lang(c) else 0,
            "tokens": "characters" if c in CHARACTER_LANGUAGES else "words",
            "analyzer": "full" if c in FULL_LANGUAGES else "basic",
        }
        for c in codes
    ]
    schema = {"language": pl.String, "levels": pl.String, "stemmer": pl.String,
              "stopwords": pl.Int64, "tokens": pl.String, "analyzer": pl.String}
    return pl.DataFrame(rows, schema=schema)


def content_forms(forms: pl.Series, language: str) -> pl.Series:
    """Per form: a content word (two letters or more, or one ideograph: Chinese is
    indexed a character a token) and not a stopword of ``language``."""
    stop = pl.Series(sorted(stopwords(language)), dtype=pl.String).implode()
    wordy = (forms.str.count_matches(r"\p{L}") >= 2) | forms.str.contains(f"^{IDEOGRAPH}$")
    return (wordy & ~forms.is_in(stop)).fill_null(False)
