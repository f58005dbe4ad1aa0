"""Text: the grammar, normalisation, tokens and the compiled scanner, per-language analyzers.

Never imports the corpus or the index.

Verbs are re-exported here (``from analysis.text import ...``) and loaded on first use,
so importing the subpackage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {'normalise': 'normalise', 'normalise_expr': 'normalise', 'normalise_surface_expr': 'normalise', 'tokens_build': 'tokens', 'tokens_build_regex': 'tokens', 'tokens_level': 'tokens', 'KIND': 'tokens', 'KINDS': 'tokens', 'COUNTABLE': 'tokens', 'Analyzer': 'analyzer', 'aliases_load': 'analyzer', 'stopwords': 'analyzer', 'CHAR_CLASSES': 'grammar', 'LEAD_EMOJI': 'grammar', 'IDEOGRAPH': 'grammar', 'languages_table': 'languages', 'content_forms': 'languages'}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
