"""The vocabulary of the package: every closed set of names, defined once.

Levels, languages, line-break modes, normalisation modes, period units, date
precisions (and their order), output formats, index sort keys. Every other module,
the CLI's choice enums included (:func:`choices`), is made from these tuples; a name
that is not here is an error naming the ones that are (:func:`check`).

No imports beyond the standard library: the CLI reads this module at start-up.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import FormulaeError

#: Matching levels, from the verbatim surface to the stem (see docs/ARCHITECTURE.md §2);
#: ``lemma``: the dictionary form (pymorphy3, Russian), beside the stem.
LEVELS = ("exact", "norm", "clitic", "stem", "lemma")
#: Every ISO 639-1 code: a corpus in any of them is tokenised by the Unicode word
#: grammar and matched at ``exact`` and ``norm`` (Han, Hiragana and Katakana one
#: character a token, whatever the language).
LANGUAGES = tuple(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr
    cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv
    ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km
    kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na
    nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc
    sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt
    tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()
)
#: Languages with a full analyzer (clitics or stems, stopwords, month names, lexicon wordings).
FULL_LANGUAGES = ("ar", "en", "ru")
#: The stemmer of each language that has one (``stem`` level): NLTK's ISRI root
#: stemmer for Arabic, Snowball (ships in nltk, no download) for the rest.
STEMMERS = {
    "ar": "isri", "da": "danish", "de": "german", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "it": "italian", "nb": "norwegian",
    "nl": "dutch", "nn": "norwegian", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sv": "swedish",
}
#: Languages written without spaces between words: tokens are characters (the token
#: grammar does this for Han and kana in any text; listed here for ``formulae languages``).
CHARACTER_LANGUAGES = ("ja", "zh")
#: Character languages whose words come from a segmenter (jieba, :mod:`analysis.text.segment`)
#: where word-level steps need words (candidate edges, families); the index stays by character.
SEGMENTED_LANGUAGES = ("zh",)
#: The lemmatiser of each language that has one (``lemma`` level): pymorphy3 with its
#: OpenCorpora dictionary (offline, a package).
LEMMATIZERS = {"ru": "pymorphy3"}
#: Languages whose proclitics are split at level ``clitic``.
CLITIC_LANGUAGES = ("ar",)
#: How a single line break is read: ``paragraph`` (a break) or ``wrap`` (a space).
LINE_BREAKS = ("paragraph", "wrap")
#: Normalisation modes of the token table's ``norm`` column.
MODES = ("norm", "norm+")
#: Period units, finest first, and the polars ``dt.truncate`` step of each.
PERIODS = ("day", "week", "month", "quarter", "year")
PERIOD_STEP = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}
#: Date precisions a statement can carry, finest first (``none``: undated).
PRECISIONS = ("day", "month", "year", "none")
#: Precisions a declaration may give (an undated corpus declares none).
DECLARED_PRECISIONS = ("day", "month", "year")
#: Output formats of every command that prints a table.
FORMATS = ("table", "csv", "json", "parquet")
#: Sort keys of the recurring-phrase table (``phrases --sort``).
PHRASE_SORTS = ("statements", "freq", "n", "g2", "log_dice", "pmi", "dp", "phrase")
#: Ingest input formats.
INPUT_FORMATS = ("rawdump", "telegram", "jsonl", "csv", "folder")

# The one order of date precisions and period units: a smaller rank is finer.
_RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4, "none": 9}


def precision_rank(name: str) -> int:
    """Rank of a date precision or period unit: 0 (day) .. 4 (year), 9 (none)."""
    return _RANK[name]


def finest_period(precision: str) -> str:
    """The finest period unit a statement dated at ``precision`` can be counted in."""
    return {"day": "day", "month": "month", "year": "year"}.get(precision, "year")


def period_fits(by: str, precision: str) -> bool:
    """Whether a date of ``precision`` can be placed in a period of unit ``by``."""
    return precision != "none" and _RANK[precision] <= _RANK[by]


def default_level(language: str) -> str:
    """``clitic`` for Arabic, ``norm`` otherwise."""
    return "clitic" if language == "ar" else "norm"


def language_levels(language: str) -> tuple[str, ...]:
    """The matching levels ``language`` has: ``exact`` and ``norm`` for every ISO 639-1
    code, ``clitic`` where proclitics are split, ``stem`` where a stemmer exists,
    ``lemma`` where a lemmatiser does."""
    check("language", language, LANGUAGES)
    return tuple(
        lv for lv in LEVELS
        if lv in ("exact", "norm")
        or (lv == "clitic" and language in CLITIC_LANGUAGES)
        or (lv == "stem" and language in STEMMERS)
        or (lv == "lemma" and language in LEMMATIZERS)
    )


def check_level(level: str, language: str) -> str:
    """``level`` if ``language`` has it, else a :class:`FormulaeError` naming the levels it has."""
    check("--level", level, LEVELS)
    have = language_levels(language)
    if level not in have:
        raise FormulaeError(
            f"level {level!r} is not available for language {language!r}; it has {', '.join(have)}"
        )
    return level


def check(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is in ``allowed``, else a :class:`FormulaeError` naming both
    (long lists, such as the ISO 639-1 codes, named by what they are)."""
    if value not in allowed:
        if allowed is LANGUAGES:
            raise FormulaeError(f"{kind} {value!r} is not an ISO 639-1 code "
                                "(see `formulae languages`)")
        raise FormulaeError(f"{kind} {value!r} is not one of {', '.join(allowed)}")
    return value


COUNT_MAX = 2**31 - 1  # larger limits mean "all" (polars cannot slice past it)


def count_check(kind: str, value: int, minimum: int = 0) -> int:
    """A count argument (``--limit``, ``--top``, ...): an error below ``minimum``, capped at
    :data:`COUNT_MAX`."""
    if value < minimum:
        raise FormulaeError(f"{kind} must be {minimum} or more, got {value}")
    return min(int(value), COUNT_MAX)


def choices(name: str, values: tuple[str, ...]) -> type[StrEnum]:
    """A ``StrEnum`` of ``values`` (the CLI's choice types are made from the tuples here)."""
    return StrEnum(name, {v.replace("+", "_plus"): v for v in values})  # type: ignore[return-value]
