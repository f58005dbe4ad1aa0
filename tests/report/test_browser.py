"""Browser test: every report opens offline in headless Chromium and draws every chart.

Debian's ``chromium`` (installed by ``.ci/run``) is driven by playwright; all requests that
leave the file are aborted and recorded. Skipped only when chromium is absent.
"""

from __future__ import annotations

import pytest

from analysis.report.browser import chromium_path, page_check

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_path() is None,
                       reason="no chromium on PATH (Debian package `chromium`; .ci/run installs it)"),
]


def _check(build, arabic: bool, hover: str | None = None):
    shot = build.folder / "screenshot.png"
    check = page_check(build.html, shot, hover=hover)
    assert check.charts, "the report has no charts"
    for chart in check.charts:
        assert chart["ok"] and (chart["svg"] or chart["canvas"]), f"chart not drawn: {chart}"
        assert chart["clipped"] == [], f"text cut off at the chart's edge: {chart}"
    assert check.console_errors == []
    assert check.requests_blocked == [], "the page tried to reach the network"
    assert check.dialogs == []
    if arabic:
        assert check.rtl_blocks, "no Arabic text in an RTL container"
        assert all(b["direction"] == "rtl" for b in check.rtl_blocks)
    assert shot.is_file() and shot.stat().st_size > 10_000
    return check


def test_mfa_overview_in_browser(mfa_overview):
    check = _check(mfa_overview, arabic=True, hover="chart-top-formulae")
    assert "statements" in check.tooltip and "occurrences" in check.tooltip  # charts have tooltips


def test_xss_page_runs_nothing(xss_overview):
    check = _check(xss_overview, arabic=True, hover="chart-statements-by-source")
    assert "<b onmouseover=alert(3)>evil</b>" in check.tooltip  # the tooltip shows the markup as text
    assert '<script>alert("xss-text")</script>' in check.text  # shown as text
    assert check.dialogs == []  # and nothing ran


def test_mfa_formula_in_browser(mfa_formula):
    _check(mfa_formula, arabic=True)


def test_ungd_formula_in_browser(ungd_formula):
    check = _check(ungd_formula, arabic=False)
    assert len(check.charts) == 5  # rate, share, by source, wordings, dispersion
    assert "territorial integrity" in check.text.lower()


def test_ungd_overview_in_browser(ungd_overview):
    """Every default report is opened: the ungd overview is the one with the most charts."""
    check = _check(ungd_overview, arabic=False, hover="chart-top-formulae")
    assert len(check.charts) >= 8
    assert "occurrences" in check.tooltip


# --- spoofed display (issue 11, items 12 and 13) -----------------------------------------

# Where each character of an element's text is drawn: x of the left edge of each glyph.
GLYPH_X_JS = """
() => Object.fromEntries(Array.from(document.querySelectorAll('[data-probe]')).map(el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const xs = [];
  let node;
  while ((node = walker.nextNode())) {
    for (let i = 0; i < node.data.length; i++) {
      const r = document.createRange();
      r.setStart(node, i); r.setEnd(node, i + 1);
      const box = r.getBoundingClientRect();
      xs.push([node.data[i], box.left]);
    }
  }
  return [el.getAttribute('data-probe'), xs];
}))
"""


def _probe_page(tmp_path, body: str):
    from analysis.report.html import page_assets

    page = tmp_path / "probe.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'>{page_assets(arabic=True)}</head>"
                    f"<body>{body}</body></html>", encoding="utf-8")
    return page_check(page, tmp_path / "probe.png", evaluate=GLYPH_X_JS)


def _order(xs, chars: str) -> list[float]:
    """x of the first glyph of each of ``chars`` (in that order)."""
    found = {}
    for ch, x in xs:
        found.setdefault(ch, x)
    return [found[c] for c in chars]


def test_bidi_controls_are_inert_in_html(tmp_path):
    """Before: U+202E reached the HTML raw and drew 'Title 11 ((31)trela:tpircsavaj)[x]'."""
    import polars as pl

    from analysis.report.html import html_kwic, html_table

    spoof = "Title 11 [x](\u202ejavascript:alert(13)) end"
    table = html_table(pl.DataFrame({"title": [spoof], "n": [1]}), name="spoof")
    kwic = html_kwic(pl.DataFrame({"date": ["2020"], "source": ["s"], "id": ["i"], "before": ["Title 11 [x]("],
                                   "match": ["\u202ejavascript"], "after": [":alert(13)) end"]}), name="spoof-kwic")
    assert "\u202e" not in table + kwic and "⟨U+202E⟩" in table and "⟨U+202E⟩" in kwic
    body = table.replace("<table", "<table data-probe='table'", 1) + kwic.replace(
        '<div class="fx-kwic"', "<div data-probe='kwic' class=\"fx-kwic\"", 1)
    check = _probe_page(tmp_path, body)
    for probe in ("table", "kwic"):
        xs = check.evaluated[probe]
        j, a, v = _order(xs, "jav")
        assert j < a < v, f"{probe}: 'javascript' is drawn reversed"
    assert "⟨U+202E⟩javascript" in check.text


def test_numbers_read_left_to_right_in_rtl_tables(tmp_path):
    """Before: -1.83 in an Arabic (dir=rtl) table displayed as 1.83-."""
    import polars as pl

    from analysis.report.html import html_table

    table = html_table(pl.DataFrame({"الصيغة": ["سلامة أراضي"], "log_ratio": [-1.83]}), name="rtl-numbers")
    assert 'dir="rtl"' in table
    check = _probe_page(tmp_path, table.replace('<td class="fx-num"', '<td data-probe="num" class="fx-num"', 1))
    minus, one, eight = _order(check.evaluated["num"], "-18")
    assert minus < one < eight, "the number is not drawn left to right"
def test_compare_page_renders_chinese(cn_compare):
    """cn-mfa beside ungd: lang="zh", the CJK font embedded, Chinese wordings shown."""
    page = cn_compare.html.read_text(encoding="utf-8")
    assert '<html lang="zh"' in page
    assert 'id="fx-cjk-font"' in page and "Noto Sans CJK SC" in page
    check = _check(cn_compare, arabic=False)
    assert len(check.charts) == 1  # rates over time, both sides
    assert "主权和领土完整" in check.text and "sovereignty and territorial integrity" in check.text


def test_cn_mfa_overview_in_browser(cn_overview):
    """A Chinese corpus's overview: lang="zh", the CJK font embedded, every chart drawn."""
    page = cn_overview.html.read_text(encoding="utf-8")
    assert '<html lang="zh"' in page and 'id="fx-cjk-font"' in page
    assert 'lang="zh"' in page.split("</head>", 1)[1]  # Chinese cells and lines marked
    check = _check(cn_overview, arabic=False)
    assert len(check.charts) >= 8
    assert "人类命运共同体" in check.text
