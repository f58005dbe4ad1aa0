"""The phrase engine against a plain-Python oracle (hypothesis) and hand-made cases."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from fractions import Fraction

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import measures as stats
from analysis.phrases import groups, suffix
from analysis.phrases.engine import phrases_scan
from analysis.phrases.groups import lcp_groups
from analysis.phrases.search import sa_range
from analysis.phrases.strings import phrase_strings


def make_stream(docs: list[list[list[str]]]) -> pl.DataFrame:
    """docs -> sentences -> forms, as a form stream (doc sent pos start end form)."""
    rows = []
    for d, sents in enumerate(docs):
        pos = 0
        for s, sent in enumerate(sents):
            for w in sent:
                rows.append((d, s, pos, pos, pos + 1, w))
                pos += 1
    schema = {"doc": pl.UInt32, "sent": pl.UInt32, "pos": pl.UInt32, "start": pl.UInt32,
              "end": pl.UInt32, "form": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def doc_table(n_docs: int, canon: list[int] | None = None) -> pl.DataFrame:
    canon = list(range(n_docs)) if canon is None else canon
    return pl.DataFrame({"doc": list(range(n_docs)), "canon": canon},
                        schema={"doc": pl.UInt32, "canon": pl.UInt32})


def oracle(docs, canon, max_n, k, min_len):
    """Plain Python: every phrase (any length) inside each sentence, counted."""
    occ: dict[tuple, Counter] = defaultdict(Counter)
    for d, sents in enumerate(docs):
        for sent in sents:
            for i in range(len(sent)):
                for j in range(i + 1, len(sent) + 1):
                    occ[tuple(sent[i:j])][d] += 1
    freq = {p: sum(c.values()) for p, c in occ.items()}
    distinct = {p: len({canon[d] for d in c}) for p, c in occ.items()}
    ngrams = {p: (freq[p], len(occ[p]), distinct[p]) for p in occ
              if len(p) <= max_n and distinct[p] >= k}

    def closed(p):
        for q in occ:
            if len(q) == len(p) + 1 and (q[1:] == p or q[:-1] == p) and freq[q] == freq[p]:
                return False
        return True

    maximal = {p: (freq[p], len(occ[p]), distinct[p]) for p in occ
               if len(p) >= min_len and distinct[p] >= k and freq[p] >= 2 and closed(p)}
    return ngrams, maximal, occ


def engine_tables(docs, canon, max_n, k, min_len):
    sc = phrases_scan(make_stream(docs), doc_table(len(docs), canon), max_n=max_n,
                      min_statements=k, min_len=min_len)
    out = []
    for table in (sc.ngrams, sc.maximal):
        ph = phrase_strings(sc.ids, sc.vocab["form"], table["pos"].to_numpy(), table["n"].to_numpy())
        rows = table.with_columns(ph).select("phrase", "freq", "statements", "distinct_statements").rows()
        out.append({tuple(p.split(" ")): (f, s, d) for p, f, s, d in rows})
    return sc, out[0], out[1]


words = st.sampled_from(["a", "b", "c", "d", "ab", "e"])
sentences = st.lists(words, min_size=1, max_size=7)
documents = st.lists(sentences, min_size=1, max_size=4)
corpora = st.lists(documents, min_size=1, max_size=6)


@settings(max_examples=120, deadline=None)
@given(corpora, st.integers(1, 4), st.integers(2, 3), st.integers(1, 3), st.booleans(), st.data())
def test_engine_matches_oracle(docs, max_n, k, min_len, compiled, data):
    canon: list[int] = []  # a duplicate points at an earlier, canonical doc
    for d in range(len(docs)):
        c = data.draw(st.integers(0, d))
        canon.append(c if c == d or canon[c] == c else d)
    want_ng, want_mx, occ = oracle(docs, canon, max_n, k, min_len)
    least = suffix.GROUPED_LEAST
    suffix.GROUPED_LEAST = 0 if compiled else least  # the compiled (group, doc) counting at any size
    try:
        sc, got_ng, got_mx = engine_tables(docs, canon, max_n, k, min_len)
    finally:
        suffix.GROUPED_LEAST = least
    assert got_ng == want_ng
    assert got_mx == want_mx
    # Gries's DP over all statements, exactly: the float nearest the rational value
    sizes = [sum(len(x) for x in sents) for sents in docs]
    total = sum(sizes)
    ph = phrase_strings(sc.ids, sc.vocab["form"], sc.ngrams["pos"].to_numpy(), sc.ngrams["n"].to_numpy())
    for p, dp in zip(ph, sc.ngrams["dp"], strict=True):
        c = occ[tuple(p.split(" "))]
        f = sum(c.values())
        want = sum(abs(Fraction(c[d], f) - Fraction(sizes[d], total)) for d in range(len(docs))) / 2
        assert dp == float(want), (p, dp, want)
    # per-statement counts from the suffix-array slices
    if sc.ngrams.height:
        per = sc.ngrams.head(5)
        ph = phrase_strings(sc.ids, sc.vocab["form"], per["pos"].to_numpy(), per["n"].to_numpy())
        doc_of = np.repeat(np.arange(len(docs)), sc.docs["tokens"].to_numpy())
        for p, lo, f in zip(ph, per["sa_lo"], per["freq"], strict=True):
            got = Counter(doc_of[sc.sa[lo:lo + f]].tolist())
            assert got == occ[tuple(p.split(" "))]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 80), min_size=1, max_size=60), st.integers(1, 300),
       st.sampled_from([np.int32, np.uint32, np.int64]), st.booleans(), st.data())
def test_group_doc_counts_equal_one_sort(runs, n_docs, dtype, shuffled, data):
    """The compiled path (sorted groups: each group's docs sorted on its own, by insertion up
    to 32, counted by doc from ``COUNTED_LEAST`` (64, and n_docs / 4) on, else numpy's sort)
    gives the pairs of one sort of ``group * n_docs + doc``."""
    group = np.repeat(np.arange(len(runs)), runs)
    docs = np.array(data.draw(st.lists(st.integers(0, n_docs - 1), min_size=len(group), max_size=len(group))),
                    dtype=dtype)
    if shuffled:  # unsorted groups take the sort
        order = np.random.default_rng(len(group)).permutation(len(group))
        group, docs = group[order], docs[order]
    key = group.astype(np.int64) * n_docs + docs.astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    least = suffix.GROUPED_LEAST
    suffix.GROUPED_LEAST = 0
    try:
        g, d, c = suffix.group_doc_counts(group, docs, n_docs)
    finally:
        suffix.GROUPED_LEAST = least
    assert np.array_equal(g, uniq // n_docs) and np.array_equal(d, uniq % n_docs) and np.array_equal(c, counts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=200), st.integers(1, 6), st.integers(1, 5))
def test_lcp_groups_compiled_equal_a_plain_scan(tail, n, least):
    """:func:`analysis.phrases.groups.lcp_groups`, compiled and numpy's, against a plain
    scan: the runs of ranks whose LCP with the rank before is >= n, of ``least`` ranks (and
    2) at least; ``right``: a rank after the first shares exactly n tokens."""
    cl = np.array([0, *tail], np.int32)
    want: list[tuple[int, int, bool]] = []
    r = 0
    while r < len(cl):
        e = r + 1
        while e < len(cl) and cl[e] >= n:
            e += 1
        if e - r >= max(least, 2):
            want.append((r, e - r, bool((cl[r + 1:e] == n).any())))
        r = e
    for compiled in (False, True):
        keep = suffix.GROUPED_LEAST
        suffix.GROUPED_LEAST = 0 if compiled else keep
        try:
            ranks, gid, lo, freq, right = lcp_groups(cl, n, least)
        finally:
            suffix.GROUPED_LEAST = keep
        assert [(int(a), int(b), bool(c)) for a, b, c in zip(lo, freq, right, strict=True)] == want
        assert ranks.dtype == gid.dtype == np.int32 and lo.dtype == freq.dtype == np.int64
        assert ranks.tolist() == [k for a, b, _ in want for k in range(a, a + b)]
        assert gid.tolist() == [g for g, (_, b, _) in enumerate(want) for _ in range(b)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 50), st.integers(1, 9)), max_size=300),
       st.sampled_from([np.int32, np.int64]), st.integers(0, 2**32 - 1))
def test_dp_exact_is_the_rational_value(pairs, count_dtype, seed):
    """DP from (group, doc, count) pairs (:func:`analysis.phrases.groups.dp_exact`, the
    small inputs' path; the group pass equals it bit for bit, below) is the float nearest
    ½ Σ_d |c_d/f − t_d/T| over every statement, computed with fractions, in whatever order
    the pairs come."""
    from fractions import Fraction

    pairs = sorted(set((g, d) for g, d, _ in pairs))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    group = np.array([pairs[k][0] for k in order], np.int64).reshape(-1)
    doc = np.array([pairs[k][1] for k in order], np.uint32).reshape(-1)
    count = rng.integers(1, 9, len(pairs)).astype(count_dtype)
    n_groups = 31
    freq = np.bincount(group, weights=count, minlength=n_groups).astype(np.int64)
    freq[freq == 0] = 1  # a group without pairs (not made by the engine): all its share is outside
    tokens = rng.integers(1, 10**6, 51).astype(np.int64)
    total = int(tokens.sum())
    want = []
    for g in range(n_groups):
        c = {int(d): int(k) for gg, d, k in zip(group, doc, count, strict=True) if gg == g}
        f = int(freq[g])
        want.append(float(sum(abs(Fraction(c.get(d, 0), f) - Fraction(int(tokens[d]), total))
                              for d in range(len(tokens))) / 2))
    assert groups.dp_exact(group, doc, count, freq, tokens, n_groups).tolist() == want


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=300), st.integers(1, 5), st.integers(1, 4), st.integers(1, 40),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_group_rows_equal_groups_and_their_stats(tail, n, least, n_docs, dupes, seed):
    """One compiled pass (:func:`analysis.phrases.groups.group_rows`: statements marked in
    an array, no sort) gives :func:`lcp_groups`' groups with :func:`group_stats`' counts and
    DP bit for bit, with and without duplicate statements."""
    rng = np.random.default_rng(seed)
    cl = np.array([0, *tail], np.int32)
    doc_sa = rng.integers(0, n_docs, len(cl)).astype(np.int32)
    canon = np.arange(n_docs, dtype=np.int32)
    if dupes:  # a duplicate points at an earlier, canonical statement
        canon = np.minimum(canon, rng.integers(0, n_docs, n_docs)).astype(np.int32)
        canon = canon[canon]
    tokens = rng.integers(1, 500, n_docs).astype(np.int64)
    got = groups.group_rows(cl, n, least, doc_sa, canon, tokens, dupes)
    ranks, gid, lo, size, right = lcp_groups(cl, n, least)
    if len(lo) == 0:
        assert got is None
        return
    freq, st_, dist, dp = groups.group_stats(ranks, gid, len(lo), doc_sa, canon, tokens, dupes, size)
    want = (lo, freq, right, st_, dist, dp)
    assert got is not None and all(a.tobytes() == b.astype(a.dtype).tobytes() for a, b in zip(got, want, strict=True))
    least_ = suffix.GROUPED_LEAST
    try:  # group_stats' own compiled path (the group pass over its groups' statements) equals its numpy one
        suffix.GROUPED_LEAST = 0
        compiled = groups.group_stats(ranks, gid, len(lo), doc_sa, canon, tokens, dupes, None)
    finally:
        suffix.GROUPED_LEAST = least_
    assert all(a.tobytes() == b.tobytes() for a, b in zip(compiled, (freq, st_, dist, dp), strict=True))


def test_fifteen_word_formula_is_one_row():
    formula = "the unity sovereignty and territorial integrity of the syrian arab republic must be fully respected".split()
    docs = [[formula, ["x", "y"]], [["z"] + formula], [formula + ["q"]]]
    _, ngrams, maximal = engine_tables(docs, [0, 1, 2], 8, 2, 2)
    assert maximal[tuple(formula)] == (3, 3, 3)
    # "the" occurs twice inside the formula, so "the" alone is closed; nothing else
    # shorter than the formula occurs outside it
    assert [p for p in maximal if len(p) > 1] == [tuple(formula)]
    assert all(len(p) <= 8 for p in ngrams)


def test_sentence_boundary_is_never_crossed():
    docs = [[["a", "b"], ["c", "d"]], [["a", "b"], ["c", "d"]]]
    _, ngrams, maximal = engine_tables(docs, [0, 1], 4, 2, 2)
    assert ("b", "c") not in ngrams
    assert set(maximal) == {("a", "b"), ("c", "d")}


def test_duplicates_do_not_count_twice():
    docs = [[["a", "b", "c"]], [["a", "b", "c"]], [["a", "b", "x"]]]
    _, ngrams, maximal = engine_tables(docs, [0, 0, 2], 3, 2, 2)
    assert ("a", "b", "c") not in ngrams  # distinct statements 1 < 2
    assert ("a", "b", "c") not in maximal  # two statements, but one distinct text
    assert maximal[("a", "b")] == (3, 3, 2)


def test_association_and_dp_match_stats():
    docs = [[["a", "b", "c"], ["a", "b"]], [["a", "x", "b"]], [["a", "b", "d", "d"]]]
    sc = phrases_scan(make_stream(docs), doc_table(3), max_n=2, min_statements=2)
    row = sc.ngrams.filter(pl.col("n") == 2).to_dicts()[0]  # "a b"
    n_tok = 12
    f_ab, f_a, f_b = 3, 4, 4
    want_g2 = stats.g2_signed(f_ab, f_b - f_ab, f_a, n_tok - f_a, cells=4)
    assert want_g2 > 0  # "a b" attract
    assert row["freq"] == 3 and math.isclose(row["g2"], want_g2)
    assert math.isclose(row["log_dice"], stats.log_dice(f_ab, f_a, f_b))
    assert math.isclose(row["pmi"], stats.pmi(f_ab, f_a, f_b, n_tok))
    assert math.isclose(row["dp"], stats.dp([2, 0, 1], [5, 3, 4]))


def test_empty_stream():
    sc = phrases_scan(make_stream([[], []]), doc_table(2))
    assert sc.ngrams.height == 0 and sc.maximal.height == 0 and len(sc.sa) == 0


def test_bad_parameters():
    with pytest.raises(ValueError, match="min_statements"):
        phrases_scan(make_stream([[["a"]]]), doc_table(1), min_statements=1)


def test_sa_range_finds_every_occurrence():
    ids = np.array([3, 1, 2, 3, 1, 2, 1, 3, 1], np.uint32)
    starts = np.array([0, 6], np.int64)  # two sentences: 3 1 2 3 1 2 | 1 3 1
    sa, _ = suffix.suffix_array(ids, starts)
    lo, hi = sa_range(ids, sa, np.array([3, 1], np.uint32), starts)
    assert sorted(sa[lo:hi].tolist()) == [0, 3, 7]
    lo, hi = sa_range(ids, sa, np.array([2, 1], np.uint32), starts)
    assert hi == lo  # "2 | 1" crosses the sentence boundary
    lo, hi = sa_range(ids, sa, np.array([1], np.uint32), starts)
    assert sorted(sa[lo:hi].tolist()) == [1, 4, 6, 8]


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.integers(0, 3), min_size=1, max_size=60), cuts=st.sets(st.integers(1, 59), max_size=8),
       pattern=st.lists(st.integers(0, 3), min_size=1, max_size=5), memory_mapped=st.booleans())
def test_sa_range_equals_a_scan_of_the_text(tokens, cuts, pattern, memory_mapped, tmp_path_factory):
    """The binary search finds exactly the positions where the pattern's tokens sit in
    one sentence (a scan of the text: the oracle), also over memory-mapped arrays (what
    the stored index gives it)."""
    ids = np.array(tokens, np.uint32)
    starts = np.array(sorted({0} | {c for c in cuts if c < len(ids)}), np.int64)
    sa, _ = suffix.suffix_array(ids, starts)
    if memory_mapped:
        folder = tmp_path_factory.mktemp("sa")
        for name, arr in (("ids", ids), ("sa", sa), ("ss", starts)):
            np.save(folder / f"{name}.npy", arr)
        ids, sa, starts = (np.load(folder / f"{n}.npy", mmap_mode="r") for n in ("ids", "sa", "ss"))
    ends = np.append(np.asarray(starts)[1:], len(ids))
    sentence_end = np.repeat(ends, np.diff(np.append(np.asarray(starts), len(ids))))
    want = [p for p in range(len(ids)) if p + len(pattern) <= sentence_end[p]
            and [int(t) for t in ids[p:p + len(pattern)]] == pattern]
    lo, hi = sa_range(ids, sa, np.array(pattern, np.uint32), starts)
    assert sorted(np.asarray(sa[lo:hi]).tolist()) == want


@pytest.mark.parametrize("top", [3, 300, 70_000])
def test_suffix_array_matches_naive_sort(top):
    rng = np.random.default_rng(top)
    ids = rng.integers(0, top, 400).astype(np.uint32)
    ids[100:140] = ids[200:240]  # a long repeat
    starts = np.array([0, 50, 51, 180, 333], np.int64)
    sa, cl = suffix.suffix_array(ids, starts)
    ends = np.append(starts[1:], len(ids))
    sent_end = np.repeat(ends, ends - starts)

    def key(p):  # in-sentence suffix, separator (-1) after it
        return ids[p:sent_end[p]].tolist() + [-1]

    # the canonical order: by in-sentence suffix, equal ones in text order (shards merge by it)
    assert sa.tolist() == sorted(range(len(ids)), key=lambda p: (key(p), p))
    for r in range(1, len(sa)):  # the LCP is the in-sentence one, exactly
        a, b = ids[sa[r - 1]:sent_end[sa[r - 1]]], ids[sa[r]:sent_end[sa[r]]]
        k = min(len(a), len(b))
        mism = np.flatnonzero(a[:k] != b[:k])
        assert cl[r] == (mism[0] if len(mism) else k)


def _naive_suffix_array(ids: np.ndarray, starts: np.ndarray) -> tuple[list[int], list[int]]:
    """The canonical order and in-sentence LCP by sorting Python lists."""
    ends = np.append(starts[1:], len(ids))
    sent_end = np.repeat(ends, ends - starts)
    seq = [ids[p:sent_end[p]].tolist() for p in range(len(ids))]
    order = sorted(range(len(ids)), key=lambda p: (seq[p], p))
    cl = [0]
    for a, b in zip(order[:-1], order[1:], strict=True):
        k = 0
        while k < min(len(seq[a]), len(seq[b])) and seq[a][k] == seq[b][k]:
            k += 1
        cl.append(k)
    return order, cl


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_suffix_array_is_the_canonical_order(data):
    """Against a sort of Python lists: few distinct ids, so that many suffixes are equal
    within their sentences (put back in text order) and share long prefixes past a
    sentence end (where the LCP stops); ids on both sides of the 16-bit text."""
    many = data.draw(st.booleans())  # many short sentences: long runs of equal suffixes
    n = data.draw(st.integers(1, 400 if many else 120))
    base = data.draw(st.sampled_from([0, 65_530, 2**32 - 10]))
    ids = np.array(data.draw(st.lists(st.integers(0, 1 if many else 3), min_size=n, max_size=n)), np.int64) + base
    ids[n // 2:n // 2 + n // 4] = ids[:n // 4]
    starts = np.array(sorted({0, *data.draw(st.lists(st.integers(0, n - 1), max_size=200 if many else 12))}),
                      np.int64)
    ids = ids.astype(np.uint32)
    sa, cl = suffix.suffix_array(ids, starts)
    want_sa, want_cl = _naive_suffix_array(ids, starts)
    assert sa.tolist() == want_sa and cl.tolist() == want_cl
    assert sa.dtype == np.int32 and cl.dtype == np.int32


@pytest.mark.parametrize("copies", [31, 32, 33, 200])
def test_suffix_array_puts_long_runs_of_equal_sentences_in_text_order(copies):
    """A sentence repeated ``copies`` times, between others: each of its suffixes is one
    run of equal suffixes, in text order in the canonical suffix array."""
    rng = np.random.default_rng(copies)
    sents = [[5, 6, 7, 5] if k % 3 else list(rng.integers(0, 9, rng.integers(1, 6))) for k in range(copies * 3 // 2)]
    ids = np.array([w for x in sents for w in x], np.uint32)
    starts = np.cumsum([0] + [len(x) for x in sents[:-1]]).astype(np.int64)
    want_sa, want_cl = _naive_suffix_array(ids, starts)
    sa, cl = suffix.suffix_array(ids, starts)
    assert sa.tolist() == want_sa and cl.tolist() == want_cl


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_left_diverse_prefix_counts_changes_of_left_neighbour(data):
    """Against its definition in Python: rank r adds one where its left neighbour (the token
    before its suffix, none at a sentence start) differs from rank r-1's or either has none."""
    n = data.draw(st.integers(1, 200))
    ids = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.uint32)
    starts = np.array(sorted({0, *data.draw(st.lists(st.integers(0, n - 1), max_size=20))}), np.int64)
    sa, _ = suffix.suffix_array(ids, starts)
    at_start = np.zeros(n, bool)
    at_start[starts] = True
    left = [None if at_start[p] else int(ids[p - 1]) for p in sa.tolist()]
    want, c = [], 0
    for r in range(n):
        c += r > 0 and (left[r] is None or left[r - 1] is None or left[r] != left[r - 1])
        want.append(c)
    got = suffix.left_diverse_prefix(ids, sa, at_start)
    assert got.tolist() == want and got.dtype == np.int32


def test_suffix_array_rejects_the_largest_id():
    with pytest.raises(ValueError, match="token ids of 2\\*\\*32 - 1"):
        suffix.suffix_array(np.array([2**32 - 1, 0], np.uint32))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_sa_merge_equals_whole_suffix_array(data):
    """Shards' suffix arrays merged (with contexts of every cap: none, a few words read
    past, whole sentences) are the whole text's, LCPs included; the origins say where
    each suffix came from; the contexts hold each suffix's first words."""
    n = data.draw(st.integers(1, 160))
    ids = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.uint32)
    ids[n // 2:n // 2 + n // 4] = ids[:n // 4]  # repeats longer than the contexts
    starts = np.array(sorted({0, *data.draw(st.lists(st.integers(0, n - 1), max_size=8))}), np.int64)
    cuts = sorted({0, n, *data.draw(st.lists(st.integers(0, n), max_size=5))})
    cuts = [c for c in cuts if c == 0 or c == n or c in set(starts.tolist())]  # shards hold whole sentences
    want_sa, want_cl = suffix.suffix_array(ids, starts)
    rem_all = suffix.rem_from_starts(starts, n)
    pos, cls, rems, sizes = [], [], [], []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):  # a shard: its text cut at sentence starts inside it
        local = starts[(starts > a) & (starts < b)] - a
        sa, cl = suffix.suffix_array(ids[a:b], np.concatenate(([0], local)))
        p = sa.astype(np.int64) + a
        left = np.minimum(rem_all[p], b - p)  # a shard's sentence ends at its end
        pos.append(p), cls.append(cl), rems.append(left.astype(np.uint16)), sizes.append(b - a)
    pos, cl, rem = np.concatenate(pos), np.concatenate(cls), np.concatenate(rems)
    for cap in (0, 1, 2, 9, 1000):  # (9: one step of 8 words, then one)
        context = None
        if cap:
            ctx, coff = suffix.suffix_contexts(lambda lo, hi: ids[lo:hi], pos, rem, sizes, cap)
            for i in range(len(pos)):  # each suffix's first min(rem, cap) words
                k = min(int(rem[i]), cap)
                assert ctx[coff[i]:coff[i] + k].tolist() == ids[pos[i]:pos[i] + k].tolist()
            context = (ctx, coff, cap)
        sa, got_cl, origin = suffix.sa_merge(pos, cl.copy(), rem, sizes, ids, context)
        assert sa.tolist() == want_sa.tolist()
        assert got_cl.tolist() == want_cl.tolist()
        assert pos[origin].tolist() == sa.tolist()


def test_context_cap_fits_the_budget():
    rem = np.array([1, 1, 3, 10, 10, 400], np.uint16)
    assert suffix.context_cap(rem, 10_000) == 400  # everything fits: the longest
    assert suffix.context_cap(rem, 20) == 5  # 1+1+3 + 3*5 = 20
    assert suffix.context_cap(rem, 19) == 4  # 1+1+3 + 3*4 = 17 <= 19 < 20
    assert suffix.context_cap(rem, 0, least=8) == 8
    assert suffix.context_cap(np.zeros(0, np.uint16), 5, least=2) == 2


def test_repelled_pair_has_negative_g2_and_no_log_dice():
    # "x y": x and y are frequent but rarely adjacent -> observed < expected, G² signed < 0
    sent = [["x", "q", "y"], ["y", "r", "x"], ["x", "y"]]
    docs = [sent * 3, sent * 3, [["x", "y"], ["x", "s", "y", "x", "t", "y", "x", "u", "y"]] * 3]
    sc = phrases_scan(make_stream(docs), doc_table(3), max_n=2, min_statements=2)
    vocab = sc.vocab["form"].to_list()
    xy = [r for r in sc.ngrams.filter(pl.col("n") == 2).to_dicts()
          if tuple(vocab[int(t)] for t in sc.ids[r["pos"]:r["pos"] + 2]) == ("x", "y")][0]
    n_tok = len(sc.ids)
    f_x, f_y = int((sc.ids == vocab.index("x")).sum()), int((sc.ids == vocab.index("y")).sum())
    want = stats.g2_signed(xy["freq"], f_y - xy["freq"], f_x, n_tok - f_x, cells=4)
    assert xy["freq"] < f_x * f_y / n_tok and want < 0
    assert math.isclose(xy["g2"], min(want, stats.g2_signed(xy["freq"], f_y - xy["freq"], f_x, n_tok - f_x, cells=4)))
    assert xy["pmi"] < 0 and xy["log_dice"] is None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**31 - 1), st.sampled_from([1, 2, 50, 10**6, 4 * 10**9]))
def test_measures_compiled_equal_the_expressions(rows, seed, big):
    """``ngram_part``'s compiled measures (from ``GROUPED_LEAST`` rows) equal the polars
    expressions of :mod:`analysis.measures` bit for bit, nulls included: repelled and
    attracted splits, a split word that is the whole text (no G² cells), an n-gram as
    frequent as both its parts (nothing left outside), and a freq of 0 (no PMI)."""
    from analysis.phrases.engine import ngram_part

    rng = np.random.default_rng(seed)
    freq = rng.integers(0, 40, rows).astype(np.uint32)
    cols = {"n": np.full(rows, 3, np.uint8), "freq": freq, "statements": freq, "distinct_statements": freq,
            "dp": rng.random(rows), "sa_lo": np.arange(rows, dtype=np.uint32), "pos": np.arange(rows, dtype=np.uint32)}
    total = int(freq.max()) * 3 + big
    for name in ("f_a1", "f_b1", "f_a2", "f_b2"):  # each at least the freq, at most the text
        extra = rng.integers(0, 3, rows) * rng.integers(0, total, rows) // 2
        cols[name] = np.minimum(freq.astype(np.int64) + extra, total).astype(np.uint32)
    cols["f_a1"][0], cols["f_b2"][-1] = total, freq[-1]  # the whole text; nothing outside the n-gram
    frame = pl.DataFrame(cols)
    least = suffix.GROUPED_LEAST
    try:
        suffix.GROUPED_LEAST = 0
        compiled = ngram_part(frame, 3, float(total))
        suffix.GROUPED_LEAST = rows + 1
        exprs = ngram_part(frame, 3, float(total))
    finally:
        suffix.GROUPED_LEAST = least
    for name in ("g2", "pmi", "log_dice"):
        a, b = compiled[name], exprs[name]
        assert a.is_null().to_list() == b.is_null().to_list(), name
        assert np.array_equal(a.drop_nulls().to_numpy().view(np.uint64), b.drop_nulls().to_numpy().view(np.uint64)), name
    assert compiled.equals(exprs)
    g2 = compiled["g2"].to_numpy()
    assert not np.signbit(g2[g2 == 0]).any()  # no -0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["b", "a", "c", "aa", "ب", "d"]), min_size=1, max_size=6),
                min_size=1, max_size=6), st.integers(0, 2**32 - 1), st.booleans())
def test_ids_encoded_equals_encoding_the_forms(sents, seed, shuffled):
    # the ids of a stream given against a vocabulary (sorted, or any order and with gaps:
    # then encoded again) are the forms' ranks among the sorted forms, as stream_encode's
    from analysis.phrases.engine import stream_encode
    from analysis.phrases.view import ids_encoded

    stream = make_stream([sents])
    forms = sorted({"zz", "0", *stream["form"].to_list()})  # and forms no token uses
    fid = np.arange(len(forms)) * (3 if shuffled else 1)
    if shuffled:
        np.random.default_rng(seed).shuffle(fid)
    vocab = pl.DataFrame({"form": forms, "fid": fid.astype(np.uint32)})
    ids = stream.join(vocab, on="form", maintain_order="left")
    got, want = ids_encoded({k: ids[k].to_numpy() for k in ("doc", "sent", "start", "end", "fid")}, vocab), \
        stream_encode(stream)
    assert got.vocab.is_sorted() and got.vocab.n_unique() == len(got.vocab) == len(forms)
    assert got.vocab.gather(got.ids).to_list() == want.vocab.gather(want.ids).to_list() == stream["form"].to_list()
    rank = {f: i for i, f in enumerate(got.vocab.to_list())}
    assert [rank[f] for f in want.vocab.to_list()] == sorted(rank[f] for f in want.vocab.to_list())
    for name in ("doc", "sent", "start", "end"):
        assert np.array_equal(getattr(got, name), getattr(want, name))
