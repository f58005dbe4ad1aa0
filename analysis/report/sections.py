"""Report sections: what each block of a report notebook shows, as one call.

Notebooks stay thin (``ctx = report_open(corpus)``, then one call per section); the logic
lives here and in :mod:`analysis.plots`, where tests can call it. A section that needs a
part of the toolkit this build does not have (an upstream module or function missing)
shows a visible "not available in this build" note instead of failing the report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..errors import FormulaeError
from ..store import path_shown
from .html import HtmlBlock, html_facts, html_table, note


@dataclass
class ReportContext:
    """What every section needs: the corpus, its snapshot and the chosen level."""

    corpus: str
    store: str | None
    manifest: dict[str, Any]
    statements: Any  # pl.LazyFrame
    language: str
    level: str | None = None
    cache: dict[Any, Any] = field(default_factory=dict)  # keyed by section and parameters

    @property
    def arabic(self) -> bool:
        return self.language == "ar"


def report_open(corpus: str, *, level: str | None = None, store: str | None = None) -> ReportContext:
    """Load a corpus snapshot for a report (store: argument, ``$FORMULAE_STORE``, ./build)."""
    from ..ingest.snapshot import corpus_load, corpus_manifest

    store = store or os.environ.get("FORMULAE_STORE")
    manifest = corpus_manifest(corpus, store=store)
    statements = corpus_load(corpus, store=store)
    from ..ingest.periods import coarsest_precision
    from .html import date_unit_set

    precs = statements.select("date_precision").unique().collect()["date_precision"].to_list()
    date_unit_set(coarsest_precision(precs))  # dates in tables and CSVs at the corpus's precision
    return ReportContext(corpus=corpus, store=store, manifest=manifest, statements=statements,
                         language=manifest.get("language", "en"), level=level)


def unavailable(what: str, exc: BaseException) -> HtmlBlock:
    """The note shown where a section's upstream piece is missing in this build."""
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return note(f"{what}: not available in this build ({detail}).")


class SectionUnavailable(FormulaeError):
    """A section's input is missing in this build (raised by a section, shown as a note)."""


def guarded(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; when it raises :class:`SectionUnavailable` return the "not available"
    note instead. Every other error fails the build (a report never hides a bug)."""
    try:
        return fn(*args, **kwargs)
    except SectionUnavailable as exc:
        return unavailable(what, exc)


# --- snapshot sections (need only the corpus) ---------------------------------------


def section_title(ctx: ReportContext) -> HtmlBlock:
    from .html import esc

    m = ctx.manifest
    desc = m.get("description") or ""
    return HtmlBlock(
        f'<p class="fx-lead">Corpus <b>{esc(ctx.corpus)}</b> · language <b>{esc(ctx.language)}</b>'
        f"{' · ' + esc(desc) if desc else ''}</p>"
    )


def section_facts(ctx: ReportContext) -> HtmlBlock:
    """Corpus facts: statements, sources, dates, precision, undated, duplicates, size."""
    s = ctx.statements
    row = s.select(
        pl.len().alias("statements"),
        pl.col("source").n_unique().alias("sources"),
        pl.col("date").min().alias("first"),
        pl.col("date").max().alias("last"),
        pl.col("date").is_null().sum().alias("undated"),
        pl.col("duplicate_of").is_not_null().sum().alias("dup"),
        pl.col("text").str.len_chars().sum().alias("chars"),
    ).collect().row(0, named=True)
    precs = (
        s.group_by("date_precision").agg(pl.len().alias("n")).sort("date_precision").collect()
    )
    prec_text = ", ".join(f"{p}: {n:,}" for p, n in zip(precs["date_precision"], precs["n"], strict=True))
    m = ctx.manifest
    years_only = precs["date_precision"].to_list() in (["year"], ["none", "year"])

    def day(d: Any) -> str:
        return "none" if d is None else str(d.year) if years_only else str(d)

    facts = {
        "Statements": row["statements"],
        "Sources": row["sources"],
        "First date": day(row["first"]),
        "Last date": day(row["last"]),
        "Date precision (statements)": prec_text,
        "Undated statements (kept, not in time charts)": row["undated"],
        "Texts also published under another source": row["dup"],
        "Characters": row["chars"] or 0,
        "Snapshot sha256": m.get("snapshot_sha256", ""),
        "Declaration": f"{path_shown(m.get('declaration'), os.environ.get('FORMULAE_PROJECT'))} (sha256 {str(m.get('declaration_sha256', ''))[:16]}…)",
    }
    for key in ("licence", "citation"):
        if m.get(key):
            facts[key.capitalize()] = m[key]
    return HtmlBlock(html_facts(facts))


def section_statements(ctx: ReportContext) -> Any:
    from .plots import plot_statements

    return plot_statements(ctx.statements)


def section_sources(ctx: ReportContext) -> Any:
    from .plots import plot_sources

    return plot_sources(ctx.statements)


def section_lengths(ctx: ReportContext) -> Any:
    from .plots import plot_lengths

    return plot_lengths(ctx.statements)


def section_sample(ctx: ReportContext, n: int = 5) -> HtmlBlock:
    """The first ``n`` statements (date, source, id, title, opening words), escaped."""
    frame = (
        ctx.statements.head(n).select(
            date_label(), "source", "id", pl.col("title"),
            pl.col("text").str.slice(0, 200).str.replace_all(r"\s+", " ").alias("opening"),
        )
        .collect()
    )
    return HtmlBlock(html_table(frame, name="sample-statements",
                            caption=f"The first {n} statements (date order), opening words verbatim"))


# --- formulae sections (need the lexicon matcher, families, phrase index) ------------


def date_label() -> Any:
    """``date`` as text at its precision: ``1970`` for a year, ``2025-01`` for a month."""
    from ..ingest.periods import date_label_expr

    return (pl.when(pl.col("date").is_null()).then(pl.lit("undated"))
            .otherwise(date_label_expr()).alias("date"))


def view_of(ctx: ReportContext) -> Any:
    if "view" not in ctx.cache:
        from ..phrases.view import corpus_view

        ctx.cache["view"] = corpus_view(ctx.corpus, ctx.store)
    return ctx.cache["view"]


def period_unit(ctx: ReportContext) -> str:
    from ..ingest.periods import coarsest_precision, period_auto

    if "unit" not in ctx.cache:
        row = ctx.statements.select(pl.col("date").min().alias("a"), pl.col("date").max().alias("b")).collect()
        precs = ctx.statements.select(pl.col("date_precision").unique()).collect()["date_precision"].to_list()
        prec = coarsest_precision(precs)
        ctx.cache["unit"] = period_auto(row["a"][0], row["b"][0], prec)
    return ctx.cache["unit"]


def matches(ctx: ReportContext) -> Any:
    """Lexicon matches (one row per occurrence) with the formula's ``label``."""
    if "matches" not in ctx.cache:
        from ..formulae.lexicon import lexicon_load
        from ..formulae.match import formulae_find

        lex = lexicon_load().for_language(ctx.language)
        labels = lex.frame().select("formula", "label").unique("formula")
        occ = formulae_find(view_of(ctx), lexicon=lex, level=ctx.level)
        ctx.cache["matches"] = occ.join(labels, on="formula", how="left").with_columns(
            pl.coalesce("label", "formula").alias("label"))
    return ctx.cache["matches"]


def formula_table(ctx: ReportContext) -> Any:
    """One row per lexicon formula found: statements, occurrences, first and last date, sources."""
    return (
        matches(ctx).group_by("formula", "label")
        .agg(pl.col("doc").n_unique().alias("statements"), pl.len().alias("occurrences"),
             pl.col("source").n_unique().alias("sources"),
             pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
        .sort(["statements", "occurrences", "formula"], descending=[True, True, False])
    )


def top_formula(ctx: ReportContext) -> str | None:
    t = formula_table(ctx)
    return t["formula"][0] if t.height else None


def _families(ctx: ReportContext) -> Any:
    if "families" not in ctx.cache:
        from ..formulae.families import families_find

        ctx.cache["families"] = families_find(view_of(ctx))
    return ctx.cache["families"]


def section_formulae(ctx: ReportContext, top: int = 20) -> HtmlBlock:
    """Lexicon formulae ranked by statements (chart + table); also the index page's summary."""
    from .html import html_chart, summary_write
    from .plots import plot_top_formulae

    t = formula_table(ctx)
    if t.height == 0:
        return note("No formula of the lexicon occurs in this corpus.")
    summary_write(t.select(pl.col("label").alias("formula"), "statements"))
    chart = plot_top_formulae(t.drop("formula"), label="label", top=top,
                              title="Lexicon formulae: statements using each")
    return HtmlBlock(html_chart(chart) + html_table(t, name="formulae", caption="Lexicon formulae found"))


def section_families(ctx: ReportContext, top: int = 15, variants: int = 5) -> HtmlBlock:
    """Automatic variant families: the most widespread, and their main wordings."""
    from .html import html_chart, summary_write
    from .plots import plot_top_formulae

    fam = _families(ctx)
    if fam.frame.height == 0:
        return note("No variant family found (no recurring phrase with enough content words).")
    frame = fam.frame.sort(["statements", "occurrences", "family"], descending=[True, True, False])
    summary_write(frame.head(50).select(pl.concat_str(pl.lit("family: "), "canonical").alias("formula"),
                                        "statements"), append=True)
    chart = plot_top_formulae(frame.select("canonical", "statements", "occurrences", "variants", "family"),
                              label="canonical", top=top, title="Variant families: statements using any wording",
                              name="top-families")
    ids = frame.head(top)["family"].implode()
    var = (fam.variants.filter(pl.col("family").is_in(ids))
           .join(frame.select("family", "canonical", "cohesion"), on="family")
           .sort(["family", "statements", "occurrences", "variant"], descending=[False, True, True, False])
           .group_by("family", maintain_order=True).head(variants)
           .join(frame.head(top).with_row_index("rank").select("family", "rank"), on="family")
           .sort(["rank", "statements", "variant"], descending=[False, True, False])
           .select("canonical", "variant", "kind", "filler", "statements", "occurrences", "family", "cohesion"))
    return HtmlBlock(html_chart(chart) + html_table(var, name="family-variants",
                                               caption=f"Main wordings of the top {top} families (kind: how a wording "
                                                       "differs from the centre seed; filler: the inserted or "
                                                       "substituted forms, each admitted by a phrase frame; cohesion: "
                                                       "share of the family's occurrences holding its centre seed)"))


def candidates_result(ctx: ReportContext, limit: int = 3000) -> Any:
    """The cached :class:`~analysis.result.Result` of the corpus's formula candidates
    (:func:`analysis.formulae.candidates.formulae_candidates`; first ``limit`` rows: enough
    for formulae that appeared late, whose period share keeps their score low)."""
    if ("candidates", limit) not in ctx.cache:
        from ..formulae.candidates import formulae_candidates

        ctx.cache[("candidates", limit)] = formulae_candidates(view_of(ctx), store=ctx.store, level=ctx.level,
                                                               by=period_unit(ctx), limit=limit)
    return ctx.cache[("candidates", limit)]


def section_candidates(ctx: ReportContext, top: int = 25) -> HtmlBlock:
    """Formula candidates found without a lexicon: the first ``top`` that are not proper
    names, then the names among the first rows (flagged, never leading)."""
    frame = candidates_result(ctx).frame
    cols = ["phrase", "n", "statements", "independent_statements", "period_share", "dp", "g2", "trend", "score"]
    lead = frame.filter(~pl.col("name")).head(top).select(cols)
    names = frame.head(2 * top).filter(pl.col("name")).select("phrase", "statements", "score")
    return HtmlBlock(html_table(lead, name="candidates",
                                caption=f"Formula candidates (forms at level {ctx.level or 'default'}; "
                                        "score = log2(1 + independent statements) x association x (1 - DP) x "
                                        "sqrt(period share) x log2(1 + length); proper names set apart)")
                     + html_table(names, name="candidate-names",
                                  caption="Proper-name sequences among the first candidates (flagged, not leading)"))


def section_trends(ctx: ReportContext, top: int = 12) -> HtmlBlock:
    """Emerging and fading formulae: candidates with a monotonic trend (Mann-Kendall,
    p < .05, Sen's slope), and those that appeared or vanished within the corpus's span
    (:func:`analysis.stats.timeline.stat_emergence`; proper names flagged, listed after
    the other candidates)."""
    from ..stats.timeline import stat_emergence

    res = candidates_result(ctx)
    frame = res.frame.filter(~pl.col("name"))
    cols = ["phrase", "statements", "trend_p", "slope"]
    up = frame.filter(pl.col("trend") == "rising").sort(["slope", "phrase"], descending=[True, False]).head(top)
    down = frame.filter(pl.col("trend") == "falling").sort(["slope", "phrase"]).head(top)
    per = res.extra["periods"].join(res.frame.select("id", "name"), on="id")
    life, _ = stat_emergence(per.select("phrase", "name", "period", "used", "freq", "statements"))
    if up.height == 0 and down.height == 0 and life.height == 0:
        return note("No candidate has a significant monotonic trend (or the corpus has too few periods).")
    unit = period_unit(ctx)
    out = ""
    if up.height or down.height:
        out += (html_table(up.select(cols), name="emerging",
                           caption=f"Emerging: rising rate per 10k tokens by {unit} "
                                   "(Mann-Kendall p < .05; slope = Sen's slope per period)")
                + html_table(down.select(cols), name="fading", caption="Fading: falling rate per 10k tokens"))
    for status, caption in (("appeared", f"Appeared: first attested in the last third of the {unit}s "
                                         "with enough tokens, never before"),
                            ("vanished", f"Vanished: attested in the first third of the {unit}s, "
                                         "absent from the last third")):
        rows = (life.filter(pl.col("status") == status).sort(["name", "statements", "phrase"],
                                                               descending=[False, True, False])
                .head(2 * top).drop("status"))
        out += html_table(rows, name=status, caption=caption + " (names flagged, listed last)") if rows.height \
            else note(f"No candidate {status} within the span.").markup
    return HtmlBlock(out)


def section_phrases(ctx: ReportContext, top: int = 25, min_n: tuple[int, ...] = (6, 4, 2)) -> HtmlBlock:
    """The maximal recurring phrases (phrase index), most widespread first.

    Formulae are long: the longest length threshold in ``min_n`` that still gives ``top``
    phrases is used (6+ words on a large corpus, down to 2+ on a tiny one).
    """
    from ..phrases.build import index_build

    ix = index_build(ctx.corpus, ctx.level, ctx.store)
    maximal = ix.table("maximal")
    counts = maximal.select([(pl.col("n") >= k).sum().alias(str(k)) for k in min_n]).collect().row(0)
    k = next((k for k, c in zip(min_n, counts, strict=True) if c >= top), min_n[-1])
    m = (maximal.filter(pl.col("n") >= k)
         .sort(["distinct_statements", "freq", "n", "pos"], descending=[True, True, True, False])
         .head(top).collect())
    m = m.with_columns(ix.phrases(m).alias("phrase"))
    out = m.select("phrase", "n", pl.col("distinct_statements").alias("statements"),
                   pl.col("freq").alias("occurrences"), "dp", "g2")
    return HtmlBlock(html_table(out, name="recurring-phrases",
                            caption=f"Maximal recurring phrases of {k}+ words at level {ix.level}, most "
                                    "widespread first (forms, not verbatim; dp = Gries's DP, 0 = even spread)"))


def _tokens_per_period(ctx: ReportContext, unit: str) -> Any:
    from ..ingest.periods import period_expr

    view = view_of(ctx)
    from ..vocab import default_level

    dt = view.doc_tokens(ctx.level or default_level(ctx.language))
    return (view.statements.lazy().join(dt.lazy(), on="doc", how="left")
            .filter(pl.col("date").is_not_null()).with_columns(period_expr(unit))
            .group_by("period").agg(pl.col("tokens").sum().alias("tokens"),
                                    pl.len().alias("statements_total")))


def section_heatmap(ctx: ReportContext, top: int = 15) -> Any:
    """Formula × period heatmap of occurrences per 10,000 tokens (top formulae)."""
    from ..ingest.periods import period_expr
    from .plots import plot_heatmap

    unit = period_unit(ctx)
    keep = formula_table(ctx).head(top).select("formula")
    occ = matches(ctx).join(keep, on="formula", how="semi").filter(pl.col("date").is_not_null())
    if occ.height == 0:
        return note("No dated formula occurrences to chart.")
    cells = (occ.lazy().with_columns(period_expr(unit))
             .group_by("label", "period").agg(pl.len().alias("occurrences"),
                                              pl.col("doc").n_unique().alias("statements"))
             .join(_tokens_per_period(ctx, unit), on="period", how="left")
             .with_columns((pl.col("occurrences") * 1e4 / pl.col("tokens")).round(4).alias("per_10k"))
             .sort("label", "period").collect())
    return plot_heatmap(cells, unit=unit)


def section_timelines(ctx: ReportContext, top: int = 4) -> Any:
    """Timelines (per 10k tokens, exact Poisson band) of the most widespread formulae."""
    from ..stats.timeline import stat_timeline
    from .plots import plot_timeline

    unit = period_unit(ctx)
    t = formula_table(ctx).head(top)
    frames = []
    for fid, label in zip(t["formula"].to_list(), t["label"].to_list(), strict=True):  # a handful
        r = stat_timeline(view_of(ctx), fid, by=unit, group=None, level=ctx.level)
        frames.append(r.frame.with_columns(pl.lit(label).alias("label")))
    if not frames:
        return note("No formula to chart.")
    data = pl.concat(frames, how="diagonal_relaxed").select(
        "label", "period", "per_10k", "per_10k_lo", "per_10k_hi", "statements", "statements_total",
        "occurrences", "share")
    return plot_timeline(data, unit=unit)


def section_dispersion(ctx: ReportContext, top: int = 8, formula: str | None = None) -> Any:
    """Dispersion of the top formulae (or one) across the statements in date order."""
    from .plots import plot_dispersion

    occ = matches(ctx)
    keep = (formula_table(ctx).head(top).select("formula") if formula is None
            else pl.DataFrame({"formula": [formula]}))
    lengths = view_of(ctx).texts().select("doc", pl.col("text").str.len_chars().alias("_len"))
    order = ctx.statements.select("doc").sort("doc").with_row_index("order", offset=1)
    data = (occ.lazy().join(keep.lazy(), on="formula", how="semi")
            .join(lengths.lazy(), on="doc", how="left").join(order, on="doc", how="left")
            .join(ctx.statements.select("doc", date_label().alias("when")), on="doc", how="left")
            .select("label", "order", (pl.col("start") / pl.col("_len")).round(4).alias("position"),
                    "id", pl.col("when").alias("date"), "source")
            .collect())
    return plot_dispersion(data)


def kwic_frame(ctx: ReportContext, formula: str, width: int = 80) -> Any:
    """Concordance lines of a lexicon formula in the original wording (date order),
    the lines of the CLI's ``formulae kwic`` (:func:`analysis.phrases.query.kwic_context`)."""
    from ..phrases.query import kwic_context

    occ = matches(ctx).filter(pl.col("formula") == formula)
    texts = view_of(ctx).texts().join(occ.lazy().select("doc").unique(), on="doc", how="semi").collect()
    return (
        occ.drop("text")
        .join(texts, on="doc", how="left")
        .with_columns(kwic_context(width))
        .join(ctx.statements.select("doc", date_label().alias("when")).collect(), on="doc", how="left")
        .sort("date", "id", "start", nulls_last=True)
        .select(pl.col("when").alias("date"), "source", "id", "before", "match", "after")
    )


def section_kwic(ctx: ReportContext, formula: str | None = None, n: int = 30) -> HtmlBlock:
    """KWIC lines of a formula (default: the most widespread) in the original wording."""
    from .html import esc, html_kwic

    formula = formula or top_formula(ctx)
    if formula is None:
        return note("No formula to show in context.")
    frame = kwic_frame(ctx, formula)
    label = matches(ctx).filter(pl.col("formula") == formula)["label"][0]
    return HtmlBlock(f"<p>Formula <b dir='auto'>{esc(label)}</b>: {frame.height:,} occurrences.</p>"
                 + html_kwic(frame, name=f"kwic-{formula}", max_rows=n))


def reuse_frame(ctx: ReportContext, max_statements: int = 30,
                max_docs: int | None = None) -> tuple[Any, Any, list[str]]:
    """Statement pairs sharing lexicon formulae: (matrix data, pair table, wide formulae).

    The matrix keeps the ``max_statements`` statements that share most; its labels are
    ``date · source · id``. A formula found in more than ``max_docs`` statements pairs
    none (it would add k²/2 pairs that say only that the formula is common), as in
    :func:`analysis.compare.stat_reuse`; their labels are the third item.
    """
    from ..stats.reuse import REUSE_MAX_DOCS

    max_docs = REUSE_MAX_DOCS if max_docs is None else max_docs
    used = matches(ctx).select("doc", "label").unique()
    width = used.group_by("label").agg(pl.len().alias("k"))
    wide = width.filter(pl.col("k") > max_docs).sort("label")["label"].to_list()
    used = used.filter(~pl.col("label").is_in(wide))
    pairs = (used.join(used, on="label", suffix="_b").filter(pl.col("doc") < pl.col("doc_b"))
             .group_by("doc", "doc_b").agg(pl.len().alias("shared"), pl.col("label").sort().str.join("; ").alias("formulae"))
             .sort(["shared", "doc", "doc_b"], descending=[True, False, False]))
    names = ctx.statements.select(
        "doc", pl.concat_str([date_label(), "source", "id"], separator=" · ").alias("name")).collect()
    score = (pl.concat([pairs.select("doc", "shared"), pairs.select(pl.col("doc_b").alias("doc"), "shared")])
             .group_by("doc").agg(pl.col("shared").sum()).sort(["shared", "doc"], descending=[True, False])
             .head(max_statements).select("doc"))
    both = pl.concat([pairs, pairs.select(pl.col("doc_b").alias("doc"), pl.col("doc").alias("doc_b"),
                                          "shared", "formulae")])
    matrix = (both.join(score, on="doc", how="semi").join(score.rename({"doc": "doc_b"}), on="doc_b", how="semi")
              .join(names, on="doc").join(names.rename({"doc": "doc_b", "name": "name_b"}), on="doc_b")
              .select(pl.col("name").alias("a"), pl.col("name_b").alias("b"), "shared", "formulae")
              .sort("a", "b"))
    table = (pairs.join(names, on="doc").join(names.rename({"doc": "doc_b", "name": "name_b"}), on="doc_b")
             .select(pl.col("name").alias("statement_a"), pl.col("name_b").alias("statement_b"),
                     "shared", "formulae")
             .sort(["shared", "statement_a", "statement_b"], descending=[True, False, False]))
    return matrix, table, wide


def section_reuse(ctx: ReportContext, max_docs: int | None = None) -> HtmlBlock:
    """Which statements share which formulae: matrix + the top pairs (``max_docs``: see
    :func:`reuse_frame`)."""
    from ..stats.reuse import REUSE_MAX_DOCS
    from .html import esc, html_chart
    from .plots import plot_reuse

    max_docs = REUSE_MAX_DOCS if max_docs is None else max_docs
    matrix, table, wide = reuse_frame(ctx, max_docs=max_docs)
    left_out = (
        f"<p>Not used for pairing, being in more than {max_docs} statements: "
        f"<span dir='auto'>{esc('; '.join(wide))}</span>.</p>" if wide else ""
    )
    if table.height == 0:
        return HtmlBlock(note("No two statements share a lexicon formula.").markup + left_out)
    cap = f"Statement pairs by formulae shared ({table.height:,} pairs; the CSV holds the top 500)"
    return HtmlBlock(left_out + html_chart(plot_reuse(matrix))
                 + html_table(table.head(500), name="reuse-pairs", max_rows=30, caption=cap))


def compare_split(ctx: ReportContext) -> tuple[str, str, str] | None:
    """Two periods to compare: before / from the median statement date (filters + caption)."""
    dates = ctx.statements.select(pl.col("date").drop_nulls().sort()).collect()["date"]
    if dates.n_unique() < 2:
        return None
    mid = dates[dates.len() // 2]
    if mid == dates[0]:
        mid = dates.filter(dates > dates[0])[0]
    unit = period_unit(ctx)
    cut = str(mid.year) if unit == "year" else str(mid)
    return f"date<{cut}", f"date>={cut}", f"before {cut}"


def section_compare(ctx: ReportContext, top: int = 12) -> HtmlBlock:
    """Keyness of formulae and families: the earlier half of the statements vs the later half."""
    split = compare_split(ctx)
    if split is None:
        return note("Fewer than two distinct dates: no period comparison.")
    a, b, _ = split
    return compare_html(ctx, a, b, top=top, name="keyness")


def section_compare_sources(ctx: ReportContext, top: int = 12) -> HtmlBlock:
    """Keyness of formulae and families between the two sources with most statements."""
    big = (ctx.statements.group_by("source").agg(pl.len().alias("n"))
           .sort(["n", "source"], descending=[True, False]).head(2).collect())
    if big.height < 2:
        return note("One source only: no source comparison.")
    a, b = (f"source={s}" for s in big["source"].to_list())
    if any(ch in x for x in (a, b) for ch in "&|"):
        return note("Source names contain filter characters (& or |): no source comparison.")
    return compare_html(ctx, a, b, top=top, name="keyness-sources")


def compare_html(ctx: ReportContext, a: str, b: str, *, top: int = 12, name: str = "keyness") -> HtmlBlock:
    """Keyness bars + appeared / vanished lists + the keyness table for filters ``a`` vs ``b``."""
    from ..stats.compare import stat_compare
    from .html import esc, html_chart
    from .plots import plot_keyness

    r = stat_compare(view_of(ctx), a, b, level=ctx.level, families=_families(ctx), phrases=False)
    frame = (r.frame.with_columns((-pl.col("log_ratio")).alias("log_ratio_b_vs_a"),
                                  pl.coalesce("label", "item").alias("name"))
             .with_columns(pl.concat_str([pl.col("kind"), pl.lit(": "), pl.col("name")]).alias("item_label")))
    chart = plot_keyness(frame.select("item_label", "log_ratio_b_vs_a", "g2", "a_occ", "b_occ", "a_st", "b_st"),
                         item="item_label", log_ratio="log_ratio_b_vs_a", a=a, b=b, top=top, name=name)
    p = r.params
    sizes = (f"A = {esc(a)}: {p['a_statements']:,} statements, {p['a_tokens']:,} tokens; "
             f"B = {esc(b)}: {p['b_statements']:,} statements, {p['b_tokens']:,} tokens.")
    lists = []
    for status in ("appeared in B", "vanished in B"):
        sub = frame.filter(pl.col("status") == status).sort(["g2", "item_label"], descending=[True, False]).head(15)
        if sub.height:
            lists.append(html_table(sub.select("item_label", "a_occ", "b_occ", "g2", "sig"),
                                    name=f"{name}-{status.replace(' ', '-')}", caption=f"{status[0].upper()}{status[1:]} (by G²)"))
    table = frame.head(40).select("item_label", "a_occ", "b_occ", "a_per_10k", "b_per_10k", "g2", "sig",
                                  "log_ratio_b_vs_a", "df_g2", "status")
    return HtmlBlock(f"<p>{sizes}</p>" + html_chart(chart) + "".join(lists)
                 + html_table(table, name=f"{name}-table",
                              caption="Formulae and families by keyness (G², Rayson)"))
