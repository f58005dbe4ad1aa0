"""The suffix array of a subset of an index's statements (phrases.subset) equals sorting
the subset afresh, on real corpora."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.phrases import suffix
from analysis.phrases.engine import sentence_starts
from analysis.phrases.subset import subset_suffix
from analysis.phrases.view import corpus_view


@pytest.mark.parametrize(("corpus", "level"), [("ungd", "norm"), ("ungd", "stem"), ("mfa_ar", "clitic"),
                                               ("cn_mfa", "norm")])
def test_a_subsets_suffixes_equal_sorting_it_again(corpus, level, request, store):
    view = corpus_view(request.getfixturevalue(corpus), store)
    ix = view.index(level)
    ids_all = np.asarray(ix.array("ids"))
    doc_tokens = np.asarray(ix.array("doc_tokens"))
    sent_all = np.zeros(len(ids_all), np.int64)
    sent_all[np.asarray(ix.array("sent_starts"))] = 1
    sent_all = np.cumsum(sent_all)
    doc_all = np.repeat(np.arange(len(doc_tokens)), doc_tokens)
    rng = np.random.default_rng(7)
    subsets = [np.arange(len(doc_tokens)), np.arange(0, len(doc_tokens), 2), np.arange(1, len(doc_tokens), 3),
               np.sort(rng.choice(len(doc_tokens), max(1, len(doc_tokens) // 2), replace=False))]
    for kept in subsets:
        at = np.isin(doc_all, kept)
        ids = ids_all[at]
        starts, _ = sentence_starts(doc_all[at], sent_all[at])
        want_sa, want_cl = suffix.suffix_array(ids, starts)
        got_sa, got_cl = subset_suffix(ix, kept, ids, starts)
        assert len(ids) > 100
        assert np.array_equal(got_sa, want_sa) and np.array_equal(got_cl, want_cl)


def test_ids_not_the_indexs_are_refused(ungd, store):
    # ids of another vocabulary (a subset's own, encoded again) or of other statements
    ix = corpus_view(ungd, store).index("norm")
    ids = np.asarray(ix.array("ids"))
    every = np.arange(len(ix.array("doc_tokens")))
    with pytest.raises(ValueError, match="not the index's"):
        subset_suffix(ix, every, np.unique(ids, return_inverse=True)[1].astype(np.uint32) // 2, np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="not the index's"):
        subset_suffix(ix, every[1:], ids[1:], np.zeros(1, np.int64))


@pytest.mark.parametrize(("corpus", "level"), [("ungd", "norm"), ("mfa_ar", "stem"), ("cn_mfa", "norm")])
def test_a_subsets_columns_read_from_the_index_equal_the_streams(corpus, level, request, store):
    # view.index_columns reads the kept statements' tokens from the index (every statement's:
    # the view's stream); subset_columns gathers a subset from that stream. Both against
    # the columns made here, a statement at a time, from the index's arrays (docs with no
    # token included)
    import polars as pl

    from analysis.phrases.view import index_columns, subset_columns

    view = corpus_view(request.getfixturevalue(corpus), store)
    ix = view.index(level)
    n_tok = len(ix.array("ids"))
    content = view.content_flags(level, n_tok)
    tokens, first = np.asarray(ix.array("doc_tokens")), np.asarray(ix.array("doc_first"))
    sent = np.searchsorted(np.asarray(ix.array("sent_starts")), np.arange(n_tok), side="right") - 1
    toks, _ = view.stream(level)
    n_docs = len(tokens)
    rng = np.random.default_rng(3)
    subsets = [np.arange(n_docs), np.arange(1, n_docs, 3), np.sort(rng.choice(n_docs, n_docs // 2, replace=False)),
               np.unique(np.concatenate((np.flatnonzero(tokens == 0), [n_docs - 1])))]
    for kept in subsets:
        at = np.concatenate([np.arange(first[d], first[d] + tokens[d]) for d in kept]).astype(np.int64)
        want = {"doc": np.repeat(np.arange(len(kept)), tokens[kept]), "pos": at - np.repeat(first[kept], tokens[kept]),
                "sent": sent[at], "start": np.asarray(ix.array("start"))[at], "end": np.asarray(ix.array("end"))[at],
                "fid": np.asarray(ix.array("ids"))[at], "content": content[at]}
        kept_s = pl.Series("doc", kept, pl.UInt32)
        for got in (index_columns(ix, kept_s, content), subset_columns(toks, content, kept_s)):
            assert sorted(got) == sorted(want)
            for name, column in want.items():
                assert np.array_equal(got[name], column), name
                assert got[name].dtype == (bool if name == "content" else np.uint32), name
