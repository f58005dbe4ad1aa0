"""Report builds: built-in render of the real mfa-ar overview, versioning, index, XSS, chunk options."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from analysis.errors import FormulaeError
from analysis.report.build import (
    report_build,
    report_changes,
    report_damage,
    report_index,
    report_params,
    report_version,
    report_versions,
)
from analysis.store import read_json

# --- the real sample, rendered through the built-in path ----------------------------


def test_mfa_overview_renders_offline_page(mfa_overview):
    r = mfa_overview
    assert not r.reused and r.manifest["renderer"] == "builtin"
    page = r.html.read_text(encoding="utf-8")
    assert '<html lang="ar"' in page  # the corpus language, not a default
    # the Vega bundle is inlined exactly once; nothing is loaded from elsewhere
    assert page.count('id="fx-vega-bundle"') == 1
    assert page.count("vegaEmbed") >= 1
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", page, re.I)
    assert "Content-Security-Policy" in page
    # every chart has its spec and a CSV download; the Arabic facts and tables are RTL
    charts = re.findall(r'<div class="fx-chart" id="chart-([^"]+)"', page)
    assert set(charts) == {"statements-by-period", "statements-by-source", "statement-lengths",
                           "top-formulae", "top-families",
                           "timeline", "formula-period-heatmap", "keyness", "dispersion", "reuse-matrix"}
    assert "not available in this build" not in page
    for cid in charts:
        assert f'id="chart-{cid}-spec"' in page
    assert page.count('href="data:text/csv;charset=utf-8,') >= len(charts)
    assert re.search(r'<table class="fx-table" dir="rtl">', page)
    # KWIC lines in the original wording, right to left, the match highlighted
    assert re.search(r'<div class="fx-kwic" dir="rtl">.*?<mark>[\u0600-\u06FF ]+</mark>', page)
    # chunk options: the notebook hides code (execute: echo false) and the parameters cell
    assert "report_open(" not in page and "corpus = " not in page
    assert re.search(r'<figure class="fx-cell" id="fig-statements">.*?<figcaption>Figure 1: ', page, re.S)


def test_manifest_records_inputs_and_versions(mfa_overview, mfa_ar, store):
    from analysis.ingest.snapshot import corpus_manifest

    m = read_json(mfa_overview.folder / "manifest.json")
    assert m["version"] == mfa_overview.version == mfa_overview.folder.name
    assert m["snapshot_sha256"] == corpus_manifest(mfa_ar, store=store)["snapshot_sha256"]
    assert m["params"] == {"corpus": "mfa-ar"} and m["corpus"] == "mfa-ar"
    assert re.fullmatch(r"[0-9a-f]{64}", m["code_version"])
    assert m["version"] == report_version("overview", m["params"], m["snapshot_sha256"], m["code_version"])
    for pkg in ("polars", "altair", "vl-convert-python", "nbclient", "python", "vega", "vega-lite"):
        assert m["packages"][pkg]
    assert "commit" in m["git"] and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["build_time"])
    assert "overview.html" in m["files"]
    assert m["notes"] == [  # every visible note is recorded (two statements: no trend to test)
        "One source only: no source comparison.",
        "No candidate has a significant monotonic trend (or the corpus has too few periods).",
    ]
    assert "data/statements-by-period.csv" in m["data_tables"]
    stmts = (mfa_overview.folder / "data" / "statements-by-period.csv").read_text().splitlines()
    assert stmts[0] == "period,source,statements" and len(stmts) == 3  # two posts on two days


def test_mfa_overview_tables_show_the_sample_formulae(mfa_overview):
    import polars as pl

    data = mfa_overview.folder / "data"
    formulae = pl.read_csv(data / "formulae.csv")
    both = set(formulae.filter(pl.col("statements") == 2)["formula"].to_list())
    assert {"territorial-integrity", "political-forces", "ethnic-religious-groups"} <= both
    pairs = pl.read_csv(data / "reuse-pairs.csv")
    assert pairs.height == 1  # the two posts, linked through the shared formulae
    shared = pairs["formulae"][0]
    for label in ("territorial integrity", "political forces", "confessional"):
        assert label in shared.lower(), label
    kwic = pl.read_csv(data / f"kwic-{formulae['formula'][0]}.csv")
    assert kwic.height >= 2 and kwic["date"].to_list() == sorted(kwic["date"].to_list())
    assert kwic.columns == ["date", "source", "id", "before", "match", "after"]  # as the CLI


@pytest.mark.parametrize("damage", ["cut", "changed", "lost"])
def test_a_damaged_report_is_built_again(mfa_overview, mfa_ar, store, tmp_path, monkeypatch, damage):
    """A built report whose page or data table was cut short, changed or lost since (the
    SHA-256 its manifest records) is not reused: it is built again, with a message."""
    monkeypatch.setattr("analysis.report.build.code_version", lambda: mfa_overview.manifest["code_version"])
    out = tmp_path / "out"
    shutil.copytree(mfa_overview.folder, out / mfa_overview.version)
    folder = out / mfa_overview.version
    name = mfa_overview.manifest["data_tables"][0] if damage == "changed" else "overview.html"
    if damage == "cut":
        os.truncate(folder / name, 100)
    elif damage == "changed":
        (folder / name).write_text((folder / name).read_text(encoding="utf-8").replace("1", "2"), encoding="utf-8")
    else:
        (folder / name).unlink()
    why = {"cut": f"{name} changed since it was built", "changed": f"{name} changed since it was built",
           "lost": f"{name} is missing"}[damage]
    assert report_damage(folder) == why
    said: list[str] = []
    again = report_build("overview", mfa_ar, store=store, out=out, progress=said.append)
    assert not again.reused and again.version == mfa_overview.version
    assert f"overview mfa-ar: version {mfa_overview.version} was damaged ({why}): building it again" in said
    assert report_damage(folder) is None
    assert again.manifest["files"][name] == mfa_overview.manifest["files"][name] or name == "overview.html"
    assert report_build("overview", mfa_ar, store=store, out=out).reused


def test_same_inputs_same_version_and_identical_tables(mfa_overview, mfa_ar, store, tmp_path, monkeypatch):
    # Same inputs: same snapshot, parameters and code (others may edit the shared tree while
    # the suite runs, so the code version is pinned to the one the first build used).
    monkeypatch.setattr("analysis.report.build.code_version", lambda: mfa_overview.manifest["code_version"])
    again = report_build("overview", mfa_ar, store=store, out=mfa_overview.folder.parent)
    assert again.reused and again.version == mfa_overview.version
    forced = report_build("overview", mfa_ar, store=store, out=tmp_path, force=True)
    assert forced.version == mfa_overview.version and not forced.reused
    assert forced.manifest["data_tables"] == mfa_overview.manifest["data_tables"]
    for name in forced.manifest["data_tables"]:
        assert forced.manifest["files"][name] == mfa_overview.manifest["files"][name], name
    # a different parameter is a different version
    assert forced.manifest["params"] == report_params("overview", "mfa-ar")
    other = report_version("overview", report_params("overview", "mfa-ar", level="stem"),
                           forced.manifest["snapshot_sha256"], forced.manifest["code_version"])
    assert other != forced.version


def test_code_version_follows_the_tracked_files(tmp_path, monkeypatch):
    import analysis.report.build as R

    src = tmp_path / "analysis" / "x.py"
    src.parent.mkdir()
    src.write_text("a = 1\n")
    monkeypatch.setenv("FORMULAE_PROJECT", str(tmp_path))
    monkeypatch.setattr(R, "code_files", lambda: [src])
    before = R.code_version()
    assert R.code_version() == before  # deterministic
    src.write_text("a = 2\n")
    assert R.code_version() != before  # any edit of a tracked file is a new code version


def test_unknown_corpus_and_report_are_clean_errors(store):
    with pytest.raises(FormulaeError, match="nope"):
        report_build("overview", "nope", store=store, out=store / "_b")
    with pytest.raises(FormulaeError, match="unknown report 'bogus'"):
        report_build("bogus", "mfa-ar", store=store, out=store / "_b")


# --- index page and what changed -----------------------------------------------------


def _fake_version(root: Path, version: str, built: str, summary: dict[str, int] | None,
                  corpus: str = "c") -> None:
    folder = root / version
    (folder / "data").mkdir(parents=True)
    files = {}
    if summary is not None:
        rows = "".join(f"{k},{v}\n" for k, v in summary.items())
        (folder / "data" / "_summary.csv").write_text("formula,statements\n" + rows, encoding="utf-8")
        files["data/_summary.csv"] = version
    m = {"version": version, "report": "overview", "corpus": corpus, "params": {"corpus": corpus},
         "build_time": built, "snapshot_sha256": "s" * 64, "corpus_rows": 3, "title": "T",
         "git": {"commit": "abc"}, "files": files}
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def test_index_lists_versions_newest_first_with_changes(tmp_path):
    _fake_version(tmp_path, "v1", "2026-01-01T00:00:00Z", {"a b": 9, "c d": 5, "gone": 4, "e": 1})
    _fake_version(tmp_path, "v2", "2026-02-01T00:00:00Z", {"c d": 9, "a b": 8, "new <x>": 7, "e": 1})
    _fake_version(tmp_path, "v0", "2025-12-01T00:00:00Z", None, corpus="other")
    index = report_index(tmp_path).read_text(encoding="utf-8")
    assert [m["version"] for m in report_versions(tmp_path)] == ["v2", "v1", "v0"]
    table = index.split('<table id="versions">')[1]
    assert table.index("v2/overview.html") < table.index("v1/overview.html") < table.index("v0/overview.html")
    assert "appeared:" in index and "new &lt;x&gt;" in index and "new <x>" not in index
    assert "vanished:" in index and "gone" in index
    assert "c d (+1)" in index and "a b (-1)" in index
    assert index.count("first version of this report") == 2
    latest = index.split("<ul id='latest'>")[1].split("</ul>")[0]
    assert "v2/overview.html" in latest and "v0/overview.html" in latest and "v1/" not in latest


def test_real_builds_are_listed_in_the_index(mfa_overview, mfa_formula):
    index = (mfa_overview.folder.parent / "index.html").read_text(encoding="utf-8")
    assert f"{mfa_overview.version}/overview.html" in index and f"{mfa_formula.version}/formula.html" in index


def test_report_changes_oracle():
    old = {"a": 1, "b": 2, "c": 3, "d": 4}
    new = {"d": 1, "a": 2, "e": 3}
    ch = report_changes(old, new)
    assert ch["appeared"] == ["e"] and ch["vanished"] == ["b", "c"]
    assert ch["moved"] == ["d (+3)", "a (-1)"]
    assert report_changes(None, new) == {"appeared": [], "vanished": [], "moved": []}


# --- XSS: untrusted statement text shows as text ------------------------------------


def test_xss_statement_text_is_escaped(xss_overview):
    page = xss_overview.html.read_text(encoding="utf-8")
    for needle in ('alert("xss-text")', 'alert("xss-title")', "alert(2)", "alert(3)"):
        assert needle.replace('"', "&quot;") in page or needle in page  # the text is there...
    assert "<script>alert" not in page  # ...but never as markup
    assert "<img src=x" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(&quot;xss-text&quot;)&lt;/script&gt;" in page
    # the KWIC line around the formula carries the markup as text too
    kwic = re.search(r'<div class="fx-kwic" dir="rtl">.*?</div></div>', page, re.S)
    assert kwic and "&lt;img src=x onerror=alert(2)&gt;" in kwic.group(0)
    # inside chart specs the same strings are JSON with < and > as \\u003c / \\u003e
    assert "\\u003cb onmouseover=alert(3)\\u003e" in page


# --- the built-in renderer's chunk options ------------------------------------------


QMD = '''---
title: "Chunk <options>"
execute:
  echo: true
---

Intro *text*.

```{python}
#| tags: [parameters]
#| include: false
x = 1
```

```{python}
#| echo: false
print("shown-output", x)
```

```{python}
print("echoed-code")
```

```{python}
#| include: false
print("hidden-everything")
```

```{python}
#| output: false
print("hidden-output")
```

```{python}
#| label: fig-demo
#| fig-cap: "A demo <caption>"
#| echo: false
print("in-figure")
```
'''


def _render(tmp_path: Path, text: str, params: dict | None = None) -> str:
    from analysis.report.render import render_builtin

    qmd = tmp_path / "t.qmd"
    qmd.write_text(text, encoding="utf-8")
    out = tmp_path / "t.html"
    render_builtin(qmd, params or {}, out_html=out, env={}, stamp="<footer>stamp</footer>")
    return out.read_text(encoding="utf-8")


def test_builtin_renderer_honours_chunk_options(tmp_path):
    page = _render(tmp_path, QMD, {"x": 42})
    assert "<title>Chunk &lt;options&gt;</title>" in page and "<em>text</em>" in page
    assert "shown-output 42" in page and 'print("shown-output"' not in page  # echo: false
    assert "echoed-code" in page and "print" in page  # echo: true from front matter
    assert "hidden-everything" not in page  # include: false
    assert "hidden-output</pre>" not in page and "hidden-output" in page  # output: false keeps code
    assert re.search(r'<figure class="fx-cell" id="fig-demo">.*in-figure.*'
                     r"<figcaption>Figure 1: A demo &lt;caption&gt;</figcaption></figure>", page, re.S)
    assert "x = 1" not in page and "<footer>stamp</footer>" in page


def test_failing_cell_names_qmd_line(tmp_path):
    bad = '---\ntitle: t\n---\n\n```{python}\n#| tags: [parameters]\ny = 0\n```\n\n```{python}\n1 / y\n```\n'
    with pytest.raises(FormulaeError, match=r"t\.qmd:10: notebook cell failed: ZeroDivisionError"):
        _render(tmp_path, bad)
    with pytest.raises(FormulaeError, match="unknown report parameter"):
        _render(tmp_path, bad, {"nope": 1})


def test_formula_drilldown_shows_both_wordings(mfa_formula):
    import polars as pl

    m = mfa_formula.manifest
    assert m["report"] == "formula" and m["params"] == {"corpus": "mfa-ar", "formula": "territorial-integrity"}
    data = mfa_formula.folder / "data"
    words = pl.read_csv(data / "wordings-table.csv")
    # the sample's two wordings of unity / sovereignty / territorial integrity, one per post
    assert words.height == 2 and words["statements"].to_list() == [1, 1]
    joined = " | ".join(words["wording"].to_list())
    assert "وحدة وسلامة أراضي وسيادة" in joined and "وسيادتها وسلامة أراضيها" in joined
    kwic = pl.read_csv(data / "formula-kwic.csv")
    assert kwic["date"].to_list() == ["2025-01-28", "2025-02-12"]
    page = mfa_formula.html.read_text(encoding="utf-8")
    assert "not available in this build" not in page
    assert (data / "_summary.csv").is_file()


def test_formula_unknown_is_a_clean_error(mfa_ar, store, tmp_path):
    with pytest.raises(FormulaeError, match="unknown formula 'nope'"):
        report_build("formula", mfa_ar, store=store, out=tmp_path, formula="nope")


def test_quarto_is_used_when_on_path(mfa_ar, store, tmp_path, monkeypatch):
    """With a `quarto` on PATH, `auto` renders through it (a stand-in binary records its args)."""
    import os
    import stat

    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "quarto-args.txt"
    fake = bindir / "quarto"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{log}"\n'
        'while [ $# -gt 0 ]; do case "$1" in --output) out="$2";; --output-dir) dir="$2";; esac; shift; done\n'
        'printf "<html><body><p>quarto page</p></body></html>" > "$dir/$out"\n',
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    r = report_build("formula", mfa_ar, store=store, out=tmp_path / "b", formula="mutual-respect")
    assert r.manifest["renderer"] == "quarto"
    args = log.read_text(encoding="utf-8").split("\n")
    assert args[0] == "render" and args[1].endswith("reports/formula.qmd")
    assert "-P" in args and "corpus:mfa-ar" in args and "formula:mutual-respect" in args
    page = r.html.read_text(encoding="utf-8")
    assert "quarto page" in page and 'id="fx-stamp"' in page and r.version in page


def test_chunk_option_errors_name_the_line(tmp_path):
    from analysis.report.render import qmd_read

    qmd = tmp_path / "bad.qmd"
    qmd.write_text("---\ntitle: t\n---\n\ntext\n\n```{python}\n#| echo: [unclosed\nx = 1\n```\n",
                   encoding="utf-8")
    with pytest.raises(FormulaeError, match=r"bad\.qmd:7: bad chunk options"):
        qmd_read(qmd)


def test_missing_upstream_piece_shows_a_note():
    from analysis.report.sections import SectionUnavailable, guarded

    def needs_missing():
        raise SectionUnavailable("no phrase index")

    def buggy():
        return {}["x"]

    out = guarded("Some section", needs_missing)
    assert "Some section: not available in this build (SectionUnavailable: no phrase index" in out.markup
    assert guarded("x", lambda: 42) == 42
    with pytest.raises(KeyError):  # a bug is not hidden behind a note
        guarded("Buggy", buggy)


def test_reuse_frame_leaves_out_formulae_wider_than_max_docs(mfa_ar, store):
    """As ``formulae reuse --max-docs``: a formula in more statements than the cap pairs
    none (k²/2 pairs on a large corpus) and is named instead."""
    from analysis.report import sections as S

    ctx = S.report_open(mfa_ar, store=str(store))
    _, table, wide = S.reuse_frame(ctx)
    assert table.height == 1 and wide == []  # the two posts share their formulae
    _, table, wide = S.reuse_frame(ctx, max_docs=1)
    assert table.height == 0 and len(wide) >= 3 and wide == sorted(wide)
    markup = str(S.section_reuse(ctx, max_docs=1))
    assert "No two statements share" in markup and "more than 1 statements" in markup


def test_code_version_covers_the_scanner_and_its_table():
    """The compiled scanner and its character table decide every token: both are part
    of the reports' code version and of the phrase index's code hash."""
    import analysis.report.build as R
    from analysis.phrases import index

    tracked = {R.tracked_name(f) for f in R.code_files()}
    assert {"analysis/text/scanner.py", "analysis/text/tokens.py", "analysis/text/grammar.py",
            "analysis/text/data/chars.npz"} <= tracked
    here = Path(index.__file__).parents[1]
    assert {"text/scanner.py", "text/tokens.py", "text/data/chars.npz", "text/normalise.py"} <= set(index.CODE)
    assert all((here / name).exists() for name in index.CODE)


def test_code_hash_covers_every_module_the_build_imports():
    """A stored shard or index is reused while the code hash matches: every module of the
    engine and the tokenizer that the build imports must be in it (``text/coded.py``, which
    tokenises the shards, was not), except those that shape no byte of an index."""
    grimp = pytest.importorskip("grimp")
    from analysis.phrases import index

    graph = grimp.build_graph("analysis")
    used = {m for m in graph.find_upstream_modules("analysis.phrases.build") | {"analysis.phrases.build"}
            if m.startswith(("analysis.phrases.", "analysis.text."))}
    # read no byte an index is made of: loading, the worker pool, phrase strings, and the
    # phrase search of the queries (search.py: out of the hash, so that it rebuilds none)
    not_output = {"analysis.phrases.index", "analysis.phrases.pool", "analysis.phrases.strings",
                  "analysis.phrases.search"}
    hashed = {"analysis." + name.removesuffix(".py").replace("/", ".") for name in index.CODE}
    assert used - not_output <= hashed, sorted(used - not_output - hashed)
    assert {"analysis.text.coded", "analysis.phrases.streams", "analysis.phrases.shards"} <= used


def test_shared_report_carries_no_absolute_path(mfa_overview, xss_overview, project_root):
    """Before: the overview printed the declaration's absolute path (/home/.../corpus/mfa-ar.yml)."""
    import json

    for build, shown in ((mfa_overview, "corpus/mfa-ar.yml"), (xss_overview, "xss.yml")):
        page = build.html.read_text(encoding="utf-8")
        assert f"{shown} (sha256" in page
        folder = str(project_root.resolve()) if build is mfa_overview else str(build.folder.parents[1])
        assert folder not in page, f"{folder} appears in {build.html.name}"
        manifest = (build.folder / "manifest.json").read_text(encoding="utf-8")
        assert folder not in manifest and str(project_root.resolve()) not in manifest
        assert json.loads(manifest)["corpus"] == build.manifest["corpus"]
        for csv in (build.folder / "data").glob("*.csv"):
            assert folder not in csv.read_text(encoding="utf-8"), csv.name


def test_report_tables_and_csvs_show_dates_at_their_precision(tmp_path, monkeypatch):
    """Before: a year-precision corpus's report CSVs said 1946-01-01 / 1946-01-01T00:00:00."""
    import datetime as dt

    import polars as pl

    from analysis.report import html

    monkeypatch.setenv(html.ENV_DATA, str(tmp_path))
    html.date_unit_set("year")
    frame = pl.DataFrame({"first": [dt.date(1946, 1, 1)], "period": ["1947-01-01T00:00:00"], "n": [3],
                          "text": ["not a date"]})
    table = html.html_table(frame, name="years")
    assert "<td dir=\"auto\">1946</td>" in table and "1946-01-01" not in table
    spec = {"datasets": {"d": frame.with_columns(pl.col("first").cast(pl.String)).to_dicts()}, "name": "years-chart"}
    html.html_chart_spec(spec)
    for name in ("years.csv", "years-chart.csv"):
        lines = (tmp_path / name).read_text(encoding="utf-8").splitlines()
        assert lines[1] == "1946,1947,3,not a date", (name, lines)
    html.date_unit_set("day")
    assert "1946-01-01" in html.html_table(frame, name="days")


def test_ungd_report_csvs_have_no_day_dates(ungd_formula):
    """ungd is yearly: no CSV of its drill-down shows a month or a day."""
    import re

    for csv in sorted((ungd_formula.folder / "data").glob("*.csv")):
        text = csv.read_text(encoding="utf-8")
        assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d", text), csv.name
