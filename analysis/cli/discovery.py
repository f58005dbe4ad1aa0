"""The ``formulae`` discovery commands: ``candidates`` (formula candidates ranked from the
phrase index) and ``frames`` (phrase frames with one open slot). Thin layers over
:func:`analysis.formulae.candidates.formulae_candidates` and
:func:`analysis.phrases.frames.phrases_frames`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import CorpusOpt, Format, FormatOpt, LevelOpt, OutputOpt, StoreOpt, WhereOpt, value
from .output import emit_result

app = typer.Typer()


@app.command("candidates")
def candidates_cmd(
    corpus: CorpusOpt,
    names: Annotated[bool, typer.Option("--names/--no-names", help="Keep proper-name sequences (flagged in the name column) or leave them out.")] = True,
    reference: Annotated[str | None, typer.Option("--reference", help="Reference corpus (indexed at the same level): adds keyness columns ref_*.", show_default=False)] = None,
    where: WhereOpt = None,
    by: Annotated[str | None, typer.Option("--by", help="Period: day, week, month, quarter or year. Prints one row per candidate and period (freq, statements, per_10k; used = the period has >= --min-tokens tokens) with each candidate's trend and change points. Default: the ranking, periods by the date span.", show_default=False)] = None,
    min_tokens: Annotated[int, typer.Option("--min-tokens", help="Periods with fewer tokens are not used for the trend and change points.")] = 1000,
    min_statements: Annotated[int, typer.Option("--min-statements", help="Candidates: in at least this many statements.")] = 5,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the first N candidates (0: all).")] = 100,
    accept: Annotated[str | None, typer.Option("--accept", help="Write this candidate (its id, among the first --limit rows) into the lexicon (corpus/formulae.yml or --lexicon).", show_default=False)] = None,
    lexicon: Annotated[Path | None, typer.Option("--lexicon", help="Lexicon file for --accept.", show_default=False)] = None,
    level: LevelOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Formula candidates: recurring phrases ranked as formulae, each ingredient of the score a column.

    Example: [bold]formulae candidates --corpus ungdc --no-names -n 20[/bold]; then [bold]formulae candidates --corpus ungdc --accept cand-...[/bold]; one row per candidate and year: [bold]formulae candidates --corpus ungdc --by year -n 5 -f csv[/bold]
    """
    from ..formulae.candidates import formulae_candidates
    from ..formulae.lexicon import lexicon_add
    from ..ingest.where import filter_parse
    from ..phrases.view import corpus_view

    view = corpus_view(corpus, store)
    res = formulae_candidates(view, store=store, level=value(level) if level else None,
                              where=filter_parse(where) if where else None, by=by, names=names,
                              reference=reference, min_statements=min_statements,
                              limit=None if limit == 0 else limit, min_tokens=min_tokens)
    if accept:
        import polars as pl

        from ..errors import FormulaeError

        row = res.frame.filter(pl.col("id") == accept)
        if row.height == 0:
            raise FormulaeError(f"unknown candidate {accept!r}: not among the first {res.frame.height} of "
                                f"{res.params['candidates']} candidates with these parameters (raise --limit)")
        r = row.row(0, named=True)
        f = lexicon_add(accept, r["phrase"], [r["phrase"]], language=view.language, path=lexicon,
                        note=f"accepted from candidates: {r['statements']} statements, score {r['score']:.2f}")
        sys.stderr.write(f"formulae: accepted {f.id} ({r['phrase']}) into the lexicon\n")
        return
    if by is not None:
        emit_result(res.extra["periods"], fmt, output, f"formula candidates in {corpus} by {by}", res.notes)
        return
    emit_result(res.frame, fmt, output, f"formula candidates in {corpus}", res.notes)


@app.command("frames")
def frames_cmd(
    corpus: CorpusOpt,
    max_n: Annotated[int, typer.Option("--max-n", help="Longest n-gram a frame is read from (3..8).")] = 5,
    min_fillers: Annotated[int, typer.Option("--min-fillers", help="At least this many distinct fillers.")] = 3,
    min_statements: Annotated[int, typer.Option("--min-statements", help="Frames: in at least this many statements.")] = 10,
    max_top_share: Annotated[float, typer.Option("--max-top-share", help="No filler with more than this share of the occurrences (an open slot, not one phrase).")] = 0.8,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show the first N frames by occurrences (0: all).")] = 100,
    level: LevelOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Phrase frames: recurring n-grams with one open slot of 1 or 2 tokens, and their fillers.

    Example: [bold]formulae frames --corpus ungdc -n 20[/bold]
    """
    from ..phrases.frames import phrases_frames

    res = phrases_frames(corpus, store=store, level=value(level) if level else None, max_n=max_n,
                         min_fillers=min_fillers, min_statements=min_statements,
                         max_top_share=max_top_share, limit=None if limit == 0 else limit)
    emit_result(res.frame, fmt, output, f"phrase frames in {corpus}", res.notes)
