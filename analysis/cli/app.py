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

import sys
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


if __name__ == "__main__":  # pragma: no cover
    main()
