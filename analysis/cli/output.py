"""Output of every command: tables in four formats, notes, concordance lines.

:func:`emit` prints or writes a polars table; :func:`result_write` a
:class:`~analysis.result.Result` without polars (the query's fast path);
:func:`table_print` is the one table printer; notes go to stderr.
"""

from __future__ import annotations

import json
import re
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
    """A polars table printed by :func:`table_write`, read ``TABLE_SLICE_ROWS`` rows at a
    time (twice: the widths, then the rows), so a table of a million rows (``compare
    --limit 0``) never holds all its cells as Python strings at once."""
    import sys

    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}

    def slices():
        for k in range(0, frame.height, TABLE_SLICE_ROWS):
            yield _cell_strings(frame.slice(k, TABLE_SLICE_ROWS).to_dict(as_series=False).values())

    table_write(_console(), sys.stdout.write, list(frame.columns), [c in numeric for c in frame.columns], slices,
                frame.height, title)
    sys.stdout.flush()


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
    The output is rich's own (:func:`table_write`)."""
    import sys

    sys.stdout.write(table_text(_console(), columns, title, numeric))
    sys.stdout.flush()


def _console():
    """The console of the terminal's tables: its width on a terminal, else as wide as a row."""
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 100_000)


TABLE_FAST_ROWS = 64  # from how many rows table_write lays out the rows itself (fewer: rich's whole table)
TABLE_SLICE_ROWS = 50_000  # rows of a polars table made into strings at a time (_print_table)


def table_text(console, columns: dict[str, list], title: str | None = None, numeric: set[str] | None = None,
               fast_rows: int = TABLE_FAST_ROWS) -> str:
    """What ``console.print`` of the rich table of ``columns`` writes (:func:`table_write`)."""
    right = [(name in numeric if numeric is not None else
              all(isinstance(v, (int, float)) for v in values if v is not None) and bool(values))
             for name, values in columns.items()]
    cells = _cell_strings(columns.values())
    out: list[str] = []
    table_write(console, out.append, list(columns), right, lambda: iter([cells]), len(cells[0]) if cells else 0,
                title, fast_rows)
    return "".join(out)


def _cell_strings(columns) -> list[list[str]]:
    """Each column's cells as the table shows them: floats to 4 significant digits, None
    empty, bidi controls inert."""
    from ..text.grammar import display_inert

    return [[display_inert("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))) for v in values]
            for values in columns]


def table_write(console, write, names: list[str], right: list[bool], slices, n_rows: int, title: str | None,
                fast_rows: int = TABLE_FAST_ROWS) -> None:
    """``write`` what ``console.print`` of the rich table writes: columns ``names``
    (``right``: right-aligned), whose cells (strings) ``slices()`` yields a run of rows
    at a time, as lists of columns, ``n_rows`` rows in all (it is called twice).

    Rich lays a table out row by row, about 0.4 ms a row: 4.5 s for the 10,952 rows of a
    query of ungdc by year and source. From ``fast_rows`` rows on, rich lays out what
    depends on the whole table: the column widths (from the header and one stand-in row
    measured as the widest cells are, :func:`_stand_in`), the title, the header and the
    borders (a table of no rows at those widths). The rows are written here, each cell
    padded, or folded, as rich lays it out (:func:`_column_lines`); a row holding a cell
    this does not know how rich lays out is rich's, at the same widths. The same text as
    rich's whole table (tested against it on random tables, folded to a terminal's width
    and at a pipe's, in colour and in ASCII)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    from ..text.grammar import display_inert

    def table(rows, widths=None, header=True) -> Table:
        out = Table(title=None if title is None or not header else Text(display_inert(title)), show_header=header)
        for k, name in enumerate(names):
            out.add_column(name, justify="right" if right[k] else "left", overflow="fold",
                           width=None if widths is None else widths[k] - 2)
        for row in rows:
            out.add_row(*(Text(c) for c in row))
        return out

    def text_of(renderable) -> str:
        with console.capture() as cap:
            console.print(renderable)
        return cap.get()

    def whole() -> str:  # rich's own: every row laid out by rich
        rows = [row for cells in slices() for row in zip(*cells, strict=True)]
        return text_of(table(rows))

    if n_rows < fast_rows or not names:
        write(whole())
        return
    measures = [(0, 0)] * len(names)
    for cells in slices():
        measures = [_measure(col, seen) for col, seen in zip(cells, measures, strict=True)]
    stand_in = table([[_stand_in(*m) for m in measures]])
    widths = stand_in._calculate_column_widths(console, console.options.update_width(
        console.options.max_width - (len(names) + 1)))
    if sum(widths) + len(names) + 1 > console.options.max_width or min(widths) <= 2:  # too narrow: rich's own
        write(whole())
        return
    head = text_of(table([], widths)).splitlines(keepends=True)
    write("".join(head[:-1]))
    assert stand_in.box is not None  # rich's default box (HEAVY_HEAD)
    box = stand_in.box.substitute(console.options, safe=console.safe_box)
    done = 0
    for cells in slices():
        laid = [_column_lines(col, [cell_len(c) for c in col], w - 2, r)
                for col, w, r in zip(cells, widths, right, strict=True)]
        lines = []
        for i, row in enumerate(zip(*laid, strict=True)):
            left, bar, end = ((box.foot_left, box.foot_vertical, box.foot_right) if done + i == n_rows - 1
                              else (box.mid_left, box.mid_vertical, box.mid_right))
            if all(type(cell) is str for cell in row):  # one line
                lines.append(f"{left}{bar.join(row)}{end}\n")
            elif None in row:  # rich's layout of this row at the table's widths
                body = text_of(table([[col[i] for col in cells]], widths, header=False)).splitlines(keepends=True)
                lines.extend(body[1:-1])
            else:  # folded; a cell shorter than its row has blank lines below it (rich: top-aligned)
                parts = [[cell] if type(cell) is str else cell for cell in row]
                for h in range(max(len(cell) for cell in parts)):
                    lines.append(f"{left}{bar.join(c[h] if h < len(c) else ' ' * w for c, w in zip(parts, widths, strict=True))}{end}\n")
        write("".join(lines))
        done += len(cells[0]) if cells else 0
    write(head[-1])


def _column_lines(cells: list[str], sizes: list[int], width: int, right: bool) -> list:
    """Each cell of a column as rich lays it out ``width`` cells wide (``overflow="fold"``),
    with its padding (a space each side): a string (one line), a list of lines (folded),
    or None where this does not know rich's layout: a character that is not printable (a
    line break, a tab, a control or format character), a space at the end of a
    right-aligned cell (rich strips it), a folded cell that holds a space (rich breaks it
    between words) or a character wider or narrower than one cell."""
    from rich.cells import cell_len

    out: list = []
    for cell, size in zip(cells, sizes, strict=True):
        if not cell.isprintable() or (right and cell.endswith(" ")):
            out.append(None)
        elif size <= width:
            out.append(f" {' ' * (width - size)}{cell} " if right else f" {cell}{' ' * (width - size)} ")
        elif " " in cell or not (cell.isascii() or all(cell_len(c) == 1 for c in cell)):
            out.append(None)
        else:  # one word folded: rich cuts it every `width` cells
            parts = [cell[k:k + width] for k in range(0, len(cell), width)]
            out.append([f" {' ' * (width - len(p))}{p} " if right else f" {p}{' ' * (width - len(p))} " for p in parts])
    return out


def _measure(cells: list[str], seen: tuple[int, int]) -> tuple[int, int]:
    """(widest line, widest word) of a column's ``cells`` as rich measures them, with
    those ``seen`` before (a cell without a word counts its width as its word's)."""
    from rich.cells import cell_len
    from rich.text import Text

    widest, word = seen
    for cell in cells:
        if " " not in cell and cell.isprintable():  # one line, one word (or none)
            most = words = cell_len(cell)
        else:  # as rich measures its Text (control codes such as a CR removed)
            plain = Text(cell).plain
            most = max((cell_len(line) for line in plain.splitlines()), default=0)
            words = max((cell_len(w) for w in plain.split()), default=most)
        widest, word = max(widest, most), max(word, words)
    return widest, word


def _stand_in(widest: int, word: int) -> str:
    """A cell that rich measures as the widest of a column (:func:`_measure`): a line
    ``widest`` cells wide whose widest word is ``word`` cells wide."""
    text, width = "x" * word, word
    while width < widest:  # words of at most `word` cells, one space apart (or one space at the end)
        gap = widest - width
        extra = min(word, gap - 1)
        text, width = (text + " ", width + 1) if extra < 1 else (text + " " + "x" * extra, width + 1 + extra)
    return text


def csv_cell(v) -> str:
    """One value as a CSV cell (:func:`csv_text`)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    text = str(v)
    return _quoted(text) if isinstance(v, str) and (not text or _CSV_QUOTED.search(text)) else text


_CSV_QUOTED = re.compile('[,"\n\r]')


def _quoted(text: str) -> str:
    """A string CSV cell in quotes, its quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def _csv_column(values: list) -> list[str]:
    """A column's cells (:func:`csv_cell`), a column of one type at a time where it can be:
    strings (most need no quotes) and integers, a value repeated through the column (a
    statement's date, source and id on each of its lines) made a cell once (2.77 M kwic
    lines of ungdc: the CSV 20 -> 8.5 s)."""
    kinds = set(map(type, values))
    if kinds <= {str, int} and len(set(values[:4096])) * 4 < min(len(values), 4096):  # repeated values
        cell = {v: csv_cell(v) for v in set(values)}
        return [cell[v] for v in values]
    if kinds <= {str}:
        search = _CSV_QUOTED.search
        return [t if t and not search(t) else _quoted(t) for t in values]
    if kinds <= {int}:
        return list(map(str, values))
    return list(map(csv_cell, values))


CSV_CHUNK = 1 << 16  # rows made into cells at a time (csv_text)


def csv_text(columns: dict[str, list]) -> str:
    """``columns`` as CSV, strings quoted as polars' ``write_csv`` quotes them (an empty
    string ``""``, apart from a null's empty cell; a comma, quote or line break), numbers
    as Python prints them: so a table written without polars is the one written with it.
    :data:`CSV_CHUNK` rows at a time, so that only their cells are held besides the text."""
    values = list(columns.values())
    if len({len(v) for v in values}) > 1:
        raise ValueError(f"csv_text: columns of different lengths {[len(v) for v in values]}")
    parts = [",".join(map(csv_cell, columns))]
    for a in range(0, len(values[0]) if values else 0, CSV_CHUNK):
        cells = [_csv_column(list(v[a:a + CSV_CHUNK])) for v in values]
        parts.append("\n".join(map(",".join, zip(*cells, strict=True))))
    return "\n".join(parts) + "\n"


def result_write(result: Result, fmt: str, output: Path | None = None, *, title: str | None = None) -> None:
    """Write a :class:`Result` as table/csv/json (same shape as the CLI's ``emit``) without polars."""
    if fmt == "table" and output is None:
        table_print(result.columns, title)
        return
    if fmt == "json":
        text = json.dumps(result.rows(), ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        text = csv_text(result.columns)
    write_text(text, output)


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
