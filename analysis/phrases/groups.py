"""The n-gram groups of a suffix array's LCPs and their statistics: frequency, statements,
distinct statements and Gries's DP (the counting of :func:`analysis.phrases.engine.phrases_scan`
and of the sharded build's pieces, :func:`analysis.phrases.engine.piece_scan`).

At n words, the ranks whose capped LCP with the rank before is n or more continue its
group: each group is one n-gram's occurrences (:func:`lcp_groups`). DP is computed
exactly, in integers: with ``T`` the corpus's tokens, ``f`` the phrase's frequency, and
``c_d``, ``t_d`` its occurrences in statement d and d's tokens,

    DP = ½ Σ_d |c_d / f − t_d / T| = (Σ_{d: c_d > 0} |c_d T − t_d f| + f (T − Σ_{d: c_d > 0} t_d)) / (2 f T),

one integer (:func:`dp_value`'s ``deviation``) and one division, so its value does not
depend on the order its terms are added in: a group's statements need no sorting
(:func:`group_rows`), and the one-process scan and the pieces give the same floats by
construction (the float sums it replaced were the same only when added in the same order).
"""

from __future__ import annotations

import numpy as np

from . import suffix


def dp_value(deviation: np.ndarray, freq: np.ndarray, total: int) -> np.ndarray:
    """DP from its integer ``deviation`` (module docstring), the groups' ``freq`` and the
    corpus's ``total`` tokens: one float division a group. The integers are int64: exact
    for any corpus whose suffix array's int32 ranks hold it (below 2**31 tokens, so that
    the deviation, at most 2 f T, stays below 2**63)."""
    return deviation / (2 * np.asarray(freq, np.int64) * np.int64(total))


def dp_exact(group: np.ndarray, doc: np.ndarray, count: np.ndarray, freq: np.ndarray, doc_tokens: np.ndarray,
             n_groups: int) -> np.ndarray:
    """Gries's DP over all statements of each group, from its (group, doc, count) pairs
    (``doc_tokens``: every statement's tokens; ``freq``: each group's occurrences), exactly
    (module docstring), in numpy: the small inputs' path (:func:`group_stats`), which never
    loads the compiler; larger ones take the group pass (:func:`_rows_fill`)."""
    freq = np.asarray(freq, np.int64)
    tokens = np.asarray(doc_tokens, np.int64)
    total = int(tokens.sum())
    inside, covered = np.zeros(n_groups, np.int64), np.zeros(n_groups, np.int64)
    t = tokens[doc]
    np.add.at(inside, group, np.abs(np.asarray(count, np.int64) * total - t * freq[group]))
    np.add.at(covered, group, t)
    return dp_value(inside + freq * (total - covered), freq, total)


def group_stats(ranks, group, n_groups, doc_sa, canon, doc_tokens, has_dupes, freq=None):
    """freq, statements, distinct statements and DP of groups of ranks (group ids sorted:
    each group's ranks together).

    ``doc_sa[r]`` is the statement of the suffix at rank r; ``doc_tokens``, every
    statement's tokens; ``freq``, the groups' sizes (int64), when known. From
    ``suffix.GROUPED_LEAST`` ranks on, the compiled group pass over the groups' statements
    laid out in group order (:func:`group_rows`' loop); numpy's sorted pairs below.
    """
    docs = doc_sa[ranks]
    if freq is None:
        freq = np.bincount(group, minlength=n_groups).astype(np.int64)
    if len(docs) >= suffix.GROUPED_LEAST:
        return (freq, *_stats(np.cumsum(freq) - freq, freq, docs, canon, doc_tokens, has_dupes))
    n_docs = len(doc_tokens)
    g, d, c = suffix.group_doc_counts(group, docs, n_docs)
    statements = np.bincount(g, minlength=n_groups)
    if has_dupes:
        g2_, _, _ = suffix.group_doc_counts(group, canon[docs], n_docs)
        distinct = np.bincount(g2_, minlength=n_groups)
        del g2_
    else:
        distinct = statements
    del docs
    dp = dp_exact(g, d, c, freq, doc_tokens, n_groups) if n_groups else np.zeros(0)
    return freq, statements, distinct, dp


def ngram_pass(n: int, cl, lcs, doc_sa, canon, doc_tokens, has_dupes, min_statements: int, min_len: int,
               ranks: bool = True):
    """The n-grams of one pass: ranks whose capped LCP with the previous rank is >= n form
    the groups of one n-gram each; groups in fewer than ``min_statements`` ranks are
    dropped. None when no group is left; else (ranks, gid, lo, freq, statements, distinct,
    dp, closed, ok), ``ok``: in ``min_statements`` distinct statements at least.

    From ``suffix.GROUPED_LEAST`` ranks on, the groups' statistics come from one compiled
    pass (:func:`group_rows`), and ``ranks``/``gid`` (every group's ranks and group
    numbers) are made only when asked for (None otherwise)."""
    if len(cl) >= suffix.GROUPED_LEAST:
        got = group_rows(cl, n, min_statements, doc_sa, canon, doc_tokens, has_dupes)
        if got is None:
            return None
        lo, freq, right, st, dist, dp = got
        rk, gid = lcp_groups(cl, n, min_statements)[:2] if ranks else (None, None)
    else:
        rk, gid, lo, size, right = lcp_groups(cl, n, min_statements)
        if len(lo) == 0:
            return None
        freq, st, dist, dp = group_stats(rk, gid, len(lo), doc_sa, canon, doc_tokens, has_dupes, size)
    hi = lo + freq - 1
    closed = right & ((lcs[hi] - lcs[lo]) > 0) & (n >= min_len)
    return rk, gid, lo, freq, st, dist, dp, closed, dist >= min_statements


def group_rows(cl: np.ndarray, n: int, least: int, doc_sa: np.ndarray, canon: np.ndarray, doc_tokens: np.ndarray,
               has_dupes: bool) -> tuple[np.ndarray, ...] | None:
    """:func:`lcp_groups` and :func:`group_stats` compiled, without the groups' ranks (their
    bounds, :func:`group_bounds`, then one pass over their ranks): per group (of ``least``
    ranks at least; None when there is none) its first rank, freq (int64), whether it is
    right-maximal, statements, distinct statements and DP. A
    group's statements are counted by marking each in an array a statement (``c_d``, then
    DP's terms in a second pass over its ranks), not by sorting them: DP's integer sum does
    not depend on their order. The values of :func:`group_stats` over :func:`lcp_groups`."""
    least = max(least, 2)
    lo, freq, right = group_bounds(cl, n, least)
    g = len(lo)
    if g == 0:
        return None
    return (lo, freq, right, *_stats(lo, freq, doc_sa, canon, doc_tokens, has_dupes))


def _stats(lo, freq, doc_sa, canon, doc_tokens, has_dupes):
    """Statements, distinct statements and DP of the groups of ranks ``lo .. lo + freq - 1``
    of ``doc_sa`` (:func:`_rows_fill`)."""
    tokens = np.asarray(doc_tokens, np.int64)
    total = int(tokens.sum())
    g = len(lo)
    st, dist, dev = np.empty(g, np.int64), np.empty(g, np.int64), np.empty(g, np.int64)
    seen = np.zeros(len(tokens), np.int64)
    marks = np.zeros(len(tokens) if has_dupes else 1, np.bool_)
    suffix.compiled(_rows_fill)(lo, freq, doc_sa, canon, tokens, total, has_dupes, seen, marks, st, dist, dev)
    return st, dist, dp_value(dev, freq, total)


def _rows_fill(lo, freq, doc_sa, canon, tokens, total, dupes, seen, marks, st, dist, dev):  # pragma: no cover - numba
    """:func:`group_rows`' loop over the groups (ranks ``lo[g] .. lo[g] + freq[g] - 1``)."""
    for g in range(len(lo)):
        r, e, size = lo[g], lo[g] + freq[g], freq[g]
        docs = distinct = 0
        for k in range(r, e):  # each statement's occurrences; the distinct texts
            d = doc_sa[k]
            if seen[d] == 0:
                docs += 1
            seen[d] += 1
            if dupes and not marks[canon[d]]:
                marks[canon[d]] = True
                distinct += 1
        inside = covered = 0
        for k in range(r, e):  # DP's terms, a statement once (its count then cleared)
            d = doc_sa[k]
            c = seen[d]
            if c:
                inside += abs(c * total - tokens[d] * size)
                covered += tokens[d]
                seen[d] = 0
            if dupes:
                marks[canon[d]] = False
        st[g] = docs
        dist[g] = distinct if dupes else docs
        dev[g] = inside + size * (total - covered)


def group_bounds(cl: np.ndarray, n: int, least: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The groups of :func:`lcp_groups` (of ``least`` >= 2 ranks at least) without their
    ranks, compiled, in one scan of the LCPs: each one's first rank and size (int64) and
    whether it is right-maximal. The scan fills arrays of as many groups as ``cl`` can
    hold (a group is ``least`` ranks at least; pages never written are never touched),
    then keeps the groups found."""
    most = len(cl) // least + 1
    lo, freq, right = np.empty(most, np.int64), np.empty(most, np.int64), np.empty(most, np.bool_)
    g = suffix.compiled(_groups_scan)(cl, n, least, lo, freq, right)
    return lo[:g].copy(), freq[:g].copy(), right[:g].copy()


def lcp_groups(cl: np.ndarray, n: int, least: int) -> tuple[np.ndarray, ...]:
    """The groups of ranks sharing n tokens (a rank whose ``cl`` is >= n continues the group
    of the rank before; ``cl[0]`` < n) of ``least`` ranks at least: ``(ranks, gid, lo, freq,
    right)``, every group's ranks (int32) and group numbers (int32, from 0), and per group
    its first rank and size (int64) and whether some rank after its first shares exactly n
    tokens with the one before (no right extension keeps it whole). Compiled from
    ``suffix.GROUPED_LEAST`` ranks on: two passes over ``cl`` for a dozen numpy ones."""
    least = max(least, 2)  # a group is two ranks at least
    if len(cl) >= suffix.GROUPED_LEAST:
        lo, freq, right = group_bounds(cl, n, least)
        m = int(freq.sum())
        ranks, gid = np.empty(m, np.int32), np.empty(m, np.int32)
        suffix.compiled(_groups_fill)(lo, freq, ranks, gid)
        return ranks, gid, lo, freq, right
    ge = cl >= n
    member = ge.copy()
    member[:-1] |= ge[1:]
    ranks = np.flatnonzero(member).astype(np.int32)
    starts = ~ge[ranks]
    gid = np.cumsum(starts, dtype=np.int32) - 1
    size = np.bincount(gid)
    keep = size >= least
    sel = keep[gid]
    ranks, starts, gid = ranks[sel], starts[sel], (np.cumsum(keep, dtype=np.int32) - 1)[gid[sel]]
    right = np.zeros(int(keep.sum()), bool)
    right[gid[(cl[ranks] == n) & ~starts]] = True
    return ranks, gid, ranks[starts].astype(np.int64), size[keep].astype(np.int64), right


def _groups_scan(cl, n, least, lo, freq, right):  # pragma: no cover - numba
    """:func:`group_bounds`' scan of the LCPs; returns the number of groups."""
    g = r = 0
    while r < len(cl):
        e = r + 1
        edge = False
        while e < len(cl) and cl[e] >= n:
            edge |= cl[e] == n
            e += 1
        if e - r >= least:
            lo[g], freq[g], right[g] = r, e - r, edge
            g += 1
        r = e
    return g


def _groups_fill(lo, freq, ranks, gid):  # pragma: no cover - numba
    """:func:`lcp_groups`' ranks and group numbers, from the groups' bounds."""
    m = 0
    for g in range(len(lo)):
        for k in range(lo[g], lo[g] + freq[g]):
            ranks[m] = k
            gid[m] = g
            m += 1
