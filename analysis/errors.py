"""Errors a user can act on.

Every error the library raises for bad input or bad arguments is a
:class:`FormulaeError`. The CLI prints it as one line (``formulae: error: ...``)
and exits with status 2; no traceback is shown.
"""

from __future__ import annotations

from pathlib import Path


class FormulaeError(Exception):
    """A user-facing error naming the thing: the file, the line, the problem."""

    def __init__(self, problem: str, *, file: str | Path | None = None, line: int | None = None):
        # always one line: a wrapped message (a YAML parser's, say) is joined
        self.problem = " ".join(part.strip() for part in str(problem).splitlines() if part.strip())
        self.file = None if file is None else str(file)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return f"{where}{self.problem}"


class IndexMissing(FormulaeError):
    """No phrase index, or a stale one (see :func:`analysis.phrases.index.index_stale`):
    the CLI builds it and asks again."""


class IndexDamaged(IndexMissing):
    """A stored phrase index with a file cut short or lost since it was written
    (:func:`analysis.store.folder_damage`): the CLI says so, builds it again and asks again."""
