"""Shared pytest fixtures (session scoped; real corpora are ingested once per session).

- ``project_root``: Path of the project (the folder holding pyproject.toml).
- ``shared_corpora``: Path of ``../shared/corpora`` resolved from the project root
  (the real corpora; present in CI at the same relative place).
- ``store``: a session-wide temporary store folder (pass it as ``store=`` to the library
  or ``--store`` to the CLI). Snapshots ingested by the fixtures below live there.
- ``mfa_ar``, ``ungdc``, ``saudinewsnet``, ``ungd``: ingest ``corpus/mfa-ar.yml``,
  ``tests/corpora/ungdc.yml``, ``tests/corpora/saudinewsnet.yml`` and ``corpus/ungd.yml``
  into ``store`` the first time they are used, and return the corpus name, so a test
  reads ``corpus_load(mfa_ar, store)``.

Other areas may append their own fixtures at the end of this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared_corpora(project_root: Path) -> Path:
    path = (project_root / ".." / "shared" / "corpora").resolve()
    if not path.is_dir():
        pytest.skip(f"shared corpora not found at {path}")
    return path


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


def _ingest(declaration: Path, store: Path) -> str:
    from analysis.ingest.snapshot import corpus_ingest

    return corpus_ingest(declaration, store=store).corpus


@pytest.fixture(scope="session")
def mfa_ar(project_root: Path, store: Path) -> str:
    return _ingest(project_root / "corpus" / "mfa-ar.yml", store)


@pytest.fixture(scope="session")
def ungdc(project_root: Path, shared_corpora: Path, store: Path) -> str:
    return _ingest(project_root / "tests" / "corpora" / "ungdc.yml", store)


@pytest.fixture(scope="session")
def saudinewsnet(project_root: Path, shared_corpora: Path, store: Path) -> str:
    return _ingest(project_root / "tests" / "corpora" / "saudinewsnet.yml", store)


@pytest.fixture(scope="session")
def ungd(project_root: Path, store: Path) -> str:
    return _ingest(project_root / "corpus" / "ungd.yml", store)


# --- reports (report area) ---------------------------------------------------------


@pytest.fixture(scope="session")
def report_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session build folder for reports (screenshots of the browser tests land here)."""
    return tmp_path_factory.mktemp("reports_build")


@pytest.fixture(scope="session")
def mfa_overview(mfa_ar: str, store: Path, report_out: Path):
    """The mfa-ar overview report, rendered once per session through the built-in path."""
    from analysis.report.build import report_build

    return report_build("overview", mfa_ar, store=store, out=report_out, force=True, renderer="builtin")


XSS_TEXT = 'بيان <script>alert("xss-text")</script> عن التعاون الثنائي <img src=x onerror=alert(2)> العلاقات'
XSS_TITLE = '"><script>alert("xss-title")</script>'
XSS_SOURCE = "<b onmouseover=alert(3)>evil</b>"


@pytest.fixture(scope="session")
def xss_overview(tmp_path_factory: pytest.TempPathFactory, store: Path):
    """An Arabic corpus whose text, title and source carry script/markup, rendered."""
    import gzip
    import json

    from analysis.ingest.snapshot import corpus_ingest
    from analysis.report.build import report_build

    folder = tmp_path_factory.mktemp("xss")
    rows = [
        {"id": "x1", "date": "2025-01-02", "source": XSS_SOURCE, "title": XSS_TITLE, "text": XSS_TEXT},
        {"id": "x2", "date": "2025-01-09", "source": "mfa", "title": "عادي", "text": "نص عادي عن التعاون الثنائي"},
    ]
    with gzip.open(folder / "x.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    (folder / "xss.yml").write_text(
        "name: xss-ar\nformat: jsonl\npath: x.jsonl.gz\nlanguage: ar\n"
        "fields: {id: id, text: text, date: date, source: source, title: title}\n",
        encoding="utf-8",
    )
    corpus = corpus_ingest(folder / "xss.yml", store=store).corpus
    return report_build("overview", corpus, store=store, out=folder / "_build", force=True)


@pytest.fixture(scope="session")
def mfa_formula(mfa_ar: str, store: Path, report_out: Path):
    """The territorial-integrity drill-down on mfa-ar, rendered once per session."""
    from analysis.report.build import report_build

    return report_build("formula", mfa_ar, store=store, out=report_out, force=True, renderer="builtin",
                        formula="territorial-integrity")


@pytest.fixture(scope="session")
def ungd_formula(ungd: str, store: Path, report_out: Path):
    """The drill-down of ungd's most widespread formula (English, year dates, 743 speeches)."""
    from analysis.report.build import report_build

    return report_build("formula", ungd, store=store, out=report_out, force=True, renderer="builtin")


@pytest.fixture(scope="session")
def ungd_overview(ungd: str, store: Path, report_out: Path):
    """The ungd overview (the largest default report: families and timelines on 743 speeches)."""
    from analysis.report.build import report_build

    return report_build("overview", ungd, store=store, out=report_out, force=True, renderer="builtin")


# --- the console entry point in this process (hardening area) -----------------------


def cli_main(*args: str, cwd: Path | None = None):
    """Run ``formulae ARGS`` through the console entry point (``analysis.cli.main``) in this
    process: a CompletedProcess with the exit status, stdout and stderr, as a shell sees it."""
    import contextlib
    import io
    import os
    import subprocess
    import sys

    from analysis.cli import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # with .buffer, as a real stdout
    err = io.StringIO()
    old_cwd, old_argv = os.getcwd(), sys.argv
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = ["formulae", *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(old_cwd)
        sys.argv = old_argv
    out.flush()
    stdout = out.buffer.getvalue().decode("utf-8", "replace")
    return subprocess.CompletedProcess(list(args), code, stdout, err.getvalue())


@pytest.fixture
def cli():
    """:func:`cli_main`: ``cli("query", "x", "--corpus", c, "--store", s)``."""
    return cli_main
# --- languages (issue 13) ------------------------------------------------------------


@pytest.fixture(scope="session")
def cn_mfa(project_root: Path, shared_corpora: Path, store: Path) -> str:
    """The Chinese MFA spokespersons' answers (``tests/corpora/cn-mfa.yml``, language zh)."""
    return _ingest(project_root / "tests" / "corpora" / "cn-mfa.yml", store)


@pytest.fixture(scope="session")
def cn_compare(cn_mfa: str, ungd: str, store: Path, report_out: Path):
    """The compare page: cn-mfa (A, Chinese: the page is lang="zh") beside ungd (B)."""
    from analysis.report.build import report_build

    return report_build("compare", cn_mfa, other=ungd, store=store, out=report_out, force=True,
                        renderer="builtin")


@pytest.fixture(scope="session")
def cn_overview(cn_mfa: str, store: Path, report_out: Path):
    """The cn-mfa overview (Chinese throughout: phrases, families, concordance)."""
    from analysis.report.build import report_build

    return report_build("overview", cn_mfa, store=store, out=report_out, force=True, renderer="builtin")
