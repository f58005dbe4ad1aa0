"""The matcher on hand-built form streams (against a plain-Python oracle) and on mfa-ar."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import random_sequences

from analysis.formulae.lexicon import Formula, Lexicon, Pattern
from analysis.formulae.match import formulae_match, sequences_find, sorted_search, stream_prepare


class WordAnalyzer:
    """query_forms = whitespace split (the stream below is already 'forms')."""

    def query_forms(self, phrase, level):
        return phrase.split()

    def query_forms_many(self, phrases, level):
        return [self.query_forms(p, level) for p in phrases]


def _stream(docs: list[list[list[str]]]) -> pl.DataFrame:
    rows = []
    for d, sents in enumerate(docs):
        pos = 0
        for s, words in enumerate(sents):
            for w in words:
                rows.append({"doc": d, "sent": s, "pos": pos, "start": pos * 10, "end": pos * 10 + 5, "form": w})
                pos += 1
    return pl.DataFrame(rows, schema={"doc": pl.UInt32, "sent": pl.UInt32, "pos": pl.UInt32,
                                      "start": pl.UInt32, "end": pl.UInt32, "form": pl.String})


def _oracle(docs, seq):
    out = []
    for d, sents in enumerate(docs):
        pos = 0
        for words in sents:
            for i in range(len(words) - len(seq) + 1):
                if all(s is None or words[i + j] == s for j, s in enumerate(seq)):
                    out.append((d, pos + i))
            pos += len(words)
    return sorted(out)


WORDS = st.sampled_from(["a", "b", "c"])
DOCS = st.lists(st.lists(st.lists(WORDS, min_size=0, max_size=6), min_size=1, max_size=3), min_size=1, max_size=4)


@settings(max_examples=80, deadline=None)
@given(DOCS, st.lists(st.one_of(WORDS, st.none()), min_size=1, max_size=4))
def test_sequences_find_matches_oracle(docs, seq):
    seq = tuple(seq)
    if seq[0] is None or seq[-1] is None:
        seq = ("a",) + seq + ("b",)
    frame = _stream(docs)
    if frame.height == 0:
        return
    hits = sequences_find(stream_prepare(frame), {7: seq})
    got = sorted(zip(hits["doc"].to_list(), hits["pos"].to_list(), strict=True))
    assert got == _oracle(docs, seq)
    assert set(hits["seq"].to_list()) <= {7}
    assert (hits["pos_end"] - hits["pos"]).to_list() == [len(seq) - 1] * hits.height


def test_never_crosses_a_sentence():
    frame = _stream([[["x", "a"], ["b", "y"]]])
    assert sequences_find(stream_prepare(frame), {0: ("a", "b")}).height == 0


def _lex(*patterns):
    return Lexicon((Formula("f", "F", tuple(patterns)),))


def test_all_pattern_any_order_and_window():
    docs = [[["b", "x", "a", "c"]], [["a", "x", "x", "x", "x", "b"]], [["a", "b"], ["x"]]]
    streams = {"norm": _stream(docs)}
    lex = _lex(Pattern("all", ("a", "b"), "en", window=4))
    out = formulae_match(lex, streams, WordAnalyzer(), level="norm")
    # doc 0: b..a within 3 tokens (any order); doc 1: span 6 > 4; doc 2: adjacent
    assert out["doc"].to_list() == [0, 2]
    assert out.filter(pl.col("doc") == 0)["pos"].to_list() == [0]
    assert out.filter(pl.col("doc") == 0)["pos_end"].to_list() == [2]
    ordered = _lex(Pattern("all", ("a", "b"), "en", window=4, ordered=True))
    assert formulae_match(ordered, streams, WordAnalyzer(), level="norm")["doc"].to_list() == [2]


def test_overlapping_patterns_count_once():
    docs = [[["a", "b", "c", "a", "b"]]]
    lex = _lex(Pattern("phrase", ("a b",), "en"), Pattern("phrase", ("b c",), "en"))
    out = formulae_match(lex, {"norm": _stream(docs)}, WordAnalyzer(), level="norm")
    assert out.select("pos", "pos_end").rows() == [(0, 2), (3, 4)]
    assert out["patterns"].to_list() == [[0, 1], [0]]


def test_empty_stream():
    empty = _stream([[[]]])
    lex = _lex(Pattern("phrase", ("a",), "en"))
    assert formulae_match(lex, {"norm": empty}, WordAnalyzer(), level="norm").height == 0


def test_missing_level_stream_is_an_error():
    from analysis.errors import FormulaeError

    lex = _lex(Pattern("phrase", ("a",), "en", level="stem"))
    with pytest.raises(FormulaeError, match="no form stream for level 'stem'"):
        formulae_match(lex, {"norm": _stream([[["a"]]])}, WordAnalyzer(), level="norm")


# --- real corpus: the sample ------------------------------------------------------------
def test_mfa_ar_territorial_integrity_both_wordings(mfa_ar, store):
    from analysis.formulae.match import formulae_find

    occ = formulae_find(mfa_ar, store=store, formulae=["territorial-integrity"])
    assert occ["id"].to_list() == ["mfa-ar:mid.ru:1", "mfa-ar:mid.ru:3"]
    texts = occ["text"].to_list()
    assert "وحدة وسلامة أراضي وسيادة" in texts[0]
    assert texts[1] == "وحدة الدولة السورية وسيادتها وسلامة أراضيها"


def test_mfa_ar_golden_counts(mfa_ar, store):
    from analysis.formulae.match import formulae_find

    occ = formulae_find(mfa_ar, store=store)
    counts = dict(occ.group_by("formula").agg(pl.col("doc").n_unique()).rows())
    assert counts == {
        "bilateral-cooperation": 2, "ethnic-religious-groups": 2, "political-forces": 2,
        "territorial-integrity": 2, "traditional-friendship": 2, "constructive-businesslike": 1,
        "mutual-benefit": 1, "mutual-respect": 1, "political-settlement": 1,
    }
    # the matched wording is the verbatim text at the offsets
    eth = occ.filter(pl.col("formula") == "ethnic-religious-groups")["text"].to_list()
    assert eth == ["المجموعات العرقية والدينية", "المجموعات العرقية والطائفية"]


def _merge_spans_window(occ: pl.DataFrame) -> pl.DataFrame:
    """The merge as first written (a window over each formula and statement): the oracle."""
    occ = occ.sort("formula", "doc", "pos", "pos_end", "pattern")
    prev_max = pl.col("pos_end").cum_max().shift(1).over(["formula", "doc"])
    occ = occ.with_columns((prev_max.is_null() | (pl.col("pos") > prev_max)).cast(pl.UInt32).cum_sum().alias("_block"))
    return (occ.group_by("_block", maintain_order=True)
            .agg(pl.col("formula").first(), pl.col("doc").first(), pl.col("sent").first(),
                 pl.col("pos").min(), pl.col("pos_end").max(), pl.col("start").min(),
                 pl.col("end").max(), pl.col("pattern").unique().sort().alias("patterns"))
            .drop("_block").sort("formula", "doc", "pos"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 2), st.integers(0, 3), st.integers(0, 12),
                          st.integers(0, 3)), max_size=40))
def test_merged_spans_equal_the_window_oracle(rows):
    """Overlapping matches of one formula in one statement merge into one row (a running
    maximum over all rows): the same rows as a window over each (formula, statement)."""
    from analysis.formulae.match import _merge_spans

    occ = pl.DataFrame([(f, pat, doc, 0, pos, pos + span, 10 * pos, 10 * (pos + span) + 5)
                        for f, doc, pat, pos, span in rows],
                       schema={"formula": pl.String, "pattern": pl.UInt32, "doc": pl.UInt32, "sent": pl.UInt32,
                               "pos": pl.UInt32, "pos_end": pl.UInt32, "start": pl.UInt32, "end": pl.UInt32},
                       orient="row")
    assert _merge_spans(occ).equals(_merge_spans_window(occ))


def test_a_subset_matched_alone_equals_the_whole_filtered(ungd, store):
    """A formula's matches when the lexicon's whole matches are not kept yet (matched
    alone, with or without the verbatim text) equal the whole's filtered, and are kept
    for the view; once the whole is kept, a subset is its filter (with the text)."""
    from analysis.formulae.match import formulae_find
    from analysis.phrases.view import CorpusView

    whole = formulae_find(ungd, store=store)
    ids = sorted(set(whole["formula"].to_list()))[:3]
    assert len(ids) == 3
    view = CorpusView(ungd, store)
    alone = formulae_find(view, formulae=[ids[1], ids[0], ids[1]])
    assert alone.height > 0 and alone.equals(whole.filter(pl.col("formula").is_in(ids[:2])))
    spans = formulae_find(view, formulae=[ids[2]], verbatim=False)
    assert "text" not in spans.columns
    assert spans.equals(whole.filter(pl.col("formula") == ids[2]).drop("text"))
    assert formulae_find(view, formulae=[ids[2]], verbatim=False) is spans  # kept for the view
    assert formulae_find(view, formulae=ids[:2], verbatim=False) is alone  # the kept one with text
    formulae_find(view)
    after = formulae_find(view, formulae=[ids[2]], verbatim=False)
    assert after.equals(whole.filter(pl.col("formula") == ids[2]))
    counts = CorpusView(ungd, store)  # a comparison's counts: the whole without the text
    bare = formulae_find(counts, verbatim=False)
    assert bare.equals(whole.drop("text"))
    assert formulae_find(counts).equals(whole)  # the text asked for later is read then


@pytest.mark.parametrize("corpus", ["ungd", "mfa_ar", "cn_mfa"])
def test_matched_wordings_from_the_texts_store_equal_the_snapshot_sliced(corpus, request, store):
    """The matched wording (``text``) read from the texts store, a statement decoded
    only where it is not ASCII, equals the snapshot's text sliced at the match's character
    offsets (polars), on English (ASCII and not), Arabic and Chinese statements."""
    from analysis.formulae.match import formulae_find
    from analysis.ingest.texts import texts_open
    from analysis.phrases.view import CorpusView

    view = CorpusView(request.getfixturevalue(corpus), store)
    occ = formulae_find(view)
    assert occ.height > 0
    texts = view.texts().filter(pl.col("doc").is_in(occ["doc"].unique().implode())).collect()
    want = (occ.select("doc", "start", "end").join(texts, on="doc", how="left", maintain_order="left")
            .select(pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))).to_series())
    assert occ["text"].equals(want)
    stored = texts_open(view.name, view.snapshot_sha256, store)
    ascii_docs = {stored.raw(d).isascii() for d in occ["doc"].unique().to_list()}
    assert ascii_docs == ({True, False} if corpus == "ungd" else {False})


def test_matched_wordings_without_a_texts_store_come_from_the_snapshot(ungd, store, monkeypatch):
    """Where the texts store cannot be made (a read-only store without one, a full disk),
    the wordings are the snapshot's texts sliced: the same column."""
    import analysis.ingest.texts as texts_module
    from analysis.formulae.match import formulae_find
    from analysis.phrases.view import CorpusView

    want = formulae_find(CorpusView(ungd, store))

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(texts_module, "texts_open", read_only)
    got = formulae_find(CorpusView(ungd, store))
    assert got.height > 0 and got.equals(want)


# --- the index finds what the stream finds ------------------------------------------------
@pytest.mark.parametrize("corpus, level", [("ungd", "norm"), ("ungd", "stem"), ("mfa_ar", "clitic"),
                                           ("mfa_ar", "stem"), ("cn_mfa", "norm")])
def test_the_index_finds_what_the_stream_finds(corpus, level, request, store):
    """:func:`sequences_find` through the phrase index's suffix array (what formulae,
    timelines and comparisons use) equals the pass over the corpus's form stream (the
    oracle), row for row: the lexicon's sequences for the corpus's language and 200
    sequences cut from the corpus (wildcards inside; a form it lacks); and so do the
    lexicon's matches."""
    from analysis.formulae.lexicon import lexicon_load
    from analysis.formulae.match import _compile
    from analysis.phrases.index import PhraseIndex
    from analysis.phrases.view import CorpusView

    view = CorpusView(request.getfixturevalue(corpus), store)
    ix = view.tokens_index(level)
    assert isinstance(ix, PhraseIndex)
    stream = view.stream(level)
    lex = lexicon_load().for_language(view.language)
    tables = [t for lv, t in _compile(lex, view.analyzer, level)[0].items() if lv == level]
    for table in [*tables, random_sequences(*stream, 200, seed=len(corpus) + len(level))]:
        want = sequences_find(stream, table)
        assert want.height > 0 and sequences_find(ix, table).equals(want)
    levels = {lv: view.stream(lv) for lv in _compile(lex, view.analyzer, level)[0]}
    by_stream = formulae_match(lex, levels, view.analyzer, level=level)
    by_index = formulae_match(lex, {lv: view.tokens_index(lv) for lv in levels}, view.analyzer, level=level)
    assert by_index.equals(by_stream) and (by_stream.height > 0 or corpus == "cn_mfa")


@settings(max_examples=80, deadline=None)
@given(hay=st.lists(st.integers(0, 50), max_size=60), needles=st.lists(st.integers(-5, 55), max_size=60),
       side=st.sampled_from(["left", "right"]))
def test_sorted_search_equals_searchsorted(hay, needles, side):
    h, n = np.array(sorted(hay), np.int64), np.array(needles, np.int64)
    got = sorted_search(h, n, side)
    assert got.dtype == np.int64 and got.tolist() == np.searchsorted(h, n, side=side).tolist()


def test_formulae_note_a_damaged_texts_store_made_again(tmp_path, cli):
    """``formulae formulae`` reads the wordings from the texts store; found damaged, it is
    made again and the command says so (as ``kwic`` does), its rows unchanged."""
    from analysis.ingest.snapshot import corpus_ingest
    from analysis.ingest.texts import texts_dir
    from analysis.phrases import view as view_module

    (tmp_path / "c.jsonl").write_text(
        '{"id": "a", "text": "We respect the territorial integrity of Cyprus.", "date": "2021-01-02"}\n'
        '{"id": "b", "text": "Territorial  integrity, and sovereignty.", "date": "2022-03-04"}\n', encoding="utf-8")
    decl = tmp_path / "ti.yml"
    decl.write_text("name: ti\nformat: jsonl\npath: c.jsonl\nlanguage: en\n"
                    "fields: {id: id, text: text, date: date}\n", encoding="utf-8")
    store = tmp_path / "store"
    corpus_ingest(decl, store=store)
    args = ("formulae", "--corpus", "ti", "--formula", "territorial-integrity", "-f", "csv", "--store", str(store))
    first = cli(*args)
    assert first.returncode == 0 and "damaged" not in first.stderr
    assert "Territorial  integrity, and sovereignty" in first.stdout  # the wording, verbatim
    with open(texts_dir("ti", store) / "text.bin", "r+b") as fh:
        fh.truncate(5)
    view_module._VIEWS.clear()  # a new process: the corpus view (and its matches) not kept from the last command
    again = cli(*args)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "formulae: note: the stored texts of the corpus were damaged (text.bin is 5 bytes" in again.stderr
    view_module._VIEWS.clear()
    assert "damaged" not in cli(*args).stderr  # made whole again: no note the next time


def _match_table_polars(tokens: pl.DataFrame, roles: pl.DataFrame, p: dict) -> pl.DataFrame:
    """The oracle: ``match_table`` as the polars joins and list aggregations it was until
    the twenty-seventh session (4.3 s on ungdc's families, where numpy takes 1.0 s)."""
    size = roles.filter(pl.col("role") == 0).group_by("seed").len("n_seed")
    t = tokens.join(roles, on=["seed", "fid"], how="left").sort("g", "i")
    first = t.filter(pl.col("role") == 0).unique(["g", "fid"], keep="first").sort("g", "i")
    order = first.group_by("g").agg((pl.col("rank").diff().fill_null(1) > 0).all().alias("in_order"))
    change = pl.col("role").is_null() | (pl.col("role") == 2)
    out = (t.group_by("g").agg(pl.col("seed").first(),
                               pl.col("fid").filter(pl.col("role") == 0).n_unique().alias("hits"),
                               change.sum().alias("c"), pl.col("role").is_null().sum().alias("bad"),
                               pl.col("fid").filter(change).alias("changes"))
           .join(size, on="seed").join(order, on="g", how="left")
           .with_columns((pl.col("n_seed").cast(pl.Int64) - pl.col("hits")).alias("m"), pl.col("c").cast(pl.Int64)))
    ok = ((pl.col("m") <= p["max_subst"]) & (pl.col("c") >= pl.col("m"))
          & (pl.col("c") - pl.col("m") <= p["max_insert"]) & (pl.col("bad") == 0))
    kind = (pl.when(pl.col("m") > 0).then(pl.lit("substitution")).when(pl.col("c") > 0).then(pl.lit("insertion"))
            .when(pl.col("in_order").fill_null(True)).then(pl.lit("exact")).otherwise(pl.lit("permutation")))
    return out.select("g", ok.alias("ok"), kind.alias("kind"), "changes").sort("g")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3), st.integers(0, 7)), max_size=40),
       st.dictionaries(st.tuples(st.integers(0, 3), st.integers(0, 7)), st.integers(0, 2), max_size=25),
       st.integers(0, 2), st.integers(0, 3), st.sampled_from([pl.UInt32, pl.Int64]), st.randoms(use_true_random=False))
def test_match_table_equals_the_polars_joins(rows, role_of, max_subst, max_insert, g_type, rnd):
    """Any wordings (tokens in any order, a form repeated, a form of no role, a wording
    whose seed has no form of its own) and any roles: the rows of the polars joins the
    numpy version replaced, in ``g`` order, the changes in their places' order."""
    from analysis.formulae.match import match_table

    seeds = {g: rnd.randint(0, 3) for g, _, _ in rows}  # a wording's tokens share its seed
    keys = sorted(role_of)
    places = list(range(len(rows)))
    rnd.shuffle(places)  # distinct places, in any order
    for s in range(4):  # each seed's own forms in their order (exact) and shuffled (a permutation, mostly)
        own = [f for s2, f in keys if s2 == s and role_of[(s2, f)] == 0]
        for g, forms in ((10 + 2 * s, own), (11 + 2 * s, rnd.sample(own, len(own)))):
            seeds[g] = s
            rows, places = rows + [(g, 0, f) for f in forms], places + list(range(len(places), len(places) + len(forms)))
    tokens = pl.DataFrame({"g": [g for g, _, _ in rows], "seed": [seeds[g] for g, _, _ in rows],
                           "fid": [f for _, _, f in rows], "i": places},
                          schema={"g": g_type, "seed": pl.UInt32, "fid": pl.Int64, "i": pl.Int64})
    rank = {}
    for s, f in keys:  # a seed's own forms ranked in their order
        rank[(s, f)] = sum(1 for s2, f2 in keys if s2 == s and role_of[(s2, f2)] == 0 and f2 < f)
    roles = pl.DataFrame({"seed": [s for s, _ in keys], "fid": [f for _, f in keys],
                          "role": [role_of[k] for k in keys],
                          "rank": [rank[k] if role_of[k] == 0 else None for k in keys]},
                         schema={"seed": pl.UInt32, "fid": pl.Int64, "role": pl.Int32, "rank": pl.Int64})
    p = {"max_subst": max_subst, "max_insert": max_insert}
    got = match_table(tokens, roles, p)
    assert got.equals(_match_table_polars(tokens, roles, p)), (got, _match_table_polars(tokens, roles, p))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 9), st.integers(-3, 12)), max_size=30),
       st.sampled_from([1, 1 << 61]))
def test_order_spans_equals_lexsort(rows, scale):
    """Spans' order by (group, start, end), ties kept in place: numpy's lexsort, whether
    the three fit in one key or not (``scale``: groups too large for one)."""
    from analysis.formulae.match import _order_spans

    g = np.array([r[0] for r in rows], np.int64) * scale
    a = np.array([r[1] for r in rows], np.int64)
    b = np.array([r[2] for r in rows], np.int64)
    assert _order_spans(g, a, b).tolist() == np.lexsort((b, a, g)).tolist()
