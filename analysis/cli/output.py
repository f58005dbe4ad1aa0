"""Output of every command: tables in four formats, notes, concordance lines.

:func:`emit` prints or writes a polars table; :func:`result_write` a
:class:`~analysis.result.Result` without polars (the query's fast path);
:func:`table_print` is the one table printer; notes go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FormulaeError
from ..result import Result
from .options import Format

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl


def emit(frame: pl.DataFrame, fmt: Format, output: Path | None = None, *, title: str | None = None) -> None:
    """Print or write a result table in the chosen format.

    ``json`` is a list of objects whose keys are the column names; ``parquet`` needs
    ``--output`` or a non-terminal stdout.
    """
    from ..store import atomic_file

    fmt = Format(fmt)
    if fmt is Format.parquet:
        if output is None:
            if sys.stdout.isatty():
                raise fail("--format parquet writes binary: give --output FILE or redirect stdout")
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
    write_text(text, output)


def _print_table(frame: pl.DataFrame, title: str | None) -> None:
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    table_print(frame.to_dict(as_series=False), title, numeric)


def fail(message: str) -> Exception:
    """A user error for the CLI to print as one line (exit status 2)."""
    return FormulaeError(message)


def emit_json(obj, output: Path | None = None) -> None:
    """Write a JSON document (an object that is not a table): stdout or ``output``."""
    write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", output)


def write_text(text: str, output: Path | None = None) -> None:
    """Text to stdout, or atomically to ``output``."""
    from ..store import atomic_file

    if output is None:
        sys.stdout.write(text)
        return
    with atomic_file(Path(output), "w") as fh:
        fh.write(text)


def notes_print(notes: list[str]) -> None:
    for note in notes:
        sys.stderr.write(f"formulae: note: {note}\n")


def flat(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined with '; ' (for table and csv output)."""
    import polars as pl

    return frame.with_columns([pl.col(c).cast(pl.List(pl.String)).list.join("; ")
                               for c, t in frame.schema.items() if isinstance(t, pl.List)])


def emit_result(frame, fmt: Format, output, title: str, notes=()) -> None:
    notes_print(list(notes))
    emit(frame if fmt in (Format.json, Format.parquet) else flat(frame), fmt, output, title=title)


def table_print(columns: dict[str, list], title: str | None = None, numeric: set[str] | None = None) -> None:
    """Print columns as a rich table: the one table printer of the CLI (no polars needed).

    On a terminal rich folds the table to its width; into a pipe or a file each row stays
    on one line, at the table's natural width. Floats show 4 significant digits.
    ``numeric``: the right-aligned columns (default: those holding only numbers).
    """
    import sys

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..text.grammar import display_inert

    table = Table(title=None if title is None else Text(display_inert(title)))
    for name, values in columns.items():
        right = (name in numeric if numeric is not None else
                 all(isinstance(v, (int, float)) for v in values if v is not None) and bool(values))
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in zip(*columns.values(), strict=True):  # cells as plain text: no markup, bidi controls inert
        table.add_row(*(Text(display_inert("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))))
                        for v in row))
    Console(width=None if sys.stdout.isatty() else 100_000).print(table)


def csv_text(columns: dict[str, list]) -> str:
    """``columns`` as CSV, strings quoted as polars' ``write_csv`` quotes them (an empty
    string ``""``, apart from a null's empty cell; a comma, quote or line break), numbers
    as Python prints them: so a table written without polars is the one written with it."""
    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        text = str(v)
        if isinstance(v, str) and (not text or any(c in text for c in ',"\n\r')):
            return '"' + text.replace('"', '""') + '"'
        return text

    rows = [",".join(cell(v) for v in columns)]
    rows += [",".join(cell(v) for v in row) for row in zip(*columns.values(), strict=True)]
    return "\n".join(rows) + "\n"


def result_write(result: Result, fmt: str, output: Path | None = None, *, title: str | None = None) -> None:
    """Write a :class:`Result` as table/csv/json (same shape as the CLI's ``emit``) without polars."""
    import sys

    if fmt == "table" and output is None:
        table_print(result.columns, title)
        return
    if fmt == "json":
        text = json.dumps(result.rows(), ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        text = csv_text(result.columns)
    if output is None:
        sys.stdout.write(text)
    else:
        from ..store import atomic_file

        with atomic_file(Path(output), "w") as fh:
            fh.write(text)


RTL = ("ar", "fa", "he", "ur")


def kwic_print(rows, language: str) -> None:
    """Concordance for a terminal: one header line and one context line per hit.

    Arabic (right-to-left) lines are right-aligned and wrapped in Unicode bidi isolates,
    so a bidi-aware terminal lays each line out as a whole; the match is bracketed
    (⟦ ⟧, mirrored in RTL) and highlighted, so it stays visible without colour too.
    """
    from rich.console import Console
    from rich.text import Text

    from ..text.grammar import display_inert as inert

    console = Console()
    rtl = language in RTL
    for row in rows:  # display only: bounded by --limit
        console.print(Text(inert(f"{row['date'] or 'undated'}  {row['source']}  {row['id']}"), style="dim"))
        line = Text()
        if rtl:
            line.append("\u2067")
        line.append(inert(row["before"] or ""))
        line.append("⟦" + inert(row["match"] or "") + "⟧", style="bold reverse")
        line.append(inert(row["after"] or ""))
        if rtl:
            line.append("\u2069")
        console.print(line, justify="right" if rtl else "left", no_wrap=False)
