"""Timelines and lifecycles of one item (formula, family or phrase) over periods."""

from __future__ import annotations

import polars as pl

from .. import measures as stats
from ..errors import FormulaeError
from ..ingest.periods import date_label_expr, period_expr, period_label_expr
from ..ingest.where import statements_filter
from ..result import Result
from ..vocab import PERIODS, PRECISIONS, check, default_level, precision_rank
from .items import item_occurrences, view_of

# columns a timeline may be split by (``--group``); one value per statement, few values
TIMELINE_GROUPS = ("source", "language", "date_precision")


def stat_timeline(corpus, item: str, *, store=None, by: str = "year", group: str | None = "source",
                  where: str | None = None, sources: list[str] | None = None,
                  level: str | None = None, families=None,
                  level_conf: float = 0.95, min_tokens: int = 1000) -> Result:
    """Counts and rates of one formula / family / phrase per period (and group).

    Columns: [group], ``period`` (Date, start of the period), ``label`` (the period as
    ``formulae query`` labels it: ``1946``, ``2015-Q3``, ...), ``statements_total``,
    ``tokens_total``, ``statements`` (with the item), ``occurrences``, ``share`` (of
    statements) with Wilson ``share_lo``/``share_hi``, ``per_10k`` (occurrences per 10,000
    tokens) with exact Poisson ``per_10k_lo``/``per_10k_hi``, ``peak`` (the group's highest
    ``per_10k``; ties: earliest), ``burst`` (see :func:`analysis.stats.stat_bursts`).
    ``.extra['changes']``: change points (:func:`analysis.stats.stat_changepoints`);
    ``.extra['lifecycle']``: see :func:`stat_lifecycle`, with the trend of ``per_10k``
    (:func:`analysis.measures.stat_trend`: Mann-Kendall and Sen's slope over the periods
    with at least ``min_tokens`` tokens): ``periods_used``, ``trend``, ``trend_p``, ``tau``,
    ``slope`` (per 10k tokens per period).
    """
    check("--by", by, PERIODS)
    view = view_of(corpus, store)
    if group is not None:
        check("--group", group, TIMELINE_GROUPS + ("none",))
    level = level or default_level(view.language)
    occ = item_occurrences(view, item, level=level, families=families)
    st = view.statements.join(view.doc_tokens(level), on="doc", how="left")
    st, notes = statements_filter(st, where=where, sources=sources, corpus=view.name)
    undated = st.filter(pl.col("date").is_null()).height
    if undated:
        notes.append(f"{undated} undated statements excluded")
    st = st.filter(pl.col("date").is_not_null())
    ranks = {p: precision_rank(p) for p in PRECISIONS}
    coarse = st.select(pl.col("date_precision").replace_strict(ranks, default=9).max()).item()
    if coarse is not None and precision_rank(by) < coarse:
        fits = [p for p in PERIODS if precision_rank(p) >= coarse][0]
        raise FormulaeError(f"--by {by} is finer than the corpus's date precision; use {fits} or coarser")
    gk = [group] if group else []
    keys = gk + ["period"]
    st = st.with_columns(period_expr(by))
    per_doc = occ.group_by("doc").agg(pl.len().alias("occ"))
    st = st.join(per_doc, on="doc", how="left").with_columns(pl.col("occ").fill_null(0))
    frame = (st.group_by(keys).agg(
        pl.len().cast(pl.UInt32).alias("statements_total"),
        pl.col("tokens").sum().cast(pl.UInt64).alias("tokens_total"),
        (pl.col("occ") > 0).sum().cast(pl.UInt32).alias("statements"),
        pl.col("occ").sum().cast(pl.UInt32).alias("occurrences"),
    ).sort(keys))
    frame = frame.select(*keys, period_label_expr(by).alias("label"), pl.exclude(keys))
    lo, hi = stats.wilson_expr("statements", "statements_total", level=level_conf)
    frame = frame.with_columns((pl.col("statements") / pl.col("statements_total")).alias("share"),
                               lo.alias("share_lo"), hi.alias("share_hi"))
    frame = stats.stat_poisson_interval(frame, count="occurrences", level=level_conf, lo="_plo", hi="_phi")
    # a period whose statements have no token here (only punctuation, say) has no rate
    per = pl.when(pl.col("tokens_total") > 0).then(1e4 / pl.col("tokens_total").cast(pl.Float64))
    empty = frame.filter(pl.col("tokens_total") == 0).select(
        pl.concat_str("label", *[pl.col(g).cast(pl.String) for g in gk], separator=" ", ignore_nulls=True))
    if empty.height:
        names = ", ".join(empty.to_series().head(5).to_list()) + (", ..." if empty.height > 5 else "")
        notes.append(f"{empty.height} period{'s' * (empty.height > 1)} with statements but no token at "
                     f"level {level} ({names}): no rate, and no burst there")
    frame = frame.with_columns((pl.col("occurrences") * per).alias("per_10k"),
                               (pl.col("_plo") * per).alias("per_10k_lo"),
                               (pl.col("_phi") * per).alias("per_10k_hi")).drop("_plo", "_phi")

    def over(e: pl.Expr) -> pl.Expr:
        return e.over(gk) if gk else e

    is_max = ((pl.col("per_10k") == over(pl.col("per_10k").max())) & (pl.col("occurrences") > 0)).fill_null(False)
    frame = frame.with_columns(is_max.alias("peak")).with_columns(
        (pl.col("peak") & (over(pl.col("peak").cast(pl.UInt32).cum_sum()) == 1)).alias("peak"))
    series = gk or ["_all"]
    tmp = frame if gk else frame.with_columns(pl.lit("all").alias("_all"))
    tmp = tmp.rename({"occurrences": "count", "tokens_total": "exposure"})
    bursts = stats.stat_bursts(tmp, series=series, period="period")
    frame = frame.with_columns(bursts["burst"] & (frame["tokens_total"] > 0))
    changes = stats.stat_changepoints(tmp, series=series, period="period")
    if not gk:
        changes = changes.drop("_all")
    life = stat_lifecycle(view, occ.join(st.select("doc"), on="doc", how="semi"), item=item,
                          group=group, by=by, timeline=frame, changes=changes)
    life = _with_trend(life, tmp, series, gk, min_tokens, notes)
    params = {"corpus": view.name, "item": item, "by": by, "group": group, "where": where, "sources": sources,
              "level": level, "confidence": level_conf, "min_tokens": min_tokens,
              "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes, {"changes": changes, "lifecycle": life})


def _with_trend(life: pl.DataFrame, series_frame: pl.DataFrame, series: list[str], gk: list[str],
                min_tokens: int, notes: list[str]) -> pl.DataFrame:
    """The lifecycle with the trend columns of :func:`analysis.measures.stat_trend`."""
    data = series_frame.rename({"exposure": "tokens_total"})
    trend = stats.stat_trend(data, series=series, period="period", min_exposure=min_tokens)
    short = data.filter(pl.col("tokens_total") < min_tokens).height
    if short:
        notes.append(f"{short} periods with fewer than {min_tokens} tokens not used for the trend")
    if gk:
        return life.join(trend, on=gk, how="left")
    trend = trend.drop("_all")
    if trend.height == 0:  # no period with enough tokens
        trend = pl.DataFrame({"periods_used": [0], "trend": ["too short"], "trend_p": [None], "tau": [None],
                              "slope": [None]}, schema=trend.schema)
    return pl.concat([life, trend], how="horizontal") if life.height else life


def stat_lifecycle(view, occ: pl.DataFrame, *, item: str, group: str | None, by: str,
                   timeline: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """First/last attestation, totals, peak period and change periods of one item.

    Columns: ``item``, [group], ``first_date``, ``first_id``, ``last_date``, ``last_id``,
    ``statements``, ``occurrences``, ``peak_period``, ``peak_per_10k``, ``changes`` (list of
    periods where a new regime begins). Dates are text at their precision (``1972``,
    ``2015-07``, ``2015-07-21``), periods as ``formulae query`` labels them. An item with
    no dated occurrence gives one row of zeros and nulls (no group) or no row.
    """
    gk = [group] if group else []
    docs = (occ.group_by("doc").agg(pl.len().alias("occ"))
            .join(view.statements.select("doc", "id", "date", "date_precision", *gk), on="doc")
            .filter(pl.col("date").is_not_null()).sort("date", "id")
            .with_columns(date_label_expr().alias("date")))
    agg = [pl.col("date").first().alias("first_date"), pl.col("id").first().alias("first_id"),
           pl.col("date").last().alias("last_date"), pl.col("id").last().alias("last_id"),
           pl.len().cast(pl.UInt32).alias("statements"), pl.col("occ").sum().cast(pl.UInt32).alias("occurrences")]
    out = docs.group_by(gk, maintain_order=True).agg(agg) if gk else docs.select(agg)
    label = period_label_expr(by, "period")
    peak = timeline.filter(pl.col("peak")).select(*gk, label.alias("peak_period"),
                                                  pl.col("per_10k").alias("peak_per_10k"))
    ch = changes.sort("period").with_columns(label.alias("period"))
    if gk:
        ch = ch.group_by(gk).agg(pl.col("period").alias("changes"))
        out = out.join(peak, on=gk, how="left").join(ch, on=gk, how="left")
    else:
        ch = pl.DataFrame({"changes": [ch["period"].to_list()]}, schema={"changes": pl.List(pl.String)})
        if peak.height == 0:  # no occurrence: no peak
            peak = pl.DataFrame({"peak_period": [None], "peak_per_10k": [None]},
                                schema={"peak_period": pl.String, "peak_per_10k": pl.Float64})
        out = pl.concat([out, peak.head(1), ch], how="horizontal")
    return out.with_columns(pl.lit(item).alias("item")).select("item", pl.exclude("item")).sort(gk or "item")




def stat_emergence(periods: pl.DataFrame, *, key: str = "phrase") -> tuple[pl.DataFrame, list[str]]:
    """Items that appeared or vanished within the span of a per-period table.

    ``periods``: one row per item (``key``) and period (``period`` labels that sort in time
    order, ``used``: the period has enough tokens, ``freq``, ``statements``), as
    ``formulae candidates --by`` gives it. Of the used periods, the *last third* is the last
    ``max(1, P // 3)`` of them and the *first third* the first as many. An item
    **appeared** when its first attestation (any period, used or not) lies in the last
    third, and **vanished** when it is attested in the first third and in no period from
    the last third on. One row per such item: ``status``, ``key``, ``first_period``,
    ``last_period``, ``periods`` (attested), ``freq``, ``statements`` (sums over the
    periods), sorted by status, statements desc, key. Fewer than three used periods: no
    rows (a note says so). Other columns of the first row of an item (e.g. ``name``)
    are kept.
    """
    used = periods.filter(pl.col("used"))["period"].unique().sort().to_list()
    if len(used) < 3:
        return periods.head(0).select(key), [f"{len(used)} periods with enough tokens: too few to tell "
                                            "what appeared or vanished"]
    third = max(1, len(used) // 3)
    late, early_end = used[-third], used[third - 1]
    extra = [c for c in periods.columns
             if c not in (key, "period", "used", "freq", "statements", "tokens_total", "per_10k")]
    att = periods.filter(pl.col("freq") > 0)
    per = (att.sort("period").group_by(key, maintain_order=True).agg(
        pl.col("period").first().alias("first_period"), pl.col("period").last().alias("last_period"),
        pl.len().cast(pl.UInt32).alias("periods"), pl.col("freq").sum().cast(pl.UInt32).alias("freq"),
        pl.col("statements").sum().cast(pl.UInt32).alias("statements"),
        (pl.col("used") & (pl.col("period") <= early_end)).any().alias("_early"),
        *[pl.col(c).first() for c in extra]))
    status = (pl.when(pl.col("first_period") >= late).then(pl.lit("appeared"))
              .when(pl.col("_early") & (pl.col("last_period") < late)).then(pl.lit("vanished")))
    out = (per.with_columns(status.alias("status")).filter(pl.col("status").is_not_null())
           .sort(["status", "statements", key], descending=[False, True, False])
           .select("status", key, "first_period", "last_period", "periods", "freq", "statements", *extra))
    return out, [f"last third: the {third} periods from {late} of {len(used)} with enough tokens; "
                 f"first third: to {early_end}"]
