"""Statistics pinned against hand-computed values; expressions checked against scalars."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import measures as stats


# --- G² (Rayson) ------------------------------------------------------------------
def test_g2_hand_computed():
    # a=10, b=5, c=d=1000: E1=E2=7.5; G² = 2(10 ln(10/7.5) + 5 ln(5/7.5)) = 1.698990
    assert stats.g2(10, 5, 1000, 1000) == pytest.approx(1.698990, abs=1e-6)
    # a=20 in 10,000 vs b=0 in 10,000: E1=E2=10; G² = 2·20·ln 2 = 27.725887
    assert stats.g2(20, 0, 10_000, 10_000) == pytest.approx(40 * math.log(2), abs=1e-9)
    # unequal sizes: a=30 in 1000, b=10 in 4000 -> E1 = 8, E2 = 32
    expected = 2 * (30 * math.log(30 / 8) + 10 * math.log(10 / 32))
    assert stats.g2(30, 10, 1000, 4000) == pytest.approx(expected)
    assert expected == pytest.approx(56.043, abs=1e-3)


def test_g2_four_cells_hand_computed():
    # 2x2 table: A: 30 of 100 docs, B: 10 of 100 docs
    # E = 20 for the phrase cells and 80 for the rest cells.
    expected = 2 * (30 * math.log(30 / 20) + 10 * math.log(10 / 20)
                    + 70 * math.log(70 / 80) + 90 * math.log(90 / 80))
    assert stats.g2(30, 10, 100, 100, cells=4) == pytest.approx(expected)
    assert expected == pytest.approx(12.972, abs=1e-3)
    # the four-cell form is larger than the two-cell one when the phrase is common
    assert stats.g2(30, 10, 100, 100, cells=4) > stats.g2(30, 10, 100, 100)


def test_g2_degenerate_and_errors():
    assert stats.g2(0, 0, 100, 100) == 0.0
    assert stats.g2(5, 5, 100, 100) == 0.0
    assert stats.g2(1, 1, 0, 100) == 0.0
    with pytest.raises(ValueError, match="cells"):
        stats.g2(1, 1, 1, 1, cells=3)


def test_thresholds_and_p_values():
    # the conventional critical values map to their p levels
    assert stats.g2_p(3.84) == pytest.approx(0.05, abs=2e-4)
    assert stats.g2_p(6.63) == pytest.approx(0.01, abs=1e-4)
    assert stats.g2_p(10.83) == pytest.approx(0.001, abs=1e-5)
    assert stats.g2_p(15.13) == pytest.approx(0.0001, abs=1e-6)
    assert stats.g2_p(0) == 1.0
    assert stats.g2_critical(0.001) == pytest.approx(10.83, abs=0.01)
    assert stats.g2_critical(0.05) == pytest.approx(3.84, abs=0.01)
    # Bonferroni over 10 tests at .05 is the critical value at .005
    assert stats.g2_critical(0.05, 10) == pytest.approx(stats.g2_critical(0.005))
    assert stats.g2_critical(0.05, 10) == pytest.approx(7.879, abs=1e-3)
    assert [stats.significance_label(v) for v in (2, 4, 7, 11, 16)] == [
        "ns", "p<.05", "p<.01", "p<.001", "p<.0001"]
    assert stats.significance_label(11, m=10) == "p<.01"
    with pytest.raises(ValueError, match="alpha"):
        stats.g2_critical(0)


@given(st.floats(0, 60))
def test_erfc_matches_math(x):
    assert stats.g2_p(x) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=2e-7, abs=1e-300)


# --- Log Ratio, logDice, PMI --------------------------------------------------------
def test_log_ratio_hand_computed():
    assert stats.log_ratio(10, 5, 1000, 1000) == pytest.approx(1.0)
    assert stats.log_ratio(5, 20, 1000, 1000) == pytest.approx(-2.0)
    assert stats.log_ratio(10, 10, 1000, 4000) == pytest.approx(2.0)
    # zero in B is smoothed to 0.5: log2(10/0.5) = log2(20)
    assert stats.log_ratio(10, 0, 1000, 1000) == pytest.approx(math.log2(20))
    assert stats.log_ratio(0, 0, 1000, 1000) == 0.0
    assert stats.log_ratio(10, 0, 1000, 1000, smoothing=1.0) == pytest.approx(math.log2(10))


def test_log_dice_and_pmi_hand_computed():
    # f_xy = 10, f_x = 20, f_y = 30 -> 14 + log2(20/50)
    assert stats.log_dice(10, 20, 30) == pytest.approx(14 + math.log2(0.4))
    assert stats.log_dice(10, 10, 10) == pytest.approx(14.0)  # maximum
    # PMI: 10 · 1000 / (20 · 50) = 10 -> log2 10
    assert stats.pmi(10, 20, 50, 1000) == pytest.approx(math.log2(10))
    assert stats.pmi(0, 20, 50, 1000) == -math.inf


# --- DP ------------------------------------------------------------------------------
def test_dp_hand_computed():
    # five equal parts, counts 1,2,3,4,0: o = .1 .2 .3 .4 0, s = .2 each
    # 0.5·(.1 + 0 + .1 + .2 + .2) = 0.3
    assert stats.dp([1, 2, 3, 4, 0], [20] * 5) == pytest.approx(0.3)
    # perfectly even
    assert stats.dp([2, 2, 2], [10, 10, 10]) == pytest.approx(0.0)
    # all in one part of three equal parts: 0.5·(2/3 + 1/3 + 1/3) = 2/3
    assert stats.dp([6, 0, 0], [10, 10, 10]) == pytest.approx(2 / 3)
    assert stats.dp_norm([6, 0, 0], [10, 10, 10]) == pytest.approx(1.0)
    # unequal parts (Gries 2008 style): sizes 10,20,30,40; counts 1,1,1,1
    # s = .1 .2 .3 .4; o = .25 each -> 0.5·(.15 + .05 + .05 + .15) = 0.2
    assert stats.dp([1, 1, 1, 1], [10, 20, 30, 40]) == pytest.approx(0.2)


def test_stat_dp_sparse_table_matches_scalar():
    sizes = pl.DataFrame({"doc": [0, 1, 2, 3, 4], "tokens": [20] * 5})
    counts = pl.DataFrame({
        "phrase": ["x", "x", "x", "x", "y"],
        "doc": [0, 1, 2, 3, 4],
        "count": [1, 2, 3, 4, 7],
    })
    out = stats.stat_dp(counts, sizes).collect()
    assert out["phrase"].to_list() == ["x", "y"]
    assert out["range"].to_list() == [4, 1]
    assert out["dp"].to_list() == pytest.approx([0.3, stats.dp([0, 0, 0, 0, 7], [20] * 5)])
    assert out["dp_norm"][1] == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(1, 50)), min_size=1, max_size=8))
def test_stat_dp_property(parts):
    counts = [c for c, _ in parts]
    sizes = [s for _, s in parts]
    if sum(counts) == 0:
        return
    table = pl.DataFrame({"phrase": ["p"] * len(parts), "doc": list(range(len(parts))),
                          "count": counts}).filter(pl.col("count") > 0)
    out = stats.stat_dp(table, pl.DataFrame({"doc": list(range(len(parts))), "tokens": sizes}))
    assert out.collect()["dp"][0] == pytest.approx(stats.dp(counts, sizes), abs=1e-12)


# --- intervals -----------------------------------------------------------------------
def test_wilson_hand_computed():
    lo, hi = stats.wilson(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    lo, hi = stats.wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)  # exactly 0, not 1e-17
    assert stats.wilson(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in stats.wilson(0, 0))
    frame = pl.DataFrame({"k": [0, 5, 10, 0, 7], "n": [10, 10, 10, 0, 23]})
    lo_e, hi_e = stats.wilson_expr("k", "n")
    got = frame.select(lo_e.alias("lo"), hi_e.alias("hi"))
    assert got.row(0) == (0.0, pytest.approx(0.2775, abs=1e-4)) and got["hi"][2] == 1.0
    assert got.row(3) == (None, None)
    for (k, n), row in zip(frame.rows(), got.rows(), strict=True):
        if n:
            assert row == pytest.approx(stats.wilson(k, n), abs=1e-15)


def test_poisson_interval_known_values():
    # Garwood intervals (tables in Ulm 1990 / chi-square quantiles)
    assert stats.poisson_interval(0) == pytest.approx((0.0, 3.6889), abs=1e-4)
    assert stats.poisson_interval(1) == pytest.approx((0.0253, 5.5716), abs=1e-4)
    assert stats.poisson_interval(10) == pytest.approx((4.7954, 18.3904), abs=1e-4)
    assert stats.poisson_interval(100) == pytest.approx((81.364, 121.627), abs=1e-3)
    with pytest.raises(ValueError):
        stats.poisson_interval(-1)


def test_stat_poisson_interval_joins_in_order():
    df = pl.DataFrame({"k": [10, 0, 10, 1]})
    out = stats.stat_poisson_interval(df, count="k")
    assert isinstance(out, pl.DataFrame)
    assert out["k"].to_list() == [10, 0, 10, 1]
    assert out["lo"].to_list() == pytest.approx([4.7954, 0.0, 4.7954, 0.0253], abs=1e-4)


# --- expressions agree with scalars ---------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200),
                          st.integers(1, 5000), st.integers(1, 5000)), min_size=1, max_size=10))
def test_expressions_match_scalars(rows):
    rows = [(a, b, max(c, a), max(d, b)) for a, b, c, d in rows]
    df = pl.DataFrame(rows, schema=["a", "b", "c", "d"], orient="row")
    out = df.select(
        stats.g2_expr("a", "b", "c", "d").alias("g2"),
        stats.g2_expr("a", "b", "c", "d", cells=4).alias("g4"),
        stats.log_ratio_expr("a", "b", "c", "d").alias("lr"),
        stats.g2_p_expr(stats.g2_expr("a", "b", "c", "d")).alias("p"),
        stats.significance_expr(stats.g2_expr("a", "b", "c", "d"), m=7).alias("sig"),
        *[e.alias(n) for e, n in zip(stats.wilson_expr("a", "c"), ("wlo", "whi"), strict=True)],
    )
    for (a, b, c, d), r in zip(rows, out.iter_rows(named=True), strict=True):
        g = stats.g2(a, b, c, d)
        assert r["g2"] == pytest.approx(g, abs=1e-9)
        assert r["g4"] == pytest.approx(stats.g2(a, b, c, d, cells=4), abs=1e-9)
        assert r["lr"] == pytest.approx(stats.log_ratio(a, b, c, d), abs=1e-12)
        assert r["p"] == pytest.approx(stats.g2_p(g), rel=1e-9, abs=1e-300)
        assert r["sig"] == stats.significance_label(g, m=7)
        assert (r["wlo"], r["whi"]) == pytest.approx(stats.wilson(a, c), abs=1e-12)


def test_log_dice_pmi_expr():
    df = pl.DataFrame({"xy": [10, 0], "x": [20, 5], "y": [50, 5]})
    out = df.select(stats.log_dice_expr("xy", "x", "y").alias("ld"),
                    stats.pmi_expr("xy", "x", "y", 1000).alias("pmi"))
    assert out["ld"][0] == pytest.approx(stats.log_dice(10, 20, 50))
    assert out["pmi"][0] == pytest.approx(stats.pmi(10, 20, 50, 1000))
    assert out["ld"][1] is None and out["pmi"][1] is None


def test_stat_keyness_columns():
    df = pl.DataFrame({"phrase": ["x", "y"], "a": [20, 1], "b": [0, 1]})
    out = stats.stat_keyness(df, size_a=10_000, size_b=10_000)
    assert out.columns == ["phrase", "a", "b", "g2", "p", "sig", "log_ratio"]
    assert out["g2"][0] == pytest.approx(40 * math.log(2))
    assert out["sig"].to_list() == ["p<.0001", "ns"]
    assert out["log_ratio"][0] == pytest.approx(math.log2(40))


# --- bursts and change points ----------------------------------------------------------
def test_changepoints_step():
    # rate 1% for four periods, then 10%: one change at index 4
    assert stats.changepoints([1, 1, 1, 1, 10, 10, 10, 10], [100] * 8) == [4]
    # flat series: none
    assert stats.changepoints([3] * 10, [100] * 10) == []
    # up then down: two changes
    assert stats.changepoints([1, 1, 1, 20, 20, 20, 1, 1, 1], [100] * 9) == [3, 6]
    # min_size forbids a one-period regime at the edge: the split moves to index 2
    assert stats.changepoints([30, 1, 1, 1, 1], [100] * 5, min_size=1) == [1]
    assert stats.changepoints([30, 1, 1, 1, 1], [100] * 5, min_size=2) == [2]
    assert stats.changepoints([30, 1, 1], [100] * 3, min_size=2) == []


def _splits_oracle(k, n, threshold=10.83, min_size=2, max_changes=5):
    """Binary segmentation as written first: every split's sides summed afresh."""
    k, n = [float(v) for v in k], [float(v) for v in n]
    found, segments = [], [(0, len(k))]
    while segments and len(found) < max_changes:
        best = None
        for lo, hi in segments:
            cand = None
            for t in range(lo + min_size, hi - min_size + 1):
                a, c, b, d = sum(k[lo:t]), sum(n[lo:t]), sum(k[t:hi]), sum(n[t:hi])
                if c <= 0 or d <= 0:
                    continue
                val = stats.g2(a, b, c, d)
                if cand is None or val > cand[0] + 1e-12:
                    cand = (val, t)
            if cand is not None and cand[0] >= threshold and (best is None or cand[0] > best[0]):
                best = (cand[0], cand[1], lo, hi)
        if best is None:
            break
        found.append((best[1], best[0]))
        segments.remove((best[2], best[3]))
        segments += [(best[2], best[1]), (best[1], best[3])]
    return sorted(found)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 3000)), max_size=40),
       st.integers(1, 3), st.booleans())
def test_changepoint_splits_equal_the_oracle(series, min_size, fractional):
    """The running sums (whole numbers) and the per-split sums (anything else) give the
    splits and G² values of the quadratic oracle, bit for bit, zero exposures included."""
    k = [c + (0.25 if fractional and i % 3 == 0 else 0) for i, (c, _) in enumerate(series)]
    n = [e for _, e in series]
    got = stats.scalar.changepoint_splits(k, n, 3.84, min_size, 5)
    assert got == _splits_oracle(k, n, 3.84, min_size, 5)


def test_stat_changepoints_series_without_rows_and_null_keys():
    df = pl.DataFrame({"s": [None] * 8 + ["b"] * 8, "period": list(range(8)) * 2,
                       "count": [1, 1, 1, 1, 10, 10, 10, 10] * 2, "exposure": [100] * 16})
    cp = stats.stat_changepoints(df, series="s")
    assert cp["s"].to_list() == [None, "b"] and cp["period"].to_list() == [4, 4]
    none = stats.stat_changepoints(df.head(0), series="s")
    assert none.height == 0 and none.columns == ["s", "period", "g2_split"]


def test_bursts():
    out = stats.bursts([1, 1, 1, 30, 1, 1], [100] * 6)
    assert out == [False, False, False, True, False, False]
    # a drop is never a burst
    assert not any(stats.bursts([10, 10, 0, 10], [100] * 4))


def test_stat_bursts_and_changepoints_frames():
    df = pl.DataFrame({
        "formula": ["f"] * 8 + ["g"] * 8,
        "period": list(range(8)) * 2,
        "count": [1, 1, 1, 1, 10, 10, 10, 10] + [3] * 8,
        "exposure": [100] * 16,
    })
    cp = stats.stat_changepoints(df, series="formula")
    assert cp["formula"].to_list() == ["f"] and cp["period"].to_list() == [4]
    assert cp["g2_split"][0] == pytest.approx(stats.g2(4, 40, 400, 400))
    b = stats.stat_bursts(pl.DataFrame({
        "formula": ["f"] * 6, "period": list(range(6)),
        "count": [1, 1, 1, 30, 1, 1], "exposure": [100] * 6}), series="formula")
    assert b["burst"].to_list() == [False, False, False, True, False, False]


def test_g2_signed_sign_and_polars_twin():
    import polars as pl

    cases = [(30, 10, 100, 1000), (1, 50, 100, 1000), (10, 100, 100, 1000), (0, 5, 10, 10), (5, 5, 0, 10)]
    for a, b, c, d in cases:
        value = stats.g2_signed(a, b, c, d)
        assert abs(value) == pytest.approx(stats.g2(a, b, c, d, cells=4))
        expected = c * (a + b) / (c + d) if c + d else 0
        assert (value > 0) == (a > expected and stats.g2(a, b, c, d, cells=4) > 0)
    frame = pl.DataFrame(cases, schema=["a", "b", "c", "d"], orient="row")
    got = frame.select(stats.g2_signed_expr("a", "b", "c", "d"))[:, 0].to_list()
    assert got == pytest.approx([stats.g2_signed(*x) for x in cases])
    assert stats.g2_signed(10, 100, 100, 1000) == 0.0  # exactly as expected: neither sign


def test_mann_kendall_worked_example_and_ties():
    mk = stats.mann_kendall([1, 2, 3, 4, 5])
    assert mk["s"] == 10 and mk["tau"] == 1.0
    assert mk["var"] == pytest.approx(5 * 4 * 15 / 18)
    assert mk["z"] == pytest.approx(9 / math.sqrt(5 * 4 * 15 / 18))
    assert mk["p"] == pytest.approx(0.02747, abs=2e-4)  # two-sided normal tail of z = 2.205
    tied = stats.mann_kendall([1, 1, 2, 2, 3])  # ties: two groups of 2
    assert tied["s"] == 8 and tied["var"] == pytest.approx((5 * 4 * 15 - 2 * (2 * 1 * 9)) / 18)
    assert stats.mann_kendall([3, 2]) == {"s": 0.0, "var": 0.0, "z": 0.0, "p": 1.0, "tau": 0.0}
    assert stats.mann_kendall([2, 2, 2, 2])["p"] == 1.0


@given(st.lists(st.integers(-5, 5), min_size=3, max_size=25))
@settings(max_examples=60, deadline=None)
def test_mann_kendall_and_sen_against_oracle(xs):
    n = len(xs)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    s = sum((xs[j] > xs[i]) - (xs[j] < xs[i]) for i, j in pairs)
    mk = stats.mann_kendall(xs)
    assert mk["s"] == s and mk["tau"] == pytest.approx(s / len(pairs))
    assert 0.0 <= mk["p"] <= 1.0
    assert stats.mann_kendall(xs[::-1])["s"] == -s  # reversing the series flips the sign
    slopes = sorted((xs[j] - xs[i]) / (j - i) for i, j in pairs)
    mid = len(slopes) // 2
    want = slopes[mid] if len(slopes) % 2 else (slopes[mid - 1] + slopes[mid]) / 2
    assert stats.theil_sen(xs) == pytest.approx(want)
    assert stats.theil_sen([2 * x + 7 for x in range(n)]) == pytest.approx(2.0)


def test_stat_trend_uses_only_periods_with_enough_tokens():
    import polars as pl

    frame = pl.DataFrame({"g": ["a"] * 6 + ["b"] * 2, "period": [1, 2, 3, 4, 5, 6, 1, 2],
                          "per_10k": [1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 2.0],
                          "tokens_total": [500, 500, 500, 500, 500, 10, 500, 500]})
    out = stats.stat_trend(frame, series="g", min_exposure=100).sort("g")
    assert out["periods_used"].to_list() == [5, 2]
    assert out["trend"].to_list() == ["rising", "too short"]
    assert out["slope"][0] == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 9).flatmap(lambda n: st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25]),
                                                              min_size=n, max_size=n), min_size=1, max_size=4)))
def test_trend_many_equals_the_scalar_tests(rows):
    import numpy as np

    from analysis.measures.scalar import mann_kendall, theil_sen, trend_many

    got = trend_many(np.array(rows).reshape(len(rows), -1))
    for q, r in enumerate(rows):
        mk = mann_kendall(r)
        assert got["s"][q] == mk["s"] and got["tau"][q] == pytest.approx(mk["tau"])
        assert got["p"][q] == pytest.approx(mk["p"], rel=1e-12, abs=1e-15)
        assert got["slope"][q] == pytest.approx(theil_sen(r), rel=1e-12, abs=1e-15)


def test_trend_many_in_chunks_equals_one_pass(monkeypatch):
    """Many series are tested in chunks of rows (memory bounded by TREND_CELLS, not by
    the number of series: 200k candidates x 79 years once took 20 GB); same values."""
    import numpy as np

    from analysis.measures import scalar

    rows = np.random.default_rng(7).integers(0, 4, size=(37, 9)).astype(float)
    whole = scalar.trend_many(rows)
    monkeypatch.setattr(scalar, "TREND_CELLS", 36 * 3)  # 3 series of 9 periods a chunk
    chunked = scalar.trend_many(rows)
    assert chunked == whole and len(chunked["s"]) == 37


def test_trend_many_memory_does_not_grow_with_the_series(monkeypatch):
    import tracemalloc

    import numpy as np

    from analysis.measures import scalar

    rows = np.random.default_rng(3).integers(0, 5, size=(20_000, 40)).astype(float)  # 780 pairs a row
    monkeypatch.setattr(scalar, "TREND_CELLS", 1 << 16)
    tracemalloc.start()
    out = scalar.trend_many(rows)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(out["s"]) == 20_000
    assert peak < 40e6  # one pass holds 20,000 x 780 differences: 125 MB, several copies
