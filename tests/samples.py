"""Samples for tests in more than one folder (``tests/`` is on the path of every test module)."""

from __future__ import annotations

import numpy as np
import polars as pl


def random_sequences(toks: pl.DataFrame, vocab: pl.DataFrame, n: int, seed: int) -> dict[int, tuple]:
    """Sequences cut from random places of a corpus's form stream (1-5 forms; a middle form
    a wildcard in about half of those of 3 or more), a few with a form the corpus lacks."""
    rng = np.random.default_rng(seed)
    forms, fid = vocab.sort("fid")["form"], toks["fid"].to_numpy()
    out: dict[int, tuple] = {}
    for k in range(n):
        at, size = int(rng.integers(0, len(fid) - 5)), int(rng.integers(1, 6))
        seq: list = [forms[int(f)] for f in fid[at:at + size]]
        if size >= 3 and rng.random() < 0.5:
            seq[int(rng.integers(1, size - 1))] = None
        if k % 25 == 24:
            seq[0] = "zzzqqq"
        out[k] = tuple(seq)
    return out
