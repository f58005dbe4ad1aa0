"""A store damaged since it was written: a file cut short or lost (a full disk, a copy or a
sync stopped half way, a store shared by a cluster).

Every folder written whole is stamped last with the size of each of its files
(``analysis.store.folder_files``): the index (``manifest.json``), each shard (``shard.json``)
and the snapshot (``manifest.json``). A damaged index or shard is built again, with a note
naming what was damaged, and equals the undamaged one byte for byte; a damaged snapshot is
a one-line error naming the file (it is the input: ingest it again). On the ungd corpus.

And a disk that fills while the store is written: a one-line error naming the folder (a
write's own error names no file, numpy's short write not even the cause), no temporary
left.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from test_shards import ingest_copy

from analysis.errors import FormulaeError, IndexDamaged
from analysis.ingest.snapshot import corpus_ingest, corpus_load
from analysis.phrases import pool, shards
from analysis.phrases.build import index_build
from analysis.phrases.check import corpus_check
from analysis.phrases.index import delta_dir, index_dir, index_load, layers_load
from analysis.phrases.shards import shards_prune
from analysis.store import (
    atomic_dir,
    folder_damage,
    folder_files,
    read_json,
    stamp_read,
    write_failure,
)

PHRASE = "territorial integrity"


@pytest.fixture(scope="module")
def built(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ungd ingested and indexed at ``norm`` in a store of this module's (2 shards)."""
    store = tmp_path_factory.mktemp("damage") / "store"
    corpus_ingest(project_root / "corpus" / "ungd.yml", store=store)
    index_build("ungd", "norm", store, jobs=1)
    return store


@pytest.fixture
def store(built: Path, tmp_path: Path) -> Path:
    """A copy of :func:`built`'s store, to damage."""
    return Path(shutil.copytree(built, tmp_path / "store"))


def _cut(path: Path, size: int = 100) -> int:
    """Cut ``path`` to ``size`` bytes; return its size before."""
    was = path.stat().st_size
    os.truncate(path, size)
    return was


def _index_files(store: Path) -> dict[str, bytes]:
    folder = index_dir("ungd", "norm", store)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("manifest.json", "catalog.json")}


# --- the store's helpers -----------------------------------------------------------


def test_read_json_of_a_damaged_file_is_one_line_naming_it(tmp_path: Path):
    cut = tmp_path / "manifest.json"
    cut.write_text('{"tokens": 12,\n "level": "no', encoding="utf-8")
    with pytest.raises(FormulaeError, match=r"manifest\.json: damaged, not JSON \(line 2, column 11"):
        read_json(cut)
    binary = tmp_path / "shard.json"
    binary.write_bytes(b'{"a": "\xff\xfe"}')
    with pytest.raises(FormulaeError, match=r"shard\.json: damaged, not UTF-8 text \(byte 7\)"):
        read_json(binary)
    assert stamp_read(cut) is None and stamp_read(binary) is None and stamp_read(tmp_path / "none.json") is None
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    assert stamp_read(tmp_path / "list.json") is None  # a stamp is an object
    (tmp_path / "ok.json").write_text('{"a": 1}', encoding="utf-8")
    assert stamp_read(tmp_path / "ok.json") == {"a": 1}


def test_folder_damage_finds_a_file_cut_short_or_lost(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.npy").write_bytes(b"x" * 10)
    (tmp_path / "sub" / "b.parquet").write_bytes(b"y" * 3)
    (tmp_path / "stamp.json").write_text("{}", encoding="utf-8")
    files = folder_files(tmp_path, "stamp.json")
    assert files == {"a.npy": 10, "sub/b.parquet": 3}  # sorted, relative, the stamp left out
    assert folder_damage(tmp_path, files) is None
    (tmp_path / "extra").write_bytes(b"")  # a file the stamp does not name is no damage
    assert folder_damage(tmp_path, files) is None
    (tmp_path / "sub" / "b.parquet").write_bytes(b"y" * 4)
    assert folder_damage(tmp_path, files) == "sub/b.parquet is 4 bytes, 3 when written"
    (tmp_path / "sub" / "b.parquet").unlink()
    assert folder_damage(tmp_path, files) == "sub/b.parquet is missing"
    assert folder_damage(tmp_path, None) is None  # a stamp from before sizes were recorded
    (tmp_path / "a.npy").write_bytes(b"z" * 10)  # changed in place, same size: not found (the limit)
    assert folder_damage(tmp_path, {"a.npy": 10}) is None


# --- the index -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sa.npy", "ids.npy", "ngrams/n002.parquet", "vocab.parquet", "manifest.json"])
def test_a_damaged_index_is_built_again_equal(built: Path, store: Path, name: str):
    before = _index_files(built)
    folder = index_dir("ungd", "norm", store)
    was = _cut(folder / name)
    want = f"{name} is damaged" if name == "manifest.json" else f"{name} is 100 bytes, {was:,} when written"
    with pytest.raises(IndexDamaged, match=want.replace(".", r"\.")) as err:
        index_load("ungd", "norm", store)
    assert str(folder) in str(err.value) and "formulae index --corpus ungd --level norm" in str(err.value)
    ix = index_build("ungd", "norm", store, jobs=1)
    assert ix.built and ix.repaired == want
    assert _index_files(store) == before
    assert read_json(folder / "catalog.json")["shards"][0]["reused"]  # the shards were whole: reused
    again = index_build("ungd", "norm", store, jobs=1)
    assert not again.built and again.repaired is None  # repaired: reused from now on


def test_a_query_on_a_damaged_index_says_so_and_answers(built: Path, store: Path, cli):
    args = ("query", PHRASE, "--corpus", "ungd", "--store")
    whole = cli(*args, str(built))
    assert whole.returncode == 0, whole.stderr
    was = _cut(index_dir("ungd", "norm", store) / "start.npy", 0)
    got = cli(*args, str(store))
    assert got.returncode == 0, got.stderr
    assert got.stdout == whole.stdout
    assert (f"formulae: note: the stored phrase index was damaged (start.npy is 0 bytes, {was:,} when written): "
            "built again") in got.stderr
    assert "Traceback" not in got.stderr


def test_a_damaged_layers_record_is_no_layer(store: Path):
    record = delta_dir("ungd", "norm", store) / "layers.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"version": ', encoding="utf-8")
    assert layers_load("ungd", "norm", store) is None  # (was: a JSONDecodeError)


# --- the shards ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sa.npy", "stream_fid.npy", "surface.parquet", "shard.json"])
def test_a_damaged_shard_is_tokenised_again(built: Path, store: Path, name: str, cli):
    before = _index_files(built)
    catalog = read_json(index_dir("ungd", "norm", store) / "catalog.json")["shards"]
    assert len(catalog) == 2
    shard = store / "ungd" / "shards" / "norm" / catalog[1]["key"]
    was = _cut(shard / name, 10)
    shutil.rmtree(index_dir("ungd", "norm", store))  # (an index left whole reads no shard)
    got = cli("index", "--corpus", "ungd", "--level", "norm", "--jobs", "1", "--store", str(store))
    assert got.returncode == 0, got.stderr
    why = "shard.json is damaged" if name == "shard.json" else f"{name} is 10 bytes, {was:,} when written"
    lo, hi = catalog[1]["lo"], catalog[1]["hi"] - 1
    assert f"formulae: note: shard 1 (statements {lo}-{hi}) was damaged ({why}): tokenised again" in got.stderr
    now = read_json(index_dir("ungd", "norm", store) / "catalog.json")["shards"]
    assert [s["reused"] for s in now] == [True, False] and now[1]["damaged"] == why and "damaged" not in now[0]
    assert _index_files(store) == before
    assert (shard / name).stat().st_size == was
    assert folder_damage(shard, read_json(shard / "shard.json")["files"]) is None


def test_a_damaged_catalog_prunes_no_shard(store: Path):
    kept = sorted(p.name for p in (store / "ungd" / "shards" / "norm").iterdir())
    other = store / "ungd" / "index" / "exact"  # another level's index, whose catalog is damaged
    other.mkdir()
    (other / "catalog.json").write_text('{"shards": [', encoding="utf-8")
    assert shards_prune("ungd", "norm", store) == 0
    assert sorted(p.name for p in (store / "ungd" / "shards" / "norm").iterdir()) == kept
    shutil.rmtree(other)
    (store / "ungd" / "shards" / "norm" / "0123456789abcdef01234567").mkdir()  # no catalog names it
    assert shards_prune("ungd", "norm", store) == 1


# --- the snapshot -------------------------------------------------------------------


def test_a_damaged_snapshot_is_a_one_line_error(store: Path, cli):
    snap = store / "ungd" / "snapshot"
    assert json.loads((snap / "manifest.json").read_text(encoding="utf-8"))["files"] == folder_files(snap, "manifest.json")
    was = _cut(snap / "statements.parquet", 5000)
    want = (f"the snapshot of 'ungd' in {snap} is damaged: statements.parquet is 5,000 bytes, {was:,} when "
            "written; ingest it again (formulae ingest ")
    with pytest.raises(FormulaeError, match=want.replace(".", r"\.").replace("(", r"\(")):
        corpus_load("ungd", store)
    got = cli("kwic", PHRASE, "--corpus", "ungd", "--store", str(store))
    assert got.returncode == 2
    assert got.stderr.startswith(f"formulae: error: {want}") and got.stderr.count("\n") == 1
    (snap / "statements.parquet").unlink()
    (snap / "dropped.parquet").unlink()
    os.truncate(snap / "ingest_log.json", 1)
    got = cli("index", "--corpus", "ungd", "--store", str(store))
    assert got.returncode == 2 and "unknown corpus 'ungd'" in got.stderr  # no statements: not a snapshot


# --- a full disk ----------------------------------------------------------------------


def test_write_failure_knows_a_full_disk():
    assert write_failure(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"
    assert write_failure(OSError(errno.EDQUOT, "Disk quota exceeded")) == "Disk quota exceeded"
    assert write_failure(OSError("1984952 requested and 391104 written")) == (
        "the disk is full? (a short write: 1984952 items asked, 391104 written)")  # numpy's tofile: no errno
    assert write_failure(RuntimeError("parquet: No space left on device (os error 28)")) == "No space left on device"
    for other in (FileNotFoundError(errno.ENOENT, "No such file"), OSError("something else"),
                  ValueError("1 requested and 0 written")):
        assert write_failure(other) is None


def test_a_full_disk_in_a_folder_written_whole_names_it(tmp_path: Path):
    target = tmp_path / "index" / "norm"
    with pytest.raises(FormulaeError, match=f"^{target}: cannot write: No space left on device$"), atomic_dir(target) as tmp:
        (tmp / "a.npy").write_bytes(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(target.parent.iterdir()) == []  # the temporary is gone, no target
    with pytest.raises(FileNotFoundError), atomic_dir(target):  # not the disk's space: as it was
        raise FileNotFoundError(errno.ENOENT, "No such file", "x.npy")


def test_a_full_disk_in_a_step_names_the_store_folder(tmp_path: Path):
    def fill(task: dict) -> dict:
        raise OSError("2819976 requested and 1330144 written")

    with pytest.raises(FormulaeError, match=f"^{tmp_path / 'shards'}: cannot write: the disk is full\\? "
                                            r"\(a short write: 2819976 items asked, 1330144 written\)$"):
        pool.run_tasks(fill, [{"folder": str(tmp_path / "shards" / "k1")}], 1, None, ["k1"])

    def other(task: dict) -> dict:
        raise OSError("something else")

    with pytest.raises(OSError, match="something else"):
        pool.run_tasks(other, [{"folder": str(tmp_path)}], 1, None, ["k1"])


def test_a_full_disk_while_indexing_is_one_line_and_leaves_nothing(project_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, cli):
    store = tmp_path / "store"
    corpus_ingest(project_root / "corpus" / "mfa-ar.yml", store=store)

    def full(*args, **kwargs):
        raise OSError("1616 requested and 512 written")

    monkeypatch.setattr(shards, "shard_coded_write", full)  # a shard's write, in this process (jobs 1)
    got = cli("index", "--corpus", "mfa-ar", "--jobs", "1", "--store", str(store))
    assert got.returncode == 2 and got.stderr.count("\n") == 1
    assert got.stderr.startswith(f"formulae: error: {store / 'mfa-ar' / 'shards' / 'coded'}/")
    assert got.stderr.endswith(": cannot write: the disk is full? (a short write: 1616 items asked, 512 written)\n")
    assert [p.name for p in (store / "mfa-ar" / "shards" / "coded").iterdir()] == []  # the temporary is gone
    assert not (store / "mfa-ar" / "index" / "clitic").exists()


def test_shards_a_worker_wrote_where_this_process_cannot_see_are_an_error(project_root: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch):
    """A Dask worker whose store is not this process's (not a shared path) writes its shard
    elsewhere: one line naming the shard's folder and the cause, not a missing file later."""
    store = tmp_path / "store"
    corpus_ingest(project_root / "corpus" / "mfa-ar.yml", store=store)

    def elsewhere(fn, todo, *args):  # a worker that wrote into its own file system
        return [{"key": t["key"], "tokens": 1, "peak_mb": 1.0, "anon_mb": 1.0, "seconds": 0.1, "cpu_seconds": 0.1}
                for t in todo]

    monkeypatch.setattr(shards, "run_tasks", elsewhere)
    with pytest.raises(FormulaeError, match=r"^shard 0 was written by a worker into .*/mfa-ar/shards/coded/[0-9a-f]+, "
                                            r"which this process does not find whole: the store must be on a path "
                                            r"every worker reads and writes"):
        index_build("mfa-ar", None, store, jobs=1)


def test_a_damaged_layer_is_made_again(project_root: Path, tmp_path: Path, cli):
    """Statements appended as a layer over the index, then a file of the layer cut short:
    the query says so, makes the layer again and answers as before."""
    store, name = tmp_path / "s", "ungd-lay"
    ingest_copy(project_root, store, tmp_path / "in", name, keep=lambda r: 2010 <= r["year"] < 2024)
    args = ["--corpus", name, "--level", "norm", "--store", str(store)]
    assert cli("index", *args, "--jobs", "1").returncode == 0
    ingest_copy(project_root, store, tmp_path / "in", name, keep=lambda r: 2010 <= r["year"])
    got = cli("index", *args, "--jobs", "1")
    assert got.returncode == 0 and "as a layer over the index" in got.stderr, got.stderr
    whole = cli("query", PHRASE, *args, "-f", "csv")
    assert whole.returncode == 0 and "2024," in whole.stdout
    layer = index_dir(name, "norm", delta_dir(name, "norm", store))
    assert [(r["folder"], r["status"]) for r in corpus_check(name, store) if r["kind"] == "layer"] == [
        (f"index/norm.delta/{name}/index/norm", "ok")]
    was = _cut(layer / "sa.npy")
    assert layers_load(name, "norm", store) is None  # a damaged layer is no layer
    assert [r["why"] for r in corpus_check(name, store) if r["kind"] == "layer"] == [
        f"sa.npy is 100 bytes, {was:,} when written"]
    got = cli("query", PHRASE, *args, "-f", "csv")
    assert got.returncode == 0, got.stderr
    assert got.stdout == whole.stdout
    assert (f"the stored phrase index was damaged (its layer's sa.npy is 100 bytes, {was:,} when written): "
            "built again") in got.stderr
    assert layers_load(name, "norm", store) is not None and (layer / "sa.npy").stat().st_size == was


# --- formulae corpus check ------------------------------------------------------------


def test_corpus_check_lists_every_stamped_folder_and_what_is_damaged(store: Path, cli):
    args = ("corpus", "check", "ungd", "--store", str(store), "-f", "json")
    got = cli(*args)
    assert got.returncode == 0, got.stderr
    rows = json.loads(got.stdout)
    assert [(r["kind"], r["status"]) for r in rows] == [("snapshot", "ok"), ("index", "ok"), ("shard", "ok"),
                                                          ("shard", "ok")]
    assert rows[0]["folder"] == "snapshot" and rows[1]["folder"] == "index/norm"
    index = read_json(store / "ungd" / "index" / "norm" / "manifest.json")["files"]
    assert rows[1]["files"] == len(index) and rows[1]["bytes"] == sum(index.values())
    shard = store / "ungd" / rows[3]["folder"]
    was = _cut(shard / "rem.npy", 7)
    _cut(store / "ungd" / "snapshot" / "statements.parquet", 9)
    stamp = shard.parent / "0123456789abcdef01234567"  # a shard from before the sizes were recorded
    stamp.mkdir()
    (stamp / "shard.json").write_text('{"key": "0123456789abcdef01234567"}', encoding="utf-8")
    got = cli(*args)
    assert got.returncode == 1
    rows = {r["folder"]: r for r in json.loads(got.stdout)}
    assert rows[shard.relative_to(store / "ungd").as_posix()]["why"] == f"rem.npy is 7 bytes, {was:,} when written"
    assert rows["snapshot"]["status"] == "damaged" and rows["snapshot"]["why"].startswith("statements.parquet is 9 bytes")
    assert rows[stamp.relative_to(store / "ungd").as_posix()]["status"] == "unstamped"
    assert "formulae: note: 1 folder(s) written before sizes were recorded: not checked" in got.stderr
    assert ("formulae: note: 2 of 5 folders damaged: indexes, layers and shards are made again when next used; "
            "the snapshot needs the corpus ingested again (formulae ingest)") in got.stderr
    assert shard.joinpath("rem.npy").stat().st_size == 7  # nothing rebuilt
    got = cli("corpus", "check", "nothing-here", "--store", str(store))
    assert got.returncode == 2 and got.stderr == f"formulae: error: unknown corpus 'nothing-here': no folder {store / 'nothing-here'}\n"


def test_damaged_kept_forms_are_made_again(project_root: Path, tmp_path: Path, cli):
    """An analyzer level's kept forms (mfa-ar at ``clitic``: its coded shard and its forms
    folder) with a file cut short: made again, with a note, the index as before."""
    store = tmp_path / "store"
    corpus_ingest(project_root / "corpus" / "mfa-ar.yml", store=store)
    args = ("index", "--corpus", "mfa-ar", "--jobs", "1", "--store", str(store))
    assert cli(*args).returncode == 0
    before = {p.name: p.read_bytes() for p in index_dir("mfa-ar", "clitic", store).iterdir()
              if p.is_file() and p.name not in ("manifest.json", "catalog.json")}
    (forms,) = (store / "mfa-ar" / "shards" / "forms").iterdir()
    was = _cut(forms / "lcp.npy", 3)
    shutil.rmtree(index_dir("mfa-ar", "clitic", store))
    got = cli(*args)
    assert got.returncode == 0, got.stderr
    assert (f"formulae: note: the forms of shard 0 (statements 0-1) at clitic were damaged (lcp.npy is 3 bytes, "
            f"{was:,} when written): made again") in got.stderr
    assert "every shard reused (1)" in got.stderr  # the coded shard was whole
    assert {p.name: p.read_bytes() for p in index_dir("mfa-ar", "clitic", store).iterdir()
            if p.is_file() and p.name not in ("manifest.json", "catalog.json")} == before
