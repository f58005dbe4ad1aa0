"""Queries on a built phrase index: counts over time (`query`), concordance (`kwic`),
the recurring-phrase table (`phrases`).

:func:`query_phrase` is on the command line's critical path (< 0.5 s for the whole
process), so it runs on numpy alone: memory-mapped arrays of the index, a binary search
in the suffix array, the query's words looked up in the index's surface map (the exact
forms the corpus got for that word). Only a phrase with a word the corpus never had (or
punctuation, digits with separators, diacritics) takes the slow path through the
tokenizer and the Analyzer (polars).

Result columns (``query``): ``period`` (label of the period: ``2015``, ``2015-Q3``,
``2015-07``, ``2015-07-20`` = Monday of the week, ``2015-07-21``; ``all`` without
``--by``), ``source``, ``statements`` (statements containing the phrase),
``occurrences``, ``tokens`` (all tokens of all statements of that period and source,
the rate's denominator), ``statements_total`` (all statements of that period and source),
``per_10k`` (occurrences per 10,000 tokens).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import suffix
from .errors import FormulaeError

BY = ("day", "week", "month", "quarter", "year")
_NEED = {"year": 1, "quarter": 2, "month": 2, "week": 3, "day": 3}
_NULL_DAY = np.iinfo(np.int32).min
_SIMPLE = re.compile(r"^\s*(?:[^\W_]+\s*)+$")
QUERY_COLUMNS = ("period", "source", "statements", "occurrences", "tokens", "statements_total", "per_10k")


class IndexMissing(FormulaeError):
    """No (or a stale) phrase index: the CLI builds it and asks again."""


@dataclass
class Result:
    """A small table (columns in order) with its parameters and notes."""

    columns: dict[str, list]
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def frame(self):
        import polars as pl

        return pl.DataFrame(self.columns)

    def rows(self) -> list[dict]:
        names = list(self.columns)
        return [dict(zip(names, vals, strict=True)) for vals in zip(*self.columns.values(), strict=True)]


# --- opening an index without polars --------------------------------------------


class _Index:
    """The parts of a stored index a query needs (numpy + json only)."""

    def __init__(self, corpus: str, level: str | None, store):
        from .store import corpus_dir, read_json

        base = corpus_dir(corpus, store)
        snap = base / "snapshot" / "manifest.json"
        if not snap.exists():
            raise FormulaeError(f"unknown corpus {corpus!r}: no snapshot in {base.parent}")
        self.snapshot = read_json(snap)
        language = self.snapshot.get("language", "en")
        if level is None:
            level = "clitic" if language == "ar" else "norm"
        self.corpus, self.level, self.folder = corpus, level, base / "index" / level
        if not (self.folder / "manifest.json").exists():
            raise IndexMissing(f"no phrase index for corpus {corpus!r} at level {level!r} in {base / 'index'}; "
                                f"run: formulae index --corpus {corpus} --level {level}")
        self.manifest = read_json(self.folder / "manifest.json")
        if self.manifest.get("snapshot_sha256") != self.snapshot.get("snapshot_sha256"):
            raise IndexMissing(f"the phrase index of {corpus!r} at level {level!r} is older than its snapshot; "
                                f"run: formulae index --corpus {corpus} --level {level}")
        self._arrays: dict[str, np.ndarray] = {}

    def a(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        return self._arrays[name]

    def ids(self, phrase: str) -> tuple[np.ndarray | None, list[str] | None]:
        """Token ids of the query phrase; (None, forms) when a form is not in the corpus."""
        fast = self._fast_ids(phrase)
        if fast is not None:
            return fast, None
        forms = query_forms(self, phrase)
        from .phrases import PhraseIndex

        ix = PhraseIndex(self.corpus, self.level, self.folder, self.manifest)
        return (ix.ids_of(forms) if forms else None), forms

    def _fast_ids(self, phrase: str) -> np.ndarray | None:
        if not _SIMPLE.match(phrase):
            return None
        keys, off, flat = self.a("surf_keys"), self.a("surf_off"), self.a("surf_ids")
        out = []
        for word in phrase.split():
            i = int(np.searchsorted(keys, word))
            if i >= len(keys) or keys[i] != word:
                return None
            out.append(np.asarray(flat[off[i]:off[i + 1]]))
        return np.concatenate(out).astype(np.uint32) if out else None

    def find(self, ids: np.ndarray) -> np.ndarray:
        lo, hi = suffix.sa_range(self.a("ids"), self.a("sa"), ids, self.a("sent_starts"))
        return np.sort(np.asarray(self.a("sa")[lo:hi], np.int64))

    def docs_of(self, pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.a("doc_first")), pos, side="right") - 1


def query_forms(index, phrase: str) -> list[str]:
    """The query phrase as forms at the index's level, processed exactly like the corpus."""
    import polars as pl

    from .tokens import tokens_build, tokens_level

    m = index.manifest
    language, line_breaks = m.get("language", "en"), m.get("line_breaks", "paragraph")
    analyzer = None
    if index.level in ("clitic", "stem") or index.snapshot.get("aliases"):
        from .arabic import Analyzer, aliases_load

        path = index.snapshot.get("aliases")
        aliases = aliases_load(path, language) if path and Path(path).exists() else None
        analyzer = Analyzer(language, None, aliases=aliases, line_breaks=line_breaks)
        words = index.folder / "words.parquet"
        if words.exists():
            analyzer.counts = _Counts(words)
    frame = pl.DataFrame({"doc": [0], "text": [phrase]}, schema={"doc": pl.UInt32, "text": pl.String})
    toks = tokens_build(frame, language=language, line_breaks=line_breaks)
    return tokens_level(toks, index.level, analyzer=analyzer).collect()["form"].to_list()


class _Counts:
    """Corpus word counts for the Analyzer, read from the index on demand."""

    def __init__(self, path: Path):
        self.path, self.memo = path, {}

    def get(self, word: str, default: int = 0) -> int:
        if word not in self.memo:
            import polars as pl

            hit = pl.scan_parquet(self.path).filter(pl.col("norm") == word).select("count").collect()
            self.memo[word] = int(hit["count"][0]) if hit.height else 0
        return self.memo[word] or default


# --- periods ---------------------------------------------------------------------


def _period_keys(days: np.ndarray, by: str) -> np.ndarray:
    d = days.astype("datetime64[D]")
    if by == "day":
        return days.astype(np.int64)
    if by == "week":
        return (days - ((days.astype(np.int64) - 4) % 7)).astype(np.int64)  # 1970-01-05 was a Monday
    months = d.astype("datetime64[M]").astype(np.int64)
    if by == "month":
        return months
    if by == "quarter":
        return months - months % 3
    return d.astype("datetime64[Y]").astype(np.int64)


def _period_label(key: int, by: str | None) -> str:
    if by is None:
        return "all"
    if by in ("day", "week"):
        return str(np.datetime64(int(key), "D"))
    if by == "month":
        return str(np.datetime64(int(key), "M"))
    if by == "quarter":
        m = np.datetime64(int(key), "M")
        return f"{str(m)[:4]}-Q{int(key) % 12 // 3 + 1}"
    return str(np.datetime64(int(key), "Y"))


def _day(value: str | None, name: str, end: bool) -> int | None:
    """ISO date (YYYY, YYYY-MM or YYYY-MM-DD) -> day number; ``end`` = last day of it."""
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        raise FormulaeError(f"{name} {value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    unit = {4: "Y", 7: "M", 10: "D"}[len(value)]
    try:
        d = np.datetime64(value, unit)
    except ValueError:
        raise FormulaeError(f"{name} {value!r} is not a valid date") from None
    if end:
        return int((d + 1).astype("datetime64[D]").astype(np.int64)) - 1
    return int(d.astype("datetime64[D]").astype(np.int64))


def _doc_filter(ix: _Index, source, date_from, date_to, distinct) -> tuple[np.ndarray, list[str]]:
    """Boolean mask of kept statements and notes on what was left out."""
    sources = ix.manifest["sources"]
    src = np.asarray(ix.a("doc_source"))
    keep = np.ones(len(src), bool)
    notes = []
    if source:
        wanted = [source] if isinstance(source, str) else list(source)
        bad = [s for s in wanted if s not in sources]
        if bad:
            shown = ", ".join(sources[:12]) + (" ..." if len(sources) > 12 else "")
            raise FormulaeError(f"--source {bad[0]!r} is not a source of {ix.corpus!r} (sources: {shown})")
        keep &= np.isin(src, [sources.index(s) for s in wanted])
    if distinct:
        dup = np.asarray(ix.a("doc_dup"))
        if (dup & keep).any():
            notes.append(f"{int((dup & keep).sum())} statements excluded: duplicates of a statement under another source (--distinct)")
        keep &= ~dup
    lo, hi = _day(date_from, "--from", False), _day(date_to, "--to", True)
    if lo is not None or hi is not None:
        day = np.asarray(ix.a("doc_day")).astype(np.int64)
        dated = day != _NULL_DAY
        inside = dated & (day >= (lo if lo is not None else day.min())) & (day <= (hi if hi is not None else day.max()))
        n_undated = int((keep & ~dated).sum())
        if n_undated:
            notes.append(f"{n_undated} undated statements excluded by --from/--to")
        keep &= inside
    return keep, notes


def query_phrase(corpus: str, phrase: str, *, level: str | None = None, by: str | None = "year",
                 source=None, date_from: str | None = None, date_to: str | None = None,
                 distinct: bool = False, store=None) -> Result:
    """Statements, occurrences, tokens and rate per 10k tokens of ``phrase`` per period and source."""
    if by is not None and by not in BY:
        raise FormulaeError(f"--by {by!r} is not one of {', '.join(BY)}")
    if not phrase.strip():
        raise FormulaeError("the phrase is empty")
    ix = _Index(corpus, level, store)
    ids, forms = ix.ids(phrase)
    keep, notes = _doc_filter(ix, source, date_from, date_to, distinct)
    n_docs = len(keep)
    occ = np.zeros(n_docs, np.int64)
    if ids is not None:
        pos = ix.find(ids)
        occ = np.bincount(ix.docs_of(pos), minlength=n_docs)
    elif forms:
        notes.append("a word of the phrase never occurs in the corpus at this level")
    tokens = np.asarray(ix.a("doc_tokens"))
    src = np.asarray(ix.a("doc_source")).astype(np.int64)
    if by is None:
        period = np.zeros(n_docs, np.int64)
    else:
        day = np.asarray(ix.a("doc_day")).astype(np.int64)
        prec = np.asarray(ix.a("doc_prec"))
        undated = keep & (day == _NULL_DAY)
        coarse = keep & ~undated & (prec < _NEED[by])
        if undated.any():
            notes.append(f"{int(undated.sum())} undated statements left out of the series "
                         f"({int(occ[undated].sum())} occurrences)")
        if coarse.any():
            notes.append(f"{int(coarse.sum())} statements dated more coarsely than --by {by} left out "
                         f"({int(occ[coarse].sum())} occurrences)")
        keep = keep & ~undated & ~coarse
        period = np.where(day == _NULL_DAY, 0, _period_keys(np.where(day == _NULL_DAY, 0, day), by))
    k = np.flatnonzero(keep)
    key = period[k] * 100_000 + src[k]
    uniq, inv = np.unique(key, return_inverse=True)
    g = len(uniq)
    stats = {
        "statements": np.bincount(inv, weights=(occ[k] > 0), minlength=g).astype(np.int64),
        "occurrences": np.bincount(inv, weights=occ[k], minlength=g).astype(np.int64),
        "tokens": np.bincount(inv, weights=tokens[k], minlength=g).astype(np.int64),
        "statements_total": np.bincount(inv, minlength=g).astype(np.int64),
    }
    sources = ix.manifest["sources"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(stats["tokens"] > 0, stats["occurrences"] * 10_000 / np.maximum(stats["tokens"], 1), 0.0)
    columns = {
        "period": [_period_label(int(u) // 100_000, by) for u in uniq],
        "source": [sources[int(u) % 100_000] if int(u) % 100_000 < len(sources) else None for u in uniq],
        **{name: v.tolist() for name, v in stats.items()},
        "per_10k": [round(float(x), 4) for x in rate],
    }
    params = {"corpus": corpus, "phrase": phrase, "level": ix.level, "by": by, "source": source,
              "from": date_from, "to": date_to, "distinct": distinct,
              "snapshot_sha256": ix.manifest["snapshot_sha256"]}
    return Result(columns, params, notes)


# --- concordance ----------------------------------------------------------------


KWIC_BREAK = r"\s*(?:\r\n|[\n\r\u2028\u2029])\s*"  # a line break and the white space around it


def kwic_context(width: int, *, text: str = "text", start: str = "start", end: str = "end"):
    """``before``, ``match``, ``after``: the verbatim ``text`` around code points
    ``[start, end)``, ``width`` either side, each line break (with the white space around
    it) shown as `` ¶ ``. The one definition of a concordance line, for the CLI's
    ``kwic`` and the reports' alike."""
    import polars as pl

    s, e, t = pl.col(start).cast(pl.Int64), pl.col(end).cast(pl.Int64), pl.col(text)
    left = pl.max_horizontal(s - width, pl.lit(0))
    return [
        t.str.slice(left, s - left).str.replace_all(KWIC_BREAK, " ¶ ").alias("before"),
        t.str.slice(s, e - s).str.replace_all(KWIC_BREAK, " ¶ ").alias("match"),
        t.str.slice(e, width).str.replace_all(KWIC_BREAK, " ¶ ").alias("after"),
    ]


def query_kwic(corpus: str, phrase: str, *, level: str | None = None, width: int = 60,
               source=None, date_from: str | None = None, date_to: str | None = None,
               distinct: bool = False, limit: int | None = None, store=None):
    """Concordance lines of ``phrase`` in the original wording, sorted by date.

    Columns: ``date``, ``source``, ``id``, ``before``, ``match``, ``after`` (verbatim text
    around the match; line breaks shown as ``¶``), ``doc``, ``start``, ``end`` (code-point
    offsets of the match in the statement's text). Returns (frame, notes).
    """
    import polars as pl

    from .corpus import corpus_load

    if width < 1:
        raise FormulaeError(f"--width must be positive, got {width}")
    ix = _Index(corpus, level, store)
    ids, _ = ix.ids(phrase)
    keep, notes = _doc_filter(ix, source, date_from, date_to, distinct)
    schema = {"date": pl.Date, "source": pl.String, "id": pl.String, "before": pl.String,
              "match": pl.String, "after": pl.String, "doc": pl.UInt32, "start": pl.UInt32, "end": pl.UInt32}
    if ids is None:
        return pl.DataFrame(schema=schema), notes
    pos = ix.find(ids)
    docs = ix.docs_of(pos)
    sel = keep[docs]
    pos, docs = pos[sel], docs[sel]
    m = len(ids)
    hits = pl.DataFrame({
        "doc": docs.astype(np.uint32),
        "start": np.asarray(ix.a("start"))[pos].astype(np.uint32),
        "end": np.asarray(ix.a("end"))[pos + m - 1].astype(np.uint32),
    })
    if hits.height == 0:
        return pl.DataFrame(schema=schema), notes
    texts = (corpus_load(corpus, store).filter(pl.col("doc").is_in(hits["doc"].unique().implode()))
             .select("doc", "id", "source", "date", "text").collect())
    out = (
        hits.join(texts, on="doc", how="left")
        .with_columns(kwic_context(width))
        .sort(["date", "source", "id", "start"], nulls_last=True)
        .select(list(schema))
    )
    if limit is not None and out.height > limit:
        notes.append(f"showing {limit} of {out.height} lines (--limit)")
        out = out.head(limit)
    return out, notes


# --- the recurring-phrase table ---------------------------------------------------

SORTS = ("statements", "freq", "n", "g2", "log_dice", "pmi", "dp", "phrase")


def phrases_table(corpus: str, *, level: str | None = None, min_statements: int = 2,
                  n: tuple[int, int] | None = None, maximal: bool = False, by: str | None = None,
                  sort: str = "statements", limit: int | None = 100, store=None):
    """The recurring-phrase table: n-grams (``n=(lo, hi)``) or maximal phrases.

    Columns: ``phrase``, ``n`` (tokens), ``freq`` (occurrences), ``statements``,
    ``distinct_statements`` (a text repeated under two sources counted once), ``dp``
    (Gries's DP, 0 = even, 1 = concentrated), ``g2``, ``log_dice``, ``pmi``. With
    ``by``: one row per phrase and period with ``period``, ``statements``, ``occurrences``.
    Returns (frame, notes).
    """
    import polars as pl

    from .phrases import index_load

    if sort not in SORTS:
        raise FormulaeError(f"--sort {sort!r} is not one of {', '.join(SORTS)}")
    if by is not None and by not in BY:
        raise FormulaeError(f"--by {by!r} is not one of {', '.join(BY)}")
    ix = index_load(corpus, level, store)
    built_k = ix.manifest["params"]["min_statements"]
    notes = []
    if min_statements < built_k:
        notes.append(f"the index keeps phrases in >= {built_k} statements; --min-statements {min_statements} "
                     f"shows the same rows")
    lf = ix.table("maximal" if maximal else "ngrams").filter(pl.col("distinct_statements") >= min_statements)
    if n is not None:
        lo, hi = n
        if lo < 1 or hi < lo:
            raise FormulaeError(f"--n {lo}..{hi} is not a valid range")
        if not maximal and hi > ix.manifest["params"]["max_n"]:
            notes.append(f"n-grams are indexed up to n = {ix.manifest['params']['max_n']}; use --maximal for longer phrases")
        lf = lf.filter(pl.col("n").is_between(lo, hi))
    elif not maximal:
        lf = lf.filter(pl.col("n") >= 2)
    desc = sort != "phrase" and sort != "dp"
    if sort == "phrase":
        frame = lf.collect()
        frame = frame.with_columns(ix.phrases(frame)).sort(["phrase", "n"])
    else:
        frame = lf.sort([sort, "statements", "freq", "n", "sa_lo"],
                        descending=[desc, True, True, True, False], nulls_last=True).collect()
    total = frame.height
    if limit is not None and total > limit:
        frame = frame.head(limit)
        notes.append(f"showing {limit} of {total} phrases (--limit)")
    if "phrase" not in frame.columns:
        frame = frame.with_columns(ix.phrases(frame))
    cols = ["phrase", "n", "freq", "statements", "distinct_statements", "dp", "g2", "log_dice", "pmi"]
    if by is None:
        return frame.select(cols), notes
    counts = ix.statement_counts(frame)
    docs = ix.table("docs").select("doc", "date", "date_precision").collect()
    need = {"none": 0, "year": 1, "month": 2, "day": 3}
    usable = pl.col("date").is_not_null() & (
        pl.col("date_precision").replace_strict(need, default=0, return_dtype=pl.Int8) >= _NEED[by])
    left_out = docs.filter(~usable).height
    if left_out:
        notes.append(f"{left_out} statements undated or dated more coarsely than --by {by} are left out of the periods")
    per = (
        counts.join(docs, on="doc", how="left")
        .filter(usable)
        .with_columns(pl.col("date").dt.truncate({"day": "1d", "week": "1w", "month": "1mo",
                                                  "quarter": "1q", "year": "1y"}[by]).alias("_p"))
        .group_by("row", "_p").agg(pl.len().alias("statements"), pl.col("count").sum().alias("occurrences"))
    )
    labels = per.select("_p").unique()
    labels = labels.with_columns(pl.Series("period", [_period_label(_key_of(d, by), by) for d in labels["_p"].to_list()]))
    out = (
        per.join(labels, on="_p").join(frame.select(pl.int_range(pl.len()).cast(pl.UInt32).alias("row"), "phrase", "n"), on="row")
        .sort(["row", "_p"])
        .select("phrase", "n", "period", pl.col("statements").cast(pl.UInt32), pl.col("occurrences").cast(pl.UInt32))
    )
    return out, notes


def _key_of(d, by: str) -> int:
    days = np.array([np.datetime64(d, "D").astype(np.int64)])
    return int(_period_keys(days, by)[0])


# --- output without polars (the query command's fast path) ------------------------


def table_print(columns: dict[str, list], title: str | None = None, numeric: set[str] | None = None) -> None:
    """Print columns as a rich table: the one table printer of the CLI (no polars needed).

    On a terminal rich folds the table to its width; into a pipe or a file each row stays
    on one line, at the table's natural width. Floats show 4 significant digits.
    ``numeric``: the right-aligned columns (default: those holding only numbers).
    """
    import sys

    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name, values in columns.items():
        right = (name in numeric if numeric is not None else
                 all(isinstance(v, (int, float)) for v in values if v is not None) and bool(values))
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in zip(*columns.values(), strict=True):
        table.add_row(*("" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row))
    Console(width=None if sys.stdout.isatty() else 100_000).print(table)


def result_write(result: Result, fmt: str, output: Path | None = None, *, title: str | None = None) -> None:
    """Write a :class:`Result` as table/csv/json (same shape as the CLI's ``emit``) without polars."""
    import csv
    import io
    import sys

    if fmt == "table" and output is None:
        table_print(result.columns, title)
        return
    if fmt == "json":
        text = json.dumps(result.rows(), ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(list(result.columns))
        writer.writerows(zip(*result.columns.values(), strict=True))
        text = buf.getvalue()
    if output is None:
        sys.stdout.write(text)
    else:
        from .store import atomic_file

        with atomic_file(Path(output), "w") as fh:
            fh.write(text)


RTL = ("ar", "fa", "he", "ur")


def kwic_print(frame, language: str) -> None:
    """Concordance for a terminal: one header line and one context line per hit.

    Arabic (right-to-left) lines are right-aligned and wrapped in Unicode bidi isolates,
    so a bidi-aware terminal lays each line out as a whole; the match is bracketed
    (⟦ ⟧, mirrored in RTL) and highlighted, so it stays visible without colour too.
    """
    from rich.console import Console
    from rich.text import Text

    console = Console()
    rtl = language in RTL
    for row in frame.iter_rows(named=True):  # display only: bounded by --limit
        console.print(Text(f"{row['date'] or 'undated'}  {row['source']}  {row['id']}", style="dim"))
        line = Text()
        if rtl:
            line.append("\u2067")
        line.append(row["before"] or "")
        line.append("⟦" + (row["match"] or "") + "⟧", style="bold reverse")
        line.append(row["after"] or "")
        if rtl:
            line.append("\u2069")
        console.print(line, justify="right" if rtl else "left", no_wrap=False)
