"""Statistics for comparing and describing phrase frequencies.

Every measure comes twice: a plain-Python scalar function (for tests, single values and
the documentation's worked examples) and a polars expression or frame function that
computes the same value column-wise (for tables). Tests check that both agree.

Notation (Rayson & Garside 2000; Hardie 2014): a phrase occurs ``a`` times in corpus
A of size ``c`` and ``b`` times in corpus B of size ``d`` (sizes in tokens, or in
statements for the document-frequency versions).

Measures
--------
``g2``          log-likelihood G², Rayson's two-cell form:
                E1 = c(a+b)/(c+d), E2 = d(a+b)/(c+d),
                G² = 2 (a ln(a/E1) + b ln(b/E2)), with 0 ln 0 = 0.
                ``cells=4`` gives the full 2×2 table (adds the "not this phrase"
                cells c−a and d−b); use it for document frequencies, where the phrase
                may occur in a large share of the statements.
``g2_p``        p-value of G² under χ² with 1 degree of freedom: erfc(sqrt(G²/2)).
``SIGNIFICANCE``  critical values 3.84 (p<.05), 6.63 (p<.01), 10.83 (p<.001),
                15.13 (p<.0001); ``g2_critical(alpha, m)`` gives the Bonferroni-corrected
                value for m simultaneous tests (α/m).
``log_ratio``   Hardie's Log Ratio, log2((a/c)/(b/d)); a zero count is replaced by
                ``smoothing`` (default 0.5) so the value stays finite. +1 = twice as
                frequent in A, −1 = twice as frequent in B.
``log_dice``    Rychlý (2008): 14 + log2(2 f_xy / (f_x + f_y)); max 14.
``pmi``         pointwise mutual information, log2(f_xy N / (f_x f_y)).
``dp``          Gries's (2008) deviation of proportions: 0.5 Σ |v_i/f − s_i| over all
                parts i (s_i = part size share, v_i = count in part); 0 = perfectly
                even, → 1 = concentrated. ``dp_norm`` divides by 1 − min(s_i)
                (Lijffijt & Gries 2012).
``wilson``      Wilson score interval for a proportion k/n.
``poisson_interval``  exact (Garwood) interval for a Poisson count k:
                [χ²(α/2; 2k)/2, χ²(1−α/2; 2k+2)/2], computed by bisection on the
                regularised incomplete gamma function (no scipy needed).
``bursts``      burst test: each period of a series against the rest of the series
                (Rayson G², Bonferroni over the number of periods, positive direction).
``changepoints``  binary segmentation of a count series with exposures: the split that
                maximises G² between the rates before and after is kept while its
                G² ≥ threshold (default 10.83, p<.001) and both sides have at least
                ``min_size`` periods; repeated within each segment.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = [
    "SIGNIFICANCE",
    "g2",
    "g2_p",
    "g2_critical",
    "significance_label",
    "log_ratio",
    "log_dice",
    "pmi",
    "dp",
    "dp_norm",
    "wilson",
    "poisson_interval",
    "bursts",
    "changepoints",
    "g2_expr",
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
]

#: (critical G², p) pairs for χ² with 1 d.f., strictest first.
SIGNIFICANCE: tuple[tuple[float, float], ...] = (
    (15.13, 0.0001),
    (10.83, 0.001),
    (6.63, 0.01),
    (3.84, 0.05),
)


# --------------------------------------------------------------------------- scalars


def _xlnx_over(o: float, e: float) -> float:
    return 0.0 if o <= 0 else o * math.log(o / e)


def g2(a: float, b: float, c: float, d: float, *, cells: int = 2) -> float:
    """Log-likelihood G² of ``a`` in size ``c`` vs ``b`` in size ``d``.

    ``cells=2`` is Rayson's form (the usual keyword statistic); ``cells=4`` uses the full
    2×2 contingency table. Returns 0.0 when a = b = 0 or a size is 0.
    """
    if cells not in (2, 4):
        raise ValueError(f"cells must be 2 or 4, got {cells!r}")
    if c <= 0 or d <= 0 or a + b <= 0:
        return 0.0
    n = c + d
    e1 = c * (a + b) / n
    e2 = d * (a + b) / n
    total = _xlnx_over(a, e1) + _xlnx_over(b, e2)
    if cells == 4:
        rest = n - a - b
        if rest > 0:
            total += _xlnx_over(c - a, c * rest / n) + _xlnx_over(d - b, d * rest / n)
    return max(0.0, 2.0 * total)


def _erfc(x: float) -> float:
    """Complementary error function, Numerical Recipes ``erfcc`` (rel. error < 1.2e-7).

    Used instead of :func:`math.erfc` so that the scalar and the polars expression
    compute exactly the same formula.
    """
    z = abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    ans = t * math.exp(
        -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
            -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
                -0.82215223 + t * 0.17087277)))))))))
    return ans if x >= 0 else 2.0 - ans


def g2_p(value: float) -> float:
    """p-value of a G² statistic (χ², 1 d.f.): erfc(sqrt(G²/2))."""
    if value <= 0:
        return 1.0
    return min(1.0, _erfc(math.sqrt(value / 2.0)))


def g2_critical(alpha: float = 0.05, m: int = 1) -> float:
    """Critical G² (χ², 1 d.f.) for level ``alpha`` with Bonferroni over ``m`` tests.

    ``g2_critical(0.001)`` ≈ 10.83; ``g2_critical(0.05, 100)`` uses α = 0.0005.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if m < 1:
        raise ValueError(f"m (number of tests) must be >= 1, got {m!r}")
    z = NormalDist().inv_cdf(1.0 - alpha / (2.0 * m))
    return z * z


def significance_label(value: float, m: int | None = None) -> str:
    """Label of the strictest threshold that ``value`` passes: ``p<.0001`` … ``p<.05``, or ``ns``.

    With ``m`` (Bonferroni), each threshold is the critical value at α/m.
    """
    for crit, p in _thresholds(m):
        if value >= crit:
            return _p_label(p)
    return "ns"


def _thresholds(m: int | None) -> list[tuple[float, float]]:
    if m is None or m <= 1:
        return list(SIGNIFICANCE)
    return [(g2_critical(p, m), p) for _, p in SIGNIFICANCE]


def _p_label(p: float) -> str:
    return "p<" + f"{p:.4f}".rstrip("0").lstrip("0")


def log_ratio(a: float, b: float, c: float, d: float, *, smoothing: float = 0.5) -> float:
    """Hardie's Log Ratio log2((a/c)/(b/d)); zero counts become ``smoothing``.

    Returns 0.0 when both counts are zero.
    """
    if a <= 0 and b <= 0:
        return 0.0
    a2 = a if a > 0 else smoothing
    b2 = b if b > 0 else smoothing
    return math.log2((a2 / c) / (b2 / d))


def log_dice(f_xy: float, f_x: float, f_y: float) -> float:
    """Rychlý's logDice: 14 + log2(2 f_xy / (f_x + f_y)). −inf when f_xy = 0."""
    if f_xy <= 0:
        return -math.inf
    return 14.0 + math.log2(2.0 * f_xy / (f_x + f_y))


def pmi(f_xy: float, f_x: float, f_y: float, n: float) -> float:
    """Pointwise mutual information log2(f_xy · N / (f_x · f_y)). −inf when f_xy = 0."""
    if f_xy <= 0:
        return -math.inf
    return math.log2(f_xy * n / (f_x * f_y))


def dp(counts: Sequence[float], sizes: Sequence[float]) -> float:
    """Gries's DP for one item: ``counts[i]`` in part i of size ``sizes[i]`` (all parts)."""
    if len(counts) != len(sizes):
        raise ValueError("counts and sizes must have the same length")
    f = float(sum(counts))
    total = float(sum(sizes))
    if f <= 0 or total <= 0:
        return math.nan
    return 0.5 * sum(abs(v / f - s / total) for v, s in zip(counts, sizes, strict=True))


def dp_norm(counts: Sequence[float], sizes: Sequence[float]) -> float:
    """DP divided by its maximum 1 − min(s_i) (Lijffijt & Gries 2012)."""
    total = float(sum(sizes))
    smin = min(sizes) / total
    return dp(counts, sizes) / (1.0 - smin) if smin < 1 else 0.0


def wilson(k: float, n: float, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion k/n. (nan, nan) when n = 0."""
    if n <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    # k = 0 and k = n have exact bounds 0 and 1 (the formula leaves ±1e-17 of rounding)
    lo = 0.0 if k <= 0 else max(0.0, centre - half)
    hi = 1.0 if k >= n else min(1.0, centre + half)
    return (lo, hi)


def _gammainc_lower_reg(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x) (Numerical Recipes gser/gcf)."""
    if x <= 0:
        return 0.0
    gln = math.lgamma(a)
    if x < a + 1.0:
        ap, total, delta = a, 1.0 / a, 1.0 / a
        for _ in range(10_000):
            ap += 1.0
            delta *= x / ap
            total += delta
            if abs(delta) < abs(total) * 1e-15:
                break
        return total * math.exp(-x + a * math.log(x) - gln)
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return 1.0 - math.exp(-x + a * math.log(x) - gln) * h


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X ≤ k) for X ~ Poisson(mu) = 1 − P(k+1, mu)."""
    if k < 0:
        return 0.0
    return 1.0 - _gammainc_lower_reg(k + 1.0, mu)


def _bisect(f, lo: float, hi: float, target: float, decreasing: bool) -> float:
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        v = f(mid)
        if (v > target) == decreasing:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


@functools.lru_cache(maxsize=65536)
def poisson_interval(k: int, *, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for the mean of a Poisson count ``k``.

    lower solves P(X ≥ k; μ) = α/2 (0 when k = 0); upper solves P(X ≤ k; μ) = α/2.
    Examples: k=0 → (0, 3.689); k=1 → (0.0253, 5.572); k=10 → (4.795, 18.39).
    """
    k = int(k)
    if k < 0:
        raise ValueError(f"count must be >= 0, got {k}")
    alpha = 1.0 - level
    hi_bound = k + 20.0 * math.sqrt(k + 1.0) + 20.0
    upper = _bisect(lambda mu: _poisson_cdf(k, mu), 0.0, hi_bound, alpha / 2.0, decreasing=True)
    if k == 0:
        return (0.0, upper)
    # P(X >= k; mu) = 1 - cdf(k-1) increases with mu: find where it reaches alpha/2.
    lower = _bisect(lambda mu: 1.0 - _poisson_cdf(k - 1, mu), 0.0, hi_bound, alpha / 2.0,
                    decreasing=False)
    return (lower, upper)


def bursts(counts: Sequence[float], exposures: Sequence[float], *, alpha: float = 0.001,
           bonferroni: bool = True) -> list[bool]:
    """Burst test: is period t's rate significantly above the rest of the series?

    G² (Rayson) of counts[t] in exposures[t] vs the sum of all other periods; a burst when
    the rate is higher than elsewhere and G² ≥ critical value at α (α/T with Bonferroni).
    """
    k_tot = float(sum(counts))
    n_tot = float(sum(exposures))
    crit = g2_critical(alpha, len(counts) if bonferroni else 1)
    out = []
    for k, n in zip(counts, exposures, strict=True):
        rest_k, rest_n = k_tot - k, n_tot - n
        if n <= 0 or rest_n <= 0:
            out.append(False)
            continue
        higher = k / n > rest_k / rest_n
        out.append(bool(higher and g2(k, rest_k, n, rest_n) >= crit))
    return out


def changepoints(counts: Sequence[float], exposures: Sequence[float], *,
                 threshold: float = 10.83, min_size: int = 2,
                 max_changes: int = 5) -> list[int]:
    """Binary segmentation of a rate series; returns sorted split indices.

    An index t means "a new regime starts at period t". In each segment the split that
    maximises G² (rate before vs after, Rayson form) is kept if G² ≥ ``threshold`` and
    each side has ≥ ``min_size`` periods; segments are split again, best first, up to
    ``max_changes`` splits. Ties go to the earliest split.
    """
    return [t for t, _ in _changepoints(counts, exposures, threshold, min_size, max_changes)]


def _changepoints(counts, exposures, threshold, min_size, max_changes) -> list[tuple[int, float]]:
    k = [float(v) for v in counts]
    n = [float(v) for v in exposures]
    found: list[tuple[int, float]] = []
    segments = [(0, len(k))]
    while segments and len(found) < max_changes:
        best = None
        for lo, hi in segments:
            cand = _best_split(k, n, lo, hi, min_size)
            if cand is not None and cand[0] >= threshold and (best is None or cand[0] > best[0]):
                best = (cand[0], cand[1], lo, hi)
        if best is None:
            break
        value, t, lo, hi = best
        found.append((t, value))
        segments.remove((lo, hi))
        segments += [(lo, t), (t, hi)]
    return sorted(found)


def _best_split(k, n, lo, hi, min_size):
    best = None
    for t in range(lo + min_size, hi - min_size + 1):
        a, c = sum(k[lo:t]), sum(n[lo:t])
        b, d = sum(k[t:hi]), sum(n[t:hi])
        if c <= 0 or d <= 0:
            continue
        val = g2(a, b, c, d)
        if best is None or val > best[0] + 1e-12:
            best = (val, t)
    return best


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
    for crit, p in reversed(_thresholds(m)):
        out = pl.when(g >= crit).then(pl.lit(_p_label(p))).otherwise(out)
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
    rows: dict[str, list] = {c: [] for c in [*keys, period, "g2_split"]}
    for key, grp in df.group_by(keys, maintain_order=True):
        ks = grp[count].to_list()
        ns = grp[exposure].to_list()
        ps = grp[period].to_list()
        for t, value in _changepoints(ks, ns, threshold, min_size, max_changes):
            for name, val in zip(keys, key, strict=True):
                rows[name].append(val)
            rows[period].append(ps[t])
            rows["g2_split"].append(value)
    schema = {**{c: df.schema[c] for c in [*keys, period]}, "g2_split": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
