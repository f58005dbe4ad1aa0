"""Statements appended to an indexed corpus, indexed as a layer of their own.

When a corpus is re-ingested with statements added at its end and nothing else changed,
``formulae index`` (:func:`analysis.phrases.build.index_update`) leaves the
stored index (the *base*) as it is and indexes the added statements alone, as a corpus of
their own (the *delta*), under ``<store>/<corpus>/index/<level>.delta/``:

* ``<corpus>/snapshot/``: the added statements, numbered from 0 (their text, dates and
  sources as in the snapshot), and the snapshot's manifest;
* ``<corpus>/index/<level>/``: their phrase index, built like any other;
* ``layers.json``: the snapshot both stand for, the base's snapshot, statements and
  tokens, and the sources of both (:class:`analysis.phrases.index.Layers` reads them).

The queries that read positions (``query``, ``kwic``) read the two together
(:func:`analysis.phrases.index.index_open`): their results equal a full build's, since a
sentence never spans two statements, so no match crosses from the base into the delta,
and a statement's forms do not depend on the rest of the corpus (:func:`count_free`: at
``exact`` and ``norm``; at the analyzer's levels where no word has Arabic letters only). The corpus-wide tables (n-grams, maximal phrases, with their
DP and association measures over the whole corpus) are not layered: every other reader
finds the index stale and builds it whole first (*compaction*, the incremental build of
the shards). An Arabic corpus at the analyzer's levels is not layered: its clitic splits
read the corpus's word counts, which the added statements change.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import polars as pl

from ..ingest.snapshot import corpus_load
from ..store import atomic_dir, corpus_dir, read_json, stamp_write, write_json
from ..text.analyzer import ARABIC_WORD
from .index import LAYERS_VERSION, delta_dir, index_dir, index_stale
from .shards import ROW_HASH, shard_sha

DELTA_SHARE = 0.1  # added text (characters), at most, as a share of the base's, for a layer
META = ("doc", "id", "source", "date", "date_precision", "duplicate_of")  # what a statement's rows hold


def appended(corpus: str, level: str, store, manifest: dict, params: dict) -> tuple[int | None, str]:
    """``(n, why)``: the base's statement count when the snapshot ``manifest`` is the stored
    index's with statements appended and nothing else changed (the base's statements' ids,
    languages and texts, by its shards' hashes; their sources, dates and duplicate marks),
    the index fresh but for that, and the added text at most ``DELTA_SHARE`` of the base's;
    else None and why not."""
    target = index_dir(corpus, level, store)
    if not (target / "manifest.json").exists() or not (target / "catalog.json").exists():
        return None, "no stored index"
    base = read_json(target / "manifest.json")
    why = index_stale(base | {"snapshot_sha256": manifest["snapshot_sha256"]}, manifest, level, params)
    if why is not None:
        return None, why
    n_old = int(base["statements"])
    if int(manifest.get("rows", n_old + 1)) <= n_old:  # (before reading every statement's text)
        return None, "no statement added"
    rows = (corpus_load(corpus, store)
            .select(*META, ROW_HASH.alias("_hash"), pl.col("text").str.len_chars().fill_null(0).alias("_chars"))
            .collect().sort("doc"))
    if rows.height <= n_old:
        return None, "no statement added"
    hashes = rows["_hash"].to_numpy()
    for s in read_json(target / "catalog.json")["shards"]:
        if shard_sha(hashes[s["lo"]:s["hi"]]) != s["sha"]:
            return None, f"statements {s['lo']}-{s['hi'] - 1} changed"
    old = pl.read_parquet(target / "docs.parquet", columns=list(META)).sort("doc")
    if not old.equals(rows.head(n_old).select(META)):
        return None, "a statement's source, date or duplicate mark changed"
    chars = rows["_chars"].to_numpy()
    added, before = int(chars[n_old:].sum()), int(chars[:n_old].sum())
    if added > DELTA_SHARE * max(before, 1):
        return None, f"the added text is more than {DELTA_SHARE:.0%} of the indexed text"
    return n_old, ""


def count_free(folder: Path, level: str, manifest: dict) -> bool:
    """Whether the forms of the index in ``folder`` at ``level`` read no corpus count, so
    that a layer's forms are the whole corpus's: ``exact`` and ``norm`` (aliases are a
    table); an analyzer level without an alias table whose words hold none the clitic
    splitter looks at (:meth:`analysis.text.analyzer.Analyzer.split`: Arabic letters only;
    an English, Russian or Chinese corpus's stems and lemmas)."""
    if level in ("exact", "norm"):
        return True
    words = folder / "words.parquet"
    if manifest.get("aliases") or not words.exists():
        return False
    arabic = pl.scan_parquet(words).filter(pl.col("norm").str.contains(ARABIC_WORD))
    return arabic.select(pl.len()).collect().item() == 0


def delta_build(corpus: str, level: str, store, manifest: dict, n_old: int, build) -> dict:
    """Index statements ``n_old..`` of ``corpus`` as a corpus of their own into
    :func:`delta_dir` (atomically, replacing any earlier delta); ``build(store)`` builds
    an index of the corpus in that store. Returns the layers' record (``layers.json``)."""
    base = read_json(index_dir(corpus, level, store) / "manifest.json")
    with atomic_dir(delta_dir(corpus, level, store)) as tmp:
        snap = corpus_dir(corpus, tmp) / "snapshot"
        snap.mkdir(parents=True)
        added = (corpus_load(corpus, store).filter(pl.col("doc") >= n_old)
                 .with_columns((pl.col("doc") - n_old).cast(pl.UInt32)).sort("doc").collect())
        added.write_parquet(snap / "statements.parquet")
        sha = hashlib.sha256(f"{manifest['snapshot_sha256']}|from {n_old}".encode()).hexdigest()
        stamp_write(snap, "manifest.json", manifest | {"snapshot_sha256": sha, "rows": added.height})
        delta = build(tmp)
        info = {
            "version": LAYERS_VERSION, "corpus": corpus, "level": level,
            "snapshot_sha256": manifest["snapshot_sha256"],
            "base_snapshot_sha256": base["snapshot_sha256"], "base_statements": n_old,
            "base_tokens": int(base["tokens"]), "statements": n_old + added.height,
            "tokens": int(base["tokens"]) + int(delta.manifest["tokens"]),
            "sources": sorted(set(base["sources"]) | set(delta.manifest["sources"])),
            "params": base["params"],
        }
        shutil.rmtree(corpus_dir(corpus, tmp) / "shards", ignore_errors=True)  # not reused: made anew each time
        write_json(tmp / "layers.json", info)
    return info


def delta_drop(corpus: str, level: str, store) -> None:
    """Remove the delta of ``corpus`` at ``level`` (after a whole build: compacted)."""
    folder = delta_dir(corpus, level, store)
    if folder.exists():
        shutil.rmtree(folder)
