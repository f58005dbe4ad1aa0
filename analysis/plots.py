"""Charts: ``plot_*`` functions take polars tables and return Altair charts.

Every chart carries its data inline (so a report page works offline and its data can be
downloaded as CSV), has tooltips, a ``name`` (used for the chart's id and CSV file name)
and a ``description``, and uses a font stack that shows Arabic. The functions aggregate
first, so a chart's data stays small whatever the corpus size; they never read the store.

Periods: ``period_auto`` picks day / week / month / quarter / year from the date span and
the corpus's date precision (a year-precision corpus is never shown by month).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import altair as alt
    import polars as pl

WIDTH = 760
FONT = '"Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans", Arial, sans-serif'
PERIODS = ("day", "week", "month", "quarter", "year")
_EVERY = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}
OTHER = "(other)"
_TIME_UNIT = {"day": "yearmonthdate", "week": "yearweek", "month": "yearmonth",
              "quarter": "yearquarter", "year": "year"}
_COUNT_AXIS: Any = {"tickMinStep": 1, "format": ",d"}


def _lazy(frame: Any) -> pl.LazyFrame:
    import polars as pl

    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    return pl.DataFrame(frame).lazy()


def _finish(chart: alt.TopLevelMixin, name: str, description: str) -> alt.TopLevelMixin:
    """Name, describe and style a chart (font stack for Arabic, long labels kept)."""
    return (
        chart.properties(name=name, description=description)
        .configure(font=FONT)
        .configure_axis(labelLimit=360, titleFontWeight="normal")
        .configure_legend(labelLimit=320)
        .configure_view(stroke=None)
    )


def period_auto(first: date | None, last: date | None, precision: str | None = None) -> str:
    """The period unit for a series: day, week, month, quarter or year.

    Span over 10 years -> year, over 2 years -> quarter, over 4 months -> month,
    over 3 weeks -> week, else day; never finer than the dates' ``precision``.
    """
    if first is None or last is None:
        unit = "year"
    else:
        span = (last - first).days
        unit = ("year" if span > 3650 else "quarter" if span > 730 else "month" if span > 120
                else "week" if span > 21 else "day")
    if precision in _PRECISION_RANK and _PRECISION_RANK[precision] > _PRECISION_RANK[unit]:
        unit = precision
    return unit


def period_expr(column: str, unit: str) -> pl.Expr:
    """A polars expression truncating a Date column to the start of its period."""
    import polars as pl

    if unit not in _EVERY:
        raise ValueError(f"unknown period {unit!r}; choose one of {', '.join(PERIODS)}")
    return pl.col(column).dt.truncate(_EVERY[unit]).alias("period")


def _time_format(unit: str) -> str:
    return {"year": "%Y", "quarter": "%Y Q%q", "month": "%b %Y", "week": "%d %b %Y", "day": "%d %b %Y"}[unit]


def _top_sources(lf: pl.LazyFrame, top: int) -> pl.LazyFrame:
    """Keep the ``top`` sources by statements; fold the rest into ``(other)``."""
    import polars as pl

    ranked = (
        lf.group_by("source").agg(pl.len().alias("_n"))
        .sort(["_n", "source"], descending=[True, False]).head(top).select("source")
        .with_columns(pl.lit(True).alias("_keep"))
    )
    return (
        lf.join(ranked, on="source", how="left")
        .with_columns(
            pl.when(pl.col("_keep")).then(pl.col("source")).otherwise(pl.lit(OTHER)).alias("source")
        )
        .drop("_keep")
    )


def plot_statements(statements: Any, *, by: str | None = None, top_sources: int = 8) -> alt.Chart:
    """Statements per period, stacked by source (the ``top_sources`` largest, rest as other).

    ``statements`` needs ``date`` and ``source`` (``date_precision`` optional). Undated
    statements are counted in the description, not drawn.
    """
    import altair as alt
    import polars as pl

    lf = _lazy(statements)
    has_prec = "date_precision" in lf.collect_schema()
    lf = lf.select("date", "source", *(["date_precision"] if has_prec else []))
    dated = lf.filter(pl.col("date").is_not_null())
    bounds = dated.select(pl.col("date").min().alias("a"), pl.col("date").max().alias("b")).collect()
    prec = None
    if has_prec:
        precs = lf.select(pl.col("date_precision").unique()).collect()["date_precision"].to_list()
        prec = max((p for p in precs if p in _PRECISION_RANK), key=_PRECISION_RANK.get, default=None)
    unit = by or period_auto(bounds["a"][0], bounds["b"][0], prec)
    undated = lf.filter(pl.col("date").is_null()).select(pl.len()).collect().item()
    data = (
        _top_sources(dated, top_sources)
        .with_columns(period_expr("date", unit))
        .group_by("period", "source").agg(pl.len().alias("statements"))
        .sort(["period", "source"])
        .collect()
    )
    fmt = _time_format(unit)
    chart = (
        alt.Chart(data, width=WIDTH, height=260,
                  title=f"Statements per {unit}, by source")
        .mark_bar()
        .encode(
            x=alt.X("period:T", title=unit, timeUnit=_TIME_UNIT[unit], axis=alt.Axis(format=fmt)),
            y=alt.Y("statements:Q", title="statements", stack="zero", axis=_COUNT_AXIS),
            color=alt.Color("source:N", title="source", sort="ascending"),
            order=alt.Order("source:O", sort="ascending"),
            tooltip=[alt.Tooltip("period:T", title=unit, timeUnit=_TIME_UNIT[unit], format=fmt),
                     alt.Tooltip("source:N"),
                     alt.Tooltip("statements:Q", format=",")],
        )
    )
    desc = f"Statements per {unit} and source; {undated:,} undated statements not shown."
    return _finish(chart, "statements-by-period", desc)


def plot_sources(statements: Any, *, top: int = 25) -> alt.Chart:
    """Statements and characters per source (the ``top`` sources by statements)."""
    import altair as alt
    import polars as pl

    data = (
        _lazy(statements)
        .group_by("source")
        .agg(pl.len().alias("statements"), pl.col("text").str.len_chars().sum().alias("characters"),
             pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
        .sort(["statements", "source"], descending=[True, False])
        .head(top)
        .collect()
    )
    chart = (
        alt.Chart(data, width=WIDTH, height=max(60, 18 * data.height),
                  title=f"Statements per source (top {min(top, data.height)})")
        .mark_bar()
        .encode(
            y=alt.Y("source:N", sort="-x", title=None),
            x=alt.X("statements:Q", title="statements", axis=_COUNT_AXIS),
            tooltip=["source:N", alt.Tooltip("statements:Q", format=","),
                     alt.Tooltip("characters:Q", format=","), alt.Tooltip("first:T"), alt.Tooltip("last:T")],
        )
    )
    return _finish(chart, "statements-by-source", "Statements per source, largest first.")


def plot_lengths(statements: Any, *, bins: int = 30) -> alt.Chart:
    """Distribution of statement length in characters (binned before charting)."""
    import altair as alt
    import polars as pl

    lens = _lazy(statements).select(pl.col("text").str.len_chars().alias("n")).collect()["n"]
    if lens.len() == 0:
        data = pl.DataFrame({"from": [], "to": [], "statements": []},
                            schema={"from": pl.Int64, "to": pl.Int64, "statements": pl.UInt32})
    else:
        lo, hi = int(lens.min()), int(lens.max())
        step = max(1, -(-(hi - lo + 1) // bins))
        data = (
            pl.DataFrame({"n": lens})
            .with_columns(((pl.col("n") - lo) // step * step + lo).cast(pl.Int64).alias("from"))
            .group_by("from").agg(pl.len().alias("statements"))
            .with_columns((pl.col("from") + step - 1).alias("to"))
            .sort("from").select("from", "to", "statements")
        )
    chart = (
        alt.Chart(data, width=WIDTH, height=200, title="Statement length (characters)")
        .mark_bar()
        .encode(
            x=alt.X("from:Q", bin="binned", title="characters"),
            x2="to:Q",
            y=alt.Y("statements:Q", axis=_COUNT_AXIS),
            tooltip=[alt.Tooltip("from:Q", format=","), alt.Tooltip("to:Q", format=","),
                     alt.Tooltip("statements:Q", format=",")],
        )
    )
    return _finish(chart, "statement-lengths", "Histogram of statement lengths in characters.")
