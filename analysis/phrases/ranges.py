"""Counts over ranges of a stored suffix array, by statement: what a comparison, the
candidates and the phrase table by period ask of the index's recurring phrases.

A phrase of the index's tables is a range of its suffix array (``sa_lo``, ``freq``):
its occurrences are the suffixes ranked there. :func:`rank_docs` gives every rank its
statement once; :func:`side_counts` then counts, for each range, the occurrences and
the distinct statements in two sets of statements (A and B) in one compiled pass over
the ranges, reading the ranks in order. (``formulae compare`` on ungdc, 1.8 M phrases
and 61 M occurrences: the pass 0.3 s, the statements of the ranks 0.26 s; expanding every
occurrence and making its (phrase, statement) pairs unique took about 7 s more, the
whole command 10.6 s and 2.9 GB against 3.8 s and 1.7 GB.) :func:`range_occurrences`
lists the occurrences of ranges (``formulae candidates``) and which lie inside a longer one;
:func:`range_periods` counts ranges' occurrences and statements by period (``formulae
phrases --by``), in numpy alone.

Query code, apart from the modules an index is made by (:data:`analysis.phrases.index.CODE`):
a change here rebuilds no stored index.
"""

from __future__ import annotations

import numpy as np

from .suffix import compiled, expand_runs

SIDE_A, SIDE_B = 1, 2  # bits of a statement's side (both: 3; neither: 0)


def _ranges(name: str, lo, freq, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``lo`` and ``freq`` as int64, once every range ``lo[i] .. lo[i] + freq[i] - 1`` is
    checked to lie in a suffix array of ``size`` ranks (the compiled loops read unchecked)."""
    lo, freq = np.asarray(lo, np.int64), np.asarray(freq, np.int64)
    if len(lo) and (int(lo.min()) < 0 or int(freq.min()) < 0 or int((lo + freq).max()) > size):
        raise ValueError(f"{name}: a range outside the suffix array")
    return lo, freq


def threaded(fn, parts: list[tuple[int, int]]) -> None:
    """``fn(a, b)`` for each part, in threads where there are several (the compiled
    loops release the interpreter's lock: :func:`analysis.phrases.suffix.compiled`)."""
    if len(parts) <= 1:
        for a, b in parts:
            fn(a, b)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(parts)) as pool:
        for f in [pool.submit(fn, a, b) for a, b in parts]:
            f.result()


THREAD_LEAST = 1 << 20  # the least work (ranks, occurrences) worth a thread of its own


def split(weights: np.ndarray | int, parts: int, least: int | None = None) -> list[tuple[int, int]]:
    """``[0, n)`` cut into at most ``parts`` runs of about equal weight, none lighter than
    ``least`` (:data:`THREAD_LEAST`; small work stays in one part): ``weights`` an array
    of the n items' weights, or n for items of one weight each."""
    least = THREAD_LEAST if least is None else least
    n = weights if isinstance(weights, int) else len(weights)
    total = n if isinstance(weights, int) else int(np.sum(weights, dtype=np.int64))
    k = max(1, min(parts, total // max(least, 1)))
    if k == 1:
        return [(0, n)] if n else []
    if isinstance(weights, int):
        cuts = [n * i // k for i in range(k + 1)]
    else:
        cum = np.cumsum(weights, dtype=np.int64)
        cuts = [0, *np.searchsorted(cum, [total * i // k for i in range(1, k)], side="right").tolist(), n]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def rank_docs(sa: np.ndarray, doc_tokens: np.ndarray, threads: int = 1) -> np.ndarray:
    """The statement of each rank of the suffix array ``sa`` (statements numbered in
    text order, ``doc_tokens`` tokens each): uint16 for up to 65,536 statements, else
    uint32. One compiled pass over the ranks: a rank's position is looked up in a table
    of the statement at every 4,096th token, then the statements after it are stepped
    through (ungdc's 32 M ranks: 64 MB and 0.26 s, where a gather from an array of every token's
    statement took 0.5 s and needed that array too); ``threads``: the ranks cut in as
    many parts, each looked up in a thread."""
    tokens = np.asarray(doc_tokens, np.int64)
    first = np.zeros(len(tokens), np.int64)
    np.cumsum(tokens[:-1], out=first[1:])
    total = int(tokens.sum())
    block = np.searchsorted(first, np.arange(0, total + 1, 1 << RANK_BLOCK, dtype=np.int64), side="right") - 1
    out = np.empty(len(sa), np.uint16 if len(tokens) <= 1 << 16 else np.uint32)
    if len(sa) and (len(tokens) == 0 or int(np.min(sa)) < 0 or int(np.max(sa)) >= total):
        raise ValueError("rank_docs: a suffix past the statements' tokens")
    sa, block, fn = np.asarray(sa), block.astype(np.int64), compiled(_rank_docs)
    threaded(lambda a, b: fn(sa[a:b], first, block, RANK_BLOCK, out[a:b]), split(len(sa), threads))
    return out


RANK_BLOCK = 12  # log2 of the tokens between two entries of rank_docs's table


def _rank_docs(sa, first, block, shift, out):  # pragma: no cover - numba
    """:func:`rank_docs`: the last statement whose first token is at or before the rank's position."""
    nd = len(first)
    for r in range(len(sa)):
        p = sa[r]
        d = block[p >> shift]
        while d + 1 < nd and first[d + 1] <= p:
            d += 1
        out[r] = d


def side_counts(docs: np.ndarray, lo: np.ndarray, freq: np.ndarray, side: np.ndarray,
                threads: int = 1) -> np.ndarray:
    """For each range ``lo[i] .. lo[i] + freq[i] - 1`` of ranks (``docs``: each rank's
    statement, :func:`rank_docs`): its occurrences in A, its distinct statements in A,
    its occurrences in B and its distinct statements in B, as rows 0-3 of an int64
    array. ``side`` holds each statement's :data:`SIDE_A` and :data:`SIDE_B` bits; a
    statement in both sets counts on both sides. ``threads``: the ranges cut in as many
    parts of about equal occurrences, each counted in a thread."""
    lo, freq = _ranges("side_counts", lo, freq, len(docs))
    if len(docs) and int(np.max(docs)) >= len(side):  # (the compiled loop reads unchecked)
        raise ValueError("side_counts: a statement without a side")
    out = np.zeros((4, len(lo)), np.int64)
    docs, side, fn = np.asarray(docs), np.asarray(side, np.uint8), compiled(_side_counts)

    def part(a: int, b: int) -> None:
        counts = np.zeros((4, b - a), np.int64)  # (one layout for the compiled loop: C-contiguous)
        fn(docs, lo[a:b], freq[a:b], side, counts)
        out[:, a:b] = counts

    threaded(part, split(freq, threads))
    return out


def _side_counts(docs, lo, freq, side, out):  # pragma: no cover - numba
    """:func:`side_counts`: ``seen[d]`` is the last range that counted statement ``d``."""
    seen = np.full(len(side), -1, np.int64)
    for i in range(len(lo)):
        a_occ = a_st = b_occ = b_st = 0
        for r in range(lo[i], lo[i] + freq[i]):
            d = docs[r]
            s = side[d]
            if s == 0:
                continue
            new = seen[d] != i
            seen[d] = i
            if s & 1:
                a_occ += 1
                a_st += new
            if s & 2:
                b_occ += 1
                b_st += new
        out[0, i] = a_occ
        out[1, i] = a_st
        out[2, i] = b_occ
        out[3, i] = b_st


def runs_with(ids: np.ndarray, pos: np.ndarray, n: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether the tokens ``ids[pos[i] : pos[i] + n[i]]`` hold at least one id marked in
    ``wanted`` (a boolean per id): a phrase with a content word. Stops at the first."""
    pos, n = np.asarray(pos, np.int64), np.asarray(n, np.int64)
    if len(pos) and (int(pos.min()) < 0 or int(n.min()) < 0 or int((pos + n).max()) > len(ids)):
        raise ValueError("runs_with: a run outside the tokens")
    out = np.zeros(len(pos), np.bool_)
    if not compiled(_runs_with)(np.asarray(ids), pos, n, np.asarray(wanted, np.bool_), out):
        raise ValueError("runs_with: a token id past the marks")
    return out


def _runs_with(ids, pos, n, wanted, out):  # pragma: no cover - numba
    """:func:`runs_with`; False where a token's id has no mark (nothing read past ``wanted``)."""
    m = len(wanted)
    for i in range(len(pos)):
        for p in range(pos[i], pos[i] + n[i]):
            t = ids[p]
            if t >= m:
                return False
            if wanted[t]:
                out[i] = True
                break
    return True


def range_occurrences(sa: np.ndarray, lo: np.ndarray, freq: np.ndarray, offset: np.ndarray,
                      n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(range, start position) of every occurrence of the ranges ``lo[i] .. lo[i] +
    freq[i] - 1`` of ``sa`` (phrases of ``n[i]`` tokens starting ``offset[i]`` tokens
    after their suffixes), in range order, and whether each is independent: an
    occurrence (p, e) lies inside a longer one when another occurrence starts at p and
    ends after e, or starts before p and ends at or after e. One compiled pass lists the
    occurrences and the furthest end starting at each position, one the furthest end
    starting before each, one the verdicts (ungdc's candidates, 9.2 M occurrences: 0.7 s,
    where numpy's expanded ranks, ``maximum.at`` and ``maximum.accumulate`` took 0.8-1.8
    s, the first call of a process the slowest, and a third corpus-long array more)."""
    sa = np.asarray(sa)
    lo, freq = _ranges("range_occurrences", lo, freq, len(sa))
    offset, n = np.asarray(offset).astype(np.int64), np.asarray(n).astype(np.int64)
    m = int(freq.sum())
    row, pos, indep = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.bool_)
    if not compiled(_range_occurrences)(sa, lo, freq, offset, n, row, pos, indep):
        raise ValueError("range_occurrences: an occurrence past the corpus's tokens")
    return row, pos, indep


def _range_occurrences(sa, lo, freq, offset, n, row, pos, indep):  # pragma: no cover - numba
    """:func:`range_occurrences`: ``best[p]`` the furthest end of an occurrence starting at
    p, ``before[p]`` the furthest end of one starting before p. False (nothing written
    past the arrays) where an occurrence would start before the corpus or end past it."""
    total = len(sa)
    best = np.zeros(total + 1, np.int32)
    k = 0
    for i in range(len(lo)):
        for r in range(lo[i], lo[i] + freq[i]):
            p = sa[r] + offset[i]
            e = p + n[i]
            if p < 0 or e > total:
                return False
            row[k] = i
            pos[k] = p
            if e > best[p]:
                best[p] = e
            k += 1
    before = np.empty(total + 1, np.int32)
    reach = 0
    for p in range(total + 1):
        before[p] = reach
        if best[p] > reach:
            reach = best[p]
    for k in range(len(pos)):
        p = pos[k]
        e = p + n[row[k]]
        indep[k] = not (before[p] >= e or best[p] > e)
    return True


PERIOD_BINS = 1 << 23  # (range, statement) cells range_periods counts at once (64 MB)


def range_periods(sa: np.ndarray, lo: np.ndarray, freq: np.ndarray, doc_of, period: np.ndarray,
                  n_periods: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(range, period, statements, occurrences) of the ranges ``lo[i] .. lo[i] + freq[i] -
    1`` of ``sa`` in each period, where they occur: ranges ascending, then periods.

    ``doc_of`` gives the statement of token positions; ``period`` the period (0 ..
    ``n_periods`` - 1, ascending in time) of each statement, -1 for one left out (undated,
    or dated more coarsely than the periods). numpy alone, no compiled code: a block of
    ranges at a time, each occurrence's statement counted into a (range, statement) table
    of at most :data:`PERIOD_BINS` cells, whose columns are then summed period by period.
    (``formulae phrases --by year`` on ungdc, the first 100 n-grams' 4.2 M occurrences:
    the (phrase, statement) pairs sorted by a compiled pass, then joined and grouped by
    polars, took 1.1 s of a 1.5 s process.)"""
    lo, freq = _ranges("range_periods", lo, freq, len(sa))
    period = np.asarray(period, np.int64)
    if len(period) and (int(period.min()) < -1 or int(period.max()) >= n_periods):
        raise ValueError("range_periods: a statement's period outside 0 .. n_periods - 1")
    n_docs = len(period)
    kept = np.flatnonzero(period >= 0)
    order = kept[np.argsort(period[kept], kind="stable")]  # the kept statements, period by period
    starts = np.flatnonzero(np.diff(period[order], prepend=-1)) if len(order) else np.zeros(0, np.int64)
    labels = period[order[starts]] if len(order) else np.zeros(0, np.int64)
    out: list[tuple[np.ndarray, ...]] = []
    rows = max(1, PERIOD_BINS // max(n_docs, 1))
    for b0 in range(0, len(lo) if len(order) else 0, rows):  # a block of ranges at a time
        b1 = min(b0 + rows, len(lo))
        ranks, group = expand_runs(lo[b0:b1], freq[b0:b1])
        docs = np.asarray(doc_of(np.asarray(sa[ranks], np.int64)), np.int64)
        if len(docs) and (int(docs.min()) < 0 or int(docs.max()) >= n_docs):
            raise ValueError("range_periods: a position's statement outside the periods' statements")
        cells = np.bincount(group * n_docs + docs, minlength=(b1 - b0) * n_docs).reshape(b1 - b0, n_docs)
        cells = cells[:, order]
        occ = np.add.reduceat(cells, starts, axis=1)
        st = np.add.reduceat((cells > 0).astype(np.int64), starts, axis=1)
        r, p = np.nonzero(occ)  # row-major: ranges ascending, then periods
        out.append((r + b0, labels[p], st[r, p], occ[r, p]))
    if not out:
        e = np.zeros(0, np.int64)
        return e, e, e, e
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))  # type: ignore[return-value]
