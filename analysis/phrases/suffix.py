"""Suffix-array machinery over token ids (numpy only, no Python loops over tokens).

The phrase index (``phrases.py``) concatenates every countable token of a corpus, in
document order, into one array of token ids. Sorting its suffixes (``pydivsufsort``)
puts all occurrences of any phrase into one contiguous slice of the suffix array, so

* an n-gram's occurrences are a run of ranks whose common prefix is >= n tokens;
* a phrase of any length is found by binary search (:func:`analysis.phrases.search.sa_range`);
* maximal recurring phrases are the *lcp-intervals* of the array (Abouelhoda et al.
  2004): runs of ranks sharing exactly h tokens, which no right extension keeps whole.

Phrases never cross a sentence boundary: every sentence ends with a separator and the
LCP is cut there (:func:`suffix_array`), so a "common prefix" stops where a sentence,
paragraph or statement ends, and suffixes with equal in-sentence text keep their text order.

Conventions: ``sa[r]`` is the text position of rank r; ``cl[r]`` is the (capped) LCP of
ranks r-1 and r (``cl[0] = 0``); intervals are ``[lo, hi]`` inclusive ranks.
"""

from __future__ import annotations

import functools

import numpy as np

# The version of the index the engine writes (its arrays' order, its tables): part of every
# index stamp (:func:`analysis.phrases.index.code_sha`). Here, not in engine.py, so that the
# query path (index.py) reads it without importing polars.
ENGINE_VERSION = "2"


def suffix_array(ids: np.ndarray, sent_starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Suffix array and in-sentence LCP (``cl`` convention) of an unsigned token-id array.

    The order is canonical and local: a suffix's key is its *in-sentence* token sequence
    (a sentence starts at each of ``sent_starts``; default: one sentence), then its
    position. Sorting the suffixes of a contiguous part of the text this way gives the
    same relative order as sorting the whole, and a monotonic renumbering of the ids
    keeps it: the suffix arrays of shards merge into the whole one (:func:`sa_merge`).

    Each sentence is followed by a separator 0, smaller than every token (token id t:
    t + 1), and the text is sorted by libdivsufsort on its big-endian bytes: two bytes a
    token while the ids are below 65535 (a shard's vocabulary), half the bytes that a
    separator of its own per sentence would need. A suffix whose sentence ends first then
    sorts first, as it should; suffixes whose in-sentence tokens are equal (their LCP
    reaches past the sentence end) are put back in text order, and the LCP is cut at the
    sentence end (a shard of ungdc, 2.1 M tokens: 0.49 s against 0.53-0.60 s; the text
    built and the ranks mapped back in compiled loops, 2.0 M tokens: 0.22 s against 0.23 s).
    """
    from pydivsufsort import kasai

    ids = np.ascontiguousarray(ids, dtype=np.uint32)
    n = len(ids)
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    if sent_starts is None or len(sent_starts) == 0:
        sent_starts = np.zeros(1, np.int64)
    starts = np.asarray(sent_starts, np.int64)
    s = len(starts)
    if int(ids.max()) + 1 >= 1 << 32:
        raise ValueError("suffix_array: token ids of 2**32 - 1 and more")
    if n + s < 2:  # pydivsufsort cannot sort a one-element array
        return np.zeros(n, np.int32), np.zeros(n, np.int32)
    # the extended text (separators: 0) and each of its positions' token (-1: a separator)
    text = np.empty(n + s, np.uint16 if int(ids.max()) + 1 < 1 << 16 else np.uint32)
    token = np.empty(n + s, np.int32)
    compiled(_extend)(ids, starts, text, token)
    sa = _divsufsort(text)
    lcp = kasai(text, sa)  # lcp[r] = LCP(sa[r], sa[r+1]), here across sentence ends
    del text
    # the separator suffixes (0 first) sort first: the first s ranks are dropped; the
    # LCPs cut at the sentence end and the runs of equal in-sentence suffixes in text order
    out, cl = np.empty(n, np.int32), np.empty(n, np.int32)
    compiled(_runs_in_text_order)(sa, lcp, s, token, rem_from_starts(starts, n), out, cl)
    return out, cl


def _extend(ids, starts, text, token):  # pragma: no cover - numba
    """:func:`suffix_array`'s extended text: token p at ``p`` + its sentence's index, as
    ``ids[p] + 1``, a 0 after each sentence; ``token``: each extended position's token
    (-1 at a separator)."""
    n, s = len(ids), len(starts)
    for k in range(s):
        end = starts[k + 1] if k + 1 < s else n
        for p in range(starts[k], end):
            text[p + k] = ids[p] + 1
            token[p + k] = p
        text[end + k] = 0
        token[end + k] = -1


def _runs_in_text_order(esa, lcp, s, token, rem, sa, cl):  # pragma: no cover - numba
    """:func:`suffix_array`'s last steps, compiled, in three passes: ``sa``, the ranks of the
    extended text's suffix array ``esa`` from ``s`` on as token positions (``token``);
    ``cl``, the LCPs ``lcp`` cut at the sentence end (``rem``: the tokens left in each
    token's sentence); and every run of ranks whose suffixes are equal up to their
    sentence's end put in text order (sorted in place; a shard of 2.4 M tokens: 0.02 s,
    where numpy's lexsort of the runs took 0.05-0.1 s)."""
    n = len(sa)
    for r in range(n):
        sa[r] = token[esa[s + r]]
    cl[0] = 0
    prev = rem[sa[0]]
    for r in range(1, n):
        here = rem[sa[r]]
        cl[r] = min(lcp[s + r - 1], prev, here)
        prev = here
    r = 0
    while r < n - 1:  # ranks r, r + 1 equal in the sentence: their LCP reaches its end
        left = rem[sa[r]]
        if lcp[s + r] >= left and left == rem[sa[r + 1]]:
            e = r + 1
            while e < n - 1 and lcp[s + e] >= rem[sa[e]] and rem[sa[e]] == rem[sa[e + 1]]:
                e += 1
            sa[r:e + 1].sort()
            r = e + 1
        else:
            r += 1


def _divsufsort(text: np.ndarray) -> np.ndarray:
    """Suffix array of an unsigned int array via libdivsufsort on its big-endian bytes.

    Like ``pydivsufsort.divsufsort`` for integer arrays, with fewer full-size temporaries
    (the byte-level array is filtered through an int8 remainder, then divided in place).
    """
    from pydivsufsort import divsufsort

    top = int(text.max())
    if top < 256:
        return divsufsort(text.astype(np.uint8)).astype(np.int32, copy=False)
    width = 2 if top < 65536 else 4
    out = divsufsort(text.astype(f">u{width}").view(np.uint8))
    rest = np.empty(len(out), np.int8)
    np.bitwise_and(out, width - 1, out=rest, casting="unsafe")
    sa = out[rest == 0]
    del out, rest
    sa //= width
    return sa


def rem_from_starts(starts: np.ndarray, n: int) -> np.ndarray:
    """Tokens left in the sentence at each position, from the sentences' first positions."""
    if n == 0:
        return np.zeros(0, np.int32)
    rem = np.empty(n, np.int32)
    compiled(_rem_fill)(np.asarray(starts, np.int64), rem)
    return rem


def _rem_fill(starts, rem):  # pragma: no cover - numba
    """:func:`rem_from_starts`' loop (numpy's repeat and two temporaries took twice as long)."""
    n, s = len(rem), len(starts)
    for k in range(s):
        end = starts[k + 1] if k + 1 < s else n
        for p in range(starts[k], end):
            rem[p] = end - p


def suffix_rows(sa: np.ndarray, ids: np.ndarray, rem: np.ndarray, doc: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per suffix of ``sa`` (over ``ids``, ``rem`` the tokens left in the sentence at each
    position, ``doc`` each position's statement): its second token (int32, -1 where the
    sentence ends), the tokens left in its sentence (uint16: a sentence is at most
    ``SENTENCE_MAX``), its left neighbour (int32, -1 at a sentence start) and its
    statement (uint32). Compiled from ``GROUPED_LEAST`` suffixes on: one loop reading each
    suffix's neighbourhood once, for seven gathers (a shard of ungdc: 0.28 -> 0.12 s)."""
    if len(sa) >= GROUPED_LEAST:
        n = len(sa)
        out = np.empty(n, np.int32), np.empty(n, np.uint16), np.empty(n, np.int32), np.empty(n, np.uint32)
        compiled(_rows_loop)(sa, ids, rem, doc, *out)
        return out
    p = sa.astype(np.int64)
    nxt, before, left = np.minimum(p + 1, max(len(ids) - 1, 0)), np.maximum(p - 1, 0), rem[p]
    return (np.where(left > 1, ids[nxt].astype(np.int32), np.int32(-1)), left.astype(np.uint16),
            np.where((p > 0) & (rem[before] > 1), ids[before].astype(np.int32), np.int32(-1)),
            np.asarray(doc, np.uint32)[p])


def _rows_loop(sa, ids, rem, doc, second, left, prev, sdoc):  # pragma: no cover - numba
    """:func:`suffix_rows`' loop."""
    for r in range(len(sa)):
        p = sa[r]
        k = rem[p]
        left[r] = k
        second[r] = ids[p + 1] if k > 1 else -1
        prev[r] = ids[p - 1] if p > 0 and rem[p - 1] > 1 else -1
        sdoc[r] = doc[p]


def expand_runs(start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All values of the runs ``start[i] .. start[i] + length[i] - 1`` and the run of each."""
    start, length = np.asarray(start, np.int64), np.asarray(length, np.int64)
    group = np.repeat(np.arange(len(start), dtype=np.int64), length)
    offsets = np.cumsum(length) - length
    values = np.arange(int(length.sum()), dtype=np.int64) - offsets[group] + start[group]
    return values, group


def expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ranks of the intervals ``[lo, hi]`` and the interval number of each."""
    return expand_runs(lo, hi - lo + 1)


GROUPED_LEAST = 4096  # ranks from which sorted groups' pairs are counted group by group (compiled)
COUNTED_LEAST = 64  # a group's ranks from which (and from n_docs / 4) its docs are counted, not sorted


def group_doc_counts(group: np.ndarray, docs: np.ndarray, n_docs: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (group, doc) pairs with their counts, sorted by group then doc (integer
    arrays: int64 from the sort; in the dtypes of ``group`` and ``docs``, counts int32,
    from the compiled path).

    Where ``group`` is already sorted (an n-gram pass's groups of ranks), each group's
    docs are sorted on their own (:func:`_group_sort`, compiled): a group's few ranks, not
    one sort of every rank's key (a group of a quarter of ``n_docs`` ranks or more, a
    frequent word's: counted by doc, no sort); otherwise one sort of ``group * n_docs + doc``."""
    if len(group) == 0:
        e = np.zeros(0, np.int64)
        return e, e, e
    if GROUPED_LEAST <= len(group) < 2**31 and bool((group[1:] >= group[:-1]).all()):
        sort, runs = compiled(_group_sort), compiled(_group_runs)
        buf = np.array(docs)  # a copy, sorted within groups in place
        slots = int(buf.max()) + 1  # a slot a doc (n_docs, but never fewer than the docs seen)
        m = sort(group, buf, np.zeros(slots, np.int64), max(COUNTED_LEAST, (n_docs or slots) // 4))
        out = np.empty(m, group.dtype), np.empty(m, buf.dtype), np.empty(m, np.int32)  # counts: < 2**31 ranks
        runs(group, buf, *out)
        return out
    base = np.int64(n_docs if n_docs is not None else int(docs.max()) + 1)
    key = group.astype(np.int64)  # in place from here: no full-size temporaries
    key *= base
    key += docs
    key.sort()
    brk = np.empty(len(key), bool)
    brk[0] = True
    np.not_equal(key[1:], key[:-1], out=brk[1:])
    starts = np.flatnonzero(brk)
    del brk
    counts = np.diff(np.append(starts, len(key)))
    uk = key[starts]
    del key, starts
    return uk // base, uk % base, counts


def left_diverse_prefix(ids: np.ndarray, sa: np.ndarray, rem_start: np.ndarray) -> np.ndarray:
    """Prefix sums of "rank r's left neighbour token differs from rank r-1's".

    ``rem_start[p]`` is True where p starts a sentence (no left neighbour): such a
    suffix always counts as different. An interval [lo, hi] is left-maximal iff
    ``cs[hi] - cs[lo] > 0``.
    """
    cs = np.empty(len(sa), np.int32)
    if len(sa):  # compiled: numpy's four full-size temporaries took 1.9 s for 29.6 M tokens
        compiled(_left_diverse_loop)(np.asarray(ids), np.asarray(sa), np.asarray(rem_start), cs)
    return cs


def _left_diverse_loop(ids, sa, rem_start, cs):  # pragma: no cover - numba
    """:func:`left_diverse_prefix`'s loop (:func:`left_diverse` of each rank's left neighbour)."""
    c = 0
    before = -1
    for r in range(len(sa)):
        p = sa[r]
        here = -1 if rem_start[p] else np.int64(ids[max(p - 1, 0)])
        if r > 0 and (here != before or here < 0 or before < 0):
            c += 1
        cs[r] = c
        before = here


def left_diverse(prev: np.ndarray) -> np.ndarray:
    """:func:`left_diverse_prefix` from the left neighbour token of each rank (-1: none)."""
    n = len(prev)
    d = np.zeros(n, np.int32)
    if n > 1:
        d[1:] = (prev[1:] != prev[:-1]) | (prev[1:] < 0) | (prev[:-1] < 0)
    return np.cumsum(d, dtype=np.int32)


def _nearest_smaller(v: np.ndarray, adj: np.ndarray, step: int) -> np.ndarray:
    """Index of the nearest strictly smaller value to the left (step=-1) or right (+1)
    within runs of adjacent elements (``adj[j]``: j is adjacent to j+step), else -1.

    Vectorised pointer jumping: each round replaces a pointer whose target is not
    smaller by that target's own pointer (valid because everything in between is >= it),
    so pointers double their reach; O(M log M) in practice.
    """
    m = len(v)
    idx = np.arange(m, dtype=np.int64)
    ptr = np.where(adj, idx + step, -1)
    todo = np.flatnonzero(ptr >= 0)
    while len(todo):
        todo = todo[v[ptr[todo]] >= v[todo]]
        ptr[todo] = ptr[ptr[todo]]
        todo = todo[ptr[todo] >= 0]
    return ptr


def lcp_intervals(ranks: np.ndarray, cl: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All lcp-intervals made of the given ranks (sorted; typically those with cl > h0).

    Returns ``lo``, ``hi`` (inclusive ranks) and ``h`` (the interval's common prefix
    length, exactly: the minimum cl inside), one row per distinct interval.
    """
    m = len(ranks)
    if m == 0:
        e = np.zeros(0, np.int64)
        return e, e, e
    v = cl[ranks].astype(np.int64)
    idx = np.arange(m, dtype=np.int64)
    adj_prev = np.zeros(m, bool)
    adj_prev[1:] = ranks[1:] == ranks[:-1] + 1
    adj_next = np.zeros(m, bool)
    adj_next[:-1] = adj_prev[1:]
    seg_start = np.maximum.accumulate(np.where(adj_prev, 0, idx))
    seg_end = np.minimum.accumulate(np.where(adj_next, m, idx)[::-1])[::-1]
    psv = _nearest_smaller(v, adj_prev, -1)
    nsv = _nearest_smaller(v, adj_next, +1)
    start = np.where(psv >= 0, psv + 1, seg_start)
    end = np.where(nsv >= 0, nsv - 1, seg_end)
    key = (start.astype(np.uint64) << np.uint64(32)) | v.astype(np.uint64)
    _, first = np.unique(key, return_index=True)
    return ranks[start[first]].astype(np.int64) - 1, ranks[end[first]].astype(np.int64), v[first]


def sa_merge(pos: np.ndarray, cl: np.ndarray, rem: np.ndarray, sizes: list[int], ids: np.ndarray,
             context: tuple[np.ndarray, np.ndarray, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge sorted runs of suffixes into one run in the canonical order (in-sentence
    suffix, then position). The runs come concatenated, in text order: ``pos`` (positions
    into ``ids``), ``cl`` (each run's LCP array), ``rem`` (the tokens left in each
    suffix's sentence), run ``sizes``. Pairwise, LCP-aware (:func:`_lcp_merge`, compiled):
    the merges carry only an LCP and an origin (the suffix's index in the concatenation) a
    suffix. Adjacent runs merge, the pair of fewest suffixes first (a merge keeps its
    runs' text order; in rounds of pairs, 17 equal runs were passed over 4.8 times, now
    4.1). Returns the suffixes, their LCPs and origins, so that what the runs carry per
    suffix follows it.

    ``context`` = ``(ctx, coff, cap)`` (:func:`suffix_contexts`): suffix i's first
    ``min(rem[i], cap)`` words at ``ctx[coff[i]:]``; words are compared there, and read
    from ``ids`` only past ``cap`` words. Without it every comparison reads ``ids``: a
    merge over a memory-mapped text then keeps every page it compares at resident."""
    n = len(pos)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    ctx, coff, cap = context if context is not None else (np.zeros(1, ids.dtype), np.zeros(1, np.int64), 0)
    work, off = [], 0
    for size in sizes:
        if size:
            work.append((cl[off:off + size].astype(np.int32), np.arange(off, off + size, dtype=np.int32)))
        off += size
    if off != n:
        raise ValueError(f"sa_merge: runs of {off} suffixes, {n} given")
    while len(work) > 1:  # the adjacent pair of fewest suffixes first
        i = min(range(len(work) - 1), key=lambda i: len(work[i][0]) + len(work[i + 1][0]))
        a, b = work[i], work[i + 1]
        a[0][0] = b[0][0] = 0
        size = len(a[0]) + len(b[0])
        out = (np.empty(size, np.int32), np.empty(size, np.int32))
        compiled(_lcp_merge)(*a, *b, pos, rem, ctx, coff, int(cap), ids, *out)
        work[i:i + 2] = [out]
    out_cl, origin = work[0]
    out_cl[0] = 0
    return pos[origin], out_cl, origin


def context_cap(rem: np.ndarray, budget: int, least: int = 1) -> int:
    """The most words a suffix's context may hold (:func:`suffix_contexts`) for all of
    them (``rem``: the words left in each suffix's sentence) to fit in ``budget`` words;
    at least ``least``, and no more than the longest needs."""
    if not len(rem):
        return least
    h = np.bincount(rem).astype(np.int64)
    r = np.arange(len(h), dtype=np.int64)
    total = np.cumsum(h * r) + r * (int(h.sum()) - np.cumsum(h))  # total[c]: sum of min(rem, c)
    fits = int(np.searchsorted(total, budget, side="right")) - 1
    return max(least, min(len(h) - 1, fits))


def suffix_contexts(window, pos: np.ndarray, rem: np.ndarray, sizes: list[int], cap: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(ctx, coff)``: the first ``min(rem[i], cap)`` words of each suffix ``pos[i]``
    (runs of ``sizes``, as :func:`sa_merge` takes them), suffix i's at ``ctx[coff[i]:]``.
    ``window(lo, hi)`` gives the text's words ``lo..hi-1``; it is asked once a run, for
    the span that run's words lie in (a shard's), so the text is read one span at a time."""
    take = np.minimum(rem, cap).astype(np.int64)
    coff = np.zeros(len(pos) + 1, np.int64)
    np.cumsum(take, out=coff[1:])
    ctx, off = None, 0
    for size in sizes:
        if size:
            p, t = pos[off:off + size], take[off:off + size]
            lo, hi = int(p.min()), int((p + t).max())
            words = window(lo, hi)
            if ctx is None:
                ctx = np.empty(int(coff[-1]), words.dtype)
            compiled(_gather)(words, p - lo, t, coff[off:off + size], ctx)
            del words
        off += size
    return (ctx if ctx is not None else np.zeros(0, np.uint32)), coff[:-1]


@functools.cache
def compiled(fn):
    """``fn`` compiled by numba (cached on disk), on first use: the kernels of this module
    (the functions marked ``numba``), the engine, :mod:`.groups` and :mod:`.tables`."""
    import numba

    return numba.njit(cache=True, nogil=True)(fn)


def _group_sort(group, buf, seen, big):  # pragma: no cover - numba
    """Sort ``buf`` (the docs) within each group (runs of equal ``group``): by insertion
    up to 32 of them; from ``big`` on by counting each doc in ``seen`` (zeros, a slot a doc;
    left zeros) and writing them back in order (a frequent word's hundreds of thousands of
    ranks: ungdc's piece of 4 M suffixes at n = 1, 0.19 -> 0.04 s); else numpy's sort.
    Returns the number of distinct (group, doc) pairs."""
    n = len(group)
    m = 0
    s = 0
    while s < n:
        g = group[s]
        e = s + 1
        while e < n and group[e] == g:
            e += 1
        if e - s <= 32:
            for i in range(s + 1, e):
                v = buf[i]
                j = i - 1
                while j >= s and buf[j] > v:
                    buf[j + 1] = buf[j]
                    j -= 1
                buf[j + 1] = v
        elif e - s >= big:
            for i in range(s, e):
                seen[buf[i]] += 1
            o = s
            for d in range(len(seen)):
                for _ in range(seen[d]):
                    buf[o] = d
                    o += 1
                seen[d] = 0
        else:
            buf[s:e].sort()
        m += 1
        for i in range(s + 1, e):
            if buf[i] != buf[i - 1]:
                m += 1
        s = e
    return m


def _group_runs(group, buf, g_out, d_out, c_out):  # pragma: no cover - numba
    """The (group, doc, count) runs of ``buf`` sorted within groups (:func:`_group_sort`)."""
    n = len(group)
    m = -1
    for i in range(n):
        if i == 0 or group[i] != group[i - 1] or buf[i] != buf[i - 1]:
            m += 1
            g_out[m] = group[i]
            d_out[m] = buf[i]
            c_out[m] = 0
        c_out[m] += 1


def _gather(words, rel, take, coff, out):  # pragma: no cover - numba
    """``out[coff[i]:coff[i] + take[i]] = words[rel[i]:rel[i] + take[i]]``, 16 suffixes at a time: their first
    words read in a loop of independent loads (their cache misses overlap; returned, so that the
    compiler keeps them), then copied 8 words a step."""
    first = np.empty(16, words.dtype)
    for i0 in range(0, len(rel), 16):
        i1 = min(len(rel), i0 + 16)
        for i in range(i0, i1):
            first[i - i0] = words[rel[i]]
        for i in range(i0, i1):
            o, p, t, k = coff[i], rel[i], take[i], 0
            while k + 8 <= t:
                out[o + k], out[o + k + 1], out[o + k + 2] = words[p + k], words[p + k + 1], words[p + k + 2]
                out[o + k + 3], out[o + k + 4] = words[p + k + 3], words[p + k + 4]
                out[o + k + 5], out[o + k + 6], out[o + k + 7] = words[p + k + 5], words[p + k + 6], words[p + k + 7]
                k += 8
            for r in range(k, t):
                out[o + r] = words[p + r]
    return first


def _lcp_merge(cl_a, org_a, cl_b, org_b, pos, rem, ctx, coff, cap, ids,
               out_cl, out_org):  # pragma: no cover - numba
    """Merge two sorted runs (given by their LCPs and origins: indexes into ``pos``,
    ``rem`` and ``coff``); ``a`` precedes ``b`` in the text (equal suffixes: ``a`` first).

    ``la``/``lb``: the LCP of each run's head with the last suffix put out. The head
    sharing more with it is the smaller; only on a tie are words compared, from there
    (``rem``: the words left in each suffix's sentence): in the contexts (``ctx``, the
    first ``cap`` words of each suffix, at ``coff``), then in ``ids``."""
    na, nb = len(cl_a), len(cl_b)
    i = j = k = 0
    la = lb = 0
    while i < na and j < nb:
        take_a = la > lb
        if la == lb:
            oa, ob = org_a[i], org_b[j]
            ra, rb = rem[oa], rem[ob]
            m = min(ra, rb)
            c = min(m, cap)
            h = la
            ca = cb = 0
            if c > 0:
                ca, cb = coff[oa], coff[ob]
                while h < c and ctx[ca + h] == ctx[cb + h]:
                    h += 1
            if h < c:
                take_a = ctx[ca + h] < ctx[cb + h]
            else:
                pa, pb = pos[oa], pos[ob]
                while h < m and ids[pa + h] == ids[pb + h]:
                    h += 1
                take_a = ids[pa + h] < ids[pb + h] if h < m else ra <= rb
            if take_a:
                lb = h
            else:
                la = h
        if take_a:
            out_cl[k], out_org[k] = la, org_a[i]
            i += 1
            la = cl_a[i] if i < na else 0
        else:
            out_cl[k], out_org[k] = lb, org_b[j]
            j += 1
            lb = cl_b[j] if j < nb else 0
        k += 1
    while i < na:
        out_cl[k], out_org[k] = la, org_a[i]
        i += 1
        la = cl_a[i] if i < na else 0
        k += 1
    while j < nb:
        out_cl[k], out_org[k] = lb, org_b[j]
        j += 1
        lb = cl_b[j] if j < nb else 0
        k += 1
