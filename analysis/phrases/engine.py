"""The phrase engine: a form stream in, n-gram and maximal-phrase tables out (one suffix array).

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
log-likelihood of the 2x2 table, **signed** (``measures.g2_signed_expr``, ``cells=4``):
positive where the two parts occur together more often than expected (f_a f_b / N),
negative where they repel (``the the``, ``the of``), so the weaker split of a phrase with
one repelling split is negative and a ranking by ``g2`` never puts a repelling pair above
an attracting one. ``pmi`` as in ``measures`` (negative where a split repels);
``log_dice`` as in ``measures`` where both splits attract (pmi > 0), else null (logDice
has no sign, so a repelling pair would otherwise get a value); N = number of tokens. Maximal phrases longer than ``max_n`` have
no association measures (null).

The stored index (``index.py`` layout, see :func:`index_build`) lives in
``<store>/<corpus>/index/<level>/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import suffix
from .groups import group_stats, ngram_pass
from .suffix import ENGINE_VERSION  # noqa: F401  (re-exported: the version of what this engine writes)

DEFAULTS = {"max_n": 8, "min_statements": 2, "min_len": 2}
TABLE_ROW_GROUP = 1 << 18  # rows of a row group of the stored ngrams/maximal tables
# how the ngrams/maximal tables are written (table_write): uncompressed up to TABLE_RAW_TOKENS
# tokens (ungdc's two tables in 1.6 CPU-s where zstd level 1 took 3.6, its default level 5.1,
# for files of 678 MB against 459 and 418), zstd level 1 beyond, where the files are large and
# the time the same (10x ungdc's tables step: 26.9 s both ways, single runs; 6.8 GB uncompressed)
TABLE_WRITE_RAW = {"row_group_size": TABLE_ROW_GROUP, "compression": "uncompressed"}
TABLE_WRITE = TABLE_WRITE_RAW | {"compression": "zstd", "compression_level": 1}
TABLE_RAW_TOKENS = 128 << 20
# Bounds that keep every step linear in the number of tokens on pathological input (a
# scraped page or OCR dump: megabytes of repetitive text without a sentence mark):
SENTENCE_MAX = 1000  # a longer sentence is counted as chunks of this many tokens
EXPAND_BATCH = 1 << 22  # long-phrase ranks expanded at a time (memory bound)
EXPAND_PER_TOKEN = 8  # long-phrase ranks expanded in all, per token (+ EXPAND_BATCH): time bound


def table_write(total: int) -> dict:
    """``write_parquet``'s options for the tables of a corpus of ``total`` tokens."""
    return TABLE_WRITE if total > TABLE_RAW_TOKENS else TABLE_WRITE_RAW


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
    sentences_split: int = 0  # sentences longer than SENTENCE_MAX tokens, counted as chunks
    long_skipped: int = 0  # long-phrase candidates left out by the expansion bound
    tables: dict | None = None  # ngrams/maximal written to tables["folder"] by pieces (then empty here)


def sentence_chunks(starts: np.ndarray, n: int, limit: int | None = None) -> tuple[np.ndarray, int]:
    """Sentence starts with every sentence longer than ``limit`` (default ``SENTENCE_MAX``)
    tokens cut into chunks of ``limit`` (the last one shorter); and the number of sentences cut."""
    limit = limit or SENTENCE_MAX
    starts = np.asarray(starts, np.int64)
    if len(starts) == 0:
        return starts, 0
    length = np.diff(np.append(starts, n))
    extra = np.maximum(length - 1, 0) // limit
    n_split = int((extra > 0).sum())
    if n_split == 0:
        return starts, 0
    cuts, _ = suffix.expand_runs(np.zeros(len(starts), np.int64), extra + 1)  # 0..extra per sentence
    return np.repeat(starts, extra + 1) + cuts * limit, n_split


@dataclass
class Encoded:
    """A form stream with its forms already ids (:func:`stream_encode`, or merged shards).

    ``vocab`` is the sorted distinct forms (a String Series named ``form``): ``ids[i]`` is
    the rank of token i's form in it. The other arrays are the stream's columns, in
    (doc, pos) order.
    """

    vocab: pl.Series
    ids: np.ndarray  # uint32
    doc: np.ndarray
    sent: np.ndarray
    start: np.ndarray
    end: np.ndarray
    suffix: tuple[np.ndarray, np.ndarray | None] | None = None  # (sa, cl) when already known (merged shards)
    tables: dict | None = None  # the tables already written by pieces (shards._tables's answer)
    # merged into files shard by shard (streams.shards_merge_stream(into=...)): the arrays are
    # read-only memory maps of ``staged``/<name>.npy, never read whole here, and what is
    # needed of them was counted shard by shard
    staged: str | None = None
    counts: np.ndarray | None = None  # tokens of each form
    starts: np.ndarray | None = None  # sentence starts (sentence_starts) and the sentences cut
    n_split: int = 0
    doc_tokens: np.ndarray | None = None  # tokens of each statement
    maps: list[np.ndarray] | None = None  # each shard's local form id -> global id (merged shards)


def sentence_starts(doc: np.ndarray, sent: np.ndarray) -> tuple[np.ndarray, int]:
    """First position of every sentence of a (doc, pos)-sorted stream, long sentences cut
    into chunks (:func:`sentence_chunks`); and the number of sentences cut."""
    if not len(doc):
        return np.zeros(0, np.int64), 0
    starts = np.flatnonzero(np.concatenate(([True], (doc[1:] != doc[:-1]) | (sent[1:] != sent[:-1]))))
    return sentence_chunks(starts, len(doc))


def forms_encode(forms: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """(sorted distinct forms, uint32 id of every form): the one definition of token ids."""
    vocab = forms.unique().sort()
    ids = forms.cast(pl.Enum(vocab)).to_physical().to_numpy().astype(np.uint32, copy=False)
    return vocab, ids


def stream_encode(stream: pl.DataFrame) -> Encoded:
    """A (doc, pos)-sorted form stream as :class:`Encoded`."""
    vocab, ids = forms_encode(stream["form"])
    return Encoded(vocab=vocab, ids=ids, doc=stream["doc"].to_numpy(), sent=stream["sent"].to_numpy(),
                   start=stream["start"].to_numpy(), end=stream["end"].to_numpy())


def _vocab_table(vocab: pl.Series, ids: np.ndarray, counts: np.ndarray | None = None) -> pl.DataFrame:
    freq = (np.bincount(ids, minlength=len(vocab)) if counts is None else counts).astype(np.uint32)
    return pl.DataFrame({"id": np.arange(len(vocab), dtype=np.uint32), "form": vocab.alias("form"), "freq": freq})


def has_duplicates(canon: np.ndarray) -> bool:
    """Whether any statement duplicates another (``canon``: the statement each one's text
    first appeared in, else itself)."""
    return bool((canon != np.arange(len(canon))).any())


def doc_weights(doc_of: np.ndarray, n_docs: int, tokens: np.ndarray | None = None) -> np.ndarray:
    """Tokens of every statement (int64; counted from ``doc_of`` unless given): DP's
    statement sizes (``groups.dp_exact``)."""
    return (np.bincount(doc_of, minlength=n_docs) if tokens is None else tokens).astype(np.int64)


def pos_sorted(stream: pl.DataFrame) -> bool:
    doc, pos = stream["doc"].to_numpy(), stream["pos"].to_numpy()
    return bool(((doc[1:] > doc[:-1]) | ((doc[1:] == doc[:-1]) & (pos[1:] > pos[:-1]))).all()) if len(doc) > 1 else True


def phrases_scan(stream: pl.DataFrame | pl.LazyFrame | Encoded, docs: pl.DataFrame, *, max_n: int = 8,
                 min_statements: int = 2, min_len: int = 2, progress=None) -> Scan:
    """Count every recurring phrase of a form stream (see the module docstring).

    ``docs`` has one row per statement: ``doc`` (UInt32, 0..D-1 in order) and
    ``canon`` (the doc whose text this one duplicates, else itself).
    ``progress(step: str)`` is called between steps when given.

    1. encode the forms as ids and mark sentence starts (long sentences chunked); 2. the
    suffix array, its capped LCPs and left-diverse prefixes; 3. n-grams n = 1..``max_n``
    (:func:`_ngram_passes`); 4. maximal phrases longer than ``max_n``
    (:func:`_long_phrases`); 5. the tables.
    """
    say = progress or (lambda step: None)
    if min_statements < 2 or max_n < 1 or min_len < 1:
        raise ValueError("phrases_scan needs min_statements >= 2, max_n >= 1, min_len >= 1")
    if isinstance(stream, dict):  # {"stream": frame}: the caller hands over its only reference
        stream = stream.pop("stream")
    if isinstance(stream, pl.LazyFrame):
        stream = stream.collect()
    if not isinstance(stream, Encoded):
        if not (stream["doc"].is_sorted() and pos_sorted(stream)):
            stream = stream.sort("doc", "pos")
        say("encoding forms")
        stream = stream_encode(stream)
    n_docs = docs.height
    ids, doc_of = stream.ids, stream.doc
    vocab = _vocab_table(stream.vocab, ids, stream.counts)
    if stream.starts is not None:  # counted shard by shard (a staged stream)
        sent_starts, n_split = stream.starts, stream.n_split
    else:
        sent_starts, n_split = sentence_starts(doc_of, stream.sent)
    start = stream.start.astype(np.uint32, copy=False)  # a staged memory map stays one
    end = stream.end.astype(np.uint32, copy=False)
    stream_sa, tables, doc_tokens = stream.suffix, stream.tables, stream.doc_tokens
    del stream  # the forms are ids now: free the strings before the suffix array
    tokens = doc_weights(doc_of, n_docs, doc_tokens)
    total = int(tokens.sum())
    canon = docs["canon"].to_numpy().astype(np.int32)
    has_dupes = has_duplicates(canon)
    first = np.concatenate(([0], np.cumsum(tokens)[:-1])) if n_docs else np.zeros(0, np.int64)
    docs_out = docs.select("doc", "canon").with_columns(
        pl.Series("tokens", tokens, dtype=pl.UInt32), pl.Series("first", first, dtype=pl.UInt64)
    )

    params = {"max_n": max_n, "min_statements": min_statements, "min_len": min_len}
    if tables is not None and stream_sa is not None:  # counted and written piece by piece (tables.tables_run)
        return Scan(vocab=vocab, docs=docs_out, ids=ids, start=start, end=end,
                    sent_starts=sent_starts.astype(np.int64), sa=stream_sa[0], ngrams=pl.DataFrame(schema=NGRAM_SCHEMA),
                    maximal=pl.DataFrame(schema=MAXIMAL_SCHEMA), params=params, sentences_split=n_split,
                    long_skipped=int(tables["long_skipped"]), tables=tables)
    doc_of = doc_of.astype(np.int32)
    say("suffix array")
    if stream_sa is None:
        sa, cl = suffix.suffix_array(ids, sent_starts)
    else:  # merged from the shards' suffix arrays (suffix.sa_merge): the same order and LCPs
        sa, merged_cl = stream_sa
        cl = merged_cl if merged_cl is not None else suffix.suffix_array(ids, sent_starts)[1]
    at_start = np.zeros(len(ids), bool)
    at_start[sent_starts] = True
    lcs = suffix.left_diverse_prefix(ids, sa, at_start)
    doc_sa = doc_of[sa]
    del at_start, doc_of

    say("n-grams")
    ng_parts, mx_parts = _ngram_passes(ids, sa, cl, lcs, doc_sa, canon, tokens, has_dupes, total,
                                       max_n=max_n, min_statements=min_statements, min_len=min_len)

    say("long phrases")
    long_part, long_skipped = _long_phrases(cl, sa, lcs, doc_sa, canon, tokens, has_dupes,
                                            max_n=max_n, min_statements=min_statements, min_len=min_len)

    say("tables")
    ngrams = ngram_table(ng_parts)
    maximal = maximal_table([ngrams[np.concatenate(mx_parts)]] if mx_parts else [], long_part)
    return Scan(vocab=vocab, docs=docs_out, ids=ids,
                start=start, end=end,
                sent_starts=sent_starts.astype(np.int64), sa=sa, ngrams=ngrams, maximal=maximal,
                params=params, sentences_split=n_split, long_skipped=long_skipped)


def _ngram_passes(ids, sa, cl, lcs, doc_sa, canon, doc_tokens, has_dupes, total: int, *, max_n: int,
                  min_statements: int, min_len: int) -> tuple[list[pl.DataFrame], list[np.ndarray]]:
    """The n-gram table's parts for n = 1..``max_n`` and, per n, the rows that are maximal
    (closed) phrases. One pass per n over the suffix array (:func:`groups.ngram_pass`)."""
    ng_parts, mx_parts = [], []
    # per position: freq of the (n-1)-gram / word starting there (set by the n = 1 pass)
    freq_prev = freq_uni = np.zeros(0, np.uint32)
    offset = 0  # rows of the n-gram table so far
    big_n = float(max(total, 1))
    for n in range(1, max_n + 1):
        got = ngram_pass(n, cl, lcs, doc_sa, canon, doc_tokens, has_dupes, min_statements, min_len,
                         ranks=n < max_n)
        if got is None:
            break
        ranks, gid, lo, freq, st, dist, dp, closed, ok = got
        del got
        pos = sa[lo].astype(np.int64)
        frame = {"n": np.full(len(lo), n, np.uint8), "freq": freq, "statements": st,
                 "distinct_statements": dist, "dp": dp, "sa_lo": lo, "pos": pos}
        if n >= 2:  # association: the two end splits (w1 | w2..wn) and (w1..wn-1 | wn)
            frame.update(f_a1=freq_uni[pos], f_b1=freq_prev[pos + 1],
                         f_a2=freq_prev[pos], f_b2=freq_uni[pos + n - 1])
        part = ngram_part(pl.DataFrame(frame).filter(pl.Series(ok)), n, big_n)
        del frame
        ng_parts.append(part)
        if (closed & ok).any():
            rows = offset + np.cumsum(ok)[closed & ok] - 1
            mx_parts.append(rows)
        offset += part.height
        if n < max_n:  # the next n needs the freq of the n-gram starting at each position
            fp = np.zeros(len(ids), np.uint32)
            if ok.all():
                fp[sa[ranks]] = freq[gid]
            else:
                okr = ok[gid]
                fp[sa[ranks[okr]]] = freq[gid[okr]]
                del okr
            if n == 1:
                freq_uni = fp
            freq_prev = fp
            del fp
        del ranks, gid, lo, freq, st, dist, dp, pos, part
    del freq_prev, freq_uni
    return ng_parts, mx_parts


def _long_candidates(cl, sa, lcs, doc_sa, *, max_n: int, min_statements: int, min_len: int):
    """(lo, hi, h) of the closed lcp-intervals with h > ``max_n`` that can be in two
    statements, shortest phrases first (then by rank)."""
    tail = np.flatnonzero(cl > max_n)
    lo, hi, h = suffix.lcp_intervals(tail, cl)
    del tail
    doc_change = np.zeros(len(sa), np.int32)
    if len(sa) > 1:
        doc_change[1:] = doc_sa[1:] != doc_sa[:-1]
    doc_change = np.cumsum(doc_change, dtype=np.int32)
    cm = (((hi - lo + 1) >= min_statements) & ((lcs[hi] - lcs[lo]) > 0) & (h >= min_len)
          & ((doc_change[hi] - doc_change[lo]) > 0))  # spans two statements at least
    del doc_change
    lo, hi, h = lo[cm], hi[cm], h[cm]
    order = np.lexsort((lo, h))  # shortest phrases first
    return lo[order], hi[order], h[order]


def _long_phrases(cl, sa, lcs, doc_sa, canon, doc_tokens, has_dupes, *, max_n: int,
                  min_statements: int, min_len: int, budget: int | None = None,
                  cands: tuple | None = None) -> tuple[pl.DataFrame | None, int]:
    """Maximal phrases longer than ``max_n``: the closed lcp-intervals with h > max_n.

    Their statistics need every rank of every interval, and nested intervals of repetitive
    text hold O(tokens x sentence length) ranks in all, so: an interval whose ranks all
    belong to one statement is dropped first (it cannot be in 2 statements; an O(1) test
    on prefix sums); the rest are expanded ``EXPAND_BATCH`` ranks at a time, shortest
    phrases first, up to ``budget`` ranks in all (default ``EXPAND_PER_TOKEN`` per token
    plus ``EXPAND_BATCH``). Returns the rows and the number of candidates left out by that
    bound (0 on ordinary text). ``cands``: :func:`_long_candidates`, when already known."""
    lo, hi, h = cands or _long_candidates(cl, sa, lcs, doc_sa, max_n=max_n, min_statements=min_statements,
                                          min_len=min_len)
    if not len(lo):
        return None, 0
    size = np.cumsum(hi - lo + 1)
    if budget is None:
        budget = EXPAND_PER_TOKEN * len(sa) + EXPAND_BATCH
    fits = int(np.searchsorted(size, budget, side="right"))
    skipped = len(lo) - fits
    lo, hi, h, size = lo[:fits], hi[:fits], h[:fits], size[:fits]
    parts = []
    batch = size // EXPAND_BATCH
    for b in np.unique(batch).tolist():
        sel = np.flatnonzero(batch == b)
        ranks, group = suffix.expand(lo[sel], hi[sel])
        freq, st, dist, dp = group_stats(ranks, group, len(sel), doc_sa, canon, doc_tokens, has_dupes)
        del ranks, group
        ok = dist >= min_statements
        parts.append(pl.DataFrame({
            "n": h[sel][ok], "sa_lo": lo[sel][ok], "freq": freq[ok], "statements": st[ok],
            "distinct_statements": dist[ok], "dp": dp[ok], "pos": sa[lo[sel][ok]].astype(np.int64),
        }))
    out = pl.concat(parts).sort("sa_lo", "n") if parts else None
    return out, skipped


def piece_scan(sa: np.ndarray, cl: np.ndarray, word_at: Callable[[np.ndarray, int], np.ndarray], prev: np.ndarray,
               doc_sa: np.ndarray, ctx: dict, out: Path, piece: int, offset: int, word: int | None = None
               ) -> list[int]:
    """The n-gram passes and long phrases of one piece of the merged suffix array (ranks
    ``offset..``; a piece covers whole first tokens, or one part of a word's, ``word``
    below, so every n-gram group and lcp-interval of n >= 2 lies inside one), written to
    ``out`` for :mod:`analysis.phrases.tables`.

    ``word_at(ranks, k)``: the k-th word of those ranks' suffixes (k below the words left in
    the sentence and ``max_n``); ``prev`` and ``doc_sa`` the left neighbour (-1 at a
    sentence start) and the statement of every rank; ``ctx`` the small corpus-wide arrays
    (``canon``, ``doc_tokens``, unigram ``counts``) and
    ``total``, ``max_n``, ``min_statements``, ``min_len``. Everything of a row is local but
    ``f_b1`` for n >= 3, the freq of its last n-1 tokens (another piece's row), which the
    tables find by the rank of the suffix after ``pos``
    (:func:`analysis.phrases.tables.level_table`). A kept n-gram's parts are kept (they are
    in as many statements at least), so ``f_a1``/``f_b2`` (and ``f_b1`` for bigrams) are
    unigram counts and ``f_a2`` is the (n-1)-gram group holding rank lo.

    Returns the rows it wrote of each n (from 1), so that the tables know every level's
    ``gram`` offset of n >= 2 without reading the files again.

    ``word``: the piece is one part of a word's suffixes split by their second token (a word
    too frequent for one piece; every n-gram of n >= 2 still lies in one part). Its one-word
    row then needs all parts: the part writes what the row is made of (``uni<piece>.npz``:
    the statement of every rank, its first position and the left neighbours at both ends,
    for :func:`analysis.phrases.tables.level_table`), and the word's freq (its unigram
    count) stands for the group's wherever a longer n-gram needs it.
    """
    p = sa.astype(np.int64, copy=False)
    lcs = suffix.left_diverse(prev)
    canon, tokens, counts = ctx["canon"], ctx["doc_tokens"], ctx["counts"]
    has_dupes = has_duplicates(canon)
    max_n, ms, ml = ctx["max_n"], ctx["min_statements"], ctx["min_len"]
    # the previous pass's kept groups, first ranks and sizes (f_a2); none before a split word's bigrams
    kept_lo: np.ndarray | None = None
    kept_freq = np.zeros(0, np.int64)
    if word is not None:  # the one-word row is made from every part's (tables.level_table)
        np.savez(out / f"uni{piece}.npz", word=word, lo=offset, docs=doc_sa, pos0=p[0], prev_ends=prev[[0, -1]],
                 diverse=lcs[-1] > lcs[0])
    del prev
    rows_of = [0] * max_n
    for n in range(1 if word is None else 2, max_n + 1):
        got = ngram_pass(n, cl, lcs, doc_sa, canon, tokens, has_dupes, ms, ml, ranks=False)
        if got is None:
            break
        ranks, gid, lo, freq, st, dist, dp, closed, ok = got
        lo, pos = lo[ok], p[lo[ok]]  # the kept rows
        frame = {"n": np.full(len(lo), n, np.uint8), "freq": freq[ok], "statements": st[ok],
                 "distinct_statements": dist[ok], "dp": dp[ok], "sa_lo": lo + offset, "pos": pos, "mx": closed[ok]}
        if n >= 2:
            last = counts[word_at(lo, n - 1)].astype(np.uint32)
            # f_a2: the size of the (n-1)-gram group holding rank lo, a kept one (in as many statements at
            # least); a split word's bigrams: the word's count
            f_a2 = (np.full(len(lo), counts[word], np.uint32) if kept_lo is None
                    else kept_freq[np.searchsorted(kept_lo, lo, side="right") - 1].astype(np.uint32))
            frame.update(f_a1=counts[word_at(lo, 0)].astype(np.uint32), f_a2=f_a2, f_b2=last)
            if n == 2:
                frame["f_b1"] = last
        pl.DataFrame(frame).write_ipc(out / f"ng{piece}_{n}.arrow")
        rows_of[n - 1] = len(lo)
        kept_lo, kept_freq = lo, frame["freq"]
        del got, ranks, gid, freq, st, dist, dp, closed, ok, frame
    lo, hi, h = cands = _long_candidates(cl, p, lcs, doc_sa, max_n=max_n, min_statements=ms, min_len=ml)
    np.save(out / f"cand{piece}.npy", np.stack([h, lo + offset, hi - lo + 1]))
    # at most the whole text's budget here: that holds every candidate the global cut keeps
    rows, _ = _long_phrases(cl, p, lcs, doc_sa, canon, tokens, has_dupes, max_n=max_n, min_statements=ms,
                            min_len=ml, budget=EXPAND_PER_TOKEN * ctx["total"] + EXPAND_BATCH, cands=cands)
    if rows is not None:
        rows.with_columns(pl.col("sa_lo") + offset).write_ipc(out / f"long{piece}.arrow")
    return rows_of


NGRAM_SCHEMA = {
    "gram": pl.UInt32, "n": pl.UInt8, "freq": pl.UInt32, "statements": pl.UInt32,
    "distinct_statements": pl.UInt32, "dp": pl.Float64, "g2": pl.Float64,
    "log_dice": pl.Float64, "pmi": pl.Float64, "sa_lo": pl.UInt32, "pos": pl.UInt32,
}
MAXIMAL_SCHEMA = {k: v for k, v in NGRAM_SCHEMA.items() if k != "gram"} | {"n": pl.UInt32}


def ngram_part(frame: pl.DataFrame, n: int, big_n: float) -> pl.DataFrame:
    """One n's rows with their association measures, in the final dtypes (minus ``gram``):
    signed G² (four cells), PMI and logDice of the two end splits (w1 | w2..wn and
    w1..wn-1 | wn: the columns ``f_a1``/``f_b1`` and ``f_a2``/``f_b2``), each the smaller
    of the two; logDice only where the PMI is above 0 (it has no sign of its own).

    From ``GROUPED_LEAST`` rows on, one compiled pass (:func:`_measures_loop`) does what
    the polars expressions of :mod:`analysis.measures` do, in their order of operations, so
    the values are equal bit for bit (tested): ungdc's 2.3 M rows of level 4 in a worker,
    0.59 -> 0.19 s. Below, the expressions, lazy (their shared subexpressions computed once)."""
    from ..measures import g2_signed_expr, log_dice_expr, pmi_expr

    def measures(fa: str, fb: str) -> list[pl.Expr]:
        return [
            g2_signed_expr("freq", pl.col(fb) - pl.col("freq"), fa, big_n - pl.col(fa), cells=4),
            log_dice_expr("freq", fa, fb),
            pmi_expr("freq", fa, fb, big_n),
        ]

    lazy = frame.lazy()
    if n >= 2 and frame.height >= suffix.GROUPED_LEAST:
        out = tuple(np.empty(frame.height) for _ in range(3))
        suffix.compiled(_measures_loop)(*(frame[c].to_numpy() for c in ("freq", "f_a1", "f_b1", "f_a2", "f_b2")),
                                        float(big_n), *out)
        lazy = lazy.with_columns(pl.Series(name, col, pl.Float64, nan_to_null=True)
                                 for name, col in zip(("g2", "pmi", "log_dice"), out, strict=True))
    elif n >= 2:
        m1, m2 = measures("f_a1", "f_b1"), measures("f_a2", "f_b2")
        lazy = lazy.with_columns(
            pl.min_horizontal(m1[0], m2[0]).alias("g2"),
            pl.min_horizontal(m1[2], m2[2]).alias("pmi"),
        ).with_columns(  # logDice only where both splits attract (it has no sign of its own)
            pl.when(pl.col("pmi") > 0).then(pl.min_horizontal(m1[1], m2[1])).alias("log_dice"),
        )
    else:
        lazy = lazy.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("g2", "log_dice", "pmi"))
    return lazy.select([pl.col(c).cast(t) for c, t in NGRAM_SCHEMA.items() if c != "gram"]).collect()


def _measures_loop(freq, f_a1, f_b1, f_a2, f_b2, big_n, g2, pmi, log_dice):  # pragma: no cover - numba
    """:func:`ngram_part`'s measures, compiled: ``g2_signed_expr`` (four cells),
    ``pmi_expr`` and ``log_dice_expr`` of both splits as their expressions compute them:
    the same operations in the same order, logarithms to base 2 as ln(x) / ln(2) (polars's
    ``log(2)``), ``max_horizontal`` and ``min_horizontal`` giving the second of two equal
    values. NaN for null (PMI and logDice where the freq is 0, logDice where the PMI is not
    above 0)."""
    ln2 = np.log(2.0)
    for i in range(len(freq)):
        a = float(freq[i])
        g = 0.0
        p = np.nan
        d = np.nan
        for k in range(2):
            fa = float(f_a1[i]) if k == 0 else float(f_a2[i])
            fb = float(f_b1[i]) if k == 0 else float(f_b2[i])
            b, c = fb - a, fa
            dd = big_n - fa
            v = 0.0
            if c > 0 and dd > 0 and a + b > 0:  # g2_expr's valid cells (its terms are finite there)
                nn = c + dd
                e1, e2 = c * (a + b) / nn, dd * (a + b) / nn
                t = (a * np.log(a / e1) if a > 0 else 0.0) + (b * np.log(b / e2) if b > 0 else 0.0)
                rest = nn - a - b
                if rest > 0:
                    ra, rb, ea, eb = c - a, dd - b, c * rest / nn, dd * rest / nn
                    t = t + ((ra * np.log(ra / ea) if ra > 0 else 0.0) + (rb * np.log(rb / eb) if rb > 0 else 0.0))
                else:
                    t = t + 0.0
                v = 2.0 * t if 2.0 * t > 0.0 else 0.0
            v = v if a > c * (a + b) / (c + dd) or v == 0.0 else -v  # no -0.0
            g = v if k == 0 or v <= g else g  # min_horizontal: the second of two equal
            if a > 0:
                pk = np.log(a * big_n / (fa * fb)) / ln2
                dk = 14.0 + np.log(2.0 * a / (fa + fb)) / ln2
                p = pk if k == 0 or pk <= p else p
                d = dk if k == 0 or dk <= d else d
        g2[i] = g
        pmi[i] = p
        log_dice[i] = d if p > 0 else np.nan


def ngram_table(parts: list[pl.DataFrame], offset: int = 0) -> pl.DataFrame:
    """The n-gram table from its parts (one a length, in order) with the ``gram`` row index
    (from ``offset``: the rows of the levels before, for a part of the table)."""
    if not parts:
        return pl.DataFrame(schema=NGRAM_SCHEMA)
    frame = pl.concat(parts, rechunk=False).with_row_index("gram", offset=offset)  # parts come in (n, sa_lo) order
    return frame.select([pl.col(c).cast(t) for c, t in NGRAM_SCHEMA.items()])


def maximal_table(short: list[pl.DataFrame], long_part: pl.DataFrame | None) -> pl.DataFrame:
    """The maximal table: its n-gram rows (``short``, in the n-gram table's order, in any
    number of parts), then the long phrases ``long_part``."""
    frames = [f for f in short if f.height]
    if long_part is not None and long_part.height:
        frames.append(long_part)
    if not frames:
        return pl.DataFrame(schema=MAXIMAL_SCHEMA)
    out = pl.concat([f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                               for c, t in MAXIMAL_SCHEMA.items()]) for f in frames])
    return out  # n <= max_n in (n, sa_lo) order, then longer ones in sa_lo order; queries sort
