"""Phrases: the suffix-array engine, the stored index (build, the one reader), queries,
concordances and phrase tables, and the corpus view the later stages read.

Verbs are re-exported here (``from analysis.phrases import ...``) and loaded on first use,
so importing the subpackage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {'phrases_scan': 'engine', 'phrase_strings': 'strings', 'index_build': 'build', 'PhraseIndex': 'index', 'index_load': 'index', 'query_phrase': 'query', 'query_kwic': 'query', 'phrases_table': 'query', 'kwic_context': 'query', 'CorpusView': 'view', 'corpus_view': 'view', 'tokens_explain': 'explain'}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
