"""Commands on the phrase index: ``index``, ``query``, ``kwic``, ``phrases``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import IndexMissing
from ..vocab import PHRASE_SORTS, choices
from .options import (
    By,
    ByOpt,
    CorpusOpt,
    DistinctOpt,
    Format,
    FormatOpt,
    FromOpt,
    Level,
    LevelOpt,
    LimitOpt,
    OutputOpt,
    SourceOpt,
    StoreOpt,
    TableLimitOpt,
    ToOpt,
    WhereOpt,
    limit,
    sources,
    table_limit,
    value,
)
from .output import emit, fail, kwic_print, notes_print, result_write

app = typer.Typer()
Sort = choices("Sort", PHRASE_SORTS)


def with_index(corpus: str, level: Level | None, store: Path | None, call, *, layered: bool = False):
    """Run ``call()``; if the index is missing or stale, build it (with progress) and retry;
    ``layered``: statements appended since the last build may be indexed as a layer
    (``call`` reads :class:`~analysis.phrases.index.Layers`: ``query``, ``kwic``)."""
    try:
        return call()
    except IndexMissing:
        notes_print(repaired_notes(index_build_shown(corpus, level, store, layered=layered)))
        return call()


def repaired_notes(ix) -> list[str]:
    """What a build found damaged in the store and made again: the index (a file of it
    cut short or lost since it was written) and its shards (catalog ``damaged``)."""
    notes = [f"the stored phrase index was damaged ({ix.repaired}): built again"] if ix.repaired else []
    catalog = ix.folder / "catalog.json"
    if ix.built and catalog.exists():
        from ..store import read_json

        shards = read_json(catalog)["shards"]
        notes += [f"shard {s['shard']} (statements {s['lo']}-{s['hi'] - 1}) was damaged ({s['damaged']}): "
                  "tokenised again" for s in shards if s.get("damaged")]
        notes += [f"the forms of shard {s['shard']} (statements {s['lo']}-{s['hi'] - 1}) at {ix.level} were damaged "
                  f"({s['forms_damaged']}): made again" for s in shards if s.get("forms_damaged")]
    return notes


def index_build_shown(corpus: str, level: Level | None, store: Path | None, *, layered: bool = False, **params):
    from rich.console import Console

    from ..phrases.build import index_build, index_update

    build = index_update if layered else index_build
    with Console(stderr=True).status(f"indexing {corpus}") as status:
        return build(corpus, value(level), store, progress=lambda step: status.update(f"indexing {corpus}: {step}"),
                     **params)



@app.command("index")
def index_cmd(
    corpus: CorpusOpt,
    level: LevelOpt = None,
    max_n: Annotated[int, typer.Option("--max-n", help="Longest n-gram counted in the n-gram table.")] = 8,
    min_statements: Annotated[int, typer.Option("--min-statements", "-k", help="Keep phrases found in at least K distinct statements.")] = 2,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the index is up to date (every shard too).")] = False,
    compact: Annotated[bool, typer.Option("--compact", help="Build statements appended since the last build into the index whole (its tables too), not as a layer over it.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes tokenising the shards (default: all cores).", show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Run the shards on this Dask scheduler, tcp://host:port (default: $FORMULAE_SCHEDULER); the store must be on a path every worker shares.", show_default=False)] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Build (or reuse) the phrase index of a corpus at one matching level, shard by shard.

    Only the shards whose statements changed since the last build are tokenised again
    (the table says how many were reused). Statements only appended since are indexed as
    a layer over the stored index, which query, kwic, timeline and the lexicon's matches
    read with it (not for Arabic at clitic, stem or lemma); the readers of the phrase
    tables build the index whole first (--compact: now).
    Example: [bold]formulae index --corpus ungdc --level norm --jobs 2[/bold]
    """
    import polars as pl

    from ..phrases.index import Layers, index_notes
    from ..store import corpus_stale_clean, read_json

    gone, size = corpus_stale_clean(corpus, store)  # a killed build's scratch, even where nothing is rebuilt
    ix = index_build_shown(corpus, level, store, layered=not compact, max_n=max_n, min_statements=min_statements,
                           force=force, jobs=jobs, scheduler=scheduler)
    m = ix.manifest
    notes_print(repaired_notes(ix) + index_notes(m))
    if gone:
        notes_print([f"removed {gone} temporar{'y' if gone == 1 else 'ies'} that a killed run left in the store "
                     f"({size / 1e6:,.1f} MB)"])
    if isinstance(ix, Layers):
        info = ix.info
        emit(pl.DataFrame([{k: m.get(k) for k in ("corpus", "level", "statements", "tokens", "snapshot_sha256")}
                           | {"layered": True, "folder": str(ix.folder)}]), fmt, output, title="phrase index")
        notes_print([f"{'added' if ix.built else 'the index was up to date:'} statements {info['base_statements']}-"
                     f"{info['statements'] - 1} ({info['statements'] - info['base_statements']:,} statements, "
                     f"{info['tokens'] - info['base_tokens']:,} tokens) indexed as a layer over the index of "
                     f"statements 0-{info['base_statements'] - 1}: query, kwic, timeline and the lexicon's matches "
                     "read both; the readers of the phrase tables build the index whole first "
                     "(formulae index --compact: now)"])
        return
    keys = ["corpus", "level", "statements", "tokens", "vocabulary", "ngrams", "maximal", "sentences_split",
            "shards", "shards_reused", "snapshot_sha256"]
    emit(pl.DataFrame([{k: m.get(k) for k in keys} | {"folder": str(ix.folder)}]), fmt, output, title="phrase index")
    catalog = ix.folder / "catalog.json"
    if not ix.built:
        notes_print(["the index was up to date: nothing rebuilt (--force rebuilds it)"])
    elif catalog.exists():
        shards = read_json(catalog)["shards"]
        built = [s for s in shards if not s["reused"]]
        notes_print([f"shards tokenised: {len(built)} of {m.get('shards')} (statements "
                     + ", ".join(f"{s['lo']}-{s['hi'] - 1}" for s in built[:8])
                     + (", ..." if len(built) > 8 else "") + ")" if built else
                     f"every shard reused ({m.get('shards')})"])
        if any("forms" in s for s in shards):  # an analyzer's level: the shards' forms are kept too
            notes_print([f"shards' forms at {m.get('level')}: {sum(not s['forms_reused'] for s in shards)} of "
                         f"{len(shards)} made, the others reused"])


@app.command("query")
def query_cmd(
    phrase: Annotated[str, typer.Argument(help="The phrase, as you would write it.")],
    corpus: CorpusOpt,
    level: LevelOpt = None,
    by: ByOpt = By.year,
    all_time: Annotated[bool, typer.Option("--all-time", help="One row per source, no periods.")] = False,
    source: SourceOpt = None,
    where: WhereOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    distinct: DistinctOpt = False,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Statements containing a phrase, occurrences, tokens and rate per 10k tokens, per period and source.

    Example: [bold]formulae query "sovereignty and territorial integrity" --corpus ungdc --by year[/bold]
    """
    from ..phrases.query import query_phrase

    result = with_index(corpus, level, store, lambda: query_phrase(
        corpus, phrase, level=value(level), by=None if all_time else (value(by) or "year"),
        source=sources(source), date_from=date_from, date_to=date_to, distinct=distinct,
        where=where, store=store), layered=True)
    notes_print(result.notes)
    if fmt is Format.parquet:
        emit(result.frame, fmt, output)
    else:
        result_write(result, value(fmt), output, title=f"{phrase!r} in {corpus} ({result.params['level']})")


@app.command("kwic")
def kwic_cmd(
    phrase: Annotated[str, typer.Argument(help="The phrase, as you would write it.")],
    corpus: CorpusOpt,
    level: LevelOpt = None,
    width: Annotated[int, typer.Option("--width", "-w", help="Characters of context on each side.")] = 60,
    limit_: TableLimitOpt = None,
    source: SourceOpt = None,
    where: WhereOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    distinct: DistinctOpt = False,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Concordance: every occurrence of a phrase in its original wording, sorted by date, the match highlighted.

    Arabic lines are right-aligned with the match in ⟦ ⟧. Example: [bold]formulae kwic "سلامة أراضي" --corpus mfa-ar --level stem[/bold]
    """
    from ..phrases.query import query_kwic

    n = table_limit(limit_, fmt, output)
    result = with_index(corpus, level, store, lambda: query_kwic(
        corpus, phrase, level=value(level), width=width, source=sources(source), where=where,
        date_from=date_from, date_to=date_to, distinct=distinct, limit=n, store=store), layered=True)
    notes_print(result.notes)
    if fmt is Format.table and output is None:
        from ..phrases.index import snapshot_manifest

        kwic_print(result.rows(), snapshot_manifest(corpus, store).get("language", "en"))
        sys.stderr.write(f"formulae: {result.height} lines\n")
        return
    if fmt is Format.parquet:
        emit(result.frame, fmt, output)
    else:  # no polars: the lines were made without it (query_kwic)
        result_write(result, value(fmt), output)


@app.command("phrases")
def phrases_cmd(
    corpus: CorpusOpt,
    level: LevelOpt = None,
    min_statements: Annotated[int, typer.Option("--min-statements", "-k", help="Only phrases in at least K distinct statements.")] = 2,
    n: Annotated[str | None, typer.Option("--n", help="Phrase length in tokens: 3 or a range 3..8 (n-gram table).", show_default=False)] = None,
    maximal: Annotated[bool, typer.Option("--maximal", help="Maximal recurring phrases of any length instead of n-grams.")] = False,
    by: ByOpt = None,
    sort: Annotated[Sort, typer.Option("--sort", help="statements, freq, n, g2, log_dice, pmi, dp (ascending) or phrase.")] = "statements",  # type: ignore[valid-type]
    limit_: LimitOpt = 100,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The recurring-phrase table: n-grams or maximal phrases with frequency, range, DP and association.

    With --by, one row per phrase and period. Example: [bold]formulae phrases --corpus mfa-ar --maximal --min-statements 2[/bold]
    """
    from ..phrases.query import phrases_table

    rng = None
    if n is not None:
        import re

        m = re.fullmatch(r"\s*(\d+)\s*(?:(?:\.\.|-)\s*(\d+))?\s*", n)
        if not m:
            raise fail(f"--n {n!r} is not a length (3) or a range (3..8)")
        rng = (int(m.group(1)), int(m.group(2) or m.group(1)))
    result = with_index(corpus, level, store, lambda: phrases_table(
        corpus, level=value(level), min_statements=min_statements, n=rng, maximal=maximal,
        by=value(by), sort=value(sort), limit=limit(limit_), store=store))
    notes_print(result.notes)
    emit(result.frame, fmt, output, title=f"recurring phrases in {corpus}")
