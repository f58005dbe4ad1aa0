"""The phrase language: one grammar for the lexicon's patterns and the query commands.

A pattern is a sequence of elements separated by spaces:

- ``word``: a word (turned into forms at the matching level exactly as the corpus was);
- ``(a|b c)``: alternatives, each one or more words; ``(a|b)?`` optional alternatives;
- ``word?``: an optional word;
- ``*``: exactly one token of any form; ``*{lo,hi}``: lo to hi tokens (hi <= :data:`MAX_GAP`).

A pattern may not start or end with a gap, and expands to at most :data:`MAX_EXPANSIONS`
fixed sequences (:func:`pattern_sequences`; ``None`` = a wildcard slot). Order is as
written; an unordered set is the lexicon's ``all`` pattern. ``query``, ``kwic``,
``timeline`` and the lexicon read the same grammar, so a construct is honoured everywhere
or is an error naming it (:func:`pattern_parse` raises ``ValueError``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T", str, int)  # a sequence's items: forms, or token ids

MAX_EXPANSIONS = 512
MAX_GAP = 8
_ELEMENT_RE = re.compile(r"\([^()]*\)\??|\S+")
_GAP_RE = re.compile(r"^\*(?:\{(\d+),(\d+)\})?$")
_SYNTAX = re.compile(r"[()|*?]")

__all__ = ["MAX_EXPANSIONS", "MAX_GAP", "is_pattern", "pattern_parse", "pattern_sequences"]


def is_pattern(text: str) -> bool:
    """Whether ``text`` uses pattern syntax (``( | ) * ?``) rather than being a literal phrase."""
    return bool(_SYNTAX.search(text))


def pattern_parse(text: str) -> list[tuple[str, Any]]:
    """Elements of a pattern: ("word", w), ("alt", (alts, optional)), ("gap", (lo, hi)).

    Raises ``ValueError`` naming the construct it cannot read."""
    out: list[tuple[str, Any]] = []
    for tok in _ELEMENT_RE.findall(text):
        if re.fullmatch(r"\([^()]*\)\??", tok):
            optional = tok.endswith("?")
            body = tok[1:-2] if optional else tok[1:-1]
            alts = [a.strip() for a in body.split("|")]
            if not all(alts):
                raise ValueError(f"empty alternative in {tok!r}")
            out.append(("alt", (alts, optional)))
        elif (m := _GAP_RE.match(tok)) is not None:
            lo, hi = (1, 1) if m.group(1) is None else (int(m.group(1)), int(m.group(2)))
            if lo > hi or hi > MAX_GAP:
                raise ValueError(f"gap {tok!r} must be *{{lo,hi}} with lo <= hi <= {MAX_GAP}")
            out.append(("gap", (lo, hi)))
        elif "*" in tok or "(" in tok or ")" in tok or "|" in tok:
            raise ValueError(f"cannot read {tok!r} (use (a|b), word?, * or *{{0,3}})")
        elif tok.endswith("?") and len(tok) > 1:
            out.append(("alt", ([tok[:-1]], True)))
        else:
            out.append(("word", tok))
    if not out:
        raise ValueError("empty pattern")
    if out[0][0] == "gap" or out[-1][0] == "gap":
        raise ValueError("a pattern cannot start or end with a gap")
    return out


def pattern_sequences(text: str, to_forms: Callable[[str], list[T]]) -> list[tuple[T | None, ...]]:
    """Expand pattern text into the fixed token sequences it stands for.

    ``to_forms`` turns a word (or alternative) into forms at the matching level (or into
    token ids: any values of one sortable type); ``None`` in a sequence is a wildcard
    slot. Sequences are deduplicated and sorted; raises ``ValueError`` past
    :data:`MAX_EXPANSIONS` or when a sequence starts/ends with a gap.
    """
    choices: list[list[tuple[T | None, ...]]] = []
    for kind, val in pattern_parse(text):
        if kind == "word":
            choices.append([tuple(to_forms(val))])
        elif kind == "alt":
            alts, optional = val
            opts: list[tuple[T | None, ...]] = [tuple(to_forms(a)) for a in alts]
            if optional:
                opts.append(())
            choices.append(opts)
        else:
            lo, hi = val
            choices.append([(None,) * k for k in range(lo, hi + 1)])
    total = 1
    for c in choices:
        total *= len(c)
        if total > MAX_EXPANSIONS:
            raise ValueError(f"pattern {text!r} expands to more than {MAX_EXPANSIONS} sequences")
    seqs = set()
    for combo in itertools.product(*choices):
        seq = tuple(itertools.chain.from_iterable(combo))
        if not seq:
            continue
        if seq[0] is None or seq[-1] is None:
            raise ValueError(f"pattern {text!r}: a gap would start or end the match")
        seqs.add(seq)
    return sorted(seqs, key=lambda s: tuple((0, "") if x is None else (1, x) for x in s))  # forms or token ids
