"""Phrase frames: recurring n-grams with one open slot, and their fillers.

:func:`phrases_frames` reads the n-gram table of a stored index (every n-gram in >= 2
distinct statements). For each n-gram of length ``n`` (3..``max_n``, default 5) in at least
``min_filler_statements`` distinct statements (a filler must recur) and each slot of
``width`` 1 or 2 tokens (a bounded skip-gram: a gap of up to 2 tokens) that leaves at
least one fixed token on each side, the n-grams that agree on every fixed token form one
frame, ``respect for the * of`` (``*`` one token, ``* *`` two). A frame is kept when it has
at least ``min_fillers`` distinct fillers, no filler with more than ``max_top_share`` of
its occurrences (else it is one phrase with stray variants), a content token at both
edges and at least ``min_content`` content tokens among its fixed tokens (content: not a
function word of :mod:`analysis.text.function_words`, two letters or more; so
``united nations * the`` is no frame) and occurs in at least ``min_statements`` statements. Frames
are ranked by occurrences; statements are counted exactly for the ranked head.

Columns: ``frame``, ``n``, ``width`` (slot tokens), ``fillers`` (distinct fillers),
``top_fillers`` (the five most frequent, ``filler (occurrences)``), ``top_share`` (share of
the frame's occurrences taken by its most frequent filler: near 1 = a fixed phrase, low
= an open slot), ``freq`` (occurrences), ``statements`` (distinct statements with any
filler). Sorted by occurrences, then fillers.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..result import Result
from ..text.function_words import function_words
from ..vocab import CHARACTER_LANGUAGES
from . import suffix
from .index import index_load
from .view import CorpusView

FRAME_COLUMNS = ("frame", "n", "width", "fillers", "top_fillers", "top_share", "freq", "statements")


def _ngram_tokens(ix, lo: int, hi: int, min_st: int) -> dict[int, tuple[pl.DataFrame, np.ndarray]]:
    """Per length n: the n-gram rows (sa_lo, freq) in >= ``min_st`` distinct statements and
    their token-id matrix (rows × n)."""
    ng = (ix.table("ngrams").filter(pl.col("n").is_between(lo, hi) & (pl.col("distinct_statements") >= min_st))
          .select("n", "sa_lo", "freq", "statements", "pos").collect())
    ids = ix.array("ids")
    out = {}
    for n in range(lo, hi + 1):
        rows = ng.filter(pl.col("n") == n)
        pos = rows["pos"].to_numpy().astype(np.int64)
        out[n] = (rows, np.stack([np.asarray(ids[pos + j], np.int64) for j in range(n)], axis=1)
                  if len(pos) else np.zeros((0, n), np.int64))
    return out


def phrases_frames(corpus, *, store=None, level: str | None = None, max_n: int = 5,
                   min_fillers: int = 3, min_statements: int = 10, min_content: int = 2,
                   max_top_share: float = 0.8, min_filler_statements: int = 3,
                   limit: int | None = 100) -> Result:
    """Phrase frames of a corpus (a name or a :class:`CorpusView`); see the module docstring."""
    if not 3 <= max_n <= 8:
        raise FormulaeError(f"--max-n must be between 3 and 8 for frames, got {max_n}")
    if min_fillers < 2:
        raise FormulaeError(f"--min-fillers must be at least 2, got {min_fillers}")
    ix = corpus.index(level or _level(corpus)) if isinstance(corpus, CorpusView) else index_load(corpus, level, store)
    language = ix.snapshot.get("language", "en")
    vocab = ix.table("vocab").select("id", "form").collect().sort("id")["form"]
    stop = pl.Series(sorted(function_words(language)), dtype=pl.String).implode()
    content = ((vocab.str.count_matches(r"\p{L}") >= 2) & ~vocab.is_in(stop)).fill_null(False).to_numpy()
    parts = []
    for n, (rows, tok) in _ngram_tokens(ix, 3, max_n, min_filler_statements).items():
        for width in (1, 2):
            for k in range(1, n - width):
                fixed = [j for j in range(n) if not k <= j < k + width]
                part = _frames_at(rows, tok, fixed, k, width, n, content, min_content)
                if part is not None:
                    parts.append(part)
    params = {"corpus": ix.corpus, "level": ix.level, "max_n": max_n, "min_fillers": min_fillers,
              "max_top_share": max_top_share, "min_filler_statements": min_filler_statements,
              "min_statements": min_statements, "min_content": min_content, "frames": 0,
              "snapshot_sha256": ix.manifest.get("snapshot_sha256")}
    notes: list[str] = []
    if not parts:
        why = (f"no frames: a frame's edges are content words of two letters or more, and the tokens of a "
               f"{language!r} corpus are single characters (its word-level discovery: formulae candidates and "
               "formulae families)" if language in CHARACTER_LANGUAGES else "no frames")
        return Result(pl.DataFrame(schema={c: pl.String for c in FRAME_COLUMNS}), params, [why])
    members = pl.concat(parts)
    del parts
    frames = (members.group_by("key").agg(pl.len().alias("fillers"), pl.col("freq").sum().alias("freq"),
                                          pl.col("freq").max().alias("_top"),
                                          pl.col("statements").sum().alias("_st_bound"))
              .filter((pl.col("fillers") >= min_fillers) & (pl.col("_st_bound") >= min_statements)
                      & (pl.col("_top") <= max_top_share * pl.col("freq"))))
    notes.append(f"{frames.height} frames with >= {min_fillers} fillers, no filler above "
                 f"{max_top_share:.0%} of the occurrences, in up to >= {min_statements} statements")
    frames = frames.sort(["freq", "fillers", "key"], descending=[True, True, False])
    total = frames.height
    if limit is not None:
        frames = frames.head(limit)
    members = members.join(frames.select("key"), on="key", how="semi")
    frames = frames.join(_statements(ix, members), on="key")
    short = frames.filter(pl.col("statements") < min_statements).height
    frames = frames.filter(pl.col("statements") >= min_statements)
    if short:
        notes.append(f"{short} of the first frames by occurrences are in fewer than {min_statements} statements")
    if limit is not None and total > limit:
        notes.append(f"showing the first {limit} of {total} frames by occurrences (--limit)")
    out = _label(ix, vocab, frames, members.join(frames.select("key"), on="key", how="semi"))
    return Result(out, params | {"frames": total}, notes)


def _level(view) -> str:
    from ..vocab import default_level

    return default_level(view.language)


def _frames_at(rows, tok, fixed, k, width, n, content, min_content) -> pl.DataFrame | None:
    """Member rows of the frames with the slot at ``k`` (``width`` tokens): a 64-bit key of
    the configuration and the fixed tokens, and each member's suffix-array slice."""
    if tok.shape[0] == 0:
        return None
    ok = (content[tok[:, fixed]].sum(axis=1) >= min_content) & content[tok[:, 0]] & content[tok[:, n - 1]]
    if not ok.any():
        return None
    t = tok[ok].astype(np.uint64)
    key = np.full(len(t), np.uint64(n * 10_007 + k * 101 + width), np.uint64)
    for j in fixed:  # an FNV-style mix of the fixed token ids, in order
        key = (key ^ t[:, j]) * np.uint64(0x100000001B3)
        key ^= key >> np.uint64(29)
    m = int(ok.sum())
    return pl.DataFrame({
        "key": key, "sa_lo": rows["sa_lo"].to_numpy()[ok].astype(np.int64),
        "freq": rows["freq"].to_numpy()[ok].astype(np.int64),
        "statements": rows["statements"].to_numpy()[ok].astype(np.int64),
        "pos": rows["pos"].to_numpy()[ok].astype(np.int64),
        "k": np.full(m, k, np.int8), "width": np.full(m, width, np.int8), "n": np.full(m, n, np.int8),
    })


def _statements(ix, members: pl.DataFrame) -> pl.DataFrame:
    """Distinct statements per frame key, from the members' suffix-array slices."""
    uniq, codes = np.unique(members["key"].to_numpy(), return_inverse=True)
    rank, row = suffix.expand_runs(members["sa_lo"].to_numpy(), members["freq"].to_numpy())
    doc = ix.doc_of(np.asarray(ix.array("sa")[rank], np.int64))
    g, _, _ = suffix.group_doc_counts(codes[row].astype(np.int64), doc)
    count = np.bincount(g, minlength=len(uniq))
    return pl.DataFrame({"key": uniq, "statements": count.astype(np.uint32)})


def _label(ix, vocab: pl.Series, frames: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Frame text (``*`` in the slot) and the top fillers of each frame."""
    ids = ix.array("ids")
    m = members.sort(["key", "freq", "sa_lo"], descending=[False, True, False])
    pos, k, w, n = (m[c].to_numpy() for c in ("pos", "k", "width", "n"))
    filler = pl.Series([" ".join(vocab[int(ids[p + j])] for j in range(kk, kk + ww))
                        for p, kk, ww in zip(pos.tolist(), k.tolist(), w.tolist(), strict=True)])
    top = (m.with_columns(filler.alias("filler"))
           .group_by("key", maintain_order=True)
           .agg(pl.concat_str([pl.col("filler"), pl.lit(" ("), pl.col("freq").cast(pl.String), pl.lit(")")])
                .head(5).str.join("; ").alias("top_fillers"),
                pl.col("pos").first(), pl.col("k").first(), pl.col("width").first(), pl.col("n").first()))
    text = [" ".join("*" if kk <= j < kk + ww else vocab[int(ids[p + j])] for j in range(nn))
            for p, kk, ww, nn in zip(*(top[c].to_list() for c in ("pos", "k", "width", "n")), strict=True)]
    top = top.with_columns(pl.Series("frame", text))
    return (frames.join(top, on="key").with_columns((pl.col("_top") / pl.col("freq")).alias("top_share"))
            .sort(["freq", "fillers", "key"], descending=[True, True, False])
            .select("frame", pl.col("n").cast(pl.UInt8), pl.col("width").cast(pl.UInt8),
                    pl.col("fillers").cast(pl.UInt32), "top_fillers", "top_share",
                    pl.col("freq").cast(pl.UInt32), "statements"))


def frames_slot_pairs(ix, *, anchors: np.ndarray | None = None, max_n: int = 5, min_fillers: int = 2,
                      min_statements: int = 2) -> pl.DataFrame:
    """What the frames admit next to a form: ``(anchor, filler)`` token-id pairs such that
    the content token ``filler`` fills the open slot (1 or 2 tokens: a bounded skip-gram) of
    a frame of the index ``ix`` whose fixed tokens hold the content token ``anchor``.

    Frames as in :func:`phrases_frames` (content tokens at both edges, at least two fixed
    content tokens) read from n-grams of 3..``max_n`` tokens in at least ``min_statements``
    distinct statements, with at least ``min_fillers`` distinct fillers; no top-share or
    frame-statements threshold (a family wording is checked on its own counts).
    ``anchors`` (token ids) keeps only the n-grams holding one of them. Columns ``anchor``,
    ``filler`` (UInt32 ids), ``frames`` (how many frames admit the pair); sorted.
    """
    vocab = ix.table("vocab").select("id", "form").collect().sort("id")["form"]
    stop = pl.Series(sorted(function_words(ix.snapshot.get("language", "en"))), dtype=pl.String).implode()
    content = ((vocab.str.count_matches(r"\p{L}") >= 2) & ~vocab.is_in(stop)).fill_null(False).to_numpy()
    parts = []
    for n, (rows, tok) in _ngram_tokens(ix, 3, max_n, min_statements).items():
        if anchors is not None and len(tok):
            keep = np.isin(tok, anchors).any(axis=1)
            rows, tok = rows.filter(pl.Series(keep)), tok[keep]
        for width in (1, 2):
            for k in range(1, n - width):
                fixed = [j for j in range(n) if not k <= j < k + width]
                part = _frames_at(rows, tok, fixed, k, width, n, content, 2)
                if part is not None:
                    parts.append(part.select("key", "pos", "k", "width", "n"))
    empty = pl.DataFrame(schema={"anchor": pl.UInt32, "filler": pl.UInt32, "frames": pl.UInt32})
    if not parts:
        return empty
    members = pl.concat(parts)
    members = members.filter(pl.len().over("key") >= min_fillers)
    ids = ix.array("ids")
    pairs = []
    for (n, k, width), m in members.partition_by(["n", "k", "width"], as_dict=True).items():
        pos = m["pos"].to_numpy().astype(np.int64)
        key = m["key"].to_numpy()
        for j in range(int(n)):
            if k <= j < k + width:
                continue
            anchor = np.asarray(ids[pos + j], np.int64)
            ok = content[anchor]
            for f in range(int(k), int(k) + int(width)):
                filler = np.asarray(ids[pos + f], np.int64)
                keep = ok & content[filler]
                pairs.append(pl.DataFrame({"key": key[keep], "anchor": anchor[keep].astype(np.uint32),
                                           "filler": filler[keep].astype(np.uint32)}))
    if not pairs:
        return empty
    return (pl.concat(pairs).unique().group_by("anchor", "filler").agg(pl.len().cast(pl.UInt32).alias("frames"))
            .sort("anchor", "filler"))
