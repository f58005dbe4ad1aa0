"""The ``jsonl`` reader: one JSON object per line (gzip or plain)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl

from ..errors import FormulaeError
from .declaration import Declaration
from .records import bad_records, concat_records, display_path, map_records, read_input, utf8_error

# --- jsonl ------------------------------------------------------------------------


def read_jsonl(path: Path, decl: Declaration, skip_bad: bool = False) -> pl.DataFrame:
    """JSON Lines: polars decompresses and parses the whole file at once (fast path);
    only when that fails does a line-by-line pass locate and name the bad lines."""
    try:
        df = pl.read_ndjson(path, infer_schema_length=1000)
    except Exception:
        df = None
    cache: dict[str, bytes] = {}
    split: dict[str, list[bytes]] = {}

    def raw() -> bytes:
        if "raw" not in cache:
            cache["raw"] = read_input(path)
        return cache["raw"]

    def locate_null(line: int) -> bool:
        if "lines" not in split:  # split once: called for every record with a null text
            split["lines"] = raw().split(b"\n")
        obj = json.loads(split["lines"][line - 1])
        return decl.field_for("text") not in obj

    if df is not None:
        if df.height == 0:
            return concat_records([])
        ordinals = pl.int_range(1, df.height + 1, eager=True, dtype=pl.UInt32).alias("line")
        return map_records(df, ordinals, path, decl, skip_bad, locate_null,
                           exact_lines=lambda: pl.Series("line", jsonl_lines(raw()), dtype=pl.UInt32))
    df, lines, bad = _read_jsonl_slow(raw(), path, decl, skip_bad)
    good = map_records(df, lines, path, decl, skip_bad, locate_null) if df.height else None
    parts = ([good] if good is not None else []) + ([bad_records(bad, path, decl, skip_bad)] if bad else [])
    return concat_records(parts, sort_line=True)


def jsonl_lines(raw: bytes) -> list[int]:
    """Line numbers (1-based) of the non-blank lines: the records of a JSON Lines buffer."""
    return [i + 1 for i, ln in enumerate(raw.split(b"\n")) if ln.strip()]


def _read_jsonl_slow(raw: bytes, path: Path, decl: Declaration, skip_bad: bool):
    """Line by line: find undecodable / unparseable / non-object lines, then re-read the rest."""
    shown = display_path(path, decl)
    bad: list[tuple[int, str]] = []
    good_lines: list[int] = []
    good_chunks: list[bytes] = []
    offset = 0
    for i, ln in enumerate(raw.split(b"\n")):
        n = i + 1
        if ln.strip():
            try:
                obj = json.loads(ln.decode("utf-8-sig" if i == 0 else "utf-8"))
            except UnicodeDecodeError as exc:
                bad.append((n, utf8_error(raw, exc, path, offset).problem))
            except json.JSONDecodeError as exc:
                bad.append((n, f"broken JSON line: {exc.msg} at column {exc.colno}"))
            else:
                if not isinstance(obj, dict):
                    bad.append((n, f"JSON line is a {type(obj).__name__}, not an object"))
                else:
                    good_lines.append(n)
                    good_chunks.append(ln.removeprefix(b"\xef\xbb\xbf") if i == 0 else ln)
            if bad and not skip_bad:
                raise FormulaeError(bad[0][1], file=shown, line=bad[0][0])
        offset += len(ln) + 1
    try:
        df = pl.read_ndjson(io.BytesIO(b"\n".join(good_chunks)), infer_schema_length=None) if good_chunks else pl.DataFrame()
    except Exception as exc:  # e.g. a field whose type changes between records
        raise FormulaeError(f"cannot read the JSON records: {str(exc).splitlines()[0]}", file=shown) from None
    return df, pl.Series("line", good_lines, dtype=pl.UInt32), bad


