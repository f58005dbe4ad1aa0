"""One result shape for every analysis: a table, the parameters that made it, notes.

``Result.frame`` is a polars DataFrame; ``Result.columns`` the same table as a dict of
lists (the query's polars-free fast path builds it that way and never imports polars
unless ``.frame`` is asked for). ``params`` names everything that went into the table
(corpus, level, options, ``snapshot_sha256``); ``notes`` say what was left out and why;
``extra`` holds side tables (a timeline's change points, a family's occurrences).
``stamp`` adds the versions that made it, so every printed or saved result can carry
its story (quanteda's ``meta``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["Result", "versions"]


def versions() -> dict[str, str]:
    """Versions of formulae and of the libraries that shape results (those loaded)."""
    from . import __version__

    out = {"formulae": __version__, "python": sys.version.split()[0]}
    for name in ("polars", "numpy"):
        mod = sys.modules.get(name)
        if mod is not None:
            out[name] = str(getattr(mod, "__version__", "?"))
    return out


@dataclass
class Result:
    """A table (``data``: a polars DataFrame or a dict of equal-length lists) with its story."""

    data: Any
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, str] | None = None  # polars dtype names of a dict-of-lists table's columns

    @property
    def frame(self) -> pl.DataFrame:
        """The table as a polars DataFrame (of ``schema``'s dtypes where given)."""
        if isinstance(self.data, dict):
            import polars as pl

            schema = None if self.schema is None else {k: getattr(pl, v) for k, v in self.schema.items()}
            return pl.DataFrame(self.data, schema=schema)
        return self.data

    @property
    def columns(self) -> dict[str, list]:
        """The table as ``{column: values}`` (no polars needed when built that way)."""
        if isinstance(self.data, dict):
            return self.data
        return self.data.to_dict(as_series=False)

    @property
    def height(self) -> int:
        if isinstance(self.data, dict):
            return len(next(iter(self.data.values()), []))
        return self.data.height

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, columns in order."""
        cols = self.columns
        names = list(cols)
        return [dict(zip(names, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]

    @property
    def stamp(self) -> dict[str, Any]:
        """Corpus, snapshot hash, level and the versions that made this result."""
        keys = ("corpus", "snapshot_sha256", "level")
        return {k: self.params.get(k) for k in keys} | {"versions": versions()}
