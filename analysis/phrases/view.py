"""The corpus view: a snapshot with its phrase indexes and analyzer, memoised.

Formulae matching, families, timelines and comparisons all read a corpus through one
:class:`CorpusView`, which takes everything from the phrase engine's stored index
(no re-tokenising) and keeps one corpus in memory at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ..ingest.snapshot import corpus_load, corpus_manifest
from ..text.analyzer import Analyzer
from .build import index_build
from .index import PhraseIndex, index_load


class CorpusView:
    """A corpus snapshot with its phrase indexes and analyzer, loaded lazily and memoised.

    Everything is read from the phrase engine's stored index
    (:func:`analysis.phrases.build.index_build`, built on first use and reused while the
    snapshot is unchanged), so no text is re-tokenised here.

    ``statements``: doc, id, source, date, date_precision, language, duplicate_of (no text);
    :meth:`index` the :class:`~analysis.phrases.index.PhraseIndex` of a level; :meth:`stream`
    the prepared form stream of a level (see :func:`analysis.formulae.match.stream_prepare`; ``sent`` is a
    corpus-wide sentence number); :meth:`doc_tokens` countable pieces per statement.
    """

    def __init__(self, name: str, store=None, *, rebuild: bool = True):
        self.name = name
        self.store = store
        self.rebuild = rebuild
        self.manifest = corpus_manifest(name, store)
        self.language = self.manifest.get("language", "ar")
        self._lf = corpus_load(name, store)
        self.statements = self._lf.select(
            "doc", "id", "source", "date", "date_precision", "language", "duplicate_of"
        ).collect()
        self._analyzer = None
        self._index: dict[str, Any] = {}
        self._streams: dict[str, tuple] = {}
        self.cache: dict[tuple, Any] = {}  # derived results (e.g. lexicon matches) per parameters

    @property
    def snapshot_sha256(self) -> str | None:
        return self.manifest.get("snapshot_sha256")

    def texts(self):
        return self._lf.select("doc", "text")

    def index(self, level: str) -> PhraseIndex:
        if level not in self._index:
            # rebuild=False opens the stored index as it is (benchmarks: no rebuild mid-run)
            self._index[level] = (index_build(self.name, level, self.store) if self.rebuild
                                  else index_load(self.name, level, self.store))
        return self._index[level]

    @property
    def analyzer(self):
        """Analyzer for query phrases (vocabulary counts from the index's word table)."""
        if self._analyzer is None:
            counts = None
            if self.language == "ar":  # clitic splits depend on the corpus vocabulary
                words = self.index("clitic").folder / "words.parquet"
                if words.exists():
                    w = pl.read_parquet(words)
                    counts = dict(zip(w["norm"].to_list(), w["count"].to_list(), strict=True))
            self._analyzer = Analyzer.for_corpus(self.manifest, counts=counts)
        return self._analyzer

    def stream(self, level: str):
        if level not in self._streams:
            self._streams[level] = _stream_from_index(self.index(level))
        return self._streams[level]

    def doc_tokens(self, level: str):
        docs = self.index(level).table("docs").select("doc", "tokens").collect()
        return (self.statements.select("doc").join(docs, on="doc", how="left")
                .with_columns(pl.col("tokens").fill_null(0).cast(pl.UInt32)).sort("doc"))


def _stream_from_index(ix) -> tuple:
    """(tokens, vocab) as :func:`analysis.formulae.match.stream_prepare` gives them, read from a phrase index."""
    docs = ix.table("docs").select("doc", "tokens", "first").sort("doc").collect()
    counts = docs["tokens"].to_numpy().astype(np.int64)
    total = int(counts.sum())
    doc = np.repeat(docs["doc"].to_numpy().astype(np.uint32), counts)
    # pos: 0-based within the doc; sent: corpus-wide sentence number (uint32, no int64 temporaries)
    pos = np.ones(total, np.uint32)
    starts = np.cumsum(counts) - counts
    nz = counts > 0
    pos[starts[nz]] = 0
    pos = np.cumsum(pos, dtype=np.uint32)
    pos -= np.repeat(pos[starts[nz]], counts[nz])
    sent = np.zeros(total, np.uint32)
    ss = np.asarray(ix.array("sent_starts"), np.int64)
    sent[ss[ss < total]] = 1
    sent = np.cumsum(sent, dtype=np.uint32) - np.uint32(1)
    toks = pl.DataFrame({
        "doc": doc, "sent": sent, "pos": pos,
        "start": np.asarray(ix.array("start"), np.uint32), "end": np.asarray(ix.array("end"), np.uint32),
        "fid": np.asarray(ix.array("ids"), np.uint32),
    })
    vocab = ix.table("vocab").select("form", pl.col("id").cast(pl.UInt32).alias("fid")).collect()
    return toks, vocab


_VIEWS: dict[tuple[str, str, str | None], CorpusView] = {}


def corpus_view(name: str, store=None) -> CorpusView:
    """Memoised :class:`CorpusView` (rebuilt when the snapshot hash changes)."""
    sha = corpus_manifest(name, store).get("snapshot_sha256")
    key = (name, str(store), sha)
    if key not in _VIEWS:
        _VIEWS.clear()  # one corpus in memory at a time keeps peak memory bounded
        _VIEWS[key] = CorpusView(name, store)
    return _VIEWS[key]
