"""The statement snapshot: golden counts on the real corpora, determinism, atomicity,
the accounting invariant and duplicate rules against a simple oracle."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import FormulaeError
from analysis.ingest.snapshot import (
    SNAPSHOT_SCHEMA,
    corpus_info,
    corpus_ingest,
    corpus_list,
    corpus_load,
    corpus_log,
    corpus_manifest,
)


def _collapse(s: str) -> str:
    return " ".join(s.split())


def _check_accounting(name: str, store: Path) -> dict:
    log = corpus_log(name, store)
    assert log["records_in"] == log["kept"] + sum(log["dropped"].values())
    dropped = pl.read_parquet(store / name / "snapshot" / "dropped.parquet")
    assert dropped.height == sum(log["dropped"].values())
    assert corpus_load(name, store).select(pl.len()).collect().item() == log["kept"]
    return log


def _check_schema(name: str, store: Path) -> pl.DataFrame:
    df = corpus_load(name, store).collect()
    assert dict(df.schema) == SNAPSHOT_SCHEMA
    assert df["doc"].to_list() == list(range(df.height))
    order = df.sort(["date", "source", "id"], nulls_last=True)
    assert order["doc"].to_list() == df["doc"].to_list()
    assert df["id"].n_unique() == df.height
    return df


# --- mfa-ar: the user's sample ----------------------------------------------------


def test_mfa_ar_two_statements(mfa_ar, store, project_root):
    df = _check_schema(mfa_ar, store)
    assert df.height == 2
    assert [d.isoformat() for d in df["date"]] == ["2025-01-28", "2025-02-12"]
    assert df["date_precision"].to_list() == ["day", "day"]
    assert df["language"].to_list() == ["ar", "ar"]
    for tags in df["hashtags"].to_list():
        assert "روسيا_سوريا" in tags
    assert df["lead_emoji"].to_list() == [["🗓", "☝️", "🤝"], ["📞"]]
    # verbatim: each statement is the post as it appears, first occurrence, unmodified
    raw = (project_root / "corpus" / "mfa-ar" / "posts.txt").read_text(encoding="utf-8")
    lines = raw.split("\n")
    assert df["text"][0] == "\n".join(lines[0:7])
    assert df["text"][1] == "\n".join(lines[13:20])
    for text in df["text"]:
        assert raw.index(text) >= 0
        paras = [_collapse(p) for p in text.split("\n") if p.strip()]
        assert len(paras) == len(set(paras)), "a paragraph is repeated inside a statement"


def test_mfa_ar_duplicate_pastes_counted(mfa_ar, store):
    log = _check_accounting(mfa_ar, store)
    assert log["records_in"] == 4
    assert log["dropped"] == {"duplicate_paste": 2}
    dropped = pl.read_parquet(store / mfa_ar / "snapshot" / "dropped.parquet")
    assert dropped["line"].to_list() == [8, 21]
    assert dropped["detail"].to_list() == ["repeats the post at line 1", "repeats the post at line 14"]


def test_mfa_ar_manifest(mfa_ar, store, project_root):
    m = corpus_manifest(mfa_ar, store)
    assert m["corpus"] == "mfa-ar" and m["language"] == "ar" and m["line_breaks"] == "paragraph"
    assert m["rows"] == 2
    assert Path(m["declaration"]) == (project_root / "corpus" / "mfa-ar.yml").resolve()
    assert len(m["declaration_sha256"]) == 64 and len(m["snapshot_sha256"]) == 64
    assert list(m["inputs"]) == [str((project_root / "corpus" / "mfa-ar" / "posts.txt").resolve())]
    assert m["polars_version"] == pl.__version__
    aliases = project_root / "corpus" / "aliases.yml"
    assert m["aliases"] == (str(aliases.resolve()) if aliases.exists() else None)


def test_mfa_ar_copy_is_byte_identical(project_root, shared_corpora):
    ours = (project_root / "corpus" / "mfa-ar" / "posts.txt").read_bytes()
    assert ours == (shared_corpora / "mfa-ar-seed" / "posts.txt").read_bytes()


# --- the shared corpora -------------------------------------------------------------


@pytest.mark.slow
def test_ungdc_golden(ungdc, store):
    df = _check_schema(ungdc, store)
    log = _check_accounting(ungdc, store)
    assert df.height == 10952 and log["records_in"] == 10952 and log["dropped"] == {}
    assert df["date_precision"].unique().to_list() == ["year"]
    assert df["source"].n_unique() == 200
    assert df["duplicate_of"].null_count() == df.height
    row = df.filter(pl.col("id") == "USA_75_2020").row(0, named=True)
    assert row["source"] == "USA" and row["date"].isoformat() == "2020-01-01"
    assert json.loads(row["meta"]) == {"date": "2020-09", "session": 75, "year": 2020,
                                       "source_path": json.loads(row["meta"])["source_path"]}
    info = corpus_info(ungdc, store)
    assert info["first_date"] == "1946" and info["last_date"] == "2024"  # at the corpus's year precision
    assert info["months"] == {}
    assert info["years"]["1946"] == df.filter(pl.col("date").dt.year() == 1946).height


@pytest.mark.slow
def test_saudinewsnet_golden(saudinewsnet, store):
    df = _check_schema(saudinewsnet, store)
    log = _check_accounting(saudinewsnet, store)
    assert log["records_in"] == 31030
    assert df.height == 30115
    assert log["dropped"] == {"duplicate": 561, "empty": 354}
    # per-file counts include the empty and duplicate drops made after reading (one file)
    assert [(v["records"], v["dropped"]) for v in log["files"].values()] == [(31030, 915)]
    assert df["date_precision"].unique().to_list() == ["day"]
    info = corpus_info(saudinewsnet, store)
    assert (info["first_date"], info["last_date"]) == ("2015-07-21", "2015-08-11")
    assert info["sources"]["was"] == 369 and len(info["sources"]) == 14
    # cross-source repeats: kept in both sources, the later ones marked
    marked = df.filter(pl.col("duplicate_of").is_not_null())
    assert marked.height == log["cross_source_duplicates"] > 0
    orig = df.select(pl.col("id").alias("duplicate_of"), pl.col("source").alias("o_source"),
                     pl.col("text").alias("o_text"), pl.col("doc").alias("o_doc"))
    j = marked.join(orig, on="duplicate_of", how="left")
    assert j["o_source"].null_count() == 0
    assert (j["source"] != j["o_source"]).all()
    assert (j["o_doc"] < j["doc"]).all()
    assert all(_collapse(a) == _collapse(b) for a, b in zip(j["text"], j["o_text"], strict=True))
    # within a source no two kept texts are equal once whitespace is collapsed
    keys = df.select("source", pl.col("text").str.replace_all(r"\s+", " ").str.strip_chars().alias("k"))
    assert keys.n_unique() == df.height
    # every dropped duplicate names the kept statement it repeats, in the same source
    dropped = pl.read_parquet(store / saudinewsnet / "snapshot" / "dropped.parquet")
    dups = dropped.filter(pl.col("reason") == "duplicate")
    first = dups.with_columns(kept_id=pl.col("detail").str.strip_prefix("same text as "))
    assert first.join(df.select(pl.col("id").alias("kept_id"), "source"), on=["kept_id", "source"]).height == 561


def test_ungd_default_corpus(ungd, store):
    df = _check_schema(ungd, store)
    _check_accounting(ungd, store)
    assert df.height == 743
    assert sorted(df["source"].unique()) == ["CHN", "EGY", "FRA", "GBR", "IRN", "RUS", "SAU", "SYR", "TUR", "USA"]
    assert df["date"].dt.year().min() == 1946 and df["date"].dt.year().max() == 2024
    assert corpus_manifest(ungd, store)["line_breaks"] == "wrap"


def test_ungd_subset_is_the_shared_lines(project_root, shared_corpora):
    import gzip

    ours = gzip.decompress((project_root / "corpus" / "ungd" / "ungd_subset.jsonl.gz").read_bytes()).splitlines()
    full = gzip.decompress((shared_corpora / "ungdc" / "ungdc_1946_2024.jsonl.gz").read_bytes()).splitlines()
    wanted = {"CHN", "EGY", "FRA", "GBR", "IRN", "RUS", "SAU", "SYR", "TUR", "USA"}
    code = re.compile(rb'"country_iso3": "([A-Z]+)"')
    assert ours == [ln for ln in full if code.search(ln).group(1).decode() in wanted]
    assert {json.loads(ln)["country_iso3"] for ln in ours} == wanted


# --- determinism and atomicity ---------------------------------------------------------


def test_reingest_is_byte_identical(project_root, tmp_path, mfa_ar, ungd, store):
    for decl, name in (("mfa-ar.yml", mfa_ar), ("ungd.yml", ungd)):
        before = (store / name / "snapshot" / "statements.parquet").read_bytes()
        h = corpus_manifest(name, store)["snapshot_sha256"]
        r = corpus_ingest(project_root / "corpus" / decl, store=tmp_path)
        assert (tmp_path / name / "snapshot" / "statements.parquet").read_bytes() == before
        assert r.manifest["snapshot_sha256"] == h
        r2 = corpus_ingest(project_root / "corpus" / decl, store=tmp_path)
        assert r2.manifest == r.manifest and r2.log == r.log


def test_failed_ingest_keeps_previous_snapshot(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "text": "one"}\n{"id": "b", "text": "two"}\n', encoding="utf-8")
    decl = tmp_path / "c.yml"
    decl.write_text("name: c\nformat: jsonl\npath: d.jsonl\nlanguage: en\n", encoding="utf-8")
    store = tmp_path / "store"
    corpus_ingest(decl, store=store)
    snap = store / "c" / "snapshot"
    before = {p.name: p.read_bytes() for p in snap.iterdir()}
    data.write_text('{"id": "a", "text": "one"}\n{"id": "b", "text": \n', encoding="utf-8")
    with pytest.raises(FormulaeError, match=r"d\.jsonl:2: broken JSON line"):
        corpus_ingest(decl, store=store)
    assert {p.name: p.read_bytes() for p in snap.iterdir()} == before
    left = sorted(p.name for p in (store / "c").iterdir() if not p.name.endswith(".lock"))
    assert left == ["snapshot"], "a temporary folder was left behind"


def test_unknown_corpus_names_the_store(tmp_path, mfa_ar, store):
    with pytest.raises(FormulaeError, match=r"unknown corpus 'nope' in store .*mfa-ar"):
        corpus_load("nope", store)
    with pytest.raises(FormulaeError, match="nothing is ingested"):
        corpus_manifest("nope", tmp_path / "empty")
    assert "mfa-ar" in corpus_list(store)


# --- duplicate rules against an oracle ---------------------------------------------

WORDS = ["peace", "security", "سوريا", "الوحدة", "cooperation", "mutual", "respect", "и", "мир", "a"]
SEPS = [" ", "  ", "\n", "\t", " \n ", "\u00a0"]


@st.composite
def _records(draw):
    n = draw(st.integers(0, 25))
    pool = []
    for _ in range(draw(st.integers(1, 6))):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=0, max_size=40))
        pool.append(words)
    recs = []
    for i in range(n):
        words = draw(st.sampled_from(pool))
        seps = draw(st.lists(st.sampled_from(SEPS), min_size=len(words) + 1, max_size=len(words) + 1))
        text = seps[0] + "".join(w + s for w, s in zip(words, seps[1:], strict=True))
        recs.append({"id": f"r{i}", "source": draw(st.sampled_from(["A", "B", "C"])), "text": text})
    return recs


def _oracle(recs):
    kept, seen, dropped = [], {}, {"empty": 0, "duplicate": 0}
    for r in recs:
        k = _collapse(r["text"])
        if not k:
            dropped["empty"] += 1
        elif (r["source"], k) in seen:
            dropped["duplicate"] += 1
        else:
            seen[(r["source"], k)] = r["id"]
            kept.append(r)
    return kept, {k: v for k, v in dropped.items() if v}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=_records())
def test_dedup_matches_oracle(tmp_path, recs):
    d = tmp_path / "p"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    (d / "r.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    (d / "p.yml").write_text("name: p\nformat: jsonl\npath: r.jsonl\nlanguage: en\nfields: {id: id, text: text, source: source}\n")
    res = corpus_ingest(d / "p.yml", store=d / "store", allow_empty=True)
    kept, dropped = _oracle(recs)
    assert res.log["dropped"] == dropped
    assert res.log["records_in"] == len(recs) == res.log["kept"] + sum(dropped.values())
    df = corpus_load("p", d / "store").collect()
    assert sorted(df["id"]) == sorted(r["id"] for r in kept)
    # duplicate_of: the first (in snapshot order) of each cross-source group, only for the others
    keyed = df.with_columns(k=pl.col("text").map_elements(_collapse, return_dtype=pl.String))
    for _k, grp in keyed.group_by("k"):
        grp = grp.sort("doc")
        expect = [None] + [grp["id"][0]] * (grp.height - 1) if grp["source"].n_unique() > 1 else [None] * grp.height
        assert grp["duplicate_of"].to_list() == expect


def test_info_json_shape(mfa_ar, store):
    info = corpus_info(mfa_ar, store)
    assert info["statements"] == 2
    assert (info["first_date"], info["last_date"]) == ("2025-01-28", "2025-02-12")
    assert info["sources"] == {"mid.ru": 2}
    assert info["dropped"] == {"duplicate_paste": 2}
    assert info["undated"] == 0 and info["months"] == {"2025-01": 1, "2025-02": 1}
    assert re.fullmatch(r"[0-9a-f]{64}", info["snapshot_sha256"])


def test_ingest_all_cli_and_info_table(project_root, tmp_path):
    from test_ingest_errors import run

    proc = run("ingest", "--all", "--corpus-dir", str(project_root / "corpus"), "--store", str(tmp_path),
               "--format", "json", cwd=project_root)
    assert proc.returncode == 0, proc.stderr
    logs = {r["corpus"]: r for r in json.loads(proc.stdout)}
    assert set(logs) == {"mfa-ar", "ungd"}, "only declarations (top-level format:) are ingested"
    assert (logs["mfa-ar"]["kept"], logs["ungd"]["kept"]) == (2, 743)
    table = run("corpus", "info", "mfa-ar", "--store", str(tmp_path), cwd=project_root)
    assert table.returncode == 0
    for expected in ("2025-01-28", "2025-02-12", "mid.ru", "duplicate_paste", "2025-01", "paragraph"):
        assert expected in table.stdout
    listing = run("corpus", "list", "--store", str(tmp_path), cwd=project_root)
    assert "mfa-ar" in listing.stdout and "ungd" in listing.stdout


def test_hashtags_found_in_text(tmp_path):
    texts = ["#Syria and #روسيا_سوريا.", "see http://x.org/page#section &#123; #2024 (#tag_1)", "no tags"]
    d = tmp_path / "h"
    d.mkdir()
    (d / "r.jsonl").write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts))
    (d / "h.yml").write_text("name: h\nformat: jsonl\npath: r.jsonl\nlanguage: en\n")
    corpus_ingest(d / "h.yml", store=d / "s")
    df = corpus_load("h", d / "s").collect().sort("id")
    assert df["hashtags"].to_list() == [["Syria", "روسيا_سوريا"], ["tag_1"], []]


def test_corpus_dropped_cli(mfa_ar, store, project_root):
    from test_ingest_errors import run

    proc = run("corpus", "dropped", mfa_ar, "--store", str(store), "-f", "json", cwd=project_root)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["line"], r["reason"]) for r in rows] == [(8, "duplicate_paste"), (21, "duplicate_paste")]


def test_several_paths_glob_and_global_id_check(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "first"}\n{"id": "2", "text": "second"}\n')
    (tmp_path / "b.jsonl").write_text('{"id": "3", "text": "third"}\n')
    (tmp_path / "c.yml").write_text("name: m\nformat: jsonl\npaths: ['*.jsonl']\nlanguage: en\n")
    res = corpus_ingest(tmp_path / "c.yml", store=tmp_path / "s")
    assert res.log["records_in"] == 3 and len(res.manifest["inputs"]) == 2
    assert sorted((Path(k).name, v["records"]) for k, v in res.log["files"].items()) == [("a.jsonl", 2), ("b.jsonl", 1)]
    (tmp_path / "b.jsonl").write_text('{"id": "1", "text": "third"}\n')
    with pytest.raises(FormulaeError, match=r"b\.jsonl:1: duplicate id '1' \(first used at .*a\.jsonl:1\)"):
        corpus_ingest(tmp_path / "c.yml", store=tmp_path / "s")


def test_ingest_all_rejects_a_name_declared_twice(tmp_path):
    from analysis.ingest.snapshot import corpus_ingest_all

    (tmp_path / "d.jsonl").write_text('{"text": "x"}\n')
    for f in ("a.yml", "b.yml"):
        (tmp_path / f).write_text("name: same\nformat: jsonl\npath: d.jsonl\nlanguage: en\n")
    with pytest.raises(FormulaeError, match=r"b\.yml: corpus name 'same' is declared twice"):
        corpus_ingest_all(tmp_path, store=tmp_path / "s")


def test_snapshot_schema_is_checked(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "c.yml").write_text("name: old\nformat: jsonl\npath: d.jsonl\nlanguage: en\n")
    corpus_ingest(tmp_path / "c.yml", store=tmp_path)
    mf = tmp_path / "old" / "snapshot" / "manifest.json"
    m = json.loads(mf.read_text())
    del m["columns"]["lead_emoji"]
    mf.write_text(json.dumps(m))
    with pytest.raises(FormulaeError, match="has another schema .* ingest it again"):
        corpus_load("old", tmp_path)


def test_repeated_file_is_duplicates_not_id_clash(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "first"}\n{"id": "2", "text": "second"}\n')
    (tmp_path / "b.jsonl").write_text('{"id": "1", "text": "first"}\n{"id": "2", "text": "second "}\n')
    (tmp_path / "c.yml").write_text("name: m\nformat: jsonl\npaths: [a.jsonl, b.jsonl]\nlanguage: en\n")
    res = corpus_ingest(tmp_path / "c.yml", store=tmp_path / "s")
    assert (res.log["kept"], res.log["dropped"]) == (2, {"duplicate": 2})


def test_corpus_show(mfa_ar, store, project_root):
    from analysis.ingest.snapshot import corpus_show

    full = corpus_show(mfa_ar, store, excerpt=None)
    assert full["text"].to_list() == corpus_load(mfa_ar, store).collect()["text"].to_list()
    short = corpus_show(mfa_ar, store, ids=["mfa-ar:mid.ru:3"], excerpt=30)
    assert short.height == 1 and short["text"][0].endswith("…") and len(short["text"][0]) == 31
    assert short["hashtags"].to_list() == ["روسيا_سوريا"]
    from test_ingest_errors import run

    proc = run("corpus", "show", mfa_ar, "--store", str(store), "--full", "-f", "json", cwd=project_root)
    assert [r["date"] for r in json.loads(proc.stdout)] == ["2025-01-28", "2025-02-12"]


@pytest.mark.slow
def test_saudinewsnet_reingest_is_byte_identical(saudinewsnet, store, project_root, tmp_path):
    """The corpus with duplicates, empties and cross-source repeats: windows and sorts must not
    leak thread or hash order into the bytes."""
    snap = store / saudinewsnet / "snapshot"
    r = corpus_ingest(project_root / "tests" / "corpora" / "saudinewsnet.yml", store=tmp_path)
    assert (r.snapshot / "statements.parquet").read_bytes() == (snap / "statements.parquet").read_bytes()
    assert (r.snapshot / "dropped.parquet").read_bytes() == (snap / "dropped.parquet").read_bytes()
    assert r.manifest["snapshot_sha256"] == corpus_manifest(saudinewsnet, store)["snapshot_sha256"]
