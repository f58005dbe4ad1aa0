"""The ``formulae`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and prints the
result with :func:`emit`. Library errors (:class:`analysis.errors.FormulaeError`)
become one line on stderr and exit status 2, never a traceback.

Heavy modules (polars, nltk, altair) are imported inside the commands, so that
``formulae --help`` and a query on a built index start fast.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

app = typer.Typer(
    name="formulae",
    help="Recurring formulae in diplomatic statements: ingest, query, compare, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
corpus_app = typer.Typer(help="Inspect ingested corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


# Shared options, written once (sqlite-utils style).
StoreOpt = Annotated[
    Optional[Path],
    typer.Option("--store", help="Store folder (default: $FORMULAE_STORE or ./build).", show_default=False),
]
FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format: table, csv, json (list of objects) or parquet."),
]
OutputOpt = Annotated[
    Optional[Path],
    typer.Option("--output", "-o", help="Write the result to this file instead of stdout (written atomically)."),
]
CorpusOpt = Annotated[str, typer.Option("--corpus", "-c", help="Corpus name, as ingested.")]


def emit(frame: pl.DataFrame, fmt: Format, output: Path | None = None, *, title: str | None = None) -> None:
    """Print or write a result table in the chosen format.

    ``json`` is a list of objects whose keys are the column names; ``parquet`` needs
    ``--output`` or a non-terminal stdout.
    """
    import json

    from .store import atomic_file

    if fmt is Format.parquet:
        if output is None:
            if sys.stdout.isatty():
                raise _error("--format parquet writes binary: give --output FILE or redirect stdout")
            frame.write_parquet(sys.stdout.buffer)
            return
        with atomic_file(output, "wb") as fh:
            frame.write_parquet(fh)
        return
    if fmt is Format.csv:
        text = frame.write_csv()
    elif fmt is Format.json:
        text = json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        if output is None:
            _print_table(frame, title)
            return
        text = frame.write_csv()
    if output is None:
        sys.stdout.write(text)
    else:
        with atomic_file(output, "w") as fh:
            fh.write(text)


def _print_table(frame: pl.DataFrame, title: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        numeric = frame.schema[col].is_numeric()
        table.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in frame.iter_rows():  # display only: a bounded result table, not corpus rows
        table.add_row(*("" if v is None else _fmt_cell(v) for v in row))
    Console().print(table)


def _fmt_cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _error(message: str) -> Exception:
    from .errors import FormulaeError

    return FormulaeError(message)


# --- commands -----------------------------------------------------------------
# Each area adds its commands below its own marker; keep each command thin.

# [cli:corpus]

# [cli:text]

# [cli:phrases]

# [cli:formulae]

# [cli:report]


def main() -> None:
    """Console entry point: run the app, turning library errors into one line."""
    from .errors import FormulaeError

    try:
        app()
    except FormulaeError as exc:
        sys.stderr.write(f"formulae: error: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        sys.stderr.write("formulae: interrupted\n")
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
