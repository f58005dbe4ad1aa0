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

from .html import _HTML, html_facts, html_table, note


@dataclass
class ReportContext:
    """What every section needs: the corpus, its snapshot and the chosen level."""

    corpus: str
    store: str | None
    manifest: dict[str, Any]
    statements: Any  # pl.LazyFrame
    language: str
    level: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def arabic(self) -> bool:
        return self.language == "ar"


def report_open(corpus: str, *, level: str | None = None, store: str | None = None) -> ReportContext:
    """Load a corpus snapshot for a report (store: argument, ``$FORMULAE_STORE``, ./build)."""
    from .report import snapshot_load, snapshot_manifest

    store = store or os.environ.get("FORMULAE_STORE")
    manifest = snapshot_manifest(corpus, store=store)
    statements = snapshot_load(corpus, store=store)
    return ReportContext(corpus=corpus, store=store, manifest=manifest, statements=statements,
                         language=manifest.get("language", "en"), level=level)


def unavailable(what: str, exc: BaseException) -> _HTML:
    """The note shown where a section's upstream piece is missing in this build."""
    detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return note(f"{what}: not available in this build ({detail}).")


def guarded(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; on a missing upstream piece (ImportError, AttributeError, NotImplementedError)
    return the "not available" note instead."""
    try:
        return fn(*args, **kwargs)
    except (ImportError, AttributeError, NotImplementedError) as exc:
        return unavailable(what, exc)


# --- snapshot sections (need only the corpus) ---------------------------------------


def section_title(ctx: ReportContext) -> _HTML:
    from .html import esc

    m = ctx.manifest
    desc = m.get("description") or ""
    return _HTML(
        f'<p class="fx-lead">Corpus <b>{esc(ctx.corpus)}</b> · language <b>{esc(ctx.language)}</b>'
        f"{' · ' + esc(desc) if desc else ''}</p>"
    )


def section_facts(ctx: ReportContext) -> _HTML:
    """Corpus facts: statements, sources, dates, precision, undated, duplicates, size."""
    import polars as pl

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
        "Declaration": f"{m.get('declaration', '')} (sha256 {str(m.get('declaration_sha256', ''))[:16]}…)",
    }
    for key in ("licence", "citation"):
        if m.get(key):
            facts[key.capitalize()] = m[key]
    return _HTML(html_facts(facts))


def section_statements(ctx: ReportContext) -> Any:
    from .plots import plot_statements

    return plot_statements(ctx.statements)


def section_sources(ctx: ReportContext) -> Any:
    from .plots import plot_sources

    return plot_sources(ctx.statements)


def section_lengths(ctx: ReportContext) -> Any:
    from .plots import plot_lengths

    return plot_lengths(ctx.statements)


def section_sample(ctx: ReportContext, n: int = 5) -> _HTML:
    """The first ``n`` statements (date, source, id, title, opening words), escaped."""
    import polars as pl

    frame = (
        ctx.statements.select(
            "date", "source", "id",
            pl.col("title"),
            pl.col("text").str.slice(0, 160).alias("opening"),
        )
        .head(n)
        .collect()
    )
    return _HTML(html_table(frame, name="sample-statements", caption=f"First {n} statements"))
