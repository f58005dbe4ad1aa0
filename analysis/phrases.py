"""Phrases: the phrase-frequency index of a corpus snapshot at one matching level.

:func:`phrases_scan` is the engine. It takes a *form stream* (``doc sent pos start end
form``, see ``tokens.tokens_level``) and the statement table, turns forms into ids
(``id`` = rank of the form in sorted order), builds one suffix array over all tokens
(``suffix.py``) and reads off, without a Python loop over tokens:

* **n-grams** n = 1..``max_n``: every n-gram that occurs in at least ``min_statements``
  distinct statements, with ``freq`` (occurrences), ``statements`` (range),
  ``distinct_statements`` (duplicates across sources counted once), Gries's ``dp`` and,
  for n >= 2, association measures (``g2``, ``log_dice``, ``pmi``);
* **maximal phrases** of any length >= ``min_len``: phrases in at least
  ``min_statements`` distinct statements that are *closed* - every longer phrase
  containing them occurs fewer times - so a 15-word formula is one row, and a
  sub-phrase gets its own row only where it also occurs outside the longer phrase.

Nothing crosses a sentence boundary (paragraph and statement ends are sentence ends).

Per-statement counts are not copied out: an n-gram's occurrences are the contiguous
suffix-array slice ``sa[sa_lo : sa_lo + freq]`` (stored), so
:meth:`PhraseIndex.statement_counts` materialises them for any rows, and
:meth:`PhraseIndex.find` does the same for any phrase of any length.

Association measures of a phrase w1..wn use its two end splits, (w1 | w2..wn) and
(w1..wn-1 | wn), and keep the weaker value of each measure: ``g2`` is Dunning's
log-likelihood of the 2x2 table (``stats.g2_expr`` with ``cells=4``), ``log_dice`` and
``pmi`` as in ``stats``; N = number of tokens. Maximal phrases longer than ``max_n`` have
no association measures (null).

The stored index (``index.py`` layout, see :func:`index_build`) lives in
``<store>/<corpus>/index/<level>/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from . import suffix

ENGINE_VERSION = "1"
DEFAULTS = {"max_n": 8, "min_statements": 2, "min_len": 2}


@dataclass
class Scan:
    """The engine's output: arrays (token stream, suffix array) and tables."""

    vocab: pl.DataFrame  # id, form, freq
    docs: pl.DataFrame  # doc, canon, tokens, first (position of the doc's first token)
    ids: np.ndarray  # uint32 token ids in (doc, pos) order
    start: np.ndarray  # uint32 code-point offsets into the verbatim text
    end: np.ndarray
    sent_starts: np.ndarray  # int64 position of each sentence's first token
    sa: np.ndarray  # int32 suffix array
    ngrams: pl.DataFrame
    maximal: pl.DataFrame
    params: dict = field(default_factory=dict)


def _encode(stream: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    vocab = (
        stream.lazy()
        .group_by("form")
        .agg(pl.len().cast(pl.UInt32).alias("freq"))
        .sort("form")
        .with_row_index("id")
        .collect()
    )
    ids = (
        stream.lazy()
        .select("form")
        .join(vocab.lazy().select("form", "id"), on="form", how="left", maintain_order="left")
        .select("id")
        .collect()
        .to_series()
        .to_numpy()
        .astype(np.uint32)
    )
    return vocab.select("id", "form", "freq"), ids


def _dp(pair_group, pair_doc, pair_count, freq, doc_share, n_groups):
    """Gries's DP over all statements, from the (group, doc, count) pairs only."""
    s = doc_share[pair_doc]
    term = np.abs(pair_count / freq[pair_group] - s)
    return 0.5 * (
        np.bincount(pair_group, weights=term, minlength=n_groups)
        + 1.0
        - np.bincount(pair_group, weights=s, minlength=n_groups)
    )


def _stats(lo, hi, sa, doc_of, canon, doc_share, has_dupes):
    """freq, statements, distinct statements and DP of intervals [lo, hi]."""
    ranks, group = suffix.expand(lo, hi)
    docs = doc_of[sa[ranks]]
    g, d, c = suffix.group_doc_counts(group, docs)
    n = len(lo)
    freq = (hi - lo + 1).astype(np.int64)
    statements = np.bincount(g, minlength=n)
    if has_dupes:
        g2_, _, _ = suffix.group_doc_counts(group, canon[docs])
        distinct = np.bincount(g2_, minlength=n)
    else:
        distinct = statements
    dp = _dp(g, d, c, freq, doc_share, n) if n else np.zeros(0)
    return freq, statements, distinct, dp


def phrases_scan(stream: pl.DataFrame | pl.LazyFrame, docs: pl.DataFrame, *, max_n: int = 8,
                 min_statements: int = 2, min_len: int = 2, progress=None) -> Scan:
    """Count every recurring phrase of a form stream (see the module docstring).

    ``docs`` has one row per statement: ``doc`` (UInt32, 0..D-1 in order) and
    ``canon`` (the doc whose text this one duplicates, else itself).
    ``progress(step: str)`` is called between steps when given.
    """
    say = progress or (lambda step: None)
    if min_statements < 2 or max_n < 1 or min_len < 1:
        raise ValueError("phrases_scan needs min_statements >= 2, max_n >= 1, min_len >= 1")
    if isinstance(stream, pl.LazyFrame):
        stream = stream.collect()
    stream = stream.sort("doc", "pos")
    n_docs = docs.height
    say("encoding forms")
    vocab, ids = _encode(stream)
    doc_of = stream["doc"].to_numpy().astype(np.int64)
    sent = stream["sent"].to_numpy().astype(np.int64)
    key = (doc_of << 32) | sent
    rem = suffix.sentence_rem(key)
    sent_starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1]))) if len(key) else np.zeros(0, np.int64)
    tokens = np.bincount(doc_of, minlength=n_docs).astype(np.int64)
    total = int(tokens.sum())
    doc_share = tokens / total if total else np.zeros(n_docs)
    canon = docs["canon"].to_numpy().astype(np.int64)
    has_dupes = bool((canon != np.arange(n_docs)).any())
    first = np.concatenate(([0], np.cumsum(tokens)[:-1])) if n_docs else np.zeros(0, np.int64)
    docs_out = docs.select("doc", "canon").with_columns(
        pl.Series("tokens", tokens, dtype=pl.UInt32), pl.Series("first", first, dtype=pl.UInt64)
    )

    say("suffix array")
    sa, cl = suffix.suffix_array(ids, sent_starts)
    cl = suffix.lcp_capped(cl, sa, rem)
    at_start = np.zeros(len(ids), bool)
    at_start[sent_starts] = True
    lcs = suffix.left_diverse_prefix(ids, sa, at_start)

    say("n-grams")
    ng_parts, mx_parts = [], []
    freq_prev = None  # per position: freq of the (n-1)-gram starting there (0 = none)
    freq_uni = None
    active = np.flatnonzero(cl >= 1)
    n = 1
    while len(active):
        lo, hi, rmin = suffix.runs(active, cl)
        closed = (rmin == n) & ((lcs[hi] - lcs[lo]) > 0)
        if n <= max_n:
            keep = (hi - lo + 1) >= min_statements
            lo_k, hi_k = lo[keep], hi[keep]
            freq, st, dist, dp = _stats(lo_k, hi_k, sa, doc_of, canon, doc_share, has_dupes)
            ok = dist >= min_statements
            lo_k, hi_k, freq, st, dist, dp = lo_k[ok], hi_k[ok], freq[ok], st[ok], dist[ok], dp[ok]
            pos = sa[lo_k].astype(np.int64)
            frame = {
                "n": np.full(len(lo_k), n, np.uint8), "freq": freq, "statements": st,
                "distinct_statements": dist, "dp": dp, "sa_lo": lo_k, "pos": pos,
            }
            # association: weaker of the two end splits
            if n >= 2:
                f_pre = freq_prev[pos]          # w1..wn-1
                f_suf = freq_prev[pos + 1]      # w2..wn
                f_first = freq_uni[pos]
                f_last = freq_uni[pos + n - 1]
                frame.update(f_a1=f_first, f_b1=f_suf, f_a2=f_pre, f_b2=f_last)
            ng_parts.append(pl.DataFrame(frame))
            # per-position frequency of this n-gram, for the next n's association
            ranks, group = suffix.expand(lo_k, hi_k)
            fp = np.zeros(len(ids), np.uint32)
            fp[sa[ranks]] = freq[group]
            if n == 1:
                freq_uni = fp
            freq_prev = fp
            cm = closed[keep][ok] & (n >= min_len)
            if cm.any():
                mx_parts.append(pl.DataFrame({"n": np.full(int(cm.sum()), n, np.int64), "sa_lo": lo_k[cm]}))
        else:
            cm = closed & ((hi - lo + 1) >= min_statements) & (n >= min_len)
            if cm.any():
                lo_c, hi_c = lo[cm], hi[cm]
                freq, st, dist, dp = _stats(lo_c, hi_c, sa, doc_of, canon, doc_share, has_dupes)
                ok = dist >= min_statements
                if ok.any():
                    mx_parts.append(pl.DataFrame({
                        "n": np.full(int(ok.sum()), n, np.int64), "sa_lo": lo_c[ok], "freq": freq[ok],
                        "statements": st[ok], "distinct_statements": dist[ok], "dp": dp[ok],
                        "pos": sa[lo_c[ok]].astype(np.int64),
                    }))
        active = active[cl[active] > n]
        if len(active) == 0:
            break
        n = n + 1 if n < max_n else int(cl[active].min())

    say("tables")
    ngrams = _ngram_table(ng_parts, total)
    maximal = _maximal_table(mx_parts, ngrams)
    params = {"max_n": max_n, "min_statements": min_statements, "min_len": min_len}
    return Scan(vocab=vocab, docs=docs_out, ids=ids,
                start=stream["start"].to_numpy().astype(np.uint32),
                end=stream["end"].to_numpy().astype(np.uint32),
                sent_starts=sent_starts.astype(np.int64), sa=sa, ngrams=ngrams, maximal=maximal,
                params=params)


NGRAM_SCHEMA = {
    "gram": pl.UInt32, "n": pl.UInt8, "freq": pl.UInt32, "statements": pl.UInt32,
    "distinct_statements": pl.UInt32, "dp": pl.Float64, "g2": pl.Float64,
    "log_dice": pl.Float64, "pmi": pl.Float64, "sa_lo": pl.UInt32, "pos": pl.UInt32,
}
MAXIMAL_SCHEMA = {k: v for k, v in NGRAM_SCHEMA.items() if k != "gram"} | {"n": pl.UInt32}


def _ngram_table(parts: list[pl.DataFrame], total: int) -> pl.DataFrame:
    from .stats import g2_expr, log_dice_expr, pmi_expr

    if not parts:
        return pl.DataFrame(schema=NGRAM_SCHEMA)
    frame = pl.concat(parts, how="diagonal_relaxed")
    for col in ("f_a1", "f_b1", "f_a2", "f_b2"):
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Int64).alias(col))
    big_n = float(max(total, 1))

    def measures(fa: str, fb: str) -> list[pl.Expr]:
        return [
            g2_expr("freq", pl.col(fb) - pl.col("freq"), fa, big_n - pl.col(fa), cells=4),
            log_dice_expr("freq", fa, fb),
            pmi_expr("freq", fa, fb, big_n),
        ]

    m1, m2 = measures("f_a1", "f_b1"), measures("f_a2", "f_b2")
    multi = pl.col("n") >= 2
    frame = frame.with_columns(
        pl.when(multi).then(pl.min_horizontal(m1[0], m2[0])).alias("g2"),
        pl.when(multi).then(pl.min_horizontal(m1[1], m2[1])).alias("log_dice"),
        pl.when(multi).then(pl.min_horizontal(m1[2], m2[2])).alias("pmi"),
    )
    frame = frame.sort("n", "sa_lo").with_row_index("gram")
    return frame.select([pl.col(c).cast(t) for c, t in NGRAM_SCHEMA.items()])


def _maximal_table(parts: list[pl.DataFrame], ngrams: pl.DataFrame) -> pl.DataFrame:
    if not parts:
        return pl.DataFrame(schema=MAXIMAL_SCHEMA)
    short = [p for p in parts if "freq" not in p.columns]
    long = [p for p in parts if "freq" in p.columns]
    frames = []
    if short:
        keys = pl.concat(short).with_columns(pl.col("n").cast(pl.UInt8), pl.col("sa_lo").cast(pl.UInt32))
        frames.append(keys.join(ngrams.drop("gram"), on=["n", "sa_lo"], how="left"))
    if long:
        frames.append(pl.concat(long, how="diagonal_relaxed"))
    out = pl.concat([f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                               for c, t in MAXIMAL_SCHEMA.items()]) for f in frames])
    return out.sort(["distinct_statements", "n", "freq", "sa_lo"], descending=[True, True, True, False])


def phrase_strings(ids: np.ndarray, vocab_forms: pl.Series, pos: np.ndarray, n: np.ndarray) -> pl.Series:
    """Phrase strings (forms joined by single spaces) for rows given by start position and length."""
    pos = np.asarray(pos, np.int64)
    n = np.asarray(n, np.int64)
    if len(pos) == 0:
        return pl.Series("phrase", [], dtype=pl.String)
    offsets = np.cumsum(n) - n
    row = np.repeat(np.arange(len(pos)), n)
    tok_pos = np.arange(int(n.sum())) - offsets[row] + pos[row]
    forms = vocab_forms.gather(np.asarray(ids[tok_pos], np.int64))
    return (
        pl.DataFrame({"row": row, "form": forms})
        .group_by("row", maintain_order=True)
        .agg(pl.col("form").str.join(" "))
        .get_column("form")
        .alias("phrase")
    )
