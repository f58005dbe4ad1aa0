"""The one statement filter grammar, used by every command (``--where``, ``--a``, ``--b``).

A filter is clauses joined by ``&`` (or ``and``): ``field OP value`` with OP one of
``= != < <= > >=``; fields ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), ``year``,
``source``, ``id``, ``language``; ``a|b`` lists alternatives for ``=``/``!=``;
``year=1970..1979`` is an inclusive range. Examples: ``date<2024-12-08``,
``source=RUS``, ``year=1970..1979``, ``source!=was``.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from ..errors import FormulaeError

_FIELDS = ("date", "year", "source", "id", "language")
_CLAUSE = re.compile(r"^\s*(\w+)\s*(>=|<=|!=|=|<|>)\s*(.+?)\s*$")
def _date_value(text: str, spec: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FormulaeError(f"filter {spec!r}: {text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")


def filter_parse(spec: str) -> pl.Expr:
    """Turn a filter like ``'year=1970..1979 & source!=USA'`` into a polars expression."""
    if not spec or not spec.strip():
        raise FormulaeError("empty statement filter")
    expr = None
    for clause in re.split(r"\s*&\s*|\s+and\s+", spec.strip()):
        m = _CLAUSE.match(clause)
        if not m:
            raise FormulaeError(f"filter {spec!r}: cannot read {clause!r} (expected FIELD OP VALUE, "
                                "e.g. date<2024-12-08, source=RUS, year=1970..1979)")
        name, op, value = m.groups()
        if name not in _FIELDS:
            raise FormulaeError(f"filter {spec!r}: unknown field {name!r} (known: {', '.join(_FIELDS)})")
        e = _clause_expr(name, op, value, spec)
        expr = e if expr is None else expr & e
    return expr


def _clause_expr(name: str, op: str, value: str, spec: str) -> pl.Expr:
    if name in ("date", "year"):
        col = pl.col("date") if name == "date" else pl.col("date").dt.year()
        conv = ((lambda v: _date_value(v, spec)) if name == "date" else (lambda v: _int(v, spec)))
        if ".." in value:
            if op not in ("=", "!="):
                raise FormulaeError(f"filter {spec!r}: a range needs = or !=")
            lo, hi = (conv(v.strip()) for v in value.split("..", 1))
            inside = col.is_between(lo, hi) if name == "year" else (col >= lo) & (col < _next(hi, value.split("..", 1)[1]))
            return inside if op == "=" else ~inside
        v = conv(value)
        if name == "date" and op in ("=", "!="):
            e = (col >= v) & (col < _next(v, value))
            return e if op == "=" else ~e
        return {"<": col < v, "<=": col <= v, ">": col > v, ">=": col >= v, "=": col == v, "!=": col != v}[op]
    if op not in ("=", "!="):
        raise FormulaeError(f"filter {spec!r}: field {name!r} takes = or != only")
    e = pl.col(name).is_in([v.strip() for v in value.split("|")])
    return e if op == "=" else ~e


def _int(text: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FormulaeError(f"filter {spec!r}: {text!r} is not a year") from None


def _next(d: dt.date, text: str) -> dt.date:
    """First day after the period a partial date names (YYYY → next year, ...)."""
    parts = text.strip().count("-")
    if parts == 0:
        return dt.date(d.year + 1, 1, 1)
    if parts == 1:
        return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return d + dt.timedelta(days=1)

