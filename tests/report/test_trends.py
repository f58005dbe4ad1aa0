"""The overview's "emerging and fading formulae" section: trend tables, and the candidates
that appeared or vanished within the span (golden entries on ungd), escaped."""

from __future__ import annotations

import re

import polars as pl
import pytest

from analysis.report.sections import candidates_result, report_open, section_trends
from analysis.result import Result
from analysis.stats.timeline import stat_emergence


@pytest.fixture(scope="module")
def ungd_trends(ungd, store):
    ctx = report_open(ungd, store=str(store))
    return ctx, section_trends(ctx).markup


def _rows(markup: str, name: str) -> list[list[str]]:
    """The body rows of the table ``name``."""
    part = markup.split(f'id="table-{name}')[1].split("</table>")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", part, re.S)]
    return [r for r in rows if r]  # the header row has no cells


def test_ungd_lists_appeared_and_vanished_formulae(ungd_trends):
    ctx, markup = ungd_trends
    assert 'id="table-emerging' in markup and 'id="table-fading' in markup
    appeared = _rows(markup, "appeared")
    # phrase, first, last, periods, freq, statements, name (years with >= 1,000 tokens: 1946-2024)
    assert appeared[0][:6] == ["two state solution", "2007", "2024", "17", "46", "40"]
    assert {r[0] for r in appeared} == {"two state solution", "east jerusalem as its capital",
                                        "global governance", "win win"}
    vanished = _rows(markup, "vanished")
    row = {r[0]: r for r in vanished}
    assert row["general and complete disarmament"][:6] == ["general and complete disarmament", "1959", "1992",
                                                           "30", "216", "83"]
    # names flagged, never leading: every unflagged row comes before the first name
    flags = [r[-1] for r in vanished]
    assert flags[0] == "False" and flags == sorted(flags)
    assert candidates_result(ctx).params["by"] == "year"


def test_emergence_rule_on_a_small_table():
    periods = [str(y) for y in range(2000, 2009)]  # nine used periods: thirds of three
    def item(name, counts):
        return [{"phrase": name, "period": p, "used": True, "freq": c, "statements": min(c, 1)}
                for p, c in zip(periods, counts, strict=True)]
    rows = (item("late", [0, 0, 0, 0, 0, 0, 0, 2, 1]) + item("gone", [3, 0, 1, 1, 0, 0, 0, 0, 0])
            + item("steady", [1] * 9) + item("middle", [0, 0, 0, 1, 1, 0, 0, 0, 0])
            + item("early-late", [0, 0, 0, 0, 0, 0, 1, 0, 0]))
    out, notes = stat_emergence(pl.DataFrame(rows))
    got = {r["phrase"]: (r["status"], r["first_period"], r["last_period"], r["freq"]) for r in out.to_dicts()}
    assert got == {"late": ("appeared", "2007", "2008", 3), "early-late": ("appeared", "2006", "2006", 1),
                   "gone": ("vanished", "2000", "2003", 5)}
    assert "from 2006" in notes[0]
    short, notes = stat_emergence(pl.DataFrame(rows[:2]))
    assert short.height == 0 and "too few" in notes[0]


def test_section_escapes_untrusted_text(mfa_ar, store):
    ctx = report_open(mfa_ar, store=str(store))
    bad = '<script>alert("x")</script>'
    frame = pl.DataFrame({"id": ["cand-1"], "phrase": [bad], "name": [False], "trend": ["rising"],
                          "statements": [3], "trend_p": [0.01], "slope": [0.5]})
    per = pl.DataFrame({"id": ["cand-1"] * 3, "phrase": [bad] * 3, "period": ["2001", "2002", "2003"],
                        "used": [True] * 3, "freq": [0, 0, 4], "statements": [0, 0, 3]})
    ctx.cache[("candidates", 3000)] = Result(frame, {}, [], {"periods": per})
    markup = section_trends(ctx).markup
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert 'id="table-appeared' in markup and "No candidate vanished within the span." in markup


def test_families_section_shows_kind_and_filler(mfa_ar, store):
    from analysis.report.sections import section_families

    markup = section_families(report_open(mfa_ar, store=str(store))).markup
    head = re.search(r'id="table-family-variants.*?<thead>(.*?)</thead>', markup, re.S).group(1)
    assert re.findall(r"<th>(.*?)</th>", head)[:4] == ["canonical", "variant", "kind", "filler"]
    assert "وحدة وسلامة أراضي وسيادة" in markup and "cohesion" in head
