"""The corpus view: a snapshot with its phrase indexes and analyzer, memoised.

Formulae matching, families, timelines and comparisons all read a corpus through one
:class:`CorpusView`, which takes everything from the phrase engine's stored index
(no re-tokenising) and keeps one corpus in memory at a time. What reads tokens and
statements only (the form streams, the statements' token counts: lexicon matches,
timelines) reads statements appended since the last build as a layer over the index
(:mod:`analysis.phrases.delta`); the phrase tables are read from the index built whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..ingest.snapshot import corpus_load, corpus_manifest
from ..text.analyzer import Analyzer
from ..text.languages import content_forms
from ..vocab import language_levels
from .build import index_build, index_update
from .engine import Encoded, forms_encode
from .index import Layers, PhraseIndex, index_load, index_open


class CorpusView:
    """A corpus snapshot with its phrase indexes and analyzer, loaded lazily and memoised.

    Everything is read from the phrase engine's stored index
    (:func:`analysis.phrases.build.index_build`, built on first use and reused while the
    snapshot is unchanged), so no text is re-tokenised here.

    ``statements``: doc, id, source, date, date_precision, language, duplicate_of (no text);
    :meth:`index` the :class:`~analysis.phrases.index.PhraseIndex` of a level (built whole:
    its tables); :meth:`stream` the prepared form stream of a level (see
    :func:`analysis.formulae.match.stream_prepare`; ``sent`` is a corpus-wide sentence
    number); :meth:`doc_tokens` countable pieces per statement. These two read
    :meth:`tokens_index`, which may be the layers of an index and the statements appended
    since (:class:`~analysis.phrases.index.Layers`): their rows are a whole build's.
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
        self._layers: dict[str, PhraseIndex | Layers] = {}
        self._streams: dict[str, tuple] = {}
        self._words: dict[tuple, dict] = {}
        self.cache: dict[tuple, Any] = {}  # derived results (e.g. lexicon matches) per parameters
        self.texts_repaired: str | None = None  # what was damaged in the texts store spans_text made again

    @property
    def snapshot_sha256(self) -> str | None:
        return self.manifest.get("snapshot_sha256")

    def texts(self):
        return self._lf.select("doc", "text")

    def spans_text(self, doc: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[str]:
        """The verbatim text of statement ``doc[i]`` from character ``start[i]`` to
        ``end[i]``, for every i: read from the corpus's texts store
        (:mod:`analysis.ingest.texts`, made first after an ingest), each statement decoded
        once and only where its bytes are not all ASCII (else its bytes are its characters).
        The lexicon's matches on ungdc (14,351 in 5,479 statements): 52 ms, where reading
        the statements' texts from the snapshot and slicing them in polars took 128 ms
        (what is done where the store cannot be made: a read-only store, a full disk).
        A texts store found damaged is made again, and :attr:`texts_repaired` says what was
        damaged (the commands' note, as ``kwic``'s)."""
        from ..ingest.texts import texts_open

        sha = self.snapshot_sha256
        if sha is None:  # pragma: no cover - every snapshot's manifest has its hash
            raise FormulaeError(f"corpus {self.name!r}: its snapshot manifest has no sha256; re-ingest it")
        try:
            store = texts_open(self.name, sha, self.store)
            self.texts_repaired = self.texts_repaired or store.repaired
        except OSError:  # not there yet, and the store is read-only (or full): the snapshot's texts, sliced
            docs = pl.Series("doc", np.asarray(doc), pl.UInt32)
            texts = self.texts().filter(pl.col("doc").is_in(docs.unique().implode())).collect()
            return (pl.DataFrame({"doc": docs, "start": np.asarray(start), "end": np.asarray(end)})
                    .join(texts, on="doc", how="left", maintain_order="left")
                    .select(pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start")))
                    .to_series().to_list())
        out = [""] * len(doc)
        order = np.argsort(doc, kind="stable")
        at, raw, text = -1, b"", None  # text: the decoded statement, None while its bytes are ASCII
        for i, d, s0, e0 in zip(order.tolist(), np.asarray(doc)[order].tolist(), np.asarray(start)[order].tolist(),
                                np.asarray(end)[order].tolist(), strict=True):
            if d != at:
                at, raw = d, store.raw(d)
                text = None if raw.isascii() else raw.decode("utf-8")
            out[i] = raw[s0:e0].decode("ascii") if text is None else text[s0:e0]
        return out

    def index(self, level: str) -> PhraseIndex:
        if level not in self._index:
            # rebuild=False opens the stored index as it is (benchmarks: no rebuild mid-run)
            self._index[level] = (index_build(self.name, level, self.store) if self.rebuild
                                  else index_load(self.name, level, self.store))
        return self._index[level]

    def tokens_index(self, level: str) -> PhraseIndex | Layers:
        """The index of a level for what reads tokens and statements only (:meth:`stream`,
        :meth:`doc_tokens`): :meth:`index` once it is loaded, else the stored index with
        the statements appended since indexed as a layer over it
        (:func:`analysis.phrases.build.index_update`; ``rebuild`` False:
        :func:`analysis.phrases.index.index_open`)."""
        if level in self._index:
            return self._index[level]
        if level not in self._layers:
            ix = index_update(self.name, level, self.store) if self.rebuild else index_open(self.name, level, self.store)
            if isinstance(ix, PhraseIndex):  # the index built whole: what index() reads too (one set of mappings)
                self._index[level] = ix
                return ix
            self._layers[level] = ix
        return self._layers[level]

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
            self._streams[level] = _stream_from_index(self.tokens_index(level))
        return self._streams[level]

    def word_flags(self, level: str, user_words=()) -> dict[str, np.ndarray]:
        """Per token of the level's index, jieba word flags (:func:`analysis.text.segment.word_flags`:
        ``begin``, ``finish``, ``content``) for text written without spaces (Chinese).

        Each text is segmented once, with ``user_words`` (the lexicon's wordings) added;
        the flags are cached beside the index as ``words-<key>.npz`` (the key hashes jieba's
        version and the user words; a rebuilt index drops them). A folder that cannot be
        written only costs the cache."""
        from ..store import atomic_file, store_root
        from ..text.segment import user_words_key, word_flags, word_spans

        ix = self.index(level)
        key = (level, user_words_key(user_words))
        if key in self._words:
            return self._words[key]
        path = ix.folder / f"words-{key[1]}.npz"
        if path.exists():
            with np.load(path) as z:
                flags = {k: z[k] for k in z.files}
        else:
            toks, _ = self.stream(level)
            texts = self.texts().sort("doc").collect()
            if not np.array_equal(texts["doc"].to_numpy(), np.arange(texts.height)):
                raise FormulaeError(f"corpus {self.name!r}: snapshot docs are not 0..n-1; re-ingest it")
            spans = word_spans(texts["text"].to_list(), user_words, store_root(self.store) / ".cache" / "jieba")
            flags = word_flags(spans, toks["doc"].to_numpy(), toks["start"].to_numpy(), toks["end"].to_numpy(),
                               self.language)
            try:
                with atomic_file(path) as fh:
                    np.savez(fh, begin=flags["begin"], finish=flags["finish"], content=flags["content"])
                for other in ix.folder.glob("words-*.npz"):  # other user words: one cache kept
                    if other != path:
                        other.unlink(missing_ok=True)
            except (FormulaeError, OSError):  # read-only index folder: computed again next time
                pass
        self._words[key] = flags
        return flags

    def word_stream(self, level: str, user_words=()):
        """(tokens, vocab) like :meth:`stream`, one row per jieba word instead of per
        character (text written without spaces): a word is the characters from one
        :meth:`word_flags` ``begin`` to the next (never across a sentence); ``form`` is the
        characters' forms joined, ``start``/``end`` span the word, ``pos`` counts words."""
        toks, vocab = self.stream(level)
        flags = self.word_flags(level, user_words)
        new = (pl.Series(flags["begin"]) | (toks["doc"] != toks["doc"].shift(1)).fill_null(True)
               | (toks["sent"] != toks["sent"].shift(1)).fill_null(True))
        forms = vocab.sort("fid")["form"]
        words = (toks.select("doc", "sent", "start", "end", forms.gather(toks["fid"]).alias("form"),
                             (new.cast(pl.UInt32).cum_sum() - 1).alias("w"))
                 .group_by("w", maintain_order=True)
                 .agg(pl.col("doc").first(), pl.col("sent").first(), pl.col("start").first(),
                      pl.col("end").last(), pl.col("form").str.join("")))
        wvocab = (words.select(pl.col("form").unique().sort())
                  .with_row_index("fid").select("form", pl.col("fid").cast(pl.UInt32)))
        first = (pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
        row = pl.int_range(pl.len(), dtype=pl.UInt32)
        words = (words.join(wvocab, on="form", how="left", maintain_order="left")
                 .with_columns((row - pl.when(first).then(row).forward_fill()).alias("pos"))
                 .select("doc", "sent", "pos", "start", "end", "fid"))
        return words, wvocab

    def content_flags(self, level: str, height: int) -> np.ndarray:
        """Per token of the level (``height`` of them): is this piece a content word
        (:func:`analysis.text.languages.content_forms`)? Decided on the piece's ``clitic``
        form (``norm`` where the language has none, or where the pieces differ: the level's
        own), not on its stem, so a stopword never hides a content word with the same stem
        (ISRI stems both ``واحد`` 'one' and ``وحدة`` 'unity' to ``وحد``). Read from the
        index's ids and vocabulary (over layers, from the stream): no stream of that level."""
        base = level
        if level in ("stem", "lemma"):
            base = "clitic" if "clitic" in language_levels(self.language) else "norm"
        for lv in (base, level):
            ix = self.tokens_index(lv)
            if isinstance(ix, PhraseIndex):
                ids, forms = np.asarray(ix.array("ids")), ix.vocabulary()
            else:
                toks, vocab = self.stream(lv)
                ids, forms = toks["fid"].to_numpy(), vocab.sort("fid")["form"]
            if len(ids) == height:
                break
        return content_forms(forms, self.language).to_numpy()[ids]

    def doc_tokens(self, level: str):
        tokens = np.asarray(self.tokens_index(level).array("doc_tokens"))  # (an index's, or its layers' together)
        docs = pl.DataFrame({"doc": np.arange(len(tokens), dtype=np.uint32), "tokens": tokens.astype(np.uint32)})
        return (self.statements.select("doc").join(docs, on="doc", how="left")
                .with_columns(pl.col("tokens").fill_null(0).cast(pl.UInt32)).sort("doc"))


def subset_columns(toks: pl.DataFrame, content: np.ndarray, kept: pl.Series) -> dict[str, np.ndarray]:
    """The tokens of the statements ``kept`` (sorted doc numbers) of a (doc, pos)-sorted
    stream (:meth:`CorpusView.stream`, ``word_stream``) and its ``content`` flags, as numpy
    columns (``doc`` renumbered 0.. in that order, ``sent``, ``pos``, ``start``, ``end``,
    ``fid``, ``content``): a gather a column, where the frames of a join and a sort held
    the stream two and three times over."""
    doc = toks["doc"].to_numpy()
    new = np.full(max(int(doc.max(initial=0)), int(kept.max() or 0)) + 1, -1, np.int32)
    new[kept.to_numpy()] = np.arange(len(kept), dtype=np.int32)
    d = new[doc]
    if len(kept) == len(new) or (d >= 0).all():  # every statement: the columns as they are
        rows: slice | np.ndarray = slice(None)
    else:
        rows = np.flatnonzero(d >= 0)
    out = {"doc": d[rows].astype(np.uint32), "content": np.asarray(content)[rows]}
    del d
    for name in ("sent", "pos", "start", "end", "fid"):
        out[name] = toks[name].to_numpy()[rows]
    return out


def index_columns(ix: PhraseIndex, kept: pl.Series | None = None, content: np.ndarray | None = None
                  ) -> dict[str, np.ndarray]:
    """The index's tokens as numpy columns (``doc``, ``sent``, ``pos``, ``start``, ``end``,
    ``fid``; ``content`` with the flags a token of the index): every statement's
    (:meth:`CorpusView.stream`), or :func:`subset_columns` of that stream for the statements
    ``kept`` (sorted doc numbers, renumbered 0.. in that order), read at their positions
    only: no stream of the whole corpus is made for a subset (ungdc: 32 M rows, 734 MB,
    which the view kept for as long as it lived)."""
    tokens = np.asarray(ix.array("doc_tokens"), np.int64)
    docs = np.arange(len(tokens)) if kept is None else kept.to_numpy().astype(np.int64)
    first = np.asarray(ix.array("doc_first"), np.int64)[docs]
    counts = tokens[docs]
    total = len(ix.array("ids"))
    size = int(counts.sum())
    doc = np.repeat(np.arange(len(docs), dtype=np.uint32), counts)
    # pos: 0-based within the statement (uint32, no int64 temporaries; no numba on the query path)
    pos = np.ones(size, np.uint32)
    starts, nz = np.cumsum(counts) - counts, counts > 0
    pos[starts[nz]] = 0
    pos = np.cumsum(pos, dtype=np.uint32)
    pos -= np.repeat(pos[starts[nz]], counts[nz])
    rows: slice | np.ndarray = slice(None)
    if size < total:  # the kept statements' positions in the index
        rows = np.repeat(first, counts)
        rows += pos
    out = {"doc": doc, "sent": _sentence_numbers(ix, total)[rows], "pos": pos}
    for name, column in (("start", "start"), ("end", "end"), ("fid", "ids")):
        out[name] = np.asarray(ix.array(column)[rows], np.uint32)
    if content is not None:
        out["content"] = np.asarray(content)[rows]
    return out


def index_vocab(ix: PhraseIndex) -> pl.DataFrame:
    """The index's vocabulary as :meth:`CorpusView.stream` gives it (``form``, ``fid``)."""
    return ix.table("vocab").select("form", pl.col("id").cast(pl.UInt32).alias("fid")).collect()


def ids_encoded(columns: dict[str, np.ndarray], vocab: pl.DataFrame) -> Encoded:
    """A (doc, pos)-sorted stream's numpy ``columns`` whose forms are ids already (``fid``,
    rows of ``vocab``: ``form``, ``fid``) as :class:`Encoded`, with no string column over
    the tokens: as :func:`~analysis.phrases.engine.stream_encode` of the stream with its
    forms joined in would give it, but for forms of the vocabulary that the stream does
    not use (no row counts them). A vocabulary that is not its forms sorted (the ids'
    order is the suffix array's) is encoded again (:func:`forms_encode` of the forms, not
    of the tokens)."""
    vocab = vocab.sort("fid")
    forms, fid = vocab["form"], columns["fid"]
    if not (np.array_equal(vocab["fid"].to_numpy(), np.arange(vocab.height))
            and forms.is_sorted() and forms.n_unique() == vocab.height):
        lut = np.zeros(int(vocab["fid"].max()) + 1, np.uint32)
        forms, lut[vocab["fid"].to_numpy()] = forms_encode(forms)
        fid = lut[fid]
    return Encoded(vocab=forms.alias("form"), ids=np.asarray(fid, np.uint32), doc=columns["doc"],
                   sent=columns["sent"], start=columns["start"], end=columns["end"])


def _stream_from_index(ix: PhraseIndex | Layers) -> tuple:
    """(tokens, vocab) as :func:`analysis.formulae.match.stream_prepare` gives them, read from a phrase index."""
    if isinstance(ix, Layers):
        return _stream_from_layers(ix)
    columns = index_columns(ix)
    return pl.DataFrame({k: columns[k] for k in ("doc", "sent", "pos", "start", "end", "fid")}), index_vocab(ix)


def _sentence_numbers(ix: PhraseIndex, total: int) -> np.ndarray:
    """Every token's sentence number in the corpus (uint32, no int64 temporaries)."""
    sent = np.zeros(total, np.uint32)
    ss = np.asarray(ix.array("sent_starts"), np.int64)
    sent[ss[ss < total]] = 1
    return np.cumsum(sent, dtype=np.uint32) - np.uint32(1)


def _stream_from_layers(layers: Layers) -> tuple:
    """:func:`_stream_from_index` of the whole, from its layers' (one part after the
    other): a later part's statements and sentences numbered after the earlier parts',
    its form ids those of the union of the parts' vocabularies, sorted as a whole build's
    (:func:`analysis.phrases.engine.forms_encode`: the distinct forms, sorted)."""
    streams = [(_stream_from_index(ix), d0) for ix, d0, _ in layers.parts]
    vocab = pl.concat([v.get_column("form") for (_, v), _ in streams]).unique().sort()
    parts, sentences = [], 0
    for (toks, forms), d0 in streams:
        code = forms.sort("fid").get_column("form").cast(pl.Enum(vocab)).to_physical().to_numpy().astype(np.uint32)
        parts.append(toks.with_columns((pl.col("doc") + d0).cast(pl.UInt32), (pl.col("sent") + sentences).cast(pl.UInt32),
                                       pl.Series("fid", code[toks["fid"].to_numpy()], pl.UInt32)))
        sentences += int(toks["sent"].max()) + 1 if toks.height else 0
    return pl.concat(parts), pl.DataFrame({"form": vocab, "fid": np.arange(len(vocab), dtype=np.uint32)})


class TokenColumns:
    """What is read of a level's tokens by position, without its form stream: ``content``
    (a flag a token), ``sent`` (every token's sentence number in the corpus: the one array
    of the stream held, 4 bytes a token, where the stream holds 24) and, at given
    positions, ``doc``, ``pos`` (within its statement), ``start`` and ``end`` (offsets),
    read from the index (:meth:`of_index`: the statements' first positions, the
    memory-mapped offsets) or from numpy columns of the tokens (:func:`subset_columns`)."""

    def __init__(self, content: np.ndarray, sent: np.ndarray, columns: dict[str, np.ndarray] | None = None,
                 ix: PhraseIndex | None = None):
        self.content, self.sent, self._columns, self._ix = content, sent, columns or {}, ix
        self.height = len(sent)

    @classmethod
    def of_index(cls, ix: PhraseIndex, content: np.ndarray) -> TokenColumns:
        return cls(content, _sentence_numbers(ix, len(ix.array("ids"))), ix=ix)

    def at(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Column ``name`` (``doc``, ``pos``, ``start``, ``end``) at token positions ``rows``."""
        if self._ix is None:
            return self._columns[name][rows]
        if name in ("doc", "pos"):
            doc = self._ix.doc_of(rows)
            return (doc if name == "doc" else rows - np.asarray(self._ix.array("doc_first"))[doc]).astype(np.uint32)
        return np.asarray(self._ix.array(name)[rows])


_VIEWS: dict[tuple[str, str, str | None], CorpusView] = {}


def corpus_view(name: str, store=None) -> CorpusView:
    """Memoised :class:`CorpusView` (rebuilt when the snapshot hash changes)."""
    sha = corpus_manifest(name, store).get("snapshot_sha256")
    key = (name, str(store), sha)
    if key not in _VIEWS:
        _VIEWS.clear()  # one corpus in memory at a time keeps peak memory bounded
        _VIEWS[key] = CorpusView(name, store)
    return _VIEWS[key]
