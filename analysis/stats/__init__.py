"""Statistics over formulae and phrases: timelines and lifecycles, comparisons, reuse.

Verbs are re-exported here (``from analysis.stats import ...``) and loaded on first use,
so importing the subpackage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {'stat_timeline': 'timeline', 'stat_lifecycle': 'timeline', 'stat_emergence': 'timeline', 'stat_compare': 'compare', 'stat_reuse': 'reuse', 'REUSE_MAX_DOCS': 'reuse', 'item_occurrences': 'items', 'stat_timeline_across': 'across', 'stat_compare_across': 'across'}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
