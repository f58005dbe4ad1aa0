"""``tokens_explain``: the token table of one text with its forms at a level, decided
with a corpus's vocabulary and alias table when one is named (the CLI's ``tokens``)."""

from __future__ import annotations

import polars as pl

from ..text.analyzer import Analyzer
from ..text.tokens import tokens_build, tokens_level
from ..vocab import LEVELS, check, check_level, default_level


def tokens_explain(
    text: str,
    *,
    language: str,
    level: str | None = None,
    line_breaks: str = "paragraph",
    corpus: str | None = None,
    store=None,
) -> pl.DataFrame:
    """The token table of one text with each token's forms at ``level`` (debugging aid).

    With ``corpus``, the clitic decisions use that corpus's vocabulary and alias table
    (its manifest's ``aliases``), exactly as its index does (this tokenises the whole
    corpus once: seconds on a large one); otherwise the built-in lexicon only. Columns: ``tok para sent start end kind surface norm forms``
    (``forms``: the level's pieces joined by `` + ``; empty for tokens that are not counted).
    """
    level = check("--level", level or default_level(language), LEVELS)
    check_level(level, language)
    frame = pl.DataFrame({"doc": [0], "text": [text]}, schema={"doc": pl.UInt32, "text": pl.String})
    toks = tokens_build(frame, language=language, line_breaks=line_breaks).collect()
    if corpus is not None:
        from ..ingest.snapshot import corpus_load, corpus_manifest

        manifest = corpus_manifest(corpus, store)
        corpus_toks = tokens_build(
            corpus_load(corpus, store),
            language=manifest.get("language", language),
            line_breaks=manifest.get("line_breaks", line_breaks),
        )
        analyzer = Analyzer.for_corpus(manifest | {"language": language}, tokens=corpus_toks)
    else:
        analyzer = Analyzer.for_corpus({"language": language, "line_breaks": line_breaks}, counts={})
    forms = tokens_level(toks, level, analyzer=analyzer).collect()
    per_tok = (
        forms.join(
            toks.select("tok", "start", "end"),
            how="cross",
        )
        .filter((pl.col("start") >= pl.col("start_right")) & (pl.col("end") <= pl.col("end_right")))
        .group_by("tok", maintain_order=True)
        .agg(pl.col("form").str.join(" + ").alias("forms"))
    )
    return (
        toks.join(per_tok, on="tok", how="left")
        .with_columns(pl.col("forms").fill_null(""))
        .select("tok", "para", "sent", "start", "end", "kind", "surface", "norm", "forms")
        .sort("tok")
    )
