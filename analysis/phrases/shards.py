"""Shards: the per-token work of an index, split over contiguous statement ranges.

A phrase index is built from a corpus's *shards*: contiguous ranges of statements in
snapshot order (:func:`shard_plan`). Each shard is tokenised on its own, in a worker
process or on a Dask cluster (:func:`shards_run`), into ``<store>/<corpus>/shards/<kind>/<key>/``:

* for the levels whose forms need no corpus-wide vocabulary (``exact``; ``norm`` without
  an alias table) the shard holds its form stream already encoded against its own sorted
  vocabulary (``stream_<fid|start|end|sent>.npy``, ``vocab.parquet``), its surface map
  (``surface.parquet``), its suffix array (:func:`shard_suffix_write`) and what the
  merge would otherwise count of its stream (``sentences.npy``, the sentence starts;
  ``doc_tokens.npy``, the tokens of each statement); ``kind`` is the level;
* otherwise (``clitic``, ``stem``, ``lemma``, ``norm`` with aliases: the Analyzer needs
  the corpus vocabulary) it holds the ``norm`` stream coded by distinct verbatim piece
  (``coded_<doc|sent|start|end|code>.npy``), each code's norm form and verbatim part
  (``parts.parquet``) and each countable surface's norm, kind, pieces and tokens
  (``words.parquet``), from which :mod:`analysis.phrases.formparts` makes the level's
  forms once the corpus's vocabulary is known; ``kind`` is ``coded``.

``key`` hashes the shard's content (every statement's id, language and text), the
tokenising parameters, the versions of the libraries that decide forms
(:func:`analysis.text.versions.library_versions`) and the code (:func:`analysis.phrases.index.code_sha`), so a shard
whose statements did not change is reused as it is: re-ingesting a corpus with
statements added or changed re-tokenises only the shards they fall in.

Merging is exact: the merged vocabulary is the sorted union of the shards' vocabularies
(a form's id is its rank in it, as in a single build), every shard's ids are mapped
through it, and the streams are concatenated in statement order
(:func:`analysis.phrases.streams.shards_merge_stream`, into files a shard a task). The shards' suffix arrays
are merged by first-word pieces that count their own n-grams
(:func:`shards_merge_suffix`), and the tables are made from the pieces
(:mod:`analysis.phrases.tables`), so the stored index is byte for byte the one of
:func:`analysis.phrases.engine.phrases_scan` over the whole stream, whatever the shard
sizes, the number of worker processes or the cluster.

Shard boundaries fall between years (:func:`shard_plan`): statements added at the end
change the last shard only, and new shards follow it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..ingest.snapshot import corpus_load
from ..store import (
    array_sink,
    atomic_dir,
    corpus_dir,
    link_or_copy,
    npy_create,
    npy_put,
    npy_windows,
    scratch_dir,
    stale_clean,
    stamp_read,
    stamp_state,
    stamp_write,
)
from ..text.coded import forms_coded
from ..text.versions import library_versions
from . import suffix
from .cuts import piece_cuts
from .engine import Encoded, doc_weights, forms_encode, piece_scan, sentence_starts
from .index import code_sha
from .pool import (
    jobs_count,
    largest,
    release,
    run_tasks,
    scheduler_of,
    step_times,
    worker_check,
    workers,
)
from .streams import shard_map, shards_merge_stream
from .tables import tables_run

SHARD_CHARS = 12_000_000  # characters of text a shard holds at most (about 2 M English tokens)
CHARS_PER_TOKEN = 6  # about, in English (ungdc: 6.2): the tokens a shard's text will give, guessed
SHARD_VERSION = "7"  # layout of a shard folder (2: with its suffix array; 4: and per suffix its second
# token, sentence end, left neighbour and statement; 5: and its sentence starts and statement lengths;
# 6: its stream as .npy arrays; 7: the analyzer's levels' shards coded, not tokens)
SMALL_WORK = 4_000_000  # characters to tokenise below which the default is no worker process
SURFACE_MAX = 48  # longer surfaces are not in the fast query map (the slow path handles them)
STREAM_COLS = ("fid", "start", "end", "sent")  # a shard's stream: stream_<name>.npy (uint32)
MEASURES = ("peak_mb", "anon_mb", "seconds", "cpu_seconds")  # a built shard's task's, in the catalog


def shard_kind(level: str, manifest: dict) -> str:
    """``level`` when its forms are made shard by shard, else ``coded`` (the analyzer's levels)."""
    return level if level == "exact" or (level == "norm" and not manifest.get("aliases")) else "coded"


# --- planning ---------------------------------------------------------------------


def shard_plan(statements: pl.LazyFrame, shard_chars: int = SHARD_CHARS) -> pl.DataFrame:
    """One row per shard: ``shard lo hi statements chars sha`` (docs ``lo <= doc < hi``).

    Whole years go together: a year's statements join the shard of the text that comes
    before it (``shard_chars`` characters a shard, counted from the first statement), and
    a year of more than ``shard_chars`` characters is cut every ``shard_chars`` characters
    of its own. ``sha`` hashes the shard's statements (:func:`row_hashes`).
    """
    if shard_chars < 1:
        raise FormulaeError(f"shard size must be at least 1 character, got {shard_chars}")
    rows = (
        statements.select(
            "doc",
            pl.col("date").dt.year().fill_null(-1).alias("_year"),
            pl.col("text").str.len_chars().fill_null(0).cast(pl.Int64).alias("_chars"),
            ROW_HASH.alias("_hash"),
        )
        .collect(engine="streaming")
        .sort("doc")
    )
    hashes = rows["_hash"].to_numpy()
    plan = (
        rows.lazy()
        .with_columns((pl.col("_chars").cum_sum() - pl.col("_chars")).alias("_before"))
        .with_columns(pl.col("_before").first().over("_year").alias("_year_at"))
        .with_columns((pl.col("_year_at") // shard_chars).alias("_block"),
                      ((pl.col("_before") - pl.col("_year_at")) // shard_chars).alias("_part"))
        .with_columns(pl.struct("_block", "_part").rle_id().cast(pl.UInt32).alias("shard"))
        .with_row_index("_row")
        .group_by("shard", maintain_order=True)
        .agg(pl.col("doc").min().alias("lo"), (pl.col("doc").max() + 1).alias("hi"),
             pl.len().alias("statements"), pl.col("_chars").sum().alias("chars"),
             pl.col("_row").min().alias("_first"))
        .collect()
    )
    sha = [shard_sha(hashes[a:a + k]) for a, k in zip(plan["_first"], plan["statements"], strict=True)]
    return plan.drop("_first").with_columns(pl.Series("sha", sha, pl.String))


# per statement: a 64-bit hash of its id, language and text (polars's hash: a polars
# upgrade may change it, and then every shard is rebuilt once)
ROW_HASH = pl.concat_str([pl.col("id"), pl.col("language").fill_null(""), pl.col("text").fill_null("")],
                         separator="\x1f").hash(seed=0)


def shard_sha(hashes: np.ndarray) -> str:
    """sha256 of a shard: of its statements' row hashes (:data:`ROW_HASH`) in doc order."""
    return hashlib.sha256(np.ascontiguousarray(hashes, dtype="<u8").tobytes()).hexdigest()


def shard_tasks(plan: pl.DataFrame, corpus: str, store, manifest: dict, kind: str) -> list[dict]:
    """One task (a plain dict, sent to a worker) per shard of ``plan``."""
    root = corpus_dir(corpus, store).resolve() / "shards" / kind
    params = {"kind": kind, "language": manifest["language"],
              "line_breaks": manifest.get("line_breaks", "paragraph")}
    libraries = library_versions()
    stamp = (f"{SHARD_VERSION}|{code_sha()}|{json.dumps(libraries, sort_keys=True)}|{params['kind']}|"
             f"{params['language']}|{params['line_breaks']}")
    tasks = []
    for row in plan.iter_rows(named=True):  # one per shard, not per statement
        key = hashlib.sha256(f"{stamp}|{row['sha']}".encode()).hexdigest()[:24]
        tasks.append(params | {
            "corpus": corpus, "store": str(Path(corpus_dir(corpus, store).resolve()).parent),
            "shard": int(row["shard"]), "lo": int(row["lo"]), "hi": int(row["hi"]), "chars": int(row["chars"]),
            "sha": row["sha"], "key": key, "folder": str(root / key), "code_sha": code_sha(),
            "libraries": libraries,
        })
    return tasks


def shard_done(task: dict) -> dict | None:
    """The stored stamp of a task's shard when it is there, complete and as written, else None."""
    return shard_state(task)[0]


def shard_state(task: dict) -> tuple[dict | None, str | None]:
    """(:func:`shard_done`, why a shard folder that is there is not used: damaged, a file
    cut short or lost since it was written (:func:`analysis.store.folder_damage`), or None)."""
    have, why = stamp_state(Path(task["folder"]), "shard.json")
    if have is None or why or have.get("key") != task["key"] or have.get("version") != SHARD_VERSION:
        return None, why
    return have, None


# --- one shard (runs in a worker) ---------------------------------------------------


def shard_build(task: dict) -> dict:
    """Tokenise one shard into its folder; return its stamp plus the worker's peak memory.

    Runs in any process that can read the store (a worker, a Dask worker on another
    machine with the store on a shared path). Docs are stored relative to ``lo``.
    """
    worker_check(task, f"shard {task['shard']} of corpus {task['corpus']!r}")
    lo, hi = task["lo"], task["hi"]
    part = (corpus_load(task["corpus"], task["store"])
            .filter((pl.col("doc") >= lo) & (pl.col("doc") < hi))
            .select("doc", "id", "language", "text")
            .collect())
    if part.height != hi - lo or shard_sha(part.sort("doc").select(ROW_HASH).to_series().to_numpy()) != task["sha"]:
        raise FormulaeError(f"shard {task['shard']} of corpus {task['corpus']!r} (statements {lo}-{hi - 1}) "
                            "changed while indexing; run the command again")
    how = {"language": task["language"], "line_breaks": task["line_breaks"]}
    stamp = {"version": SHARD_VERSION, "key": task["key"], "sha": task["sha"], "kind": task["kind"],
             "statements": hi - lo, "code_sha": task["code_sha"]}
    with atomic_dir(Path(task["folder"])) as tmp:
        if task["kind"] == "coded":  # the norm stream by distinct piece: formparts makes the forms
            stamp["tokens"] = shard_coded_write(tmp, part, how)
            del part
        else:
            # coded by distinct surface: the rows of tokens_level, no string column over the tokens
            coded = forms_coded(part.lazy(), **how, level=task["kind"])
            del part
            st = coded.stream
            surface_kept(coded.surfaces).write_parquet(tmp / "surface.parquet")
            vocab, piece_ids = forms_encode(coded.pieces)
            stamp["tokens"] = st.height
            stamp["sentences_split"] = shard_stream_write(tmp, piece_ids[st["code"].to_numpy()], vocab,
                                                          {n: st[n].to_numpy() for n in ("doc", *STREAM_COLS[1:])},
                                                          lo, hi)
        stamp_write(tmp, "shard.json", stamp)
    return stamp


def shard_coded_write(folder: Path, statements: pl.DataFrame, how: dict) -> int:
    """A ``coded`` shard's files (the module's docstring) of ``statements`` (``doc``,
    ``text``; ``how``: ``language``, ``line_breaks``) into ``folder``; returns its rows."""
    coded = forms_coded(statements.lazy(), **how, level="norm")
    for name in ("doc", "sent", "start", "end", "code"):
        np.save(folder / f"coded_{name}.npy", coded.stream[name].to_numpy())
    pl.DataFrame({"form": coded.pieces, "surface": coded.parts}).write_parquet(folder / "parts.parquet")
    coded.words.write_parquet(folder / "words.parquet")
    return coded.stream.height


def shard_stream_write(folder: Path, ids: np.ndarray, vocab: pl.Series, columns: dict, lo: int, hi: int) -> int:
    """A shard's form stream into ``folder``: its ids (``vocab``'s), ``columns`` (``doc``,
    ``start``, ``end``, ``sent``) as raw ``stream_<name>.npy`` arrays (a Parquet write of
    them took 0.24 CPU-s a shard, these 0.03), what the merge counts of it (``sentences``,
    ``doc_tokens`` of its statements ``lo..hi-1``) and its suffix files
    (:func:`shard_suffix_write`); returns the sentences cut (:func:`sentence_starts`)."""
    for name in STREAM_COLS:
        np.save(folder / f"stream_{name}.npy", ids if name == "fid" else columns[name])
    pl.DataFrame({"form": vocab}).write_parquet(folder / "vocab.parquet")
    starts, split = sentence_starts(columns["doc"], columns["sent"])
    doc = columns.pop("doc") - np.uint32(lo)
    columns.clear()  # (the caller's only reference: freed before the suffix array)
    np.save(folder / "sentences.npy", starts)
    np.save(folder / "doc_tokens.npy", np.bincount(doc, minlength=hi - lo).astype(np.int64))
    shard_suffix_write(folder, ids, starts, len(vocab), doc)
    return split


def shards_counted(tasks: list[dict], catalog: list[dict], scan: dict | None, where: tuple, say
                   ) -> tuple[Encoded, pl.DataFrame, dict]:
    """The shards' streams merged and their suffix arrays merged by pieces, which count
    the n-grams and write the tables unless ``scan`` is None (:func:`shards_merge_suffix`);
    ``where`` = (jobs as given, scheduler). Returns the stream (its ``suffix`` and
    ``tables`` set, as the engine takes them), the surface map and how it merged."""
    jobs = merge_jobs(where[0], sum(c["tokens"] for c in catalog))
    with workers(jobs, where[1], arrays=True):
        stream, surface = shards_merge_stream(tasks, catalog, into=Path(scan["dest"]) if scan else None,
                                              jobs=jobs, scheduler=where[1])
        sa, cl, info = shards_merge_suffix(tasks, catalog, stream, jobs=where[0], scheduler=where[1],
                                           progress=say, scan=scan)
    stream.suffix, stream.tables = (sa, cl), info.pop("tables", None)
    return stream, surface, info


def shard_suffix_write(folder: Path, ids: np.ndarray, starts: np.ndarray, n_vocab: int, doc: np.ndarray) -> None:
    """A shard's suffix array in the canonical order (:func:`analysis.phrases.suffix.suffix_array`,
    local ids ``ids``, sentences at ``starts``, statements ``doc`` counted from the
    shard's first) into ``folder``: ``sa.npy``, ``lcp.npy``, ``first.npy`` (the first rank
    of each id) and, per suffix in that order, ``second.npy`` (its second token, -1 where
    the sentence ends: to split a word's suffixes, :func:`word_parts`), ``rem.npy`` (the
    tokens left in its sentence), ``prev.npy`` (its left neighbour, -1 at a sentence
    start) and ``doc.npy`` (its statement). A piece merging the shards carries these along
    (:func:`piece_merge`) instead of reading them at every position of the corpus."""
    sa, cl = suffix.suffix_array(ids, starts)
    np.save(folder / "sa.npy", sa)
    np.save(folder / "lcp.npy", cl.astype(np.uint16))  # in-sentence: at most SENTENCE_MAX
    np.save(folder / "first.npy", np.concatenate(([0], np.cumsum(np.bincount(ids, minlength=n_vocab)))))
    for name, arr in zip(("second", "rem", "prev", "doc"), suffix.suffix_rows(
            sa, ids, suffix.rem_from_starts(starts, len(ids)), doc), strict=True):
        np.save(folder / f"{name}.npy", arr)


def surface_kept(surfaces: pl.DataFrame) -> pl.DataFrame:
    """The rows of the fast query map among distinct surfaces (``surface`` and what it maps
    to): at most ``SURFACE_MAX`` characters, no white space; sorted by surface."""
    return (surfaces.filter((pl.col("surface").str.len_chars() <= SURFACE_MAX)
                            & ~pl.col("surface").str.contains(r"\s"))
            .sort("surface"))


# --- running the shards -------------------------------------------------------------


def shards_run(tasks: list[dict], *, jobs: int | None = None, scheduler: str | None = None,
               progress=None, reuse: bool = True) -> list[dict]:
    """Build every shard not yet stored (``reuse`` False: every shard); return one catalog
    entry per task (``shard lo hi sha key tokens reused``; built: its task's measures).

    ``scheduler`` (``tcp://host:port``, else ``$FORMULAE_SCHEDULER``) runs the shards on a
    Dask distributed cluster (the store must be on a path every worker reads and writes);
    otherwise ``jobs`` worker processes (default: all cores, or this process alone for
    less than ``SMALL_WORK`` characters of text to tokenise; 1: this process).
    """
    say = progress or (lambda step: None)
    states = [shard_state(t) if reuse else (None, None) for t in tasks]
    done = [have for have, _ in states]
    todo = [t for t, d in zip(tasks, done, strict=True) if d is None]
    scheduler = scheduler_of(scheduler)
    jobs = shards_jobs(todo, jobs)
    built: dict[str, dict] = {}
    if todo:
        where = f"on {scheduler}" if scheduler else f"in {jobs} process(es)"
        say(f"tokenising {len(todo)} of {len(tasks)} shards {where}")
        results = run_tasks(shard_build, todo, jobs, scheduler, [f"formulae-shard-{t['key']}" for t in todo])
        built = {r["key"]: r for r in results}
        unseen = [t for t in todo if shard_done(t) is None]  # written where this machine does not see it
        if unseen:
            raise FormulaeError(f"shard {unseen[0]['shard']} was written by a worker into {unseen[0]['folder']}, "
                                "which this process does not find whole: the store must be on a path every worker "
                                "reads and writes (--scheduler: a shared file system)")
    out = []
    for task, (have, why) in zip(tasks, states, strict=True):
        stamp = have if have is not None else built[task["key"]]
        out.append({"shard": task["shard"], "lo": task["lo"], "hi": task["hi"], "sha": task["sha"],
                    "key": task["key"], "tokens": int(stamp["tokens"]), "reused": have is not None}
                   | ({} if have is not None else {k: stamp[k] for k in MEASURES}) | ({"damaged": why} if why else {}))
    return out


def shards_jobs(todo: list[dict], jobs: int | None) -> int:
    """Worker processes tokenising ``todo``: ``jobs`` (default all cores; none for less than
    ``SMALL_WORK`` characters: starting workers would take longer), at most one a shard."""
    jobs_count(jobs, 1)
    if jobs is None and sum(t["chars"] for t in todo) < SMALL_WORK:
        return 1
    return jobs_count(jobs, len(todo))


# --- merging ---------------------------------------------------------------------


PIECE_TOKENS = 4_000_000  # tokens a piece of the merged suffix array holds (about; one first token may hold more)
CONTEXT_BYTES = 768 << 20  # a piece's suffixes' first words, at most (longer ones read past them)
TEXT_RESIDENT = 256 << 20  # token ids (bytes) up to which a piece holds max_n words a suffix only
SMALL_MERGE = 2_000_000  # tokens below which the default merges in this process


def shards_merge_suffix(tasks: list[dict], catalog: list[dict], stream: Encoded, *, jobs: int | None = None,
                        scheduler: str | None = None, progress=None, scan: dict | None = None
                        ) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """The corpus's suffix array and LCP (:func:`analysis.phrases.suffix.suffix_array`'s
    order), merged from its shards' suffix arrays; ``stream`` is the merged stream.

    Piece j covers the global first ids ``[a_j, a_j+1)`` (about ``PIECE_TOKENS`` tokens):
    the slices of the shards' suffix arrays starting with them, merged
    (:func:`analysis.phrases.suffix.sa_merge`). A word of more suffixes than that has
    pieces of its own, split by the second token (:func:`word_parts`). Each piece's ranks
    in every shard (``ranges``) are found here, once. Pieces are independent (LCP 0 across
    a boundary, 1 between a word's parts) and run like the shards, reading the corpus's
    token ids from a scratch folder and the rest from the shards (:func:`piece_merge`).
    Third value: ``pieces`` and the largest task's ``peak_mb``, ``anon_mb`` and name
    (``task``: :func:`analysis.phrases.pool.largest`).

    With ``scan`` (``canon``, ``max_n``, ``min_statements``, ``min_len``, ``dest``) each
    piece also counts its ranks (:func:`analysis.phrases.engine.piece_scan`) and the tables
    are made from the pieces (:mod:`analysis.phrases.tables`) and written into ``dest`` (row
    counts in ``tables``); the LCP is then not kept (None). A ``staged`` stream is read from its files, and the suffix
    array is written beside them (returned memory-mapped).
    """
    say = progress or (lambda step: None)
    n = len(stream.ids)
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), {"pieces": 0, "peak_mb": 0.0, "anon_mb": 0.0}
    staged = Path(stream.staged) if stream.staged else None
    counts = stream.counts if stream.counts is not None else np.bincount(stream.ids, minlength=len(stream.vocab))
    before = np.concatenate(([0], np.cumsum(counts)))
    cuts = piece_cuts(before, piece_count(n, jobs, scheduler))
    heavy = np.flatnonzero(counts > PIECE_TOKENS)  # a piece of their own, split by the second token
    cuts = np.unique(np.concatenate((cuts, heavy, heavy + 1)))
    root = Path(tasks[0]["folder"]).parent
    root.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir(root, "merge")  # pruning skips dot folders
    try:
        if staged:  # written shard by shard (shards_merge_stream): the pieces read the ids there
            link_or_copy(staged / "ids.npy", scratch / "ids.npy")
        else:
            np.save(scratch / "ids.npy", stream.ids)
        if scan is not None:
            tokens = doc_weights(stream.doc, len(scan["canon"]), stream.doc_tokens)
            np.savez(scratch / "ctx.npz", canon=np.asarray(scan["canon"], np.int32), doc_tokens=tokens, counts=counts,
                     min_statements=int(scan["min_statements"]), min_len=int(scan["min_len"]))
            scan = {k: int(scan[k]) for k in ("max_n", "min_statements", "min_len")} | {
                "total": n, "dest": scan["dest"]}
        parts, at_cut, tok0 = [], [], 0
        for k, (task, entry) in enumerate(zip(tasks, catalog, strict=True)):
            folder = Path(task["folder"])
            to_global = (stream.maps[k] if stream.maps is not None else shard_map(folder, stream.vocab)).astype(np.int64)
            np.save(scratch / f"map{k}.npy", to_global)
            parts.append({"folder": task["folder"], "map": str(scratch / f"map{k}.npy"), "tok0": tok0,
                          "doc0": int(task["lo"])})
            at_cut.append(np.load(folder / "first.npy")[np.searchsorted(to_global, cuts)].tolist())  # each cut's rank
            tok0 += int(entry["tokens"])
        pieces: list[dict] = []
        for j, (a, b) in enumerate(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)):
            ranges = [(r[j], r[j + 1]) for r in at_cut]
            common = {"scratch": str(scratch), "shards": parts, "scan": scan, "ranges": ranges}
            split = word_parts(ranges, parts, len(counts)) if b == a + 1 and counts[a] > PIECE_TOKENS else []
            for lo, hi, part_ranges in split:
                pieces.append(common | {"piece": len(pieces), "offset": int(before[a]) + lo, "size": hi - lo,
                                        "ranges": part_ranges, "word": a, "part": int(lo > 0)})
            if not split:
                pieces.append(common | {"piece": len(pieces), "offset": int(before[a]), "size": int(before[b] - before[a])})
        jobs = merge_jobs(jobs, n, len(pieces))
        where = f"on {scheduler}" if scheduler else f"in {jobs} process(es)"
        say(f"merging the shards' suffix arrays{' and counting' if scan else ''}: {len(pieces)} pieces {where}")
        into = staged / "sa.npy" if staged and scan is not None else None
        if into:  # each piece writes its ranks there itself (0.37 s in this process, the workers idle)
            npy_create(into, np.int32, n)
            pieces = [p | {"sa_into": str(into)} for p in pieces]
        with workers(jobs, scheduler, arrays=True):  # one pool for the pieces and the tables
            done = run_tasks(piece_merge, pieces, jobs, scheduler,
                             [f"formulae-piece-{scratch.name}-{p['piece']}" for p in pieces])
            if into:
                sa, cl = np.load(into, mmap_mode="r"), None
            else:
                put, close = array_sink(n, {"sa": np.int32} | ({} if scan else {"cl": np.int32}), staged)
                for piece in pieces:  # in rank order
                    put("sa", np.load(scratch / f"sa{piece['piece']}.npy"))
                    if scan is None:
                        put("cl", np.load(scratch / f"cl{piece['piece']}.npy"))
                merged = close()
                sa, cl = merged["sa"], merged.get("cl")
            info: dict = {"pieces": len(pieces), "words_split": len({p["word"] for p in pieces if "word" in p})
                          } | largest(done, "piece") | {"steps": {"pieces": step_times(done)}}
            if scan is not None:  # in workers too: the parent never holds the tables
                say("n-gram and maximal tables from the pieces")
                rows = np.sum([d["rows"] for d in done], axis=0).tolist()  # of each n, the pieces' rows
                info["tables"] = tables_run(scratch, len(pieces), sa, scan | {"rows": rows}, (jobs, scheduler))
                info["steps"]["tables"] = info["tables"].pop("steps")
                top = info["tables"].pop("largest")
                if top["peak_mb"] > info["peak_mb"]:
                    info |= top
                release()  # the tables are a build's last tasks
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return sa, cl, info


def merge_jobs(jobs: int | None, n: int, pieces: int | None = None) -> int:
    """Worker processes merging ``n`` tokens in ``pieces`` (default: by ``PIECE_TOKENS``):
    ``jobs`` (default all cores; none below ``SMALL_MERGE`` tokens), at most one a piece."""
    return jobs_count(1 if jobs is None and n < SMALL_MERGE else jobs, pieces or max(1, -(-n // PIECE_TOKENS)))


def piece_count(n: int, jobs: int | None, scheduler: str | None = None) -> int:
    """Pieces of ``n`` tokens: one a ``PIECE_TOKENS``, rounded up to a multiple of the
    worker processes (:func:`merge_jobs`) so that the last round of pieces keeps every
    worker busy (ungdc, 2 workers: 10 pieces, not 9, whose last one ran alone for 0.8 s).
    On a Dask cluster (``scheduler``), whose size is not known here, not rounded."""
    pieces = max(1, -(-n // PIECE_TOKENS))
    if scheduler or pieces == 1:
        return pieces
    return -(-pieces // (workers := merge_jobs(jobs, n))) * workers


def word_parts(ranges: list[tuple[int, int]], parts: list[dict], n_vocab: int
               ) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """One word's suffixes (ranks ``ranges`` of each shard) split by their second token
    into parts of about ``PIECE_TOKENS``: ``(lo, hi, ranges)``, ranks ``lo..hi-1`` counted
    from the word's first and each part's ranks in every shard. A part holds whole second
    tokens (the sentence ending after the word sorts first). Empty when the suffixes cannot
    be split (one second token)."""
    hist = np.zeros(n_vocab + 1, np.int64)
    seen = []  # per shard: its distinct keys and the ranks before each
    for part, (r0, r1) in zip(parts, ranges, strict=True):
        keys, count = np.unique(_second_keys(part, np.load(part["map"]), r0, r1), return_counts=True)
        hist[keys] += count
        seen.append((keys, np.concatenate(([0], np.cumsum(count)))))
    cum = np.concatenate(([0], np.cumsum(hist)))  # cum[c]: suffixes whose key is below c
    total = int(cum[-1])
    want = np.arange(1, -(-total // PIECE_TOKENS)) * (total / -(-total // PIECE_TOKENS))
    cs = np.unique(np.searchsorted(cum, want, side="left"))
    cs = cs[(cum[cs] > 0) & (cum[cs] < total)]
    cs = cs[np.unique(cum[cs], return_index=True)[1]]  # no empty part
    if not len(cs):
        return []
    bounds = [0, *cs.tolist(), n_vocab + 1]
    at = [(r0, ranks[np.searchsorted(keys, bounds)].tolist()) for (r0, _), (keys, ranks) in zip(ranges, seen, strict=True)]
    return [(int(cum[c0]), int(cum[c1]), [(r0 + q[i], r0 + q[i + 1]) for r0, q in at])
            for i, (c0, c1) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))]


def _second_keys(part: dict, to_global: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """The second-token keys (global id + 1, 0: none) of a shard's ranks ``r0..r1-1``."""
    second = np.array(npy_windows(Path(part["folder"]) / "second.npy")[0](r0, r1))
    return np.where(second >= 0, to_global[np.maximum(second, 0)] + 1, 0)


def piece_merge(piece: dict) -> dict:
    """Merge one piece of the suffix array from the shards' slices, ranks ``ranges`` of
    each (runs in a worker).

    What the counting needs of each suffix (its sentence end, left neighbour and statement)
    comes with it from its shard's slices. Its first words (up to the whole sentence within
    ``CONTEXT_BYTES`` for the piece; ``max_n`` if the token ids fit ``TEXT_RESIDENT``: the
    merge reads past them in place) are read one shard's span at a time
    (:func:`analysis.phrases.suffix.suffix_contexts`), compared there by the merge
    (:func:`analysis.phrases.suffix.sa_merge`) and give the kept n-grams their words."""
    scratch = Path(piece["scratch"])
    path, scan = scratch / "ids.npy", piece.get("scan")
    ids = np.load(path, mmap_mode="r")
    slices = [(Path(part["folder"]), r0, r1, part) for part, (r0, r1) in zip(piece["shards"], piece["ranges"],
                                                                           strict=True) if r1 > r0]
    sizes = [r1 - r0 for _, r0, r1, _ in slices]

    def cat(name: str, shift=None) -> np.ndarray:
        got = [np.array(npy_windows(f / f"{name}.npy")[0](r0, r1)) for f, r0, r1, _ in slices]
        if shift is not None:
            got = [shift(x, part) for x, (_, _, _, part) in zip(got, slices, strict=True)]
        return np.concatenate(got) if got else np.zeros(0, np.int64)

    pos = cat("sa", lambda x, part: x.astype(np.int64) + part["tok0"])
    rem = cat("rem")
    least = scan["max_n"] if scan else 1  # a small text's pages may stay: compared in place past these
    cap = least if ids.nbytes <= TEXT_RESIDENT else suffix.context_cap(rem, CONTEXT_BYTES // ids.itemsize, least)
    window, _ = npy_windows(path)  # each span mapped on its own: its pages leave once dropped
    ctx, coff = suffix.suffix_contexts(window, pos, rem, sizes, cap)
    sa, cl, origin = suffix.sa_merge(pos, cat("lcp"), rem, sizes, ids, (ctx, coff, cap))
    del pos
    if len(sa) != piece["size"]:
        raise FormulaeError(f"suffix-array piece {piece['piece']}: {len(sa)} suffixes, {piece['size']} expected "
                            "(a shard changed while indexing?); run the command again")
    if "sa_into" in piece:  # the index's suffix array, its ranks offset.. written in place
        npy_put(Path(piece["sa_into"]), piece["offset"], sa)
    else:
        np.save(scratch / f"sa{piece['piece']}.npy", sa.astype(np.int32))
    if scan is None:
        if piece.get("part"):  # not a word's first part: it shares the word with the rank before
            cl[0] = 1
        np.save(scratch / f"cl{piece['piece']}.npy", cl)
        return {"piece": piece["piece"]}
    with np.load(scratch / "ctx.npz") as saved:
        arrays = {k: saved[k] for k in saved.files}
    if cap > scan["max_n"]:  # the kept n-grams' words: each suffix's first max_n (the rest freed)
        ctx, coff = suffix.suffix_contexts(lambda lo, hi: ctx[lo:hi], coff, rem, [len(rem)], scan["max_n"])
    del rem

    def word_at(ranks: np.ndarray, k: int) -> np.ndarray:
        return ctx[coff[origin[ranks]] + k]

    left = cat("prev", lambda x, part: np.where(x >= 0, np.load(part["map"])[np.maximum(x, 0)], -1))[origin]
    docs = cat("doc", lambda x, part: x.astype(np.int32) + np.int32(part["doc0"]))[origin]
    rows = piece_scan(sa, cl, word_at, left, docs, arrays | scan, scratch, piece["piece"], piece["offset"],
                      word=piece.get("word"))
    return {"piece": piece["piece"], "rows": rows}


def shards_prune(corpus: str, kind: str, store=None) -> int:
    """Remove the shard folders of ``kind`` (``forms``: the analyzer's levels' kept forms,
    :mod:`analysis.phrases.formparts`) that no index catalog of ``corpus`` names
    (shards of replaced statements), and the temporaries killed builds left among them
    (:func:`analysis.store.stale_clean`: a shard's, whatever its key, or a merge's
    scratch); return how many shards."""
    base = corpus_dir(corpus, store)
    stale_clean(base / "shards" / kind)
    keep: set[str] = set()
    for catalog in base.glob("index/*/catalog.json"):
        have = stamp_read(catalog)
        if have is None:  # a damaged index's: the shards it names are unknown, so none is removed
            return 0
        keep.update(k for s in have["shards"] for k in (s["key"], s.get("forms")) if k)
    gone = 0
    for folder in sorted(base.glob(f"shards/{kind}/*")):
        if folder.is_dir() and folder.name not in keep and not folder.name.startswith("."):
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone
