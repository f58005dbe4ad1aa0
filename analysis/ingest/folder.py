"""The ``folder`` reader: every ``.txt`` / ``.md`` file under a folder is one statement,
with optional YAML front matter."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

from ..errors import FormulaeError
from .declaration import Declaration
from .records import concat_records, decode_utf8, display_path, map_records

# --- folder -----------------------------------------------------------------------

_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def read_folder(path: Path, decl: Declaration, skip_bad: bool = False) -> pl.DataFrame:
    """A folder of ``.txt`` / ``.md`` files; YAML front matter gives the metadata."""
    import yaml

    files = sorted(p for p in Path(path).rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".md"))
    rows: list[dict] = []
    keys: set[str] = set()
    for f in files:
        shown = display_path(f, decl)
        text = decode_utf8(f.read_bytes(), shown)
        meta: dict = {}
        m = _FRONT_RE.match(text)
        if m:
            try:
                meta = yaml.safe_load(m.group(1)) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                raise FormulaeError(f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}",
                                    file=shown, line=None if mark is None else mark.line + 2) from None
            if not isinstance(meta, dict):
                raise FormulaeError("front matter must be a YAML mapping", file=shown, line=2)
            text = text[m.end():]
        meta = {str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in meta.items()}
        meta.setdefault("path", f.relative_to(path).with_suffix("").as_posix())
        keys.update(meta)
        rows.append({"_file": shown, "_line": (m.group(0).count("\n") + 1) if m else 1, "_text": text, **meta})
    if not rows:
        return concat_records([])
    df = pl.DataFrame([{k: (json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict | list) else v)
                        for k, v in r.items()} for r in rows], infer_schema_length=None)
    df = df.with_columns(pl.exclude("_line").cast(pl.String))
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
    rec = map_records(df.drop("_file", "_line"), df["_line"].cast(pl.UInt32), Path(path), local, skip_bad,
                      files=df["_file"])
    return concat_records([rec], sort_line=False)


def _with_fields(decl: Declaration, fields: dict) -> Declaration:
    from dataclasses import replace

    return replace(decl, fields=fields)
