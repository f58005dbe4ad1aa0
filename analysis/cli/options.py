"""Shared options of every command, written once (typer ``Annotated`` aliases).

Choice types are made from :mod:`analysis.vocab`, so the CLI accepts exactly the names
the library does. One flag, one meaning in every command.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


# Shared options, written once (sqlite-utils style).
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $FORMULAE_STORE or ./build).", show_default=False),
]
FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format: table, csv, json (list of objects) or parquet."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the result to this file instead of stdout (written atomically)."),
]
CorpusOpt = Annotated[str, typer.Option("--corpus", "-c", help="Corpus name, as ingested.")]


class InfoFormat(StrEnum):
    table = "table"
    json = "json"



class Level(StrEnum):
    exact = "exact"
    norm = "norm"
    clitic = "clitic"
    stem = "stem"
    lemma = "lemma"


class By(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


LevelOpt = Annotated[
    Level | None,
    typer.Option("--level", "-l", help="Matching level: exact, norm, clitic, stem, lemma (default: clitic for Arabic, norm otherwise).",
                 show_default=False),
]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).", show_default=False)]
FromOpt = Annotated[str | None, typer.Option("--from", help="First date (YYYY, YYYY-MM or YYYY-MM-DD).", show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last date, inclusive (YYYY, YYYY-MM or YYYY-MM-DD).", show_default=False)]
DistinctOpt = Annotated[bool, typer.Option("--distinct", help="Leave out statements that duplicate a text under another source.")]

LexiconOpt = Annotated[Path | None, typer.Option(
    "--lexicon", help="Lexicon file (default corpus/formulae.yml).", show_default=False)]
WhereOpt = Annotated[str | None, typer.Option(
    "--where", help="Statement filter, e.g. 'year=1990..1999 & source!=USA'.", show_default=False)]
ReportOutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Build folder (default: reports/_build).", show_default=False),
]


def value(option):
    """An Enum option's value (typer may hand over the member or its string)."""
    return option.value if isinstance(option, Enum) else option
