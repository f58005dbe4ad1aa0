"""Statements appended to an indexed corpus, indexed as a layer (analysis/phrases/delta.py):
``query`` and ``kwic`` over the base and the delta equal a whole build's results; every
other reader builds the index whole first; anything but an append builds it whole."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_shards import SMALL, ingest_copy
from test_shards import files as index_files
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import IndexMissing
from analysis.ingest.snapshot import corpus_ingest
from analysis.phrases import delta as delta_mod
from analysis.phrases.build import index_build, index_update
from analysis.phrases.index import (
    DOC_ARRAYS,
    Layers,
    PhraseIndex,
    delta_dir,
    index_load,
    index_open,
)
from analysis.phrases.query import phrases_table, query_kwic, query_phrase

NAME = "ungd-lay"


def files(folder: Path) -> dict[str, str]:
    """sha256 of every file of a folder, its manifest and catalog too (``index_files``: but those)."""
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.rglob("*"))
            if f.is_file()}


def before(year: int, since: int = 0):
    return lambda r: since <= r["year"] < year


SINCE = 2010  # the smaller tests' corpus: ungd's speeches from 2010 (146; 2024's 10 are 7.4% of the text)


def new_source(r: dict) -> dict:
    """2024's speech of the USA under a source no earlier statement has, first in the
    order of sources (the layers number the delta's sources in the union of both)."""
    return r | {"country_iso3": "AAA"} if r["year"] == 2024 and r["country_iso3"] == "USA" else r


@pytest.fixture(scope="module")
def layered(tmp_path_factory, project_root):
    """ungd's speeches to 2023 indexed at ``norm``, then 2024's appended as a layer; and
    all of ungd indexed whole in a store of its own."""
    store, whole = tmp_path_factory.mktemp("layer"), tmp_path_factory.mktemp("whole")
    ingest_copy(project_root, store, store / "in", NAME, keep=before(2024))
    first = index_update(NAME, "norm", store, jobs=1, shard_chars=SMALL)
    assert isinstance(first, PhraseIndex) and first.built  # nothing to layer over: built whole
    base_files = files(first.folder)
    ingest_copy(project_root, store, store / "in", NAME, edit=new_source)  # the same records and 2024's
    said: list[str] = []
    layers = index_update(NAME, "norm", store, jobs=1, progress=said.append)
    ingest_copy(project_root, whole, whole / "in", NAME, edit=new_source)
    index_build(NAME, "norm", whole, jobs=1, shard_chars=SMALL)
    return store, whole, layers, base_files, said


def test_an_append_is_a_layer_over_the_untouched_index(layered):
    store, whole, layers, base_files, said = layered
    assert isinstance(layers, Layers) and layers.built
    assert "indexing the statements added since statement 732 (a layer over the index)" in said
    assert files(layers.parts[0][0].folder) == base_files  # the base as it was
    info = layers.info
    assert (info["base_statements"], info["statements"]) == (733, 743)
    full = index_load(NAME, "norm", whole)
    assert layers.manifest["tokens"] == full.manifest["tokens"] and layers.sources == full.sources
    assert layers.sources[0] == "AAA" and "AAA" not in layers.parts[0][0].sources
    assert layers.manifest["snapshot_sha256"] == full.manifest["snapshot_sha256"]
    for name in DOC_ARRAYS:  # the statement arrays are the whole build's
        assert np.array_equal(layers.array(name), np.asarray(full.array(name))), name
    assert isinstance(index_open(NAME, "norm", store), Layers)
    again = index_update(NAME, "norm", store, jobs=1)  # up to date: the same layers, not built again
    assert isinstance(again, Layers) and not again.built


PHRASES = ["territorial integrity", "sovereignty and territorial integrity", "the united nations",
           "climate change", "artificial intelligence", "gaza", "the * of", "(peace|war) and security", "united *{0,3} nations",
           "zzzqqq never", "peace"]
OPTIONS = [dict(by="year"), dict(by=None), dict(by="year", distinct=True, date_from="2020", date_to="2024"),
           dict(by="year", source=["RUS", "USA"]), dict(by=None, source=["AAA", "CHN"]), dict(by="month", where="year=2010..2024")]


def _same(a, b):
    assert a.frame.equals(b.frame) if isinstance(a.frame, pl.DataFrame) else a.frame == b.frame
    assert (a.notes, a.params) == (b.notes, b.params)


@pytest.mark.parametrize("phrase", PHRASES)
def test_query_and_kwic_over_the_layers_equal_a_whole_build(layered, phrase):
    store, whole, *_ = layered
    for kw in OPTIONS:
        _same(query_phrase(NAME, phrase, level="norm", store=store, **kw),
              query_phrase(NAME, phrase, level="norm", store=whole, **kw))
    got = query_kwic(NAME, phrase, level="norm", store=store, limit=None)
    _same(got, query_kwic(NAME, phrase, level="norm", store=whole, limit=None))
    if phrase == "peace":
        assert got.frame.height > 1000 and got.frame["id"].str.ends_with("2024").any()


def test_random_phrases_over_the_layers_equal_a_whole_build(layered):
    """Phrases cut from random places of the whole corpus (a word only 2024 has, too):
    their counts and concordances over the layers are the whole build's."""
    store, whole, layers, *_ = layered
    full = index_load(NAME, "norm", whole)
    ids, vocab = np.asarray(full.array("ids")), full.table("vocab").collect()["form"]
    base_vocab = set(layers.parts[0][0].table("vocab").collect()["form"].to_list())
    new_only = sorted(set(layers.parts[1][0].table("vocab").collect()["form"].to_list()) - base_vocab)
    assert new_only, "2024 brings words of its own"
    rng = np.random.default_rng(14)
    phrases = [" ".join(vocab.gather(ids[p:p + n]).to_list())
               for p, n in zip(rng.integers(0, len(ids) - 5, 30), rng.integers(1, 5, 30), strict=True)]
    for phrase in phrases + new_only[:5]:
        _same(query_phrase(NAME, phrase, level="norm", store=store, by="year"),
              query_phrase(NAME, phrase, level="norm", store=whole, by="year"))
        _same(query_kwic(NAME, phrase, level="norm", store=store, limit=None),
              query_kwic(NAME, phrase, level="norm", store=whole, limit=None))


def test_the_cli_reads_the_layers_and_builds_whole_for_the_tables(tmp_path, project_root):
    """``formulae index`` says what it layered; ``query`` reads the layers; ``phrases``
    (the corpus-wide tables) builds the index whole, the delta then gone, and the index
    equals a whole build's byte for byte."""
    store = tmp_path / "s"
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2024, SINCE))
    run = CliRunner().invoke
    args = ["--corpus", NAME, "--level", "norm", "--store", str(store)]
    assert run(app, ["index", *args, "--jobs", "1"]).exit_code == 0
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2025, SINCE))
    r = run(app, ["index", *args, "--jobs", "1"])
    assert r.exit_code == 0, r.output
    assert "added statements 136-145 (10 statements" in r.stderr and "as a layer over the index of statements 0-135" in r.stderr
    r = run(app, ["index", *args])
    assert "the index was up to date: statements 136-145" in r.stderr
    q = run(app, ["query", "territorial integrity", *args, "-f", "csv"])
    assert q.exit_code == 0 and "2024," in q.stdout
    with pytest.raises(IndexMissing, match="stale"):
        phrases_table(NAME, level="norm", store=store)
    assert delta_dir(NAME, "norm", store).exists()
    r = run(app, ["phrases", *args, "-f", "csv", "--limit", "5"])
    assert r.exit_code == 0, r.output
    assert not delta_dir(NAME, "norm", store).exists()  # compacted
    compact = index_files(index_load(NAME, "norm", store).folder)  # before the forced build replaces them
    assert isinstance(index_open(NAME, "norm", store), PhraseIndex)
    forced = index_build(NAME, "norm", store, jobs=1, force=True)
    assert compact == index_files(forced.folder)
    assert run(app, ["query", "territorial integrity", *args, "-f", "csv"]).stdout == q.stdout


def test_a_later_append_layers_over_the_same_base(tmp_path, project_root, monkeypatch):
    """A second append makes the layer again over the same base, from the first appended
    statement on (2023's and 2024's: 15% of the base's text, so the share is raised)."""
    monkeypatch.setattr(delta_mod, "DELTA_SHARE", 0.3)
    store, whole = tmp_path / "s", tmp_path / "w"
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2023, SINCE))
    index_update(NAME, "norm", store, jobs=1)
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2024, SINCE))
    first = index_update(NAME, "norm", store, jobs=1)
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2025, SINCE))
    second = index_update(NAME, "norm", store, jobs=1)
    assert isinstance(first, Layers) and isinstance(second, Layers)
    assert first.info["base_statements"] == second.info["base_statements"] == 126
    assert second.info["statements"] == 146
    ingest_copy(project_root, whole, tmp_path / "w-in", NAME, keep=before(2025, SINCE))
    index_build(NAME, "norm", whole, jobs=1)
    for phrase in ("territorial integrity", "the * of"):
        _same(query_phrase(NAME, phrase, level="norm", store=store), query_phrase(NAME, phrase, level="norm", store=whole))
        _same(query_kwic(NAME, phrase, level="norm", store=store), query_kwic(NAME, phrase, level="norm", store=whole))


def _edit(field: str, value):
    def edit(r):
        return r | {field: value(r[field])} if r["id"] == "FRA_75_2020" else r
    return edit


@pytest.mark.parametrize("change, why", [
    (dict(edit=_edit("text", lambda t: t.replace("peace", "PEACE", 1))), "statements .* changed"),
    (dict(edit=_edit("country_iso3", lambda s: "XXX")), "statements .* changed|source, date or duplicate mark changed"),
    (dict(share=0.001), "the added text is more than 0% of the indexed text"),
    (dict(level="stem", edit=lambda r: r | {"text": r["text"] + " والسلام"} if r["year"] == 2024 else r),
     "an added word has Arabic letters only .*"),
    (dict(level="stem", base=True, edit=lambda r: r | {"text": r["text"] + " والسلام"}), None),
])
def test_anything_but_a_small_append_builds_whole(tmp_path, project_root, monkeypatch, change, why):
    """An edited statement (its text; its source), an addition larger than the layer's
    share, or an analyzer's level where a word has Arabic letters only (its clitic split
    reads the whole corpus's counts: in the added statements, or already in the index):
    the index is built whole, as before, and no layer is left."""
    store = tmp_path / "s"
    level = change.get("level", "norm")
    first = change.get("edit") if change.get("base") else None  # the base has the Arabic word too
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2024, SINCE), edit=first)
    index_update(NAME, level, store, jobs=1)
    if "share" in change:
        monkeypatch.setattr(delta_mod, "DELTA_SHARE", change["share"])
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2025, SINCE), edit=change.get("edit"))
    said: list[str] = []
    ix = index_update(NAME, level, store, jobs=1, progress=said.append)
    assert isinstance(ix, PhraseIndex) and ix.built and ix.manifest["statements"] == 146
    if why is not None:
        assert any(re.fullmatch(f"building the index whole: ({why})", s) for s in said), said
    assert not delta_dir(NAME, level, store).exists()


def test_a_layer_of_another_snapshot_is_not_read(tmp_path, project_root):
    store = tmp_path / "s"
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2024, SINCE))
    index_update(NAME, "norm", store, jobs=1)
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2025, SINCE))
    assert isinstance(index_update(NAME, "norm", store, jobs=1), Layers)
    ingest_copy(project_root, store, tmp_path / "in", NAME, keep=before(2025, SINCE), edit=_edit("text", lambda t: t + " Amen."))
    with pytest.raises(IndexMissing, match="stale"):
        index_open(NAME, "norm", store)


@pytest.mark.parametrize("level, aliases", [("norm", True), ("stem", False)])
def test_an_alias_table_and_stems_are_layers_too(tmp_path, project_root, level, aliases):
    """At ``norm`` with an alias table, and at ``stem`` in English, a word's form reads no
    corpus count: the added statements are a layer, and query and kwic over it equal a
    whole build's (a name and its alias variants; stems of the query's words)."""
    def declare(store: Path, keep) -> None:
        ingest_copy(project_root, store, store / "in", NAME, keep=keep)
        if aliases:
            table = store / "aliases.yml"
            table.write_text("aliases:\n  russia: [ussr, soviet]\n  america: [usa]\n", encoding="utf-8")
            decl = store / "in" / f"{NAME}.yml"
            decl.write_text(decl.read_text(encoding="utf-8") + f"aliases: {table}\n", encoding="utf-8")
            corpus_ingest(decl, store=store)

    store, whole = tmp_path / "s", tmp_path / "w"
    declare(store, before(2024, SINCE))
    index_update(NAME, level, store, jobs=1)
    declare(store, before(2025, SINCE))
    layers = index_update(NAME, level, store, jobs=1)
    assert isinstance(layers, Layers) and layers.info["statements"] == 146
    declare(whole, before(2025, SINCE))
    index_build(NAME, level, whole, jobs=1)
    for phrase in ("russia", "the soviet union", "territorial integrities", "climate changes", "the * of",
                   "(peace|war) and security"):
        _same(query_phrase(NAME, phrase, level=level, store=store, by="year"),
              query_phrase(NAME, phrase, level=level, store=whole, by="year"))
        _same(query_kwic(NAME, phrase, level=level, store=store), query_kwic(NAME, phrase, level=level, store=whole))
    if aliases:  # the table is in use: "soviet" is counted as russia
        hits = query_phrase(NAME, "soviet", level=level, store=store, by=None).frame["occurrences"].sum()
        assert hits == query_phrase(NAME, "russia", level=level, store=store, by=None).frame["occurrences"].sum() > 0


TIMELINE_ITEMS = ["sovereignty-territorial-integrity", "mutual-respect", "climate change", "artificial intelligence",
                  "(peace|war) and security"]


def test_timelines_and_lexicon_matches_read_the_layers(layered):
    """What reads tokens and statements only (a corpus view's form stream and statement
    sizes: timelines, lexicon matches, a comparison of lexicon formulae) reads the layers,
    the index left as it is, and equals a whole build's: the stream's statements,
    sentences and form ids (the union of both vocabularies, sorted) included."""
    from analysis.formulae.match import formulae_find, formulae_totals
    from analysis.phrases.view import CorpusView
    from analysis.stats.compare import stat_compare
    from analysis.stats.timeline import stat_timeline

    store, whole, *_ = layered
    over, full = CorpusView(NAME, store), CorpusView(NAME, whole)
    assert isinstance(over.tokens_index("norm"), Layers) and isinstance(full.tokens_index("norm"), PhraseIndex)
    (toks, vocab), (want, want_vocab) = over.stream("norm"), full.stream("norm")
    assert toks.equals(want) and vocab.equals(want_vocab) and toks.schema == want.schema
    assert toks["doc"].max() == 742 and toks["sent"].max() == want["sent"].max()
    assert over.doc_tokens("norm").equals(full.doc_tokens("norm"))
    from samples import random_sequences

    from analysis.formulae.match import sequences_find
    table = random_sequences(want, want_vocab, 300, seed=14)  # found in both parts' suffix arrays
    got = sequences_find(over.tokens_index("norm"), table)
    assert got.equals(sequences_find(full.tokens_index("norm"), table)) and got.equals(sequences_find((want, want_vocab), table))
    assert got["doc"].max() >= 733 and got["sent"].n_unique() > 1000
    for item in TIMELINE_ITEMS:
        for kw in (dict(by="year"), dict(by="year", group=None, where="year=2015..2024"), dict(by="year", sources=["AAA", "USA"])):
            got, exp = stat_timeline(over, item, **kw), stat_timeline(full, item, **kw)
            assert got.frame.equals(exp.frame) and got.extra["lifecycle"].equals(exp.extra["lifecycle"]), (item, kw)
            assert (got.notes, got.params) == (exp.notes, exp.params)
    assert stat_timeline(over, "artificial intelligence", group=None).frame.filter(
        pl.col("label") == "2024")["occurrences"].item() > 0
    occ = formulae_find(over)
    assert occ.equals(formulae_find(full)) and formulae_totals(over, occ).equals(formulae_totals(full, occ))
    got, exp = (stat_compare(v, "year<2024", "year=2024", phrases=False) for v in (over, full))
    assert got.frame.equals(exp.frame) and got.params == exp.params
    run = CliRunner().invoke
    outs = [run(app, ["timeline", "territorial-integrity", "--corpus", NAME, "--store", str(s), "-f", "csv"])
            for s in (store, whole)]
    assert outs[0].exit_code == 0 and outs[0].stdout == outs[1].stdout and "2024," in outs[0].stdout
    assert isinstance(index_open(NAME, "norm", store), Layers)  # nothing of this built the index whole


def test_a_comparison_of_phrases_builds_the_index_whole(layered, tmp_path):
    """A comparison's maximal phrases are the corpus-wide tables: the view builds the index
    whole (the layer then gone) and the result equals a whole build's."""
    from analysis.phrases.view import CorpusView
    from analysis.stats.compare import stat_compare

    store, whole, *_ = layered
    shutil.copytree(store, tmp_path / "s")  # the module's store stays layered
    over = CorpusView(NAME, tmp_path / "s")
    assert isinstance(over.tokens_index("norm"), Layers)
    got, exp = (stat_compare(v, "year<2024", "year=2024") for v in (over, CorpusView(NAME, whole)))
    assert got.frame.equals(exp.frame) and got.notes == exp.notes and (got.frame["kind"] == "phrase").sum() > 1000
    assert not delta_dir(NAME, "norm", tmp_path / "s").exists()


def test_a_subsets_families_after_an_append_equal_a_whole_builds(layered, tmp_path):
    """The families of a subset read the view's form stream, here made over the layers
    before the index is built whole, and keep their suffixes from the whole index's
    (phrases.subset): its ids must be the stream's, and the families equal a whole build's."""
    from analysis.formulae.families import families_find
    from analysis.phrases.view import CorpusView

    store, whole, *_ = layered
    shutil.copytree(store, tmp_path / "s")  # the module's store stays layered
    over = CorpusView(NAME, tmp_path / "s")
    assert isinstance(over.tokens_index("norm"), Layers)
    over.stream("norm")  # the stream of the layers, kept by the view
    where = pl.col("doc") % 4 != 1
    got, exp = (families_find(v, where=where, level="norm", min_statements=5) for v in (over, CorpusView(NAME, whole)))
    assert got.frame.height >= 10 and not delta_dir(NAME, "norm", tmp_path / "s").exists()
    for part in ("frame", "variants", "occurrences"):
        assert getattr(got, part).equals(getattr(exp, part)), part
