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

import typer

from . import corpus, discovery, formulae, phrases, report, text

app = typer.Typer(
    name="formulae",
    help="Recurring formulae in diplomatic statements: ingest, query, compare, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
for _group in (corpus, text, phrases, formulae, discovery, report):
    app.add_typer(_group.app)


def main() -> None:
    """Console entry point: run the app, turning library errors into one line."""
    from ..errors import FormulaeError

    try:
        app()
    except FormulaeError as exc:
        sys.stderr.write(f"formulae: error: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        sys.stderr.write("formulae: interrupted\n")
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
