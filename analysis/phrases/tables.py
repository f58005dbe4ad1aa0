"""The n-gram and maximal tables of a sharded build, from the counting pieces' files.

Each piece of the merged suffix array (:func:`analysis.phrases.engine.piece_scan`) writes,
per n, its kept n-grams (``ng<piece>_<n>.arrow``), plus its
long-phrase candidates and rows. The tables are made
from them in parallel steps (:func:`tables_run`), so no process holds more than one n's rows while
counting and the two tables are written side by side:

1. :func:`isa_tasks`, a window of positions each: the inverse suffix array (every
   position's rank), for n >= 3; beside them level 1;
2. :func:`level_table`, one task per n >= 2: ``f_b1`` (the freq of the row's last n-1
   tokens: level n-1's row of them, in whatever piece holds it, found by the rank of the
   suffix after the row's first position, :func:`tail_freq`) and the association measures
   (``engine.ngram_part``); beside them :func:`long_table`, the maximal phrases longer
   than ``max_n`` kept by the whole text's expansion budget.

Each task writes its level's part of both tables (``ngrams/n<n>.parquet`` with the
``gram`` row index, ``maximal/n<n>.parquet``; :func:`analysis.store.table_part`),
so the writing is spread over the tasks (one task a table took 3.6 s after the levels).

The result is the table of one :func:`analysis.phrases.engine.phrases_scan` over the
whole text, rows in its order (by n, then rank), byte for byte once written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..store import npy_windows, table_part
from . import engine, suffix  # engine's expansion budget is read when used (tests change it)
from .engine import (
    has_duplicates,
    maximal_table,
    ngram_part,
    ngram_table,
    table_write,
)
from .groups import group_stats
from .pool import largest, run_tasks, step_times

ISA_WINDOW = 32 << 20  # positions of the inverse suffix array a task makes at most (12 bytes each held)
# the columns of a piece's row (engine.piece_scan) that the tables keep
ROW_COLUMNS = ["n", "freq", "statements", "distinct_statements", "dp", "sa_lo", "pos", "mx"]


def table_part_write(folder: Path, which: str, part: int | str, frame: pl.DataFrame, total: int) -> None:
    """One part of a stored table (:func:`analysis.store.table_part`) into ``folder``, as
    :func:`analysis.phrases.engine.table_write` has it for a corpus of ``total`` tokens."""
    path = table_part(folder, which, part)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path, **table_write(total))


def tables_write(folder: Path, ngrams: pl.DataFrame, maximal: pl.DataFrame, max_n: int, total: int) -> None:
    """The ``ngrams`` and ``maximal`` tables into ``folder``, one file a level (at least
    level 1's, empty or not) and the maximal phrases longer than ``max_n``: the files
    that the table steps write side by side (:func:`tables_run`), byte for byte."""
    levels = int(ngrams["n"].max()) if ngrams.height else 1
    for n in range(1, levels + 1):
        table_part_write(folder, "ngrams", n, ngrams.filter(pl.col("n") == n), total)
        table_part_write(folder, "maximal", n, maximal.filter(pl.col("n") == n), total)
    table_part_write(folder, "maximal", "long", maximal.filter(pl.col("n") > max_n), total)


def level_table(out: Path, pieces: int, n: int, total: int, offset: int, dest: Path) -> dict:
    """Level ``n`` of the n-gram table from the pieces' rows, and its maximal rows, written
    as their tables' level-``n`` parts in ``dest`` (the ``gram`` index from ``offset``:
    the rows of the levels before); returns its ``rows`` and ``maximal`` rows."""
    def level(k: int, columns: list[str]) -> pl.DataFrame | None:  # level k's rows from every piece
        names = _level_files(out, pieces, k)
        return pl.concat([pl.read_ipc(f, columns=columns) for f in names], rechunk=True) if names else None

    raw = level(n, ROW_COLUMNS + (["f_a1", "f_a2", "f_b2"] if n >= 2 else []) + (["f_b1"] if n == 2 else []))
    if n == 1:
        raw = split_words(out, pieces, raw)
    if raw is None or raw.height == 0:
        ngrams, maximal = ngram_table([]), maximal_table([], None)
    else:
        if n >= 3:  # f_b1: the freq of the row's last n-1 tokens, the level n-1 row holding the suffix after pos
            prev = level(n - 1, ["sa_lo", "freq"])
            if prev is None:  # pragma: no cover - level n has rows, so n-1 has
                raise FormulaeError(f"level {n}: the pieces' files of level {n - 1} are missing")
            raw = raw.with_columns(pl.Series("f_b1", tail_freq(out, raw["pos"].to_numpy(), prev, n, total),
                                             pl.UInt32))
            del prev
        part = ngram_part(raw, n, float(max(total, 1)))
        ngrams, maximal = ngram_table([part], offset), maximal_table([part.filter(raw["mx"])], None)
    table_part_write(dest, "ngrams", n, ngrams, total)
    table_part_write(dest, "maximal", n, maximal, total)
    return {"rows": ngrams.height, "maximal": maximal.height}


def _level_files(out: Path, pieces: int, n: int) -> list[Path]:
    """The pieces' files of level ``n``'s rows, in rank order (a piece without any has none)."""
    return [out / f"ng{j}_{n}.arrow" for j in range(pieces) if (out / f"ng{j}_{n}.arrow").exists()]


def tail_freq(out: Path, pos: np.ndarray, prev: pl.DataFrame, n: int, total: int) -> np.ndarray:
    """The freq of the (n-1)-grams after the n-grams at ``pos``: the kept rows ``prev`` of level
    n-1 (``sa_lo``, ``freq``, in rank order) holding the ranks of the suffixes at ``pos + 1``
    (:func:`isa_ranks`). A kept n-gram's tail is kept."""
    rank = isa_ranks(out, pos + 1, total)
    got = rank_freq(prev["sa_lo"].to_numpy(), prev["freq"].to_numpy(), rank, total)
    if got is None:  # pragma: no cover - a kept n-gram's tail is kept
        raise FormulaeError(f"level {n}: n-grams without the row of their last {n - 1} words")
    return got


RANK_BLOCK = 6  # rank_freq's blocks: 2**6 ranks each


def rank_freq(lo: np.ndarray, freq: np.ndarray, rank: np.ndarray, total: int) -> np.ndarray | None:
    """The ``freq`` of the row whose ranks ``lo .. lo + freq - 1`` (disjoint, ``lo``
    ascending) hold each of ``rank`` (ranks below ``total``); None where a rank has none.

    Compiled: a rank's block of ``2**RANK_BLOCK`` ranks gives the few rows that can hold
    it (one small table, ``total / 64`` entries), and a binary search among them finds
    its row: a lookup or two in ``lo`` where one binary search over all the rows took
    twenty, each a cache miss (ungdc's 2.3 M rows of level 4 in a worker: 0.44 -> 0.15 s)."""
    if len(lo) == 0:
        return None if len(rank) else np.zeros(0, freq.dtype)
    starts = np.arange(0, total + (2 << RANK_BLOCK), 1 << RANK_BLOCK, dtype=np.int64)
    first = np.searchsorted(lo, starts, side="right").astype(np.int64) - 1  # the row holding each block's start
    out = np.empty(len(rank), freq.dtype)
    ok = suffix.compiled(_rank_freq)(lo, freq, rank, first, RANK_BLOCK, out)
    return out if ok else None


def _rank_freq(lo, freq, rank, first, shift, out):  # pragma: no cover - numba
    """:func:`rank_freq`'s loop: False where a rank lies in no row."""
    for i in range(len(rank)):
        r = rank[i]
        b = r >> shift
        a, z = max(first[b], 0), first[b + 1]  # the row holds r: the last with lo <= r, in a..z
        while a < z:
            m = (a + z + 1) >> 1
            if lo[m] <= r:
                a = m
            else:
                z = m - 1
        if lo[a] > r or r >= lo[a] + freq[a]:
            return False
        out[i] = freq[a]
    return True


def isa_tasks(scratch: Path, sa: np.ndarray, jobs: int) -> list[dict]:
    """The tasks that make the inverse suffix array (every position's rank) of ``sa``, read
    from its file (written into ``scratch`` unless ``sa`` is memory-mapped already): a
    window of positions each (``isa<k>.npy``), at least one a job and at most
    ``ISA_WINDOW`` positions."""
    total = len(sa)
    mapped = sa.filename if isinstance(sa, np.memmap) else None
    path = Path(mapped) if mapped else scratch / "sa.npy"
    if not mapped:
        np.save(path, sa)
    windows = max(jobs, -(-total // ISA_WINDOW), 1)
    bounds = np.linspace(0, total, windows + 1).astype(np.int64).tolist()
    return [{"scratch": str(scratch), "piece": f"isa{k}", "sa": str(path), "window": (p0, p1), "size": p1 - p0}
            for k, (p0, p1) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))]


def isa_ranks(out: Path, at: np.ndarray, total: int, chunk: int = 1 << 24) -> np.ndarray:
    """The ranks of the suffixes at positions ``at``, read in the windows of the inverse
    suffix array that :func:`isa_tasks` wrote in ``out``, ``chunk`` positions a mapping of
    its own (the lookups are all over the text: no more than a chunk's pages stay)."""
    rank, p0, k = np.empty(len(at), np.int64), 0, 0
    while p0 < total:
        window, size = npy_windows(out / f"isa{k}.npy")
        for c0 in range(p0, p0 + size, chunk):
            c1 = min(p0 + size, c0 + chunk)
            sel = np.flatnonzero((at >= c0) & (at < c1))
            if len(sel):
                rank[sel] = window(c0 - p0, c1 - p0)[at[sel] - c0]
        p0, k = p0 + size, k + 1
    return rank


def split_words(out: Path, pieces: int, raw: pl.DataFrame | None) -> pl.DataFrame | None:
    """Level 1's rows with those of the words split over several pieces
    (:func:`analysis.phrases.engine.piece_scan`'s ``word``) made from their parts, in rank order.

    A word's row is the one of one group over all its ranks: the statements of its ranks
    concatenated (freq, statements, DP), left-maximal where any part is or where two parts
    meet with different left neighbours (or a sentence start), right-maximal always (its
    parts hold different second tokens).
    """
    names = [out / f"uni{j}.npz" for j in range(pieces) if (out / f"uni{j}.npz").exists()]
    if not names:
        return raw
    parts: dict[int, list[dict]] = {}
    for name in names:  # in rank order
        with np.load(name) as z:
            parts.setdefault(int(z["word"]), []).append({k: z[k] for k in z.files})
    with np.load(out / "ctx.npz") as ctx:
        canon, tokens = ctx["canon"], ctx["doc_tokens"]
        min_statements, min_len = int(ctx["min_statements"]), int(ctx["min_len"])
    has_dupes = has_duplicates(canon)
    rows = []
    for got in parts.values():
        docs = np.concatenate([g["docs"] for g in got])
        freq, st, dist, dp = group_stats(np.arange(len(docs)), np.zeros(len(docs), np.int32), 1, docs, canon,
                                         tokens, has_dupes)
        ends = np.concatenate([g["prev_ends"] for g in got])[1:-1].reshape(-1, 2)  # (last of a part, first of the next)
        left = any(bool(g["diverse"]) for g in got) or bool(((ends[:, 0] != ends[:, 1]) | (ends < 0).any(1)).any())
        rows.append((int(freq[0]), int(st[0]), int(dist[0]), float(dp[0]), int(got[0]["lo"]), int(got[0]["pos0"]),
                     left and len(got) > 1 and 1 >= min_len))
    words = pl.DataFrame(rows, orient="row", schema={
        "freq": pl.Int64, "statements": pl.Int64, "distinct_statements": pl.Int64, "dp": pl.Float64,
        "sa_lo": pl.Int64, "pos": pl.Int64, "mx": pl.Boolean})
    words = words.filter(pl.col("distinct_statements") >= min_statements).select(
        pl.lit(1, pl.UInt8).alias("n"), pl.all())
    if raw is None:
        return words.sort("sa_lo")
    return pl.concat([raw, words.cast(dict(raw.schema))]).sort("sa_lo")


def long_table(out: Path, pieces: int, total: int, dest: Path) -> dict:
    """The maximal table's phrases longer than ``max_n``, kept by the whole text's expansion
    budget (:func:`analysis.phrases.engine.phrases_scan`'s global cut), written as its
    ``long`` part in ``dest``; returns its rows (``maximal``) and ``long_skipped``."""
    cand = [np.load(out / f"cand{j}.npy") for j in range(pieces) if (out / f"cand{j}.npy").exists()]
    h, lo, size = np.concatenate(cand, axis=1) if cand else np.zeros((3, 0), np.int64)
    order = np.lexsort((lo, h))  # the global cut of the expansion budget (engine._long_phrases)
    fits = int(np.searchsorted(np.cumsum(size[order]), engine.EXPAND_PER_TOKEN * total + engine.EXPAND_BATCH, side="right"))
    chosen = h[order[:fits]] * (total + 1) + lo[order[:fits]]
    longs = [pl.read_ipc(out / f"long{j}.arrow") for j in range(pieces) if (out / f"long{j}.arrow").exists()]
    long_part = pl.concat(longs) if longs else None
    if long_part is not None:
        key = long_part["n"].to_numpy() * (total + 1) + long_part["sa_lo"].to_numpy()
        long_part = long_part.filter(pl.Series(np.isin(key, chosen))).sort("sa_lo", "n")
    frame = maximal_table([], long_part)
    table_part_write(dest, "maximal", "long", frame, total)
    return {"maximal": frame.height, "long_skipped": len(lo) - fits}


def tables_run(scratch: Path, pieces: int, sa: np.ndarray, scan: dict, where: tuple) -> dict:
    """Write the ``ngrams`` and ``maximal`` tables into ``scan['dest']`` from the pieces'
    counts, a part a task (:func:`analysis.store.table_part`), run by
    :func:`analysis.phrases.pool.run_tasks` with ``where`` = (jobs, scheduler) in two
    steps: the windows of the inverse suffix array (n >= 3 find their last n-1 words' row
    by rank, :func:`isa_tasks`) and level 1; then levels 2.. (their ``gram`` offsets known
    from level 1's rows and ``scan['rows']``, the pieces' rows of each n) and the long
    phrases, which need neither. Levels stop at the first empty one, as the one-process
    passes do. Returns the tables' row counts, ``long_skipped``, the folder, the largest
    worker's peak and the tasks' times (``steps``)."""
    jobs, scheduler = where
    total, dest = len(sa), scan["dest"]

    def run(todo: list[dict]) -> list[dict]:
        todo = [{"scratch": str(scratch), "pieces": pieces, "total": total, "dest": dest, "release": True} | t
                for t in todo]
        return run_tasks(table_task, todo, jobs, scheduler, [f"formulae-tables-{scratch.name}-{t['piece']}" for t in todo])

    # the long phrases wait for the second step: the first one's tasks end together (its
    # barrier: the inverse suffix array's windows), and no task of the second needs them
    done = run((isa_tasks(scratch, sa, jobs) if scan["max_n"] >= 3 else []) + [{"piece": "level1", "n": 1, "offset": 0}])
    heights = [done[-1]["rows"]] + [int(r) for r in scan["rows"][1:scan["max_n"]]]  # a level's rows: the pieces'
    heights = heights[:heights.index(0)] if 0 in heights else heights
    offsets = np.cumsum([0] + heights).tolist()
    done += run([{"piece": f"level{n}", "n": n, "offset": offsets[n - 1], "size": heights[n - 1]}
                 for n in range(2, len(heights) + 1)] + [{"piece": "long"}])
    return {"folder": dest, "ngrams": sum(heights), "maximal": sum(d.get("maximal", 0) for d in done),
            "long_skipped": done[-1]["long_skipped"], "largest": largest(done, "tables"), "steps": step_times(done)}


def table_task(task: dict) -> dict:
    """One part of the tables (runs in a worker): a ``window`` of the inverse suffix array
    (:func:`isa_tasks`), level ``n`` (:func:`level_table`) or the long phrases
    (:func:`long_table`), written into ``dest``."""
    out = Path(task["scratch"])
    if "window" in task:  # a window of the inverse suffix array
        window, n = npy_windows(Path(task["sa"]))
        np.save(out / f"{task['piece']}.npy",
                inverse_part(lambda r0, r1: np.array(window(r0, r1)), n, *task["window"]))
        return {}
    if "n" in task:
        return level_table(out, task["pieces"], task["n"], task["total"], task["offset"], Path(task["dest"]))
    return long_table(out, task["pieces"], task["total"], Path(task["dest"]))


def inverse_part(read, n: int, p0: int, p1: int, shift: int = 18, chunk: int = 1 << 24) -> np.ndarray:
    """The ranks of the suffixes at positions ``p0..p1-1`` (that window of the inverse
    suffix array, int32) of a suffix array of ``n`` ranks, read ``chunk`` ranks at a time
    (``read(r0, r1)``: a memory-mapped file's pages need not stay): the window's (position,
    rank) pairs grouped by blocks of ``2**shift`` positions (compiled, one pass: the suffix
    array is a permutation, so block b holds the positions of its range, no count needed),
    then scattered a block at a time (ungdc's 32 M: 0.3 s against 1.0 s for one scatter
    over the whole array). A suffix array that is not a permutation is a ValueError."""
    size = p1 - p0
    at = np.minimum(np.arange(0, size + (2 << shift), 1 << shift, dtype=np.int64), size)  # block b's first slot
    pos, rank = np.empty(size, np.int32), np.empty(size, np.int32)
    for r0 in range(0, n, chunk):
        if not suffix.compiled(_inverse_place)(read(r0, min(n, r0 + chunk)), r0, p0, p1, shift, at, pos, rank):
            raise ValueError(f"inverse_part: positions {p0}..{p1 - 1} are not each in the suffix array once")
    part = np.full(size, -1, np.int32)
    if np.array_equal(at[:-1], np.minimum(np.arange(1, len(at), dtype=np.int64) << shift, size)):  # all filled
        part[pos] = rank  # block by block: each block's writes stay within 2**shift positions
    if size and part.min() < 0:
        raise ValueError(f"inverse_part: positions {p0}..{p1 - 1} are not each in the suffix array once")
    return part


def _inverse_place(sa, r0, p0, p1, shift, at, pos, rank):  # pragma: no cover - numba
    """:func:`inverse_part`'s pairs put in their blocks (``at[b]``: the next slot of block b;
    False where a block would overflow)."""
    for r in range(len(sa)):
        if p0 <= sa[r] < p1:
            b = (sa[r] - p0) >> shift
            if at[b] >= min((b + 1) << shift, p1 - p0):
                return False
            pos[at[b]], rank[at[b]] = sa[r] - p0, r0 + r
            at[b] += 1
    return True
