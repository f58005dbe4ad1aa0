"""The merge of a corpus's shards' streams: their vocabularies united, their token arrays
concatenated with the form ids mapped to the merged vocabulary's (:func:`shards_merge_stream`).

With a staging folder, the arrays are written there a shard a task, by the workers that
also merge the suffix arrays (:func:`stream_part`); the building process holds only the
vocabularies, the id maps and what is counted of each shard. The shards themselves are
tokenised and the suffix arrays merged in :mod:`analysis.phrases.shards`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

from ..store import array_sink, npy_create, npy_put, read_json
from .engine import Encoded
from .pool import run_tasks

STAGED = ("ids", "start", "end")  # the token arrays a staged stream writes (as the index stores them)
MERGE_BATCH = 16  # shards whose vocabularies (surface maps) are united at a time


def shards_merge_stream(tasks: list[dict], catalog: list[dict], into: Path | None = None, *, jobs: int = 1,
                        scheduler: str | None = None) -> tuple[Encoded, pl.DataFrame]:
    """The corpus's encoded form stream and surface map, from its shards in order.

    With ``into`` (a folder), the token arrays are written there a shard a task
    (:func:`stream_part`, run by :func:`analysis.phrases.pool.run_tasks` with ``jobs`` and
    ``scheduler``) and never held whole in this process: ``ids``, ``start`` and ``end`` as
    the index stores them; the stream's arrays are read-only memory maps of them
    (``staged``), and the form counts, sentence starts and statement lengths come counted
    shard by shard (a statement never spans two shards, so they equal the whole stream's).
    No statement or sentence array is kept then: the suffix-array pieces take each
    suffix's from its shard.
    """
    folders = [Path(t["folder"]) for t in tasks]
    vocab = _united(folders, "vocab.parquet", pl.DataFrame(schema={"form": pl.String}), lambda d: d.unique())
    vocab = vocab["form"].sort()
    n = sum(c["tokens"] for c in catalog)
    into = into if n else None  # (no memory map of an empty array)
    if into is not None:
        return _staged_stream(folders, catalog, vocab, into, n, (jobs, scheduler))
    put, close = array_sink(n, dict.fromkeys(("ids", "doc", "start", "end", "sent"), np.uint32), None)
    maps = []
    for task, folder in zip(tasks, folders, strict=True):
        maps.append(to_global := shard_map(folder, vocab))
        put("ids", to_global[np.load(folder / "stream_fid.npy")])
        put("start", np.load(folder / "stream_start.npy"))
        put("end", np.load(folder / "stream_end.npy"))
        doc_n = np.load(folder / "doc_tokens.npy")  # the stream is in statement order: its statements
        put("doc", np.repeat(np.arange(task["lo"], task["lo"] + len(doc_n), dtype=np.uint32), doc_n))
        put("sent", np.load(folder / "stream_sent.npy"))
    arrays = close()
    return Encoded(vocab=vocab, ids=arrays["ids"], doc=arrays["doc"], sent=arrays["sent"], start=arrays["start"],
                   end=arrays["end"], maps=maps), _surfaces(folders)


def _staged_stream(folders: list[Path], catalog: list[dict], vocab: pl.Series, into: Path, n: int, where: tuple
                   ) -> tuple[Encoded, pl.DataFrame]:
    """:func:`shards_merge_stream` into the folder ``into``: the arrays written by the
    workers (:func:`stream_part`, :func:`stream_batches`; in this process the step took
    1.1-1.3 s of ungdc, the workers idle), what is counted of them from the shards' own
    counts (``n``: the tokens of them all)."""
    for name in STAGED:
        npy_create(into / f"{name}.npy", np.uint32, n)
    counts, starts, n_split, doc_tokens, maps, parts = np.zeros(len(vocab), np.int64), [], 0, [], [], []
    at = 0
    for folder, entry in zip(folders, catalog, strict=True):
        maps.append(to_global := shard_map(folder, vocab))
        counts[to_global] += np.diff(np.load(folder / "first.npy"))  # the shard's tokens of each of its forms
        starts.append(np.load(folder / "sentences.npy") + at)
        n_split += int(read_json(folder / "shard.json").get("sentences_split", 0))
        doc_tokens.append(np.load(folder / "doc_tokens.npy"))
        parts.append({"folder": str(folder), "map": to_global, "at": at, "size": int(entry["tokens"])})
        at += int(entry["tokens"])
    batches = stream_batches(parts, where)
    with ThreadPoolExecutor(1) as beside:  # the surface map, while the workers write (polars frees the GIL)
        surface = beside.submit(_surfaces, folders)
        run_tasks(stream_part, [{"shard": k, "shards": b, "into": str(into), "size": sum(p["size"] for p in b)}
                                for k, b in enumerate(batches)],
                  where[0], where[1], [f"formulae-stream-{into.name}-{k}" for k in range(len(batches))])
        surface = surface.result()
    arrays = {name: np.load(into / f"{name}.npy", mmap_mode="r") for name in STAGED}
    return Encoded(vocab=vocab, ids=arrays["ids"], doc=np.zeros(0, np.uint32), sent=np.zeros(0, np.uint32),
                   start=arrays["start"], end=arrays["end"], maps=maps, staged=str(into), counts=counts,
                   starts=np.concatenate(starts), n_split=n_split, doc_tokens=np.concatenate(doc_tokens)
                   ), surface


def stream_batches(parts: list[dict], where: tuple) -> list[list[dict]]:
    """The shards' parts as the stream's tasks: on a Dask scheduler (``where`` = (jobs,
    scheduler)) a shard each; otherwise one run of consecutive shards a worker, of about
    equal tokens (ungdc: 2 tasks where there were 17 of 0.02-0.09 CPU-s each)."""
    if where[1] or not parts:
        return [[p] for p in parts]
    size = np.cumsum([p["size"] for p in parts])
    jobs = max(1, where[0])
    cuts = [0, *np.unique(np.searchsorted(size, np.arange(1, jobs) * size[-1] / jobs) + 1).tolist(), len(parts)]
    return [parts[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


def stream_part(task: dict) -> dict:
    """Shards' token arrays written into the staged ``ids``, ``start`` and ``end`` (runs in
    a worker), each at its ``at``: its form ids mapped to the merged vocabulary's (``map``)."""
    into = Path(task["into"])
    for part in task["shards"]:
        folder, at = Path(part["folder"]), part["at"]
        for name, arr in (("ids", part["map"][np.load(folder / "stream_fid.npy")]),
                          ("start", np.load(folder / "stream_start.npy")),
                          ("end", np.load(folder / "stream_end.npy"))):
            npy_put(into / f"{name}.npy", at, arr)
    return {}


def _surfaces(folders: list[Path]) -> pl.DataFrame:
    """The surface map of the shards: a surface's first shard's forms win."""
    schema = {"surface": pl.String, "forms": pl.List(pl.String)}
    return _united(folders, "surface.parquet", pl.DataFrame(schema=schema),
                   lambda d: d.unique("surface", keep="first", maintain_order=True)).sort("surface")


def _united(folders: list[Path], name: str, frame: pl.DataFrame, unite) -> pl.DataFrame:
    """``unite`` over ``frame`` and the shards' ``name`` tables, in shard order, ``MERGE_BATCH``
    shards at a time (never every shard's table at once)."""
    for k in range(0, len(folders), MERGE_BATCH):
        frame = unite(pl.concat([frame, *(pl.read_parquet(f / name) for f in folders[k:k + MERGE_BATCH])]))
    return frame


def shard_map(folder: Path, vocab: pl.Series) -> np.ndarray:
    """A shard's local form id -> its id in the merged ``vocab`` (uint32): both vocabularies
    are sorted, so a form's global id is its place in the merged one."""
    return vocab.search_sorted(pl.read_parquet(folder / "vocab.parquet")["form"], side="left").to_numpy().astype(
        np.uint32)
