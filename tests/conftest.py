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


# --- parallel runs (pytest-xdist, `make test` runs two workers) ----------------------
#
# Each worker has its own session fixtures and store. Tests that share an expensive
# session resource (a phrase index of a full real corpus, the rendered reports) are kept on
# one worker by an ``xdist_group``, so it is built once per run, not once per worker; under
# xdist the groups come first, longest first, so the two workers start with the long
# chains and the short tests fill in around them (`--dist loadgroup --no-loadscope-reorder`).
# A serial run (plain `pytest`) keeps the collection order and ignores the groups.

REPORT_FIXTURES = {"mfa_overview", "xss_overview", "mfa_formula", "ungd_formula", "ungd_overview",
                   "cn_compare", "cn_overview"}
# longest first (seconds on this machine, serial): ungdc's norm index and the candidates,
# frames, pattern and compare tests on it (~220); ungdc's stem index and families (~180);
# the reports and their browser checks (~140); saudinewsnet's stem index and families (~100);
# saudinewsnet's norm index, token layer and goldens (~85)
GROUP_ORDER = ["ungdc", "ungdc-stem", "reports", "saudinewsnet-stem", "saudinewsnet"]


def xdist_group_of(item: pytest.Item) -> str | None:
    """The group a test belongs to (see above), or None: any worker may run it."""
    # (a module path as group name: xdist cuts the group at the last "@" after any "]")
    names = set(getattr(item, "fixturenames", ()))
    params = getattr(getattr(item, "callspec", None), "params", {})
    corpora = names | {v for v in params.values() if isinstance(v, str)}  # request.getfixturevalue(param)
    if names & REPORT_FIXTURES:
        return "reports"
    for corpus in ("ungdc", "saudinewsnet"):
        if corpus in corpora:
            # the families' default level (stem) needs an index of its own
            stem = item.originalname == "test_largest_family_at_most_100_wordings"  # type: ignore[attr-defined]
            return f"{corpus}-stem" if stem else corpus
    # a module-scoped fixture (e.g. test_shards' three sharded builds) is set up once per
    # worker that runs a test of the module: keep such a module on one worker
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if any(d.scope == "module" for ds in defs.values() for d in ds):
        return item.nodeid.split("::", 1)[0]
    return None


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under xdist, mark the test with its group (here, before xdist's own
    ``pytest_collection_modifyitems`` reads the marks)."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER") and (group := xdist_group_of(item)) is not None:
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(trylast=True)  # after xdist's own hook
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the groups first, in GROUP_ORDER (stable: collection order within each).

    xdist 3.8 tells the controller a test's group by appending ``@group`` to its node id
    (``item._nodeid``); pytest 9.2 keeps node ids in ``item._id``, so the suffix is lost and
    the groups are silently ignored (pytest-xdist issue 1386, fix proposed in PR 1388). Until
    a release has it, the suffix is set here the way that fix does."""
    import os

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {g: i for i, g in enumerate(GROUP_ORDER)}

    def group(item: pytest.Item) -> str | None:
        mark = item.get_closest_marker("xdist_group")
        return str(mark.args[0]) if mark else None

    try:
        from _pytest.nodeid import NodeId  # pytest >= 9.2; before it, xdist's own suffix works
    except ImportError:
        NodeId = None  # noqa: N806
    if config.getoption("loadgroup", default=False) and NodeId is not None:
        for item in items:
            g = group(item)
            if g is not None and not item.nodeid.endswith(f"@{g}") and isinstance(getattr(item, "_id", None), NodeId):
                item._id = NodeId.parse(f"{item.nodeid}@{g}")
    items.sort(key=lambda item: rank.get(group(item) or "", len(rank)))
