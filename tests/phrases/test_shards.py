"""Sharded, incremental index: equal byte for byte to one scan of the whole corpus.

On ungd's 2015-2024 speeches: the index built from 20 shards in two worker processes,
from one shard in this process, and on a Dask ``LocalCluster`` with two worker
processes, hold identical files; their tables equal one :func:`phrases_scan` of the
whole corpus's form stream (no shards involved); queries, kwic and phrase tables agree.
Incremental, on all of ``ungd`` (743 speeches): statements added (the 2024 session) or
changed re-tokenise only the shards they fall in, and the index equals a from-scratch build.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import FormulaeError
from analysis.ingest.snapshot import corpus_ingest, corpus_load
from analysis.phrases import shards
from analysis.phrases.build import index_build
from analysis.phrases.cuts import piece_cuts
from analysis.phrases.engine import phrases_scan
from analysis.phrases.query import phrases_table, query_kwic, query_phrase
from analysis.phrases.shards import (
    shard_build,
    shard_plan,
    shard_suffix_write,
    shard_tasks,
    shards_run,
)
from analysis.store import read_json, table_files
from analysis.text.tokens import tokens_build, tokens_level

SMALL = 1_000_000  # characters a shard: ungd (16.9 M characters) gets 18 shards


def recent(record: dict) -> bool:
    return record["year"] >= 2015


def files(folder: Path) -> dict[str, str]:
    """sha256 of every file of an index (its tables' parts too) but its manifest and shard catalog."""
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.rglob("*"))
            if f.is_file() and f.name not in ("manifest.json", "catalog.json")}


def ingest_copy(project_root: Path, store: Path, folder: Path, name: str, keep=None, edit=None) -> str:
    """Ingest ungd's records (``keep(record)`` only, ``edit(record)`` applied) as ``name``."""
    rows = [json.loads(line) for line in
            gzip.open(project_root / "corpus" / "ungd" / "ungd_subset.jsonl.gz", "rt", encoding="utf-8")]
    rows = [edit(r) if edit else r for r in rows if keep is None or keep(r)]
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "records.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    decl = (project_root / "corpus" / "ungd.yml").read_text(encoding="utf-8")
    decl = decl.replace("name: ungd", f"name: {name}").replace("ungd/ungd_subset.jsonl.gz", "records.jsonl.gz")
    (folder / f"{name}.yml").write_text(decl, encoding="utf-8")
    return corpus_ingest(folder / f"{name}.yml", store=store).corpus


RECENT = "ungd-recent"  # ungd's speeches of 2015-2024: 100 statements, 2.4 M characters
TINY = 100_000  # characters a shard: RECENT gets 20 shards (each year of ~167,000 cut once)


@pytest.fixture(scope="module")
def stores(tmp_path_factory, project_root):
    """RECENT at ``norm`` built three ways, each in its own store: one shard in this
    process, counted by one pass over all tokens (``PIECE_SCAN`` off: the one-process
    engine), 20 shards (and about 30 suffix-array pieces, counting their n-grams) in two worker
    processes, the same on a Dask LocalCluster with two worker processes."""
    from distributed import LocalCluster

    from analysis.phrases import build

    out = {}
    for way in ("single", "pool", "dask"):
        out[way] = tmp_path_factory.mktemp(f"shards-{way}")
        ingest_copy(project_root, out[way], out[way] / "in", RECENT, keep=recent)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "PIECE_SCAN", False)
        index_build(RECENT, "norm", out["single"], jobs=1, shard_chars=1 << 40)
    with pytest.MonkeyPatch.context() as mp:  # the suffix array merged in about 30 pieces, in the workers
        mp.setattr(shards, "PIECE_TOKENS", 10_000)  # "the" and "of": split by the second word
        index_build(RECENT, "norm", out["pool"], jobs=2, shard_chars=TINY)
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            index_build(RECENT, "norm", out["dask"], scheduler=cluster.scheduler_address, shard_chars=TINY)
    return out


def test_sharded_builds_are_byte_identical(stores):
    want = files(stores["single"] / RECENT / "index" / "norm")
    assert len(want) == 16 + 8 + 9  # every array and table of the index: ngrams a file a level (8), maximal also its long phrases
    for way in ("pool", "dask"):
        folder = stores[way] / RECENT / "index" / "norm"
        assert files(folder) == want, way
        catalog = read_json(folder / "catalog.json")["shards"]
        assert [(s["lo"], s["hi"]) for s in catalog][:4] == [(0, 8), (8, 10), (10, 18), (18, 20)]
        assert len(catalog) == 20 and catalog[-1]["hi"] == 100
        assert not any(s["reused"] for s in catalog)
        merge = read_json(folder / "catalog.json")["suffix_merge"]
        assert merge["pieces"] > 1 and merge["peak_mb"] > 0  # merged and counted by pieces, in the workers
        assert merge["steps"]["pieces"]["tasks"] == merge["pieces"] and merge["steps"]["tables"]["tasks"] > 2
        assert all(c["seconds"] > 0 and c["cpu_seconds"] > 0 for c in catalog)  # each shard's task, timed
        assert merge["words_split"] > 0 and merge["task"].startswith(("piece", "tables"))  # "the": split
        assert not list(folder.parent.glob(".tables*"))  # the staging folder is gone
        assert not list((stores[way] / RECENT / "shards").glob("*/.merge*"))  # and the merge's scratch
    single = read_json(stores["single"] / RECENT / "index" / "norm" / "catalog.json")["shards"]
    assert [(s["lo"], s["hi"]) for s in single] == [(0, 100)]
    counted = ("tokens", "statements", "vocabulary", "ngrams", "maximal", "sentences_split", "long_phrases_skipped")
    manifests = {way: read_json(stores[way] / RECENT / "index" / "norm" / "manifest.json") for way in stores}
    assert len({tuple(m[k] for k in counted) for m in manifests.values()}) == 1, manifests


def test_a_rebuild_starts_its_workers_before_planning(stores, monkeypatch):
    """A rebuild of a stored index opens its pool before it plans the shards (hashing every
    statement), as many workers as the rebuild takes, and its steps use that one pool; the
    files are the same."""
    import concurrent.futures

    from analysis.phrases import build, pool
    from analysis.phrases.build import _early_jobs

    big = {"shards": [{"tokens": 2_000_000}] * 17}
    assert _early_jobs(big, 2, True) == _early_jobs(big, 2, False) == 2  # the analyzer's levels too (formparts)
    assert _early_jobs({}, 2, True) == 1  # no catalog
    assert _early_jobs(big, 1, True) == _early_jobs({"shards": [{"tokens": 10_000}]}, None, True) == 1
    folder = stores["pool"] / RECENT / "index" / "norm"
    want, pools, planned = files(folder), [], []
    real_pool, real_plan = concurrent.futures.ProcessPoolExecutor, build.shard_plan

    class Counted(real_pool):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    def plan(*args, **kwargs):
        planned.append(bool(pool._ACTIVE) and pool._ACTIVE[-1] is not None)
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Counted)
    monkeypatch.setattr(build, "shard_plan", plan)
    monkeypatch.setattr(shards, "PIECE_TOKENS", 10_000)  # as the store was built
    index_build(RECENT, "norm", stores["pool"], jobs=2, force=True)
    assert planned == [True] and pools == [2]
    assert files(folder) == want


def test_shards_equal_one_scan_of_the_whole_stream(stores):
    """The reference is the engine on the whole corpus's stream, with no shard code involved."""
    store = stores["pool"]
    st = corpus_load(RECENT, store)
    stream = tokens_level(tokens_build(st, language="en", line_breaks="wrap"), "norm").collect()
    meta = st.select("doc", "id", "duplicate_of").collect()
    canon = meta.join(meta.select(pl.col("id").alias("duplicate_of"), pl.col("doc").alias("c")),
                      on="duplicate_of", how="left", maintain_order="left")
    docs = meta.select("doc", canon["c"].fill_null(canon["doc"]).cast(pl.UInt32).alias("canon"))
    scan = phrases_scan(stream.select("doc", "sent", "pos", "start", "end", "form"), docs)
    ix = index_build(RECENT, "norm", store)
    assert not ix.built  # reused: the index of the fixture
    for name in ("ngrams", "maximal", "vocab"):
        assert ix.table(name).collect().equals(getattr(scan, name)), name
    for name in ("ids", "sa", "start", "end", "sent_starts"):
        assert np.array_equal(ix.array(name), getattr(scan, name)), name
    assert scan.maximal.height > 10_000 and ix.manifest["shards"] == 20


@pytest.mark.parametrize("phrase", ["sovereignty and territorial integrity", "the United Nations"])
def test_queries_agree(stores, phrase):
    got = {way: (query_phrase(RECENT, phrase, store=s).frame,
                 query_kwic(RECENT, phrase, store=s, width=40).frame,
                 phrases_table(RECENT, store=s, maximal=True, limit=500).frame,
                 phrases_table(RECENT, store=s, n=(3, 3), by="year", limit=50).frame)
           for way, s in stores.items()}
    assert got["single"][0]["statements"].sum() > 5
    for way in ("pool", "dask"):
        for mine, theirs in zip(got[way], got["single"], strict=True):
            assert mine.equals(theirs), way


def test_incremental_add_a_session(tmp_path, project_root):
    """Adding the 2024 session re-tokenises the last shard only; the index equals a fresh build."""
    store = tmp_path / "store"
    name = ingest_copy(project_root, store, tmp_path / "in", "ungd-inc", keep=lambda r: r["year"] < 2024)
    first = index_build(name, "norm", store, jobs=1, shard_chars=SMALL)
    assert first.built and first.manifest["statements"] == 733 and first.manifest["shards_reused"] == 0
    ingest_copy(project_root, store, tmp_path / "in", name)  # the same records plus 2024
    again = index_build(name, "norm", store, jobs=1, shard_chars=SMALL)
    catalog = read_json(again.folder / "catalog.json")["shards"]
    assert again.manifest["statements"] == 743
    assert [s["reused"] for s in catalog] == [True] * (len(catalog) - 1) + [False]
    assert (catalog[-1]["lo"], catalog[-1]["hi"]) == (733, 743)  # 2024 starts a shard of its own here
    incremental = files(again.folder)
    fresh = index_build(name, "norm", store, jobs=1, shard_chars=SMALL, force=True)
    assert fresh.manifest["shards_reused"] == 0
    assert files(fresh.folder) == incremental
    assert len(list((store / name / "shards" / "norm").iterdir())) == len(catalog)


def test_incremental_change_one_statement(tmp_path, project_root):
    """A statement changed in the middle (same length) re-tokenises its own shard only."""
    store = tmp_path / "store"
    name = ingest_copy(project_root, store, tmp_path / "a", "ungd-edit", keep=recent)
    index_build(name, "stem", store, jobs=1, shard_chars=TINY)

    def edit(r):
        return r | {"text": r["text"].replace("peace", "PEACE", 1)} if r["id"] == "FRA_75_2020" else r

    ingest_copy(project_root, store, tmp_path / "a", name, keep=recent, edit=edit)
    doc = corpus_load(name, store).filter(pl.col("id") == "FRA_75_2020").select("doc").collect().item()
    r = CliRunner().invoke(app, ["index", "--corpus", name, "--level", "stem", "--store", str(store), "--jobs", "1"])
    assert r.exit_code == 0, r.output  # the shard size of the stored index
    assert "shards tokenised: 1 of 20" in r.stderr and "shards' forms at stem: 1 of 20 made" in r.stderr
    again = index_build(name, "stem", store, jobs=1)  # up to date: loaded
    catalog = read_json(again.folder / "catalog.json")["shards"]
    assert len(catalog) == 20 and [(s["lo"] <= doc < s["hi"]) for s in catalog if not s["reused"]] == [True]
    # its forms made again, the other shards' kept (English words: no clitic split reads a count)
    assert [(s["lo"] <= doc < s["hi"]) for s in catalog if not s["forms_reused"]] == [True]
    for kind in ("coded", "forms"):  # the edited shard's old versions pruned
        assert len(list((store / name / "shards" / kind).iterdir())) == 20
    forced = index_build(name, "stem", store, jobs=1, force=True)
    assert not any(s["forms_reused"] for s in read_json(forced.folder / "catalog.json")["shards"])
    assert files(again.folder) == files(forced.folder)


def test_incremental_forms_follow_the_arabic_counts(tmp_path, project_root):
    """At ``clitic`` a shard's kept forms hold while the splits of its words hold: an edit
    of punctuation remakes the edited shard's forms only, with no task for the others; a
    new Arabic word changes the counts the splitter reads, so every shard's forms are made
    again in its worker, and kept where they come out the same; a word written often
    enough to be a word of its own (``X``) splits ``وX`` elsewhere, and that shard's forms
    are made again. Each time the index is the forced build's, byte for byte."""
    from analysis.text.analyzer import Analyzer
    from analysis.text.tokens import tokens_build

    store = tmp_path / "store"
    saudi_copy(project_root, store, tmp_path / "in")
    first = index_build(SAUDI, "clitic", store, jobs=1, shard_chars=TINY)
    shards = read_json(first.folder / "catalog.json")["shards"]
    records = tmp_path / "in" / "records.jsonl"
    rows = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines()]
    which = next(i for i, r in enumerate(rows) if "." in r["content"] and i > 100)
    # a word وX that does not split, X unwritten, in a shard other than the edited statement's
    tokens = (tokens_build(corpus_load(SAUDI, store), language="ar", line_breaks="paragraph")
              .filter(pl.col("kind") == "word").collect())
    analyzer = Analyzer.from_tokens(tokens, "ar")
    doc = corpus_load(SAUDI, store).filter(pl.col("text") == rows[which]["content"]).select("doc").collect().item()
    edited = next(s for s in shards if s["lo"] <= doc < s["hi"])
    word, home = next((w, d) for w, d in tokens.select("norm", "doc").unique("norm", keep="first").sort("norm").rows()
                      if not edited["lo"] <= d < edited["hi"] and re.fullmatch("و[\u0621-\u064a]{4,}", w)
                      and analyzer.counts.get(w[1:], 0) == 0 and analyzer.counts.get(w, 0) < 4
                      and analyzer.parts(w)[0] == (w,) and "ال" + w[1:] not in analyzer.counts)
    changes = ((lambda t: t.replace(".", "!", 1), 1), (lambda t: t + " وقرطاجنيات", 1),
               (lambda t: t + (" " + word[1:]) * 12, None))
    for change, remade in changes:
        rows[which]["content"] = change(rows[which]["content"])
        records.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        corpus_ingest(tmp_path / "in" / f"{SAUDI}.yml", store=store)
        again = index_build(SAUDI, "clitic", store, jobs=1)
        catalog = read_json(again.folder / "catalog.json")["shards"]
        assert sum(not s["reused"] for s in catalog) == 1
        fresh = [s["lo"] <= home < s["hi"] for s in catalog if not s["forms_reused"]]
        if remade is None:  # the edited shard's and وX's shard's (and any other split X changed)
            assert len(fresh) >= 2 and any(fresh)
            forms = set(pl.read_parquet(again.folder / "vocab.parquet")["form"].to_list())
            assert word[1:] in forms and word not in forms  # وX split wherever it is written
        else:
            assert fresh == [False]
        stamps = [read_json(store / SAUDI / "shards" / "forms" / s["forms"] / "shard.json") for s in catalog]
        assert len({st["splits"] for st in stamps}) == 1  # every kept stamp checked against this build's counts
        kept = files(again.folder)
        assert kept == files(index_build(SAUDI, "clitic", store, jobs=1, force=True).folder)


def test_shard_plan_cuts_between_years(ungd, store):
    plan = shard_plan(corpus_load(ungd, store), SMALL)
    years = corpus_load(ungd, store).select(pl.col("date").dt.year()).collect().to_series()
    lo = plan["lo"].to_numpy()[1:]
    assert (years.gather(lo).to_numpy() != years.gather(lo - 1).to_numpy()).all()  # never inside a year
    assert plan["statements"].sum() == 743 and plan["sha"].n_unique() == plan.height
    assert shard_plan(corpus_load(ungd, store), 1 << 40).height == 1
    with pytest.raises(FormulaeError, match="shard size"):
        shard_plan(corpus_load(ungd, store), 0)


def test_errors(ungd, store, monkeypatch):
    from analysis.ingest.snapshot import corpus_manifest

    tasks = shard_tasks(shard_plan(corpus_load(ungd, store), SMALL), ungd, store, corpus_manifest(ungd, store), "norm")
    with pytest.raises(FormulaeError, match="changed while indexing"):
        shard_build(tasks[0] | {"sha": "0" * 64})
    with pytest.raises(FormulaeError, match="this worker runs other formulae code"):
        shard_build(tasks[0] | {"code_sha": "0" * 16})
    # a worker (a Dask worker's own install) with another polars than the client's
    client = tasks[0]["libraries"] | {"polars": "0.1"}
    with pytest.raises(FormulaeError, match=rf"shard 0 of corpus .*other versions of the libraries .*"
                                            rf"\(polars 0\.1 -> {re.escape(pl.__version__)};"):
        shard_build(tasks[0] | {"libraries": client})
    # the shards' keys hold the versions: an upgrade tokenises every shard again
    monkeypatch.setattr("analysis.phrases.shards.library_versions", lambda: client)
    again = shard_tasks(shard_plan(corpus_load(ungd, store), SMALL), ungd, store, corpus_manifest(ungd, store), "norm")
    assert [t["sha"] for t in again] == [t["sha"] for t in tasks]
    assert not {t["key"] for t in again} & {t["key"] for t in tasks}
    monkeypatch.undo()
    with pytest.raises(FormulaeError, match="--jobs must be at least 1"):
        shards_run(tasks, jobs=0)
    monkeypatch.setattr("analysis.phrases.pool.SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(FormulaeError, match="cannot reach the Dask scheduler 'tcp://127.0.0.1:9'"):
        shards_run(tasks, scheduler="tcp://127.0.0.1:9", reuse=False)
    # not an address: one line, before any client is made (distributed's own check needs its
    # client's thread, which a loaded machine may not start within its 10 s)
    monkeypatch.setattr("distributed.Client", lambda *a, **k: pytest.fail("a client for a malformed address"))
    for address, why in ((" ", "missing port"), ("tcp://127.0.0.1", "missing port"),
                         ("h:x", "its port is not a number"), ("tcp://h:65536", "its port is out of range")):
        with pytest.raises(FormulaeError, match=f"^not a Dask scheduler's address: '{address}' .*: {why}"):
            shards_run(tasks, scheduler=address, reuse=False)
    monkeypatch.setenv("FORMULAE_SCHEDULER", "tcp://127.0.0.1")
    with pytest.raises(FormulaeError, match=r"'tcp://127.0.0.1' \(--scheduler or \$FORMULAE_SCHEDULER"):
        shards_run(tasks, reuse=False)
    monkeypatch.delenv("FORMULAE_SCHEDULER")

    def no_loop(*args, **kwargs):  # distributed's client thread, its event loop not started in its 10 s
        raise AssertionError

    monkeypatch.setattr("distributed.Client", no_loop)
    with pytest.raises(FormulaeError, match="cannot reach the Dask scheduler 'tcp://127.0.0.1:9': AssertionError$"):
        shards_run(tasks, scheduler="tcp://127.0.0.1:9", reuse=False)


def test_the_scheduler_of_the_environment_runs_the_pieces_too(stores, monkeypatch):
    """FORMULAE_SCHEDULER sends every step to the cluster, not only the shards: here every
    shard is stored (nothing to tokenise) and the index is rebuilt for another ``max_n``,
    so only the pieces can have tried the scheduler (no one listens on it)."""
    monkeypatch.setenv("FORMULAE_SCHEDULER", "tcp://127.0.0.1:9")
    monkeypatch.setattr("analysis.phrases.pool.SCHEDULER_TIMEOUT", "1s")
    before = files(stores["pool"] / RECENT / "index" / "norm")
    with pytest.raises(FormulaeError, match="cannot reach the Dask scheduler 'tcp://127.0.0.1:9'"):
        index_build(RECENT, "norm", stores["pool"], max_n=5, shard_chars=TINY)
    assert files(stores["pool"] / RECENT / "index" / "norm") == before  # the index as it was


def test_index_cli_reports_shards(stores):
    runner = CliRunner()
    args = ["index", "--corpus", RECENT, "--level", "norm", "--store", str(stores["pool"]), "-f", "json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "up to date" in r.stderr
    row = json.loads(r.stdout)[0]
    assert (row["shards"], row["shards_reused"], row["statements"]) == (20, 0, 100)  # JSON numbers
    r = runner.invoke(app, [*args, "--force", "--jobs", "1"])  # shard size: the stored index's
    assert r.exit_code == 0, r.output
    assert "shards tokenised: 20 of 20 (statements 0-7, 8-9, 10-17," in r.stderr
    r = runner.invoke(app, [*args, "--force", "--jobs", "0"])
    assert r.exit_code == 2 and "--jobs" in r.output


@pytest.mark.parametrize("level", ["norm", "stem"])
def test_corpus_without_statements(tmp_path, level):
    (tmp_path / "e.jsonl").write_text('{"id": "a", "text": "   ", "date": "2024-01-01"}\n', encoding="utf-8")
    (tmp_path / "e.yml").write_text("name: empty-x\nformat: jsonl\npath: e.jsonl\nlanguage: en\n"
                                    "fields: {id: id, text: text, date: date}\n", encoding="utf-8")
    name = corpus_ingest(tmp_path / "e.yml", store=tmp_path / "s", allow_empty=True).corpus
    ix = index_build(name, level, tmp_path / "s")
    assert (ix.manifest["statements"], ix.manifest["tokens"], ix.manifest["shards"]) == (0, 0, 0)
    assert read_json(ix.folder / "catalog.json")["shards"] == []


def random_shards(folder: Path, seed: int, breaks: float = 0.15):
    """A random text of 40 statements (long repeats inside and across shards, equal
    sentences, words only some shards have) as 7 shards with their suffix arrays, the way
    :func:`shards.shard_build` stores them: (whole stream, tasks, catalog). ``breaks``: the
    chance that a sentence ends after a token."""
    from analysis.phrases.engine import Encoded, sentence_starts

    rng = np.random.default_rng(seed)
    doc = np.repeat(np.arange(40), rng.integers(1, 60, 40))
    n = len(doc)
    ids = rng.zipf(1.3, n).astype(np.int64) % 300
    ids[200:260] = ids[20:80]  # long repeats, inside and across shards
    ids[n - 50:] = ids[100:150]
    sent = np.cumsum(rng.random(n) < breaks).astype(np.uint32)  # a sentence ends after a token
    vocab = pl.Series("form", [f"w{i:04d}" for i in range(300)])
    stream = Encoded(vocab=vocab, ids=ids.astype(np.uint32), doc=doc.astype(np.uint32), sent=sent,
                     start=np.zeros(n, np.uint32), end=np.zeros(n, np.uint32))
    cuts = np.flatnonzero(np.diff(doc)) + 1
    bounds = [0, *sorted(rng.choice(cuts, 6, replace=False).tolist()), n]
    tasks, catalog = [], []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        shard = folder / f"shard{k}"
        shard.mkdir()
        local_vocab, local = np.unique(ids[a:b], return_inverse=True)
        shard_suffix_write(shard, local.astype(np.uint32), sentence_starts(doc[a:b], sent[a:b])[0], len(local_vocab),
                           doc[a:b] - doc[a])
        pl.DataFrame({"form": vocab.gather(local_vocab)}).write_parquet(shard / "vocab.parquet")
        tasks.append({"folder": str(shard), "lo": int(doc[a])})
        catalog.append({"tokens": b - a})
    return stream, tasks, catalog


def test_npy_put_writes_its_items_only(tmp_path):
    """Tasks fill one staged .npy file side by side: each writes its items at its offset
    (cast to the file's dtype) and nothing else; a range past the end is refused."""
    from analysis.store import npy_create, npy_put

    path = tmp_path / "a.npy"
    npy_create(path, np.uint32, 10)
    npy_put(path, 6, np.array([7, 8, 9, 10], np.int64))
    npy_put(path, 0, np.array([1, 2], np.uint16))
    npy_put(path, 3, np.zeros(0, np.uint32))
    assert np.load(path).tolist() == [1, 2, 0, 0, 0, 0, 7, 8, 9, 10] and np.load(path).dtype == np.uint32
    with pytest.raises(ValueError, match="a.npy: items 8..11 past its 10"):
        npy_put(path, 8, np.ones(3, np.uint32))
    assert np.load(path).tolist() == [1, 2, 0, 0, 0, 0, 7, 8, 9, 10]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), max_size=40), st.integers(1, 8), st.booleans())
def test_stream_batches_are_runs_of_shards(sizes, jobs, cluster):
    """The staged stream's tasks: every shard once, in order, in at most ``jobs`` runs of
    consecutive shards, none past its share of the tokens by more than one shard; a shard
    a task on a Dask scheduler."""
    from analysis.phrases.streams import stream_batches

    parts = [{"size": s, "k": k} for k, s in enumerate(sizes)]
    got = stream_batches(parts, (jobs, "tcp://x:1" if cluster else None))
    assert [p["k"] for b in got for p in b] == list(range(len(sizes))) and all(got)
    if cluster:
        assert len(got) == len(sizes)
        return
    assert len(got) <= jobs
    for b in got:  # a run ends at the first shard that reaches a share's line
        assert sum(p["size"] for p in b[:-1]) <= sum(sizes) / jobs or len(b) == 1


def test_pieces_of_ungdc_are_balanced():
    """ungdc's words at norm: the first boundary after each share made a piece of 5.9 M
    suffixes (*the* and the words before it), the nearer boundary one of 4.0 M (9 pieces)
    and of 4.67 M (10); the least largest piece is 3.91 M and 3.57 M. The counts are the
    ``freq`` column of the index's ``vocab.parquet`` (ungdc at ``norm``, uint32), stored
    in tests/data so that this test needs no 30 s build."""
    counts = np.load(Path(__file__).parent.parent / "data" / "ungdc_norm_counts.npy")
    before = np.concatenate(([0], np.cumsum(counts)))
    cuts = piece_cuts(before, -(-int(before[-1]) // shards.PIECE_TOKENS))
    sizes = np.diff(before[cuts])
    assert int(before[-1]) == 32_092_245 and len(sizes) == 9
    assert sizes.max() == 3_910_026 and sizes.sum() == before[-1]
    # rounded to the workers (piece_count): 2 workers, 10 pieces of at most 3.57 M
    ten = np.diff(before[piece_cuts(before, shards.piece_count(int(before[-1]), 2))])
    assert len(ten) == 10 and ten.max() == 3_566_588 and ten.sum() == before[-1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=12), st.integers(1, 8))
def test_piece_cuts_make_the_least_largest_piece(counts, k):
    """Against every way of cutting the words into at most k pieces (the oracle)."""
    before = np.concatenate(([0], np.cumsum(counts)))
    cuts = piece_cuts(before, k)
    top = len(counts)
    assert cuts[0] == 0 and cuts[-1] == top and np.all(np.diff(cuts) > 0) and len(cuts) - 1 <= max(k, 1)
    best = min(max(np.diff(before[[0, *inner, top]])) for j in range(min(k, top))
               for inner in itertools.combinations(range(1, top), j))
    assert np.diff(before[cuts]).max() == best


@pytest.mark.parametrize(("n", "jobs", "scheduler", "want"), [
    (32_092_245, 2, None, 10),  # 9 by PIECE_TOKENS, rounded up to a multiple of 2 workers
    (32_092_245, 3, None, 9),
    (32_092_245, 4, None, 12),
    (32_092_245, 1, None, 9),
    (32_092_245, 2, "tcp://h:1", 9),  # a cluster's size is not known: not rounded
    (4_000_000, 2, None, 1),
    (4_000_001, 8, None, 2),  # 2 pieces: as many workers as pieces
    (12_000_001, 2, None, 4),
])
def test_piece_count_is_a_multiple_of_the_workers(n, jobs, scheduler, want):
    assert shards.piece_count(n, jobs, scheduler) == want


def contexts_set(monkeypatch, sh, contexts: str) -> None:
    """How a piece holds its suffixes' first words: ``sentence``, whole sentences (a text
    larger than ``TEXT_RESIDENT``); ``budget``, as many as ``CONTEXT_BYTES`` 8 allows (the
    least); ``resident``, the least, the text small enough to be read past them in place."""
    if contexts != "resident":
        monkeypatch.setattr(sh, "TEXT_RESIDENT", 0)
    if contexts == "budget":
        monkeypatch.setattr(sh, "CONTEXT_BYTES", 8)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("piece_tokens", "contexts"), [(97, "sentence"), (19, "sentence"), (97, "budget"),
                                                        (19, "resident")])
def test_suffix_array_merged_from_shards_equals_the_whole(tmp_path, monkeypatch, seed, piece_tokens, contexts):
    """Shards' suffix arrays (local ids), merged piece by piece, equal the suffix array and
    LCP of the whole text, whether the pieces' contexts hold whole sentences or one word a
    suffix (the merge then reads past them in the token ids: :func:`contexts_set`)."""
    from analysis.phrases import shards as sh
    from analysis.phrases import suffix
    from analysis.phrases.engine import sentence_starts

    stream, tasks, catalog = random_shards(tmp_path, seed)
    want_sa, want_cl = suffix.suffix_array(stream.ids, sentence_starts(stream.doc, stream.sent)[0])
    # about 20 pieces; with 19, the words of more than 19 suffixes are split by their second token
    monkeypatch.setattr(sh, "PIECE_TOKENS", piece_tokens)
    contexts_set(monkeypatch, sh, contexts)
    sa, cl, info = sh.shards_merge_suffix(tasks, catalog, stream, jobs=1)
    assert info["pieces"] > 10 and (info["words_split"] >= 5) == (piece_tokens < 97)
    assert np.array_equal(sa, want_sa) and np.array_equal(cl, want_cl)
    assert not list(tmp_path.glob(".merge-*"))  # the scratch folder is gone


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=40), st.integers(0, 2**32 - 1))
def test_suffix_rows_compiled_equal_a_plain_reading(sentences, seed):
    """A shard's per-suffix rows (:func:`analysis.phrases.suffix.suffix_rows`), compiled and
    numpy's, against reading each suffix's text: its second token in the sentence, the
    tokens left in its sentence, its left neighbour in the sentence and its statement."""
    from analysis.phrases import suffix

    rng = np.random.default_rng(seed)
    n = sum(sentences)
    ids = rng.integers(0, 5, n).astype(np.uint32)
    starts = np.concatenate(([0], np.cumsum(sentences)[:-1]))
    doc = np.repeat(np.arange(len(sentences)) // 3, sentences).astype(np.uint32)
    sa = rng.permutation(n).astype(np.int32)
    sent = np.repeat(np.arange(len(sentences)), sentences)
    same = lambda a, b: 0 <= a < n and 0 <= b < n and sent[a] == sent[b]  # noqa: E731
    want = ([int(ids[p + 1]) if same(p, p + 1) else -1 for p in sa],
            [int(np.sum(sent == sent[p])) - int(p - starts[sent[p]]) for p in sa],
            [int(ids[p - 1]) if same(p, p - 1) else -1 for p in sa], [int(doc[p]) for p in sa])
    rem = suffix.rem_from_starts(starts, n)
    keep = suffix.GROUPED_LEAST
    try:
        for suffix.GROUPED_LEAST in (0, keep):  # compiled, then numpy's
            got = suffix.suffix_rows(sa, ids, rem, doc)
            assert tuple(g.tolist() for g in got) == want
            assert [g.dtype for g in got] == [np.int32, np.uint16, np.int32, np.uint32]
    finally:
        suffix.GROUPED_LEAST = keep


@pytest.mark.parametrize("sa", [[0, 1, 1, 3], [0, 1, 2, 5], [3, 2, 1], [0, 0, 0, 0], [1, 0, 3, 3, 2]])
@pytest.mark.parametrize("shift", [0, 1, 18])
def test_inverse_part_refuses_what_is_not_a_permutation(sa, shift):
    """A window's blocks are filled by count (no counting pass): a suffix array with a
    position twice or missing is an error, never an inverse with holes or out of range."""
    from analysis.phrases.tables import inverse_part

    sa = np.array(sa, np.int32)
    with pytest.raises(ValueError, match="not each in the suffix array once"):
        inverse_part(lambda r0, r1: sa[r0:r1], len(sa), 0, 4, shift, 2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(1, 64), st.integers(1, 3), st.integers(0, 6), st.integers(0, 2**32 - 1))
def test_inverse_suffix_array_by_windows(n, window, jobs, shift, seed):
    """The inverse suffix array made a window of positions a task (:func:`isa_tasks`: at
    least one a job, at most ``ISA_WINDOW`` positions), each window's pairs grouped in blocks
    of ``2**shift`` positions from the suffix array read in chunks
    (:func:`analysis.phrases.tables.inverse_part`), and read back
    across the windows (:func:`isa_ranks`) equals the inverse permutation (one argsort)."""
    import tempfile

    from analysis.phrases import tables
    from analysis.phrases.tables import inverse_part

    sa = np.random.default_rng(seed).permutation(n).astype(np.int32)
    want = np.argsort(sa)
    chunk = 1 + seed % 40  # the suffix array read in chunks
    parts = [inverse_part(lambda r0, r1: sa[r0:r1], n, p0, min(n, p0 + window), shift, chunk)
             for p0 in range(0, n, window)]
    assert all(p.dtype == np.int32 for p in parts) and np.array_equal(np.concatenate(parts), want)
    with tempfile.TemporaryDirectory() as out, pytest.MonkeyPatch.context() as mp:
        mp.setattr(tables, "ISA_WINDOW", window)
        todo = tables.isa_tasks(Path(out), sa, jobs)  # writes sa.npy for the tasks to read
        assert len(todo) == max(jobs, -(-n // window))
        for task in todo:
            tables.table_task(task)
        at = np.random.default_rng(seed).integers(0, n, 50)
        assert np.array_equal(tables.isa_ranks(Path(out), np.arange(n), n), want)
        assert np.array_equal(tables.isa_ranks(Path(out), at, n, chunk=chunk), want[at])


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 400), st.integers(0, 6), st.booleans(), st.integers(0, 2**32 - 1))
def test_rank_freq_equals_binary_search(total, block, miss, seed):
    """:func:`tables.rank_freq` (each rank's block, then a search among its few rows) gives
    the freq of the row holding each rank, as one binary search over all the rows does; None
    where a rank lies in no row (a gap between rows, before the first, after the last)."""
    from analysis.phrases import tables

    rng = np.random.default_rng(seed)
    cuts = np.unique(rng.integers(0, total + 1, rng.integers(0, 2 * total + 2)))  # disjoint intervals
    keep = rng.random(max(len(cuts) - 1, 0)) < 0.7
    lo, freq = cuts[:-1][keep].astype(np.uint32), np.diff(cuts)[keep].astype(np.uint32)
    covered = np.concatenate([np.arange(a, a + f) for a, f in zip(lo, freq, strict=True)] + [np.zeros(0, np.int64)])
    uncovered = np.setdiff1d(np.arange(total), covered)
    rank = rng.choice(covered, 30).astype(np.int64) if len(covered) else np.zeros(0, np.int64)
    if miss and len(uncovered):
        rank = np.insert(rank, rng.integers(0, len(rank) + 1), rng.choice(uncovered))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tables, "RANK_BLOCK", block)
        got = tables.rank_freq(lo, freq, rank, total)
    if miss and len(uncovered):
        assert got is None
    else:
        assert got is not None and np.array_equal(got, freq[np.searchsorted(lo, rank, side="right") - 1])


@pytest.mark.parametrize(("seed", "max_n", "budget", "piece_tokens", "contexts"),
                         [(0, 3, False, 97, "sentence"), (1, 8, False, 97, "budget"), (2, 2, True, 97, "sentence"),
                          (3, 4, True, 97, "resident"), (4, 3, False, 19, "budget"), (5, 8, False, 19, "sentence"),
                          (6, 1, False, 19, "resident"), (3, 4, True, 19, "budget"), (7, 8, False, 19, "resident")])
def test_tables_counted_by_pieces_equal_one_scan(tmp_path, monkeypatch, seed, max_n, budget, piece_tokens,
                                                 contexts):
    """The n-gram passes and long phrases run piece by piece (about 20 pieces) give the
    n-gram and maximal tables of one :func:`phrases_scan` of the whole stream exactly (rows,
    order, floats), duplicated statements included; with the long-phrase expansion budget
    hit (``budget``), the same rows are left out and counted; with contexts of whole
    sentences or of max_n words (:func:`contexts_set`)."""
    from analysis.phrases import engine, tables
    from analysis.phrases import shards as sh

    stream, tasks, catalog = random_shards(tmp_path, seed, breaks=0.04)  # long sentences: long phrases
    canon = np.arange(40, dtype=np.uint32)
    canon[[7, 30]] = [3, 12]  # two statements duplicate others
    docs = pl.DataFrame({"doc": np.arange(40, dtype=np.uint32), "canon": canon})
    if budget:  # some of the long candidates fit, not all
        monkeypatch.setattr(engine, "EXPAND_PER_TOKEN", 0)
        monkeypatch.setattr(engine, "EXPAND_BATCH", 24)
    whole = engine.phrases_scan(stream, docs, max_n=max_n)
    monkeypatch.setattr(sh, "PIECE_TOKENS", piece_tokens)  # 19: words split by their second token
    contexts_set(monkeypatch, sh, contexts)
    monkeypatch.setattr(tables, "ISA_WINDOW", 100 + seed)  # a row's tail found by rank: ISA made in windows
    if seed % 2:  # the tables of a large corpus: compressed (engine.table_write)
        monkeypatch.setattr(engine, "TABLE_RAW_TOKENS", 0)
    dest, one = tmp_path / "tables", tmp_path / "one"
    dest.mkdir()
    sa, cl, info = sh.shards_merge_suffix(tasks, catalog, stream, jobs=1, scan={
        "canon": canon, "max_n": max_n, "min_statements": 2, "min_len": 2, "dest": str(dest)})
    ngrams, maximal = (pl.read_parquet(table_files(dest, t)) for t in ("ngrams", "maximal"))
    got = info["tables"]
    assert info["pieces"] >= 8 and cl is None and np.array_equal(sa, whole.sa)
    assert (info["words_split"] >= 5) == (piece_tokens < 97)
    assert whole.ngrams.height > 100 and whole.maximal.filter(pl.col("n") > max_n).height > 1
    assert (got["long_skipped"] > 0) == budget and got["long_skipped"] == whole.long_skipped
    assert (got["ngrams"], got["maximal"]) == (whole.ngrams.height, whole.maximal.height)
    assert ngrams.equals(whole.ngrams) and maximal.equals(whole.maximal)
    tables.tables_write(one, whole.ngrams, whole.maximal, max_n, len(whole.ids))  # the one-process index's files
    assert files(dest) == files(one) and len(files(one)) == 2 * whole.ngrams["n"].max() + 1  # byte for byte
    monkeypatch.setattr(engine, "TABLE_RAW_TOKENS", 1 << 62)  # the same tables uncompressed
    tables.tables_write(tmp_path / "raw", whole.ngrams, whole.maximal, max_n, len(whole.ids))
    size = {k: sum(f.stat().st_size for f in (tmp_path / k).rglob("*.parquet")) for k in ("tables", "raw")}
    assert (size["tables"] < size["raw"]) if seed % 2 else (size["tables"] == size["raw"])


def test_an_edit_rebuilds_only_the_shards_it_moves(ungdc, store):
    """On ungdc's plan (17 shards of whole years): a speech removed or lengthened rebuilds
    its own shard only; 20 speeches added to 1950 move years across the lines of 5 shards
    (README: "What a change rebuilds"); statements after the last year, the last shard only."""
    whole = corpus_load(ungdc, store).collect()
    old = set(shard_plan(whole.lazy(), shards.SHARD_CHARS)["sha"])
    year = whole["date"].dt.year()

    def rebuilt(frame: pl.DataFrame) -> tuple[int, int]:
        frame = frame.with_columns(pl.int_range(pl.len()).cast(whole["doc"].dtype).alias("doc"))
        plan = shard_plan(frame.lazy(), shards.SHARD_CHARS)
        return plan.height, sum(sha not in old for sha in plan["sha"])

    of_1970 = np.flatnonzero((year == 1970).to_numpy())
    one = int(of_1970[len(of_1970) // 2])
    assert rebuilt(whole.filter(pl.col("doc") != one)) == (17, 1)
    longer = pl.when(pl.col("doc") == one).then(pl.col("text") + " An added sentence.").otherwise(pl.col("text"))
    assert rebuilt(whole.with_columns(longer.alias("text"))) == (17, 1)
    of_1950 = np.flatnonzero((year == 1950).to_numpy())
    added = whole[of_1950[:20].tolist()].with_columns(pl.col("id") + "-again")
    at = int(of_1950[-1]) + 1
    assert rebuilt(pl.concat([whole[:at], added, whole[at:]])) == (17, 5)
    later = whole[-20:].with_columns(pl.col("id") + "-later", pl.col("date").dt.offset_by("1y"))
    assert rebuilt(pl.concat([whole, later])) == (17, 1)


SAUDI = "saudi-400"  # SaudiNewsNet's first 400 articles (Arabic: clitic splits), with mfa-ar's alias table


def saudi_copy(project_root: Path, store: Path, folder: Path) -> str:
    """Ingest SaudiNewsNet's first 400 articles as ``SAUDI``, aliases from ``corpus/aliases.yml``."""
    decl = project_root / "tests" / "corpora" / "saudinewsnet.yml"
    data = (decl.parent / "../../../shared/corpora/saudinewsnet/saudinewsnet_2015.jsonl.gz").resolve()
    if not data.exists():  # as the shared_corpora fixture does
        pytest.skip(f"shared corpora not found at {data.parent.parent}")
    with gzip.open(data, "rt", encoding="utf-8") as fh:
        rows = [next(fh) for _ in range(400)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.jsonl").write_text("".join(rows), encoding="utf-8")
    text = decl.read_text(encoding="utf-8").replace("name: saudinewsnet", f"name: {SAUDI}")
    text = text.replace("../../../shared/corpora/saudinewsnet/saudinewsnet_2015.jsonl.gz", "records.jsonl")
    text += f"aliases: {project_root / 'corpus' / 'aliases.yml'}\n"
    (folder / f"{SAUDI}.yml").write_text(text, encoding="utf-8")
    return corpus_ingest(folder / f"{SAUDI}.yml", store=store).corpus


@pytest.mark.parametrize(("corpus", "level"), [(RECENT, "stem"), (SAUDI, "clitic"), (SAUDI, "stem"), (SAUDI, "norm")])
def test_analyzer_levels_count_by_pieces(corpus, level, tmp_path_factory, project_root):
    """The analyzer's levels (English stems: no token splits; Arabic clitics and stems:
    splits; norm with an alias table) go through the pieces (formparts: the form stream
    cut into the shards' ranges, their suffix arrays in the workers) and give the
    one-process index byte for byte."""
    from analysis.phrases import build

    out = {}
    for way in ("single", "pieces"):
        out[way] = tmp_path_factory.mktemp(f"formparts-{way}")
        if corpus == RECENT:
            ingest_copy(project_root, out[way], out[way] / "in", RECENT, keep=recent)
        else:
            saudi_copy(project_root, out[way], out[way] / "in")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "PIECE_SCAN", False)
        index_build(corpus, level, out["single"], jobs=1, shard_chars=1 << 40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(shards, "PIECE_TOKENS", 10_000)
        index_build(corpus, level, out["pieces"], jobs=2 if level == "stem" else 1, shard_chars=TINY)
    got = out["pieces"] / corpus / "index" / level
    catalog = read_json(got / "catalog.json")
    assert len(catalog["shards"]) > 3 and catalog["suffix_merge"]["pieces"] > 3
    want = files(out["single"] / corpus / "index" / level)
    assert len(want) >= 33 and files(got) == want


def test_analyzer_level_on_a_dask_cluster(tmp_path_factory, project_root):
    """The analyzer's forms made shard by shard on a Dask LocalCluster (worker processes,
    the store shared): the index of the one-process build, byte for byte."""
    from distributed import LocalCluster

    from analysis.phrases import build

    out = {way: tmp_path_factory.mktemp(f"formparts-dask-{way}") for way in ("single", "dask")}
    for store in out.values():
        saudi_copy(project_root, store, store / "in")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "PIECE_SCAN", False)
        index_build(SAUDI, "clitic", out["single"], jobs=1, shard_chars=1 << 40)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        index_build(SAUDI, "clitic", out["dask"], scheduler=cluster.scheduler_address, shard_chars=TINY)
    got = out["dask"] / SAUDI / "index" / "clitic"
    assert len(read_json(got / "catalog.json")["shards"]) > 3
    assert files(got) == files(out["single"] / SAUDI / "index" / "clitic")


def test_analyzer_levels_build_one_at_a_time(mfa_ar, store):
    """Two analyzer levels of a corpus share their shards, which a build prunes at its end:
    a build at ``stem`` waits while one at ``clitic`` (the lock they share) is held."""
    import threading
    import time

    from analysis.phrases.index import index_dir
    from analysis.store import store_lock

    t0 = time.perf_counter()
    index_build(mfa_ar, "stem", store, jobs=1, force=True)  # warm: how long a build takes here
    hold = max(1.0, 2 * (time.perf_counter() - t0))
    finished: list[float] = []
    build = threading.Thread(target=lambda: (index_build(mfa_ar, "stem", store, jobs=1, force=True),
                                             finished.append(time.perf_counter())))
    with store_lock(index_dir(mfa_ar, "clitic", store).parent, "coded"):
        build.start()
        time.sleep(hold)
        released = time.perf_counter()
    build.join(120)
    assert finished and finished[0] > released  # it waited for the lock
