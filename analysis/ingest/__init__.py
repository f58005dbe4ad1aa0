"""Ingest: declarations, one reader per input format, the statement snapshot, the
statement filter grammar and periods of statement dates.

Verbs are re-exported here (``from analysis.ingest import ...``) and loaded on first use,
so importing the subpackage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {'Declaration': 'declaration', 'declaration_load': 'declaration', 'corpus_ingest': 'snapshot', 'corpus_ingest_all': 'snapshot', 'corpus_load': 'snapshot', 'corpus_manifest': 'snapshot', 'corpus_info': 'snapshot', 'corpus_list': 'snapshot', 'corpus_log': 'snapshot', 'corpus_dropped': 'snapshot', 'corpus_show': 'snapshot', 'filter_parse': 'where', 'period_expr': 'periods', 'period_label_expr': 'periods', 'period_auto': 'periods', 'date_label_expr': 'periods'}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
