"""The ``tokens`` command: how a text is tokenised and analysed."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Format, FormatOpt, OutputOpt, StoreOpt
from .output import emit

app = typer.Typer()


@app.command("tokens")
def tokens_cmd(
    text: Annotated[str, typer.Argument(help="The text to tokenise (quote it).")],
    language: Annotated[str, typer.Option("--language", "-l", help="Any ISO 639-1 code (see formulae languages).")] = "ar",
    level: Annotated[str | None, typer.Option("--level", help="exact, norm, clitic or stem (default: clitic for ar, norm otherwise).", show_default=False)] = None,
    line_breaks: Annotated[str, typer.Option("--line-breaks", help="paragraph (a newline ends a paragraph) or wrap (a newline is a space).")] = "paragraph",
    corpus: Annotated[str | None, typer.Option("--corpus", "-c", help="Decide clitic splits with this corpus's vocabulary and alias table.", show_default=False)] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Show the token table of a text: offsets, kinds, sentences, normalised form and the forms at a level.

    Example: [bold]formulae tokens "وأكد دعمه لوحدة وسلامة أراضيها" --level stem --corpus mfa-ar[/bold]
    """
    from ..phrases.explain import tokens_explain

    frame = tokens_explain(text, language=language, level=level, line_breaks=line_breaks, corpus=corpus, store=store)
    emit(frame, fmt, output, title=f"tokens ({level or 'default level'})")

