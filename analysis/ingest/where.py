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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import FormulaeError

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

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
    assert expr is not None  # at least one clause
    return expr


def _clause_expr(name: str, op: str, value: str, spec: str) -> pl.Expr:
    import polars as pl

    if name in ("date", "year"):
        col = pl.col("date") if name == "date" else pl.col("date").dt.year()
        conv: Callable[[str], Any] = ((lambda v: _date_value(v, spec)) if name == "date"
                                      else (lambda v: _int(v, spec)))
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



def sources_check(wanted: list[str] | str | None, known: list[str], corpus: str) -> list[str] | None:
    """``wanted`` sources as a list, each one a source of the corpus (else an error naming
    the known ones); None when none is wanted."""
    if not wanted:
        return None
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    bad = [s for s in wanted if s not in known]
    if bad:
        shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
        raise FormulaeError(f"--source {bad[0]!r} is not a source of {corpus!r} (sources: {shown})")
    return wanted


def statements_filter(statements: pl.DataFrame, *, where: str | None = None,
                      sources: list[str] | str | None = None, corpus: str = "") -> tuple[pl.DataFrame, list[str]]:
    """Statements kept by ``--where`` and ``--source`` (checked against the corpus's
    sources), with a note on how many each left out."""
    import polars as pl

    notes = []
    wanted = sources_check(sources, sorted(statements["source"].unique().drop_nulls().to_list()), corpus)
    if wanted:
        before = statements.height
        statements = statements.filter(pl.col("source").is_in(wanted))
        notes.append(f"{before - statements.height} statements excluded by --source {'|'.join(wanted)}")
    if where:
        before = statements.height
        statements = statements.filter(filter_parse(where))
        notes.append(f"{before - statements.height} statements excluded by --where {where!r}")
    return statements, notes
