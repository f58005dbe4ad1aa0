"""The stored phrase index of a corpus at one level: freshness and the one reader.

``<store>/<corpus>/index/<level>/`` holds Parquet tables (``ngrams``, ``maximal``,
``vocab``, ``docs``, ``words``), memory-mapped numpy arrays (``ids``, ``sa``, ``start``,
``end``, ``sent_starts``, ``doc_*``, ``surf_*``) and ``manifest.json`` recording the
snapshot hash, level, parameters, analyzer fingerprint, code hash and the versions of the
libraries that decide its forms (:func:`analysis.text.versions.library_versions`) it was made from.

Every reader opens an index through :func:`index_load`, which checks it against the
snapshot (:func:`index_stale`): a missing or stale index raises
:class:`~analysis.errors.IndexMissing` (the CLI then builds it and asks again). The
readers of positions (``query``, ``kwic``) open it through :func:`index_open`, which
also takes the stored index and a layer of statements appended since
(:class:`Layers`, :mod:`analysis.phrases.delta`) as the current snapshot's.
:class:`PhraseIndex` needs numpy and json only until a table is asked for, so the
query command starts without polars.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import FormulaeError, IndexDamaged, IndexMissing
from ..store import (
    PARTED,
    corpus_dir,
    file_sha256,
    read_json,
    stamp_read,
    stamp_state,
    table_files,
)
from ..text.versions import libraries_changed, library_versions
from ..vocab import LEVELS, check, check_level, default_level
from . import suffix

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

from .search import sa_range
from .suffix import ENGINE_VERSION

# --- the stored index -----------------------------------------------------------

ARRAYS = ("ids", "start", "end", "sent_starts", "sa")
# The code an index is made by (paths under analysis/): a change to any of it rebuilds
# stored indexes.
CODE = (
    "phrases/suffix.py", "phrases/engine.py", "phrases/build.py", "phrases/shards.py", "phrases/cuts.py",
    "phrases/streams.py", "phrases/formparts.py", "phrases/delta.py",
    "phrases/tables.py", "phrases/groups.py", "text/tokens.py", "text/coded.py",
    "text/grammar.py", "text/scanner.py", "text/data/chars.npz", "text/normalise.py",
    "text/analyzer.py", "text/versions.py",
)


@functools.cache  # the source files do not change while a process runs
def code_sha() -> str:
    """Hash of the engine version and the source of every module an index is made by."""
    h = hashlib.sha256(ENGINE_VERSION.encode())
    package = Path(str(resources.files("analysis")))
    for name in CODE:
        p = package / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def index_dir(corpus: str, level: str, store=None) -> Path:
    return corpus_dir(corpus, store) / "index" / level


def delta_dir(corpus: str, level: str, store=None) -> Path:
    """The folder of the statements appended since the index at ``level`` was built
    (:mod:`analysis.phrases.delta`)."""
    return corpus_dir(corpus, store) / "index" / f"{level}.delta"


def resolve_level(level: str | None, language: str) -> str:
    """``level``, or the language's default level; an unknown level, or one the
    language lacks (``stem`` for Chinese), is an error naming the levels it has."""
    check("--level", level or default_level(language), LEVELS)
    return check_level(level or default_level(language), language)


def aliases_sha(snapshot: dict) -> str | None:
    """Hash of the alias table a snapshot's manifest names (None: no table)."""
    path = snapshot.get("aliases")
    return file_sha256(Path(path)) if path and Path(path).exists() else None


def index_stamp(snapshot: dict, level: str, params: dict, fingerprint: str | None) -> dict:
    """What an index is made from: the keys :func:`index_stale` compares."""
    return {
        "snapshot_sha256": snapshot["snapshot_sha256"],
        "level": level,
        "params": params,
        "engine_version": ENGINE_VERSION,
        "code_sha": code_sha(),
        "analyzer": fingerprint,
        "aliases": aliases_sha(snapshot),
        "libraries": library_versions(),
    }


def index_stale(have: dict, snapshot: dict, level: str, params: dict | None = None) -> str | None:
    """Why the stored index manifest ``have`` is not the index of ``snapshot`` at ``level``
    (None: it is). The one freshness check: every reader and the builder use it.

    ``params`` None accepts the stored build parameters (a reader), otherwise they must
    be equal (the builder)."""
    stored = have.get("params") or {}
    want = index_stamp(snapshot, level, stored if params is None else params, have.get("analyzer"))
    reasons = {
        "snapshot_sha256": "it is older than its snapshot (re-ingested)",
        "level": "it was built at another level",
        "params": "it was built with other parameters",
        "engine_version": "it was built by another engine version",
        "code_sha": "it was built by other code",
        "analyzer": "it was built with another analyzer",
        "aliases": "its alias table changed",
    }
    for key, why in reasons.items():
        if have.get(key) != want[key]:
            return why
    if have.get("libraries") != want["libraries"]:
        return ("it was built with other versions of the libraries that decide its forms "
                f"({libraries_changed(have.get('libraries'), want['libraries'])})")
    return None


def snapshot_manifest(corpus: str, store=None) -> dict:
    """The snapshot manifest of ``corpus`` (json only: the query path imports no polars)."""
    base = corpus_dir(corpus, store)
    path = base / "snapshot" / "manifest.json"
    if not path.exists():
        raise FormulaeError(f"unknown corpus {corpus!r}: no snapshot in {base.parent}")
    return read_json(path)


def index_load(corpus: str, level: str | None = None, store=None) -> PhraseIndex:
    """Open the stored index of ``corpus`` at ``level`` (default: the language's).

    Missing or stale (:func:`index_stale`) -> :class:`~analysis.errors.IndexMissing`,
    naming why and the command that builds it. Arrays are memory-mapped on first use.
    """
    snapshot = snapshot_manifest(corpus, store)
    level = resolve_level(level, snapshot.get("language", "en"))
    folder = index_dir(corpus, level, store)
    build = f"run: formulae index --corpus {corpus} --level {level}"
    if not (folder / "manifest.json").exists():
        raise IndexMissing(f"no phrase index for corpus {corpus!r} at level {level!r} in "
                           f"{folder.parent}; {build}")
    manifest, damage = stamp_state(folder, "manifest.json")
    if manifest is None or damage is not None:
        raise IndexDamaged(f"the phrase index of {corpus!r} at level {level!r} in {folder} is damaged: {damage}; "
                           f"{build}")
    why = index_stale(manifest, snapshot, level)
    if why is not None:
        raise IndexMissing(f"the phrase index of {corpus!r} at level {level!r} is stale: {why}; {build}")
    return PhraseIndex(corpus=corpus, level=level, folder=folder, manifest=manifest, snapshot=snapshot)


def index_notes(manifest: dict) -> list[str]:
    """What the build bounded on pathological input (see :mod:`analysis.phrases.engine`)."""
    from .engine import SENTENCE_MAX

    notes = []
    if manifest.get("sentences_split"):
        notes.append(f"{manifest['sentences_split']:,} sentences longer than {SENTENCE_MAX:,} tokens "
                     f"(text without sentence marks) were counted as chunks of {SENTENCE_MAX:,} tokens: "
                     "no phrase crosses a chunk boundary")
    if manifest.get("long_phrases_skipped"):
        notes.append(f"{manifest['long_phrases_skipped']:,} candidate maximal phrases longer than "
                     f"{manifest.get('params', {}).get('max_n', 8)} tokens in highly repetitive text "
                     "were left out (the build keeps its work linear in the number of tokens)")
    return notes


_SIMPLE = re.compile(r"^\s*(?:[^\W_]+\s*)+$")


@dataclass
class PhraseIndex:
    """A built index: memory-mapped arrays and lazy tables, loaded on first use.

    Polars is imported only by the methods that return tables, so a query on simple
    words runs on numpy and json alone.
    """

    corpus: str
    level: str
    folder: Path
    manifest: dict
    snapshot: dict = field(default_factory=dict)
    built: bool = False  # True when index_build just (re)built it, False when it was reused
    repaired: str | None = None  # what was damaged in the stored index index_build just built again (store.stamp_state)
    _arrays: dict = field(default_factory=dict)
    _analyzer: Any = None

    def array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        return self._arrays[name]

    def table(self, name: str) -> pl.LazyFrame:
        import polars as pl

        if name in PARTED:
            return pl.scan_parquet(table_files(self.folder, name))
        return pl.scan_parquet(self.folder / f"{name}.parquet")

    @property
    def sources(self) -> list[str]:
        return list(self.manifest["sources"])

    @property
    def analyzer(self):
        """The corpus's analyzer (vocabulary read from the index's word table on demand)."""
        if self._analyzer is None:
            from ..text.analyzer import Analyzer

            words = self.folder / "words.parquet"
            self._analyzer = Analyzer.for_corpus(
                self.snapshot or self.manifest, counts=WordCounts(words) if words.exists() else None)
        return self._analyzer

    def forms_of(self, phrase: str) -> list[str]:
        """A query phrase as forms at this index's level, processed exactly like the corpus."""
        return self.analyzer.query_forms(phrase, self.level)

    def form_ids(self, forms) -> dict[str, int]:
        """The token id of each of ``forms`` the corpus has (one read of the vocabulary)."""
        import polars as pl

        hit = self.table("vocab").filter(pl.col("form").is_in(list(forms))).select("form", "id").collect()
        return dict(zip(hit["form"].to_list(), hit["id"].to_list(), strict=True))

    def ids_of(self, forms: list[str]) -> np.ndarray | None:
        """Token ids of ``forms`` (None when a form is not in the corpus)."""
        lookup = self.form_ids(forms)
        if any(f not in lookup for f in forms):
            return None
        return np.array([lookup[f] for f in forms], np.uint32)

    def phrase_ids(self, phrase: str) -> tuple[np.ndarray | None, list[str] | None]:
        """Token ids of a query phrase; (None, forms) when a form is not in the corpus.

        Simple words are looked up in the index's surface map (the exact forms the corpus
        got for that word: no tokenizer, no polars); anything else takes the analyzer."""
        fast = self.surface_ids(phrase)
        if fast is not None:
            return fast, None
        forms = self.forms_of(phrase)
        return (self.ids_of(forms) if forms else None), forms

    def surface_ids(self, phrase: str) -> np.ndarray | None:
        """The token ids of ``phrase`` from the index's surface map (simple words the corpus
        has, as the corpus got them: no tokenizer, no polars); None when a word is not there."""
        if not _SIMPLE.match(phrase):
            return None
        keys, off, flat = self.array("surf_keys"), self.array("surf_off"), self.array("surf_ids")
        out = []
        for word in phrase.split():
            i = int(np.searchsorted(keys, word))
            if i >= len(keys) or keys[i] != word:
                return None
            out.append(np.asarray(flat[off[i]:off[i + 1]]))
        return np.concatenate(out).astype(np.uint32) if out else None

    def find_ids(self, ids: np.ndarray) -> np.ndarray:
        """Sorted token positions where the id sequence starts (inside one sentence)."""
        lo, hi = sa_range(self.array("ids"), self.array("sa"), ids, self.array("sent_starts"))
        return np.sort(np.asarray(self.array("sa")[lo:hi], np.int64))

    def find(self, forms: list[str]) -> np.ndarray:
        """Sorted token positions where the phrase ``forms`` starts (inside one sentence)."""
        ids = self.ids_of(forms) if forms else None
        if ids is None:
            return np.zeros(0, np.int64)
        return self.find_ids(ids)

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        """Statement (doc) of each token position (int64): a binary search each, or from
        one position every 1,024 tokens of the corpus on (ungdc: 31 K positions, where
        making the table costs what the searches do), a lookup in a table of the statement
        at every 256th token (:func:`doc_lookup`; 2 M positions: 0.014 s against 0.14 s)."""
        tokens = np.asarray(self.array("doc_tokens"), np.int64)
        first = np.asarray(self.array("doc_first"), np.int64)
        positions = np.asarray(positions, np.int64)
        if len(positions) * 1024 < int(tokens.sum()):
            return np.searchsorted(first, positions, side="right") - 1
        return doc_lookup(first, positions, int(tokens.sum()))

    def statement_counts(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Per-statement counts ``(row, doc, count)`` of n-gram/maximal rows (by ``sa_lo``, ``freq``)."""
        import polars as pl

        lo = rows["sa_lo"].to_numpy().astype(np.int64)
        hi = lo + rows["freq"].to_numpy().astype(np.int64) - 1
        ranks, group = suffix.expand(lo, hi)
        docs = self.doc_of(np.asarray(self.array("sa")[ranks], np.int64))
        g, d, c = suffix.group_doc_counts(group, docs)
        return pl.DataFrame({"row": g, "doc": d, "count": c},
                            schema={"row": pl.UInt32, "doc": pl.UInt32, "count": pl.UInt32})

    def vocabulary(self) -> pl.Series:
        """The forms, in token-id order (the vocabulary table is written so)."""
        return self.table("vocab").select("form").collect().to_series()

    def phrases(self, frame: pl.DataFrame) -> pl.Series:
        """Phrase strings for rows with ``pos`` and ``n``."""
        from .strings import phrase_strings  # polars: not on the query path

        return phrase_strings(self.array("ids"), self.vocabulary(), frame["pos"].to_numpy(), frame["n"].to_numpy())


DOC_BLOCK = 8  # log2 of the tokens between two entries of doc_lookup's table


def doc_lookup(first: np.ndarray, positions: np.ndarray, total: int) -> np.ndarray:
    """The statement of each token position: the last statement whose first token
    (``first``, ascending; an empty statement shares the next one's) is at or before it,
    as ``np.searchsorted(first, positions, side="right") - 1`` gives it. numpy alone: the
    statement at every ``2**DOC_BLOCK``-th token of the ``total`` looked up once, each
    position's block read there, then stepped past the statements that start between the
    block's first token and it, only where one does (ungdc, 4.2 M positions: 0.044 s,
    where the binary searches took 0.27 s and a gather from an array of every token's
    statement 0.075 s with the array made, 0.2 s on a slower stretch, and 128 MB)."""
    positions = np.asarray(positions, np.int64)
    if len(positions) and (int(positions.min()) < 0 or int(positions.max()) >= total):
        raise ValueError("doc_lookup: a position outside the statements' tokens")
    table = np.searchsorted(first, np.arange(0, total + 1, 1 << DOC_BLOCK, dtype=np.int64), side="right") - 1
    doc = table[positions >> DOC_BLOCK]
    nxt = np.append(np.asarray(first, np.int64), np.iinfo(np.int64).max)  # the first token after each statement's
    todo = np.flatnonzero(nxt[doc + 1] <= positions)
    while len(todo):
        doc[todo] += 1
        todo = todo[nxt[doc[todo] + 1] <= positions[todo]]
    return doc


LAYERS_VERSION = "1"  # layout of layers.json (analysis.phrases.delta)
DOC_ARRAYS = ("doc_first", "doc_tokens", "doc_day", "doc_prec", "doc_source", "doc_dup")


class Layers:
    """A stored index (the base) and the index of the statements appended since (the
    delta, :mod:`analysis.phrases.delta`), read as one index of the current snapshot by
    the queries that read positions (``query``, ``kwic``): ``parts`` holds each index with
    its first statement and first token in the whole; the statement arrays
    (:data:`DOC_ARRAYS`) are the two concatenated, sources numbered in the union of both.
    Positions are the whole's: a delta position is the base's tokens plus its own."""

    built = False
    repaired: str | None = None  # what was damaged in the stored layer, made again (as PhraseIndex.repaired)

    def __init__(self, base: PhraseIndex, delta: PhraseIndex, info: dict, folder: Path):
        self.corpus, self.level, self.snapshot, self.folder, self.info = (base.corpus, base.level, base.snapshot,
                                                                          folder, info)
        self.parts = [(base, 0, 0), (delta, int(info["base_statements"]), int(info["base_tokens"]))]
        self.sources = list(info["sources"])
        self.manifest = base.manifest | {k: info[k] for k in ("snapshot_sha256", "statements", "tokens", "sources")} | {
            "vocabulary": None, "ngrams": None, "maximal": None, "layered": True,
            "sentences_split": sum(int(ix.manifest.get("sentences_split") or 0) for ix in (base, delta))}
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str) -> np.ndarray:
        if name not in DOC_ARRAYS:
            raise FormulaeError(f"{name!r} is not read across the layers of an index (statement arrays only)")
        if name not in self._arrays:
            parts = []
            for ix, _, t0 in self.parts:
                a = np.asarray(ix.array(name))
                if name == "doc_first":
                    a = a + np.int64(t0)
                elif name == "doc_source":  # the part's source numbers into the union's (-1 stays -1)
                    code = np.array([self.sources.index(s) for s in ix.sources] + [-1], np.int32)
                    a = code[a]
                parts.append(a)
            self._arrays[name] = np.concatenate(parts)
        return self._arrays[name]

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        """Statement (doc) of each position of the whole: each layer's own lookup
        (:meth:`PhraseIndex.doc_of`, a gather for bulk lookups)."""
        out = np.empty(len(positions), np.int64)
        for ix, d0, t0, inside in self._layer_of(positions):
            out[inside] = ix.doc_of(positions[inside] - t0) + d0
        return out

    def at(self, name: str, positions: np.ndarray) -> np.ndarray:
        """The token array ``name`` (``start``, ``end``) at positions of the whole."""
        out = np.empty(len(positions), np.int64)
        for ix, _, t0, inside in self._layer_of(positions):
            out[inside] = np.asarray(ix.array(name))[positions[inside] - t0]
        return out

    def _layer_of(self, positions: np.ndarray):
        """(index, first statement, first token, mask of ``positions`` inside it) a layer."""
        positions = np.asarray(positions, np.int64)
        for k, (ix, d0, t0) in enumerate(self.parts):
            t1 = self.parts[k + 1][2] if k + 1 < len(self.parts) else np.iinfo(np.int64).max
            yield ix, d0, t0, (positions >= t0) & (positions < t1)


def layers_load(corpus: str, level: str | None = None, store=None) -> Layers | None:
    """The layers of ``corpus`` at ``level`` when they stand for its current snapshot:
    the delta's record names this snapshot, the base is the one it was made over and
    fresh but for the appended statements (:func:`index_stale`), and the delta index is
    fresh; else None."""
    snapshot = snapshot_manifest(corpus, store)
    level = resolve_level(level, snapshot.get("language", "en"))
    root, target = delta_dir(corpus, level, store), index_dir(corpus, level, store)
    info, (base, damage) = stamp_read(root / "layers.json"), stamp_state(target, "manifest.json")
    if info is None or base is None or damage is not None:
        return None
    if (info.get("version") != LAYERS_VERSION or info.get("snapshot_sha256") != snapshot["snapshot_sha256"]
            or info.get("base_snapshot_sha256") != base.get("snapshot_sha256") or info.get("params") != base.get("params")
            or index_stale(base | {"snapshot_sha256": snapshot["snapshot_sha256"]}, snapshot, level) is not None):
        return None
    try:
        delta = index_load(corpus, level, root)
    except IndexMissing:
        return None
    return Layers(PhraseIndex(corpus=corpus, level=level, folder=target, manifest=base, snapshot=snapshot),
                  delta, info, root)


def index_open(corpus: str, level: str | None = None, store=None) -> PhraseIndex | Layers:
    """The index of ``corpus`` at ``level`` for a reader of positions (``query``, ``kwic``):
    the stored index when fresh, else its layers (:func:`layers_load`) when they stand
    for the snapshot, else :class:`~analysis.errors.IndexMissing` (:func:`index_load`)."""
    try:
        return index_load(corpus, level, store)
    except IndexMissing:
        layers = layers_load(corpus, level, store)
        if layers is None:
            raise
        return layers


class WordCounts:
    """Corpus word counts for the Analyzer, read from an index's word table on demand."""

    def __init__(self, path: Path):
        self.path = path
        self.memo: dict[str, int] = {}

    def get(self, word: str, default: int = 0) -> int:
        if word not in self.memo:
            import polars as pl

            hit = pl.scan_parquet(self.path).filter(pl.col("norm") == word).select("count").collect()
            self.memo[word] = int(hit["count"][0]) if hit.height else 0
        return self.memo[word] or default
