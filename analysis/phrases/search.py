"""Finding a phrase in a stored suffix array: a binary search (:func:`sa_range`).

Query code, apart from the modules an index is made by (:mod:`analysis.phrases.suffix`
and the others that :data:`analysis.phrases.index.CODE` hashes into every index stamp):
a change here rebuilds no stored index.
"""

from __future__ import annotations

import numpy as np


def _compare(ids: np.ndarray, start: int, pattern: list[int], sent_starts: np.ndarray) -> int:
    """-1, 0, 1: in-sentence suffix at ``start`` (first len(pattern) tokens) vs ``pattern``.

    A token at a time in Python (a pattern is a few tokens): a third of the time of numpy's
    slice, compare and ``flatnonzero``, each a call of a few microseconds on a few items."""
    m = len(pattern)
    k = int(np.searchsorted(sent_starts, start, side="right"))
    stop = int(sent_starts[k]) if k < len(sent_starts) else len(ids)
    end = min(start + m, stop)
    for i, token in enumerate(ids[start:end].tolist()):
        if token != pattern[i]:
            return -1 if token < pattern[i] else 1
    return -1 if end - start < m else 0


def sa_range(ids: np.ndarray, sa: np.ndarray, pattern: np.ndarray,
             sent_starts: np.ndarray) -> tuple[int, int]:
    """Ranks ``[lo, hi)`` of the suffixes whose sentence continues with ``pattern``.

    Binary search; works on memory-mapped arrays: touches O(len(pattern) · log N) elements.
    """
    want = np.asarray(pattern, dtype=np.uint32).tolist()
    # plain views of memory-mapped arrays (no copy): numpy's memmap subclass costs a
    # Python call on every item read
    ids, sa, sent_starts = np.asarray(ids), np.asarray(sa), np.asarray(sent_starts)
    n = len(sa)
    if len(want) == 0 or n == 0:
        return 0, 0
    lo, hi = 0, n
    while lo < hi:  # first rank whose suffix >= pattern
        mid = (lo + hi) // 2
        if _compare(ids, int(sa[mid]), want, sent_starts) < 0:
            lo = mid + 1
        else:
            hi = mid
    first = lo
    hi = n
    while lo < hi:  # first rank whose suffix > pattern (as a prefix)
        mid = (lo + hi) // 2
        if _compare(ids, int(sa[mid]), want, sent_starts) <= 0:
            lo = mid + 1
        else:
            hi = mid
    return first, lo
