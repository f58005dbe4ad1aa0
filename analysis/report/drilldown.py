"""Sections of the one-formula drill-down report (``reports/formula.qmd``).

One lexicon formula (default: the corpus's most widespread): its patterns, lifecycle
(first and last attestation, peak, change points), timelines by source with honest
intervals, the verbatim wordings that realise it, its dispersion, every concordance line
and the statements that use it. Shares :class:`analysis.sections.ReportContext`.
"""

from __future__ import annotations

from typing import Any

from .html import HtmlBlock, esc, html_chart, html_facts, html_kwic, html_table, note, summary_write
from .sections import (
    ReportContext,
    date_label,
    formula_table,
    kwic_frame,
    matches,
    period_unit,
    view_of,
)

NO_FORMULA = "No formula of the lexicon occurs in this corpus: nothing to drill into."


def formula_resolve(ctx: ReportContext, formula: str | None) -> str | None:
    """The formula id to drill into: the one given, else the most widespread in the corpus
    (None when no lexicon formula occurs; the sections then show a note)."""
    from ..errors import FormulaeError
    from ..formulae.lexicon import lexicon_load

    lex = lexicon_load().for_language(ctx.language)
    ids = [f.id for f in lex.formulae]
    if formula is None:
        t = formula_table(ctx)
        return t["formula"][0] if t.height else None
    if formula not in ids:
        raise FormulaeError(f"unknown formula {formula!r} for language {ctx.language!r}; "
                            f"the lexicon has {', '.join(ids)}")
    return formula


def section_formula_head(ctx: ReportContext, formula: str | None) -> HtmlBlock:
    """The formula's label, id, note and patterns (as written in the lexicon)."""
    if formula is None:
        return note(NO_FORMULA)
    import polars as pl

    from ..formulae.lexicon import lexicon_load

    lex = lexicon_load().for_language(ctx.language)
    f = lex.get(formula)
    pats = lex.frame().filter(pl.col("formula") == formula).select("pattern", "kind", "level", "text")
    head = (f'<p class="fx-lead">Formula <b dir="auto">{esc(f.label)}</b> (<code>{esc(f.id)}</code>) '
            f"in corpus <b>{esc(ctx.corpus)}</b>.</p>")
    if f.note:
        head += f'<p dir="auto"><small>{esc(f.note)}</small></p>'
    return HtmlBlock(head + html_table(pats, name="patterns", caption="Lexicon patterns (corpus/formulae.yml)"))


def _timeline(ctx: ReportContext, formula: str, group: str | None) -> Any:
    if ("timeline", formula, group) not in ctx.cache:
        from ..stats.timeline import stat_timeline

        ctx.cache[("timeline", formula, group)] = stat_timeline(
            view_of(ctx), formula, by=period_unit(ctx), group=group, level=ctx.level)
    return ctx.cache[("timeline", formula, group)]


def section_lifecycle(ctx: ReportContext, formula: str | None) -> HtmlBlock:
    """First and last attestation, totals, peak period and change points (all, then by source)."""
    if formula is None:
        return note(NO_FORMULA)
    import polars as pl

    r = _timeline(ctx, formula, None)
    life = r.extra["lifecycle"]
    if life.height == 0 or life["statements"][0] is None:
        return note("This formula has no dated occurrence.")
    row = life.row(0, named=True)
    facts = {  # dates and periods come as text at their precision (stat_lifecycle)
        "First attestation": f"{row['first_date']} ({row['first_id']})",
        "Last attestation": f"{row['last_date']} ({row['last_id']})",
        "Statements using it": row["statements"],
        "Occurrences": row["occurrences"],
        f"Peak {period_unit(ctx)} (per 10k tokens)":
            f"{row.get('peak_period') or '-'} ({(row.get('peak_per_10k') or 0):.2f})",
        "Change points (new regime from)": ", ".join(row.get("changes") or [])
        or "none detected",
    }
    notes = "".join(f"<p><small>{esc(n)}</small></p>" for n in r.notes)
    by_source = _timeline(ctx, formula, "source").extra["lifecycle"]
    by_source = by_source.sort(["statements", "source"], descending=[True, False]).select(
        "source", "first_date", "first_id", "last_date",
        "last_id", "statements", "occurrences", "peak_period",
        pl.col("peak_per_10k").round(3))
    return HtmlBlock(html_facts(facts) + notes + html_table(by_source, name="lifecycle-by-source",
                                                        caption="Lifecycle by source"))


def section_formula_timeline(ctx: ReportContext, formula: str | None, top_sources: int = 15) -> HtmlBlock:
    """Rate per 10k tokens and share of statements per period (all sources, with intervals),
    then a source × period heatmap for the sources that use it most."""
    if formula is None:
        return note(NO_FORMULA)
    import polars as pl

    from .plots import plot_heatmap, plot_timeline

    unit = period_unit(ctx)
    cols = ["period", "per_10k", "per_10k_lo", "per_10k_hi", "statements", "statements_total",
            "occurrences", "share", "share_lo", "share_hi"]
    data = _timeline(ctx, formula, None).frame.select(cols).with_columns(pl.lit("all sources").alias("series"))
    if data.height == 0:
        return note("No dated occurrence to chart.")
    rate = plot_timeline(data, series="series", unit=unit, name="formula-rate")
    share = plot_timeline(data, series="series", value="share", lo="share_lo", hi="share_hi", unit=unit,
                          title=f"Share of statements using it per {unit} (band: 95% Wilson interval)",
                          name="formula-share")
    frame = _timeline(ctx, formula, "source").frame
    top = (frame.group_by("source").agg(pl.col("statements").sum().alias("n"))
           .filter(pl.col("n") > 0).sort(["n", "source"], descending=[True, False]).head(top_sources))
    cells = (frame.join(top.select("source"), on="source", how="semi").filter(pl.col("occurrences") > 0)
             .select("source", "period", pl.col("per_10k").round(4), "statements", "occurrences"))
    heat = plot_heatmap(cells, row="source", unit=unit, name="formula-by-source",
                        title=f"By source and {unit}: occurrences per 10,000 tokens")
    return HtmlBlock(html_chart(rate) + html_chart(share) + html_chart(heat))


def section_wordings(ctx: ReportContext, formula: str | None, top: int = 20) -> HtmlBlock:
    """The verbatim wordings that realise the formula, by statements (also the index summary)."""
    if formula is None:
        return note(NO_FORMULA)
    import polars as pl

    from .plots import plot_top_formulae

    occ = matches(ctx).filter(pl.col("formula") == formula)
    words = (occ.with_columns(pl.col("text").str.replace_all(r"\s+", " ").alias("wording"))
             .group_by("wording").agg(pl.col("doc").n_unique().alias("statements"), pl.len().alias("occurrences"),
                                      pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
             .sort(["statements", "occurrences", "wording"], descending=[True, True, False]))
    summary_write(words.select(pl.col("wording").alias("formula"), "statements"))
    chart = plot_top_formulae(words, label="wording", top=top, title="Wordings: statements using each",
                              name="wordings")
    return HtmlBlock(html_chart(chart) + html_table(words, name="wordings-table", caption="Every wording found"))


def section_formula_dispersion(ctx: ReportContext, formula: str | None) -> Any:
    """Dispersion of the formula by source: one tick per occurrence, statements in date order."""
    if formula is None:
        return note(NO_FORMULA)
    import polars as pl

    from .plots import plot_dispersion

    occ = matches(ctx).filter(pl.col("formula") == formula)
    lengths = view_of(ctx).texts().select("doc", pl.col("text").str.len_chars().alias("_len"))
    order = ctx.statements.select("doc", date_label().alias("when")).sort("doc").with_row_index("order", offset=1)
    data = (occ.lazy().join(lengths.lazy(), on="doc", how="left").join(order, on="doc", how="left")
            .select(pl.col("source").alias("label"), "order",
                    (pl.col("start") / pl.col("_len")).round(4).alias("position"), "id",
                    pl.col("when").alias("date"), "source")
            .collect())
    return plot_dispersion(data, title="Dispersion by source: each tick is one occurrence",
                           name="formula-dispersion")


def section_formula_kwic(ctx: ReportContext, formula: str | None, n: int = 100) -> HtmlBlock:
    if formula is None:
        return note(NO_FORMULA)
    frame = kwic_frame(ctx, formula)
    return HtmlBlock(f"<p>{frame.height:,} occurrences, in date order.</p>"
                 + html_kwic(frame, name="formula-kwic", max_rows=n))


def section_formula_statements(ctx: ReportContext, formula: str | None) -> HtmlBlock:
    """The statements that use the formula: date, source, id, title, occurrences."""
    if formula is None:
        return note(NO_FORMULA)
    import polars as pl

    occ = matches(ctx).filter(pl.col("formula") == formula).group_by("doc").agg(pl.len().alias("occurrences"))
    frame = (ctx.statements.collect().join(occ, on="doc", how="inner").sort("doc")
             .select(date_label(), "source", "id", "title", "occurrences"))
    return HtmlBlock(html_table(frame, name="formula-statements", caption="Statements using the formula"))
