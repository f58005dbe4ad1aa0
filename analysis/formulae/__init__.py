"""Formulae: the lexicon, matching, variant families and formula candidates.

Verbs are re-exported here (``from analysis.formulae import ...``) and loaded on first use,
so importing the subpackage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {'Lexicon': 'lexicon', 'Formula': 'lexicon', 'Pattern': 'lexicon', 'lexicon_load': 'lexicon', 'lexicon_parse': 'lexicon', 'lexicon_accept': 'lexicon', 'lexicon_add': 'lexicon', 'formulae_find': 'match', 'formulae_match': 'match', 'formulae_counts': 'match', 'formulae_totals': 'match', 'formulae_dated': 'match', 'sequences_find': 'match', 'stream_prepare': 'match', 'Families': 'families', 'families_find': 'families', 'formulae_candidates': 'candidates', 'candidate_id': 'candidates'}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
