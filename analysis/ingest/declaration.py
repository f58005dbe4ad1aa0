"""Corpus declarations: the small YAML file that says what a corpus is.

A declaration lives anywhere (the default ones in ``corpus/``); every path in it is
relative to the declaration file itself. Keys (``*`` = required)::

    name*        corpus name: lowercase letters, digits, ``.``, ``_``, ``-``
    format*      rawdump | telegram | jsonl | csv | folder
    path* / paths*  one path or a list (globs allowed, expanded in sorted order)
    language*    ISO 639-1 code (ar, en, ru, ...)
    line_breaks  paragraph (a single newline is a paragraph break: channel posts) |
                 wrap (a single newline is a wrap inside a sentence: OCR, hard-wrapped
                 text). A blank line is always a paragraph break. Default: paragraph.
    source       source label for every statement (or for records whose source field is empty)
    fields       field mapping for jsonl / csv / folder front matter:
                   id, text, date, source, title: a field name (or null); a role not
                   given defaults to the field of the same name when there is one
                   extra: all (default: every unmapped field) | none | [field, ...] -> meta
    date         format: auto (ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, datetime) | year |
                         a strftime pattern such as "%Y-%m-%d %H:%M:%S"
                 precision: day | month | year (optional: coarsen parsed dates)
                 year: default year for day-month dates in raw text (raw dumps)
    separator    csv: field separator (default ","); rawdump: a regular expression, a line
                 matching it is a post boundary (e.g. '^-{3,}$')
    aliases      optional path of a spelling-alias file (used by the text layer)
    licence, description, citation   free text, copied into the manifest

Validation errors name the declaration file and the key.
"""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormulaeError
from ..store import CORPUS_NAME_RE
from ..vocab import DECLARED_PRECISIONS, INPUT_FORMATS, LINE_BREAKS

FORMATS = INPUT_FORMATS
PRECISIONS = DECLARED_PRECISIONS
FIELD_ROLES = ("id", "text", "date", "source", "title")
KNOWN_KEYS = {
    "name", "format", "path", "paths", "language", "line_breaks", "source", "fields",
    "date", "separator", "aliases", "licence", "license", "description", "citation",
}
_LANG_RE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class Declaration:
    """A validated corpus declaration."""

    file: Path
    sha256: str
    name: str
    format: str
    inputs: tuple[Path, ...]
    language: str
    line_breaks: str = "paragraph"
    source: str | None = None
    fields: dict[str, str | None] = field(default_factory=dict)
    extra: str | tuple[str, ...] = "all"
    date_format: str = "auto"
    date_precision: str | None = None
    date_year: int | None = None
    separator: str = ","
    aliases: Path | None = None
    licence: str | None = None
    description: str | None = None
    citation: str | None = None

    def field_for(self, role: str) -> str | None:
        return self.fields.get(role)


def is_declaration(path: Path) -> bool:
    """True if a YAML file is a corpus declaration: it has a top-level ``format:`` key.

    (Other YAML files live in ``corpus/`` too: the formula lexicon, alias tables.)
    """
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return False
    return re.search(rb"(?m)^format[ \t]*:", raw) is not None


def declaration_load(path: str | Path) -> Declaration:
    """Read and validate a declaration; errors name the file and the key.

    1. the YAML mapping (:func:`_read_yaml`); 2. the required keys and their values
    (:func:`_parse_head`); 3. inputs, fields, dates and the separator; 4. the
    :class:`Declaration`.
    """
    path = Path(path)
    raw, data = _read_yaml(path)

    def bad(key: str, problem: str) -> FormulaeError:
        return FormulaeError(f"key '{key}': {problem}", file=path, line=_key_line(raw, key))

    name, fmt, language, line_breaks = _parse_head(data, bad, path)
    inputs = _resolve_inputs(path, data, bad, fmt)
    fields, extra = _parse_fields(data.get("fields"), bad, fmt)
    date_format, date_precision, date_year = _parse_date(data.get("date"), bad)
    separator = _parse_separator(data, bad, fmt)
    aliases = None
    if data.get("aliases"):
        aliases = (path.parent / str(data["aliases"])).resolve()
    source = data.get("source")
    if source is not None and not isinstance(source, str | int):
        raise bad("source", "must be a text label")
    return Declaration(
        file=path.resolve(),
        sha256=hashlib.sha256(raw).hexdigest(),
        name=name,
        format=fmt,
        inputs=inputs,
        language=language,
        line_breaks=line_breaks,
        source=None if source is None else str(source),
        fields=fields,
        extra=extra,
        date_format=date_format,
        date_precision=date_precision,
        date_year=date_year,
        separator=separator,
        aliases=aliases,
        licence=_opt_text(data.get("licence", data.get("license"))),
        description=_opt_text(data.get("description")),
        citation=_opt_text(data.get("citation")),
    )


def _read_yaml(path: Path) -> tuple[bytes, dict]:
    """The declaration's bytes and its YAML mapping (errors name the file and line)."""
    import yaml

    if not path.is_file():
        raise FormulaeError("no such corpus declaration", file=path)
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FormulaeError(f"declaration is not valid UTF-8 ({exc.reason})", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormulaeError(f"declaration is not valid YAML: {problem}", file=path, line=line) from None
    if not isinstance(data, dict):
        raise FormulaeError("declaration must be a YAML mapping of keys (name, format, path, ...)", file=path)
    return raw, data


def _parse_head(data: dict, bad, path: Path) -> tuple[str, str, str, str]:
    """(name, format, language, line_breaks): unknown keys, missing and invalid values are errors."""
    unknown = sorted(set(map(str, data)) - KNOWN_KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key; allowed: {', '.join(sorted(KNOWN_KEYS))}")
    for key in ("name", "format", "language"):
        if key not in data or data[key] in (None, ""):
            raise FormulaeError(f"missing required key '{key}'", file=path)
    name = str(data["name"])
    if not CORPUS_NAME_RE.fullmatch(name):
        raise bad("name", f"{name!r} is not a valid corpus name (lowercase letters, digits, '.', '_', '-')")
    fmt = str(data["format"])
    if fmt not in FORMATS:
        raise bad("format", f"{fmt!r} is not a known format; allowed: {', '.join(FORMATS)}")
    language = str(data["language"])
    if not _LANG_RE.match(language):
        raise bad("language", f"{language!r} is not an ISO 639-1 code such as ar, en, ru")
    line_breaks = str(data.get("line_breaks") or "paragraph")
    if line_breaks not in LINE_BREAKS:
        raise bad("line_breaks", f"{line_breaks!r}; allowed: {', '.join(LINE_BREAKS)}")
    return name, fmt, language, line_breaks


def _parse_separator(data: dict, bad, fmt: str) -> str:
    """The CSV separator (one character), or the raw dump's post separator (a regex)."""
    separator = str(data.get("separator", ","))
    if fmt == "rawdump" and "separator" in data:
        try:
            re.compile(separator)
        except re.error as exc:
            raise bad("separator", f"{separator!r} is not a valid regular expression ({exc})") from None
        if separator == ",":
            raise bad("separator", "',' would split posts at every comma line; give a regular expression")
    elif len(separator) != 1:
        raise bad("separator", f"{separator!r} must be a single character")
    return separator


def _opt_text(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def _key_line(raw: bytes, key: str) -> int | None:
    """Line of a (dotted) key such as ``date.format``: each part searched after its parent."""
    pos, start = 0, None
    for i, part in enumerate(key.split(".")):
        head = rb"(?m)^" if i == 0 else rb"(?:^|[{,\s])"
        m = re.compile(head + rb"[ \t]*" + re.escape(part.encode()) + rb"[ \t]*:").search(raw, pos)
        if m is None:
            return None if start is None else raw.count(b"\n", 0, start) + 1
        start = m.start() + (1 if raw[m.start():m.start() + 1] in b"{, \t\n" and i else 0)
        pos = m.end()
    return raw.count(b"\n", 0, start) + 1


def _resolve_inputs(path: Path, data: dict, bad, fmt: str) -> tuple[Path, ...]:
    if "path" in data and "paths" in data:
        raise bad("paths", "give either 'path' or 'paths', not both")
    key = "paths" if "paths" in data else "path"
    value = data.get(key)
    if value in (None, "", []):
        raise FormulaeError("missing required key 'path' (or 'paths')", file=path)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise bad(key, "must be a path or a list of paths")
    out: list[Path] = []
    for item in items:
        pattern = path.parent / item
        if any(ch in item for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(str(pattern)))
            if not matches:
                raise bad(key, f"no file matches {item!r}")
            out.extend(matches)
        else:
            if not pattern.exists():
                raise bad(key, f"no such file or folder: {item!r} (resolved to {pattern.resolve()})")
            out.append(pattern)
    out = [p.resolve() for p in out]
    if fmt == "folder":
        if not all(p.is_dir() for p in out):
            raise bad(key, "format 'folder' needs folder paths")
    elif not all(p.is_file() for p in out):
        raise bad(key, f"format {fmt!r} needs file paths (give format 'folder' for a folder)")
    return tuple(out)


def _parse_fields(value: Any, bad, fmt: str) -> tuple[dict[str, str | None], str | tuple[str, ...]]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise bad("fields", "must be a mapping such as {text: text, date: date}")
    fields: dict[str, str | None] = {}
    extra: str | tuple[str, ...] = "all"
    for key, v in value.items():
        key = str(key)
        if key == "extra":
            if v in ("all", "none"):
                extra = v
            elif isinstance(v, list) and all(isinstance(x, str) for x in v):
                extra = tuple(v)
            else:
                raise bad("fields.extra", "must be 'all', 'none' or a list of field names")
        elif key in FIELD_ROLES:
            if v is not None and not isinstance(v, str):
                raise bad(f"fields.{key}", "must be a field name or null")
            fields[key] = v
        else:
            raise bad(f"fields.{key}", f"unknown field role; allowed: {', '.join(FIELD_ROLES)}, extra")
    if fmt in ("jsonl", "csv"):
        fields.setdefault("text", "text")
        if not fields["text"]:
            raise bad("fields.text", "a text field is required for format " + fmt)
    return fields, extra


def _parse_date(value: Any, bad) -> tuple[str, str | None, int | None]:
    if value is None:
        return "auto", None, None
    if not isinstance(value, dict):
        raise bad("date", "must be a mapping such as {format: auto, year: 2025}")
    allowed = {"format", "precision", "year"}
    for key in value:
        if key not in allowed:
            raise bad(f"date.{key}", f"unknown date key; allowed: {', '.join(sorted(allowed))}")
    fmt = str(value.get("format") or "auto")
    if fmt not in ("auto", "year") and "%" not in fmt:
        raise bad("date.format", f"{fmt!r}: use auto, year or a strftime pattern such as %Y-%m-%d")
    precision = value.get("precision")
    if precision is not None and precision not in PRECISIONS:
        raise bad("date.precision", f"{precision!r}; allowed: {', '.join(PRECISIONS)}")
    year = value.get("year")
    if year is not None:
        if not isinstance(year, int) or not 1 <= year <= 9999:
            raise bad("date.year", f"{year!r} is not a year")
    return fmt, precision, year
