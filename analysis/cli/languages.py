"""The ``languages`` command: every ISO 639-1 language and what the package supports in it."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Format, FormatOpt, OutputOpt
from .output import emit

app = typer.Typer()


@app.command("languages")
def languages_cmd(
    only: Annotated[list[str] | None, typer.Argument(help="Only these ISO 639-1 codes.", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Every ISO 639-1 language with its matching levels, stemmer, stopword list and tokens.

    Every code works at exact and norm; stem where a stemmer exists (Snowball, ISRI for
    Arabic), clitic for Arabic only; Chinese and Japanese are indexed a character a token.

    Example: [bold]formulae languages zh fr ar[/bold]
    """
    from ..text.languages import languages_table

    emit(languages_table(only), fmt, output, title="languages")
