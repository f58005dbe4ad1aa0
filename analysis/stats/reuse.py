"""Statement-to-statement reuse: which statements share which formulae, families or passages."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..ingest.periods import date_label_expr
from ..ingest.where import filter_parse
from ..result import Result
from ..vocab import default_level
from .items import items_per_doc, occurrence_docs, view_of

REUSE_MAX_DOCS = 200  # an item in more statements than this pairs none (k²/2 pairs of "common")


def stat_reuse(corpus, *, store=None, level: str | None = None, families=None,
               passage_min_len: int = 8, max_docs: int = REUSE_MAX_DOCS, where: str | None = None) -> Result:
    """Which statements share which formulae, families or long passages.

    One row per pair of statements sharing at least one item: ``doc_a`` < ``doc_b``,
    ``id_a``, ``id_b``, ``date_a``, ``date_b``, ``source_a``, ``source_b``, ``shared``
    (number of shared items), ``formulae``, ``families`` (sorted lists of ids),
    ``passages`` (shared maximal phrases of at least ``passage_min_len`` tokens) and
    ``longest`` (tokens in the longest). Items in more than ``max_docs`` statements are
    not used to pair (they would link everything; counted in the notes). The frame is
    also the edge list of a statement network (``doc_a``–``doc_b``, weight ``shared``).
    """
    view = view_of(corpus, store)
    level = level or default_level(view.language)
    notes: list[str] = []
    items = items_per_doc(view, level=level, lexicon=True, families=families).select("kind", "item", "doc")
    ix = view.index(level)
    mx = ix.table("maximal").filter(pl.col("n") >= passage_min_len).select("sa_lo", "freq", "n").collect()
    if mx.height:
        row, doc = occurrence_docs(view, level, mx)
        items = pl.concat([items, pl.DataFrame({
            "kind": "passage", "item": pl.Series(row.astype(np.int64)).cast(pl.String),
            "doc": doc.astype(np.uint32)}).unique()])
        lens = pl.DataFrame({"item": pl.Series(np.arange(mx.height)).cast(pl.String),
                             "n": mx["n"].to_numpy().astype(np.int64)})
    else:
        lens = pl.DataFrame({"item": [], "n": []}, schema={"item": pl.String, "n": pl.Int64})
    items = items.unique()
    if where:
        items = items.join(view.statements.filter(filter_parse(where)).select("doc"), on="doc", how="semi")
    width = items.group_by("kind", "item").agg(pl.len().alias("k"))
    wide = width.filter(pl.col("k") > max_docs)
    if wide.height:
        notes.append(f"{wide.height} items in more than {max_docs} statements not used for pairing")
    items = items.join(wide, on=["kind", "item"], how="anti")
    pairs = (items.join(items.rename({"doc": "doc_b"}), on=["kind", "item"])
             .filter(pl.col("doc") < pl.col("doc_b")).rename({"doc": "doc_a"})
             .join(lens, on="item", how="left"))
    agg = pairs.group_by("doc_a", "doc_b").agg(
        pl.len().cast(pl.UInt32).alias("shared"),
        pl.col("item").filter(pl.col("kind") == "formula").sort().alias("formulae"),
        pl.col("item").filter(pl.col("kind") == "family").sort().alias("families"),
        (pl.col("kind") == "passage").sum().cast(pl.UInt32).alias("passages"),
        pl.col("n").filter(pl.col("kind") == "passage").max().fill_null(0).cast(pl.UInt32).alias("longest"),
    )
    meta = view.statements.select("doc", "id", date_label_expr().alias("date"), "source")  # dates at their precision
    frame = (agg.join(meta.rename({c: f"{c}_a" for c in meta.columns}), on="doc_a")
             .join(meta.rename({c: f"{c}_b" for c in meta.columns}), on="doc_b")
             .select("doc_a", "doc_b", "id_a", "id_b", "date_a", "date_b", "source_a", "source_b",
                     "shared", "formulae", "families", "passages", "longest")
             .sort(["shared", "doc_a", "doc_b"], descending=[True, False, False]))
    params = {"corpus": view.name, "level": level, "passage_min_len": passage_min_len,
              "max_docs": max_docs, "where": where, "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes)
