"""The analyzer's levels (``clitic``, ``stem``, ``lemma``, ``norm`` with aliases), shard by shard.

Their shards hold the ``norm`` stream coded by distinct piece, not forms (kind ``coded``,
:func:`analysis.phrases.shards.shard_build`): the forms need one Analyzer for the whole
corpus, whose vocabulary is the corpus's words. That vocabulary is what the building
process makes (the shards' word counts summed, :func:`forms_sharded`); each shard's
forms are then made in a worker by that Analyzer, Python once per distinct piece
(:func:`level_pieces`) and numpy over the rows, and written as a ``norm`` shard's stream,
surface map and suffix files (:func:`form_shard`). From there the shards take the road of
the other levels: their streams merged, their suffix arrays merged and counted by the
pieces. The forms are what :meth:`analysis.text.analyzer.Analyzer.forms` makes of the
same pieces, so the index is the one-process index byte for byte (the oracle,
``build.PIECE_SCAN`` off, tokenises the corpus in one process and makes its forms so).
A shard's forms are kept in the store for the next build while what they depend on holds
(:func:`forms_sharded`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from ..store import (
    atomic_dir,
    corpus_dir,
    scratch_dir,
    stamp_state,
    stamp_write,
    write_json,
)
from ..text.analyzer import ARABIC_WORD, ARTICLE, SPLITTABLE, Analyzer
from . import suffix
from .engine import forms_encode
from .pool import run_tasks, worker_check, workers
from .shards import merge_jobs, shard_stream_write, shards_counted, surface_kept

FORMS_VERSION = "1"  # layout of a form shard's folder (a norm shard's: shards.shard_stream_write)


def forms_sharded(tasks: list[dict], catalog: list[dict], manifest: dict, level: str, scan: dict, where: tuple,
                  say, *, reuse: bool = True):
    """The forms of the analyzer's ``level`` made shard by shard in the workers (``where``
    = (jobs, scheduler)), from the shards' coded ``norm`` streams (``tasks``' folders) and
    one Analyzer of the corpus's vocabulary (the shards' word counts summed:
    :meth:`Analyzer.from_vocab`), then merged and counted by the pieces as at ``norm``
    (:func:`shards_counted`). Returns (the stream, as the engine takes it; the surface
    map; the words' counts; the Analyzer; how it merged).

    A shard's forms are kept in the store (``shards/forms/<key>/``, :func:`forms_key`) and
    reused (``reuse``) while the counts its clitic splits may read are unchanged
    (:func:`split_counts_sha`); where they changed, its worker makes the shard's pieces'
    forms again and keeps the stored forms if those are the same (:func:`form_shard`).
    So a change to the corpus makes again the forms of the shards it changed, and of
    those whose splits it changed. ``catalog`` gets each shard's ``forms`` key and
    ``forms_reused``. The building process holds the vocabulary only, never the corpus's
    tokens or forms."""
    folders = [Path(t["folder"]) for t in tasks]
    vocab = coded_vocab(folders)
    analyzer = Analyzer.for_corpus(manifest, vocab=vocab)
    words = vocab.rename({"len": "count"}) if level in ("clitic", "stem", "lemma") else None
    splits = split_counts_sha(vocab, analyzer, level)
    scratch = scratch_dir(folders[0].parent, "forms")
    try:
        vocab.write_parquet(scratch / "vocab.parquet")
        parts, fingerprint = [], analyzer.fingerprint()
        kept = corpus_dir(tasks[0]["corpus"], tasks[0]["store"]) / "shards" / "forms"
        for t in tasks:
            key = forms_key(t["key"], level, fingerprint)
            folder = kept / key
            have, damage = _form_done(folder, key) if reuse else (None, None)
            parts.append({"shard": f"forms{t['shard']}", "coded": t["folder"], "folder": str(folder), "key": key,
                          "vocab": str(scratch / "vocab.parquet"), "manifest": manifest, "level": level,
                          "lo": int(t["lo"]), "hi": int(t["hi"]), "size": int(t.get("chars", 0)),
                          "splits": splits, "kept": have, "damaged": damage, "code_sha": t["code_sha"],
                          "libraries": t["libraries"]})
        todo = [p for p in parts if p["kept"] is None or p["kept"].get("splits") != splits]
        say(f"forms at level {level}: {len(todo)} of {len(parts)} shards")
        jobs = merge_jobs(where[0], sum(int(c["tokens"]) for c in catalog))  # the shards' (catalog) countable tokens
        with workers(jobs, where[1], arrays=True):
            made = dict(zip(map(id, todo), run_tasks(form_shard, todo, jobs, where[1],
                                                      [f"formulae-forms-{scratch.name}-{p['shard']}" for p in todo]),
                            strict=True))
            done = [made.get(id(p), p["kept"]) for p in parts]
            for c, p, d in zip(catalog, parts, done, strict=True):
                c["forms"], c["forms_reused"] = p["key"], id(p) not in made or bool(d.get("kept"))
                if p["damaged"]:  # kept forms cut short or lost since: made again (cli: a note)
                    c["forms_damaged"] = p["damaged"]
            stream, surface, info = shards_counted(parts, [{"tokens": d["tokens"]} for d in done], scan, where, say)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return stream, surface, words, analyzer, info


def forms_key(coded: str, level: str, fingerprint: str) -> str:
    """The folder of a shard's kept forms: its coded shard's key (its statements, the
    tokeniser's parameters and the code), the level and the Analyzer's fingerprint
    (aliases, lexicon, options). What else they depend on, the counts the clitic splitter
    reads, is checked by :func:`split_counts_sha` and then by the forms themselves
    (:func:`form_shard`)."""
    blob = json.dumps([FORMS_VERSION, coded, level, fingerprint])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def split_counts_sha(vocab: pl.DataFrame, analyzer: Analyzer, level: str) -> str:
    """A hash of the vocabulary's counts that the level's forms can depend on: none at
    ``norm`` (aliases only); otherwise the counts the clitic splitter may read. It splits
    only words of Arabic letters and reads the counts of Arabic-letter strings, through
    the alias table (so of the names too, and the names with the article added or taken
    off): every other count (a corpus's English, Chinese or Russian words) cannot change
    a form, so adding statements in those keeps the other shards' forms."""
    if level == "norm":
        return ""
    names = sorted(set(analyzer.aliases.values()))
    near = set(names) | {ARTICLE + v for v in names} | {v[len(ARTICLE):] for v in names if v.startswith(ARTICLE)}
    keys = vocab.select(pl.col("norm").replace_strict(analyzer.aliases, default=pl.col("norm")).alias("k"), "len")
    read = (keys.filter(pl.col("k").str.contains(ARABIC_WORD) | pl.col("k").is_in(sorted(near)))
            .group_by("k").agg(pl.col("len").sum()).sort("k"))
    digest = hashlib.sha256()
    for k, n in read.iter_rows():
        digest.update(f"{k}\t{n}\n".encode())
    return digest.hexdigest()


def _form_done(folder: Path, key: str) -> tuple[dict | None, str | None]:
    """(the stamp of the kept forms of ``key`` in ``folder`` or None, why kept forms that
    are there are not used: damaged, :func:`analysis.store.folder_damage`; they are made again)."""
    have, why = stamp_state(folder, "shard.json")
    if have is None or why or have.get("key") != key:
        return None, why
    return have, None


def _pieces_sha(forms: list[str], *arrays: np.ndarray) -> str:
    """A hash of what :func:`level_pieces` made of a shard's pieces: with the coded shard,
    all its forms depend on."""
    digest = hashlib.sha256("\n".join(forms).encode())
    for arr in arrays:
        digest.update(np.ascontiguousarray(arr, np.int64).tobytes())
    return digest.hexdigest()


def coded_vocab(folders: list[Path]) -> pl.DataFrame:
    """The words' counts of ``coded`` shards (their ``words.parquet``) summed: ``norm``,
    ``len`` (UInt32), sorted by ``norm``, as :meth:`Analyzer.from_tokens` counts them."""
    return (pl.concat([pl.scan_parquet(f / "words.parquet").filter(pl.col("kind") == "word")
                       .select("norm", pl.col("count").cast(pl.UInt32).alias("len")) for f in folders])
            .group_by("norm").agg(pl.col("len").sum().cast(pl.UInt32)).sort("norm").collect())


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


_SPLITS = re.compile(SPLITTABLE.removeprefix("^").removesuffix("$"))  # matched whole, as polars matches ^...$


def level_pieces(analyzer: Analyzer, norms: list[str], surfaces: list[str], level: str) -> tuple:
    """What :meth:`Analyzer.forms` makes of a ``norm`` piece (its norm form and verbatim
    part), for each of ``norms``/``surfaces``: (forms, as a flat list; their number per
    piece ``k``; per form, whether its offsets are its own and they, ``a`` and ``b``,
    from the piece's start). Python once a distinct piece: aliases, clitic pieces
    (offsets by the norm's letters, or walking the verbatim part where the two differ in
    length), stems or lemmas."""
    alias = analyzer.aliases or {}
    change = analyzer.stem if level == "stem" else analyzer.lemma if level == "lemma" else None
    forms: list[str] = []
    k = np.ones(len(norms), np.int64)
    cut: list[bool] = []
    a: list[int] = []
    b: list[int] = []
    for i, (norm, surface) in enumerate(zip(norms, surfaces, strict=True)):
        word = alias.get(norm, norm)
        split = analyzer.parts(word) if level != "norm" and _SPLITS.fullmatch(word) else ((word,), ())
        if len(split[0]) == 1:
            forms.append(word)
            cut.append(False)
            a.append(0)
            b.append(0)
            continue
        if len(surface) != len(word):
            spans = [(s0, e0) for _, s0, e0 in analyzer.pieces(surface, word)]
        else:
            ends = np.cumsum(split[1]).tolist()
            spans = list(zip([e - n for e, n in zip(ends, split[1], strict=True)], ends, strict=True))
        forms.extend(split[0])
        k[i] = len(split[0])
        cut.extend([True] * len(spans))
        a.extend(s0 for s0, _ in spans)
        b.extend(e0 for _, e0 in spans)
    if change is not None:
        forms = [change(f) for f in forms]
    return forms, k, np.array(cut, bool), np.array(a, np.int64), np.array(b, np.int64)


def form_shard(task: dict) -> dict:
    """One shard's forms (runs in a worker): its coded ``norm`` stream at the task's
    ``level`` by the corpus's Analyzer (its vocabulary from ``vocab``), each distinct piece
    once (:func:`level_pieces`), written as a ``norm`` shard's stream, surface map and
    suffix files (:func:`analysis.phrases.shards.shard_build`) into ``folder``; unless the
    forms kept there (``kept``, their stamp) were made of the same pieces' forms (their
    hash), when only the stamp's ``splits`` is brought up to date."""
    worker_check(task, f"the forms of shard {task['shard'][len('forms'):]} at level {task['level']}")
    lo, hi, src = task["lo"], task["hi"], Path(task["coded"])
    parts = pl.read_parquet(src / "parts.parquet")
    analyzer = _analyzer(task["vocab"], task["manifest"])
    forms, k, cut, a, b = level_pieces(analyzer, parts["form"].to_list(), parts["surface"].to_list(), task["level"])
    made = _pieces_sha(forms, k, cut, a, b)
    kept = task.get("kept")
    if kept is not None and kept.get("pieces") == made:  # other counts, the same splits: the kept forms hold
        write_json(Path(task["folder"]) / "shard.json", kept | {"splits": task.get("splits")})
        return {"tokens": kept["tokens"], "kept": True}
    col = {name: np.load(src / f"coded_{name}.npy") for name in ("doc", "sent", "start", "end", "code")}
    first = np.cumsum(k) - k
    vocab, form_ids = forms_encode(pl.Series("form", forms, pl.String))
    code = col.pop("code")
    if (k == 1).all():  # no piece splits: a row a piece, offsets as they are
        piece = first[code]
    else:
        piece, row = suffix.expand_runs(first[code], k[code])
        col = {name: arr[row] for name, arr in col.items()}
        own, at = cut[piece], col["start"]
        col["start"] = np.where(own, at + a[piece], at).astype(np.uint32)
        col["end"] = np.where(own, at + b[piece], col["end"]).astype(np.uint32)
    with atomic_dir(Path(task["folder"])) as folder:
        words = pl.read_parquet(src / "words.parquet", columns=["surface", "first", "k"])
        norm_piece, row = suffix.expand_runs(words["first"].to_numpy(), words["k"].to_numpy())
        level_piece, at = suffix.expand_runs(first[norm_piece], k[norm_piece])
        surface_kept(pl.DataFrame({"row": row[at], "form": vocab.gather(form_ids[level_piece])})
                     .group_by("row", maintain_order=True).agg("form")
                     .select(words["surface"], pl.col("form").alias("forms"))).write_parquet(folder / "surface.parquet")
        n = len(piece)
        split = shard_stream_write(folder, form_ids[piece], vocab, col, lo, hi)
        stamp_write(folder, "shard.json", {"key": task.get("key"), "splits": task.get("splits"), "pieces": made,
                                           "sentences_split": split, "tokens": n})
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
