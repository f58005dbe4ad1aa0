"""plot_* charts and the HTML pieces of a report page (escaping, RTL, CSV downloads)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.report import html as H
from analysis.report import plots as P


def _datasets(chart) -> list[list[dict]]:
    spec = chart.to_dict()
    return [spec["datasets"][k] for k in sorted(spec.get("datasets", {}))]


def _has_tooltip(spec: dict) -> bool:
    text = json.dumps(spec)
    return '"tooltip"' in text


@pytest.mark.parametrize(
    ("first", "last", "precision", "unit"),
    [
        (date(1946, 9, 1), date(2024, 9, 1), "year", "year"),
        (date(2025, 1, 28), date(2025, 2, 12), "day", "day"),
        (date(2015, 7, 21), date(2015, 8, 11), "day", "day"),
        (date(2015, 7, 21), date(2015, 9, 30), "day", "week"),
        (date(2020, 1, 1), date(2020, 12, 31), "day", "month"),
        (date(2020, 1, 1), date(2023, 12, 31), "day", "quarter"),
        (date(2020, 1, 1), date(2020, 2, 1), "month", "month"),  # never finer than the dates
        (None, None, None, "year"),
    ],
)
def test_period_auto(first, last, precision, unit):
    assert P.period_auto(first, last, precision) == unit


def test_plot_statements_counts_and_folds_sources():
    frame = pl.DataFrame({
        "date": [date(2020, 1, 5), date(2020, 1, 20), date(2020, 2, 1), date(2021, 3, 1), None],
        "source": ["a", "a", "b", "c", "a"],
        "date_precision": ["day", "day", "day", "day", "none"],
    })
    chart = P.plot_statements(frame, by="month", top_sources=2)
    spec = chart.to_dict()
    assert spec["name"] == "statements-by-period" and _has_tooltip(spec)
    assert "1 undated" in spec["description"]
    rows = {(r["period"][:7], r["source"]): r["statements"] for r in _datasets(chart)[0]}
    # the two largest sources kept (a: 3, then b/c tie broken by name -> b), c folded into (other)
    assert rows == {("2020-01", "a"): 2, ("2020-02", "b"): 1, ("2021-03", P.OTHER): 1}


def test_plot_top_formulae_sorts_with_ties_and_limits():
    frame = pl.DataFrame({"label": ["b", "a", "c", "d"], "statements": [2, 2, 5, 1], "occurrences": [3, 4, 5, 1]})
    chart = P.plot_top_formulae(frame, top=3)
    assert [r["label"] for r in _datasets(chart)[0]] == ["c", "a", "b"]
    assert _has_tooltip(chart.to_dict())


def test_plot_keyness_picks_both_sides_and_marks_significance():
    frame = pl.DataFrame({
        "item": ["x", "y", "z", "w", "v"],
        "log_ratio": [3.0, -2.0, 0.5, -4.0, 0.0],
        "g2": [20.0, 11.0, 1.0, 3.0, 0.0],
    })
    rows = _datasets(P.plot_keyness(frame, top=1, a="A", b="B"))[0]
    assert {(r["item"], r["side"], r["significance"]) for r in rows} == {
        ("x", "more in B", "p < .001"), ("w", "more in A", "not significant at .001")}


def test_plot_heatmap_timeline_dispersion_reuse_have_data_and_tooltips():
    cells = pl.DataFrame({"label": ["f", "f", "g"], "period": [date(2000, 1, 1), date(2001, 1, 1), date(2000, 1, 1)],
                          "per_10k": [1.0, 2.0, 0.5], "statements": [1, 2, 1]})
    tl = cells.with_columns(pl.col("per_10k").alias("per_10k_lo"), pl.col("per_10k").alias("per_10k_hi"))
    occ = pl.DataFrame({"label": ["f", "f"], "order": [1, 3], "position": [0.1, 0.9], "id": ["s1", "s3"],
                        "date": ["2000", "2001"], "source": ["A", "B"]})
    pairs = pl.DataFrame({"a": ["s1", "s2"], "b": ["s2", "s1"], "shared": [3, 3], "formulae": ["f; g", "f; g"]})
    for chart, name, n in ((P.plot_heatmap(cells), "formula-period-heatmap", 3),
                           (P.plot_timeline(tl), "timeline", 3),
                           (P.plot_dispersion(occ), "dispersion", 2),
                           (P.plot_reuse(pairs), "reuse-matrix", 2)):
        spec = chart.to_dict()
        assert spec["name"] == name and _has_tooltip(spec)
        assert len(_datasets(chart)[0]) == n


# --- HTML pieces --------------------------------------------------------------------


@given(st.text())
def test_json_for_script_is_inert_and_round_trips(text):
    out = H.json_for_script({"t": text})
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"t": text}


@given(st.text() | st.text(alphabet="a<&\u202a\u202e\u2066\u2069\u200f"))
def test_esc_leaves_no_markup(text):
    """No markup character survives, and unescaping gives the text back with its bidi
    controls shown as inert marks (esc's promise), everything else unchanged."""
    import html

    from analysis.text.grammar import display_inert

    out = H.esc(text)
    assert not set("<>\"'") & set(out)
    assert html.unescape(out) == display_inert(text)
    assert not set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") & set(out)  # no raw control


def test_script_safe_neutralises_closing_tags():
    js = 'var s = "</script><script>alert(1)</SCRIPT>"; // <!-- x'
    out = H._script_safe(js)
    assert "</script" not in out.lower() and "<!--" not in out


def test_html_table_escapes_and_sets_rtl(tmp_path, monkeypatch):
    monkeypatch.setenv(H.ENV_DATA, str(tmp_path))
    frame = pl.DataFrame({"text": ["<b>x</b>", "سيادة الدولة"], "n": [1, 20000]})
    out = H.html_table(frame, name="t<1>")
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out
    assert '<table class="fx-table" dir="rtl">' in out and '<td dir="rtl">سيادة الدولة</td>' in out
    assert '<td class="fx-num" dir="ltr">20,000</td>' in out  # numbers isolated left to right
    written = (tmp_path / "t-1.csv").read_text(encoding="utf-8")
    assert written == frame.write_csv()
    link = out.split('href="data:text/csv;charset=utf-8,')[1].split('"')[0]
    assert unquote(link) == "\ufeff" + written  # the download is the same table (with a BOM)


def test_html_chart_writes_its_data_and_escapes_spec(tmp_path, monkeypatch):
    monkeypatch.setenv(H.ENV_DATA, str(tmp_path))
    H._state["ids"] = {}
    frame = pl.DataFrame({"label": ["</script><script>alert(1)</script>"], "statements": [1]})
    out = H.html_chart(P.plot_top_formulae(frame), caption="cap <i>")
    assert "<script>alert" not in out and "\\u003c/script\\u003e" in out
    assert "<figcaption>cap &lt;i&gt;</figcaption>" in out
    assert 'id="chart-top-formulae"' in out
    assert (tmp_path / "top-formulae.csv").read_text(encoding="utf-8").startswith("label,statements")
    again = H.html_chart(P.plot_top_formulae(frame))
    assert 'id="chart-top-formulae-2"' in again  # ids stay unique on a page


def test_html_kwic_is_rtl_for_arabic_and_escaped():
    frame = pl.DataFrame({"date": ["2025-01-28"], "source": ["mid.ru"], "id": ["a"],
                          "before": ["أكد <script>"], "match": ["سلامة أراضي"], "after": ["سوريا"]})
    out = H.html_kwic(frame)
    assert '<div class="fx-kwic" dir="rtl">' in out and "<mark>سلامة أراضي</mark>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_page_assets_inline_the_vega_bundle_once(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMULAE_STORE", str(tmp_path))
    assets = H.page_assets(arabic=True)
    assert list((tmp_path / "_cache").glob("vega-bundle-*.js"))

    def no_bundling(**_):
        raise AssertionError("the bundle was built again instead of read from the cache")

    monkeypatch.setattr("vl_convert.javascript_bundle", no_bundling)
    assert H.page_assets(arabic=True) == assets  # second call from the cache
    assert assets.count("<script") == 2 and "vegaEmbed" in assets
    assert "http://" not in assets.split("<script")[0]
    has_font = any(Path(f).is_file() for f in H.FONT_FILES)
    assert ("@font-face" in assets) == has_font  # Noto Naskh Arabic embedded when the machine has it
    assert "@font-face" not in H.page_assets(arabic=False)
