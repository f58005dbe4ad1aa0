"""Counts over suffix-array ranges by statement (analysis.phrases.ranges) against plain
Python: every occurrence expanded, its statement looked up, the pairs made unique."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.phrases import ranges as ranges_module
from analysis.phrases.ranges import SIDE_A, SIDE_B, range_periods, rank_docs, runs_with, side_counts


def oracle(sa, doc_tokens, lo, freq, side):
    """Each range's (A occurrences, A statements, B occurrences, B statements)."""
    doc_of = [d for d, k in enumerate(doc_tokens) for _ in range(k)]
    out = []
    for a, f in zip(lo, freq, strict=True):
        docs = [doc_of[int(p)] for p in sa[a:a + f]]
        in_a = [d for d in docs if side[d] & SIDE_A]
        in_b = [d for d in docs if side[d] & SIDE_B]
        out.append((len(in_a), len(set(in_a)), len(in_b), len(set(in_b))))
    return out


@settings(max_examples=200, deadline=None)
@given(doc_tokens=st.lists(st.integers(0, 9), min_size=1, max_size=12), data=st.data())
def test_side_counts_equal_the_expanded_occurrences(doc_tokens, data):
    """Any permutation as the suffix array, any ranges (overlapping, nested, empty), any
    sides (a statement in A, B, both or neither, an empty statement), the work cut for
    one to three threads: the compiled passes give the oracle's counts."""
    n = sum(doc_tokens)
    sa = np.array(data.draw(st.permutations(range(n))), np.int32) if n else np.zeros(0, np.int32)
    side = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(doc_tokens), max_size=len(doc_tokens))),
                    np.uint8)
    ranges = data.draw(st.lists(st.integers(0, n).flatmap(lambda a: st.tuples(st.just(a), st.integers(0, n - a))),
                                max_size=10))
    lo = np.array([a for a, _ in ranges], np.int64)
    freq = np.array([f for _, f in ranges], np.int64)
    want = [d for p in sa.tolist() for d, k in enumerate(doc_tokens) if sum(doc_tokens[:d]) <= p < sum(doc_tokens[:d + 1])]
    shift = data.draw(st.sampled_from([0, 1, 2, ranges_module.RANK_BLOCK]))  # a table entry every 2**shift tokens
    threads = data.draw(st.integers(1, 3))
    kept = ranges_module.RANK_BLOCK, ranges_module.THREAD_LEAST
    ranges_module.RANK_BLOCK, ranges_module.THREAD_LEAST = shift, 1  # a thread from one rank, one occurrence on
    try:
        docs = rank_docs(sa, np.array(doc_tokens), threads)
        got = side_counts(docs, lo, freq, side, threads)
    finally:
        ranges_module.RANK_BLOCK, ranges_module.THREAD_LEAST = kept
    assert docs.tolist() == want
    assert got.shape == (4, len(ranges))
    assert [tuple(c) for c in got.T.tolist()] == oracle(sa, doc_tokens, lo, freq, side)


@settings(max_examples=300, deadline=None)
@given(weights=st.one_of(st.integers(0, 50), st.lists(st.integers(0, 9), max_size=30)),
       parts=st.integers(1, 5), least=st.integers(1, 20))
def test_split_cuts_the_work_in_runs_of_about_equal_weight(weights, parts, least):
    """The runs cover 0 .. n - 1 in order, none empty; at most ``parts`` of them and no
    more than the weight allows at ``least`` a run; more than one only where the weight
    reaches twice ``least``, each run's weight then within one item's of an equal share."""
    w = np.ones(weights, np.int64) if isinstance(weights, int) else np.array(weights, np.int64)
    runs = ranges_module.split(weights if isinstance(weights, int) else w, parts, least)
    n, total = len(w), int(w.sum())
    assert [x for run in runs for x in run] == ([0, *[x for _, b in runs[:-1] for x in (b, b)], n] if n else [])
    assert all(b > a for a, b in runs)
    assert len(runs) <= max(1, min(parts, total // least))
    if len(runs) > 1:
        share, heaviest = total / len(runs), int(w.max())
        assert all(abs(int(w[a:b].sum()) - share) <= heaviest + 1 for a, b in runs)


def test_rank_docs_widens_past_65536_statements():
    tokens = np.ones(70_000, np.int64)
    sa = np.arange(70_000, dtype=np.int32)[::-1].copy()
    docs = rank_docs(sa, tokens)
    assert docs.dtype == np.uint32 and docs[0] == 69_999 and docs[-1] == 0
    assert rank_docs(np.arange(10, dtype=np.int32), np.ones(10, np.int64)).dtype == np.uint16


def test_rank_docs_reject_a_suffix_past_the_tokens():
    with pytest.raises(ValueError, match="past the statements' tokens"):
        rank_docs(np.array([0, 5], np.int32), np.array([2, 3]))
    with pytest.raises(ValueError, match="past the statements' tokens"):
        rank_docs(np.array([0], np.int32), np.zeros(0, np.int64))


def test_side_counts_reject_a_range_past_the_end():
    docs = np.zeros(5, np.uint16)
    with pytest.raises(ValueError, match="outside the suffix array"):
        side_counts(docs, np.array([3]), np.array([3]), np.array([1], np.uint8))
    with pytest.raises(ValueError, match="outside the suffix array"):
        side_counts(docs, np.array([-1]), np.array([1]), np.array([1], np.uint8))


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(0, 5), min_size=1, max_size=40), wanted=st.lists(st.booleans(), min_size=6, max_size=6),
       data=st.data())
def test_runs_with_equals_any(ids, wanted, data):
    """A run holds a wanted id exactly when Python's ``any`` over its slice says so."""
    n = len(ids)
    runs = data.draw(st.lists(st.integers(0, n).flatmap(lambda a: st.tuples(st.just(a), st.integers(0, n - a))),
                              max_size=10))
    pos = np.array([a for a, _ in runs], np.int64)
    length = np.array([k for _, k in runs], np.int64)
    got = runs_with(np.array(ids, np.uint32), pos, length, np.array(wanted))
    assert got.tolist() == [any(wanted[t] for t in ids[a:a + k]) for a, k in runs]


def test_runs_with_and_side_counts_refuse_what_they_would_read_past():
    """The compiled loops read their arrays unchecked: what would take them past an end is refused first."""
    ids = np.array([0, 1, 7], np.uint32)
    with pytest.raises(ValueError, match="outside the tokens"):
        runs_with(ids, np.array([2]), np.array([2]), np.ones(8, bool))
    with pytest.raises(ValueError, match="past the marks"):
        runs_with(ids, np.array([0]), np.array([3]), np.zeros(2, bool))
    assert runs_with(ids, np.array([0]), np.array([2]), np.array([False, True])).tolist() == [True]  # stops before 7
    with pytest.raises(ValueError, match="without a side"):
        side_counts(np.array([0, 3], np.uint16), np.array([0]), np.array([2]), np.zeros(3, np.uint8))


@settings(max_examples=200, deadline=None)
@given(doc_tokens=st.lists(st.integers(0, 9), min_size=1, max_size=12), data=st.data())
def test_range_periods_equal_the_expanded_occurrences(doc_tokens, data):
    """Any permutation as the suffix array, any ranges (overlapping, nested, empty), any
    periods (a statement left out: -1; a period no statement has): each (range, period)
    where the range occurs, in order, with its distinct statements and occurrences, as
    plain Python counts them; blocks of ranges as small as one range each."""
    n = sum(doc_tokens)
    sa = np.array(data.draw(st.permutations(range(n))), np.int32) if n else np.zeros(0, np.int32)
    n_periods = data.draw(st.integers(1, 4))
    period = np.array(data.draw(st.lists(st.integers(-1, n_periods - 1), min_size=len(doc_tokens),
                                         max_size=len(doc_tokens))), np.int64)
    ranges = data.draw(st.lists(st.integers(0, n).flatmap(lambda a: st.tuples(st.just(a), st.integers(0, n - a))),
                                max_size=10))
    lo = np.array([a for a, _ in ranges], np.int64)
    freq = np.array([f for _, f in ranges], np.int64)
    doc_of = [d for d, k in enumerate(doc_tokens) for _ in range(k)]
    want = []
    for i, (a, f) in enumerate(ranges):
        docs = [doc_of[int(p)] for p in sa[a:a + f] if period[doc_of[int(p)]] >= 0]
        for q in range(n_periods):
            here = [d for d in docs if period[d] == q]
            if here:
                want.append((i, q, len(set(here)), len(here)))
    bins = data.draw(st.sampled_from([1, len(doc_tokens), 3 * len(doc_tokens), ranges_module.PERIOD_BINS]))
    kept, ranges_module.PERIOD_BINS = ranges_module.PERIOD_BINS, bins
    try:
        got = range_periods(sa, lo, freq, lambda pos: np.array([doc_of[p] for p in pos], np.int64), period, n_periods)
    finally:
        ranges_module.PERIOD_BINS = kept
    assert list(zip(*(a.tolist() for a in got), strict=True)) == want


def test_range_periods_refuse_what_they_would_read_past():
    sa = np.arange(4, dtype=np.int32)
    docs = lambda pos: pos // 2  # noqa: E731 - two statements of two tokens
    with pytest.raises(ValueError, match="a range outside the suffix array"):
        range_periods(sa, np.array([3]), np.array([2]), docs, np.array([0, 0]), 1)
    with pytest.raises(ValueError, match="period outside"):
        range_periods(sa, np.array([0]), np.array([2]), docs, np.array([0, 1]), 1)
    with pytest.raises(ValueError, match="statement outside"):
        range_periods(sa, np.array([0]), np.array([4]), docs, np.array([0]), 1)


@settings(max_examples=300, deadline=None)
@given(doc_tokens=st.lists(st.integers(0, 40), min_size=1, max_size=30), shift=st.sampled_from([0, 1, 3, 8]),
       data=st.data())
def test_doc_lookup_equals_the_binary_search(doc_tokens, shift, data):
    """The statement of token positions by the block table equals numpy's binary search
    (the last statement starting at or before the position): empty statements anywhere
    (first, last, in runs), blocks of 1 to 256 tokens, positions in any order and
    repeated; a position outside the tokens is refused."""
    from analysis.phrases import index as index_module
    from analysis.phrases.index import doc_lookup

    tokens = np.array(doc_tokens, np.int64)
    first = np.concatenate(([0], np.cumsum(tokens)[:-1]))
    total = int(tokens.sum())
    positions = np.array(data.draw(st.lists(st.integers(0, max(total - 1, 0)), max_size=60 if total else 0)), np.int64)
    kept, index_module.DOC_BLOCK = index_module.DOC_BLOCK, shift
    try:
        got = doc_lookup(first, positions, total)
        with pytest.raises(ValueError, match="outside the statements' tokens"):
            doc_lookup(first, np.array([total]), total)
    finally:
        index_module.DOC_BLOCK = kept
    assert got.dtype == np.int64
    assert got.tolist() == (np.searchsorted(first, positions, side="right") - 1).tolist()
    assert all(first[d] <= p < first[d] + tokens[d] for d, p in zip(got.tolist(), positions.tolist(), strict=True))
