"""Commands about formulae: ``timeline``, ``compare``, ``families``, ``formulae``,
``lexicon``, ``reuse``; each a thin layer over one library function."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import FormulaeError
from .options import (
    By,
    ByOpt,
    CorporaOpt,
    CorpusOpt,
    Format,
    FormatOpt,
    Level,
    LevelOpt,
    LexiconOpt,
    LimitOpt,
    OutputOpt,
    SourceOpt,
    StoreOpt,
    TableLimitOpt,
    WhereOpt,
    limit,
    sources,
    table_limit,
    value,
)
from .output import emit_result

app = typer.Typer()


@app.command("timeline")
def timeline_cmd(
    item: Annotated[str, typer.Argument(help="Lexicon formula id, family id (fam-...) or a literal phrase.")],
    corpus: CorporaOpt,
    by: ByOpt = By.year,
    group: Annotated[str, typer.Option("--group", help="Column to split by (source) or 'none'.")] = "source",
    source: SourceOpt = None,
    where: WhereOpt = None,
    lifecycle: Annotated[bool, typer.Option("--lifecycle", help="Print the lifecycle summary instead of the per-period table.")] = False,
    limit_: TableLimitOpt = None,
    level: LevelOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Counts, rates (per statement, per 10k tokens) and intervals of a formula per period.

    Example: [bold]formulae timeline sovereignty-territorial-integrity --corpus ungdc --by year -s RUS -s USA -s CHN[/bold]

    Several corpora: [bold]formulae timeline mutual-respect --corpus ungd --corpus cn-mfa[/bold]
    """
    if len(corpus) > 1:
        from ..stats.across import stat_timeline_across

        if lifecycle:
            raise FormulaeError("--lifecycle takes one --corpus")
        wanted = sources(source)
        clauses = [c for c in (where, f"source={'|'.join(wanted)}" if wanted else None) if c]
        res = stat_timeline_across(corpus, item, store=store, by=value(by) or "year", level=value(level),
                                   where=" & ".join(clauses) or None)
        frame, shown = _rows_shown(res.frame, table_limit(limit_, fmt, output))
        emit_result(frame, fmt, output, f"{item} in {', '.join(corpus)} by {value(by) or 'year'}", [*res.notes, *shown])
        return
    from ..stats.timeline import stat_timeline

    unit = value(by) or "year"
    res = stat_timeline(corpus[0], item, store=store, by=unit, group=None if group == "none" else group,
                        where=where, sources=sources(source), level=value(level))
    frame, shown = _rows_shown(res.extra["lifecycle"] if lifecycle else res.frame, table_limit(limit_, fmt, output))
    emit_result(frame, fmt, output, f"{item} in {corpus[0]} by {unit}", [*res.notes, *shown])


def _rows_shown(frame, n: int | None, total: int | None = None):
    """(the first ``n`` rows of ``frame``, the note saying so when rows were left out);
    ``total``: the rows there were, where ``frame`` holds the first ones already."""
    total = frame.height if total is None else total
    if n is None or total <= n:
        return frame, []
    return frame.head(n), [f"showing {n} of {total} rows (--limit; 0 = all)"]


@app.command("compare")
def compare_cmd(
    corpus: CorporaOpt,
    a: Annotated[str | None, typer.Option("--a", help="Filter for set A, e.g. 'date<2024-12-08', 'source=RUS', 'year=1970..1979'.", show_default=False)] = None,
    b: Annotated[str | None, typer.Option("--b", help="Filter for set B.", show_default=False)] = None,
    bonferroni: Annotated[bool, typer.Option("--bonferroni", help="Significance labels at alpha/m (m = items compared).")] = False,
    phrases: Annotated[bool, typer.Option("--phrases/--no-phrases", help="Include recurring phrases, not only lexicon formulae.")] = True,
    min_statements: Annotated[int, typer.Option("--min-statements", help="Recurring phrases: at least this many statements.")] = 5,
    max_p: Annotated[float | None, typer.Option("--max-p", help="Only rows with token G² p below this (e.g. 0.001).", show_default=False)] = None,
    limit_: TableLimitOpt = None,
    level: LevelOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Formulae and recurring phrases in A vs B: G² (Rayson), Log Ratio, document versions, appeared/vanished.

    Example: [bold]formulae compare --corpus ungdc --a 'year=1970..1979' --b 'year=2010..2019' --max-p 0.001[/bold]

    Two corpora: [bold]formulae compare --corpus ungd --corpus cn-mfa[/bold] (--a/--b filter each side)
    """
    import polars as pl

    if len(corpus) == 2:
        from ..stats.across import stat_compare_across

        res = stat_compare_across(corpus[0], corpus[1], store=store, where_a=a, where_b=b, level=value(level))
        frame = res.frame if max_p is None else res.frame.filter(pl.col("p") < max_p)
        frame, shown = _rows_shown(frame, table_limit(limit_, fmt, output))
        emit_result(frame, fmt, output, f"{corpus[0]} vs {corpus[1]}", [*res.notes, *shown])
        return
    if len(corpus) > 2 or a is None or b is None:
        raise FormulaeError("compare: give one --corpus with --a and --b, or two --corpus")
    from ..stats.compare import stat_compare

    name = corpus[0]

    n = table_limit(limit_, fmt, output)
    res = stat_compare(name, a, b, store=store, level=value(level), phrases=phrases,
                       phrase_min_statements=min_statements, bonferroni=bonferroni, max_p=max_p, limit=n)
    p = res.params
    frame, shown = _rows_shown(res.frame, n, p["rows"])
    notes = [*res.notes, f"A: {p['a_statements']} statements, {p['a_tokens']} tokens; "
                         f"B: {p['b_statements']} statements, {p['b_tokens']} tokens", *shown]
    emit_result(frame, fmt, output, f"{name}: A={a} vs B={b}", notes)


@app.command("families")
def families_cmd(
    corpus: CorpusOpt,
    where: WhereOpt = None,
    min_statements: Annotated[int, typer.Option("--min-statements", help="Seeds: recurring in at least this many statements.")] = 2,
    variants: Annotated[bool, typer.Option("--variants", help="One row per wording instead of one per family.")] = False,
    accept: Annotated[str | None, typer.Option("--accept", help="Write this family into the lexicon (corpus/formulae.yml or --lexicon).", show_default=False)] = None,
    lexicon: LexiconOpt = None,
    level: Annotated[Level | None, typer.Option(  # type: ignore[valid-type]
        "--level", "-l", help="Level the variants are grouped at (default: stem; norm for a language without stems).",
        show_default=False)] = None,
    limit_: LimitOpt = 0,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Variant families: recurring phrases grouped into the wordings of one formula.

    Example: [bold]formulae families --corpus mfa-ar --variants[/bold]; then [bold]formulae families --corpus mfa-ar --accept fam-...[/bold]
    """
    from ..formulae.families import families_find
    from ..formulae.lexicon import lexicon_accept
    from ..ingest.where import filter_parse
    from ..phrases.view import corpus_view

    view = corpus_view(corpus, store)
    fam = families_find(view, where=filter_parse(where) if where else None,
                        min_statements=min_statements, **({"level": value(level)} if level else {}))
    if accept:
        f = lexicon_accept(fam, accept, language=view.language, path=lexicon)
        sys.stderr.write(f"formulae: accepted {f.id} ({len(f.patterns)} patterns) into the lexicon\n")
        return
    frame = fam.variants if variants else fam.frame
    n = limit(limit_)
    emit_result(frame if n is None else frame.head(n), fmt, output, f"families in {corpus}", fam.notes)


@app.command("formulae")
def formulae_cmd(
    corpus: CorpusOpt,
    formula: Annotated[list[str] | None, typer.Option("--formula", help="Only this formula id (repeatable).", show_default=False)] = None,
    lexicon: LexiconOpt = None,
    counts: Annotated[bool, typer.Option("--counts", help="Per formula totals instead of one row per match.")] = False,
    source: SourceOpt = None,
    where: WhereOpt = None,
    limit_: TableLimitOpt = None,
    level: LevelOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Every match of the lexicon's formulae in a corpus, with the matched wording.

    Example: [bold]formulae formulae --corpus mfa-ar --formula territorial-integrity[/bold]
    """

    from ..formulae.lexicon import lexicon_load
    from ..formulae.match import formulae_dated, formulae_find, formulae_totals
    from ..ingest.where import statements_filter
    from ..phrases.view import corpus_view

    view = corpus_view(corpus, store)
    view.texts_repaired = None  # (the view is kept for the process: a note of this command's)
    occ = formulae_find(view, lexicon=lexicon_load(lexicon), level=value(level), formulae=formula,
                        verbatim=not counts)  # the totals show no wording
    notes: list[str] = []
    if source or where:
        kept, notes = statements_filter(view.statements, where=where, sources=sources(source), corpus=corpus)
        occ = occ.join(kept.select("doc"), on="doc", how="semi")
    if counts:
        frame = formulae_totals(view, occ)
    else:
        frame = formulae_dated(view, occ).select("formula", "id", "source", "date", "pos", "start", "end", "text")
    if view.texts_repaired:
        notes.append(f"the stored texts of the corpus were damaged ({view.texts_repaired}): made again")
    frame, shown = _rows_shown(frame, table_limit(limit_, fmt, output))
    emit_result(frame, fmt, output, f"formulae in {corpus}", [*notes, *shown])


@app.command("lexicon")
def lexicon_cmd(
    lexicon: LexiconOpt = None,
    language: Annotated[str | None, typer.Option("--language", help="Only patterns in this language.", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Validate the lexicon and list its formulae and patterns.

    Example: [bold]formulae lexicon --language ar[/bold]
    """
    from ..formulae.lexicon import lexicon_load

    lex = lexicon_load(lexicon)
    if language:
        lex = lex.for_language(language)
    emit_result(lex.frame(), fmt, output, f"lexicon {lex.path}")


@app.command("reuse")
def reuse_cmd(
    corpus: CorpusOpt,
    where: WhereOpt = None,
    passage_min_len: Annotated[int, typer.Option("--passage-min-len", help="Shared passages: at least this many tokens.")] = 8,
    # the default is compare.REUSE_MAX_DOCS, written out: the CLI imports no polars at start-up
    max_docs: Annotated[int, typer.Option("--max-docs", help="Items in more statements than this do not pair statements.")] = 200,
    families: Annotated[bool, typer.Option("--families/--no-families", help="Also pair statements through variant families.")] = True,
    level: LevelOpt = None,
    limit_: TableLimitOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Statement-to-statement reuse: pairs sharing formulae, families or long passages (an edge list).

    Example: [bold]formulae reuse --corpus mfa-ar[/bold]
    """
    from ..formulae.families import families_find
    from ..phrases.view import corpus_view
    from ..stats.reuse import stat_reuse

    view = corpus_view(corpus, store)
    fam = families_find(view) if families else None
    res = stat_reuse(view, level=value(level), families=fam, passage_min_len=passage_min_len,
                     max_docs=max_docs, where=where)
    frame, shown = _rows_shown(res.frame, table_limit(limit_, fmt, output))
    emit_result(frame, fmt, output, f"reuse in {corpus}", [*res.notes, *shown])
