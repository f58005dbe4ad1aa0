"""Building the phrase index of a corpus at one level (:func:`index_build`).

Statements are tokenised a chunk at a time into the level's form stream, the engine
(:func:`analysis.phrases.engine.phrases_scan`) counts it, and everything is written
atomically under ``<store>/<corpus>/index/<level>/`` with a manifest stamped by
:func:`analysis.phrases.index.index_stamp`; an index whose stamp still matches
(:func:`analysis.phrases.index.index_stale`) is reused.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..ingest.snapshot import corpus_load, corpus_manifest
from ..store import atomic_dir, read_json, store_lock, write_json
from ..text.analyzer import Analyzer
from ..text.tokens import tokens_build, tokens_level
from ..vocab import PRECISIONS, precision_rank
from . import suffix
from .engine import phrases_scan, pos_sorted
from .index import (
    ARRAYS,
    PhraseIndex,
    index_dir,
    index_load,
    index_stale,
    index_stamp,
    resolve_level,
)


def index_build(corpus: str, level: str | None = None, store=None, *, max_n: int = 8,
                min_statements: int = 2, min_len: int = 2, force: bool = False,
                progress=None) -> PhraseIndex:
    """Build (or reuse) the phrase index of ``corpus`` at ``level``; return it loaded.

    The index is reused while the snapshot hash, level, parameters and code are unchanged
    (``manifest.json`` records them); otherwise it is rebuilt atomically.
    """
    if min_statements < 2:
        raise FormulaeError(f"--min-statements must be at least 2, got {min_statements}")
    if not 1 <= max_n <= 64:
        raise FormulaeError(f"--max-n must be between 1 and 64, got {max_n}")
    manifest = corpus_manifest(corpus, store)
    level = resolve_level(level, manifest["language"])
    params = {"max_n": max_n, "min_statements": min_statements, "min_len": min_len}
    target = index_dir(corpus, level, store)
    say = progress or (lambda step: None)
    # one builder per corpus and level at a time: a second one waits, then reuses
    with store_lock(target.parent, level):
        if not force and (target / "manifest.json").exists():
            if index_stale(read_json(target / "manifest.json"), manifest, level, params) is None:
                return index_load(corpus, level, store)
        _index_write(corpus, level, store, manifest, params, say)
    return index_load(corpus, level, store)


def _index_write(corpus: str, level: str, store, manifest: dict, params: dict, say) -> None:
    """Tokenise, scan and write the index of ``corpus`` at ``level`` (atomically)."""
    max_n, min_statements, min_len = params["max_n"], params["min_statements"], params["min_len"]
    target = index_dir(corpus, level, store)
    statements = corpus_load(corpus, store)
    stream, surface_forms, words, analyzer = _forms(statements, manifest, level, say)
    meta = statements.select("doc", "id", "source", "date", "date_precision", "duplicate_of").collect()
    canon = (
        meta.join(meta.select(pl.col("id").alias("duplicate_of"), pl.col("doc").alias("_c")),
                  on="duplicate_of", how="left", maintain_order="left")
        .select(pl.col("_c").fill_null(pl.col("doc")).cast(pl.UInt32).alias("canon"))
        .to_series()
    )
    meta = meta.with_columns(canon)
    handoff = {"stream": stream}  # phrases_scan pops it: no name here may keep the forms alive
    del stream
    scan = phrases_scan(handoff, meta.select("doc", "canon"), max_n=max_n,
                        min_statements=min_statements, min_len=min_len, progress=say)
    surf = _surface_map(surface_forms, scan.vocab["form"])
    say("writing index")
    doc_arrays, sources = _doc_arrays(meta, scan.docs.sort("doc"))
    fp = analyzer.fingerprint() if analyzer is not None else None
    stamp = index_stamp(manifest, level, params, fp) | {
        "corpus": corpus, "language": manifest["language"],
        "line_breaks": manifest.get("line_breaks", "paragraph"),
        "tokens": int(len(scan.ids)), "statements": meta.height, "vocabulary": scan.vocab.height,
        "ngrams": scan.ngrams.height, "maximal": scan.maximal.height,
        "sentences_split": scan.sentences_split, "long_phrases_skipped": scan.long_skipped,
        "sources": sources, "polars_version": pl.__version__, "numpy_version": np.__version__,
        "formulae_version": _formulae_version(),
    }
    with atomic_dir(target) as tmp:
        for name in ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(scan, name))
        for name, arr in (surf | doc_arrays).items():
            np.save(tmp / f"{name}.npy", arr)
        scan.vocab.write_parquet(tmp / "vocab.parquet")
        meta.join(scan.docs.select("doc", "tokens", "first"), on="doc", how="left").sort("doc").write_parquet(
            tmp / "docs.parquet")
        scan.ngrams.write_parquet(tmp / "ngrams.parquet", row_group_size=1 << 18)
        scan.maximal.write_parquet(tmp / "maximal.parquet", row_group_size=1 << 18)
        if words is not None:
            words.write_parquet(tmp / "words.parquet")
        write_json(tmp / "manifest.json", stamp)


TOKEN_CHUNK = 2000  # statements tokenised at a time while building an index
SURFACE_MAX = 48  # longer surfaces are not in the fast query map (the slow path handles them)


def _surface_forms(tokens: pl.DataFrame, stream: pl.DataFrame) -> pl.DataFrame:
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
    table = (
        countable.select("surface")
        .with_columns(pl.Series("first", first_piece), pl.Series("k", n_pieces))
        .filter((pl.col("k") > 0) & (pl.col("surface").str.len_chars() <= SURFACE_MAX)
                & ~pl.col("surface").str.contains(r"\s"))
        .group_by("surface").agg(pl.col("first").first(), pl.col("k").first())
        .sort("surface")
    )
    k = table["k"].to_numpy().astype(np.int64)
    first = table["first"].to_numpy().astype(np.int64)
    piece, row = suffix.expand_runs(first, k)
    forms = stream["form"].gather(piece)
    return pl.DataFrame({"row": row, "form": forms}).group_by("row", maintain_order=True).agg("form").select(
        table["surface"], pl.col("form").alias("forms"))


def _surface_map(surface_forms: pl.DataFrame, vocab: pl.Series) -> dict[str, np.ndarray]:
    """``surf_keys`` (sorted surfaces), ``surf_off`` and ``surf_ids`` (their forms' ids)."""
    k = surface_forms["forms"].list.len().to_numpy().astype(np.int64)
    flat = surface_forms["forms"].explode().cast(pl.Enum(vocab)).to_physical().to_numpy().astype(np.uint32)
    width = max(1, int(surface_forms["surface"].str.len_chars().max() or 1))
    keys = np.array(surface_forms["surface"].to_list(), dtype=f"<U{width}")
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


def _forms(statements: pl.LazyFrame, manifest: dict, level: str, say):
    """(form stream, surface map, word counts or None, analyzer or None) of a snapshot.

    Statements are tokenised ``TOKEN_CHUNK`` at a time. Without an Analyzer (``exact``,
    ``norm`` without aliases) each chunk becomes its form stream at once, so the token
    table of the whole corpus never exists; otherwise the countable tokens are gathered
    first, since the Analyzer needs the corpus vocabulary.
    """
    n_statements = statements.select(pl.len()).collect().item()
    streaming = level == "exact" or (level == "norm" and not manifest.get("aliases"))
    chunks, streams, surfaces = [], [], []
    for lo in range(0, max(n_statements, 1), TOKEN_CHUNK):
        say(f"tokenising statements {lo + 1:,}-{min(lo + TOKEN_CHUNK, n_statements):,} of {n_statements:,}")
        part = statements.filter((pl.col("doc") >= lo) & (pl.col("doc") < lo + TOKEN_CHUNK))
        tok = (tokens_build(part, language=manifest["language"],
                            line_breaks=manifest.get("line_breaks", "paragraph"))
               .filter(pl.col("kind").is_in(["word", "number"]))  # only these are ever counted
               .select("doc", "sent", "tok", "start", "end", "kind", "surface", "norm")
               .collect())
        if streaming:
            st = tokens_level(tok.lazy(), level).collect()
            surfaces.append(_surface_forms(tok, st))
            streams.append(st.select("doc", "sent", "pos", "start", "end", "form"))
        else:
            chunks.append(tok)
        del tok
    if streaming:
        stream = pl.concat(streams, rechunk=True)
        del streams
        surface_forms = pl.concat(surfaces).unique("surface", keep="first", maintain_order=True).sort("surface")
        return stream, surface_forms, None, None
    tokens = pl.concat(chunks, rechunk=True)
    del chunks
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
    surface_forms = _surface_forms(tokens, stream)
    del tokens
    return stream.select("doc", "sent", "pos", "start", "end", "form"), surface_forms, words, analyzer


def _formulae_version() -> str:
    try:
        return version("formulae")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"
