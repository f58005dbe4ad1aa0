"""The package's shape is a contract: layers (import-linter), no import cycle, no
private name imported across modules, no module over the size limit."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analysis"
MAX_LINES = 620  # "no module over ~600 lines"


def test_layers_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_import_cycle_anywhere():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("analysis")
    cycles = sorted(
        (m, imp)
        for m in graph.modules
        for imp in graph.find_modules_directly_imported_by(m)
        if graph.chain_exists(imp, m)
    )
    assert cycles == []


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_private_name_imported_across_modules():
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("analysis")):
                offenders += [f"{path.relative_to(PACKAGE)}: {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []


def test_no_module_over_the_size_limit():
    long = {str(p.relative_to(PACKAGE)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_package_never_finds_files_through_parent_parent():
    hits = [str(p.relative_to(PACKAGE)) for p in _modules() if "parent.parent" in p.read_text()]
    assert hits == []


def _tree(doc: Path) -> set[str]:
    """Module paths listed in the first ``analysis/`` tree block of a document."""
    import re

    text = doc.read_text(encoding="utf-8")
    block = text[text.index("\nanalysis/\n"):]
    block = block[: block.index("```")]
    listed, package = set(), ""
    for line in block.splitlines()[2:]:
        m = re.match(r"^( +)(\S+)", line)
        if not m:
            continue
        indent, name = len(m.group(1)), m.group(2)
        if indent == 2:
            package = name.rstrip("/") + "/" if name.endswith("/") else ""
            if name.endswith(".py"):
                listed.add(name)
        elif name.endswith(".py"):
            listed.add(package + name)
    return listed


def test_architecture_tree_lists_every_module():
    """docs/ARCHITECTURE.md and the README's layout section show the package tree, one line per module: none missing, none stale."""
    modules = {str(p.relative_to(PACKAGE)) for p in _modules()
               if p.name not in ("__init__.py", "__main__.py")}
    assert _tree(PACKAGE.parent / "docs" / "ARCHITECTURE.md") == modules
    assert _tree(PACKAGE.parent / "README.md") == modules


def test_no_submodule_imports_its_eager_package():
    """A package ``__init__`` that imports a submodule eagerly, and that submodule doing
    ``from . import x`` (an import of the package itself), is a cycle grimp does not list
    (it was ``analysis.cli`` <-> ``analysis.cli.app``)."""
    cycles = []
    for init in PACKAGE.rglob("__init__.py"):
        eager = {n.module for n in ast.parse(init.read_text()).body
                 if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module}
        for name in eager:
            mod = init.parent / f"{name}.py"
            if mod.exists() and any(isinstance(n, ast.ImportFrom) and n.level == 1 and n.module is None
                                    for n in ast.walk(ast.parse(mod.read_text()))):
                cycles.append(f"{init.parent.name} <-> {init.parent.name}.{name}")
    assert cycles == []
