"""The analyzer's levels (``clitic``, ``stem``, ``norm`` with aliases), shard by shard.

Their shards hold tokens, not forms: the forms need one Analyzer for the whole corpus, whose
vocabulary is the corpus's words. That vocabulary is what the building process makes (the
shards' word counts summed, :func:`forms_sharded`); each shard's forms are then made in a
worker by that Analyzer and written as a ``norm`` shard's stream and suffix files are
(:func:`form_shard`), and from there the shards take the road of the other levels: their
streams merged, their suffix arrays merged and counted by the pieces. Before, the building
process merged every shard's tokens, made the whole corpus's forms and sorted and counted
them alone. The forms are made per distinct word, by the same Analyzer, so the index is
the one-process index byte for byte.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from ..store import scratch_dir, write_json
from ..text.analyzer import Analyzer
from ..text.tokens import tokens_level
from . import suffix
from .engine import forms_encode, pos_sorted
from .pool import run_tasks, workers
from .shards import merge_jobs, shard_stream_write, shards_counted, surface_kept


def forms_sharded(tasks: list[dict], catalog: list[dict], manifest: dict, level: str, scan: dict, where: tuple,
                  say):
    """The forms of the analyzer's ``level`` made shard by shard in the workers (``where``
    = (jobs, scheduler)), from the shards' tokens (``tasks``' folders) and one Analyzer of
    the corpus's vocabulary (the shards' word counts summed: :meth:`Analyzer.from_vocab`),
    then merged and counted by the pieces as at ``norm`` (:func:`shards_counted`; ``where``
    = (jobs as given, scheduler)). Returns (the stream, as the engine takes it; the surface
    map; the words' counts; the Analyzer; how it merged).

    The building process holds the vocabulary only, never the corpus's tokens or forms."""
    folders = [Path(t["folder"]) for t in tasks]
    vocab = (pl.concat([pl.scan_parquet(f / "tokens.parquet").filter(pl.col("kind") == "word")
                        .group_by("norm").len() for f in folders])
             .group_by("norm").agg(pl.col("len").sum().cast(pl.UInt32)).sort("norm").collect())
    analyzer = Analyzer.for_corpus(manifest, vocab=vocab)
    words = vocab.rename({"len": "count"}) if level in ("clitic", "stem", "lemma") else None
    scratch = scratch_dir(folders[0].parent, "forms")
    try:
        vocab.write_parquet(scratch / "vocab.parquet")
        parts = [{"shard": f"forms{k}", "tokens": str(f / "tokens.parquet"), "folder": str(scratch / f"part{k}"),
                  "vocab": str(scratch / "vocab.parquet"), "manifest": manifest, "level": level,
                  "lo": int(t["lo"]), "hi": int(t["hi"]), "size": int(t.get("chars", 0))}
                 for k, (t, f) in enumerate(zip(tasks, folders, strict=True))]
        say(f"forms at level {level}: {len(parts)} shards")
        jobs = merge_jobs(where[0], sum(int(c["tokens"]) for c in catalog))  # the shards' (catalog) countable tokens
        with workers(jobs, where[1], arrays=True):
            done = run_tasks(form_shard, parts, jobs, where[1],
                             [f"formulae-forms-{scratch.name}-{k}" for k in range(len(parts))])
            stream, surface, info = shards_counted(parts, [{"tokens": d["tokens"]} for d in done], scan, where, say)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return stream, surface, words, analyzer, info


_LAST: dict = {}  # a worker's Analyzer of the build it serves: its stems memoised across its shards


def _analyzer(vocab: str, manifest: dict) -> Analyzer:
    """The corpus's Analyzer from the build's ``vocab`` file, kept for the worker's next
    shard of the same build (the file is the build's own): a word is stemmed once a worker,
    not once a shard (ungdc at ``stem``: a shard's 21 k distinct forms, 0.5 s)."""
    key = (vocab, hashlib.sha256(Path(vocab).read_bytes()).hexdigest(), repr(sorted(manifest.items())))
    if key not in _LAST:  # (a later build's scratch could take a removed one's name: its content decides)
        _LAST.clear()
        _LAST[key] = Analyzer.for_corpus(manifest, vocab=pl.read_parquet(vocab))
    return _LAST[key]


def form_shard(task: dict) -> dict:
    """One shard's forms (runs in a worker): its tokens at the task's ``level`` by the
    corpus's Analyzer (its vocabulary from ``vocab``), written as a ``norm`` shard's stream
    and suffix files (:func:`analysis.phrases.shards.shard_build`) into ``folder``."""
    lo, hi = task["lo"], task["hi"]
    tokens = pl.read_parquet(task["tokens"]).with_columns(pl.col("doc") + np.uint32(lo))
    analyzer = _analyzer(task["vocab"], task["manifest"])
    st = tokens_level(tokens.lazy(), task["level"], analyzer=analyzer).collect()
    if not pos_sorted(st):
        st = st.sort("doc", "pos")
    folder = Path(task["folder"])
    folder.mkdir()
    surface_forms(tokens, st).write_parquet(folder / "surface.parquet")
    del tokens
    vocab, ids = forms_encode(st["form"])
    n = st.height
    split = shard_stream_write(folder, ids, vocab, {c: st[c].to_numpy() for c in ("doc", "start", "end", "sent")},
                               lo, hi)
    write_json(folder / "shard.json", {"sentences_split": split, "tokens": n})
    return {"tokens": n}


def surface_forms(tokens: pl.DataFrame, stream: pl.DataFrame) -> pl.DataFrame:
    """Distinct countable surface -> its forms, exactly as the corpus was processed.

    Lets a query turn simple words into ids without re-running the tokenizer/analyzer
    (and without importing polars). Surfaces longer than ``SURFACE_MAX`` or with spaces
    are left to the slow path.
    """
    countable = tokens.filter(pl.col("kind").is_in(["word", "number"])).select("doc", "start", "surface")
    tok_key = (countable["doc"].to_numpy().astype(np.int64) << 32) | countable["start"].to_numpy().astype(np.int64)
    piece_key = (stream["doc"].to_numpy().astype(np.int64) << 32) | stream["start"].to_numpy().astype(np.int64)
    piece_tok = np.searchsorted(tok_key, piece_key, side="right") - 1
    del tok_key, piece_key
    n_pieces = np.bincount(piece_tok, minlength=countable.height)
    first_piece = np.cumsum(n_pieces) - n_pieces
    table = surface_kept(  # the strings' tests on the distinct surfaces only (a shard: 25 k of 1.7 M)
        countable.lazy().select("surface")
        .with_columns(pl.Series("first", first_piece), pl.Series("k", n_pieces))
        .filter(pl.col("k") > 0)
        .group_by("surface").agg(pl.col("first").first(), pl.col("k").first())
        .collect())
    k = table["k"].to_numpy().astype(np.int64)
    first = table["first"].to_numpy().astype(np.int64)
    piece, row = suffix.expand_runs(first, k)
    forms = stream["form"].gather(piece)
    return pl.DataFrame({"row": row, "form": forms}).group_by("row", maintain_order=True).agg("form").select(
        table["surface"], pl.col("form").alias("forms"))
