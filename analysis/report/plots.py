"""Charts: ``plot_*`` functions take polars tables and return Altair charts.

Every chart carries its data inline (so a report page works offline and its data can be
downloaded as CSV), has tooltips, a ``name`` (used for the chart's id and CSV file name)
and a ``description``, and uses a font stack that shows Arabic. The functions aggregate
first, so a chart's data stays small whatever the corpus size; they never read the store.

Periods: ``analysis.ingest.periods.period_auto`` picks day / week / month / quarter / year from the date span and
the corpus's date precision (a year-precision corpus is never shown by month).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ingest.periods import coarsest_precision, period_auto, period_expr

if TYPE_CHECKING:  # pragma: no cover
    import altair as alt
    import polars as pl

WIDTH = 760
FONT = '"Noto Sans", "Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans", Arial, sans-serif'
OTHER = "(other)"
_TIME_UNIT = {"day": "yearmonthdate", "week": "yearweek", "month": "yearmonth",
              "quarter": "yearquarter", "year": "year"}


def _count_axis(frame: Any, column: str, *, stacked_by: list[str] | None = None) -> Any:
    """An integer axis: whole-number ticks only (explicit values when the maximum is small)."""
    import altair as alt
    import polars as pl

    col = frame[column]
    if stacked_by:
        col = frame.group_by(stacked_by).agg(pl.col(column).sum())[column]
    top = int(col.max() or 0)
    if top <= 10:
        return alt.Axis(format=",d", values=list(range(top + 1)))
    return alt.Axis(format=",d", tickMinStep=1)


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
        prec = coarsest_precision(precs)
    unit = by or period_auto(bounds["a"][0], bounds["b"][0], prec)
    undated = lf.filter(pl.col("date").is_null()).select(pl.len()).collect().item()
    data = (
        _top_sources(dated, top_sources)
        .with_columns(period_expr(unit))
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
            y=alt.Y("statements:Q", title="statements", stack="zero",
                    axis=_count_axis(data, "statements", stacked_by=["period"])),
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
            x=alt.X("statements:Q", title="statements", axis=_count_axis(data, "statements")),
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
            y=alt.Y("statements:Q", axis=_count_axis(data, "statements")),
            tooltip=[alt.Tooltip("from:Q", format=","), alt.Tooltip("to:Q", format=","),
                     alt.Tooltip("statements:Q", format=",")],
        )
    )
    return _finish(chart, "statement-lengths", "Histogram of statement lengths in characters.")


# --- formulae -------------------------------------------------------------------------


def plot_top_formulae(frame: Any, *, label: str = "label", value: str = "statements", top: int = 20,
                      title: str = "Recurring formulae", name: str = "top-formulae") -> alt.Chart:
    """Horizontal bars: the ``top`` rows of ``frame`` by ``value`` (ties: label).

    ``frame`` has ``label`` and ``value`` columns; any other columns become tooltips
    (e.g. ``occurrences``, ``first``, ``last``, ``variants``).
    """
    import altair as alt

    data = _lazy(frame).sort([value, label], descending=[True, False]).head(top).collect()
    tips = [alt.Tooltip(f"{c}:{_vl_type(data.schema[c])}") for c in data.columns if c != label]
    chart = (
        alt.Chart(data, width=WIDTH - 260, height=max(60, 20 * data.height), title=title)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", sort=alt.EncodingSortField(field=value, order="descending"), title=None),
            x=alt.X(f"{value}:Q", title=value, axis=_count_axis(data, value) if data.height and data.schema[value].is_integer()
                    else alt.Undefined),
            tooltip=[alt.Tooltip(f"{label}:N"), *tips],
        )
    )
    return _finish(chart, name, f"{title}: top {data.height} by {value}.")


def _vl_type(dtype: Any) -> str:
    if dtype.is_numeric():
        return "Q"
    if dtype.is_temporal():
        return "T"
    return "N"


def plot_heatmap(frame: Any, *, row: str = "label", period: str = "period", value: str = "per_10k",
                 unit: str = "year", title: str | None = None, name: str = "formula-period-heatmap") -> alt.Chart:
    """Formula × period heatmap of ``value`` (default: occurrences per 10,000 tokens).

    ``frame``: one row per (``row``, ``period``) with ``value`` and optionally
    ``statements``/``occurrences`` for the tooltip; ``period`` is a Date (period start).
    """
    import altair as alt

    data = _lazy(frame).sort([row, period]).collect()
    fmt = _time_format(unit)
    tips = [alt.Tooltip(f"{row}:N"), alt.Tooltip(f"{period}:T", title=unit, timeUnit=_TIME_UNIT[unit], format=fmt),
            alt.Tooltip(f"{value}:Q", format=".2f")]
    tips += [alt.Tooltip(f"{c}:Q", format=",") for c in ("statements", "occurrences") if c in data.columns]
    title = title or f"Formulae per {unit} (occurrences per 10,000 tokens)"
    chart = (
        alt.Chart(data, width=WIDTH - 200, height=max(80, 22 * data[row].n_unique()), title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{period}:O", title=unit, timeUnit=_TIME_UNIT[unit], axis=alt.Axis(format=fmt, labelOverlap=True)),
            y=alt.Y(f"{row}:N", title=None, sort="ascending"),
            color=alt.Color(f"{value}:Q", title=value, scale=alt.Scale(scheme="blues")),
            tooltip=tips,
        )
    )
    return _finish(chart, name, title)


def plot_timeline(frame: Any, *, series: str = "label", period: str = "period", value: str = "per_10k",
                  lo: str | None = "per_10k_lo", hi: str | None = "per_10k_hi", unit: str = "year",
                  title: str | None = None, name: str = "timeline") -> alt.Chart:
    """Lines of ``value`` per period for each ``series``, with the interval band ``lo``–``hi``.

    ``frame`` follows ``compare.stat_timeline``'s columns (``period``, ``per_10k`` with exact
    Poisson ``per_10k_lo``/``per_10k_hi``, ``statements``, ``statements_total``, ``share``).
    """
    import altair as alt

    data = _lazy(frame).sort([series, period]).collect()
    fmt = _time_format(unit)
    x = alt.X(f"{period}:T", title=unit, axis=alt.Axis(format=fmt))
    tips = [alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{period}:T", title=unit, format=fmt),
            alt.Tooltip(f"{value}:Q", format=".2f")]
    tips += [alt.Tooltip(f"{c}:Q", format=".2f" if c.startswith(("share", "per_")) else ",")
             for c in (lo, hi, "statements", "statements_total", "occurrences", "share") if c and c in data.columns]
    base = alt.Chart(data, width=WIDTH - 200, height=260,
                     title=title or f"Occurrences per 10,000 tokens per {unit} (band: 95% interval)")
    color = alt.Color(f"{series}:N", title=None)
    layers = []
    if lo and hi and lo in data.columns and hi in data.columns:
        layers.append(base.mark_area(opacity=0.15).encode(x=x, y=alt.Y(f"{lo}:Q", title=value), y2=f"{hi}:Q", color=color))
    layers.append(base.mark_line(point=True).encode(x=x, y=alt.Y(f"{value}:Q", title=value), color=color, tooltip=tips))
    return _finish(alt.layer(*layers), name, f"Timeline of {value} per {unit} by {series}.")


def plot_keyness(frame: Any, *, item: str = "item", log_ratio: str = "log_ratio", g2: str = "g2",
                 a: str = "A", b: str = "B", top: int = 15, name: str = "keyness") -> alt.Chart:
    """Keyness bars: the ``top`` items most typical of A and of B by Log Ratio.

    Bars left of zero are more frequent in A, right of zero in B (Log Ratio = log2 of the
    ratio of relative frequencies B/A); darker bars are significant at p < .001
    (G² ≥ 10.83). ``frame`` needs ``item``, ``log_ratio``, ``g2``; other numeric columns
    become tooltips.
    """
    import altair as alt
    import polars as pl

    lf = _lazy(frame)
    pos = lf.filter(pl.col(log_ratio) > 0).sort([log_ratio, item], descending=[True, False]).head(top)
    neg = lf.filter(pl.col(log_ratio) < 0).sort([log_ratio, item], descending=[False, False]).head(top)
    data = (
        pl.concat([neg, pos]).with_columns(
            pl.when(pl.col(log_ratio) > 0).then(pl.lit(f"more in {b}")).otherwise(pl.lit(f"more in {a}")).alias("side"),
            pl.when(pl.col(g2) >= 10.83).then(pl.lit("p < .001")).otherwise(pl.lit("not significant at .001")).alias("significance"),
        ).collect()
    )
    tips = [alt.Tooltip(f"{item}:N"), alt.Tooltip(f"{log_ratio}:Q", format=".2f"), alt.Tooltip(f"{g2}:Q", format=".2f")]
    tips += [alt.Tooltip(f"{c}:Q") for c in data.columns
             if c not in (item, log_ratio, g2) and data.schema[c].is_numeric()]
    chart = (
        alt.Chart(data, width=WIDTH - 300, height=max(80, 18 * data.height),
                  title=f"Keyness: {a} (left) vs {b} (right), Log Ratio")
        .mark_bar()
        .encode(
            y=alt.Y(f"{item}:N", sort=alt.EncodingSortField(field=log_ratio, order="ascending"), title=None),
            x=alt.X(f"{log_ratio}:Q", title=f"Log Ratio (log2 of relative frequency {b} / {a})"),
            color=alt.Color("side:N", title=None, scale=alt.Scale(range=["#c0504d", "#4f81bd"])),
            opacity=alt.Opacity("significance:N", title=None, scale=alt.Scale(domain=["p < .001", "not significant at .001"], range=[1.0, 0.4])),
            tooltip=tips,
        )
    )
    return _finish(chart, name, f"Items most typical of {a} and of {b} by Log Ratio.")


def plot_dispersion(frame: Any, *, label: str = "label", name: str = "dispersion",
                    title: str | None = None) -> alt.Chart:
    """Where a formula occurs: one tick per occurrence.

    ``frame``: one row per occurrence with ``order`` (statement rank in date order),
    ``position`` (0–1: offset / statement length), ``id``, ``date``, ``source`` and
    ``label``. A formula spread evenly over the corpus fills the plot; a clustered one
    shows stripes.
    """
    import altair as alt

    data = _lazy(frame).sort(["order", "position", label, "id"]).collect()
    tips = [alt.Tooltip(c) for c in ("id", "date", "source", label) if c in data.columns]
    tips.append(alt.Tooltip("position:Q", format=".0%", title="position in statement"))
    chart = (
        alt.Chart(data, width=WIDTH - 200, height=max(60, 26 * max(1, data[label].n_unique())),
                  title=title or "Dispersion: each tick is one occurrence")
        .mark_tick(thickness=2, size=18)
        .encode(
            x=alt.X("order:Q", title="statements in date order", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{label}:N", title=None),
            color=alt.Color("position:Q", title="position in statement", scale=alt.Scale(scheme="viridis", domain=[0, 1])),
            tooltip=tips,
        )
    )
    return _finish(chart, name, "Dispersion of formulae across the statements (date order).")


def plot_reuse(frame: Any, *, a: str = "a", b: str = "b", value: str = "shared",
               title: str = "Statement reuse: formulae shared by two statements",
               name: str = "reuse-matrix") -> alt.Chart:
    """A symmetric matrix: cell (a, b) coloured by how many formulae ``a`` and ``b`` share.

    ``frame``: one row per ordered pair with ``a``, ``b`` (statement or source labels),
    ``value`` and optionally ``formulae`` (a text listing them) for the tooltip.
    """
    import altair as alt

    data = _lazy(frame).sort([a, b]).collect()
    n = max(1, data[a].n_unique())
    size = min(WIDTH - 200, max(120, 24 * n))
    tips = [alt.Tooltip(f"{a}:N"), alt.Tooltip(f"{b}:N"), alt.Tooltip(f"{value}:Q")]
    if "formulae" in data.columns:
        tips.append(alt.Tooltip("formulae:N"))
    chart = (
        alt.Chart(data, width=size, height=size, title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{b}:N", title=None, sort="ascending", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(f"{a}:N", title=None, sort="ascending"),
            color=alt.Color(f"{value}:Q", title=value, scale=alt.Scale(scheme="oranges")),
            tooltip=tips,
        )
    )
    return _finish(chart, name, title)
