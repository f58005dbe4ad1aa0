"""The ``formulae`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and prints the
result with :func:`emit`. Library errors (:class:`analysis.errors.FormulaeError`)
become one line on stderr and exit status 2, never a traceback.

Heavy modules (polars, nltk, altair) are imported inside the commands, so that
``formulae --help`` and a query on a built index start fast.
"""

from __future__ import annotations

import sys
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

app = typer.Typer(
    name="formulae",
    help="Recurring formulae in diplomatic statements: ingest, query, compare, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
corpus_app = typer.Typer(help="Inspect ingested corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


# Shared options, written once (sqlite-utils style).
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store folder (default: $FORMULAE_STORE or ./build).", show_default=False),
]
FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format: table, csv, json (list of objects) or parquet."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the result to this file instead of stdout (written atomically)."),
]
CorpusOpt = Annotated[str, typer.Option("--corpus", "-c", help="Corpus name, as ingested.")]


def emit(frame: pl.DataFrame, fmt: Format, output: Path | None = None, *, title: str | None = None) -> None:
    """Print or write a result table in the chosen format.

    ``json`` is a list of objects whose keys are the column names; ``parquet`` needs
    ``--output`` or a non-terminal stdout.
    """
    import json

    from .store import atomic_file

    if fmt is Format.parquet:
        if output is None:
            if sys.stdout.isatty():
                raise _error("--format parquet writes binary: give --output FILE or redirect stdout")
            frame.write_parquet(sys.stdout.buffer)
            return
        with atomic_file(output, "wb") as fh:
            frame.write_parquet(fh)
        return
    if fmt is Format.csv:
        text = frame.write_csv()
    elif fmt is Format.json:
        text = json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=str) + "\n"
    else:
        if output is None:
            _print_table(frame, title)
            return
        text = frame.write_csv()
    if output is None:
        sys.stdout.write(text)
    else:
        with atomic_file(output, "w") as fh:
            fh.write(text)


def _print_table(frame: pl.DataFrame, title: str | None) -> None:
    from .query import table_print

    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    table_print(frame.to_dict(as_series=False), title, numeric)


def _error(message: str) -> Exception:
    from .errors import FormulaeError

    return FormulaeError(message)


# --- commands -----------------------------------------------------------------
# Each area adds its commands below its own marker; keep each command thin.

# [cli:corpus]


class InfoFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("ingest")
def ingest_cmd(
    declarations: Annotated[list[Path] | None, typer.Argument(help="Corpus declarations (corpus/NAME.yml).", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Ingest every declaration in --corpus-dir.")] = False,
    corpus_dir: Annotated[Path, typer.Option("--corpus-dir", help="Folder searched by --all.")] = Path("corpus"),
    store: StoreOpt = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable records (counted as 'unparseable' in the ingest log) instead of stopping.")] = False,
    fmt: Annotated[InfoFormat, typer.Option("--format", "-f", help="table or json.")] = InfoFormat.table,
) -> None:
    """Ingest corpora into statement snapshots (<store>/<name>/snapshot/).

    Example: [bold]formulae ingest corpus/mfa-ar.yml[/bold]  or  [bold]formulae ingest --all --store build[/bold]
    """
    import json

    import polars as pl

    from .corpus import corpus_ingest, corpus_ingest_all

    if all_ == bool(declarations):
        raise _error("give declaration files or --all (not both, not neither)")
    results = (corpus_ingest_all(corpus_dir, store, skip_bad) if all_
               else [corpus_ingest(d, store, skip_bad) for d in declarations or []])
    for r in results:
        _notes(r.notes)
    rows = [r.summary() for r in results]
    if fmt is InfoFormat.json:
        sys.stdout.write(json.dumps([{**r.log, "snapshot": str(r.snapshot), "snapshot_sha256": r.manifest["snapshot_sha256"]}
                                     for r in results], ensure_ascii=False, indent=2) + "\n")
        return
    emit(pl.DataFrame(rows), Format.table, title=f"ingested into {results[0].snapshot.parent.parent}")


@corpus_app.command("info")
def corpus_info_cmd(
    name: Annotated[str, typer.Argument(help="Corpus name, as ingested.")],
    store: StoreOpt = None,
    fmt: Annotated[InfoFormat, typer.Option("--format", "-f", help="table or json (one object).")] = InfoFormat.table,
) -> None:
    """Counts for an ingested corpus: statements, sources, years, months, languages, undated, dropped.

    Example: [bold]formulae corpus info mfa-ar --format json[/bold]
    """
    import json

    import polars as pl

    from .corpus import corpus_info

    info = corpus_info(name, store)
    if fmt is InfoFormat.json:
        sys.stdout.write(json.dumps(info, ensure_ascii=False, indent=2) + "\n")
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
def corpus_list_cmd(store: StoreOpt = None) -> None:
    """List the corpora ingested in the store, with rows and snapshot hash.

    Example: [bold]formulae corpus list --store build[/bold]
    """
    import polars as pl

    from .corpus import corpus_list, corpus_manifest

    names = corpus_list(store)
    rows = [{"corpus": n, "rows": (m := corpus_manifest(n, store))["rows"], "language": m["language"],
             "format": m.get("format"), "snapshot_sha256": m["snapshot_sha256"][:12]} for n in names]
    emit(pl.DataFrame(rows, schema={"corpus": pl.String, "rows": pl.Int64, "language": pl.String,
                                    "format": pl.String, "snapshot_sha256": pl.String}), Format.table, title="corpora")


@corpus_app.command("dropped")
def corpus_dropped_cmd(
    name: Annotated[str, typer.Argument(help="Corpus name, as ingested.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason (duplicate, duplicate_paste, empty, not_a_message, unparseable).", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many records (0 = all).")] = 50,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The records an ingest dropped, with file, line, reason and detail (nothing is dropped silently).

    Example: [bold]formulae corpus dropped mfa-ar[/bold]  or  [bold]formulae corpus dropped saudinewsnet --reason duplicate -f csv[/bold]
    """
    import polars as pl

    from .corpus import corpus_dropped

    lf = corpus_dropped(name, store)
    if reason:
        lf = lf.filter(pl.col("reason") == reason)
    if limit:
        lf = lf.head(limit)
    emit(lf.collect(), fmt, output, title=f"{name}: dropped records")


@corpus_app.command("show")
def corpus_show_cmd(
    name: Annotated[str, typer.Argument(help="Corpus name, as ingested.")],
    ids: Annotated[list[str] | None, typer.Option("--id", help="Only these statement ids (repeatable).", show_default=False)] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many statements (0 = all).")] = 20,
    full: Annotated[bool, typer.Option("--full", help="The full verbatim text instead of an 80-character excerpt.")] = False,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Statements of an ingested corpus, in snapshot order (date, source, id).

    Example: [bold]formulae corpus show mfa-ar --full[/bold]  or  [bold]formulae corpus show ungd --source RUS -n 5[/bold]
    """
    from .corpus import corpus_show

    emit(corpus_show(name, store, ids=ids, source=source, limit=limit, excerpt=None if full else 80),
         fmt, output, title=name)


# [cli:text]


@app.command("tokens")
def tokens_cmd(
    text: Annotated[str, typer.Argument(help="The text to tokenise (quote it).")],
    language: Annotated[str, typer.Option("--language", "-l", help="ar, en or ru.")] = "ar",
    level: Annotated[str | None, typer.Option("--level", help="exact, norm, clitic or stem (default: clitic for ar, norm otherwise).", show_default=False)] = None,
    line_breaks: Annotated[str, typer.Option("--line-breaks", help="paragraph (a newline ends a paragraph) or wrap (a newline is a space).")] = "paragraph",
    corpus: Annotated[str | None, typer.Option("--corpus", "-c", help="Decide clitic splits with this corpus's vocabulary and alias table.", show_default=False)] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Show the token table of a text: offsets, kinds, sentences, normalised form and the forms at a level.

    Example: [bold]formulae tokens "وأكد دعمه لوحدة وسلامة أراضيها" --level stem --corpus mfa-ar[/bold]
    """
    from .tokens import tokens_explain

    frame = tokens_explain(text, language=language, level=level, line_breaks=line_breaks, corpus=corpus, store=store)
    emit(frame, fmt, output, title=f"tokens ({level or 'default level'})")


# [cli:phrases]


class Level(StrEnum):
    exact = "exact"
    norm = "norm"
    clitic = "clitic"
    stem = "stem"


class By(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


LevelOpt = Annotated[
    Level | None,
    typer.Option("--level", "-l", help="Matching level: exact, norm, clitic, stem (default: clitic for Arabic, norm otherwise).",
                 show_default=False),
]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).", show_default=False)]
FromOpt = Annotated[str | None, typer.Option("--from", help="First date (YYYY, YYYY-MM or YYYY-MM-DD).", show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last date, inclusive (YYYY, YYYY-MM or YYYY-MM-DD).", show_default=False)]
DistinctOpt = Annotated[bool, typer.Option("--distinct", help="Leave out statements that duplicate a text under another source.")]


def _v(option):
    """An Enum option's value (typer may hand over the member or its string)."""
    return option.value if isinstance(option, Enum) else option


def _notes(notes: list[str]) -> None:
    for note in notes:
        sys.stderr.write(f"formulae: note: {note}\n")


def _with_index(corpus: str, level: Level | None, store: Path | None, call):
    """Run ``call()``; if the index is missing or stale, build it (with progress) and retry."""
    from .query import IndexMissing

    try:
        return call()
    except IndexMissing:
        _index_build(corpus, level, store)
        return call()


def _index_build(corpus: str, level: Level | None, store: Path | None, **params):
    from rich.console import Console

    from .phrases import index_build

    with Console(stderr=True).status(f"indexing {corpus}") as status:
        return index_build(corpus, _v(level), store,
                           progress=lambda step: status.update(f"indexing {corpus}: {step}"), **params)


@app.command("index")
def index_cmd(
    corpus: CorpusOpt,
    level: LevelOpt = None,
    max_n: Annotated[int, typer.Option("--max-n", help="Longest n-gram counted in the n-gram table.")] = 8,
    min_statements: Annotated[int, typer.Option("--min-statements", "-k", help="Keep phrases found in at least K distinct statements.")] = 2,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the index is up to date.")] = False,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Build (or reuse) the phrase index of a corpus at one matching level.

    Example: [bold]formulae index --corpus ungdc --level norm[/bold]
    """
    import polars as pl

    ix = _index_build(corpus, level, store, max_n=max_n, min_statements=min_statements, force=force)
    m = ix.manifest
    keys = ["corpus", "level", "statements", "tokens", "vocabulary", "ngrams", "maximal", "snapshot_sha256"]
    emit(pl.DataFrame([{k: str(m.get(k)) for k in keys} | {"folder": str(ix.folder)}]), fmt, title="phrase index")


@app.command("query")
def query_cmd(
    phrase: Annotated[str, typer.Argument(help="The phrase, as you would write it.")],
    corpus: CorpusOpt,
    level: LevelOpt = None,
    by: Annotated[By | None, typer.Option("--by", help="Period: day, week, month, quarter or year (see also --all-time).")] = By.year,
    all_time: Annotated[bool, typer.Option("--all-time", help="One row per source, no periods.")] = False,
    source: SourceOpt = None,
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
    from .query import query_phrase, result_write

    result = _with_index(corpus, level, store, lambda: query_phrase(
        corpus, phrase, level=_v(level), by=None if all_time else (_v(by) or "year"),
        source=source, date_from=date_from, date_to=date_to, distinct=distinct, store=store))
    _notes(result.notes)
    if fmt is Format.parquet:
        emit(result.frame(), fmt, output)
    else:
        result_write(result, fmt.value, output, title=f"{phrase!r} in {corpus} ({result.params['level']})")


@app.command("kwic")
def kwic_cmd(
    phrase: Annotated[str, typer.Argument(help="The phrase, as you would write it.")],
    corpus: CorpusOpt,
    level: LevelOpt = None,
    width: Annotated[int, typer.Option("--width", "-w", help="Characters of context on each side.")] = 60,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most this many lines (default: 200 for the table, all otherwise).", show_default=False)] = None,
    source: SourceOpt = None,
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
    from .query import kwic_print, query_kwic

    if limit is None and fmt is Format.table and output is None:
        limit = 200
    frame, notes = _with_index(corpus, level, store, lambda: query_kwic(
        corpus, phrase, level=_v(level), width=width, source=source,
        date_from=date_from, date_to=date_to, distinct=distinct, limit=limit, store=store))
    _notes(notes)
    if fmt is Format.table and output is None:
        from .corpus import corpus_manifest

        kwic_print(frame, corpus_manifest(corpus, store).get("language", "en"))
        sys.stderr.write(f"formulae: {frame.height} lines\n")
        return
    emit(frame, fmt, output)


@app.command("phrases")
def phrases_cmd(
    corpus: CorpusOpt,
    level: LevelOpt = None,
    min_statements: Annotated[int, typer.Option("--min-statements", "-k", help="Only phrases in at least K distinct statements.")] = 2,
    n: Annotated[str | None, typer.Option("--n", help="Phrase length in tokens: 3 or a range 3..8 (n-gram table).", show_default=False)] = None,
    maximal: Annotated[bool, typer.Option("--maximal", help="Maximal recurring phrases of any length instead of n-grams.")] = False,
    by: Annotated[By | None, typer.Option("--by", help="Also count per period (one row per phrase and period).", show_default=False)] = None,
    sort: Annotated[str, typer.Option("--sort", help="statements, freq, n, g2, log_dice, pmi, dp (ascending) or phrase.")] = "statements",
    limit: Annotated[int, typer.Option("--limit", help="At most this many phrases (0 = all).")] = 100,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The recurring-phrase table: n-grams or maximal phrases with frequency, range, DP and association.

    Example: [bold]formulae phrases --corpus mfa-ar --maximal --min-statements 2[/bold]
    """
    from .query import phrases_table

    rng = None
    if n is not None:
        import re

        m = re.fullmatch(r"\s*(\d+)\s*(?:(?:\.\.|-)\s*(\d+))?\s*", n)
        if not m:
            raise _error(f"--n {n!r} is not a length (3) or a range (3..8)")
        rng = (int(m.group(1)), int(m.group(2) or m.group(1)))
    frame, notes = _with_index(corpus, level, store, lambda: phrases_table(
        corpus, level=_v(level), min_statements=min_statements, n=rng, maximal=maximal,
        by=_v(by), sort=sort, limit=limit or None, store=store))
    _notes(notes)
    emit(frame, fmt, output, title=f"recurring phrases in {corpus}")

# [cli:formulae]  commands in analysis/cli_formulae.py, registered below

# [cli:report]
report_app = typer.Typer(help="Versioned, self-contained HTML reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")
ReportOutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Build folder (default: reports/_build).", show_default=False),
]


@report_app.command("build")
def report_build_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Every corpus declared in corpus/*.yml.")] = False,
    corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Corpus name (repeatable).")] = None,
    report: Annotated[list[str] | None, typer.Option("--report", "-r", help="overview or formula (repeatable; default both).")] = None,
    formula: Annotated[str | None, typer.Option("--formula", help="Formula for the drill-down: lexicon name or phrase (default: the corpus's top formula).")] = None,
    level: Annotated[str | None, typer.Option("--level", help="Matching level (default: the corpus language's default).")] = None,
    renderer: Annotated[str, typer.Option("--renderer", help="auto (quarto if on PATH, else built-in), builtin or quarto.")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if this version exists.")] = False,
    screenshot: Annotated[bool, typer.Option("--screenshot", help="Also save <version>/screenshot.png (needs chromium).")] = False,
    out: ReportOutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Render reports into reports/_build/<version>/ and update reports/_build/index.html.

    Example: [bold]formulae report build --corpus mfa-ar --report overview[/bold]
    """
    import polars as pl

    from .report import report_build_all

    if not all_ and not corpus:
        raise _error("give --all or --corpus NAME")
    results = report_build_all(
        None if all_ else list(corpus or []), list(report) if report else None,
        store=store, out=out, level=level, formula=formula, force=force, renderer=renderer,
        screenshot=screenshot, progress=lambda msg: sys.stderr.write(msg + "\n"),
    )
    emit(pl.DataFrame({
        "report": [r.manifest["report"] for r in results],
        "corpus": [r.manifest["corpus"] for r in results],
        "version": [r.version for r in results],
        "reused": [r.reused for r in results],
        "seconds": [r.manifest.get("build_seconds") for r in results],
        "html": [str(r.html) for r in results],
    }), fmt, title="reports")


@report_app.command("list")
def report_list_cmd(out: ReportOutOpt = None, fmt: FormatOpt = Format.table) -> None:
    """List every built report version, newest first.

    Example: [bold]formulae report list --format csv[/bold]
    """
    from .report import report_versions_frame

    emit(report_versions_frame(out), fmt, title="report versions")



from . import cli_formulae as _cli_formulae  # noqa: E402,F401  (registers its commands on app)


def main() -> None:
    """Console entry point: run the app, turning library errors into one line."""
    from .errors import FormulaeError

    try:
        app()
    except FormulaeError as exc:
        sys.stderr.write(f"formulae: error: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        sys.stderr.write("formulae: interrupted\n")
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
