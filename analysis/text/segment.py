"""Chinese words: jieba segmentation where word-level steps need words.

Chinese is indexed a character a token (:mod:`analysis.text.tokens`), which keeps phrase
queries exact; the word-level steps (stopword edges and word boundaries of formula
candidates, word-level variant families) take their words from ``jieba`` (its dictionary
ships in the package: nothing is downloaded). The lexicon's formulae are added as user
words, so the segmenter never splits a formula (``一个中国原则`` is one word, not
``一个`` + ``中国`` + ``原则`` whose first word is a function word).

:func:`word_spans` segments each verbatim text once and returns every word with its
code-point offsets; :func:`word_flags` maps them onto a token stream (per token: does a
word begin at its start, end at its end, and is the word holding it a content word)
without a Python loop over tokens. Segmenting runs in Python (jieba is Python), once per
text, about 7 s for the 1.58 M characters of cn-mfa; callers cache the flags
(:meth:`analysis.phrases.view.CorpusView.word_flags`).

jieba is imported only here and only on first use (a query on another language never
imports it). Its logger is silenced (it reports "Building prefix dict..." on stderr, and
a failed cache write as an error with a traceback); its dictionary cache goes to
``cache_dir`` (the store's ``.cache/jieba``) instead of a predictable name in the shared
temporary folder; a folder that cannot be written only costs the cache (about 0.5 s).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from .function_words import function_words
from .normalise import normalise_expr

SEGMENT_VERSION = "1"  # bump when the flags computed from the same words change
HMM = True  # jieba's HMM joins out-of-dictionary words (names: 赵立坚; 共赢)


def user_words_key(user_words: Iterable[str]) -> str:
    """A short hash of the segmenter's set-up (jieba version, user words, this module)."""
    import importlib.metadata as md

    h = hashlib.sha256(f"{md.version('jieba')}|{SEGMENT_VERSION}|{int(HMM)}".encode())
    for w in sorted(set(user_words)):
        h.update(b"\0" + w.encode())
    return h.hexdigest()[:12]


@lru_cache(maxsize=4)
def _segmenter(user_words: tuple[str, ...], cache_dir: str | None):
    import warnings

    with warnings.catch_warnings():  # jieba 0.42 compiles regexes with invalid escapes
        warnings.simplefilter("ignore", DeprecationWarning)
        import jieba

    # CRITICAL, not WARNING: jieba logs a failed cache write with logger.exception (an
    # ERROR record and a traceback); nothing else it logs is above DEBUG
    logging.getLogger("jieba").setLevel(logging.CRITICAL)
    tk = jieba.Tokenizer()
    if cache_dir is not None:
        try:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            tk.tmp_dir = cache_dir
        except OSError:  # read-only store: jieba's temporary folder
            pass
    tk.initialize()
    for w in user_words:
        tk.add_word(w)
    return tk


def segmenter(user_words: Iterable[str] = (), cache_dir: str | Path | None = None):
    """A jieba tokenizer with ``user_words`` added (memoised per set of user words)."""
    return _segmenter(tuple(sorted(set(user_words))), None if cache_dir is None else str(cache_dir))


def words_of(text: str, user_words: Iterable[str] = (), cache_dir: str | Path | None = None) -> list[str]:
    """The jieba words of ``text`` (with the user words; concatenated they are ``text``)."""
    return list(segmenter(user_words, cache_dir).cut(text, HMM=HMM))


def word_spans(texts: list[str], user_words: Iterable[str] = (), cache_dir: str | Path | None = None
               ) -> pl.DataFrame:
    """Every jieba word of every text: ``doc`` (index into ``texts``), ``start``, ``end``
    (code points), ``word`` (verbatim). Each text is segmented once; the words cover it."""
    tk = segmenter(user_words, cache_dir)
    words = [list(tk.cut(t or "", HMM=HMM)) for t in texts]
    counts = np.fromiter(map(len, words), np.int64, len(words))
    flat = pl.Series("word", [w for ws in words for w in ws], dtype=pl.String)
    del words
    lengths = flat.str.len_chars().to_numpy().astype(np.int64)
    ends = np.cumsum(lengths)
    firsts = np.cumsum(counts) - counts
    base = np.repeat(np.concatenate(([0], ends))[firsts], counts)
    return pl.DataFrame({
        "doc": np.repeat(np.arange(len(texts), dtype=np.uint32), counts),
        "start": (ends - lengths - base).astype(np.uint32), "end": (ends - base).astype(np.uint32),
        "word": flat,
    })


def word_flags(spans: pl.DataFrame, doc: np.ndarray, start: np.ndarray, end: np.ndarray,
               language: str = "zh") -> dict[str, np.ndarray]:
    """Per token (``doc``, code-point ``start``, ``end``): ``begin`` (a word begins at its
    start), ``finish`` (a word ends at its end) and ``content`` (the word holding its first
    character is a content word: not a function word of ``language``, at least one letter).

    Vectorised: word starts and ends are sorted (doc, offset) keys looked up with
    ``searchsorted``."""
    doc = np.asarray(doc, np.int64)
    key = doc << np.int64(32)
    w_doc = spans["doc"].to_numpy().astype(np.int64) << np.int64(32)
    w_start = w_doc + spans["start"].to_numpy().astype(np.int64)
    w_end = w_doc + spans["end"].to_numpy().astype(np.int64)
    t_start = key + np.asarray(start, np.int64)
    t_end = key + np.asarray(end, np.int64)

    def member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
        i = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
        return sorted_keys[i] == keys if len(sorted_keys) else np.zeros(len(keys), bool)

    stop = pl.Series(sorted(function_words(language)), dtype=pl.String).implode()
    norm = spans.select(normalise_expr(pl.col("word"), language, "norm").alias("w"))["w"]
    good = ((~norm.is_in(stop)) & norm.str.contains(r"\p{L}")).fill_null(False).to_numpy()
    # the word holding a token's first character: the last word starting at or before it
    at = np.maximum(np.searchsorted(w_start, t_start, side="right") - 1, 0)
    return {"begin": member(w_start, t_start), "finish": member(w_end, t_end),
            "content": good[at] if len(good) else np.zeros(len(doc), bool)}
