"""Measures as plain-Python scalars: the oracle for the polars twins in :mod:`.frames`.

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
``g2_signed``   directional G² for association: the G² of the 2×2 table with the sign
                of (observed − expected) of its first cell, a − c(a+b)/(c+d); a pair that
                occurs less often than expected (repulsion) gets a value <= 0, so a
                ranking by it never puts a repelling pair above an attracting one.
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
``mann_kendall``  monotonic trend test of a series x_1..x_n (Mann 1945, Kendall 1975):
                S = Σ_{i<j} sign(x_j − x_i); Var(S) = [n(n−1)(2n+5) − Σ_t t(t−1)(2t+5)]/18
                over groups of t tied values; z = (S − sign(S))/sqrt(Var S) (continuity
                correction); two-sided p = erfc(|z|/√2); Kendall's tau = S / (n(n−1)/2).
``theil_sen``   Sen's (1968) slope: the median of (x_j − x_i)/(j − i) over all i < j
                (units of the series per period).
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
    pass

__all__ = [
    "SIGNIFICANCE",
    "g2",
    "g2_signed",
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
    "mann_kendall",
    "theil_sen",
    "significance_thresholds",
    "p_label",
    "changepoint_splits",
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


def g2_signed(a: float, b: float, c: float, d: float, *, cells: int = 4) -> float:
    """:func:`g2` signed by the direction of the first cell: negative (or 0) where ``a`` is at
    or below its expectation c(a+b)/(c+d), positive where it is above (attraction)."""
    value = g2(a, b, c, d, cells=cells)
    if c <= 0 or d <= 0 or a + b <= 0:
        return 0.0
    return value if a > c * (a + b) / (c + d) else 0.0 - value


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
    for crit, p in significance_thresholds(m):
        if value >= crit:
            return p_label(p)
    return "ns"


def significance_thresholds(m: int | None) -> list[tuple[float, float]]:
    if m is None or m <= 1:
        return list(SIGNIFICANCE)
    return [(g2_critical(p, m), p) for _, p in SIGNIFICANCE]


def p_label(p: float) -> str:
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
    return [t for t, _ in changepoint_splits(counts, exposures, threshold, min_size, max_changes)]


def changepoint_splits(counts, exposures, threshold, min_size, max_changes) -> list[tuple[int, float]]:
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


_EXACT = 2.0 ** 53  # integers of floats up to here add exactly, in any order


def _best_split(k, n, lo, hi, min_size):
    """The split of ``lo..hi`` with the largest G² (ties: the earliest), or None. The
    sums either side are running sums where the values are whole numbers whose total is
    exact (counts and token counts: one pass, not one sum a split, which made a 60-period
    series' splits quadratic); otherwise each side is summed as written."""
    best = None
    kt, nt = sum(k[lo:hi]), sum(n[lo:hi])
    exact = (kt < _EXACT and nt < _EXACT and all(v.is_integer() and v >= 0 for v in k[lo:hi])
             and all(v.is_integer() and v >= 0 for v in n[lo:hi]))
    ka, na = sum(k[lo:lo + min_size]), sum(n[lo:lo + min_size])
    for t in range(lo + min_size, hi - min_size + 1):
        if exact:
            if t > lo + min_size:
                ka, na = ka + k[t - 1], na + n[t - 1]
            a, c, b, d = ka, na, kt - ka, nt - na
        else:
            a, c = sum(k[lo:t]), sum(n[lo:t])
            b, d = sum(k[t:hi]), sum(n[t:hi])
        if c <= 0 or d <= 0:
            continue
        val = g2(a, b, c, d)
        if best is None or val > best[0] + 1e-12:
            best = (val, t)
    return best




def mann_kendall(values: Sequence[float]) -> dict[str, float]:
    """Mann-Kendall trend test: ``s``, ``var``, ``z``, ``p`` (two-sided), ``tau``.

    Fewer than 3 values: no test (s = 0, p = 1)."""
    x = [float(v) for v in values]
    n = len(x)
    if n < 3:
        return {"s": 0.0, "var": 0.0, "z": 0.0, "p": 1.0, "tau": 0.0}
    s = 0.0
    for i in range(n - 1):
        xi = x[i]
        for j in range(i + 1, n):
            s += (x[j] > xi) - (x[j] < xi)
    ties: dict[float, int] = {}
    for v in x:
        ties[v] = ties.get(v, 0) + 1
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties.values())) / 18.0
    z = 0.0 if var <= 0 or s == 0 else (s - math.copysign(1.0, s)) / math.sqrt(var)
    p = _erfc(abs(z) / math.sqrt(2.0)) if var > 0 else 1.0
    return {"s": s, "var": var, "z": z, "p": min(1.0, p), "tau": s / (n * (n - 1) / 2)}


def theil_sen(values: Sequence[float]) -> float:
    """Sen's slope of a series at periods 0..n-1 (0.0 for fewer than two values)."""
    x = [float(v) for v in values]
    slopes = sorted((x[j] - x[i]) / (j - i) for i in range(len(x)) for j in range(i + 1, len(x)))
    if not slopes:
        return 0.0
    m = len(slopes) // 2
    return slopes[m] if len(slopes) % 2 else 0.5 * (slopes[m - 1] + slopes[m])


# pairwise differences held at once by trend_many (8 bytes each, a few copies): ~64 MB a chunk
TREND_CELLS = 1 << 23


def trend_many(rows) -> dict[str, list[float]]:
    """:func:`mann_kendall` (``s``, ``p``, ``tau``) and :func:`theil_sen` (``slope``) of
    many series of one length at once (``rows``: a 2-D array, one series per row; numpy,
    O(n²) per row without a Python loop over pairs, in chunks of rows so that memory stays
    bounded by ``TREND_CELLS``, not by the number of series). Equal to the scalar functions row by
    row (tested)."""
    import numpy as np

    x = np.asarray(rows, dtype=np.float64)
    m, n = x.shape
    per_chunk = max(1, TREND_CELLS // max(1, n * (n - 1) // 2))
    if m > per_chunk:  # bounded memory: the pairwise differences of at most TREND_CELLS cells at once
        parts = [trend_many(x[k:k + per_chunk]) for k in range(0, m, per_chunk)]
        return {key: [v for part in parts for v in part[key]] for key in ("s", "p", "tau", "slope")}
    if n < 3:
        return {"s": [0.0] * m, "p": [1.0] * m, "tau": [0.0] * m, "slope": [theil_sen(r) for r in x.tolist()]}
    i, j = np.triu_indices(n, 1)
    d = x[:, j] - x[:, i]
    s = np.sign(d).sum(axis=1)
    srt = np.sort(x, axis=1)
    run = np.concatenate([np.ones((m, 1), bool), srt[:, 1:] != srt[:, :-1]], axis=1).cumsum(axis=1) - 1
    t = np.bincount((np.arange(m)[:, None] * n + run).ravel(), minlength=m * n).reshape(m, n).astype(np.float64)
    var = (n * (n - 1) * (2 * n + 5) - (t * (t - 1) * (2 * t + 5)).sum(axis=1)) / 18.0
    sen = np.median(d / (j - i), axis=1)
    p = []
    for sv, vv in zip(s.tolist(), var.tolist(), strict=True):  # one erfc per series
        z = 0.0 if vv <= 0 or sv == 0 else (sv - math.copysign(1.0, sv)) / math.sqrt(vv)
        p.append(min(1.0, _erfc(abs(z) / math.sqrt(2.0)) if vv > 0 else 1.0))
    return {"s": s.astype(np.float64).tolist(), "p": p, "tau": (s / (n * (n - 1) / 2)).tolist(),
            "slope": sen.tolist()}
