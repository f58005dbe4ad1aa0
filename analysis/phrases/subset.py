"""The suffix array of a subset of an index's statements, without sorting it again.

A suffix's place in the canonical order (:func:`analysis.phrases.suffix.suffix_array`)
is decided by its sentence's tokens from it on, then by its position; a sentence lies in
one statement. So the suffixes of some of the statements, in the order of the whole
index's suffix array, are already sorted: :func:`subset_suffix` keeps them (renumbered
to the subset's positions) and finds their in-sentence LCPs with Kasai's pass, each
stopped at its sentence's end. The result equals sorting the subset afresh (ungdc from
1960 on at ``stem``, 29.6 M tokens: 8.6 s with libdivsufsort, 4.4 s kept), which the families of a
``--where`` subset used to do (:func:`analysis.formulae.families.families_find`);
:func:`subset_scan` counts such a subset.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import polars as pl

from .engine import phrases_scan, sentence_starts
from .index import PhraseIndex
from .suffix import compiled, rem_from_starts
from .view import ids_encoded

CHUNK = 1 << 23  # suffixes of the index read at a time


def subset_suffix(ix: PhraseIndex, kept: np.ndarray, ids: np.ndarray, starts: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(suffix array, in-sentence LCPs) of the tokens of the statements ``kept`` (sorted
    doc numbers) of ``ix``, whose ids in (doc, pos) order are ``ids`` (the index's own:
    same vocabulary) and whose sentences start at ``starts``
    (:func:`analysis.phrases.engine.sentence_starts` of the subset), as
    :func:`analysis.phrases.suffix.suffix_array` gives them (int32 both)."""
    doc_tokens = np.asarray(ix.array("doc_tokens"), np.int64)
    kept = np.asarray(kept, np.int64)
    counts = doc_tokens[kept]
    sub_first = np.cumsum(counts) - counts  # each kept statement's first position in the subset
    # the order is the ids': the index's ids at a sample of the kept positions must be these
    # (read through a map of its own, closed after: its pages would stay with the index's)
    sample = np.unique(np.linspace(0, len(ids) - 1, min(len(ids), 4096)).astype(np.int64))
    at = np.searchsorted(sub_first, sample, side="right") - 1
    index_ids = np.load(ix.folder / "ids.npy", mmap_mode="r")
    if int(counts.sum()) != len(ids) or not np.array_equal(
            index_ids[np.asarray(ix.array("doc_first"), np.int64)[kept[at]] + sample - sub_first[at]],
            np.asarray(ids)[sample]):
        raise ValueError("subset_suffix: the ids are not the index's at the kept statements' tokens")
    del index_ids
    keep = np.zeros(len(doc_tokens), bool)
    keep[kept] = True
    new = np.empty(int(doc_tokens.sum()), np.int32)  # every token's position in the subset, -1 if left out
    compiled(_renumber)(keep, doc_tokens, new)
    sa = np.empty(len(ids), np.int32)
    full = np.load(ix.folder / "sa.npy", mmap_mode="r")  # (a map of its own too)
    k = 0
    for r in range(0, len(full), CHUNK):
        k = compiled(_kept_ranks)(np.asarray(full[r:r + CHUNK]), new, sa, k)
    del full
    if not len(ids):
        return sa, np.zeros(0, np.int32)
    # new's buffer serves as phi, then as the LCPs (two arrays of 4 bytes a token fewer)
    phi = new[:len(ids)]  # each suffix's predecessor in the order, -1 for the first
    phi[sa[1:]] = sa[:-1]
    phi[sa[0]] = -1
    key = np.asarray(ids, np.uint64) << np.uint64(32)  # a token's id and the tokens left in its sentence: one read
    key |= rem_from_starts(starts, len(ids)).view(np.uint32)
    plcp = np.empty(len(ids), np.int32)
    compiled(_phi_lcp)(key, phi, plcp)
    del key
    return sa, np.take(plcp, sa, out=phi)


def subset_scan(columns: dict[str, np.ndarray], vocab: pl.DataFrame, canon: pl.DataFrame, base: PhraseIndex | None,
                kept: np.ndarray, *, max_n: int, min_statements: int) -> SimpleNamespace:
    """The maximal phrases of a subset's tokens (numpy ``columns`` of
    :func:`analysis.phrases.view.index_columns` or ``subset_columns``, their ``vocab``;
    ``canon``: each statement's canonical one) counted afresh in this process
    (:func:`~analysis.phrases.engine.phrases_scan`), the ids as they are: no form string a
    token, no frame a step (ungdc from 1960 on, at stem: 5.8 -> 4.6 GB). When they are the
    statements ``kept`` of the index ``base`` and hold a quarter of its tokens or more, the
    suffixes of its suffix array are kept, not sorted again (:func:`subset_suffix`; ungdc from
    1960 on, at stem: 43-45 -> 37-38 s; a smaller subset sorts as quickly as it reads the
    index's). Returns the scan's ``ids``, ``sa``, ``vocab`` and ``maximal`` (not its n-grams)."""
    encoded = ids_encoded(columns, vocab)
    if base is not None and len(encoded.ids) * 4 >= len(base.array("ids")):
        encoded.starts, encoded.n_split = sentence_starts(encoded.doc, encoded.sent)
        encoded.suffix = subset_suffix(base, kept, encoded.ids, encoded.starts)
    full = phrases_scan(encoded, canon, max_n=max_n, min_statements=min_statements, min_len=2)
    return SimpleNamespace(ids=full.ids, sa=full.sa, vocab=full.vocab, maximal=full.maximal)


def _renumber(keep, doc_tokens, new):  # pragma: no cover - numba
    """Each token's position among the kept statements' tokens (``new``), -1 if its
    statement is left out."""
    p = 0
    k = 0
    for d in range(len(doc_tokens)):
        for _ in range(doc_tokens[d]):
            if keep[d]:
                new[p] = k
                k += 1
            else:
                new[p] = -1
            p += 1


def _kept_ranks(full, new, out, k):  # pragma: no cover - numba
    """The kept suffixes of a part of the suffix array, ``full``, in its order, renumbered
    (``new``: -1 for the others) into ``out`` from ``k`` on; returns the next ``k``."""
    for r in range(len(full)):
        v = new[full[r]]
        if v >= 0:
            out[k] = v
            k += 1
    return k


def _phi_lcp(key, phi, plcp):  # pragma: no cover - numba
    """Kasai's LCP pass in its permuted form (Kärkkäinen, Manzini and Puglisi, 2009): over
    the text in order, each position's in-sentence LCP with its predecessor in the order
    (``phi``), each common prefix stopped where either suffix's sentence ends (``key``'s
    low bits). The next position's LCP is at least this one's less one within a sentence
    (its predecessor's next suffix precedes it, by the same token or, the sentences equal
    to their ends, by position); a sentence's first position starts from 0, as the prefix
    carried from the sentence before ends with it (at most 1 at its last token, less one)."""
    low = np.uint64(0xFFFFFFFF)
    shift = np.uint64(32)
    h = 0
    for i in range(len(key)):
        j = phi[i]
        if j < 0:
            plcp[i] = 0
            h = 0
            continue
        lim = min(key[i] & low, key[j] & low)
        while h < lim and (key[i + h] >> shift) == (key[j + h] >> shift):
            h += 1
        plcp[i] = h
        if h > 0:
            h -= 1
