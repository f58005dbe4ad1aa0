"""The ``folder`` reader: every ``.txt`` / ``.md`` file under a folder is one statement,
with optional YAML front matter."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from ..errors import FormulaeError
from .declaration import Declaration
from .records import bad_records, concat_records, decode_utf8, display_path, map_records

# --- folder -----------------------------------------------------------------------

_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_OPEN = re.compile(r"\A---[ \t]*\r?\n")


def _front_matter(text: str, shown: str) -> tuple[dict, str, int]:
    """(metadata, text after the front matter, line where the text starts); a malformed
    front matter is a FormulaeError naming the file and line."""
    import yaml

    m = _FRONT_RE.match(text)
    if not m:
        if _FRONT_OPEN.match(text):
            raise FormulaeError("front matter opened with '---' is never closed (no closing '---' line)",
                                file=shown, line=1)
        return {}, text, 1
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FormulaeError(f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}",
                            file=shown, line=None if mark is None else mark.line + 2) from None
    if not isinstance(meta, dict):
        raise FormulaeError("front matter must be a YAML mapping", file=shown, line=2)
    return meta, text[m.end():], m.group(0).count("\n") + 1


def _key_line(text: str, key: str | None) -> int | None:
    """Line of ``key:`` in a file's front matter (None: not there)."""
    front = _FRONT_RE.match(text)
    if not key or front is None:
        return None
    m = re.search(rf"(?m)^{re.escape(key)}[ \t]*:", front.group(0))
    return None if m is None else front.group(0).count("\n", 0, m.start()) + 1


def read_folder(path: Path, decl: Declaration, skip_bad: bool = False) -> pl.DataFrame:
    """A folder of ``.txt`` / ``.md`` files; YAML front matter gives the metadata.

    A malformed front matter (not closed, not YAML, not a mapping) is an error naming the
    file and line, or with ``skip_bad`` a skipped record; a date error names the line of
    the front matter's date key."""
    files = sorted(p for p in Path(path).rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".md"))
    rows: list[dict] = []
    skipped: list[pl.DataFrame] = []
    keys: set[str] = set()
    date_key = decl.fields.get("date", "date")
    for f in files:
        shown = display_path(f, decl)
        raw = decode_utf8(f.read_bytes(), shown)
        try:
            meta, text, line = _front_matter(raw, shown)
        except FormulaeError as exc:
            skipped.append(bad_records([(exc.line or 1, exc.problem)], f, decl, skip_bad))
            continue
        meta = {str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in meta.items()}
        meta.setdefault("path", f.relative_to(path).with_suffix("").as_posix())
        keys.update(meta)
        rows.append({"_file": shown, "_line": line, "_date_line": _key_line(raw, date_key) or line,
                     "_text": text, **meta})
    if not rows:
        return concat_records(skipped)
    df = pl.DataFrame([{k: (json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict | list) else v)
                        for k, v in r.items()} for r in rows], infer_schema_length=None)
    df = df.with_columns(pl.exclude("_line", "_date_line").cast(pl.String))
    if "id" in df.columns:
        df = df.with_columns(id=pl.coalesce("id", "path"))
    else:
        df = df.with_columns(id=pl.col("path"))
    fields = dict(decl.fields)
    fields.setdefault("id", "id")
    fields["text"] = "_text"
    for role in ("date", "title", "source"):
        if role not in fields and role in keys:
            fields[role] = role
    local = _with_fields(decl, fields)
    # a record's problems are reported at its date key's line (the only record-level check
    # a folder has); kept and otherwise dropped records keep the line their text starts at
    rec = map_records(df.drop("_file", "_line", "_date_line"), df["_date_line"].cast(pl.UInt32), Path(path),
                      local, skip_bad, files=df["_file"])
    rec = rec.with_columns(line=pl.when(pl.col("drop") == "unparseable").then(pl.col("line"))
                           .otherwise(df["_line"].cast(pl.UInt32)))
    return concat_records([rec, *skipped], sort_line=False)


def _with_fields(decl: Declaration, fields: dict) -> Declaration:
    from dataclasses import replace

    return replace(decl, fields=fields)
