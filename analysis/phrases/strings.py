"""Phrase strings of index rows: the forms of a start position and length, joined.

Forms are joined by single spaces, except between two ideographs (Chinese is indexed a
character a token): ``人类命运共同体``, not ``人 类 命 运 共 同 体``. Used by the readers
(:meth:`analysis.phrases.index.PhraseIndex.phrases`, the families), not by the index build.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..text.grammar import IDEOGRAPH
from . import suffix

SHORT_PHRASE = 16  # up to this length, phrase strings are built column-wise per length


def phrase_strings(ids: np.ndarray, vocab_forms: pl.Series, pos: np.ndarray, n: np.ndarray) -> pl.Series:
    """Phrase strings (forms joined by single spaces) for rows given by start position and length.

    Between two ideographs (Chinese is indexed a character a token) no space is put:
    ``人类命运共同体``, not ``人 类 命 运 共 同 体`` (:func:`ideographs_joined`).

    Rows of length <= ``SHORT_PHRASE`` are built per length as ``concat_str`` of k gathered
    form columns (no exploded token table: a few hundred MB less for millions of rows);
    longer ones by exploding their tokens and joining per row.
    """
    pos = np.asarray(pos, np.int64)
    n = np.asarray(n, np.int64)
    if len(pos) == 0:
        return pl.Series("phrase", [], dtype=pl.String)
    parts, order = [], []
    for k in np.unique(n[n <= SHORT_PHRASE]).tolist():
        rows = np.flatnonzero(n == k)
        cols = [vocab_forms.gather(np.asarray(ids[pos[rows] + j], np.int64)).alias(f"w{j}") for j in range(k)]
        parts.append(pl.select(pl.concat_str(cols, separator=" ").alias("phrase")).to_series())
        order.append(rows)
        del cols
    rows = np.flatnonzero(n > SHORT_PHRASE)
    if len(rows):
        parts.append(_joined_strings(ids, vocab_forms, pos[rows], n[rows]))
        order.append(rows)
    out = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
    inverse = np.empty(len(pos), np.int64)
    inverse[np.concatenate(order)] = np.arange(len(pos))
    return ideographs_joined(out.gather(inverse)).alias("phrase")


def ideographs_joined(phrases: pl.Series) -> pl.Series:
    """Phrase strings with the space between two ideographs taken out (two passes: a
    pass takes out every other one of a run of such spaces)."""
    pair = f"({IDEOGRAPH}) ({IDEOGRAPH})"
    if not phrases.str.contains(pair).any():
        return phrases
    return phrases.str.replace_all(pair, "${1}${2}").str.replace_all(pair, "${1}${2}")


def _joined_strings(ids: np.ndarray, vocab_forms: pl.Series, pos: np.ndarray, n: np.ndarray) -> pl.Series:
    tok_pos, row = suffix.expand_runs(pos, n)
    forms = vocab_forms.gather(np.asarray(ids[tok_pos], np.int64))
    return (
        pl.DataFrame({"row": row, "form": forms})
        .group_by("row", maintain_order=True)
        .agg(pl.col("form").str.join(" "))
        .get_column("form")
        .alias("phrase")
    )


