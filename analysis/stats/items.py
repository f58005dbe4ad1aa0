"""What the statistics count: occurrences of an item (lexicon formula, family or
literal phrase) and per-statement item tables, read from a corpus view."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..formulae.lexicon import lexicon_load
from ..formulae.match import formulae_counts, formulae_find, sequences_find
from ..phrases.suffix import expand_runs
from ..phrases.view import CorpusView, corpus_view
from ..text.pattern import is_pattern, pattern_sequences
from ..vocab import default_level


def view_of(corpus, store) -> CorpusView:
    """The corpus view of a corpus name (a view is returned as it is)."""
    return corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)


def item_occurrences(view, item: str, *, level: str | None = None, families=None) -> pl.DataFrame:
    """Occurrences (doc, pos, start, end) of a lexicon formula id, family id, literal phrase
    or phrase pattern (:mod:`analysis.text.pattern`: the union of its wordings)."""
    level = level or default_level(view.language)
    if families is not None and item.startswith("fam-"):
        families.get(item)
        return families.occurrences.filter(pl.col("family") == item).select("doc", "pos", "start", "end")
    lex = lexicon_load().for_language(view.language)
    if any(f.id == item for f in lex.formulae):
        return formulae_find(view, lexicon=lex, level=level, formulae=[item], verbatim=False).select(
            "doc", "pos", "start", "end")
    if is_pattern(item):  # the phrase language of analysis.text.pattern: union of its wordings
        try:
            seqs = pattern_sequences(item, lambda w: view.analyzer.query_forms(w, level))
        except ValueError as exc:
            raise FormulaeError(f"phrase pattern {item!r}: {exc}") from None
        hits = sequences_find(view.tokens_index(level), dict(enumerate(seqs)))
        return (hits.sort(["doc", "pos", "end"], descending=[False, False, True])
                .unique(["doc", "pos"], keep="first", maintain_order=True).select("doc", "pos", "start", "end"))
    forms = view.analyzer.query_forms(item, level)
    if not forms:
        raise FormulaeError(f"{item!r} is neither a formula id of the lexicon nor a phrase with words")
    hits = sequences_find(view.tokens_index(level), {0: tuple(forms)})
    return hits.select("doc", "pos", "start", "end")


def items_per_doc(view, *, level: str, lexicon: bool, families) -> pl.DataFrame:
    """(kind, item, label, doc, occurrences) for lexicon formulae and families."""
    parts = []
    schema = {"kind": pl.String, "item": pl.String, "label": pl.String, "doc": pl.UInt32,
              "occurrences": pl.UInt32}
    if lexicon:
        lex = lexicon_load().for_language(view.language)
        labels = pl.DataFrame({"formula": [f.id for f in lex.formulae],
                               "label": [f.label for f in lex.formulae]})
        occ = formulae_find(view, lexicon=lex, level=level, verbatim=False)
        parts.append(formulae_counts(occ).join(labels, on="formula", how="left").select(
            pl.lit("formula").alias("kind"), pl.col("formula").alias("item"), "label", "doc", "occurrences"))
    if families is not None:
        fo = families.occurrences.group_by("family", "doc").agg(pl.len().alias("occurrences"))
        parts.append(fo.join(families.frame.select("family", "canonical"), on="family").select(
            pl.lit("family").alias("kind"), pl.col("family").alias("item"),
            pl.col("canonical").alias("label"), "doc", "occurrences"))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.cast(schema) for p in parts])


def occurrence_docs(view, level: str, rows: pl.DataFrame):
    """For maximal-phrase rows (sa_lo, freq): (row number, doc) of every occurrence (numpy)."""
    ix = view.index(level)
    lo = rows["sa_lo"].to_numpy().astype(np.int64)
    fr = rows["freq"].to_numpy().astype(np.int64)
    rank, row = expand_runs(lo, fr)
    return row, ix.doc_of(np.asarray(ix.array("sa")[rank], np.int64))


