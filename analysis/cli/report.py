"""Report commands: ``report build``, ``report list``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .options import Format, FormatOpt, LevelOpt, OutputOpt, ReportOutOpt, StoreOpt, value
from .output import emit, fail

app = typer.Typer()
report_app = typer.Typer(help="Versioned, self-contained HTML reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("build")
def report_build_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Every corpus declared in corpus/*.yml.")] = False,
    corpus: Annotated[list[str] | None, typer.Option("--corpus", "-c", help="Corpus name (repeatable).")] = None,
    report: Annotated[list[str] | None, typer.Option("--report", "-r", help="overview, formula or compare (repeatable; default overview and formula).")] = None,
    formula: Annotated[str | None, typer.Option("--formula", help="Formula for the drill-down: lexicon name or phrase (default: the corpus's top formula).")] = None,
    level: LevelOpt = None,
    other: Annotated[str | None, typer.Option("--other", help="compare: side B's corpus (default: the same corpus, with --b).", show_default=False)] = None,
    a: Annotated[str | None, typer.Option("--a", help="compare: filter for side A, e.g. 'source=赵立坚'.", show_default=False)] = None,
    b: Annotated[str | None, typer.Option("--b", help="compare: filter for side B.", show_default=False)] = None,
    renderer: Annotated[str, typer.Option("--renderer", help="auto (quarto if on PATH, else built-in), builtin or quarto.")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if this version exists.")] = False,
    screenshot: Annotated[bool, typer.Option("--screenshot", help="Also save <version>/screenshot.png (needs chromium).")] = False,
    out: ReportOutOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Render reports into reports/_build/<version>/ and update reports/_build/index.html.

    Example: [bold]formulae report build --corpus mfa-ar --report overview[/bold]

    Two corpora: [bold]formulae report build --corpus ungd --report compare --other cn-mfa[/bold]
    """
    import polars as pl

    from ..report.build import report_build_all

    if not all_ and not corpus:
        raise fail("give --all or --corpus NAME")
    results = report_build_all(
        None if all_ else list(corpus or []), list(report) if report else None,
        store=store, out=out, level=value(level), formula=formula, force=force, renderer=renderer,
        other=other, a=a, b=b,
        screenshot=screenshot, progress=lambda msg: sys.stderr.write(msg + "\n"),
    )
    emit(pl.DataFrame({
        "report": [r.manifest["report"] for r in results],
        "corpus": [r.manifest["corpus"] for r in results],
        "version": [r.version for r in results],
        "reused": [r.reused for r in results],
        "seconds": [r.manifest.get("build_seconds") for r in results],
        "html": [str(r.html) for r in results],
    }), fmt, output, title="reports")


@report_app.command("list")
def report_list_cmd(out: ReportOutOpt = None, fmt: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List every built report version, newest first.

    Example: [bold]formulae report list --format csv[/bold]
    """
    from ..report.build import report_versions_frame

    emit(report_versions_frame(out), fmt, output, title="report versions")

