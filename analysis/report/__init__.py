"""Reports: charts, HTML pieces, sections, the renderer, the build and the browser check.

Verbs are re-exported here (``from analysis.report import ...``) and loaded on first use,
so importing the subpackage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {'report_build': 'build', 'report_build_all': 'build', 'report_versions': 'build', 'render_builtin': 'render', 'render_quarto': 'render'}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
