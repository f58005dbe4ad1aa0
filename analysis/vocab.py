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

#: Matching levels, from the verbatim surface to the stem (see docs/ARCHITECTURE.md §2).
LEVELS = ("exact", "norm", "clitic", "stem")
#: Languages with a full analyzer (clitics, stems, stopwords, month names).
LANGUAGES = ("ar", "en", "ru")
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


def check(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is in ``allowed``, else a :class:`FormulaeError` naming both."""
    if value not in allowed:
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
