"""Sections of the ``compare`` report: two corpora (or two filters of one corpus) side
by side through the lexicon formulae (:mod:`analysis.stats.across`).

The notebook (``reports/compare.qmd``) calls :func:`compare_open` once, then one function
per section; tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .html import HtmlBlock, esc, html_table, note
from .sections import ReportContext, period_unit, report_open


@dataclass
class CompareContext:
    """Side A and side B: a report context each (the same corpus twice for two sources)."""

    a: ReportContext
    b: ReportContext
    where_a: str | None = None
    where_b: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def name(self, side: str) -> str:
        ctx, where = (self.a, self.where_a) if side == "a" else (self.b, self.where_b)
        return ctx.corpus + (f" [{where}]" if where else "")

    @property
    def arabic(self) -> bool:
        return self.a.arabic or self.b.arabic


def compare_open(corpus: str, other: str | None = None, *, a: str | None = None, b: str | None = None,
                 level: str | None = None, store: str | None = None) -> CompareContext:
    """Open both sides: ``corpus`` filtered by ``a`` and ``other`` (default: ``corpus``) by ``b``."""
    ca = report_open(corpus, level=level, store=store)
    cb = ca if other in (None, corpus) else report_open(other, level=level, store=store)
    return CompareContext(ca, cb, a, b)


def compare_result(cc: CompareContext) -> Any:
    """The formula comparison (cached)."""
    if "result" not in cc.cache:
        from ..stats.across import stat_compare_across

        cc.cache["result"] = stat_compare_across(cc.a.corpus, cc.b.corpus, store=cc.a.store,
                                                 where_a=cc.where_a, where_b=cc.where_b,
                                                 level=cc.a.level)
    return cc.cache["result"]


def section_compare_head(cc: CompareContext) -> HtmlBlock:
    """Who is compared, in which languages, and what the rates mean."""
    res = compare_result(cc)
    p = res.params
    rows = "".join(
        f"<li><b>{side.upper()}</b>: <span lang=\"{esc(ctx.language)}\">{esc(cc.name(side))}</span> · "
        f"language <b>{esc(ctx.language)}</b> · {p[side + '_statements']:,} statements</li>"
        for side, ctx in (("a", cc.a), ("b", cc.b))
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in res.notes)
    return HtmlBlock(f'<ul class="fx-lead">{rows}</ul><details><summary>Notes</summary><ul>{notes}</ul></details>')


def _rename(frame: Any, cc: CompareContext) -> Any:
    return frame.rename({c: c.replace("a_", "A ").replace("b_", "B ") for c in frame.columns
                         if c.startswith(("a_", "b_"))})


def section_shared(cc: CompareContext) -> HtmlBlock:
    """Formulae both sides use: share of statements on each side, Log Ratio, G²."""
    import polars as pl

    frame = compare_result(cc).frame.filter(pl.col("side") == "both")
    if frame.height == 0:
        return note("No lexicon formula is used on both sides.")
    cols = ["formula", "label", "a_statements", "a_share", "b_statements", "b_share", "log_ratio", "g2", "p"]
    return HtmlBlock(html_table(_rename(frame.select(cols), cc), name="shared-formulae",
                                caption=f"Shared formulae: A = {cc.name('a')}, B = {cc.name('b')}"))


def section_own(cc: CompareContext) -> HtmlBlock:
    """Formulae only one side uses (and whether the other side's language has a wording)."""
    import polars as pl

    frame = compare_result(cc).frame.filter(pl.col("side") != "both")
    if frame.height == 0:
        return note("Every formula used on one side is used on the other too.")
    cols = ["formula", "label", "side", "a_statements", "a_share", "b_statements", "b_share"]
    return HtmlBlock(html_table(_rename(frame.select(cols), cc), name="own-formulae",
                                caption="Each side's own formulae"))


def _unit(cc: CompareContext) -> str:
    """The coarser of the two sides' natural period units."""
    from ..vocab import precision_rank

    units = [period_unit(cc.a), period_unit(cc.b)]
    return max(units, key=precision_rank)


def section_rates(cc: CompareContext, top: int = 4) -> Any:
    """Share of statements per period of the most used shared formulae, both sides on one chart."""
    import polars as pl

    from ..errors import FormulaeError
    from ..stats.timeline import stat_timeline
    from .plots import plot_timeline
    from .sections import view_of

    shared = compare_result(cc).frame.filter(pl.col("side") == "both")
    shared = shared.with_columns((pl.col("a_statements") + pl.col("b_statements")).alias("_n")).sort(
        ["_n", "formula"], descending=[True, False]).head(top)
    if shared.height == 0:
        return note("No shared formula to chart.")
    unit = _unit(cc)
    frames = []
    for fid, label in zip(shared["formula"].to_list(), shared["label"].to_list(), strict=True):
        for side, ctx, where in (("A", cc.a, cc.where_a), ("B", cc.b, cc.where_b)):
            try:
                r = stat_timeline(view_of(ctx), fid, by=unit, group=None, where=where, level=ctx.level)
            except FormulaeError as exc:
                return note(f"Rates over time: {exc}")
            frames.append(r.frame.with_columns(pl.lit(f"{label} · {side} ({cc.name(side.lower())})").alias("label")))
    data = pl.concat(frames, how="diagonal_relaxed").select(
        "label", "period", "share", "share_lo", "share_hi", "statements", "statements_total", "occurrences")
    # where the two sides' periods overlap (two or more), the chart shows the overlap only
    spans = [f["period"] for f in frames[:2]]
    lo, hi = max(s.min() for s in spans), min(s.max() for s in spans)
    if lo is not None and hi is not None and data.filter(pl.col("period").is_between(lo, hi))["period"].n_unique() >= 2:
        data = data.filter(pl.col("period").is_between(lo, hi))
    return plot_timeline(data, unit=unit, value="share", lo="share_lo", hi="share_hi", name="compare-rates",
                         title=f"Share of statements using the formula per {unit}, A and B (band: 95% Wilson)")


def section_wordings(cc: CompareContext, top: int = 8) -> HtmlBlock:
    """How each side words the shared formulae: its most frequent matched wording."""
    import polars as pl

    from ..formulae.lexicon import lexicon_load
    from ..formulae.match import formulae_find
    from ..ingest.where import filter_parse
    from .sections import view_of

    shared = compare_result(cc).frame.filter(pl.col("side") == "both").head(top)
    if shared.height == 0:
        return note("No shared formula.")
    ids = shared["formula"].to_list()
    parts = []
    for side, ctx, where in (("A", cc.a, cc.where_a), ("B", cc.b, cc.where_b)):
        view = view_of(ctx)
        occ = formulae_find(view, lexicon=lexicon_load().for_language(view.language), level=ctx.level, formulae=ids)
        if where:
            occ = occ.join(view.statements.filter(filter_parse(where)).select("doc"), on="doc", how="semi")
        parts.append(occ.group_by("formula", "text").agg(pl.len().alias("n"))
                     .sort(["formula", "n", "text"], descending=[False, True, False])
                     .group_by("formula", maintain_order=True).agg(pl.col("text").first(), pl.col("n").first())
                     .rename({"text": f"{side} wording", "n": f"{side} times"}))
    frame = (shared.select("formula", "label").join(parts[0], on="formula", how="left")
             .join(parts[1], on="formula", how="left"))
    return HtmlBlock(html_table(frame, name="wordings", caption="The most frequent wording of each shared formula on each side"))
