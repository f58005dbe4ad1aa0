"""The analyzer's levels (``clitic``, ``stem``, ``norm`` with aliases) through the pieces.

Their shards hold tokens, not forms: the Analyzer needs the whole corpus's vocabulary, so
the building process makes the corpus's form stream (``build._forms``). From there the
stream takes the path of the other levels: it is cut into the shards' ranges of
statements, each range's suffix array is made in a worker (:func:`form_part`, the files
of :func:`analysis.phrases.shards.shard_suffix_write`), and the pieces merge and count
them (:func:`analysis.phrases.shards.shards_merge_suffix`), where this process used to
sort and count the whole corpus alone. The ids are the corpus's own (each range's map to
them is the identity), so the index is the one-process index byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl

from ..store import scratch_dir
from .engine import Encoded, sentence_starts, stream_encode
from .pool import run_tasks
from .shards import shard_suffix_write, shards_merge_suffix


def forms_pieces(stream: pl.DataFrame, tasks: list[dict], scan: dict, where: tuple, say
                 ) -> tuple[Encoded, dict]:
    """The form ``stream`` ((doc, pos)-sorted) encoded, its suffix array merged and its
    tables counted and written by the pieces (``scan``, as :func:`shards_merge_suffix`
    takes it), the ranges those of the shards ``tasks`` (``lo``, ``hi``, ``folder``);
    ``where`` = (jobs, scheduler). Returns the stream (its ``suffix`` and ``tables`` set,
    as the engine takes them) and how it merged."""
    jobs, scheduler = where
    enc = stream_encode(stream)
    del stream
    enc.starts, enc.n_split = sentence_starts(enc.doc, enc.sent)
    enc.counts = np.bincount(enc.ids, minlength=len(enc.vocab))
    enc.doc_tokens = np.bincount(enc.doc, minlength=int(tasks[-1]["hi"]))
    scratch = scratch_dir(Path(tasks[0]["folder"]).parent, "forms")  # beside the shards: a cluster's workers read it
    try:
        for name, arr in (("ids", enc.ids), ("doc", enc.doc), ("starts", enc.starts)):
            np.save(scratch / f"{name}.npy", arr)
        bounds = np.searchsorted(enc.doc, [t["lo"] for t in tasks] + [tasks[-1]["hi"]]).tolist()
        parts = [{"piece": f"forms{k}", "scratch": str(scratch), "folder": str(scratch / f"part{k}"),
                  "lo": int(t["lo"]), "t0": a, "t1": b, "size": b - a, "n_vocab": len(enc.vocab)}
                 for k, (t, a, b) in enumerate(zip(tasks, bounds[:-1], bounds[1:], strict=True))]
        say(f"suffix arrays of the forms: {len(parts)} ranges")
        run_tasks(form_part, parts, jobs, scheduler, [f"formulae-forms-{scratch.name}-{k}" for k in range(len(parts))])
        enc.maps = [np.arange(len(enc.vocab), dtype=np.uint32)] * len(parts)
        sa, cl, info = shards_merge_suffix(parts, [{"tokens": p["size"]} for p in parts], enc, jobs=jobs,
                                           scheduler=scheduler, progress=say, scan=scan)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    enc.suffix, enc.tables = (sa, cl), info.pop("tables", None)
    return enc, info


def form_part(task: dict) -> dict:
    """One range's suffix files (runs in a worker): the forms' ids ``t0..t1-1`` of the
    stream in ``scratch``, its sentences and statements (from ``lo``) local to it."""
    scratch, t0, t1 = Path(task["scratch"]), task["t0"], task["t1"]
    ids = np.array(np.load(scratch / "ids.npy", mmap_mode="r")[t0:t1])
    doc = np.array(np.load(scratch / "doc.npy", mmap_mode="r")[t0:t1]) - np.uint32(task["lo"])
    starts = np.load(scratch / "starts.npy")
    starts = starts[(starts >= t0) & (starts < t1)] - t0
    folder = Path(task["folder"])
    folder.mkdir()
    shard_suffix_write(folder, ids, starts, int(task["n_vocab"]), doc)
    return {}
