"""Telegram Desktop exports (format ``telegram``): ``result.json`` of a channel or chat.

Mapping: each ``messages[]`` item of type ``message`` is one statement (id = the
message id); ``text`` (a string, or a list of strings and ``{type, text}`` entity parts)
is flattened to the verbatim text; hashtags come from the ``hashtag`` entities
(``text_entities``, else the parts; for a plain string they are found in the text at
ingest); the source is the message's ``from``, else the export's channel ``name``; the
date is the message ``date`` (by day; the time stays in ``meta``). Service messages
(``type: service``) are dropped as ``not_a_message``; messages without text (a photo
alone) are dropped as ``empty`` at ingest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import FormulaeError
from .declaration import Declaration
from .records import concat_records, date_exprs, decode_utf8, display_path, read_input


def read_telegram(path: Path, decl: Declaration, skip_bad: bool = False) -> pl.DataFrame:
    """Telegram Desktop export (``result.json``): one message = one statement."""
    shown = display_path(path, decl)
    text = decode_utf8(read_input(path), shown)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormulaeError(f"broken JSON: {exc.msg} at column {exc.colno}", file=shown, line=exc.lineno) from None
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise FormulaeError("not a Telegram export: no 'messages' list at the top level", file=shown, line=1)
    channel = data.get("name")
    # approximate line of each message: exports are indented, one '"id":' per message
    id_lines: list[int | None] = [text.count("\n", 0, m.start()) + 1
                                  for m in re.finditer(r'(?m)^\s{0,8}\{\s*\n?\s*"id"\s*:', text)]
    if len(id_lines) != len(data["messages"]):  # not the usual indented layout: no line numbers
        id_lines = [None] * len(data["messages"])
    rows: list[dict] = []
    for i, msg in enumerate(data["messages"]):
        line = id_lines[i]
        row: dict[str, Any] = {"file": shown, "line": line, "drop": None, "detail": None, "_pos": i + 1}
        if not isinstance(msg, dict):
            row.update(drop="unparseable", detail="message is not a JSON object")
            rows.append(row)
            continue
        if msg.get("type", "message") != "message":
            row.update(id=_tg_id(msg), drop="not_a_message", detail=f"type {msg.get('type')!r}")
            rows.append(row)
            continue
        if "text" not in msg:
            row.update(id=_tg_id(msg), drop="unparseable", detail="message has no 'text' field")
            rows.append(row)
            continue
        flat, found = _tg_flatten(msg.get("text"))
        tags: list[str] | None = found
        entities = msg.get("text_entities")
        if isinstance(entities, list):
            tags = [e.get("text", "") for e in entities if isinstance(e, dict) and e.get("type") == "hashtag"]
        elif isinstance(msg.get("text"), str):
            tags = None  # no entity information: hashtags are found in the text at ingest
        date_raw = msg.get("date")
        meta = {k: v for k, v in msg.items() if k not in ("id", "text", "text_entities", "type")}
        row.update(
            id=_tg_id(msg),
            source=str(msg.get("from") or channel) if (msg.get("from") or channel) else None,
            _date=None if date_raw is None else str(date_raw),
            title=None,
            text=flat,
            hashtags=None if tags is None else [t.lstrip("#") for t in tags if t.lstrip("#")],
            meta=json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str),
        )
        rows.append(row)
    if not rows:
        return concat_records([])
    df = pl.DataFrame(rows, schema_overrides={"hashtags": pl.List(pl.String), "line": pl.UInt32}, infer_schema_length=None)
    for c in ("id", "source", "_date", "title", "text", "meta"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    date, prec = date_exprs(pl.col("_date"), decl)
    df = df.with_columns(date=date, date_precision=prec, lead_emoji=pl.lit(None, dtype=pl.List(pl.String)),
                         meta=pl.col("meta").fill_null("{}"))
    if "hashtags" not in df.columns:
        df = df.with_columns(hashtags=pl.lit(None, dtype=pl.List(pl.String)))
    bad_date = pl.col("_date").is_not_null() & pl.col("date").is_null() & pl.col("drop").is_null()
    df = df.with_columns(drop=pl.when(bad_date).then(pl.lit("unparseable")).otherwise(pl.col("drop")),
                         detail=pl.when(bad_date).then(pl.lit("unparseable date '") + pl.col("_date") + pl.lit("'"))
                         .otherwise(pl.col("detail")))
    # name the message: its position in the export (and id), since a line is not always known
    where = (pl.lit(" (message ") + pl.col("_pos").cast(pl.String)
             + pl.when(pl.col("id").is_not_null()).then(pl.lit(", id ") + pl.col("id")).otherwise(pl.lit(""))
             + pl.lit(")"))
    df = df.with_columns(detail=pl.when(pl.col("drop") == "unparseable").then(pl.col("detail") + where)
                         .otherwise(pl.col("detail")))
    bad = df.filter(pl.col("drop") == "unparseable")
    if bad.height and not skip_bad:  # the first bad message in file order
        raise FormulaeError(bad["detail"][0], file=shown, line=bad["line"][0])
    return concat_records([df], sort_line=False)


def _tg_id(msg: dict) -> str | None:
    return None if msg.get("id") is None else str(msg["id"])


def _tg_flatten(text) -> tuple[str, list[str]]:
    """Telegram ``text``: a string, or a list of strings and ``{type, text}`` entity parts."""
    if text is None:
        return "", []
    if isinstance(text, str):
        return text, []
    parts: list[str] = []
    tags: list[str] = []
    for part in text if isinstance(text, list) else [text]:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            t = str(part.get("text", ""))
            parts.append(t)
            if part.get("type") == "hashtag":
                tags.append(t)
    return "".join(parts), tags
