"""The ``formulae`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and prints the
result (:mod:`.output`). Library errors (:class:`analysis.errors.FormulaeError`)
become one line on stderr and exit status 2, never a traceback. One module per
command group; shared options in :mod:`.options`. Nothing in the package imports
the CLI.

Heavy modules (polars, nltk, altair) are imported inside the commands, so that
``formulae --help`` and a query on a built index start fast.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from typing import Annotated

import typer

from .corpus import app as corpus_commands
from .discovery import app as discovery_commands
from .formulae import app as formulae_commands
from .languages import app as languages_commands
from .phrases import app as phrases_commands
from .report import app as report_commands
from .text import app as text_commands

app = typer.Typer(
    name="formulae",
    help="Recurring formulae in diplomatic statements: ingest, query, compare, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
for _group in (corpus_commands, text_commands, phrases_commands, formulae_commands,
               discovery_commands, report_commands, languages_commands):
    app.add_typer(_group)


def _version(show: bool) -> None:
    if show:
        from .. import __version__

        sys.stdout.write(f"formulae {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Recurring formulae in diplomatic statements: ingest, query, compare, report."""


def main() -> None:
    """Console entry point: run the app, turning library errors into one line."""
    from ..errors import FormulaeError

    try:
        app()
    except FormulaeError as exc:
        sys.stderr.write(f"formulae: error: {exc}\n")
        raise SystemExit(2) from None
    except OSError as exc:  # the file system refused (read-only store, no space, ...): one line too
        from ..store import write_failure

        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"formulae: error: {where}{write_failure(exc) or exc.strerror or exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        sys.stderr.write("formulae: interrupted\n")
        raise SystemExit(130) from None
    except SystemExit as exc:  # typer turns Ctrl-C into exit status 130 without a word
        if exc.code == 130 and isinstance(getattr(exc.__context__, "__cause__", None), KeyboardInterrupt):
            sys.stderr.write("formulae: interrupted (nothing half-written is kept)\n")
        raise


def entry() -> None:
    """The ``formulae`` console script (and ``python -m analysis.cli``): :func:`main` in a
    process of its own, which ends without the interpreter's teardown.

    Two things a short command spent a fifth of its time on (a one-formula ``timeline`` on
    ungdc, medians of 11 processes in turns: ending without the teardown 0.56 -> 0.48 s;
    in another run, freezing too 0.46 -> 0.44 s):

    - The cyclic garbage collector's passes over the command line's own modules (typer,
      click, rich, pydantic: imported already, never garbage). ``gc.freeze`` moves them out
      of its way; it still collects everything made after.
    - Tearing the interpreter down at exit (0.08 s: every module's objects freed one by one,
      polars' and numpy's included), where the system takes the memory back at once.
      Standard streams are flushed and ``atexit`` handlers run first, and an exit with
      another thread alive, a message or a stream that cannot be flushed (a closed pipe)
      takes the interpreter's own way out, as before. (``main`` itself still raises
      ``SystemExit``: tests call it in their process.)
    """
    gc.freeze()
    code: str | int | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    _exit_now(code)


def _exit_now(code) -> None:
    """End the process with ``code`` (see :func:`entry`)."""
    code = 0 if code is None else code
    if not isinstance(code, int) or threading.active_count() > 1:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: Python reports it as it always has
        raise SystemExit(code) from None
    atexit._run_exitfuncs()  # noqa: SLF001 - what a normal exit runs, before skipping the teardown
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
