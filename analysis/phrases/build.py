"""Building the phrase index of a corpus at one level (:func:`index_build`).

Statements are tokenised shard by shard (:mod:`analysis.phrases.shards`: contiguous
statement ranges, built in worker processes or on a Dask cluster and reused while their
statements are unchanged), the shards are merged into the level's form stream, the engine
(:func:`analysis.phrases.engine.phrases_scan`) counts it, and everything is written
atomically under ``<store>/<corpus>/index/<level>/`` with a manifest stamped by
:func:`analysis.phrases.index.index_stamp`; an index whose stamp still matches
(:func:`analysis.phrases.index.index_stale`) is reused.
"""

from __future__ import annotations

import os
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..ingest.snapshot import corpus_load, corpus_manifest
from ..store import (
    atomic_dir,
    scratch_dir,
    stamp_read,
    stamp_state,
    stamp_write,
    store_lock,
    write_json,
)
from ..text.analyzer import Analyzer
from ..text.tokens import tokens_build, tokens_level
from ..vocab import PRECISIONS, precision_rank
from .delta import appended, count_free, delta_build, delta_drop
from .engine import phrases_scan, pos_sorted
from .formparts import forms_sharded, surface_forms
from .index import (
    ARRAYS,
    Layers,
    PhraseIndex,
    delta_dir,
    index_dir,
    index_load,
    index_stale,
    index_stamp,
    layers_load,
    resolve_level,
)
from .pool import scheduler_of, workers
from .shards import (
    CHARS_PER_TOKEN,
    SHARD_CHARS,
    merge_jobs,
    shard_done,
    shard_kind,
    shard_plan,
    shard_tasks,
    shards_counted,
    shards_jobs,
    shards_prune,
    shards_run,
)
from .tables import tables_write

# The n-gram passes run piece by piece in the workers with the suffix-array merge (the
# parent only assembles the tables); False: in this process over all tokens (the oracle).
PIECE_SCAN = True


def index_build(corpus: str, level: str | None = None, store=None, *, max_n: int = 8,
                min_statements: int = 2, min_len: int = 2, force: bool = False,
                progress=None, jobs: int | None = None, scheduler: str | None = None,
                shard_chars: int | None = None) -> PhraseIndex:
    """Build (or reuse) the phrase index of ``corpus`` at ``level``, whole (:func:`_index_build`)."""
    ix = _index_build(corpus, level, store, (max_n, min_statements, min_len), progress, force=force, jobs=jobs,
                      scheduler=scheduler, shard_chars=shard_chars, append=False)
    assert isinstance(ix, PhraseIndex)
    return ix


def index_update(corpus: str, level: str | None = None, store=None, *, max_n: int = 8,
                 min_statements: int = 2, min_len: int = 2, force: bool = False,
                 progress=None, jobs: int | None = None, scheduler: str | None = None,
                 shard_chars: int | None = None) -> PhraseIndex | Layers:
    """:func:`index_build`, or with statements appended to the corpus since, a layer of
    them over the stored index (:func:`_index_build` with ``append``): ``formulae index``,
    ``query`` and ``kwic``."""
    return _index_build(corpus, level, store, (max_n, min_statements, min_len), progress, force=force, jobs=jobs,
                        scheduler=scheduler, shard_chars=shard_chars, append=True)


def _index_build(corpus: str, level: str | None, store, counts: tuple[int, int, int], progress, *, force: bool,
                 jobs: int | None, scheduler: str | None, shard_chars: int | None,
                 append: bool) -> PhraseIndex | Layers:
    """Build (or reuse) the phrase index of ``corpus`` at ``level``; return it loaded
    (``counts``: ``max_n``, ``min_statements``, ``min_len``).

    The index is reused while the snapshot hash, level, parameters and code are unchanged
    (``manifest.json`` records them); otherwise it is rebuilt atomically from its shards,
    of which only those whose statements changed are tokenised again (``force``: all).
    ``jobs`` worker processes (default: all cores) or the Dask ``scheduler``
    (``tcp://host:port``, default ``$FORMULAE_SCHEDULER``) tokenise the shards; the index is
    the same whatever ``jobs``, ``scheduler`` and ``shard_chars`` (default: the stored
    index's, so boundaries stay put, else ``SHARD_CHARS``). ``catalog.json`` lists the
    shards (statement range, content hash, key, tokens, reused).

    ``append``: when the snapshot is the stored index's with statements appended and
    nothing else changed (:func:`analysis.phrases.delta.appended`) and the level's forms
    read no corpus count (:func:`analysis.phrases.delta.count_free`), index the added
    statements alone and return the two as
    :class:`~analysis.phrases.index.Layers` (for ``query`` and ``kwic``); otherwise, and
    without ``append``, the index is built whole (a delta is merged: compaction).
    """
    max_n, min_statements, min_len = counts
    if min_statements < 2:
        raise FormulaeError(f"--min-statements must be at least 2, got {min_statements}")
    if not 1 <= max_n <= 64:
        raise FormulaeError(f"--max-n must be between 1 and 64, got {max_n}")
    manifest = corpus_manifest(corpus, store)
    level = resolve_level(level, manifest["language"])
    params = {"max_n": max_n, "min_statements": min_statements, "min_len": min_len}
    target = index_dir(corpus, level, store)
    say = progress or (lambda step: None)
    # one builder per corpus and level at a time: a second one waits, then reuses; the
    # analyzer's levels share their shards (coded, and forms), which a build prunes at its
    # end, so one builder of any of them at a time (a second one's new shards are no
    # catalog's yet)
    kind = shard_kind(level, manifest)
    with store_lock(target.parent, kind if kind == "coded" else level):
        have, damage = stamp_state(target, "manifest.json")  # have None: no index, or its manifest damaged
        if not force and have is not None and damage is None:  # a damaged index is built again, whole
            if index_stale(have, manifest, level, params) is None:
                delta_drop(corpus, level, store)  # one left from before the base was built again
                return index_load(corpus, level, store)
            if append and count_free(target, level, manifest):
                layers = _layered(corpus, level, store, manifest, params, say, (jobs, scheduler))
                if layers is not None:
                    return layers
        _index_write(corpus, level, store, manifest, params, say,
                     force=force, jobs=jobs, scheduler=scheduler, shard_chars=shard_chars)
        delta_drop(corpus, level, store)
    ix = index_load(corpus, level, store)
    ix.built, ix.repaired = True, damage
    return ix


def _layered(corpus: str, level: str, store, manifest: dict, params: dict, say, where: tuple) -> Layers | None:
    """The layers of the stored index and the statements appended since (made now unless
    they stand for the snapshot already), or None when the snapshot is not an append
    (:func:`analysis.phrases.delta.appended`)."""
    layers = layers_load(corpus, level, store)
    if layers is not None and layers.info["params"] == params:
        return layers
    damage = stamp_state(index_dir(corpus, level, delta_dir(corpus, level, store)), "manifest.json")[1]  # a layer there, damaged?
    n_old, why = appended(corpus, level, store, manifest, params)
    if n_old is None:
        say(f"building the index whole: {why}")
        return None
    say(f"indexing the statements added since statement {n_old - 1} (a layer over the index)")
    delta_build(corpus, level, store, manifest, n_old,
                lambda root: index_build(corpus, level, root, **params, jobs=where[0], scheduler=where[1],
                                         progress=say))
    if not count_free(index_dir(corpus, level, delta_dir(corpus, level, store)), level, manifest):
        say("building the index whole: an added word has Arabic letters only (its clitic split reads the counts)")
        delta_drop(corpus, level, store)
        return None
    layers = layers_load(corpus, level, store)
    if layers is None:  # pragma: no cover - delta_build wrote what layers_load checks
        raise FormulaeError(f"the layer of corpus {corpus!r} at level {level!r} did not load after it was built")
    layers.built, layers.repaired = True, f"its layer's {damage}" if damage else None
    return layers


def _index_write(corpus: str, level: str, store, manifest: dict, params: dict, say, *,
                 force: bool, jobs: int | None, scheduler: str | None, shard_chars: int | None) -> None:
    """Tokenise the shards, scan and write the index of ``corpus`` at ``level`` (atomically)."""
    target = index_dir(corpus, level, store)
    statements = corpus_load(corpus, store)
    have = stamp_read(target / "catalog.json") or {}  # (a damaged one: none)
    if shard_chars is None:
        shard_chars = int(have.get("shard_chars") or SHARD_CHARS)
    scheduler = scheduler_of(scheduler)  # every step's, not only the shards'
    kind = shard_kind(level, manifest)
    # a rebuild of an index this size: its workers start while the shards are planned (ungdc:
    # 0.25 s of hashing every statement, which they used to wait for)
    with workers(_early_jobs(have, jobs, force), scheduler, arrays=True):
        say("planning shards")
        tasks = shard_tasks(shard_plan(statements, shard_chars), corpus, store, manifest, kind)
        _index_steps(corpus, level, store, (manifest, params, say, statements),
                     (tasks, kind, shard_chars), (jobs, scheduler, force))
    shards_prune(corpus, kind, store)
    if kind == "coded":  # and the analyzer's levels' forms (formparts) that no catalog names
        shards_prune(corpus, "forms", store)


def _early_jobs(have: dict, jobs: int | None, force: bool) -> int:
    """Worker processes to start before planning a build whose last catalog is ``have``:
    as many as its rebuild would take (:func:`_index_steps`: the pieces', and with
    ``force`` every shard's), 1 (none) without a catalog."""
    shards = have.get("shards") or []
    if not shards:
        return 1
    rebuilt = [{"chars": int(s.get("tokens", 0)) * CHARS_PER_TOKEN} for s in shards] if force else []
    return _pool_jobs(rebuilt, sum(int(s.get("tokens", 0)) for s in shards), jobs)


def _pool_jobs(todo: list[dict], tokens: int, jobs: int | None) -> int:
    """Worker processes of a build's one pool: as many as tokenising the shards ``todo``
    (their ``chars``) or merging ``tokens`` takes (every level's pieces, the analyzer's
    levels' too: :mod:`.formparts`)."""
    return max(shards_jobs(todo, jobs), merge_jobs(jobs, tokens))


def _index_steps(corpus: str, level: str, store, how: tuple, plan: tuple, run: tuple) -> None:
    """Tokenise the shards, merge and count them, and write the index (atomically)."""
    (tasks, kind, shard_chars), (jobs, scheduler, force) = plan, run
    target = index_dir(corpus, level, store)
    # one pool for every step when the shards are tokenised or merged in workers, opened
    # before tokenising: the pieces' workers are the tokenisers' (their first piece gives back
    # the heap the shards left, pool.measured), and where this process tokenises alone (one
    # changed shard) they start meanwhile, on the core it leaves idle
    done = [None if force else shard_done(t) for t in tasks]
    todo = [t for t, d in zip(tasks, done, strict=True) if d is None]
    tokens = sum(d["tokens"] if d else t["chars"] // CHARS_PER_TOKEN for t, d in zip(tasks, done, strict=True))
    with workers(_pool_jobs(todo, tokens, jobs), scheduler, arrays=True):
        _index_run(corpus, level, store, how, (tasks, kind, shard_chars), (jobs, scheduler, force), target)


def _index_run(corpus: str, level: str, store, how: tuple, plan: tuple, run: tuple, target: Path) -> None:
    """:func:`_index_steps` inside its pool."""
    (manifest, params, say, statements), (tasks, kind, shard_chars), (jobs, scheduler, force) = how, plan, run
    catalog = shards_run(tasks, jobs=jobs, scheduler=scheduler, progress=say, reuse=not force)
    meta = statements.select("doc", "id", "source", "date", "date_precision", "duplicate_of").collect()
    canon = (
        meta.join(meta.select(pl.col("id").alias("duplicate_of"), pl.col("doc").alias("_c")),
                  on="duplicate_of", how="left", maintain_order="left")
        .select(pl.col("_c").fill_null(pl.col("doc")).cast(pl.UInt32).alias("canon"))
        .to_series()
    )
    meta = meta.with_columns(canon)
    tables = scratch_dir(target.parent, "tables")  # the pieces' tables, moved in
    merge: dict = params | {"canon": canon.to_numpy(), "dest": str(tables)}  # in: how to count; out: how it merged
    try:
        _index_scan_write(corpus, level, store, (manifest, params, say), (tasks, catalog, kind, shard_chars),
                          (statements, meta), (jobs, scheduler, merge, not force))
    finally:
        shutil.rmtree(tables, ignore_errors=True)


def _index_scan_write(corpus: str, level: str, store, how: tuple, shards: tuple, snap: tuple, where: tuple) -> None:
    """Merge the shards, count (:func:`phrases_scan`) and write the index (atomically)."""
    (manifest, params, say), (tasks, catalog, kind, shard_chars), (statements, meta) = how, shards, snap
    max_n, min_statements, min_len = params["max_n"], params["min_statements"], params["min_len"]
    target, merge = index_dir(corpus, level, store), where[2]
    stream, surface, words, analyzer = _forms(tasks, catalog, kind, (statements, manifest), level, say, where)
    handoff = {"stream": stream}  # phrases_scan pops it: no name here may keep the forms alive
    del stream
    scan = phrases_scan(handoff, meta.select("doc", "canon"), max_n=max_n,
                        min_statements=min_statements, min_len=min_len, progress=say)
    surf = _surface_map(surface, scan.vocab["form"])
    say("writing index")
    doc_arrays, sources = _doc_arrays(meta, scan.docs.sort("doc"))
    fp = analyzer.fingerprint() if analyzer is not None else None
    stamp = index_stamp(manifest, level, params, fp) | {
        "corpus": corpus, "language": manifest["language"],
        "line_breaks": manifest.get("line_breaks", "paragraph"),
        "tokens": int(len(scan.ids)), "statements": meta.height, "vocabulary": scan.vocab.height,
        "ngrams": (scan.tables or {}).get("ngrams", scan.ngrams.height),
        "maximal": (scan.tables or {}).get("maximal", scan.maximal.height),
        "sentences_split": scan.sentences_split, "long_phrases_skipped": scan.long_skipped,
        "sources": sources, "polars_version": pl.__version__, "numpy_version": np.__version__,
        "formulae_version": _formulae_version(),
        "shards": len(catalog), "shards_reused": sum(c["reused"] for c in catalog),
    }
    with atomic_dir(target) as tmp:
        for name in ARRAYS:
            arr = getattr(scan, name)
            staged = arr.filename if isinstance(arr, np.memmap) else None
            if staged is not None and Path(staged).name == f"{name}.npy":  # written in place already
                os.replace(staged, tmp / f"{name}.npy")
            else:
                np.save(tmp / f"{name}.npy", arr)
        for name, arr in (surf | doc_arrays).items():
            np.save(tmp / f"{name}.npy", arr)
        scan.vocab.write_parquet(tmp / "vocab.parquet")
        meta.join(scan.docs.select("doc", "tokens", "first"), on="doc", how="left").sort("doc").write_parquet(
            tmp / "docs.parquet")
        if scan.tables is not None:  # written by the table steps (tables.py) in the workers
            for name in ("ngrams", "maximal"):
                os.replace(Path(scan.tables["folder"]) / name, tmp / name)
        else:
            tables_write(tmp, scan.ngrams, scan.maximal, max_n, len(scan.ids))
        if words is not None:
            words.write_parquet(tmp / "words.parquet")
        write_json(tmp / "catalog.json", {"kind": kind, "shard_chars": shard_chars, "shards": catalog,
                                          "suffix_merge": merge or None})
        stamp_write(tmp, "manifest.json", stamp)


def _surface_map(surface: pl.DataFrame, vocab: pl.Series) -> dict[str, np.ndarray]:
    """``surf_keys`` (sorted surfaces), ``surf_off`` and ``surf_ids`` (their forms' ids)."""
    k = surface["forms"].list.len().to_numpy().astype(np.int64)
    flat = surface["forms"].explode().cast(pl.Enum(vocab)).to_physical().to_numpy().astype(np.uint32)
    width = max(1, int(surface["surface"].str.len_chars().max() or 1))
    keys = np.array(surface["surface"].to_list(), dtype=f"<U{width}")
    return {"surf_keys": keys, "surf_off": np.concatenate(([0], np.cumsum(k))), "surf_ids": flat}


def _doc_arrays(meta: pl.DataFrame, docs: pl.DataFrame) -> tuple[dict[str, np.ndarray], list[str]]:
    sources = sorted(meta["source"].unique().drop_nulls().to_list())
    code = {s: i for i, s in enumerate(sources)}
    out = {
        "doc_first": docs["first"].to_numpy().astype(np.int64),
        "doc_tokens": docs["tokens"].to_numpy().astype(np.int64),
        "doc_day": meta["date"].cast(pl.Int32).fill_null(np.iinfo(np.int32).min).to_numpy().astype(np.int32),
        "doc_prec": meta["date_precision"].replace_strict(
            {p: precision_rank(p) for p in PRECISIONS}, default=precision_rank("none"),
            return_dtype=pl.Int8).to_numpy(),
        "doc_source": meta["source"].replace_strict(code, default=-1, return_dtype=pl.Int32).to_numpy(),
        "doc_dup": meta["duplicate_of"].is_not_null().to_numpy(),
    }
    return out, sources


def _forms(tasks: list[dict], catalog: list[dict], kind: str, snapshot: tuple, level: str, say, where: tuple):
    """(form stream, surface map, word counts or None, analyzer or None) from the shards.

    Without an Analyzer (``exact``, ``norm`` without aliases) the shards hold encoded form
    streams and their suffix arrays, merged here (the suffix array by pieces, in ``where``
    = (jobs, scheduler, a dict: in, the scan's ``canon`` and parameters; out, how it
    merged; whether kept forms may be reused), the pieces counting the n-grams too unless ``PIECE_SCAN`` is off); otherwise
    their forms are made shard by shard in the workers by one Analyzer of the corpus's
    vocabulary and merged and counted the same way (:func:`analysis.phrases.formparts.forms_sharded`);
    with ``PIECE_SCAN`` off, the corpus is tokenised here (not from its shards), the forms
    made of its tokens, and the engine sorts and counts the form stream in this process
    (the oracle).
    """
    statements, manifest = snapshot
    scan = dict(where[2])  # canon and the parameters, for the pieces' n-gram passes
    where[2].clear()
    say(f"merging {len(tasks)} shards")
    if kind != "coded":
        # the pieces' path: the token arrays go to the staging folder shard by shard, while the
        # pieces' workers start (the pool serves the pieces and the tables)
        stream, surface, info = shards_counted(tasks, catalog, scan if PIECE_SCAN else None, where[:2], say)
        where[2].update(info)
        return stream, surface, None, None
    counted: int = sum(int(c["tokens"]) for c in catalog)
    if PIECE_SCAN and counted > 0:  # the forms shard by shard, then the pieces (formparts)
        stream, surface, words, analyzer, info = forms_sharded(tasks, catalog, manifest, level, scan, where[:2], say,
                                                               reuse=where[3])
        where[2].update(info)
        return stream, surface, words, analyzer
    say("tokenising the corpus in this process (the oracle)")
    tokens = (  # apart from the shards
        tokens_build(statements, language=manifest["language"], line_breaks=manifest.get("line_breaks", "paragraph"))
        .filter(pl.col("kind").is_in(["word", "number"]))
        .select("doc", "sent", "tok", "start", "end", "kind", "surface", "norm").collect())
    analyzer = Analyzer.for_corpus(manifest, tokens=tokens.lazy())
    say(f"forms at level {level}")
    stream = tokens_level(tokens.lazy(), level, analyzer=analyzer).collect()
    words = None
    if level in ("clitic", "stem", "lemma"):
        words = (tokens.lazy().filter(pl.col("kind") == "word").group_by("norm").len()
                 .rename({"len": "count"}).sort("norm").collect())
    say("surface map")
    if not pos_sorted(stream):
        stream = stream.sort("doc", "pos")
    surface = surface_forms(tokens, stream)
    del tokens
    return stream.select("doc", "sent", "pos", "start", "end", "form"), surface, words, analyzer


def _formulae_version() -> str:
    try:
        return version("formulae")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"
