"""Comparisons: statement sets A and B (two filters) item by item, with keyness."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from .. import measures as stats
from ..errors import FormulaeError
from ..ingest.where import filter_parse
from ..phrases.ranges import SIDE_A, SIDE_B, rank_docs, runs_with, side_counts
from ..result import Result
from ..text.languages import content_forms
from ..vocab import default_level
from .items import items_per_doc, view_of

# ----------------------------------------------------------------------- compare


def _content_ids(view, level: str):
    """Boolean per vocabulary id of the level's index: a content form (not a stopword, >= 2 letters)."""
    return content_forms(view.index(level).vocabulary(), view.language).to_numpy()


def _phrase_counts(view, level: str, in_a, in_b, min_statements: int, notes: list[str], docs
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Maximal recurring phrases with a content word: occurrences / statements in A and in B
    (each phrase's range of the suffix array counted in one compiled pass:
    :mod:`analysis.phrases.ranges`), unnamed (``item`` and ``label`` null; ``_row``: the
    phrase's row of the second frame, its ``pos`` and ``n``, for :func:`_named`)."""
    ix = view.index(level)
    rows = (ix.table("maximal").filter(pl.col("distinct_statements") >= min_statements)
            .select("sa_lo", "freq", "pos", "n").collect())
    has_content = runs_with(ix.array("ids"), rows["pos"].to_numpy(), rows["n"].to_numpy(), _content_ids(view, level))
    notes.append(f"{rows.height} maximal recurring phrases in >= {min_statements} statements; "
                 f"{int((~has_content).sum())} of them made of stopwords only, left out")
    rows = rows.filter(pl.Series(has_content))
    side = np.zeros(view.statements.height, np.uint8)
    side[in_a] |= SIDE_A
    side[in_b] |= SIDE_B
    docs = docs.result()  # :func:`rank_docs`, begun in a thread while the lexicon was matched
    a_occ, a_st, b_occ, b_st = side_counts(docs, rows["sa_lo"].to_numpy(), rows["freq"].to_numpy(), side,
                                           _threads()).astype(float)
    del docs
    counts = pl.DataFrame({"kind": "phrase", "a_occ": a_occ, "a_st": a_st, "b_occ": b_occ, "b_st": b_st,
                           "_row": np.arange(rows.height, dtype=np.int64)}).with_columns(
        pl.lit(None, pl.String).alias("item"), pl.lit(None, pl.String).alias("label"))
    return counts, rows.select("pos", "n")


def _threads() -> int:
    """Threads for the compiled passes over the suffix array: the cores, at most 8."""
    return min(os.cpu_count() or 1, 8)


def _named(frame: pl.DataFrame, view, level: str, phrase_rows: pl.DataFrame | None) -> pl.DataFrame:
    """``frame`` with its phrases' ``item`` and ``label`` (the phrase) filled in, ``_row`` dropped."""
    if phrase_rows is None:
        return frame.drop("_row")
    at = frame["_row"].drop_nulls()
    names = view.index(level).phrases(phrase_rows[at.to_numpy()])
    filled = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("_name").scatter(
        np.flatnonzero(frame["_row"].is_not_null().to_numpy()), names)
    return (frame.with_columns(filled)
            .with_columns(pl.coalesce("item", "_name").alias("item"), pl.coalesce("label", "_name").alias("label"))
            .drop("_row", "_name"))


def _top(frame: pl.DataFrame, limit: int) -> pl.DataFrame:
    """The rows of ``frame`` that can be among its first ``limit`` once sorted by ``g2``
    (descending, then ``kind`` and ``item``): every row of a ``g2`` above the
    ``limit``-th largest and every row tied with it; every row where a ``g2`` is NaN (not
    a number sorts first)."""
    values = frame["g2"].to_numpy()
    if len(values) <= limit or np.isnan(values).any():
        return frame
    cut = np.partition(values, len(values) - limit)[len(values) - limit]  # the limit-th largest
    return frame.filter(pl.Series(values >= cut))


def _measured(frame: pl.DataFrame, ta: int, tb: int, na: int, nb: int, m: int | None,
              min_count: int) -> pl.DataFrame:
    """``frame`` (counts, and ``g2``, which chose its rows) with its rates, keyness measures
    (:func:`analysis.measures.stat_keyness`, ``g2`` again: the same numbers on two rows or
    more) and ``status``, in the table's columns (:func:`stat_compare`)."""
    out = frame.drop("g2").with_columns((pl.col("a_occ") * 1e4 / ta).alias("a_per_10k"),
                                        (pl.col("b_occ") * 1e4 / tb).alias("b_per_10k"))
    out = stats.stat_keyness(out, a="a_occ", b="b_occ", size_a=ta, size_b=tb, m=m)
    out = stats.stat_keyness(out, a="a_st", b="b_st", size_a=na, size_b=nb, prefix="df_", cells=4, m=m)
    return out.with_columns(
        pl.when((pl.col("a_occ") == 0) & (pl.col("b_occ") >= min_count)).then(pl.lit("appeared in B"))
        .when((pl.col("b_occ") == 0) & (pl.col("a_occ") >= min_count)).then(pl.lit("vanished in B"))
        .otherwise(pl.lit("both")).alias("status"))


def _counts(view, level: str, sa: pl.DataFrame, sb: pl.DataFrame, lexicon: bool, families, phrases: bool,
            phrase_min_statements: int, notes: list[str], docs) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The lexicon's items and the recurring phrases counted in A and B (statements
    ``sa``, ``sb``), one frame (``_row``: a phrase's row of the second, for
    :func:`_named`); ``docs``: the future of every rank's statement."""
    items = items_per_doc(view, level=level, lexicon=lexicon, families=families)
    in_a = items.join(sa.select("doc"), on="doc", how="semi").group_by("kind", "item", "label").agg(
        pl.col("occurrences").sum().alias("a_occ"), pl.len().alias("a_st"))
    in_b = items.join(sb.select("doc"), on="doc", how="semi").group_by("kind", "item", "label").agg(
        pl.col("occurrences").sum().alias("b_occ"), pl.len().alias("b_st"))
    frame = in_a.join(in_b, on=["kind", "item", "label"], how="full", coalesce=True)
    cols = ["kind", "item", "label", "a_occ", "a_st", "b_occ", "b_st", "_row"]
    frame = frame.with_columns(pl.lit(None, pl.Int64).alias("_row")).select(cols)
    phrase_rows = None
    if phrases:
        ph, phrase_rows = _phrase_counts(view, level, sa["doc"].to_numpy(), sb["doc"].to_numpy(),
                                         max(2, phrase_min_statements), notes, docs)
        frame = pl.concat([frame.cast({c: pl.Float64 for c in cols[3:7]}), ph.select(cols)])
    return frame, phrase_rows


def stat_compare(corpus, a: str, b: str, *, store=None, level: str | None = None,
                 lexicon: bool = True, families=None, phrases: bool = True,
                 phrase_min_statements: int = 5, bonferroni: bool = False,
                 min_count: int = 1, max_p: float | None = None, limit: int | None = None) -> Result:
    """Compare statement sets A and B (filters, see module docstring) item by item.

    Columns: ``kind`` (formula / family / phrase), ``item``, ``label``, ``a_occ``, ``b_occ``
    (occurrences), ``a_st``, ``b_st`` (statements), ``a_per_10k``, ``b_per_10k``; token
    keyness ``g2`` (Rayson; two-sided on purpose - keyness asks "A or B?", so an item
    key for either side ranks high - its direction is the sign of ``log_ratio``, unlike
    the signed association ``g2`` of the phrase index), ``p``, ``sig``, ``log_ratio``
    (A relative to B; zero counts smoothed to 0.5); statement keyness ``df_g2`` (full 2×2 table), ``df_p``, ``df_sig``,
    ``df_log_ratio``; ``status``: ``appeared in B`` (0 in A, ≥ ``min_count`` in B),
    ``vanished in B`` (the reverse) or ``both``. Sorted by g2 desc, item.
    With ``bonferroni`` the ``sig`` labels use α/m, m = number of items compared.
    ``max_p`` keeps the rows of a ``p`` below it; ``limit`` the first ``limit`` rows of the
    sorted table (the whole table's first rows; only the rows that can be among them are
    named: on ungdc split at 1990, 200 of 1.6 M). ``.params`` records the
    sizes (tokens, statements) of A and B, ``items`` (the rows compared) and ``rows`` (the
    rows of a ``p`` below ``max_p``, before ``limit``).
    """
    if limit is not None and limit < 1:
        raise FormulaeError(f"compare: limit must be at least 1 (or None: every row), got {limit}")
    view = view_of(corpus, store)
    level = level or default_level(view.language)
    if phrases:  # the recurring phrases are the index's tables: built whole first, so no layer is made for nothing
        view.index(level)
    st = view.statements.join(view.doc_tokens(level), on="doc", how="left")
    fa, fb = filter_parse(a), filter_parse(b)
    sa, sb = st.filter(fa), st.filter(fb)
    if sa.height == 0 or sb.height == 0:
        raise FormulaeError(f"compare: {'A' if sa.height == 0 else 'B'} has no statements "
                            f"(A={a!r}: {sa.height}, B={b!r}: {sb.height})")
    overlap = sa.join(sb, on="doc", how="semi").height
    notes = [] if not overlap else [f"{overlap} statements are in both A and B"]
    ta, tb = int(sa["tokens"].sum()), int(sb["tokens"].sum())
    if ta == 0 or tb == 0:  # no rate, no keyness: every comparison would divide by zero
        side, text, n = ("A", a, sa.height) if ta == 0 else ("B", b, sb.height)
        raise FormulaeError(f"compare: {side} ({text!r}) has {n:,} statements but no token at level {level}")
    with ThreadPoolExecutor(1) as pool:  # every rank's statement (numba's start and 0.3 s) beside the lexicon
        docs = None
        if phrases:
            ix = view.index(level)
            docs = pool.submit(rank_docs, ix.array("sa"), ix.array("doc_tokens"), _threads())
        frame, phrase_rows = _counts(view, level, sa, sb, lexicon, families, phrases, phrase_min_statements,
                                     notes, docs)
    frame = (frame.with_columns(pl.col("a_occ", "b_occ", "a_st", "b_st").fill_null(0).cast(pl.UInt32))
             .filter((pl.col("a_occ") + pl.col("b_occ")) >= min_count))
    n_items = frame.height
    m = n_items if bonferroni else None
    # every row's G² (the table's order, the limit's cut) and p (``max_p``); the other
    # measures only of the rows kept (on ungdc split at 1990, 200 of 1.6 M: 0.5 s less)
    frame = frame.with_columns(stats.g2_expr("a_occ", "b_occ", ta, tb).alias("g2"))
    if max_p is not None:
        frame = frame.filter(stats.g2_p_expr("g2") < max_p)
    rows = frame.height
    if limit is not None:  # only the rows that can come first are named (ungdc at 1990: 1.6 M phrases)
        # two rows at least: polars computes a frame of one row by a scalar path whose
        # arithmetic differs from its vector path's in the last bit (``b_occ * 1e4 / tb``
        # divides there, multiplies by the reciprocal here; g2, log_ratio), and a row's
        # numbers must not depend on how many rows are measured with it
        frame = _top(frame, max(limit, 2))
    frame = _measured(frame, ta, tb, sa.height, sb.height, m, min_count)
    frame = _named(frame, view, level, phrase_rows).sort(["g2", "kind", "item"], descending=[True, False, False])
    if limit is not None:
        frame = frame.head(limit)
    params = {"corpus": view.name, "a": a, "b": b, "level": level, "a_statements": sa.height,
              "b_statements": sb.height, "a_tokens": ta, "b_tokens": tb, "bonferroni": bonferroni,
              "items": n_items, "rows": rows, "max_p": max_p, "limit": limit,
              "phrase_min_statements": phrase_min_statements, "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes)


