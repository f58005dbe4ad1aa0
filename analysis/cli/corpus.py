"""Commands on corpora: ``ingest``, ``corpus info|list|dropped|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import (
    CorpusArg,
    Format,
    FormatOpt,
    LimitOpt,
    OutputOpt,
    SourceOpt,
    StoreOpt,
    limit,
    sources,
)
from .output import emit, emit_json, fail, notes_print

app = typer.Typer()
corpus_app = typer.Typer(help="Inspect ingested corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@app.command("ingest")
def ingest_cmd(
    declarations: Annotated[list[Path] | None, typer.Argument(help="Corpus declarations (corpus/NAME.yml).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Ingest every declaration in --corpus-dir.")] = False,
    corpus_dir: Annotated[Path, typer.Option("--corpus-dir", help="Folder searched by --all.")] = Path("corpus"),
    store: StoreOpt = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable records (counted as 'unparseable' in the ingest log) instead of stopping.")] = False,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="Write a snapshot even if the input gives no statement (else an error; the old snapshot stays).")] = False,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Ingest corpora into statement snapshots (<store>/<name>/snapshot/).

    One row per corpus (table, csv, parquet); json gives each corpus's whole ingest log.

    Example: [bold]formulae ingest corpus/mfa-ar.yml[/bold]  or  [bold]formulae ingest --all --store build[/bold]
    """
    import polars as pl

    from ..ingest.snapshot import corpus_ingest, corpus_ingest_all

    if all_ == bool(declarations):
        raise fail("give declaration files or --all (not both, not neither)")
    results = (corpus_ingest_all(corpus_dir, store, skip_bad, allow_empty) if all_
               else [corpus_ingest(d, store, skip_bad, allow_empty) for d in declarations or []])
    for r in results:
        notes_print(r.notes)
    if fmt is Format.json:
        emit_json([{**r.log, "snapshot": str(r.snapshot), "snapshot_sha256": r.manifest["snapshot_sha256"]}
                   for r in results], output)
        return
    emit(pl.DataFrame([r.summary() for r in results]), fmt, output,
         title=f"ingested into {results[0].snapshot.parents[1]}")


@corpus_app.command("info")
def corpus_info_cmd(
    name: CorpusArg,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Counts for an ingested corpus: statements, sources, years, months, languages, undated, dropped.

    json gives one object; csv and parquet one long table (section, key, value).

    Example: [bold]formulae corpus info mfa-ar --format json[/bold]
    """
    import polars as pl

    from ..ingest.snapshot import corpus_info

    info = corpus_info(name, store)
    if fmt is Format.json:
        emit_json(info, output)
        return
    if fmt is not Format.table or output is not None:
        rows = [(section, str(k), str(v)) for section, value in info.items()
                for k, v in (value.items() if isinstance(value, dict) else [("", value)])]
        emit(pl.DataFrame(rows, schema=["section", "key", "value"], orient="row"), fmt, output, title=name)
        return
    summary = {k: info[k] for k in ("corpus", "statements", "records_in", "first_date", "last_date", "undated",
                                    "cross_source_duplicates", "characters", "line_breaks")}
    summary["snapshot_sha256"] = info["snapshot_sha256"][:12]
    emit(pl.DataFrame({"field": list(summary), "value": [str(v) for v in summary.values()]}), Format.table, title=name)
    for key, label in (("sources", "source"), ("languages", "language"), ("date_precision", "date precision"),
                       ("years", "year"), ("dropped", "reason")):
        table = info[key]
        if key == "years" and len(table) > 40:
            key, label, table = "decades", "decade", _by_decade(table)
        elif key == "years" and len(info["months"]) <= 24:
            key, label, table = "months", "month", info["months"]
        if table:
            emit(pl.DataFrame({label: list(table), ("records" if key == "dropped" else "statements"): list(table.values())}),
                 Format.table, title="dropped" if key == "dropped" else f"by {label}")


def _by_decade(years: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for y, n in years.items():
        d = f"{int(y) // 10 * 10}s"
        out[d] = out.get(d, 0) + n
    return out


@corpus_app.command("list")
def corpus_list_cmd(store: StoreOpt = None, fmt: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the corpora ingested in the store, with rows and snapshot hash.

    Example: [bold]formulae corpus list --store build[/bold]
    """
    import polars as pl

    from ..ingest.snapshot import corpus_list, corpus_manifest

    names = corpus_list(store)
    rows = [{"corpus": n, "rows": (m := corpus_manifest(n, store))["rows"], "language": m["language"],
             "format": m.get("format"), "snapshot_sha256": m["snapshot_sha256"][:12]} for n in names]
    emit(pl.DataFrame(rows, schema={"corpus": pl.String, "rows": pl.Int64, "language": pl.String,
                                    "format": pl.String, "snapshot_sha256": pl.String}), fmt, output, title="corpora")


@corpus_app.command("check")
def corpus_check_cmd(
    name: CorpusArg,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Whether the corpus's snapshot, indexes, layers and shards are as they were written
    (every file there, of the size its folder's stamp records). Exit status 1 if any is damaged.

    A damaged index, layer or shard is made again when next used; a damaged snapshot needs
    the corpus ingested again. Only the stamps are read; nothing is rebuilt here.
    Example: [bold]formulae corpus check ungdc[/bold]
    """
    import polars as pl

    from ..phrases.check import corpus_check

    rows = corpus_check(name, store)
    schema = {"kind": pl.String, "folder": pl.String, "files": pl.Int64, "bytes": pl.Int64, "status": pl.String,
              "why": pl.String}
    emit(pl.DataFrame(rows, schema=schema), fmt, output, title=f"{name}: stamped folders")
    damaged = [r for r in rows if r["status"] == "damaged"]
    unstamped = sum(r["status"] == "unstamped" for r in rows)
    notes = [f"{unstamped} folder(s) written before sizes were recorded: not checked"] if unstamped else []
    if damaged:
        snap = any(r["kind"] == "snapshot" for r in damaged)
        notes.append(f"{len(damaged)} of {len(rows)} folders damaged: indexes, layers and shards are made again "
                     "when next used" + ("; the snapshot needs the corpus ingested again (formulae ingest)"
                                         if snap else ""))
    notes_print(notes)
    if damaged:
        raise typer.Exit(1)


@corpus_app.command("dropped")
def corpus_dropped_cmd(
    name: CorpusArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason (duplicate, duplicate_paste, empty, not_a_message, unparseable).", show_default=False)] = None,
    limit_: LimitOpt = 50,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The records an ingest dropped, with file, line, reason and detail (nothing is dropped silently).

    Example: [bold]formulae corpus dropped mfa-ar[/bold]  or  [bold]formulae corpus dropped saudinewsnet --reason duplicate -f csv[/bold]
    """
    import polars as pl

    from ..ingest.snapshot import corpus_dropped

    lf = corpus_dropped(name, store)
    if reason:
        lf = lf.filter(pl.col("reason") == reason)
    n = limit(limit_)
    if n is not None:
        lf = lf.head(n)
    emit(lf.collect(), fmt, output, title=f"{name}: dropped records")


@corpus_app.command("show")
def corpus_show_cmd(
    name: CorpusArg,
    ids: Annotated[list[str] | None, typer.Option("--id", help="Only these statement ids (repeatable).", show_default=False)] = None,
    source: SourceOpt = None,
    limit_: LimitOpt = 20,
    full: Annotated[bool, typer.Option("--full", help="The full verbatim text instead of an 80-character excerpt.")] = False,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Statements of an ingested corpus, in snapshot order (date, source, id).

    Example: [bold]formulae corpus show mfa-ar --full[/bold]  or  [bold]formulae corpus show ungd --source RUS -n 5[/bold]
    """
    from ..ingest.snapshot import corpus_show

    emit(corpus_show(name, store, ids=ids, sources=sources(source), limit=limit(limit_),
                     excerpt=None if full else 80),
         fmt, output, title=name)

