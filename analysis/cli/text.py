"""The ``tokens`` command: how a text is tokenised and analysed."""

from __future__ import annotations

from typing import Annotated

import typer

from ..vocab import LINE_BREAKS, choices
from .options import Format, FormatOpt, LanguageOpt, LevelOpt, OutputOpt, StoreOpt, value
from .output import emit

app = typer.Typer()
LineBreaks = choices("LineBreaks", LINE_BREAKS)


@app.command("tokens")
def tokens_cmd(
    text: Annotated[str, typer.Argument(help="The text to tokenise (quote it).")],
    language: LanguageOpt = "ar",
    level: LevelOpt = None,
    line_breaks: Annotated[LineBreaks, typer.Option(  # type: ignore[valid-type]
        "--line-breaks", help="paragraph (a newline ends a paragraph) or wrap (a newline is a space).")] = "paragraph",
    corpus: Annotated[str | None, typer.Option("--corpus", "-c", help="Decide clitic splits with this corpus's vocabulary and alias table.", show_default=False)] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Show the token table of a text: offsets, kinds, sentences, normalised form and the forms at a level.

    Example: [bold]formulae tokens "وأكد دعمه لوحدة وسلامة أراضيها" --level stem --corpus mfa-ar[/bold]
    """
    from ..phrases.explain import tokens_explain

    frame = tokens_explain(text, language=language, level=value(level), line_breaks=value(line_breaks),
                           corpus=corpus, store=store)
    emit(frame, fmt, output, title=f"tokens ({value(level) or 'default level'})")

