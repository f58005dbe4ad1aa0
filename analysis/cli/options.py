"""Shared options of every command, written once (typer ``Annotated`` aliases).

One flag, one meaning in every command:

* ``-l/--level`` the matching level; ``--language`` (long only) a language code;
* ``-s/--source`` repeatable everywhere (``a|b`` also splits); an unknown source is an
  error naming the known ones;
* ``--by`` a period unit; ``--where`` the statement filter grammar
  (:mod:`analysis.ingest.where`); ``-n/--limit`` the most rows (0 = all);
* ``-f/--format table|csv|json|parquet`` and ``-o/--output FILE`` on every command that
  prints a table; ``-c/--corpus`` a corpus name; ``--store`` the store folder.

Choice types are made from :mod:`analysis.vocab`, so the CLI accepts exactly the names
the library does.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import FormulaeError
from ..vocab import FORMATS, LEVELS, PERIODS, choices, count_check

Format = choices("Format", FORMATS)
Level = choices("Level", LEVELS)
By = choices("By", PERIODS)

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $FORMULAE_STORE or ./build).", show_default=False),
]
FormatOpt = Annotated[
    Format,  # type: ignore[valid-type]
    typer.Option("--format", "-f", help="Output format: table, csv, json (list of objects) or parquet."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the table to this file instead of stdout (written atomically).",
                 show_default=False),
]
CorpusOpt = Annotated[str, typer.Option("--corpus", "-c", help="Corpus name, as ingested.")]
CorpusArg = Annotated[str, typer.Argument(help="Corpus name, as ingested.")]
CorporaOpt = Annotated[list[str], typer.Option(
    "--corpus", "-c", help="Corpus name, as ingested (repeatable: the formula in each corpus, matched with "
    "its language's patterns).")]
LevelOpt = Annotated[
    Level | None,  # type: ignore[valid-type]
    typer.Option("--level", "-l", help=f"Matching level: {', '.join(LEVELS)} (default: clitic for Arabic, "
                 "norm otherwise).", show_default=False),
]
LanguageOpt = Annotated[str, typer.Option("--language", help="Language code (ISO 639-1), e.g. ar, en, ru.")]
ByOpt = Annotated[
    By | None,  # type: ignore[valid-type]
    typer.Option("--by", help=f"Period: {', '.join(PERIODS)}.", show_default=False),
]
SourceOpt = Annotated[
    list[str] | None,
    typer.Option("--source", "-s", help="Only these sources (repeatable; a|b also works).", show_default=False),
]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", help="At most this many rows (0 = all).")]
FromOpt = Annotated[str | None, typer.Option("--from", help="First date (YYYY, YYYY-MM or YYYY-MM-DD).",
                                             show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last date, inclusive (YYYY, YYYY-MM or YYYY-MM-DD).",
                                           show_default=False)]
DistinctOpt = Annotated[bool, typer.Option(
    "--distinct", help="Leave out statements that duplicate a text under another source.")]
LexiconOpt = Annotated[Path | None, typer.Option(
    "--lexicon", help="Lexicon file (default: $FORMULAE_LEXICON or corpus/formulae.yml).", show_default=False)]
WhereOpt = Annotated[str | None, typer.Option(
    "--where", help="Statement filter, e.g. 'year=1990..1999 & source!=USA'.", show_default=False)]
ReportOutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Build folder of the reports (default: reports/_build).", show_default=False),
]


def value(option: Any) -> Any:
    """An Enum option's value (typer may hand over the member or its string)."""
    return option.value if isinstance(option, Enum) else option


def sources(option: list[str] | None) -> list[str] | None:
    """``--source`` values, each also split on ``|``; None when not given."""
    if not option:
        return None
    out = [s.strip() for v in option for s in v.split("|")]
    if any(not s for s in out):
        raise FormulaeError(f"--source {'|'.join(option)!r} has an empty name")
    return out


def limit(n: int | None) -> int | None:
    """``--limit``: None for all (0), an error below 0."""
    if n is None:
        return None
    return count_check("--limit", n) or None


TABLE_LIMIT = 200  # rows (kwic: lines) printed in the table format when --limit is not given


def table_limit(n: int | None, fmt: Format, output: Path | None) -> int | None:
    """``--limit`` of a command whose table can run to millions of rows (``kwic``,
    ``compare``, ``reuse``, ``timeline``, ``formulae``: a formula by year and source is 10,952 rows of
    ungdc): as given (0 = all), else ``TABLE_LIMIT`` in the table format on stdout
    and all otherwise (csv, json, parquet, ``--output``)."""
    if n is None and fmt is Format.table and output is None:
        return TABLE_LIMIT
    return limit(n)


TableLimitOpt = Annotated[int | None, typer.Option(
    "--limit", "-n", help=f"At most this many rows (0 = all; default: {TABLE_LIMIT} for the table, all otherwise).",
    show_default=False)]
