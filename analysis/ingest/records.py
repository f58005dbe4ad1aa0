"""Shared pieces of the readers: the records frame, bytes and UTF-8, dates, field mapping.

Every reader turns its input files into one polars DataFrame with one row per record
read, in input order, with the columns of :data:`RECORD_SCHEMA`:

``file`` (path as declared), ``line`` (1-based line where the record starts), ``id``,
``source``, ``date`` (Date), ``date_precision``, ``title``, ``text`` (verbatim),
``hashtags`` / ``lead_emoji`` (null = let the ingest derive them from the text),
``meta`` (JSON object, sorted keys), ``drop`` (null, or the reason the reader already
dropped the record: ``duplicate_paste``, ``not_a_message``, ``unparseable``) and
``detail`` (what the drop refers to); ``line_known`` is false when ``line`` is
only the record's ordinal (the fast JSONL path; :func:`jsonl_lines` maps it to the
line number when a dropped record needs it).

Format mappings (see also ``corpus/README.md``):

- ``jsonl``: one JSON object per line (gzip or plain); ``fields`` maps id, text, date,
  source, title; every other key goes to ``meta`` (or only ``fields.extra``).
- ``csv``: header row, then one record per row (gzip or plain), same mapping.
- ``telegram``: see :mod:`analysis.telegram`.
- ``folder``: every ``.txt`` / ``.md`` file under the folder (sorted by path) is one
  statement; optional YAML front matter (``---`` ... ``---``) gives id, date, source,
  title and metadata; the id defaults to the file's path without suffix.
- ``rawdump``: see :mod:`analysis.rawdump`.

Errors are :class:`~analysis.errors.FormulaeError` naming the file, the line and the
problem. Record-level errors (a broken JSON line, a ragged CSV row, an unparseable
date, a record missing its text field) raise unless ``skip_bad`` is set, in which case
the record is kept in the frame with ``drop = 'unparseable'`` and ``detail`` saying why.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import polars as pl

from ..errors import FormulaeError
from ..vocab import PERIOD_STEP, PRECISIONS, precision_rank
from .declaration import Declaration

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(),
    "line": pl.UInt32(),
    "id": pl.String(),
    "source": pl.String(),
    "date": pl.Date(),
    "date_precision": pl.String(),
    "title": pl.String(),
    "text": pl.String(),
    "hashtags": pl.List(pl.String()),
    "lead_emoji": pl.List(pl.String()),
    "meta": pl.String(),
    "drop": pl.String(),
    "detail": pl.String(),
    "line_known": pl.Boolean(),
}


# --- bytes --------------------------------------------------------------------------


def read_input(path: Path) -> bytes:
    """Read a file, gunzipping it when it starts with the gzip magic bytes.

    A truncated or corrupt gzip stream is an error naming the line reached.
    """
    raw = Path(path).read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    out: list[bytes] = []
    data = raw
    while data:
        d = zlib.decompressobj(wbits=31)
        try:
            out.append(d.decompress(data))
            tail = d.flush()
            if tail:
                out.append(tail)
        except zlib.error as exc:
            line = b"".join(out).count(b"\n") + 1
            raise FormulaeError(f"corrupt gzip stream ({exc})", file=path, line=line) from None
        if not d.eof:
            line = b"".join(out).count(b"\n") + 1
            raise FormulaeError("truncated gzip file: the stream ends before its end marker", file=path, line=line)
        data = d.unused_data
        if data and data[:2] != b"\x1f\x8b":
            break  # trailing garbage after the last member is ignored, as gzip(1) does
    return out[0] if len(out) == 1 else b"".join(out)


def decode_utf8(raw: bytes, path: Path | str) -> str:
    """Decode UTF-8 strictly (a leading BOM is skipped); errors name the line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise utf8_error(raw, exc, path) from None
    return text[1:] if text.startswith("\ufeff") else text


def utf8_error(raw: bytes, exc: UnicodeDecodeError, path: Path | str, offset: int = 0) -> FormulaeError:
    start = offset + exc.start
    line = raw.count(b"\n", 0, start) + 1
    col = start - (raw.rfind(b"\n", 0, start) + 1) + 1
    return FormulaeError(f"invalid UTF-8 (byte 0x{raw[start]:02x} at byte {col} of the line)", file=path, line=line)


def display_path(path: Path, decl: Declaration) -> str:
    """The path as shown in errors and logs: relative to the current folder, or absolute if shorter."""
    import os

    full = Path(path).resolve()
    try:
        rel = os.path.relpath(full, Path.cwd().resolve())
    except ValueError:  # another drive
        return str(full)
    return rel if len(rel) <= len(str(full)) else str(full)


# --- dates --------------------------------------------------------------------------


def date_exprs(raw: pl.Expr, decl: Declaration) -> tuple[pl.Expr, pl.Expr]:
    """Polars expressions (date, precision) parsing a raw date column by the declaration's rules."""
    s = raw.cast(pl.String).str.strip_chars()
    fmt = decl.date_format
    if fmt == "auto":
        is_day = s.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]|$)")
        is_month = s.str.contains(r"^\d{4}-\d{1,2}$")
        is_year = s.str.contains(r"^\d{4}$")
        day = s.str.extract(r"^(\d{4}-\d{1,2}-\d{1,2})").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        month = (s + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        year = (s + "-01-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        date = pl.when(is_day).then(day).when(is_month).then(month).when(is_year).then(year)
        prec = pl.when(is_day).then(pl.lit("day")).when(is_month).then(pl.lit("month")).when(is_year).then(pl.lit("year"))
    elif fmt == "year":
        ok = s.str.contains(r"^\d{1,4}$")
        date = pl.when(ok).then((s.str.zfill(4) + "-01-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False))
        prec = pl.lit("year")
    else:
        parsed = s.str.strptime(pl.Datetime, fmt, strict=False).dt.date()
        date = parsed
        prec = pl.lit(_precision_of_pattern(fmt))
    date = date.cast(pl.Date)
    prec = pl.when(date.is_null()).then(pl.lit("none")).otherwise(prec)
    if decl.date_precision is not None:
        want = decl.date_precision
        coarse = date if want == "day" else date.dt.truncate(PERIOD_STEP[want])
        ranks = {p: precision_rank(p) for p in PRECISIONS}
        finer = prec.replace_strict(ranks, default=9, return_dtype=pl.Int8) < precision_rank(want)
        date = pl.when(finer).then(coarse).otherwise(date)
        prec = pl.when(finer).then(pl.lit(want)).otherwise(prec)
    return date, prec


def _precision_of_pattern(fmt: str) -> str:
    if any(d in fmt for d in ("%d", "%j", "%F", "%D", "%c", "%s")):
        return "day"
    if any(d in fmt for d in ("%m", "%b", "%B", "%h")):
        return "month"
    return "year"


# --- shared mapping of a raw table (jsonl, csv, folder) to records --------------------


def map_records(df: pl.DataFrame, lines: pl.Series, path: Path, decl: Declaration,
                skip_bad: bool, locate_null: Callable[[int], bool] | None = None,
                exact_lines: Callable[[], pl.Series] | None = None,
                files: pl.Series | None = None) -> pl.DataFrame:
    """Turn a raw table (one row per record, string or typed columns) into the record frame.

    ``lines`` gives each row's line number (or ordinal, with ``exact_lines`` computing
    the real line numbers when an error must name one). ``locate_null(row)`` says
    whether a row whose text is null lacks the key entirely (an error) rather than
    holding null. ``files`` gives each row's file when the rows come from several files
    (a folder); errors then name the row's own file.

    1. the declared fields and extra (metadata) columns (:func:`_field_map`); 2. one
    record per row; 3. record-level problems (:func:`_mark_problems`): raised, or
    dropped as ``unparseable`` under ``skip_bad``.
    """
    shown = display_path(path, decl)
    first_line = int(lines[0]) if len(lines) else 1
    fields, extra = _field_map(df, decl, shown, first_line)

    def col(role: str) -> pl.Expr:
        name = fields.get(role)
        return pl.lit(None, dtype=pl.String) if not name else _as_text(pl.col(name), df.schema[name])

    date_name = fields["date"]
    if date_name:  # a date that is a list or an object is text here (then unparseable)
        as_text = _as_text(pl.col(date_name), df.schema[date_name])
        date, prec = date_exprs(as_text, decl)
        raw_date = as_text.cast(pl.String).str.strip_chars()
    else:
        date, prec = pl.lit(None, dtype=pl.Date), pl.lit("none")
        raw_date = pl.lit(None, dtype=pl.String)
    meta = pl.struct([pl.col(c) for c in extra]).struct.json_encode() if extra else pl.lit("{}")
    out = df.select(
        (pl.lit(shown) if files is None else files.alias("file")).alias("file"),
        pl.Series("line", lines, dtype=pl.UInt32),
        col("id").alias("id"),
        col("source").alias("source"),
        date.alias("date"),
        prec.alias("date_precision"),
        col("title").alias("title"),
        col("text").alias("text"),
        pl.lit(None, dtype=pl.List(pl.String)).alias("hashtags"),
        pl.lit(None, dtype=pl.List(pl.String)).alias("lead_emoji"),
        meta.alias("meta"),
        pl.lit(None, dtype=pl.String).alias("drop"),
        pl.lit(None, dtype=pl.String).alias("detail"),
        pl.lit(exact_lines is None).alias("line_known"),
        raw_date.alias("_raw_date"),
    )
    return _mark_problems(out, decl, fields, skip_bad, locate_null, exact_lines)


def _field_map(df: pl.DataFrame, decl: Declaration, shown: str,
               first_line: int) -> tuple[dict[str, str | None], list[str]]:
    """(role -> column or None, extra columns kept in ``meta``); a declared column that is
    missing from the records is an error naming it."""
    # a role not named in the declaration defaults to the column of the same name, if any
    fields = {r: decl.fields[r] if r in decl.fields else (r if r in df.columns else None)
              for r in ("id", "text", "date", "source", "title")}
    for role, name in fields.items():
        if name and name not in df.columns:
            raise FormulaeError(
                f"mapped field '{name}' (fields.{role}) is missing from the records; "
                f"fields present: {', '.join(df.columns) or 'none'}", file=shown, line=first_line)
    mapped = {fields[r] for r in ("id", "text", "source", "title")} - {None}
    if decl.extra == "all":
        return fields, sorted(c for c in df.columns if c not in mapped)
    if decl.extra == "none":
        return fields, []
    missing = [c for c in decl.extra if c not in df.columns]
    if missing:
        raise FormulaeError(f"field '{missing[0]}' (fields.extra) is missing from the records",
                            file=shown, line=first_line)
    return fields, sorted(decl.extra)


def _mark_problems(out: pl.DataFrame, decl: Declaration, fields: dict[str, str | None], skip_bad: bool,
                   locate_null: Callable[[int], bool] | None,
                   exact_lines: Callable[[], pl.Series] | None) -> pl.DataFrame:
    """Record-level problems (unparseable dates, records without the text field): the
    first one raised, or every one dropped as ``unparseable`` under ``skip_bad``."""
    bad_date = pl.col("_raw_date").is_not_null() & (pl.col("_raw_date") != "") & pl.col("date").is_null()
    problems = pl.when(bad_date).then(pl.lit("unparseable date '") + pl.col("_raw_date") + pl.lit("' (date.format: " + decl.date_format + ")"))
    out = out.with_columns(_problem=problems)
    needs_lines = out["_problem"].is_not_null().any() or out["text"].is_null().any()
    if needs_lines and exact_lines is not None:
        out = out.with_columns(line=exact_lines(), line_known=pl.lit(True))
    if locate_null is not None:
        null_rows = out.with_row_index("_row").filter(pl.col("text").is_null())["_row"].to_list()
        absent = [r for r in null_rows if locate_null(int(out["line"][r]))]
        if absent:
            mask = pl.Series([False] * out.height)
            mask[absent] = True
            msg = f"record has no '{fields['text']}' field (fields.text)"
            out = out.with_columns(_problem=pl.when(mask).then(pl.lit(msg)).otherwise(pl.col("_problem")))
    bad = out.filter(pl.col("_problem").is_not_null())
    if bad.height:
        if not skip_bad:
            first = bad.row(0, named=True)
            raise FormulaeError(first["_problem"], file=first["file"], line=first["line"])
        out = out.with_columns(
            drop=pl.when(pl.col("_problem").is_not_null()).then(pl.lit("unparseable")).otherwise(pl.col("drop")),
            detail=pl.when(pl.col("_problem").is_not_null()).then(pl.col("_problem")).otherwise(pl.col("detail")),
        )
    return out.drop("_raw_date", "_problem")


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return expr
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    if isinstance(dtype, pl.List | pl.Array):  # encode {"name": [...]} and keep the value part
        return (pl.struct(expr).struct.json_encode()
                .str.replace(r'^\{"(?:[^"\\]|\\.)*":', "").str.strip_suffix("}"))
    return expr.cast(pl.String)


def bad_records(rows: list[tuple[int, str]], path: Path, decl: Declaration, skip_bad: bool) -> pl.DataFrame:
    """Record frame rows for unreadable records (``drop = 'unparseable'``), or raise."""
    shown = display_path(path, decl)
    if rows and not skip_bad:
        raise FormulaeError(rows[0][1], file=shown, line=rows[0][0])
    return pl.DataFrame(
        {
            "file": [shown] * len(rows),
            "line": [r[0] for r in rows],
            "meta": ["{}"] * len(rows),
            "drop": ["unparseable"] * len(rows),
            "detail": [r[1] for r in rows],
            "date_precision": ["none"] * len(rows),
        },
        schema_overrides={"line": pl.UInt32},
    ).select(
        [pl.col(c).cast(t) if c in ("file", "line", "meta", "drop", "detail", "date_precision")
         else pl.lit(True).alias(c) if c == "line_known"
         else pl.lit(None, dtype=t).alias(c) for c, t in RECORD_SCHEMA.items()]
    )


def concat_records(frames: list[pl.DataFrame], sort_line: bool = True) -> pl.DataFrame:
    """Concatenate record frames in the record schema (optionally ordered by file position)."""
    frames = [(f if "line_known" in f.columns else f.with_columns(line_known=pl.lit(True)))
              .select([pl.col(c).cast(t) for c, t in RECORD_SCHEMA.items()]) for f in frames]
    if not frames:
        return pl.DataFrame(schema=RECORD_SCHEMA)
    out = pl.concat(frames, how="vertical")
    return out.sort("line", maintain_order=True) if sort_line else out


