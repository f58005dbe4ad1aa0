"""Variant families on the sample: the known variants fall in one family each."""

from __future__ import annotations

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
    a = _family_of(fam, "وسلامة أراضي وسيادة الجمهورية العربية السورية")
    b = _family_of(fam, "وحدة الدولة السورية وسيادتها وسلامة أراضيها")
    assert len(a) == 1 and a == b
    fid = a.pop()
    ids = fam.variants.filter(pl.col("family") == fid)["ids"].explode().unique().sort().to_list()
    assert ids == ["mfa-ar:mid.ru:1", "mfa-ar:mid.ru:3"]
    row = fam.get(fid).row(0, named=True)
    assert {"وحد", "سيد", "سلم", "رضي"} <= set(row["signature"].split())


def test_known_variant_pairs(fam):
    # inserted modifier: كامل طيف / الحوار بين السوريين
    spectrum = _family_of(fam, "حوار شامل بمشاركة كامل طيف القوى السياسية")
    assert len(spectrum) == 1 and spectrum == _family_of(fam, "بمشاركة القوى السياسية")
    # inflection: المساعدة / المساعدات
    aid = _family_of(fam, "تقديم المساعدة")
    assert len(aid) == 1 and aid == _family_of(fam, "تقديم المساعدات")
    # different formulae stay apart
    assert _family_of(fam, "تقديم المساعدة") != _family_of(fam, "وحدة الدولة السورية")


def test_frame_columns_and_determinism(fam, mfa_ar, store):
    assert fam.frame.columns == ["family", "canonical", "signature", "statements", "occurrences",
                                 "variants", "cohesion", "seeds"]
    assert fam.variants.columns == ["family", "variant", "statements", "occurrences", "docs", "ids"]
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
