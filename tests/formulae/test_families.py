"""Variant families on the sample: the known variants fall in one family each."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analysis.errors import FormulaeError
from analysis.formulae.families import families_find


@pytest.fixture(scope="module")
def fam(mfa_ar, store):
    return families_find(mfa_ar, store=store)


def _family_of(fam, needle: str) -> set[str]:
    return set(fam.variants.filter(pl.col("variant").str.contains(needle, literal=True))["family"].to_list())


def test_territorial_integrity_wordings_one_family(fam):
    # the two wordings of 'unity, sovereignty and territorial integrity' (mid.ru:1 and :3),
    # cut where a form neither of the seed's core nor admitted by a frame begins
    a = _family_of(fam, "وسلامة أراضي وسيادة")
    b = _family_of(fam, "وسيادتها وسلامة أراضيها")
    assert len(a) == 1 and a == b
    fid = a.pop()
    var = fam.variants.filter(pl.col("family") == fid)
    assert sorted(var["variant"].to_list()) == ["السورية وسيادتها وسلامة أراضيها", "وحدة وسلامة أراضي وسيادة"]
    assert var["ids"].explode().unique().sort().to_list() == ["mfa-ar:mid.ru:1", "mfa-ar:mid.ru:3"]
    row = fam.get(fid).row(0, named=True)
    assert {"وحد", "سيد", "سلم", "رضي"} <= set(row["signature"].split())


def test_known_variant_pairs(fam):
    # inflection: المساعدة / المساعدات
    aid = _family_of(fam, "تقديم المساعدة")
    assert len(aid) == 1 and aid == _family_of(fam, "تقديم المساعدات")
    # different formulae stay apart
    assert _family_of(fam, "تقديم المساعدة") != _family_of(fam, "وحدة وسلامة")
    # an insertion needs a frame: on three statements none admits كامل طيف, so the
    # wording stops at the seed and its core
    assert _family_of(fam, "كامل طيف") == set()
    assert len(_family_of(fam, "بمشاركة القوى السياسية")) == 1
    from analysis.formulae.match import KINDS

    assert set(fam.variants["kind"].to_list()) <= set(KINDS)


def test_frame_columns_and_determinism(fam, mfa_ar, store):
    assert fam.frame.columns == ["family", "canonical", "signature", "statements", "occurrences",
                                 "variants", "cohesion", "seeds"]
    assert fam.variants.columns == ["family", "variant", "kind", "filler", "statements", "occurrences", "docs", "ids"]
    again = families_find(mfa_ar, store=store)
    assert again.frame.equals(fam.frame) and again.variants.equals(fam.variants)
    assert fam.params["level"] == "stem" and fam.notes


def test_filter_and_errors(mfa_ar, store):
    one = families_find(mfa_ar, store=store, where=pl.col("doc") == 0)
    assert one.frame.height == 0 and any("excluded" in n for n in one.notes)
    with pytest.raises(FormulaeError, match="unknown family option"):
        families_find(mfa_ar, store=store, windw=3)
    fam = families_find(mfa_ar, store=store)
    with pytest.raises(FormulaeError, match="unknown family"):
        fam.get("fam-nope")


def test_accept_writes_lexicon(fam, tmp_path, project_root):
    from analysis.formulae.lexicon import lexicon_accept, lexicon_load

    lex = tmp_path / "formulae.yml"
    lex.write_text((project_root / "corpus" / "formulae.yml").read_text(encoding="utf-8"), encoding="utf-8")
    fid = _family_of(fam, "تقديم المساعدة").pop()
    f = lexicon_accept(fam, fid, language="ar", path=lex)
    assert f.id == fid and len(f.patterns) == 2
    assert "# The formula lexicon" in lex.read_text(encoding="utf-8")  # comments kept
    with pytest.raises(FormulaeError, match="already in the lexicon"):
        lexicon_accept(fam, fid, language="ar", path=lex)
    assert lexicon_load(lex).get(fid).label == fam.get(fid)["canonical"][0]


def test_centres_do_not_chain():
    from analysis.formulae.families import seed_centres

    # 0-1 and 1-2 linked, 0-2 not: 2 must not join 0's family through 1
    pairs = pl.DataFrame({"seed": [0, 1, 3], "other": [1, 2, 4]}, schema={"seed": pl.UInt32, "other": pl.UInt32})
    lab = dict(seed_centres(5, pairs).iter_rows())
    assert lab == {0: 0, 1: 0, 2: 2, 3: 3, 4: 3}


@pytest.mark.parametrize("corpus", ["saudinewsnet", "ungdc"])
def test_largest_family_at_most_100_wordings(corpus, request, store):
    name = request.getfixturevalue(corpus)
    fam = families_find(name, store=store)
    assert fam.frame.height > 100
    assert fam.frame["variants"].max() <= 100
    assert fam.frame["family"].n_unique() == fam.frame.height
    assert fam.frame["cohesion"].is_between(0, 1).all()
    per = fam.variants.group_by("family").len()
    assert per["len"].max() <= 100


def _oracle(seed, wording, core, admitted, max_insert=2, max_subst=1) -> bool:
    """Brute force: some positions U (substitutions: forms outside the seed and the core,
    one per lacking seed form) and I (insertions) of the wording, all admitted, leave only
    seed and core forms, and the seed forms left lack exactly |U| forms of the seed."""
    from itertools import combinations

    idx = range(len(wording))
    for u in range(max_subst + 1):
        for us in combinations(idx, u):
            if any(wording[j] in seed or wording[j] in core for j in us):
                continue
            rest = [j for j in idx if j not in us]
            for i in range(max_insert + 1):
                for ins in combinations(rest, i):
                    kept = [wording[j] for j in rest if j not in ins]
                    if any(wording[j] not in admitted for j in (*us, *ins)):
                        continue
                    if all(w in seed or w in core for w in kept) and len(set(seed) - set(kept)) == u:
                        return True
    return False


from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_words = st.lists(st.sampled_from("abcdefg"), min_size=0, max_size=6)


@settings(max_examples=400, deadline=None)
@given(seed=st.lists(st.sampled_from("abcde"), min_size=1, max_size=4), wording=_words,
       core=st.sets(st.sampled_from("abcdefg"), max_size=2), admitted=st.sets(st.sampled_from("abcdefg"), max_size=5))
def test_core_match_equals_brute_force(seed, wording, core, admitted):
    from analysis.formulae.match import core_match

    got = core_match(seed, wording, core, admitted)
    assert (got is not None) == _oracle(seed, wording, core, admitted)
    if got is not None:
        kind, changes = got
        assert (kind in ("exact", "permutation")) == (changes == [])


_case = st.tuples(st.lists(st.sampled_from("abcde"), min_size=1, max_size=4), _words,
                  st.sets(st.sampled_from("abcdefg"), max_size=2), st.sets(st.sampled_from("abcdefg"), max_size=5))


_permuted = st.lists(st.sampled_from("abcde"), min_size=2, max_size=4, unique=True).flatmap(
    lambda seed: st.tuples(st.just(seed), st.permutations(seed), st.just(set()), st.just(set())))  # exact or permuted


@settings(max_examples=300, deadline=None)
@given(cases=st.lists(st.one_of(_case, _permuted), min_size=1, max_size=5))
@example(cases=[(["a", "b", "c"], ["c", "a", "b"], set(), set()), (["a", "b"], ["a", "b"], set(), set()),
                (["a", "b"], ["a", "f", "b"], set(), {"f"})])
def test_match_table_equals_core_match(cases):
    """The table version the corpora use (several seeds at once, their roles from
    ``core_roles``, a wording each; permutations drawn on purpose): ``ok`` where
    ``core_match`` matches, then its kind and its changes in order."""
    from analysis.formulae.match import core_match, core_roles, match_table

    fid = {w: k for k, w in enumerate("abcdefg")}
    seed_tok = pl.DataFrame([(s, fid[w], i) for s, (seed, *_) in enumerate(cases) for i, w in enumerate(seed)],
                            schema={"seed": pl.UInt32, "fid": pl.Int64, "i": pl.Int64}, orient="row")
    core = pl.DataFrame([(s, fid[w]) for s, (_, _, c, _) in enumerate(cases) for w in sorted(c)],
                        schema={"seed": pl.UInt32, "fid": pl.Int64}, orient="row")
    adm = pl.DataFrame([(s, fid[w]) for s, (*_, a) in enumerate(cases) for w in sorted(a)],
                       schema={"seed": pl.UInt32, "fid": pl.Int64}, orient="row")
    tokens = pl.DataFrame([(s, s, fid[w], i) for s, (_, wording, _, _) in enumerate(cases)
                           for i, w in enumerate(wording)],
                          schema={"g": pl.Int64, "seed": pl.UInt32, "fid": pl.Int64, "i": pl.Int64}, orient="row")
    got = match_table(tokens, core_roles(seed_tok, core, adm), {"max_insert": 2, "max_subst": 1})
    rows = {r["g"]: r for r in got.iter_rows(named=True)}
    for s, (seed, wording, c, a) in enumerate(cases):
        want = core_match(seed, wording, c, a)
        if not wording:  # a wording of no token is no row
            assert s not in rows
            continue
        assert rows[s]["ok"] == (want is not None), (seed, wording, c, a)
        if want is not None:
            assert (rows[s]["kind"], ["abcdefg"[f] for f in rows[s]["changes"]]) == want


def test_core_match_kinds():
    from analysis.formulae.match import core_match

    s = ["peaceful", "settlement", "disputes"]
    assert core_match(s, s) == ("exact", [])
    assert core_match(s, ["settlement", "disputes", "peaceful"]) == ("permutation", [])
    assert core_match(s, ["peaceful", "settlement", "international", "disputes"]) == ("insertion", ["international"])
    assert core_match(s, ["peaceful", "resolution", "disputes"]) == ("substitution", ["resolution"])
    assert core_match(s, ["peaceful", "disputes"]) is None  # a form dropped, not substituted
    assert core_match(s, ["peaceful", "settlement", "disputes", "a", "b", "c"]) is None  # three insertions
    assert core_match(s, ["peaceful", "settlement", "x", "disputes"], admitted={"y"}) is None  # not admitted
    assert core_match(s, ["all", "peaceful", "settlement", "disputes"], core={"all"}) == ("exact", [])


def test_a_wordings_kind_is_its_first_occurrences():
    """A wording met as an insertion in one statement and as a substitution in another
    (the centre's core is checked at each occurrence) takes the kind and filler of its
    first occurrence, whatever the order of the rows: it took any row's, and ungdc's
    families of five sources' statements differed between two runs."""

    from analysis.formulae.families import _assemble

    def fo(rows: list[tuple]) -> pl.DataFrame:
        return pl.DataFrame(rows, orient="row", schema={
            "fam": pl.UInt32, "variant": pl.String, "kind": pl.String, "filler": pl.String, "orig": pl.UInt32,
            "id": pl.String, "pos": pl.UInt32, "pos_end": pl.UInt32, "sent": pl.UInt32, "start": pl.UInt32,
            "end": pl.UInt32, "centre": pl.Boolean})

    later = (0, "basic human", "substitution", "fundamental", 7, "b", 3, 4, 9, 30, 41, False)
    first = (0, "basic human", "insertion", "basic", 2, "a", 5, 6, 4, 50, 61, False)
    centre = (0, "human", "exact", "", 2, "a", 20, 20, 5, 90, 95, True)
    sig = pl.DataFrame({"lab": [0], "signature": ["human"]}, schema={"lab": pl.UInt32, "signature": pl.String})
    seeds = pl.DataFrame({"seed": [0], "pos": [0], "n": [1], "lab": [0]},
                         schema={"seed": pl.UInt32, "pos": pl.Int64, "n": pl.Int64, "lab": pl.UInt32})
    forms, ids = pl.Series(["human"]), np.zeros(1, np.uint32)
    for order in ([later, first, centre], [first, centre, later], [centre, later, first]):
        got = _assemble(fo(order), sig, seeds, forms, ids).variants.filter(pl.col("variant") == "basic human")
        assert got.select("kind", "filler", "statements").rows() == [("insertion", "basic", 2)]


@pytest.mark.parametrize(("corpus", "share"), [("ungd", 4), ("ungd", 8), ("cn_mfa", 4)])  # cn-mfa: jieba words
def test_a_subsets_families_from_ids_equal_from_forms(corpus, share, request, store, monkeypatch):
    # a subset is counted afresh from numpy columns of the token ids as they are
    # (view.index_columns, or subset_columns of jieba words; view.ids_encoded in
    # subset.subset_scan), its suffixes kept from the index's suffix array (subset.subset_suffix); with the stream's frame joined to the kept statements and
    # sorted, every token's form joined in and encoded again, and the suffixes sorted
    # again, as it was, the families are the same
    from analysis.formulae import families
    from analysis.phrases import subset, suffix
    from analysis.phrases.engine import stream_encode
    from analysis.phrases.view import _stream_from_index

    def frames(toks, content, kept):
        docmap = pl.DataFrame({"doc": kept}).with_row_index("d")
        f = (toks.with_columns(pl.Series("content", content)).join(docmap, on="doc", how="inner")
             .select(pl.col("d").cast(pl.UInt32).alias("doc"), "sent", "pos", "start", "end", "fid", "content")
             .sort("doc", "pos"))
        return {k: f[k].to_numpy() for k in f.columns}

    name = request.getfixturevalue(corpus)
    # three statements of four (their suffixes kept from the index's), or one of eight (sorted)
    where = pl.col("doc") % 4 != 1 if share == 4 else pl.col("doc") % 8 == 1
    new = families_find(name, store=store, where=where, min_statements=5)
    monkeypatch.setattr(families, "subset_columns", frames)
    monkeypatch.setattr(families, "index_columns", lambda ix, kept, content: frames(
        _stream_from_index(ix)[0], content, kept))
    monkeypatch.setattr(subset, "subset_suffix", lambda ix, kept, ids, starts: suffix.suffix_array(ids, starts))
    monkeypatch.setattr(subset, "ids_encoded", lambda columns, vocab: stream_encode(
        pl.DataFrame({k: columns[k] for k in ("doc", "sent", "start", "end", "fid")})
        .join(vocab, on="fid", maintain_order="left")))
    old = families_find(name, store=store, where=where, min_statements=5)
    assert new.frame.height >= 10
    for part in ("frame", "variants", "occurrences"):
        assert getattr(new, part).equals(getattr(old, part)), part
