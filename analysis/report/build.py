"""Versioned report builds: ``reports/_build/<version>/`` + ``manifest.json`` + index page.

A *report* is a ``reports/<name>.qmd`` notebook rendered for one corpus (and parameters).
Its **version id** is a hash of exactly what determines its content:

- the corpus snapshot hash (``snapshot_sha256`` from the snapshot manifest),
- the report name and parameters (corpus, level, formula ...),
- the code version: a hash over ``analysis/**/*.py``, ``reports/*.qmd``,
  ``reports/_quarto.yml`` and ``corpus/*.yml`` (the lexicon and declarations).

So rebuilding with unchanged inputs gives the same version id and identical data tables
(``data/*.csv``, written by every chart and table of the page). A build folder holds::

    <version>/<report>.html    one self-contained page (offline: JS, CSS and fonts inlined)
    <version>/data/*.csv       the data behind every chart and table
    <version>/manifest.json    version, inputs, parameters, git commit, package versions,
                               build time, renderer, sha256 of every file
    <version>/screenshot.png   (browser test / ``--screenshot``)

``reports/_build/index.html`` lists every version, newest first, with what changed since
the previous version of the same report (formulae that appeared, vanished, moved most),
read from each version's ``data/_summary.csv`` (columns ``formula``, ``statements``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import FormulaeError
from ..formulae.lexicon import ENV_LEXICON, lexicon_default_path
from ..store import (
    atomic_dir,
    atomic_file,
    dumps_json,
    file_sha256,
    read_json,
    stamp_read,
    store_root,
)
from .html import esc

ENV_PROJECT = "FORMULAE_PROJECT"


def project_root() -> Path:
    """The project folder holding ``reports/`` and ``corpus/``: ``$FORMULAE_PROJECT``, else
    the current folder (where ``make`` and the CLI run)."""
    return Path(os.environ.get(ENV_PROJECT) or ".").resolve()


def reports_dir() -> Path:
    return project_root() / "reports"


def build_dir() -> Path:
    """The default build folder, ``reports/_build``."""
    return reports_dir() / "_build"
REPORTS = ("overview", "formula", "compare")
#: The reports built for every corpus when none is named (``compare`` needs a second side).
DEFAULT_REPORTS = ("overview", "formula")
SUMMARY = "_summary.csv"
PACKAGES = (
    "polars", "altair", "vl-convert-python", "jupytext", "nbclient", "nbconvert",
    "ipykernel", "nltk", "pyarrow", "numpy", "pydivsufsort",
)


@dataclass
class BuildResult:
    """One report build: where it is, its manifest, and whether an existing one was reused."""

    version: str
    folder: Path
    html: Path
    manifest: dict[str, Any]
    reused: bool


# --- versions --------------------------------------------------------------------


def code_files() -> list[Path]:
    package = Path(str(resources.files("analysis")))
    files = sorted(package.rglob("*.py")) + sorted(package.rglob("data/*"))
    files += sorted(reports_dir().glob("*.qmd")) + sorted(reports_dir().glob("_quarto.yml"))
    files += sorted((project_root() / "corpus").glob("*.yml"))
    return [f for f in files if "__pycache__" not in f.parts]


def tracked_name(path: Path) -> str:
    """A code file's name in the version hash: under the package or the project."""
    package = Path(str(resources.files("analysis"))).parent
    for base in (project_root(), package):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.name


def code_version() -> str:
    """sha256 over the package source, the notebooks and the corpus/lexicon declarations."""
    h = hashlib.sha256(f"formulae {__version__}\0".encode())
    for f in code_files():
        h.update(tracked_name(f).encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def report_version(report: str, params: dict[str, Any], snapshot_sha256: str, code: str) -> str:
    """The version id: 16 hex digits of sha256(snapshot hash, report, parameters, code)."""
    payload = dumps_json({"report": report, "params": params, "snapshot": snapshot_sha256, "code": code})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": ".".join(map(str, __import__("sys").version_info[:3])), "formulae": __version__}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    try:
        import vl_convert as vlc

        out["vega"] = vlc.get_vega_version()
        out["vega-embed"] = vlc.get_vega_embed_version()
        from .html import VL_VERSION

        out["vega-lite"] = VL_VERSION
    except Exception:  # pragma: no cover - vl-convert is a dependency
        pass
    return out


def git_commit() -> dict[str, Any]:
    """HEAD commit and whether the tracked tree differs from it (None outside git)."""
    def run(*args: str) -> str | None:
        try:
            p = subprocess.run(["git", *args], cwd=project_root(), capture_output=True, text=True,
                               timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return p.stdout.strip() if p.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    dirty = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if dirty is None else bool(dirty)}


def default_corpora() -> list[str]:
    """Names of the corpora declared in ``corpus/*.yml`` (the ones ``make report`` builds)."""
    from ..ingest.declaration import declaration_load, is_declaration

    names = []
    for path in sorted((project_root() / "corpus").glob("*.yml")):
        if is_declaration(path):
            names.append(declaration_load(path).name)
    return sorted(set(names))


def report_params(report: str, corpus: str, *, level: str | None = None,
                  formula: str | None = None, other: str | None = None,
                  a: str | None = None, b: str | None = None) -> dict[str, Any]:
    """The parameters passed to a notebook (and hashed into its version). ``compare``
    takes ``other`` (side B's corpus, default ``corpus``) and the filters ``a`` and ``b``."""
    if report not in REPORTS:
        raise FormulaeError(f"unknown report {report!r}; choose one of {', '.join(REPORTS)}")
    params: dict[str, Any] = {"corpus": corpus}
    if level is not None:
        params["level"] = level
    if report == "formula" and formula is not None:
        params["formula"] = formula
    if report == "compare":
        params.update({k: v for k, v in (("other", other), ("a", a), ("b", b)) if v is not None})
    return params


# --- build -----------------------------------------------------------------------


def _stamp(manifest: dict[str, Any]) -> str:
    pk = manifest["packages"]
    pkgs = ", ".join(f"{k} {pk[k]}" for k in sorted(pk))
    git = manifest["git"]
    commit = (git["commit"] or "no git")[:12] + (" (modified tree)" if git.get("dirty") else "")
    params = ", ".join(f"{k}={v}" for k, v in sorted(manifest["params"].items()))
    return (
        '<footer class="fx-stamp" id="fx-stamp"><p>'
        f"Report <b>{esc(manifest['report'])}</b> · version <code>{esc(manifest['version'])}</code> · "
        f"built {esc(manifest['build_time'])} with the {esc(manifest['renderer'])} renderer · "
        f"parameters {esc(params)} · corpus snapshot <code>{esc(manifest['snapshot_sha256'][:16])}</code> "
        f"({esc(manifest['corpus_rows'])} statements) · code <code>{esc(manifest['code_version'][:16])}</code> · "
        f"git {esc(commit)}</p><p>{esc(pkgs)}</p></footer>"
    )


def report_build(
    report: str,
    corpus: str,
    *,
    store: str | Path | None = None,
    out: str | Path | None = None,
    level: str | None = None,
    formula: str | None = None,
    force: bool = False,
    renderer: str = "auto",
    screenshot: bool = False,
    progress: Any = None,
    other: str | None = None,
    a: str | None = None,
    b: str | None = None,
) -> BuildResult:
    """Render ``reports/<report>.qmd`` for ``corpus`` into ``<out>/<version>/``.

    1. resolve the renderer and the notebook; 2. derive the version from the snapshot,
    parameters and code; 3. reuse an existing complete build of that version unless
    ``force``; 4. otherwise render into a temporary folder and move it into place
    atomically (:func:`_render_version`); 5. update the build index.
    ``renderer``: ``auto`` (quarto when on PATH, else built-in), ``builtin`` or ``quarto``.
    """
    say = progress or (lambda message: None)
    out_root = Path(out) if out is not None else build_dir()
    store_path = store_root(store).resolve()
    params = report_params(report, corpus, level=level, formula=formula, other=other, a=a, b=b)
    renderer = _renderer(renderer)
    qmd = reports_dir() / f"{report}.qmd"
    if not qmd.is_file():
        raise FormulaeError(f"report notebook not found: {qmd}")
    from ..ingest.snapshot import corpus_manifest

    cmanifest = corpus_manifest(corpus, store=store_path)
    if report == "formula" and formula is not None:
        _check_formula(formula, cmanifest.get("language", "en"))
    snapshot = cmanifest["snapshot_sha256"]
    if params.get("other", corpus) != corpus:  # both snapshots decide a compare page
        snapshot += corpus_manifest(params["other"], store=store_path)["snapshot_sha256"]
    code = code_version()
    version = report_version(report, params, snapshot, code)
    folder = out_root / version
    html = folder / f"{report}.html"
    damage = None if force or not (folder / "manifest.json").is_file() else report_damage(folder)
    if not force and (folder / "manifest.json").is_file() and damage is None:
        say(f"{report} {corpus}: version {version} already built, reused")
        if screenshot and not (folder / "screenshot.png").is_file():
            report_screenshot(html, folder / "screenshot.png")
        report_index(out_root)
        return BuildResult(version, folder, html, read_json(folder / "manifest.json"), reused=True)
    if damage is not None:
        say(f"{report} {corpus}: version {version} was damaged ({damage}): building it again")
    say(f"{report} {corpus}: building version {version} ...")
    manifest: dict[str, Any] = {
        "version": version,
        "report": report,
        "title": None,
        "corpus": corpus,
        "params": params,
        "snapshot_sha256": cmanifest["snapshot_sha256"],
        "corpus_rows": cmanifest.get("rows"),
        "corpus_language": cmanifest.get("language"),
        "declaration_sha256": cmanifest.get("declaration_sha256"),
        "code_version": code,
        "git": git_commit(),
        "packages": package_versions(),
        "build_time": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "renderer": renderer,
    }
    _render_version(qmd, params, folder, manifest, store_path, cmanifest.get("language", "en"))
    if screenshot:
        report_screenshot(html, folder / "screenshot.png")
    report_index(out_root)
    say(f"{report} {corpus}: done in {manifest['build_seconds']} s -> {html}")
    return BuildResult(version, folder, html, manifest, reused=False)


def report_damage(folder: Path) -> str | None:
    """Why the built report in ``folder`` is not as it was built: its manifest damaged, or
    a file of it (the page, its data tables) missing or changed since (the SHA-256 its
    manifest records; a report is a few MB); None when it is whole."""
    have = stamp_read(folder / "manifest.json")
    if have is None or not isinstance(have.get("files"), dict):
        return "manifest.json is damaged"
    for name, sha in have["files"].items():
        if not (folder / name).is_file():
            return f"{name} is missing"
        if file_sha256(folder / name) != sha:
            return f"{name} changed since it was built"
    return None


def _renderer(renderer: str) -> str:
    """``auto`` resolved to ``quarto`` (on PATH) or ``builtin``; an unusable choice is an error."""
    from .render import quarto_path

    if renderer == "auto":
        renderer = "quarto" if quarto_path() else "builtin"
    if renderer not in ("builtin", "quarto"):
        raise FormulaeError(f"unknown renderer {renderer!r}; choose auto, builtin or quarto")
    if renderer == "quarto" and not quarto_path():
        raise FormulaeError("--renderer quarto: no `quarto` binary on PATH")
    return renderer


def _render_version(qmd: Path, params: dict[str, Any], folder: Path, manifest: dict[str, Any],
                    store_path: Path, language: str) -> None:
    """Render the notebook into ``folder`` (atomically: all or nothing) and complete the
    manifest with the build time, page notes, title and the hash of every file written."""
    from .render import render_builtin, render_quarto

    report = manifest["report"]
    t0 = time.perf_counter()
    with atomic_dir(folder) as tmp:
        data = tmp / "data"
        data.mkdir()
        env = {"FORMULAE_STORE": str(store_path), "FORMULAE_REPORT_DATA": str(data.resolve()),
               ENV_PROJECT: str(project_root()), ENV_LEXICON: str(lexicon_default_path().resolve()),
               "PYTHONHASHSEED": "0"}
        html_path = tmp / f"{report}.html"
        if manifest["renderer"] == "quarto":
            render_quarto(qmd, params, out_html=html_path, env=env, stamp=_stamp(manifest))
        else:
            render_builtin(qmd, params, out_html=html_path, env=env, stamp=_stamp(manifest),
                           project=_project_config(), lang=language)
        manifest["build_seconds"] = round(time.perf_counter() - t0, 2)
        manifest["notes"] = _page_notes(html_path)
        manifest["title"] = _front_title(qmd)
        manifest["files"] = {
            p.relative_to(tmp).as_posix(): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        manifest["data_tables"] = sorted(k for k in manifest["files"] if k.startswith("data/"))
        with atomic_file(tmp / "manifest.json", "w") as fh:
            fh.write(dumps_json(manifest))


def report_screenshot(html: Path, png: Path) -> Path:
    """Open the page offline in headless chromium and save a full-page screenshot.

    Fails (FormulaeError) if a chart did not draw, the console shows an error or the page
    tried to reach the network.
    """
    from .browser import page_check

    check = page_check(html, png)
    bad = [c["id"] for c in check.charts if not c["ok"] or not (c["svg"] or c["canvas"])]
    problems = []
    if bad:
        problems.append(f"charts not drawn: {', '.join(bad)}")
    if check.console_errors:
        problems.append(f"console errors: {check.console_errors[0]}")
    if check.requests_blocked:
        problems.append(f"network requests: {check.requests_blocked[0]}")
    if problems:
        raise FormulaeError("; ".join(problems), file=html)
    return png


def _check_formula(formula: str, language: str) -> None:
    """Fail before starting a kernel when the formula id is not in the lexicon."""
    from ..formulae.lexicon import lexicon_load

    ids = [f.id for f in lexicon_load().for_language(language).formulae]
    if formula not in ids:
        raise FormulaeError(f"unknown formula {formula!r} for language {language!r}; "
                            f"the lexicon has {', '.join(ids)}")


def _page_notes(html_path: Path) -> list[str]:
    """The visible notes of a page (e.g. sections "not available in this build"), as text."""
    import html as html_lib
    import re

    page = html_path.read_text(encoding="utf-8")
    return [html_lib.unescape(n) for n in re.findall(r'<div class="fx-note" role="note">([^<]*)</div>', page)]


def _project_config() -> dict[str, Any]:
    import yaml

    path = reports_dir() / "_quarto.yml"
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _front_title(qmd: Path) -> str | None:
    import yaml

    text = qmd.read_text(encoding="utf-8")
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            front = yaml.safe_load(text[3:end]) or {}
            return front.get("title")
    return None


def report_build_all(
    corpora: list[str] | None = None,
    reports: list[str] | None = None,
    **kwargs: Any,
) -> list[BuildResult]:
    """Build every report for every corpus (default: all declared corpora, all reports)."""
    corpora = corpora or default_corpora()
    if not corpora:
        raise FormulaeError("no corpora to report on: corpus/*.yml declares none")
    return [report_build(r, c, **kwargs) for c in corpora for r in (reports or list(DEFAULT_REPORTS))]


# --- index and changes -----------------------------------------------------------


def report_versions(out: str | Path | None = None) -> list[dict[str, Any]]:
    """Every build's manifest under ``out``, newest first (build time, then version id)."""
    out_root = Path(out) if out is not None else build_dir()
    manifests = []
    for path in sorted(out_root.glob("*/manifest.json")):
        try:
            m = read_json(path)
        except (OSError, ValueError):
            continue
        m["_folder"] = path.parent.name
        manifests.append(m)
    manifests.sort(key=lambda m: (m.get("build_time", ""), m.get("version", "")), reverse=True)
    return manifests


def _summary(out_root: Path, m: dict[str, Any]) -> dict[str, int] | None:
    path = out_root / m["_folder"] / "data" / SUMMARY
    if not path.is_file():
        return None
    import polars as pl

    frame = pl.read_csv(path, schema_overrides={"formula": pl.String})
    frame = frame.sort(["statements", "formula"], descending=[True, False])
    return dict(zip(frame["formula"].to_list(), range(1, frame.height + 1), strict=True))


def report_changes(old: dict[str, int] | None, new: dict[str, int] | None, top: int = 5) -> dict[str, list]:
    """Formulae that appeared, vanished and moved most between two rank maps (1 = top)."""
    if old is None or new is None:
        return {"appeared": [], "vanished": [], "moved": []}
    appeared = sorted((f for f in new if f not in old), key=lambda f: (new[f], f))
    vanished = sorted((f for f in old if f not in new), key=lambda f: (old[f], f))
    moved = sorted(((f, old[f] - new[f]) for f in new if f in old and old[f] != new[f]),
                   key=lambda x: (-abs(x[1]), x[0]))
    return {"appeared": appeared[:top], "vanished": vanished[:top],
            "moved": [f"{f} ({'+' if d > 0 else ''}{d})" for f, d in moved[:top]]}


def report_versions_frame(out: str | Path | None = None) -> Any:
    """The versions as a table: built, report, corpus, params, version, rows, renderer, path."""
    import polars as pl

    out_root = Path(out) if out is not None else build_dir()
    ms = report_versions(out_root)
    return pl.DataFrame({
        "built": [m.get("build_time") for m in ms],
        "report": [m.get("report") for m in ms],
        "corpus": [m.get("corpus") for m in ms],
        "params": [", ".join(f"{k}={v}" for k, v in sorted(m.get("params", {}).items()) if k != "corpus")
                   for m in ms],
        "version": [m.get("version") for m in ms],
        "statements": [m.get("corpus_rows") for m in ms],
        "renderer": [m.get("renderer") for m in ms],
        "html": [str(out_root / m["_folder"] / f"{m.get('report')}.html") for m in ms],
    }, schema={"built": pl.String, "report": pl.String, "corpus": pl.String, "params": pl.String,
               "version": pl.String, "statements": pl.Int64, "renderer": pl.String, "html": pl.String})


def _series_key(m: dict[str, Any]) -> str:
    params = {k: v for k, v in sorted(m.get("params", {}).items()) if k != "corpus"}
    return dumps_json([m.get("report"), m.get("corpus"), params])


def report_index(out: str | Path | None = None) -> Path:
    """Write ``index.html`` listing every version, newest first, with changes."""
    out_root = Path(out) if out is not None else build_dir()
    versions = report_versions(out_root)
    rows = []
    for i, m in enumerate(versions):
        prev = next((p for p in versions[i + 1:] if _series_key(p) == _series_key(m)), None)
        if prev is None:
            change_html = "first version of this report"
        else:
            ch = report_changes(_summary(out_root, prev), _summary(out_root, m))
            bits = []
            for key, label in (("appeared", "appeared"), ("vanished", "vanished"), ("moved", "moved most")):
                if ch[key]:
                    items = "".join(f"<li dir='auto'>{esc(x)}</li>" for x in ch[key])
                    bits.append(f"<div class='fx-ch'><b>{label}:</b><ul>{items}</ul></div>")
            same = "data unchanged" if prev.get("files", {}) and _data_same(prev, m) else "no formula changes"
            why = [w for w, k in (("corpus", "snapshot_sha256"), ("code", "code_version"))
                   if prev.get(k) != m.get(k)]
            reason = f" ({' and '.join(why)} changed)" if why else ""
            change_html = (f"since <code>{esc(prev['version'])}</code>{reason}: " + ("".join(bits) or same))
        params = ", ".join(f"{k}={v}" for k, v in sorted(m.get("params", {}).items()) if k != "corpus")
        href = f"{m['_folder']}/{m.get('report')}.html"
        rows.append(
            "<tr>"
            f"<td>{esc(m.get('build_time', ''))}</td>"
            f"<td><a href='{esc(href)}'>{esc(m.get('title') or m.get('report'))}</a>"
            f"<br><small>{esc(m.get('report'))}{' · ' + esc(params) if params else ''}</small></td>"
            f"<td>{esc(m.get('corpus'))}<br><small>{esc(m.get('corpus_rows'))} statements · "
            f"snapshot <code>{esc(str(m.get('snapshot_sha256', ''))[:12])}</code></small></td>"
            f"<td><code>{esc(m.get('version'))}</code><br><small>git "
            f"{esc(str((m.get('git') or {}).get('commit') or '-')[:10])}</small></td>"
            f"<td>{change_html}</td></tr>"
        )
    body = "".join(rows) or "<tr><td colspan='5'>No reports built yet: run <code>make report</code>.</td></tr>"
    latest, seen = [], set()
    for m in versions:
        key = _series_key(m)
        if key in seen:
            continue
        seen.add(key)
        params = ", ".join(f"{k}={v}" for k, v in sorted(m.get("params", {}).items()) if k != "corpus")
        latest.append(f"<li><a href='{esc(m['_folder'])}/{esc(m.get('report'))}.html'>"
                      f"{esc(m.get('title') or m.get('report'))} · {esc(m.get('corpus'))}"
                      f"{' · ' + esc(params) if params else ''}</a> <small>({esc(m.get('build_time', ''))})</small></li>")
    latest_html = f"<h2>Latest version of each report</h2><ul id='latest'>{''.join(latest)}</ul>" if latest else ""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>formulae reports</title>
<style>
body {{ font-family: system-ui, "Segoe UI", "Noto Sans", "Noto Naskh Arabic", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border-bottom: 1px solid #d0d7de; padding: .4rem .6rem; vertical-align: top; text-align: left; }}
th {{ background: #f6f8fa; }} small {{ color: #57606a; }} ul {{ margin: .1rem 0 .3rem 1rem; padding: 0; }}
li[dir="rtl"], li:lang(ar) {{ font-family: "Noto Naskh Arabic", "Noto Sans Arabic", serif; }}
</style></head><body>
<h1>formulae reports</h1>
<p>Each link opens a self-contained page that works offline.</p>
{latest_html}
<h2>All versions ({len(versions)}), newest first</h2>
<table id="versions"><thead><tr><th>built (UTC)</th><th>report</th><th>corpus</th><th>version</th>
<th>changes since the previous version of the same report</th></tr></thead>
<tbody>{body}</tbody></table>
</body></html>
"""
    index = out_root / "index.html"
    out_root.mkdir(parents=True, exist_ok=True)
    with atomic_file(index, "w") as fh:
        fh.write(page)
    return index


def _data_same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    fa = {k: v for k, v in a.get("files", {}).items() if k.startswith("data/")}
    fb = {k: v for k, v in b.get("files", {}).items() if k.startswith("data/")}
    return fa == fb
