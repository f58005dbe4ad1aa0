"""Statistics as polars expressions and frame functions: the column-wise twins of
:mod:`analysis.measures.scalar` (same values; tests check that both agree)."""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

from .scalar import (
    changepoint_splits,
    g2_critical,
    mann_kendall,
    p_label,
    poisson_interval,
    significance_thresholds,
    trend_many,
)

__all__ = [
    "g2_expr",
    "g2_signed_expr",
    "g2_p_expr",
    "significance_expr",
    "log_ratio_expr",
    "log_dice_expr",
    "pmi_expr",
    "wilson_expr",
    "stat_keyness",
    "stat_dp",
    "stat_poisson_interval",
    "stat_bursts",
    "stat_changepoints",
    "stat_trend",
]

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

# ------------------------------------------------------------------- polars versions


def _e(x) -> pl.Expr:
    import polars as pl

    if isinstance(x, pl.Expr):
        return x.cast(pl.Float64)
    if isinstance(x, str):
        return pl.col(x).cast(pl.Float64)
    return pl.lit(float(x), dtype=pl.Float64)


def _xlnx_over_expr(o: pl.Expr, e: pl.Expr) -> pl.Expr:
    import polars as pl

    return pl.when(o > 0).then(o * (o / e).log()).otherwise(0.0)


def g2_expr(a, b, c, d, *, cells: int = 2) -> pl.Expr:
    """G² as a polars expression (columns by name, expressions or numbers); see :func:`g2`."""
    import polars as pl

    if cells not in (2, 4):
        raise ValueError(f"cells must be 2 or 4, got {cells!r}")
    a, b, c, d = _e(a), _e(b), _e(c), _e(d)
    n = c + d
    e1 = c * (a + b) / n
    e2 = d * (a + b) / n
    total = _xlnx_over_expr(a, e1) + _xlnx_over_expr(b, e2)
    if cells == 4:
        rest = n - a - b
        total = total + pl.when(rest > 0).then(
            _xlnx_over_expr(c - a, c * rest / n) + _xlnx_over_expr(d - b, d * rest / n)
        ).otherwise(0.0)
    valid = (c > 0) & (d > 0) & ((a + b) > 0)
    return pl.when(valid).then(pl.max_horizontal(2.0 * total, pl.lit(0.0))).otherwise(0.0)


def g2_signed_expr(a, b, c, d, *, cells: int = 4) -> pl.Expr:
    """Directional G² as an expression; see :func:`g2_signed` (<= 0 where a <= expected)."""
    import polars as pl

    value = g2_expr(a, b, c, d, cells=cells)
    a_, b_, c_, d_ = _e(a), _e(b), _e(c), _e(d)
    above = a_ > c_ * (a_ + b_) / (c_ + d_)
    # no -0.0 (the scalar's 0.0 - value): a "+ 0.0" here was dropped by polars's optimiser
    return pl.when(above | (value == 0.0)).then(value).otherwise(-value)


def g2_p_expr(value) -> pl.Expr:
    """p-value of G² (χ², 1 d.f.) as an expression; same formula as :func:`g2_p`."""
    import polars as pl

    g = _e(value)
    z = (pl.max_horizontal(g, pl.lit(0.0)) / 2.0).sqrt()
    t = 1.0 / (1.0 + 0.5 * z)
    poly = t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))
    poly = t * (0.27886807 + t * (-1.13520398 + poly))
    poly = t * (0.09678418 + t * (-0.18628806 + poly))
    poly = t * (1.00002368 + t * (0.37409196 + poly))
    ans = t * (-z * z - 1.26551223 + poly).exp()
    return pl.when(g <= 0).then(1.0).otherwise(pl.min_horizontal(ans, pl.lit(1.0)))


def significance_expr(value, *, m: int | None = None) -> pl.Expr:
    """Label column (``p<.0001``, ``p<.001``, ``p<.01``, ``p<.05``, ``ns``) for a G² column."""
    import polars as pl

    g = _e(value)
    out = pl.lit("ns")
    for crit, p in reversed(significance_thresholds(m)):
        out = pl.when(g >= crit).then(pl.lit(p_label(p))).otherwise(out)
    return out


def log_ratio_expr(a, b, c, d, *, smoothing: float = 0.5) -> pl.Expr:
    """Log Ratio as an expression; see :func:`log_ratio`."""
    import polars as pl

    a, b, c, d = _e(a), _e(b), _e(c), _e(d)
    a2 = pl.when(a > 0).then(a).otherwise(smoothing)
    b2 = pl.when(b > 0).then(b).otherwise(smoothing)
    return pl.when((a <= 0) & (b <= 0)).then(0.0).otherwise(((a2 / c) / (b2 / d)).log(2))


def log_dice_expr(f_xy, f_x, f_y) -> pl.Expr:
    """logDice as an expression; see :func:`log_dice` (null when f_xy = 0)."""
    import polars as pl

    f_xy, f_x, f_y = _e(f_xy), _e(f_x), _e(f_y)
    return pl.when(f_xy > 0).then(14.0 + (2.0 * f_xy / (f_x + f_y)).log(2))


def pmi_expr(f_xy, f_x, f_y, n) -> pl.Expr:
    """PMI as an expression; see :func:`pmi` (null when f_xy = 0)."""
    import polars as pl

    f_xy, f_x, f_y, n = _e(f_xy), _e(f_x), _e(f_y), _e(n)
    return pl.when(f_xy > 0).then((f_xy * n / (f_x * f_y)).log(2))


def wilson_expr(k, n, *, level: float = 0.95) -> tuple[pl.Expr, pl.Expr]:
    """(lower, upper) Wilson interval expressions for proportion k/n; see :func:`wilson`."""
    import polars as pl

    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    k, n = _e(k), _e(n)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z / denom * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()
    # k = 0 and k = n have exact bounds 0 and 1 (the formula leaves ±1e-17 of rounding)
    lo = (pl.when(n <= 0).then(None).when(k <= 0).then(0.0)
          .otherwise(pl.max_horizontal(centre - half, pl.lit(0.0))))
    hi = (pl.when(n <= 0).then(None).when(k >= n).then(1.0)
          .otherwise(pl.min_horizontal(centre + half, pl.lit(1.0))))
    return lo, hi


def stat_keyness(frame, *, a: str = "a", b: str = "b", size_a, size_b, prefix: str = "",
                 cells: int = 2, smoothing: float = 0.5, m: int | None = None):
    """Add ``{prefix}g2``, ``{prefix}p``, ``{prefix}sig``, ``{prefix}log_ratio`` columns.

    ``a``/``b`` name the count columns; ``size_a``/``size_b`` are numbers or column names.
    ``m`` applies Bonferroni to the ``sig`` labels. Works on DataFrame and LazyFrame.
    """
    g = g2_expr(a, b, size_a, size_b, cells=cells)
    return frame.with_columns(g.alias(f"{prefix}g2")).with_columns(
        g2_p_expr(f"{prefix}g2").alias(f"{prefix}p"),
        significance_expr(f"{prefix}g2", m=m).alias(f"{prefix}sig"),
        log_ratio_expr(a, b, size_a, size_b, smoothing=smoothing).alias(f"{prefix}log_ratio"),
    )


def stat_dp(counts, sizes, *, item: str = "phrase", part: str = "doc", count: str = "count",
            size: str = "tokens"):
    """Gries's DP per item from a sparse count table.

    ``counts``: rows (item, part, count) for parts where the item occurs (count > 0).
    ``sizes``: one row per part (part, size) — every part of the corpus, including those
    where no item occurs. Returns a LazyFrame (item, range, dp, dp_norm) where ``range`` is
    the number of parts with the item. Uses Σ|o_i − s_i| = Σ_present |o_i − s_i| +
    (1 − Σ_present s_i), so absent parts need no rows.
    """
    import polars as pl

    counts, sizes = counts.lazy(), sizes.lazy()
    shares = sizes.select(
        pl.col(part), (pl.col(size).cast(pl.Float64) / pl.col(size).sum()).alias("_s")
    )
    smin = sizes.select((pl.col(size).min() / pl.col(size).sum()).cast(pl.Float64).alias("_smin"))
    joined = counts.join(shares, on=part, how="left").with_columns(
        (pl.col(count).cast(pl.Float64) / pl.col(count).sum().over(item)).alias("_o")
    )
    out = joined.group_by(item).agg(
        pl.len().cast(pl.UInt32).alias("range"),
        (0.5 * ((pl.col("_o") - pl.col("_s")).abs().sum() + 1.0 - pl.col("_s").sum())).alias("dp"),
    )
    out = out.join(smin, how="cross").with_columns(
        pl.when(pl.col("_smin") < 1).then(pl.col("dp") / (1.0 - pl.col("_smin")))
        .otherwise(0.0).alias("dp_norm")
    ).drop("_smin")
    return out.sort(item)


def stat_poisson_interval(frame, *, count: str, level: float = 0.95, lo: str = "lo",
                          hi: str = "hi"):
    """Add exact Poisson interval columns ``lo``/``hi`` for the count column ``count``.

    Computed once per distinct count (memoised) and joined back; order is kept.
    """
    import polars as pl

    lazy = frame.lazy()
    distinct = lazy.select(pl.col(count).cast(pl.Int64).unique()).collect()[count].to_list()
    bounds = [poisson_interval(int(k), level=level) for k in distinct if k is not None]
    table = pl.DataFrame(
        {
            "_k": [int(k) for k in distinct if k is not None],
            lo: [b[0] for b in bounds],
            hi: [b[1] for b in bounds],
        },
        schema={"_k": pl.Int64, lo: pl.Float64, hi: pl.Float64},
    ).lazy()
    out = (
        lazy.with_columns(pl.col(count).cast(pl.Int64).alias("_k"))
        .join(table, on="_k", how="left", maintain_order="left")
        .drop("_k")
    )
    return out if isinstance(frame, pl.LazyFrame) else out.collect()


def stat_bursts(frame, *, series: str | list[str], period: str = "period", count: str = "count",
                exposure: str = "exposure", alpha: float = 0.001, bonferroni: bool = True):
    """Add ``burst_g2`` and ``burst`` (bool) columns: :func:`bursts` for every series.

    ``series`` names the column(s) identifying one series (e.g. ``formula``); the
    Bonferroni m is the number of periods in that series.
    """
    import polars as pl

    keys = [series] if isinstance(series, str) else list(series)
    k, n = pl.col(count).cast(pl.Float64), pl.col(exposure).cast(pl.Float64)
    rest_k = k.sum().over(keys) - k
    rest_n = n.sum().over(keys) - n
    g = g2_expr(k, rest_k, n, rest_n)
    m = pl.len().over(keys)
    # critical value per m: computed for the distinct m values (few), joined back.
    lazy = frame.lazy().with_columns(g.alias("burst_g2"), m.alias("_m"),
                                     ((k / n) > (rest_k / rest_n)).alias("_higher"),
                                     (rest_n > 0).alias("_ok"))
    ms = lazy.select(pl.col("_m").unique()).collect()["_m"].to_list()
    crit = pl.DataFrame(
        {"_m": ms, "_crit": [g2_critical(alpha, int(v) if bonferroni else 1) for v in ms]},
        schema={"_m": pl.UInt32, "_crit": pl.Float64},
    ).lazy()
    out = (
        lazy.with_columns(pl.col("_m").cast(pl.UInt32))
        .join(crit, on="_m", how="left", maintain_order="left")
        .with_columns(
            (pl.col("_ok") & pl.col("_higher").fill_null(False) & (pl.col("burst_g2") >= pl.col("_crit")))
            .alias("burst")
        )
        .drop("_m", "_crit", "_higher", "_ok")
    )
    return out if isinstance(frame, pl.LazyFrame) else out.collect()


def stat_changepoints(frame, *, series: str | list[str], period: str = "period",
                      count: str = "count", exposure: str = "exposure",
                      threshold: float = 10.83, min_size: int = 2, max_changes: int = 5):
    """Change points of every series: a DataFrame (series keys…, period, g2_split).

    ``period`` is the first period of the new regime. Periods are taken in sorted order;
    the per-series loop runs in Python over series (few: formulae), not over rows.
    """
    import polars as pl

    keys = [series] if isinstance(series, str) else list(series)
    df = frame.lazy().sort([*keys, period]).collect()
    # each series' rows as one slice of plain lists (a DataFrame a series cost ~0.1 ms
    # each: 200 sources of ungdc)
    spans = df.select(keys).with_row_index("_at").group_by(keys, maintain_order=True).agg(
        pl.col("_at").first(), pl.len().alias("_n"))
    ks_all, ns_all = df[count].to_list(), df[exposure].to_list()
    found: list[int] = []
    values: list[float] = []
    for at, size in zip(spans["_at"].to_list(), spans["_n"].to_list(), strict=True):
        for t, value in changepoint_splits(ks_all[at:at + size], ns_all[at:at + size], threshold, min_size,
                                           max_changes):
            found.append(at + t)
            values.append(value)
    return df.select(*keys, period)[pl.Series(found, dtype=pl.Int64)].with_columns(
        pl.Series("g2_split", values, pl.Float64))


def stat_trend(frame, *, series: str | list[str], period: str = "period", value: str = "per_10k",
               exposure: str | None = "tokens_total", min_exposure: float = 0.0, alpha: float = 0.05):
    """Monotonic trend of ``value`` over ``period`` per series: Mann-Kendall and Sen's slope.

    Periods whose ``exposure`` is below ``min_exposure`` are not used (too few tokens for
    a rate). One row per series: ``periods_used``, ``trend`` (``rising`` / ``falling`` where
    p < ``alpha``, else ``no trend``; ``too short`` under 3 periods), ``trend_p``, ``tau``,
    ``slope`` (Sen's slope of ``value`` per period). One Python call per series (series
    are few; the periods of a series are a short list).
    """
    import polars as pl

    keys = [series] if isinstance(series, str) else list(series)
    data = frame if exposure is None else frame.filter(pl.col(exposure) >= min_exposure)
    groups = data.sort(keys + [period]).group_by(keys, maintain_order=True).agg(pl.col(value).alias("_v"))
    vals_all = groups["_v"].to_list()
    rows: list[dict] = [{} for _ in vals_all]
    by_len: dict[int, list[int]] = {}
    for k, vals in enumerate(vals_all):  # series of one length are tested together (numpy)
        by_len.setdefault(len(vals), []).append(k)
    for length, ks in by_len.items():
        res = trend_many([vals_all[k] for k in ks]) if length else None
        for q, k in enumerate(ks):
            mk = {"s": res["s"][q], "p": res["p"][q], "tau": res["tau"][q]} if res else mann_kendall([])
            label = ("too short" if length < 3 else "no trend" if mk["p"] >= alpha
                     else "rising" if mk["s"] > 0 else "falling")
            rows[k] = {"periods_used": length, "trend": label, "trend_p": mk["p"], "tau": mk["tau"],
                       "slope": res["slope"][q] if res else 0.0}
    out = pl.DataFrame(rows, schema={"periods_used": pl.UInt32, "trend": pl.String, "trend_p": pl.Float64,
                                     "tau": pl.Float64, "slope": pl.Float64})
    return pl.concat([groups.drop("_v"), out], how="horizontal")
