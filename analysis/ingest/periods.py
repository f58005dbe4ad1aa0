"""Periods of statement dates: the one definition of a period's start and its label.

Units and their order come from :mod:`analysis.vocab` (``PERIODS``, ``precision_rank``).
Each function comes as a polars expression (tables) and, where the query's polars-free
path needs it, as numpy on day numbers; tests check that both agree.

Labels: ``1946`` (year), ``2015-Q3`` (quarter), ``2015-07`` (month), ``2015-07-06``
(a week: its Monday), ``2015-07-09`` (day). A date is always shown at its precision:
a year-precision date is ``1946``, never ``1946-01-01`` (:func:`date_label_expr`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ..vocab import PERIOD_STEP, PERIODS, check, precision_rank

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import polars as pl

__all__ = [
    "PERIODS",
    "coarsest_precision",
    "date_label",
    "date_label_expr",
    "period_auto",
    "period_expr",
    "period_keys",
    "period_label",
    "period_label_expr",
]


def period_expr(unit: str, column: str = "date") -> pl.Expr:
    """A Date column truncated to the start of its period, named ``period``."""
    import polars as pl

    check("--by", unit, PERIODS)
    return pl.col(column).dt.truncate(PERIOD_STEP[unit]).alias("period")


def period_label_expr(unit: str, column: str = "period") -> pl.Expr:
    """The label of a period start (see the module doc)."""
    import polars as pl

    d = pl.col(column)
    if unit == "year":
        return d.dt.strftime("%Y")
    if unit == "quarter":
        return pl.concat_str([d.dt.strftime("%Y"), pl.lit("-Q"), d.dt.quarter().cast(pl.String)])
    if unit == "month":
        return d.dt.strftime("%Y-%m")
    return d.dt.strftime("%Y-%m-%d")


def date_label_expr(column: str = "date", precision: str = "date_precision") -> pl.Expr:
    """A date as text at its precision: ``1946``, ``2015-07`` or ``2015-07-09`` (null: undated).

    ``precision`` names the column holding each row's precision (``day``/``month``/``year``).
    """
    import polars as pl

    d, p = pl.col(column), pl.col(precision)
    return (
        pl.when(p == "year").then(d.dt.strftime("%Y"))
        .when(p == "month").then(d.dt.strftime("%Y-%m"))
        .otherwise(d.dt.strftime("%Y-%m-%d"))
    )


def date_label(value: date | None, precision: str | None) -> str | None:
    """:func:`date_label_expr` for one value."""
    if value is None:
        return None
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def period_keys(days: np.ndarray, unit: str) -> np.ndarray:
    """Period of each day number (days since 1970-01-01), as an integer key per unit."""
    import numpy as np

    d = days.astype("datetime64[D]")
    if unit == "day":
        return days.astype(np.int64)
    if unit == "week":
        return (days - ((days.astype(np.int64) - 4) % 7)).astype(np.int64)  # 1970-01-05: a Monday
    months = d.astype("datetime64[M]").astype(np.int64)
    if unit == "month":
        return months
    if unit == "quarter":
        return months - months % 3
    return d.astype("datetime64[Y]").astype(np.int64)


def period_label(key: int, unit: str | None) -> str:
    """The label of a :func:`period_keys` key (``all`` without a unit)."""
    import numpy as np

    if unit is None:
        return "all"
    if unit in ("day", "week"):
        return str(np.datetime64(int(key), "D"))
    if unit == "month":
        return str(np.datetime64(int(key), "M"))
    if unit == "quarter":
        m = np.datetime64(int(key), "M")
        return f"{str(m)[:4]}-Q{int(key) % 12 // 3 + 1}"
    return str(np.datetime64(int(key), "Y"))


def coarsest_precision(precisions: list[str | None]) -> str | None:
    """The coarsest dated precision among ``precisions`` (``none`` and nulls ignored)."""
    dated = [p for p in precisions if p in PERIODS]
    return max(dated, key=precision_rank, default=None)


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
    if precision in PERIODS and precision_rank(precision) > precision_rank(unit):
        unit = precision
    return unit
