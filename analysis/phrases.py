"""Phrases: the phrase-frequency index of a corpus snapshot at one matching level.

:func:`phrases_scan` is the engine. It takes a *form stream* (``doc sent pos start end
form``, see ``tokens.tokens_level``) and the statement table, turns forms into ids
(``id`` = rank of the form in sorted order), builds one suffix array over all tokens
(``suffix.py``) and reads off, without a Python loop over tokens:

* **n-grams** n = 1..``max_n``: every n-gram that occurs in at least ``min_statements``
  distinct statements, with ``freq`` (occurrences), ``statements`` (range),
  ``distinct_statements`` (duplicates across sources counted once), Gries's ``dp`` and,
  for n >= 2, association measures (``g2``, ``log_dice``, ``pmi``);
* **maximal phrases** of any length >= ``min_len``: phrases in at least
  ``min_statements`` distinct statements that are *closed* - every longer phrase
  containing them occurs fewer times - so a 15-word formula is one row, and a
  sub-phrase gets its own row only where it also occurs outside the longer phrase.

Nothing crosses a sentence boundary (paragraph and statement ends are sentence ends).

Per-statement counts are not copied out: an n-gram's occurrences are the contiguous
suffix-array slice ``sa[sa_lo : sa_lo + freq]`` (stored), so
:meth:`PhraseIndex.statement_counts` materialises them for any rows, and
:meth:`PhraseIndex.find` does the same for any phrase of any length.

Association measures of a phrase w1..wn use its two end splits, (w1 | w2..wn) and
(w1..wn-1 | wn), and keep the weaker value of each measure: ``g2`` is Dunning's
log-likelihood of the 2x2 table (``stats.g2_expr`` with ``cells=4``), ``log_dice`` and
``pmi`` as in ``stats``; N = number of tokens. Maximal phrases longer than ``max_n`` have
no association measures (null).

The stored index (``index.py`` layout, see :func:`index_build`) lives in
``<store>/<corpus>/index/<level>/``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from . import suffix

ENGINE_VERSION = "1"
DEFAULTS = {"max_n": 8, "min_statements": 2, "min_len": 2}


@dataclass
class Scan:
    """The engine's output: arrays (token stream, suffix array) and tables."""

    vocab: pl.DataFrame  # id, form, freq
    docs: pl.DataFrame  # doc, canon, tokens, first (position of the doc's first token)
    ids: np.ndarray  # uint32 token ids in (doc, pos) order
    start: np.ndarray  # uint32 code-point offsets into the verbatim text
    end: np.ndarray
    sent_starts: np.ndarray  # int64 position of each sentence's first token
    sa: np.ndarray  # int32 suffix array
    ngrams: pl.DataFrame
    maximal: pl.DataFrame
    params: dict = field(default_factory=dict)


def _encode(stream: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    forms = stream["form"]
    vocab = forms.unique().sort()
    ids = forms.cast(pl.Enum(vocab)).to_physical().to_numpy().astype(np.uint32, copy=False)
    freq = np.bincount(ids, minlength=len(vocab)).astype(np.uint32)
    table = pl.DataFrame({"id": np.arange(len(vocab), dtype=np.uint32), "form": vocab, "freq": freq})
    return table, ids


def _dp(pair_group, pair_doc, pair_count, freq, doc_share, n_groups):
    """Gries's DP over all statements, from the (group, doc, count) pairs only."""
    s = doc_share[pair_doc]
    term = np.abs(pair_count / freq[pair_group] - s)
    return 0.5 * (
        np.bincount(pair_group, weights=term, minlength=n_groups)
        + 1.0
        - np.bincount(pair_group, weights=s, minlength=n_groups)
    )


def _stats(ranks, group, n_groups, doc_sa, canon, doc_share, has_dupes):
    """freq, statements, distinct statements and DP of groups of ranks (group ids sorted).

    ``doc_sa[r]`` is the statement of the suffix at rank r.
    """
    docs = doc_sa[ranks]
    n_docs = len(doc_share)
    g, d, c = suffix.group_doc_counts(group, docs, n_docs)
    freq = np.bincount(group, minlength=n_groups).astype(np.int64)
    statements = np.bincount(g, minlength=n_groups)
    if has_dupes:
        g2_, _, _ = suffix.group_doc_counts(group, canon[docs], n_docs)
        distinct = np.bincount(g2_, minlength=n_groups)
        del g2_
    else:
        distinct = statements
    del docs
    dp = _dp(g, d, c, freq, doc_share, n_groups) if n_groups else np.zeros(0)
    return freq, statements, distinct, dp


def _pos_sorted(stream: pl.DataFrame) -> bool:
    doc, pos = stream["doc"].to_numpy(), stream["pos"].to_numpy()
    return bool(((doc[1:] > doc[:-1]) | ((doc[1:] == doc[:-1]) & (pos[1:] > pos[:-1]))).all()) if len(doc) > 1 else True


def phrases_scan(stream: pl.DataFrame | pl.LazyFrame, docs: pl.DataFrame, *, max_n: int = 8,
                 min_statements: int = 2, min_len: int = 2, progress=None) -> Scan:
    """Count every recurring phrase of a form stream (see the module docstring).

    ``docs`` has one row per statement: ``doc`` (UInt32, 0..D-1 in order) and
    ``canon`` (the doc whose text this one duplicates, else itself).
    ``progress(step: str)`` is called between steps when given.
    """
    say = progress or (lambda step: None)
    if min_statements < 2 or max_n < 1 or min_len < 1:
        raise ValueError("phrases_scan needs min_statements >= 2, max_n >= 1, min_len >= 1")
    if isinstance(stream, dict):  # {"stream": frame}: the caller hands over its only reference
        stream = stream.pop("stream")
    if isinstance(stream, pl.LazyFrame):
        stream = stream.collect()
    if not (stream["doc"].is_sorted() and _pos_sorted(stream)):
        stream = stream.sort("doc", "pos")
    n_docs = docs.height
    say("encoding forms")
    vocab, ids = _encode(stream)
    doc_of = stream["doc"].to_numpy()
    sent = stream["sent"].to_numpy()
    if len(doc_of):
        sent_starts = np.flatnonzero(np.concatenate(([True], (doc_of[1:] != doc_of[:-1]) | (sent[1:] != sent[:-1]))))
    else:
        sent_starts = np.zeros(0, np.int64)
    doc_of = doc_of.astype(np.int32)
    start = stream["start"].to_numpy().astype(np.uint32)
    end = stream["end"].to_numpy().astype(np.uint32)
    del stream, sent  # the forms are ids now: free the strings before the suffix array
    tokens = np.bincount(doc_of, minlength=n_docs).astype(np.int64)
    total = int(tokens.sum())
    doc_share = tokens / total if total else np.zeros(n_docs)
    canon = docs["canon"].to_numpy().astype(np.int32)
    has_dupes = bool((canon != np.arange(n_docs)).any())
    first = np.concatenate(([0], np.cumsum(tokens)[:-1])) if n_docs else np.zeros(0, np.int64)
    docs_out = docs.select("doc", "canon").with_columns(
        pl.Series("tokens", tokens, dtype=pl.UInt32), pl.Series("first", first, dtype=pl.UInt64)
    )

    say("suffix array")
    sa, cl = suffix.suffix_array(ids, sent_starts)
    cl = suffix.lcp_capped(cl, sa, suffix.rem_from_starts(sent_starts, len(ids)))
    at_start = np.zeros(len(ids), bool)
    at_start[sent_starts] = True
    lcs = suffix.left_diverse_prefix(ids, sa, at_start)
    doc_sa = doc_of[sa]
    del at_start, doc_of

    say("n-grams")
    ng_parts, mx_parts = [], []
    freq_prev = freq_uni = None  # per position: freq of the (n-1)-gram / word starting there
    offset = 0  # rows of the n-gram table so far
    big_n = float(max(total, 1))
    for n in range(1, max_n + 1):
        # int32 ranks and group ids throughout (n < 2**31), temporaries freed before the next
        ge = cl >= n  # rank r continues the group of rank r-1
        member = ge.copy()
        member[:-1] |= ge[1:]
        ranks = np.flatnonzero(member).astype(np.int32)
        del member
        if len(ranks) == 0:
            break
        starts = ~ge[ranks]
        del ge
        gid = np.cumsum(starts, dtype=np.int32)
        gid -= 1
        count = np.bincount(gid)
        keep = count >= min_statements
        if not keep.all():
            sel = keep[gid]
            ranks, starts = ranks[sel], starts[sel]
            gid = (np.cumsum(keep, dtype=np.int32) - 1)[gid[sel]]
            del sel
        n_groups = int(keep.sum())
        del count, keep
        if n_groups == 0:
            break
        lo = ranks[starts].astype(np.int64)
        freq, st, dist, dp = _stats(ranks, gid, n_groups, doc_sa, canon, doc_share, has_dupes)
        hi = lo + freq - 1
        flag = cl[ranks] == n
        flag &= ~starts
        right = np.zeros(n_groups, bool)
        right[gid[flag]] = True
        del flag, starts
        closed = right & ((lcs[hi] - lcs[lo]) > 0) & (n >= min_len)
        ok = dist >= min_statements
        pos = sa[lo].astype(np.int64)
        frame = {"n": np.full(n_groups, n, np.uint8), "freq": freq, "statements": st,
                 "distinct_statements": dist, "dp": dp, "sa_lo": lo, "pos": pos}
        if n >= 2:  # association: the two end splits (w1 | w2..wn) and (w1..wn-1 | wn)
            frame.update(f_a1=freq_uni[pos], f_b1=freq_prev[pos + 1],
                         f_a2=freq_prev[pos], f_b2=freq_uni[pos + n - 1])
        part = _ngram_part(pl.DataFrame(frame).filter(pl.Series(ok)), n, big_n)
        del frame
        ng_parts.append(part)
        if (closed & ok).any():
            rows = offset + np.cumsum(ok)[closed & ok] - 1
            mx_parts.append(rows)
        offset += part.height
        if n < max_n:  # the next n needs the freq of the n-gram starting at each position
            fp = np.zeros(len(ids), np.uint32)
            if ok.all():
                fp[sa[ranks]] = freq[gid]
            else:
                okr = ok[gid]
                fp[sa[ranks[okr]]] = freq[gid[okr]]
                del okr
            if n == 1:
                freq_uni = fp
            freq_prev = fp
            del fp
        del ranks, gid, lo, hi, freq, st, dist, dp, pos, part
    del freq_prev, freq_uni

    say("long phrases")
    tail = np.flatnonzero(cl > max_n)
    lo, hi, h = suffix.lcp_intervals(tail, cl)
    cm = ((hi - lo + 1) >= min_statements) & ((lcs[hi] - lcs[lo]) > 0) & (h >= min_len)
    lo, hi, h = lo[cm], hi[cm], h[cm]
    long_part = None
    if len(lo):
        ranks, group = suffix.expand(lo, hi)
        freq, st, dist, dp = _stats(ranks, group, len(lo), doc_sa, canon, doc_share, has_dupes)
        ok = dist >= min_statements
        long_part = pl.DataFrame({
            "n": h[ok], "sa_lo": lo[ok], "freq": freq[ok], "statements": st[ok],
            "distinct_statements": dist[ok], "dp": dp[ok], "pos": sa[lo[ok]].astype(np.int64),
        })

    say("tables")
    ngrams = _ngram_table(ng_parts, total)
    maximal = _maximal_table(mx_parts, long_part, ngrams)
    params = {"max_n": max_n, "min_statements": min_statements, "min_len": min_len}
    return Scan(vocab=vocab, docs=docs_out, ids=ids,
                start=start, end=end,
                sent_starts=sent_starts.astype(np.int64), sa=sa, ngrams=ngrams, maximal=maximal,
                params=params)


NGRAM_SCHEMA = {
    "gram": pl.UInt32, "n": pl.UInt8, "freq": pl.UInt32, "statements": pl.UInt32,
    "distinct_statements": pl.UInt32, "dp": pl.Float64, "g2": pl.Float64,
    "log_dice": pl.Float64, "pmi": pl.Float64, "sa_lo": pl.UInt32, "pos": pl.UInt32,
}
MAXIMAL_SCHEMA = {k: v for k, v in NGRAM_SCHEMA.items() if k != "gram"} | {"n": pl.UInt32}


def _ngram_part(frame: pl.DataFrame, n: int, big_n: float) -> pl.DataFrame:
    """One n's rows with their association measures, in the final dtypes (minus ``gram``)."""
    from .stats import g2_expr, log_dice_expr, pmi_expr

    def measures(fa: str, fb: str) -> list[pl.Expr]:
        return [
            g2_expr("freq", pl.col(fb) - pl.col("freq"), fa, big_n - pl.col(fa), cells=4),
            log_dice_expr("freq", fa, fb),
            pmi_expr("freq", fa, fb, big_n),
        ]

    if n >= 2:
        m1, m2 = measures("f_a1", "f_b1"), measures("f_a2", "f_b2")
        frame = frame.with_columns(
            pl.min_horizontal(m1[0], m2[0]).alias("g2"),
            pl.min_horizontal(m1[1], m2[1]).alias("log_dice"),
            pl.min_horizontal(m1[2], m2[2]).alias("pmi"),
        )
    else:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("g2", "log_dice", "pmi"))
    return frame.select([pl.col(c).cast(t) for c, t in NGRAM_SCHEMA.items() if c != "gram"])


def _ngram_table(parts: list[pl.DataFrame], total: int) -> pl.DataFrame:
    if not parts:
        return pl.DataFrame(schema=NGRAM_SCHEMA)
    frame = pl.concat(parts, rechunk=False).with_row_index("gram")  # parts come in (n, sa_lo) order
    return frame.select([pl.col(c).cast(t) for c, t in NGRAM_SCHEMA.items()])


def _maximal_table(short_rows: list[np.ndarray], long_part: pl.DataFrame | None,
                   ngrams: pl.DataFrame) -> pl.DataFrame:
    frames = []
    if short_rows:
        frames.append(ngrams[np.concatenate(short_rows)])
    if long_part is not None and long_part.height:
        frames.append(long_part)
    if not frames:
        return pl.DataFrame(schema=MAXIMAL_SCHEMA)
    out = pl.concat([f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                               for c, t in MAXIMAL_SCHEMA.items()]) for f in frames])
    return out  # n <= max_n in (n, sa_lo) order, then longer ones in sa_lo order; queries sort


SHORT_PHRASE = 16  # up to this length, phrase strings are built column-wise per length


def phrase_strings(ids: np.ndarray, vocab_forms: pl.Series, pos: np.ndarray, n: np.ndarray) -> pl.Series:
    """Phrase strings (forms joined by single spaces) for rows given by start position and length.

    Rows of length <= ``SHORT_PHRASE`` are built per length as ``concat_str`` of k gathered
    form columns (no exploded token table: a few hundred MB less for millions of rows);
    longer ones by exploding their tokens and joining per row.
    """
    pos = np.asarray(pos, np.int64)
    n = np.asarray(n, np.int64)
    if len(pos) == 0:
        return pl.Series("phrase", [], dtype=pl.String)
    parts, order = [], []
    for k in np.unique(n[n <= SHORT_PHRASE]).tolist():
        rows = np.flatnonzero(n == k)
        cols = [vocab_forms.gather(np.asarray(ids[pos[rows] + j], np.int64)).alias(f"w{j}") for j in range(k)]
        parts.append(pl.select(pl.concat_str(cols, separator=" ").alias("phrase")).to_series())
        order.append(rows)
        del cols
    rows = np.flatnonzero(n > SHORT_PHRASE)
    if len(rows):
        parts.append(_joined_strings(ids, vocab_forms, pos[rows], n[rows]))
        order.append(rows)
    out = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
    inverse = np.empty(len(pos), np.int64)
    inverse[np.concatenate(order)] = np.arange(len(pos))
    return out.gather(inverse).alias("phrase")


def _joined_strings(ids: np.ndarray, vocab_forms: pl.Series, pos: np.ndarray, n: np.ndarray) -> pl.Series:
    tok_pos, row = suffix.expand_runs(pos, n)
    forms = vocab_forms.gather(np.asarray(ids[tok_pos], np.int64))
    return (
        pl.DataFrame({"row": row, "form": forms})
        .group_by("row", maintain_order=True)
        .agg(pl.col("form").str.join(" "))
        .get_column("form")
        .alias("phrase")
    )


# --- the stored index -----------------------------------------------------------

ARRAYS = ("ids", "start", "end", "sent_starts", "sa")
# the code an index is made by: a change to any of it rebuilds stored indexes
_CODE = ("suffix.py", "phrases.py", "tokens.py", "scan.py", "data/chars.npz", "text.py", "arabic.py")


@functools.cache  # the source files do not change while a process runs
def _code_sha() -> str:
    import hashlib
    from pathlib import Path

    h = hashlib.sha256(ENGINE_VERSION.encode())
    here = Path(__file__).parent
    for name in _CODE:
        p = here / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def index_dir(corpus: str, level: str, store=None):
    from .store import corpus_dir

    return corpus_dir(corpus, store) / "index" / level


def _analyzer(tokens: pl.LazyFrame, manifest: dict, level: str):
    if level in ("exact", "norm") and not manifest.get("aliases"):
        return None
    from .arabic import Analyzer

    return Analyzer.from_tokens(tokens, manifest["language"], aliases=manifest.get("aliases"),
                                line_breaks=manifest.get("line_breaks", "paragraph"))


def _resolve_level(level: str | None, language: str) -> str:
    from .errors import FormulaeError
    from .tokens import LEVELS, default_level

    level = level or default_level(language)
    if level not in LEVELS:
        raise FormulaeError(f"--level {level!r} is not one of {', '.join(LEVELS)}")
    return level


def _wanted(manifest: dict, level: str, params: dict, fingerprint: str | None) -> dict:
    return {
        "snapshot_sha256": manifest["snapshot_sha256"],
        "level": level,
        "params": params,
        "engine_version": ENGINE_VERSION,
        "code_sha": _code_sha(),
        "analyzer": fingerprint,
    }


def index_build(corpus: str, level: str | None = None, store=None, *, max_n: int = 8,
                min_statements: int = 2, min_len: int = 2, force: bool = False,
                progress=None) -> PhraseIndex:
    """Build (or reuse) the phrase index of ``corpus`` at ``level``; return it loaded.

    The index is reused while the snapshot hash, level, parameters and code are unchanged
    (``manifest.json`` records them); otherwise it is rebuilt atomically.
    """
    from .corpus import corpus_load, corpus_manifest
    from .errors import FormulaeError
    from .store import atomic_dir, read_json, write_json

    if min_statements < 2:
        raise FormulaeError(f"--min-statements must be at least 2, got {min_statements}")
    if not 1 <= max_n <= 64:
        raise FormulaeError(f"--max-n must be between 1 and 64, got {max_n}")
    manifest = corpus_manifest(corpus, store)
    level = _resolve_level(level, manifest["language"])
    params = {"max_n": max_n, "min_statements": min_statements, "min_len": min_len}
    target = index_dir(corpus, level, store)
    say = progress or (lambda step: None)
    aliases_fp = _aliases_sha(manifest)
    if not force and (target / "manifest.json").exists():
        have = read_json(target / "manifest.json")
        want = _wanted(manifest, level, params, have.get("analyzer"))
        if all(have.get(k) == v for k, v in want.items()) and have.get("aliases") == aliases_fp:
            return index_load(corpus, level, store)

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
    stamp = _wanted(manifest, level, params, fp) | {
        "corpus": corpus, "language": manifest["language"], "aliases": aliases_fp,
        "line_breaks": manifest.get("line_breaks", "paragraph"),
        "tokens": int(len(scan.ids)), "statements": meta.height, "vocabulary": scan.vocab.height,
        "ngrams": scan.ngrams.height, "maximal": scan.maximal.height,
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
    return index_load(corpus, level, store)


def _aliases_sha(manifest: dict) -> str | None:
    from pathlib import Path

    from .store import file_sha256

    path = manifest.get("aliases")
    return file_sha256(Path(path)) if path and Path(path).exists() else None


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


PRECISION = {"none": 0, "year": 1, "month": 2, "day": 3}


def _doc_arrays(meta: pl.DataFrame, docs: pl.DataFrame) -> tuple[dict[str, np.ndarray], list[str]]:
    sources = sorted(meta["source"].unique().drop_nulls().to_list())
    code = {s: i for i, s in enumerate(sources)}
    out = {
        "doc_first": docs["first"].to_numpy().astype(np.int64),
        "doc_tokens": docs["tokens"].to_numpy().astype(np.int64),
        "doc_day": meta["date"].cast(pl.Int32).fill_null(np.iinfo(np.int32).min).to_numpy().astype(np.int32),
        "doc_prec": meta["date_precision"].replace_strict(PRECISION, default=0, return_dtype=pl.Int8).to_numpy(),
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
    from .tokens import tokens_build, tokens_level

    n_statements = statements.select(pl.len()).collect().item()
    streaming = level == "exact" or (level == "norm" and not manifest.get("aliases"))
    chunks, streams, surfaces = [], [], []
    for lo in range(0, max(n_statements, 1), TOKEN_CHUNK):
        say(f"tokenising statements {lo + 1:,}-{min(lo + TOKEN_CHUNK, n_statements):,} of {n_statements:,}")
        part = statements.filter((pl.col("doc") >= lo) & (pl.col("doc") < lo + TOKEN_CHUNK))
        tok = (tokens_build(part, language=manifest["language"],
                            line_breaks=manifest.get("line_breaks", "paragraph"))
               .filter(pl.col("kind").is_in(["word", "number"]))  # only these are ever counted
               .select("doc", "sent", "start", "end", "kind", "surface", "norm")
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
    analyzer = _analyzer(tokens.lazy(), manifest, level)
    say(f"forms at level {level}")
    stream = tokens_level(tokens.lazy(), level, analyzer=analyzer).collect()
    words = None
    if level in ("clitic", "stem"):
        words = (tokens.lazy().filter(pl.col("kind") == "word").group_by("norm").len()
                 .rename({"len": "count"}).sort("norm").collect())
    say("surface map")
    if not _pos_sorted(stream):
        stream = stream.sort("doc", "pos")
    surface_forms = _surface_forms(tokens, stream)
    del tokens
    return stream.select("doc", "sent", "pos", "start", "end", "form"), surface_forms, words, analyzer


def _formulae_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("formulae")
    except PackageNotFoundError:  # pragma: no cover
        return "0+unknown"


def index_load(corpus: str, level: str | None = None, store=None) -> PhraseIndex:
    """Open a built index (arrays memory-mapped, tables read lazily)."""
    from .store import read_json

    if level is None:
        from .corpus import corpus_manifest

        level = _resolve_level(None, corpus_manifest(corpus, store)["language"])
    folder = index_dir(corpus, level, store)
    if not (folder / "manifest.json").exists():
        from .query import IndexMissing

        raise IndexMissing(f"no phrase index for corpus {corpus!r} at level {level!r} in {folder.parent}; "
                            f"run: formulae index --corpus {corpus} --level {level}")
    return PhraseIndex(corpus=corpus, level=level, folder=folder, manifest=read_json(folder / "manifest.json"))


@dataclass
class PhraseIndex:
    """A built index: lazy tables and memory-mapped arrays, loaded on first use."""

    corpus: str
    level: str
    folder: object
    manifest: dict
    _arrays: dict = field(default_factory=dict)

    def array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        return self._arrays[name]

    def table(self, name: str) -> pl.LazyFrame:
        return pl.scan_parquet(self.folder / f"{name}.parquet")

    def ids_of(self, forms: list[str]) -> np.ndarray | None:
        """Token ids of ``forms`` (None when a form is not in the corpus)."""
        hit = self.table("vocab").filter(pl.col("form").is_in(forms)).select("form", "id").collect()
        lookup = dict(zip(hit["form"].to_list(), hit["id"].to_list(), strict=True))
        if any(f not in lookup for f in forms):
            return None
        return np.array([lookup[f] for f in forms], np.uint32)

    def find(self, forms: list[str]) -> np.ndarray:
        """Sorted token positions where the phrase ``forms`` starts (inside one sentence)."""
        ids = self.ids_of(forms) if forms else None
        if ids is None:
            return np.zeros(0, np.int64)
        lo, hi = suffix.sa_range(self.array("ids"), self.array("sa"), ids, self.array("sent_starts"))
        return np.sort(np.asarray(self.array("sa")[lo:hi], np.int64))

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        """Statement (doc) of each token position."""
        return np.searchsorted(np.asarray(self.array("doc_first"), np.int64), positions, side="right") - 1

    def statement_counts(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Per-statement counts ``(row, doc, count)`` of n-gram/maximal rows (by ``sa_lo``, ``freq``)."""
        lo = rows["sa_lo"].to_numpy().astype(np.int64)
        hi = lo + rows["freq"].to_numpy().astype(np.int64) - 1
        ranks, group = suffix.expand(lo, hi)
        docs = self.doc_of(np.asarray(self.array("sa")[ranks], np.int64))
        g, d, c = suffix.group_doc_counts(group, docs)
        return pl.DataFrame({"row": g, "doc": d, "count": c},
                            schema={"row": pl.UInt32, "doc": pl.UInt32, "count": pl.UInt32})

    def phrases(self, frame: pl.DataFrame) -> pl.Series:
        """Phrase strings for rows with ``pos`` and ``n``."""
        vocab = self.table("vocab").select("form").collect().to_series()
        return phrase_strings(self.array("ids"), vocab, frame["pos"].to_numpy(), frame["n"].to_numpy())
