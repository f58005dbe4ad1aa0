"""Raw text dumps of channel posts (format ``rawdump``), and day-month dates in text.

A raw dump is what one gets by copying posts out of a channel into a text file. The
mapping:

- **Post boundaries.** A post ends after its closing line: a line made only of
  hashtags (``#روسيا_سوريا``). A post also starts at a *lead date line*: a line led by
  an emoji and carrying a day-month date (``🗓 في 28 يناير``, ``📞 في 12 فبراير``).
  Within a block, a line that repeats an earlier line of the same block starts a new
  block (a paste run together with its original). A declaration may add its own
  boundary: ``separator`` is then a regular expression; a line matching it ends the
  post and belongs to none (e.g. ``'^-{3,}$'``, or ``'^$'`` for blank-line-separated posts).
- **Duplicate pastes.** A block whose paragraphs (non-hashtag lines, whitespace
  collapsed) all occur in earlier posts is a duplicate paste: not a statement; it is
  dropped with reason ``duplicate_paste`` and counted in the ingest log.
- **Fields.** ``text`` is the block verbatim (first occurrence), closing hashtag line
  included; ``hashtags`` (in order of appearance, without ``#``) and ``lead_emoji`` (the
  emoji that lead its paragraphs) are derived from the text at ingest; ``date`` the first day-month date of the first
  paragraph, with the year from the declaration (``date.year``) unless the text gives one.
- **Dates** (:func:`find_date`): Arabic month names, Egyptian (يناير ...), Levantine
  (كانون الثاني ...) and Maghrebi (جانفي ...), with Western or Arabic-Indic digits;
  Russian (``28 января``) and English (``28 January`` / ``January 28``) too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl

from ..errors import FormulaeError
from ..text.grammar import LEAD_EMOJI
from .declaration import Declaration
from .records import concat_records, decode_utf8, display_path, read_input

_AR_MONTHS = {
    1: ["يناير", "كانون الثاني", "جانفي", "كانون ثاني"],
    2: ["فبراير", "شباط", "فيفري", "فبرایر"],
    3: ["مارس", "آذار", "اذار", "أذار"],
    4: ["أبريل", "ابريل", "إبريل", "نيسان", "أفريل", "افريل"],
    5: ["مايو", "أيار", "ايار", "ماي"],
    6: ["يونيو", "يونيه", "حزيران", "جوان"],
    7: ["يوليو", "يوليه", "تموز", "جويلية", "جويلة"],
    8: ["أغسطس", "اغسطس", "آب", "اب", "أوت", "اوت"],
    9: ["سبتمبر", "أيلول", "ايلول"],
    10: ["أكتوبر", "اكتوبر", "تشرين الأول", "تشرين الاول", "تشرين أول", "تشرين اول"],
    11: ["نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر"],
    12: ["ديسمبر", "كانون الأول", "كانون الاول", "كانون أول", "كانون اول", "دجنبر"],
}
_RU_MONTHS = {
    1: ["января", "январь"], 2: ["февраля", "февраль"], 3: ["марта", "март"], 4: ["апреля", "апрель"],
    5: ["мая", "май"], 6: ["июня", "июнь"], 7: ["июля", "июль"], 8: ["августа", "август"],
    9: ["сентября", "сентябрь"], 10: ["октября", "октябрь"], 11: ["ноября", "ноябрь"], 12: ["декабря", "декабрь"],
}
_EN_MONTHS = {
    i + 1: [m, m[:3]] for i, m in enumerate(
        ["January", "February", "March", "April", "May", "June", "July", "August",
         "September", "October", "November", "December"])
}
_MONTH_OF: dict[str, int] = {}
for _table in (_AR_MONTHS, _RU_MONTHS, _EN_MONTHS):
    for _m, _names in _table.items():
        for _n in _names:
            _MONTH_OF[_n.lower()] = _m
_MONTH_ALT = "|".join(re.escape(n) for n in sorted(_MONTH_OF, key=len, reverse=True))
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_D = r"[0-9٠-٩۰-۹]"
# day month [year]  |  month day[,] [year]   (month names bounded by non-letters)
_DAY_MONTH = re.compile(
    rf"(?<![0-9٠-٩۰-۹])(?P<d>{_D}{{1,2}})(?:-?(?:го|th|st|nd|rd))?\s+(?:من\s+)?(?:شهر\s+)?(?P<m>{_MONTH_ALT})(?![^\W\d_])"
    rf"(?:,?\s+(?:عام\s+|سنة\s+)?(?P<y>{_D}{{4}})(?![0-9٠-٩۰-۹]))?",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"(?<![^\W\d_])(?P<m>{'|'.join(re.escape(n) for m in _EN_MONTHS.values() for n in m)})\s+(?P<d>\d{{1,2}})(?!\d)"
    rf"(?:,?\s+(?P<y>\d{{4}})(?!\d))?",
    re.IGNORECASE,
)

_HASHTAG_LINE = re.compile(r"^\s*(?:#[^\s#]+\s*)+$")
def find_date(text: str, default_year: int | None) -> tuple[dt.date | None, str | None]:
    """The first day-month date in ``text`` → (date, matched string); year from the text or default."""
    best = None
    for rx in (_DAY_MONTH, _MONTH_DAY):
        m = rx.search(text)
        if m and (best is None or m.start() < best.start()):
            best = m
    if best is None:
        return None, None
    day = int(best.group("d").translate(_DIGITS))
    month = _MONTH_OF[best.group("m").lower()]
    year = int(best.group("y").translate(_DIGITS)) if best.group("y") else default_year
    if year is None:
        return None, best.group(0)
    try:
        return dt.date(year, month, day), best.group(0)
    except ValueError:
        return None, best.group(0)


def lead_emojis(lines: list[str]) -> list[str | None]:
    """The emoji leading each line (None where none does): the ingest's definition."""
    return pl.Series(lines, dtype=pl.String).str.extract(LEAD_EMOJI, 1).to_list()


def _collapse(s: str) -> str:
    return " ".join(s.split())


def read_rawdump(path: Path, decl: Declaration, skip_bad: bool = False) -> pl.DataFrame:
    """Split a raw dump into posts; duplicate pastes are kept as dropped records.

    1. line spans in the verbatim text; 2. blocks of lines, split at separator lines,
    closing hashtag lines, emoji-led date lines and a repeated paragraph
    (:func:`_blocks`); 3. one record per block, a block whose paragraphs all occurred in
    earlier posts being a duplicate paste (:func:`_post_rows`); 4. the records frame.
    """
    shown = display_path(path, decl)
    text = decode_utf8(read_input(path), shown)
    # line spans (start, end) in the verbatim text, end excluding the line break
    spans: list[tuple[int, int]] = []
    pos = 0
    for ln in text.splitlines(keepends=True):
        body = ln.rstrip("\r\n")
        spans.append((pos, pos + len(body)))
        pos += len(ln)
    lines = [text[s:e] for s, e in spans]
    rows = _post_rows(_blocks(lines, decl), text, spans, lines, decl, shown, skip_bad)
    return _records_frame(rows)


def _blocks(lines: list[str], decl: Declaration) -> list[list[int]]:
    """Blocks of line numbers (0-based), one per post candidate."""
    boundary = re.compile(decl.separator) if decl.separator != "," else None
    leads = lead_emojis(lines)

    def is_lead_date(i: int) -> bool:
        """An emoji-led line whose date comes first (within a couple of words of the emoji)."""
        emoji, ln = leads[i], lines[i]
        if emoji is None:
            return False
        rest = ln.lstrip(" \t")[len(emoji):][:40]
        matched = find_date(rest, decl.date_year)[1]
        return matched is not None and rest.find(matched) <= 12

    blocks: list[list[int]] = []
    cur: list[int] = []
    seen: set[str] = set()
    for i, ln in enumerate(lines):
        key = _collapse(ln)
        if boundary is not None and boundary.search(ln):  # a separator line: ends the post, belongs to none
            if cur:
                blocks.append(cur)
            cur, seen = [], set()
            continue
        if not key:
            if cur:
                cur.append(i)
            continue
        is_tags = bool(_HASHTAG_LINE.match(ln))
        starts = cur and (is_lead_date(i) or (not is_tags and key in seen))
        if starts:
            blocks.append(cur)
            cur, seen = [], set()
        cur.append(i)
        if not is_tags:
            seen.add(key)
        if is_tags:
            blocks.append(cur)
            cur, seen = [], set()
    if cur:
        blocks.append(cur)
    return blocks


def _post_rows(blocks: list[list[int]], text: str, spans: list[tuple[int, int]], lines: list[str],
               decl: Declaration, shown: str, skip_bad: bool) -> list[dict]:
    """One record per block: kept, or dropped as a duplicate paste / an empty hashtag line."""
    rows: list[dict] = []
    earlier: dict[str, int] = {}  # collapsed paragraph -> line (1-based) of the post it first appeared in
    for block in blocks:
        while block and not lines[block[-1]].strip():
            block = block[:-1]
        if not block:
            continue
        first = block[0] + 1
        paras = [_collapse(lines[i]) for i in block if lines[i].strip() and not _HASHTAG_LINE.match(lines[i])]
        verbatim = text[spans[block[0]][0]: spans[block[-1]][1]]
        row = {"file": shown, "line": first, "text": verbatim, "source": decl.source, "meta": "{}",
               "hashtags": None, "lead_emoji": None}  # both derived from the text at ingest
        if paras and all(p in earlier for p in paras):
            origin = sorted({earlier[p] for p in paras})
            row.update(drop="duplicate_paste",
                       detail="repeats the post at line " + ", ".join(map(str, origin)))
            rows.append(row)
            continue
        if not paras:
            row.update(drop="empty", detail="a hashtag line without a post")
            rows.append(row)
            continue
        for p in paras:
            earlier.setdefault(p, first)
        date, matched = find_date(lines[block[0]], decl.date_year)
        if date is None and matched is not None:
            problem = (f"date '{matched}' has no year: set date.year in the declaration"
                       if decl.date_year is None else f"impossible date '{matched}'")
            if not skip_bad:
                raise FormulaeError(problem, file=shown, line=first)
            row.update(drop="unparseable", detail=problem)
        meta: dict[str, object] = {"date_text": matched} if matched else {}
        repeated = sum(p in earlier and earlier[p] != first for p in paras)
        if repeated:  # kept (it has new paragraphs too), but say how much of it was seen before
            meta["repeated_paragraphs"] = repeated
        row.update(date=date, date_precision="day" if date else "none", meta=json.dumps(meta, ensure_ascii=False, sort_keys=True))
        rows.append(row)
    return rows


def _records_frame(rows: list[dict]) -> pl.DataFrame:
    """The records frame of the posts (every column of the schema, in input order)."""
    if not rows:
        return concat_records([])
    df = pl.DataFrame(
        rows,
        schema_overrides={"line": pl.UInt32, "date": pl.Date, "hashtags": pl.List(pl.String),
                          "lead_emoji": pl.List(pl.String), "source": pl.String},
        infer_schema_length=None,
    )
    for c in ("id", "title", "drop", "detail", "date_precision"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    if "date" not in df.columns:
        df = df.with_columns(date=pl.lit(None, dtype=pl.Date))
    return concat_records([df.with_columns(pl.col("date_precision").fill_null("none"))], sort_line=False)
