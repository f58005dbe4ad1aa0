"""Corpora: ingest a declared collection into the statement snapshot, load it, describe it.

The snapshot (``<store>/<corpus>/snapshot/``) is the one table every later step reads:

- ``statements.parquet``: one row per kept statement, sorted by (``date`` nulls last,
  ``source``, ``id``); the row number in that order is ``doc``. Columns: see
  :data:`SNAPSHOT_SCHEMA` and ``docs/ARCHITECTURE.md`` section 1.
- ``manifest.json``: corpus, language, line_breaks, declaration path and sha256, input
  sha256s, ``snapshot_sha256`` (of statements.parquet), rows, versions, aliases path.
- ``ingest_log.json``: records in, kept, dropped by reason (records in = kept + dropped,
  always), undated, cross-source duplicates, per file counts, the first skipped records.
- ``dropped.parquet``: every dropped record with file, line, reason and detail.

Rules applied to the records the readers return (:mod:`analysis.formats`):

0. readers may already drop records: ``duplicate_paste`` (raw dumps), ``not_a_message``
   (Telegram service messages), ``unparseable`` (record errors under ``--skip-bad``).
1. source: the record's source, else the declaration's ``source``, else the corpus name.
2. empty: a text that is empty once whitespace is collapsed is dropped (``empty``).
3. duplicate: within one source, a text equal (whitespace collapsed) to an earlier
   record's is dropped (``duplicate``; first occurrence in input order wins).
4. cross-source repeats are kept; all but the first in snapshot order get
   ``duplicate_of`` = the first one's id.
5. id: the record's own id, else ``<corpus>:<source>:<n>`` with n the record's
   1-based position among that source's records in input order. Ids must be unique
   among kept statements (a clash is an error naming both places).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import FormulaeError
from ..store import (
    atomic_dir,
    corpus_dir,
    dumps_json,
    file_sha256,
    folder_damage,
    read_json,
    stamp_write,
    store_lock,
    store_root,
)
from ..text.grammar import LEAD_EMOJI
from ..vocab import count_check
from .declaration import Declaration, declaration_load, is_declaration
from .periods import date_label_expr

SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "doc": pl.UInt32(),
    "id": pl.String(),
    "corpus": pl.String(),
    "source": pl.String(),
    "date": pl.Date(),
    "date_precision": pl.String(),
    "language": pl.String(),
    "title": pl.String(),
    "text": pl.String(),
    "hashtags": pl.List(pl.String()),
    "lead_emoji": pl.List(pl.String()),
    "duplicate_of": pl.String(),
    "meta": pl.String(),
}
SNAPSHOT_ROW_GROUP = 1024  # statements a row group of statements.parquet
DROP_REASONS = ("duplicate", "duplicate_paste", "empty", "not_a_message", "unparseable")  # see the module doc

# hashtags: '#' not preceded by a word character, '&', '/' or '#'; at least one letter
HASHTAG_RE = r"(?:^|[^\p{L}\p{M}\p{N}_&/#])#[\p{L}\p{M}\p{N}_]*\p{L}[\p{L}\p{M}\p{N}_]*"


@dataclass
class IngestResult:
    """What an ingest did: the snapshot folder, its manifest and its ingest log."""

    corpus: str
    snapshot: Path
    manifest: dict[str, Any]
    log: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """One row for the CLI: records in, kept, dropped (by reason), undated, hash."""
        return {
            "corpus": self.corpus,
            "records in": self.log["records_in"],
            "kept": self.log["kept"],
            "dropped": ", ".join(f"{k} {v}" for k, v in sorted(self.log["dropped"].items())) or "0",
            "undated": self.log["undated"],
            "cross-source repeats": self.log["cross_source_duplicates"],
            "sha256": self.manifest["snapshot_sha256"][:12],
        }


def _read_records(decl: Declaration, skip_bad: bool) -> pl.DataFrame:
    from .csvfile import read_csv
    from .folder import read_folder
    from .jsonl import read_jsonl
    from .rawdump import read_rawdump
    from .records import concat_records
    from .telegram import read_telegram

    reader = {"jsonl": read_jsonl, "csv": read_csv, "telegram": read_telegram,
              "folder": read_folder, "rawdump": read_rawdump}[decl.format]
    frames = [reader(p, decl, skip_bad) for p in decl.inputs]
    return concat_records(frames, sort_line=False).with_row_index("rec")


_FP = 48  # fingerprint: the first and last _FP non-space characters of a text


def _nonspace_ends(text: pl.Expr, window: int) -> tuple[pl.Expr, pl.Expr]:
    head = text.str.slice(0, window).str.replace_all(r"\s+", "").str.slice(0, _FP)
    tail = text.str.slice(-window).str.replace_all(r"\s+", "").str.slice(-_FP)
    return head, tail


def dedup_key(records: pl.DataFrame) -> pl.DataFrame:
    """Add ``_key``: the whitespace-collapsed text, the duplicate key (empty = no text).

    Collapsing whitespace over every text costs a full regex pass, so it is done only
    where it can matter: a cheap fingerprint (the first and last 48 non-space
    characters, which whitespace differences cannot change) is computed for every
    record, and the full collapsed text only for records whose fingerprint is shared.
    Records with a unique fingerprint get the fingerprint itself (prefixed with a
    control character, so it never equals a real text) as their key.
    """
    text = pl.col("text").fill_null("")
    head, tail = _nonspace_ends(text, 4 * _FP)
    df = records.with_columns(_h=head, _t=tail)
    short = (pl.col("_h").str.len_chars() < _FP) | (pl.col("_t").str.len_chars() < _FP)
    if df.select(short.any()).item():
        # too much whitespace in the first/last window (or a short text): use the whole text
        full_h, full_t = _nonspace_ends(text, 1 << 30)
        fixed = df.filter(short).with_columns(_h=full_h, _t=full_t)
        df = pl.concat([df.filter(~short), fixed]).sort("rec")
    fp = pl.col("_h") + pl.lit("\x00") + pl.col("_t")
    shared = (pl.len().over(fp) > 1) | (pl.col("_h") == "")
    collapsed = text.str.replace_all(r"\s+", " ").str.strip_chars()
    cand = df.filter(shared).with_columns(_key=collapsed)
    rest = df.filter(~shared).with_columns(_key=pl.lit("\x01") + fp)
    return pl.concat([cand, rest]).sort("rec").drop("_h", "_t")


def _build(records: pl.DataFrame, decl: Declaration) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records → (statements, dropped). Pure polars; no per-row Python."""
    default_source = decl.source or decl.name
    lf = records.lazy().with_columns(
        source=pl.when(pl.col("source").is_null() | (pl.col("source").str.strip_chars() == ""))
        .then(pl.lit(default_source)).otherwise(pl.col("source")),
    )
    lf = lf.with_columns(
        _n=(pl.int_range(pl.len(), dtype=pl.UInt32) + 1).over("source"),
    ).with_columns(
        id=pl.coalesce(pl.col("id"), pl.lit(decl.name + ":") + pl.col("source") + pl.lit(":") + pl.col("_n").cast(pl.String)),
    )
    lf = dedup_key(lf.collect()).lazy()
    live = pl.col("drop").is_null()
    lf = lf.with_columns(
        drop=pl.when(live & (pl.col("_key") == "")).then(pl.lit("empty")).otherwise(pl.col("drop")),
        detail=pl.when(live & (pl.col("_key") == "")).then(pl.lit("no text")).otherwise(pl.col("detail")),
    )
    live = pl.col("drop").is_null()
    lf = lf.with_columns(_first=pl.col("rec").filter(live).min().over(["source", "_key"]))
    lf = lf.with_columns(
        _first_id_of_key=pl.col("id").filter(live).first().over(["source", "_key"]),  # rows are in rec order
    )
    is_dup = live & (pl.col("rec") != pl.col("_first"))
    lf = lf.with_columns(
        drop=pl.when(is_dup).then(pl.lit("duplicate")).otherwise(pl.col("drop")),
        detail=pl.when(is_dup).then(pl.lit("same text as ") + pl.col("_first_id_of_key")).otherwise(pl.col("detail")),
    )
    # ids must be unique among the kept statements (a repeated record, same id and same
    # text, is a duplicate, not an id clash)
    lf = lf.with_columns(_first_id=pl.col("rec").filter(pl.col("drop").is_null()).min().over("id"))
    df = lf.collect()
    dup_ids = df.filter(pl.col("drop").is_null() & (pl.col("rec") != pl.col("_first_id")))
    if dup_ids.height:
        first = dup_ids.row(0, named=True)
        orig = df.filter(pl.col("rec") == first["_first_id"]).row(0, named=True)
        raise FormulaeError(f"duplicate id '{first['id']}' (first used at {orig['file']}:{orig['line']})",
                            file=first["file"], line=first["line"])
    kept = df.filter(pl.col("drop").is_null())
    dropped = df.filter(pl.col("drop").is_not_null()).select(
        "rec", "file", "line", "id", "source", pl.col("drop").alias("reason"), "detail", "line_known")

    hashtags = (pl.col("text").str.extract_all(HASHTAG_RE)
                .list.eval(pl.element().str.replace(r"^[^#]*#", "")))
    need_emoji = decl.format in ("rawdump", "telegram", "folder")
    emoji = (pl.col("text").str.extract_all(LEAD_EMOJI).list.eval(pl.element().str.strip_chars(" \t"))
             if need_emoji else pl.lit([], dtype=pl.List(pl.String)))
    st = kept.lazy().with_columns(
        hashtags=pl.coalesce(pl.col("hashtags"), hashtags),
        lead_emoji=pl.coalesce(pl.col("lead_emoji"), emoji),
        corpus=pl.lit(decl.name),
        language=pl.lit(decl.language),
    ).sort(["date", "source", "id"], nulls_last=True, maintain_order=True)
    st = st.with_columns(doc=pl.int_range(pl.len(), dtype=pl.UInt32))
    # cross-source repeats: the first in snapshot order is the original
    st = st.with_columns(
        _orig=pl.col("id").first().over("_key"),
        _nsrc=pl.col("source").n_unique().over("_key"),
    ).with_columns(
        duplicate_of=pl.when((pl.col("_nsrc") > 1) & (pl.col("id") != pl.col("_orig"))).then(pl.col("_orig")),
    )
    statements = st.select([pl.col(c).cast(t) for c, t in SNAPSHOT_SCHEMA.items()]).collect()
    return statements, dropped


def corpus_ingest(declaration_path: str | Path, store: str | Path | None = None, skip_bad: bool = False,
                  allow_empty: bool = False) -> IngestResult:
    """Ingest one declared corpus into ``<store>/<name>/snapshot/`` (atomically).

    Reads every input with the declared format's reader, applies the rules above and
    writes statements.parquet, dropped.parquet, manifest.json and ingest_log.json into a
    temporary folder that replaces the previous snapshot only once everything is written.
    An input that gives no statement at all is an error (the previous snapshot stays)
    unless ``allow_empty``.
    """
    import io

    decl = declaration_load(declaration_path)
    records = _read_records(decl, skip_bad)
    statements, dropped = _build(records, decl)
    dropped = _exact_lines(dropped, decl)
    n_in = records.height
    if statements.height + dropped.height != n_in:  # the accounting invariant
        raise AssertionError(f"records in {n_in} != kept {statements.height} + dropped {dropped.height}")
    log = _log(decl, records, statements, dropped)
    if statements.height == 0 and not allow_empty:
        why = ", ".join(f"{k} {v}" for k, v in sorted(log["dropped"].items()))
        raise FormulaeError(f"no statements: {n_in} records read" + (f", all dropped ({why})" if why else "")
                            + "; the previous snapshot is kept (--allow-empty writes an empty one)",
                            file=decl.file)
    inputs = {str(p): file_sha256(p) for p in decl.inputs} if decl.format != "folder" else _folder_hashes(decl)
    buf = io.BytesIO()
    # row groups of SNAPSHOT_ROW_GROUP statements: a reader of some statements (an index
    # shard) or of every one in a stream (the shard plan's hashing) holds a group at a time
    statements.write_parquet(buf, compression="zstd", compression_level=1, statistics=True,
                             row_group_size=SNAPSHOT_ROW_GROUP)
    data = buf.getvalue()
    manifest = _manifest(decl, statements, inputs, hashlib.sha256(data).hexdigest())
    target = corpus_dir(decl.name, store) / "snapshot"
    with store_lock(target.parent, "snapshot"), atomic_dir(target) as tmp:
        (tmp / "statements.parquet").write_bytes(data)
        dropped.drop("line_known").write_parquet(tmp / "dropped.parquet")
        (tmp / "ingest_log.json").write_text(dumps_json(log), encoding="utf-8")
        manifest = stamp_write(tmp, "manifest.json", manifest)  # its files' sizes: what _snapshot_dir checks
    notes = []
    if decl.aliases is not None and not decl.aliases.exists():
        notes.append(f"aliases file {decl.aliases} does not exist yet: no aliases recorded")
    return IngestResult(decl.name, target, manifest, log, notes)


def _exact_lines(dropped: pl.DataFrame, decl: Declaration) -> pl.DataFrame:
    """Turn record ordinals into line numbers for dropped records of the fast JSONL path."""
    from .jsonl import jsonl_lines
    from .records import display_path, read_input

    todo = dropped.filter(~pl.col("line_known"))
    if not todo.height:
        return dropped
    real = {display_path(p, decl): p for p in decl.inputs}
    maps = [pl.DataFrame({"file": f, "line": pl.int_range(1, len(ls) + 1, eager=True, dtype=pl.UInt32),
                          "_exact": pl.Series(ls, dtype=pl.UInt32)})
            for f in todo["file"].unique().sort() if (ls := jsonl_lines(read_input(real[f])))]
    if not maps:
        return dropped
    joined = dropped.join(pl.concat(maps), on=["file", "line"], how="left", maintain_order="left")
    return joined.with_columns(
        line=pl.when(pl.col("line_known")).then(pl.col("line")).otherwise(pl.coalesce("_exact", "line")),
        line_known=pl.lit(True),
    ).drop("_exact")


def _log(decl: Declaration, records: pl.DataFrame, statements: pl.DataFrame, dropped: pl.DataFrame) -> dict[str, Any]:
    reasons = {str(k): int(v) for k, v in dropped.group_by("reason").len().sort("reason").iter_rows()}
    assert set(reasons) <= set(DROP_REASONS), reasons
    # dropped per file from the final drop list (the reader's drops and _build's empty/duplicate)
    per_file = (records.group_by("file", maintain_order=True).agg(records=pl.len())
                .join(dropped.group_by("file").agg(dropped=pl.len()), on="file", how="left",
                      maintain_order="left")
                .with_columns(pl.col("dropped").fill_null(0)))
    return {
        "corpus": decl.name,
        "records_in": records.height,
        "kept": statements.height,
        "dropped": reasons,
        "undated": int(statements["date"].null_count()),
        "cross_source_duplicates": int(statements["duplicate_of"].is_not_null().sum()),
        "files": {r["file"]: {"records": int(r["records"]), "dropped": int(r["dropped"])}
                  for r in per_file.to_dicts()},
        "skipped": dropped.filter(pl.col("reason") == "unparseable").head(100)
        .select("file", "line", "detail").to_dicts(),
        "rule": "records_in = kept + sum(dropped); dropped.parquet lists every dropped record",
    }


def _folder_hashes(decl: Declaration) -> dict[str, str]:
    out = {}
    for folder in decl.inputs:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.suffix.lower() in (".txt", ".md"):
                out[str(p)] = file_sha256(p)
    return out


def _manifest(decl: Declaration, statements: pl.DataFrame, inputs: dict[str, str], sha: str) -> dict[str, Any]:
    from .. import __version__

    aliases = str(decl.aliases) if decl.aliases is not None and decl.aliases.exists() else None
    return {
        "corpus": decl.name,
        "language": decl.language,
        "line_breaks": decl.line_breaks,
        "format": decl.format,
        "declaration": str(decl.file),
        "declaration_sha256": decl.sha256,
        "inputs": inputs,
        "snapshot_sha256": sha,
        "rows": statements.height,
        "columns": {c: str(t) for c, t in SNAPSHOT_SCHEMA.items()},
        "source_label": decl.source,
        "aliases": aliases,
        "licence": decl.licence,
        "description": decl.description,
        "citation": decl.citation,
        "formulae_version": __version__,
        "polars_version": pl.__version__,
    }


def _snapshot_dir(name: str, store: str | Path | None) -> Path:
    snap = corpus_dir(name, store) / "snapshot"
    if not (snap / "manifest.json").is_file() or not (snap / "statements.parquet").is_file():
        known = corpus_list(store)
        hint = f"; ingested corpora: {', '.join(known)}" if known else "; nothing is ingested there yet"
        raise FormulaeError(f"unknown corpus '{name}' in store {store_root(store)}{hint} "
                            f"(run: formulae ingest corpus/{name}.yml)")
    manifest = read_json(snap / "manifest.json")
    again = f"ingest it again (formulae ingest {manifest.get('declaration')})"
    if manifest.get("columns") != {c: str(t) for c, t in SNAPSHOT_SCHEMA.items()}:
        raise FormulaeError(f"the snapshot of '{name}' has another schema than this version of formulae "
                            f"expects: {again}", file=snap / "manifest.json")
    damage = folder_damage(snap, manifest.get("files"))
    if damage is not None:  # a file cut short or lost since the ingest: read, it would fail or be short
        raise FormulaeError(f"the snapshot of '{name}' in {snap} is damaged: {damage}; {again}")
    return snap


def corpus_list(store: str | Path | None = None) -> list[str]:
    """Names of the corpora with a snapshot in the store, sorted."""
    root = store_root(store)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "snapshot" / "manifest.json").is_file())


def corpus_load(name: str, store: str | Path | None = None) -> pl.LazyFrame:
    """The statement snapshot of an ingested corpus, as a LazyFrame (schema: SNAPSHOT_SCHEMA)."""
    return pl.scan_parquet(_snapshot_dir(name, store) / "statements.parquet")


def corpus_manifest(name: str, store: str | Path | None = None) -> dict[str, Any]:
    """The snapshot manifest (hashes, language, line_breaks, versions, aliases path)."""
    return read_json(_snapshot_dir(name, store) / "manifest.json")


def corpus_log(name: str, store: str | Path | None = None) -> dict[str, Any]:
    """The ingest log: records in, kept, dropped by reason, undated, skipped records."""
    return read_json(_snapshot_dir(name, store) / "ingest_log.json")


def corpus_dropped(name: str, store: str | Path | None = None) -> pl.LazyFrame:
    """Every record the ingest dropped: rec, file, line, id, source, reason, detail."""
    return pl.scan_parquet(_snapshot_dir(name, store) / "dropped.parquet")


def corpus_show(name: str, store: str | Path | None = None, *, ids: list[str] | None = None,
                sources: list[str] | str | None = None, limit: int | None = 20,
                excerpt: int | None = 80) -> pl.DataFrame:
    """Statements for reading: doc, id, date (text at its precision), source, title, hashtags
    and text (an excerpt of ``excerpt`` characters with ``…``, or the full verbatim text when
    ``excerpt`` is None). An unknown source is an error naming the known ones."""
    from .where import sources_check

    if limit is not None:
        limit = count_check("--limit", limit)
    lf = corpus_load(name, store)
    if ids:
        lf = lf.filter(pl.col("id").is_in(ids))
    if sources:
        known = (corpus_load(name, store).select(pl.col("source").unique().sort()).collect()["source"]
                 .drop_nulls().to_list())
        lf = lf.filter(pl.col("source").is_in(sources_check(sources, known, name)))
    if limit:
        lf = lf.head(limit)
    text = pl.col("text")
    if excerpt is not None:
        flat = text.str.replace_all(r"\s+", " ")
        text = pl.when(flat.str.len_chars() > excerpt).then(flat.str.slice(0, excerpt) + "…").otherwise(flat)
    return lf.select("doc", "id", date_label_expr().alias("date"), "source", "title",
                     pl.col("hashtags").list.join(" "), text.alias("text")).collect()


def corpus_info(name: str, store: str | Path | None = None) -> dict[str, Any]:
    """Counts for a corpus: by source, year, month, language, precision; undated; dropped."""
    lf = corpus_load(name, store)
    manifest = corpus_manifest(name, store)
    log = corpus_log(name, store)
    df = lf.select("source", "date", "date_precision", "language", "duplicate_of", "text").collect()

    def counts(expr: pl.Expr, label: str) -> dict[str, int]:
        t = df.select(expr.alias(label)).drop_nulls().group_by(label).len().sort(label)
        return {str(k): int(v) for k, v in t.iter_rows()}

    dated = df.filter(pl.col("date").is_not_null()).sort("date", "date_precision")
    ends = dated.select(date_label_expr().alias("d"))["d"]
    monthly = pl.col("date_precision").is_in(["day", "month"])  # a year-only date has no month
    return {
        "corpus": name,
        "statements": df.height,
        "first_date": ends[0] if len(ends) else None,
        "last_date": ends[-1] if len(ends) else None,
        "sources": counts(pl.col("source"), "source"),
        "years": counts(pl.col("date").dt.year().cast(pl.String), "year"),
        "months": counts(pl.when(monthly).then(pl.col("date").dt.strftime("%Y-%m")), "month"),
        "languages": counts(pl.col("language"), "language"),
        "date_precision": counts(pl.col("date_precision"), "date_precision"),
        "undated": int(df["date"].null_count()),
        "cross_source_duplicates": int(df["duplicate_of"].is_not_null().sum()),
        "characters": int(df["text"].str.len_chars().sum()),
        "records_in": log["records_in"],
        "dropped": log["dropped"],
        "line_breaks": manifest["line_breaks"],
        "snapshot_sha256": manifest["snapshot_sha256"],
        "declaration": manifest["declaration"],
    }


def corpus_ingest_all(folder: str | Path = "corpus", store: str | Path | None = None,
                      skip_bad: bool = False, allow_empty: bool = False) -> list[IngestResult]:
    """Ingest every declaration (``*.yml`` with a ``format`` key) in a folder, sorted by name."""

    folder = Path(folder)
    decls = [p for p in sorted(folder.glob("*.yml")) if is_declaration(p)]
    if not decls:
        raise FormulaeError(f"no corpus declarations (*.yml with a 'format' key) in {folder}")

    names: dict[str, Path] = {}
    for p in decls:
        name = declaration_load(p).name
        if name in names:
            raise FormulaeError(f"corpus name '{name}' is declared twice (also in {names[name]})", file=p)
        names[name] = p
    return [corpus_ingest(p, store, skip_bad, allow_empty) for p in decls]
