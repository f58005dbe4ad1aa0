"""Comparisons: statement sets A and B (two filters) item by item, with keyness."""

from __future__ import annotations

import numpy as np
import polars as pl

from .. import measures as stats
from ..errors import FormulaeError
from ..ingest.where import filter_parse
from ..phrases.suffix import expand_runs
from ..result import Result
from ..text.languages import content_forms
from ..vocab import default_level
from .items import items_per_doc, occurrence_docs, view_of

# ----------------------------------------------------------------------- compare


def _content_ids(view, level: str):
    """Boolean per vocabulary id of the level's index: a content form (not a stopword, >= 2 letters)."""
    return content_forms(view.index(level).vocabulary(), view.language).to_numpy()


def _phrase_counts(view, level: str, in_a, in_b, min_statements: int, notes: list[str]) -> pl.DataFrame:
    """Maximal recurring phrases with a content word: occurrences / statements in A and in B."""
    ix = view.index(level)
    rows = (ix.table("maximal").filter(pl.col("distinct_statements") >= min_statements)
            .select("sa_lo", "freq", "pos", "n").collect())
    ids = np.asarray(ix.array("ids"))
    content = _content_ids(view, level)
    pos, n = rows["pos"].to_numpy().astype(np.int64), rows["n"].to_numpy().astype(np.int64)
    ptok, prow = expand_runs(pos, n)
    has_content = np.bincount(prow, weights=content[ids[ptok]], minlength=len(pos)) > 0
    notes.append(f"{rows.height} maximal recurring phrases in >= {min_statements} statements; "
                 f"{int((~has_content).sum())} of them made of stopwords only, left out")
    rows = rows.filter(pl.Series(has_content))
    n_docs = view.statements.height
    mask_a = np.zeros(n_docs, bool)
    mask_a[in_a] = True
    mask_b = np.zeros(n_docs, bool)
    mask_b[in_b] = True
    counts = np.zeros((4, rows.height))
    # in chunks of about 8 M occurrences, so memory stays bounded on large corpora
    cum = np.cumsum(rows["freq"].to_numpy().astype(np.int64))
    bounds = np.searchsorted(cum, np.arange(0, int(cum[-1]) if len(cum) else 0, 8_000_000), side="right")
    edges = sorted({0, *bounds.tolist(), rows.height})
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        row, doc = occurrence_docs(view, level, rows.slice(lo, hi - lo))
        keep = mask_a[doc] | mask_b[doc]
        row, doc = row[keep], doc[keep]
        pairs = pl.DataFrame({"r": row.astype(np.uint32), "doc": doc.astype(np.uint32)}).unique()
        pr, pd_ = pairs["r"].to_numpy().astype(np.int64), pairs["doc"].to_numpy().astype(np.int64)
        m = hi - lo
        counts[0, lo:hi] = np.bincount(row, weights=mask_a[doc], minlength=m)
        counts[1, lo:hi] = np.bincount(pr, weights=mask_a[pd_], minlength=m)
        counts[2, lo:hi] = np.bincount(row, weights=mask_b[doc], minlength=m)
        counts[3, lo:hi] = np.bincount(pr, weights=mask_b[pd_], minlength=m)
    a_occ, a_st, b_occ, b_st = counts
    names = ix.phrases(rows)
    return pl.DataFrame({"kind": "phrase", "item": names, "label": names,
                         "a_occ": a_occ, "a_st": a_st, "b_occ": b_occ, "b_st": b_st})


def stat_compare(corpus, a: str, b: str, *, store=None, level: str | None = None,
                 lexicon: bool = True, families=None, phrases: bool = True,
                 phrase_min_statements: int = 5, bonferroni: bool = False,
                 min_count: int = 1) -> Result:
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
    ``.params`` records the sizes (tokens, statements) of A and B.
    """
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
    items = items_per_doc(view, level=level, lexicon=lexicon, families=families)
    in_a = items.join(sa.select("doc"), on="doc", how="semi").group_by("kind", "item", "label").agg(
        pl.col("occurrences").sum().alias("a_occ"), pl.len().alias("a_st"))
    in_b = items.join(sb.select("doc"), on="doc", how="semi").group_by("kind", "item", "label").agg(
        pl.col("occurrences").sum().alias("b_occ"), pl.len().alias("b_st"))
    frame = in_a.join(in_b, on=["kind", "item", "label"], how="full", coalesce=True)
    cols = ["kind", "item", "label", "a_occ", "a_st", "b_occ", "b_st"]
    frame = frame.select(cols)
    if phrases:
        ph = _phrase_counts(view, level, sa["doc"].to_numpy(), sb["doc"].to_numpy(),
                            max(2, phrase_min_statements), notes)
        frame = pl.concat([frame.cast({c: pl.Float64 for c in cols[3:]}), ph.select(cols)])
    frame = (frame.with_columns(pl.col("a_occ", "b_occ", "a_st", "b_st").fill_null(0).cast(pl.UInt32))
             .filter((pl.col("a_occ") + pl.col("b_occ")) >= min_count))
    m = frame.height if bonferroni else None
    frame = frame.with_columns((pl.col("a_occ") * 1e4 / ta).alias("a_per_10k"),
                               (pl.col("b_occ") * 1e4 / tb).alias("b_per_10k"))
    frame = stats.stat_keyness(frame, a="a_occ", b="b_occ", size_a=ta, size_b=tb, m=m)
    frame = stats.stat_keyness(frame, a="a_st", b="b_st", size_a=sa.height, size_b=sb.height,
                               prefix="df_", cells=4, m=m)
    frame = frame.with_columns(
        pl.when((pl.col("a_occ") == 0) & (pl.col("b_occ") >= min_count)).then(pl.lit("appeared in B"))
        .when((pl.col("b_occ") == 0) & (pl.col("a_occ") >= min_count)).then(pl.lit("vanished in B"))
        .otherwise(pl.lit("both")).alias("status")
    ).sort(["g2", "kind", "item"], descending=[True, False, False])
    params = {"corpus": view.name, "a": a, "b": b, "level": level, "a_statements": sa.height,
              "b_statements": sb.height, "a_tokens": ta, "b_tokens": tb, "bonferroni": bonferroni,
              "items": frame.height, "phrase_min_statements": phrase_min_statements,
              "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes)


