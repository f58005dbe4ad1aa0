"""HTML pieces for reports: the page assets, charts, tables and KWIC lines.

Everything here is what a report notebook *shows*; it runs inside the notebook kernel
(under the built-in renderer and under ``quarto render`` alike), so both paths give the
same page:

- :func:`html_setup` displays, once per page, the CSS (Arabic font stack, RTL rules),
  the Vega / Vega-Lite / vega-embed JavaScript from vl-convert-python's bundle, and the
  small script that draws every chart. It also makes Altair charts display through
  :func:`html_chart`, so a bare ``chart`` at the end of a cell is drawn offline.
- :func:`html_chart` turns an Altair chart into a ``<figure>`` holding the spec as inert
  JSON, a CSV download link per dataset (``data:`` URI) and, when the kernel runs under
  a report build, writes each dataset to ``$FORMULAE_REPORT_DATA/<name>.csv``.
- :func:`html_table` and :func:`html_kwic` render polars frames with every cell escaped;
  Arabic cells and lines get ``dir="rtl"``.

Untrusted text (statement text, titles, sources, phrases) only ever enters HTML through
:func:`esc` (text and attributes) or :func:`json_for_script` (inline JSON), so a statement
containing ``<script>`` shows as text and runs nothing.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..text.grammar import display_inert

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

ENV_DATA = "FORMULAE_REPORT_DATA"
"""Folder where charts and tables write their data as CSV during a report build."""

AR_FONTS = (
    '"Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "Scheherazade New", "Geeza Pro", '
    '"Arabic Typesetting", "Traditional Arabic", "Tahoma", "DejaVu Sans", sans-serif'
)
UI_FONTS = (
    'system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", Arial, '
    '"Noto Naskh Arabic", "Noto Sans Arabic", "Noto Sans CJK SC", sans-serif'
)
#: Noto Sans CJK (Debian ``fonts-noto-cjk``): the Simplified Chinese face of the
#: collection is embedded, subset to the page's characters (:func:`cjk_font_embed`).
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
CJK_FAMILY = "Noto Sans CJK SC"
_CJK_FACE = 2  # Noto Sans CJK SC in the collection (JP, KR, SC, TC, HK, then Mono)
FONT_FILES = (
    "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoNaskhArabic-Regular.ttf",
)
VL_VERSION = "6.4"  # the Vega-Lite major.minor Altair 6 writes; the bundle must match

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
# CJK radicals, punctuation, kana, ideographs, full-width forms, and the supplementary ideographs
_CJK = re.compile(r"[\u2E80-\u9FFF\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFFEF\U00020000-\U0003134F]")
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
_SLUG = re.compile(r"[^a-z0-9]+")
_state: dict[str, Any] = {"ids": {}, "setup": False}


# --- escaping -------------------------------------------------------------------


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute (``& < > " '``); bidi controls
    are shown as inert marks (``⟨U+202E⟩``: :func:`analysis.text.grammar.display_inert`)."""
    return html.escape(display_inert("" if value is None else str(value)), quote=True)


def _inert(obj: Any) -> Any:
    """Every string of a chart spec (labels, tooltips, data) with bidi controls made inert."""
    if isinstance(obj, str):
        return display_inert(obj)
    if isinstance(obj, list):
        return [_inert(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _inert(v) for k, v in obj.items()}
    return obj


def json_for_script(obj: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>``, ``&`` literals."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def is_arabic(text: str | None) -> bool:
    """True when ``text`` contains Arabic-script letters."""
    return text is not None and _ARABIC.search(text) is not None


def is_cjk(text: str | None) -> bool:
    """True when ``text`` contains Chinese / Japanese characters (Han, kana, full-width forms)."""
    return text is not None and _CJK.search(text) is not None


def cjk_font_embed(page: str) -> str:
    """``page`` with an ``@font-face`` for Noto Sans CJK SC, subset to the CJK characters
    the page holds (as text or as ``\\uXXXX`` escapes in inline JSON), so Chinese shows
    offline on a machine without CJK fonts. Unchanged when the page has no CJK character
    or the build machine lacks the font (Debian ``fonts-noto-cjk``; ``.ci/run`` installs it).
    The style goes before ``</head>`` (or first in the page)."""
    chars = set(_CJK.findall(page))
    chars |= {c for c in (chr(int(h, 16)) for h in _ESCAPED.findall(page)) if _CJK.match(c)}
    path = next((Path(p) for p in CJK_FONT_FILES if Path(p).is_file()), None)
    if not chars or path is None:
        return page
    import io

    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=_CJK_FACE, lazy=False)
    options = subset.Options()
    options.layout_features = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted(ord(c) for c in chars))
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    style = (
        f'<style id="fx-cjk-font">@font-face {{ font-family: "{CJK_FAMILY}"; font-style: normal; '
        f'font-weight: 400; src: url(data:font/otf;base64,{data}) format("opentype"); }}</style>\n'
    )
    at = page.find("</head>")
    return page[:at] + style + page[at:] if at >= 0 else style + page


def text_dir(text: str | None) -> str:
    """``rtl`` for Arabic-script text, else ``ltr``."""
    return "rtl" if is_arabic(text) else "ltr"


def slug(name: str) -> str:
    """A lowercase ASCII id from a name (``Statements by year`` -> ``statements-by-year``)."""
    s = _SLUG.sub("-", name.lower()).strip("-")
    return s or "item"


def unique_id(name: str) -> str:
    """A page-unique id: ``name``, then ``name-2``, ``name-3`` ... (per kernel session)."""
    base = slug(name)
    n = _state["ids"].get(base, 0) + 1
    _state["ids"][base] = n
    return base if n == 1 else f"{base}-{n}"


# --- page assets ----------------------------------------------------------------

CSS = """
:root { --fx-ar: AR_FONTS; --fx-ui: UI_FONTS; }
body { font-family: var(--fx-ui); line-height: 1.5; color: #1f2328; }
main.fx-page, body.fx-page { max-width: 1120px; margin: 0 auto; padding: 0 1.25rem 3rem; }
/* Arabic text blocks take the Arabic fonts; not ":lang(ar)", which on a page whose <html>
   is lang="ar" would reach every element, chart text included, and so replace the font
   Vega measured its labels with (they would be cut off at the chart's edge) */
[dir="rtl"], [lang="ar"]:not(html), .fx-ar { font-family: var(--fx-ar); }
.fx-rtl { direction: rtl; text-align: right; font-family: var(--fx-ar); font-size: 1.08em; }
figure.fx-figure { margin: 1.5rem 0; }
figure.fx-figure figcaption { color: #57606a; font-size: .92em; margin-top: .35rem; }
.fx-chart { max-width: 100%; overflow-x: auto; }
.fx-downloads { font-size: .85em; margin: .25rem 0 0; color: #57606a; }
.fx-downloads a { color: #0969da; margin-inline-end: 1em; }
table.fx-table { border-collapse: collapse; margin: .75rem 0; font-size: .92em; }
table.fx-table caption { caption-side: top; text-align: start; color: #57606a; padding: .25rem 0; }
table.fx-table th, table.fx-table td { border-bottom: 1px solid #d0d7de; padding: .3rem .6rem; vertical-align: top; text-align: start; }
table.fx-table th { background: #f6f8fa; font-weight: 600; }
table.fx-table td.fx-num { unicode-bidi: isolate; text-align: end; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.fx-table[dir="rtl"] td, table.fx-table[dir="rtl"] th { font-family: var(--fx-ar); }
.fx-kwic { margin: .4rem 0; padding: .4rem .6rem; border-inline-start: 3px solid #d0d7de; }
.fx-kwic .fx-kwic-meta { font-family: var(--fx-ui); font-size: .8em; color: #57606a; direction: ltr; text-align: left; }
.fx-kwic mark { background: #fff1a8; padding: 0 .1em; }
.fx-note { background: #fff8c5; border: 1px solid #d4a72c; padding: .5rem .75rem; border-radius: 4px; }
.fx-facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.25rem; }
.fx-facts dt { font-weight: 600; } .fx-facts dd { margin: 0; overflow-wrap: anywhere; }
.fx-stamp { color: #57606a; font-size: .8em; border-top: 1px solid #d0d7de; margin-top: 2.5rem; padding-top: .5rem; }
pre.fx-code { background: #f6f8fa; padding: .6rem .8rem; overflow-x: auto; font-size: .85em; }
pre.fx-stream { background: #f6f8fa; padding: .5rem .8rem; font-size: .85em; white-space: pre-wrap; }
pre.fx-stderr { background: #fff8f0; }
.vega-embed { max-width: 100%; }
a.anchor-link { visibility: hidden; text-decoration: none; margin-inline-start: .3em; }
h2:hover a.anchor-link, h3:hover a.anchor-link { visibility: visible; }
""".replace("AR_FONTS", AR_FONTS).replace("UI_FONTS", UI_FONTS)

DRAW_JS = r"""
(function () {
  function draw() {
    var figs = document.querySelectorAll("div.fx-chart[data-fx-spec]");
    figs.forEach(function (el) {
      if (el.getAttribute("data-fx-drawn")) { return; }
      el.setAttribute("data-fx-drawn", "1");
      var src = document.getElementById(el.getAttribute("data-fx-spec"));
      var spec = JSON.parse(src.textContent);
      window.vegaEmbed(el, spec, {
        renderer: "svg",
        actions: { export: true, source: false, compiled: false, editor: false },
        tooltip: { theme: "light" }
      }).then(function () { el.setAttribute("data-fx-ok", "1"); })
        .catch(function (err) {
          el.textContent = "This chart could not be drawn: " + err;
          console.error("formulae chart " + el.id + ": " + err);
        });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
  window.addEventListener("load", draw);
})();
"""


def _font_face() -> str:
    """``@font-face`` embedding Noto Naskh Arabic when the build machine has it."""
    for path in FONT_FILES:
        p = Path(path)
        if p.is_file():
            data = base64.b64encode(p.read_bytes()).decode("ascii")
            return (
                '@font-face { font-family: "Noto Naskh Arabic"; font-style: normal; font-weight: 400; '
                'src: local("Noto Naskh Arabic"), local("NotoNaskhArabic-Regular"), '
                f'url(data:font/ttf;base64,{data}) format("truetype"); }}\n'
            )
    return ""


def _script_safe(js: str) -> str:
    """Make JavaScript safe to inline: no ``</script`` or ``<!--`` can close the tag early."""
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return js.replace("<!--", "<\\!--")


def vega_bundle() -> str:
    """The Vega + Vega-Lite + vega-embed bundle from vl-convert-python (no network).

    Bundling takes seconds, so the result is cached in ``<store>/_cache/`` under a name
    holding the vl-convert and Vega-Lite versions (the bundle is fixed by them).
    """
    import vl_convert as vlc

    from ..store import atomic_file, store_root

    version = getattr(vlc, "__version__", "unknown")
    path = store_root() / "_cache" / f"vega-bundle-{version}-vl{VL_VERSION}.js"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    js = _script_safe(vlc.javascript_bundle(vl_version=VL_VERSION))  # type: ignore[call-arg]  # snippet is optional at run time
    try:
        with atomic_file(path, "w") as fh:
            fh.write(js)
    except OSError:  # a read-only store still renders, just slower
        pass
    return js


def page_assets(*, arabic: bool = True) -> str:
    """The ``<style>`` and ``<script>`` blocks a report page needs, exactly once."""
    fonts = _font_face() if arabic else ""
    return (
        f'<style id="fx-style">\n{fonts}{CSS}</style>\n'
        f'<script id="fx-vega-bundle">\n{vega_bundle()}\n</script>\n'
        f'<script id="fx-draw">{DRAW_JS}</script>\n'
    )


# --- display inside a notebook --------------------------------------------------


class HtmlBlock:
    """A minimal displayable: ``text/html`` only (no IPython import needed to build it)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def html_setup(*, arabic: bool = True) -> HtmlBlock:
    """Page assets plus Altair set to draw through :func:`html_chart`; show it once, first."""
    import altair as alt

    def _render(spec: dict, **_meta: Any) -> dict:
        return {"text/html": html_chart_spec(spec)}

    alt.renderers.register("formulae", _render)
    alt.renderers.enable("formulae")
    if _state["setup"]:  # the assets go on a page once
        return HtmlBlock("")
    _state["ids"] = {}
    _state["setup"] = True
    return HtmlBlock(page_assets(arabic=arabic))


def show(item: Any, name: str | None = None, caption: str | None = None) -> None:
    """Display a chart, frame or markup in the notebook (``IPython.display``)."""
    from IPython.display import HTML, display

    display(HTML(html_any(item, name=name, caption=caption)))


def html_any(item: Any, *, name: str | None = None, caption: str | None = None) -> str:
    import polars as pl

    if isinstance(item, pl.DataFrame):
        return html_table(item, name=name, caption=caption)
    if isinstance(item, HtmlBlock):
        return item.markup
    import altair as alt

    if isinstance(item, alt.TopLevelMixin):
        return html_chart(item, name=name, caption=caption)
    return f"<p>{esc(item)}</p>"


def note(message: str) -> HtmlBlock:
    """A visible note, e.g. "not available in this build", escaped."""
    return HtmlBlock(f'<div class="fx-note" role="note">{esc(message)}</div>')


# --- charts ---------------------------------------------------------------------


def _frame_from_records(records: list[dict]) -> pl.DataFrame:
    import polars as pl

    if not records:
        return pl.DataFrame()
    return pl.from_dicts(records, infer_schema_length=None)


_DATE_FORMAT = {"year": "%Y", "month": "%Y-%m", "day": "%Y-%m-%d"}
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}(?:T00:00:00(?:\.0+)?)?$"


def date_unit_set(precision: str | None) -> None:
    """The precision dates are shown at in this page's tables and CSVs (the corpus's
    coarsest: a year-precision corpus shows ``1946``, never ``1946-01-01``)."""
    _state["date_unit"] = precision if precision in _DATE_FORMAT else "day"


def dates_shown(frame: pl.DataFrame) -> pl.DataFrame:
    """Date columns (and the ISO datetime strings chart data carry: ``1946-01-01T00:00:00``)
    as text at the page's date precision (:func:`date_unit_set`)."""
    import polars as pl

    fmt = _DATE_FORMAT[_state.get("date_unit", "day")]
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            out.append(col.dt.strftime(fmt))
        elif dtype == pl.String and frame.height and frame[name].drop_nulls().str.contains(_ISO_DATETIME).all() \
                and frame[name].null_count() < frame.height:
            out.append(col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).dt.strftime(fmt))
    return frame.with_columns(out) if out else frame


def _write_data(name: str, frame: pl.DataFrame) -> None:
    folder = os.environ.get(ENV_DATA)
    if not folder:
        return
    from ..store import atomic_file

    with atomic_file(Path(folder) / f"{name}.csv", "w") as fh:
        fh.write(dates_shown(frame).write_csv())


def _csv_link(label: str, filename: str, frame: pl.DataFrame) -> str:
    # The download carries a BOM so spreadsheet programs read Arabic as UTF-8.
    payload = quote("\ufeff" + dates_shown(frame).write_csv(), safe="")
    return (
        f'<a class="fx-csv" download="{esc(filename)}" '
        f'href="data:text/csv;charset=utf-8,{payload}">{esc(label)}</a>'
    )


def html_chart(chart: Any, *, name: str | None = None, caption: str | None = None) -> str:
    """An Altair chart as an offline ``<figure>``: spec as JSON, CSV link(s), caption."""
    spec = chart.to_dict()
    if name:
        spec["name"] = name
    return html_chart_spec(spec, caption=caption)


def html_chart_spec(spec: dict, *, caption: str | None = None) -> str:
    """Markup for a Vega-Lite spec; its inline datasets become CSV downloads and files."""
    name = spec.get("name") or _title_text(spec.get("title")) or "chart"
    cid = unique_id(name)
    datasets = spec.get("datasets") or {}
    links = []
    for i, key in enumerate(sorted(datasets)):
        frame = _frame_from_records(datasets[key])
        fname = cid if len(datasets) == 1 else f"{cid}-{i + 1}"
        _write_data(fname, frame)
        links.append(_csv_link(f"Data as CSV ({frame.height:,} rows)", f"{fname}.csv", frame))
    desc = spec.get("description") or _title_text(spec.get("title")) or name
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="fx-figure" id="figure-{cid}">'
        f'<div class="fx-chart" id="chart-{cid}" role="img" aria-label="{esc(desc)}" '
        f'data-fx-spec="chart-{cid}-spec"></div>'
        f'<script type="application/json" id="chart-{cid}-spec">{json_for_script(_inert(spec))}</script>'
        f'<p class="fx-downloads">{"".join(links)}</p>{cap}</figure>'
    )


def _title_text(title: Any) -> str | None:
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return None if title is None else str(title)


# --- tables and KWIC --------------------------------------------------------------


def _cell(value: Any, dtype: Any) -> str:
    if value is None:
        return '<td class="fx-null"></td>'
    if dtype.is_numeric():
        text = f"{value:,.3g}" if isinstance(value, float) else f"{value:,}"
        # a number reads left to right even in a right-to-left table (-1.83, not 1.83-)
        return f'<td class="fx-num" dir="ltr">{esc(text)}</td>'
    text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    d = ' dir="rtl"' if is_arabic(text) else ' dir="auto"'
    if is_cjk(text):
        d += ' lang="zh"'
    return f"<td{d}>{esc(text)}</td>"


def html_table(
    frame: pl.DataFrame,
    *,
    name: str | None = None,
    caption: str | None = None,
    rtl: bool | None = None,
    max_rows: int = 200,
) -> str:
    """A polars frame as an escaped HTML table with a CSV download of the whole frame.

    ``rtl=None`` sets ``dir="rtl"`` when any string cell is Arabic. Only the first
    ``max_rows`` rows are shown; the CSV holds them all.
    """
    import polars as pl

    tid = unique_id(name or caption or "table")
    _write_data(tid, frame)
    shown = dates_shown(frame.head(max_rows))
    columns = {c: shown[c].to_list() for c in shown.columns}  # bounded display rows
    if rtl is None:
        rtl = any(
            is_arabic(v)
            for c in shown.columns
            if shown.schema[c] == pl.String
            for v in columns[c][:50]
            if v is not None
        )
    head = "".join(f"<th>{esc(c)}</th>" for c in shown.columns)
    rows = []
    for i in range(shown.height):
        cells = "".join(_cell(columns[c][i], shown.schema[c]) for c in shown.columns)
        rows.append(f"<tr>{cells}</tr>")
    more = (
        f"<p class='fx-downloads'>Showing {max_rows:,} of {frame.height:,} rows.</p>"
        if frame.height > max_rows
        else ""
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    direction = ' dir="rtl"' if rtl else ""
    link = _csv_link(f"Table as CSV ({frame.height:,} rows)", f"{tid}.csv", frame)
    return (
        f'<div class="fx-table-wrap" id="table-{tid}"><table class="fx-table"{direction}>{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f'{more}<p class="fx-downloads">{link}</p></div>'
    )


def html_kwic(frame: pl.DataFrame, *, name: str = "kwic", max_rows: int = 40) -> str:
    """Concordance lines in the original wording, the match highlighted.

    ``frame`` needs ``before``, ``match``, ``after`` (as :func:`analysis.query.kwic_context`
    makes them) and may have ``date``, ``source``, ``id``.
    Each line is one ``<p>`` with ``dir`` set from its text, so Arabic reads right to left
    with the left context on the right.
    """
    kid = unique_id(name)
    _write_data(kid, frame)
    shown = frame.head(max_rows)
    cols = {c: shown[c].to_list() for c in shown.columns}
    lines = []
    for i in range(shown.height):
        left, match, right = cols["before"][i] or "", cols["match"][i] or "", cols["after"][i] or ""
        meta = " · ".join(
            str(cols[c][i]) for c in ("date", "source", "id") if c in cols and cols[c][i] is not None
        )
        d = text_dir(match + left + right)
        lang = ' lang="zh"' if is_cjk(match) else ""
        lines.append(
            f'<div class="fx-kwic" dir="{d}"{lang}><div class="fx-kwic-meta">{esc(meta)}</div>'
            f"<span>… {esc(left)} </span><mark>{esc(match)}</mark><span> {esc(right)} …</span></div>"
        )
    more = (
        f"<p class='fx-downloads'>Showing {max_rows:,} of {frame.height:,} lines.</p>"
        if frame.height > max_rows
        else ""
    )
    link = _csv_link(f"Lines as CSV ({frame.height:,})", f"{kid}.csv", frame)
    return f'<div class="fx-kwic-list" id="lines-{kid}">{"".join(lines)}{more}<p class="fx-downloads">{link}</p></div>'


def html_facts(facts: dict[str, Any]) -> str:
    """A definition list of corpus facts, escaped; Arabic values right-to-left."""
    items = []
    for key, value in facts.items():
        text = f"{value:,}" if isinstance(value, int) else str(value)
        d = ' dir="rtl"' if is_arabic(text) else ""
        items.append(f"<dt>{esc(key)}</dt><dd{d}>{esc(text)}</dd>")
    return f'<dl class="fx-facts">{"".join(items)}</dl>'


def summary_write(frame: pl.DataFrame, *, append: bool = False) -> None:
    """Write the report's ``_summary.csv`` (``formula``, ``statements``) for the index page.

    The index compares it with the previous version of the same report to list the
    formulae that appeared, vanished or moved most. Nothing is shown on the page.
    """
    import polars as pl

    folder = os.environ.get(ENV_DATA)
    if not folder:
        return
    path = Path(folder) / "_summary.csv"
    frame = frame.select(pl.col("formula").cast(pl.String), pl.col("statements").cast(pl.Int64))
    if append and path.is_file():
        frame = pl.concat([pl.read_csv(path, schema={"formula": pl.String, "statements": pl.Int64}), frame])
    frame = frame.unique("formula", keep="first").sort(["statements", "formula"], descending=[True, False])
    from ..store import atomic_file

    with atomic_file(path, "w") as fh:
        fh.write(frame.write_csv())
