"""The ``csv`` reader: a header row, then one record per row (gzip or plain)."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from ..errors import FormulaeError
from .declaration import Declaration
from .records import bad_records, concat_records, decode_utf8, display_path, map_records, read_input

# --- csv --------------------------------------------------------------------------


def read_csv(path: Path, decl: Declaration, skip_bad: bool = False) -> pl.DataFrame:
    """CSV with a header row; every row must have the header's number of fields."""
    import csv

    shown = display_path(path, decl)
    text = decode_utf8(read_input(path), shown)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=decl.separator, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return concat_records([])
    except csv.Error as exc:
        raise FormulaeError(f"unreadable CSV header: {exc}", file=shown, line=1) from None
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise FormulaeError(f"CSV header names column '{dup}' twice", file=shown, line=1)
    cols: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append((start, f"unreadable CSV row: {exc}"))
            if not skip_bad:
                break
            start = reader.line_num + 1
            continue
        if not row:  # blank line: not a record
            start = reader.line_num + 1
            continue
        if len(row) != len(header):
            bad.append((start, f"ragged CSV row: {len(row)} fields, the header has {len(header)}"))
        else:
            for c, v in zip(cols, row, strict=True):
                c.append(v)
            lines.append(start)
        if bad and not skip_bad:
            break
        start = reader.line_num + 1
    if bad and not skip_bad:
        raise FormulaeError(bad[0][1], file=shown, line=bad[0][0])
    df = pl.DataFrame({h: c for h, c in zip(header, cols, strict=True)}, schema={h: pl.String for h in header})
    line_s = pl.Series("line", lines, dtype=pl.UInt32)
    parts = []
    if df.height:
        parts.append(map_records(df, line_s, path, decl, skip_bad,
                                 locate_null=lambda r: False))
    if bad:
        parts.append(bad_records(bad, path, decl, skip_bad))
    return concat_records(parts, sort_line=bool(bad))


