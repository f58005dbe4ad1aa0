"""Phrase frames on the real ungdc corpus: open slots, fillers and counts checked against the index."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analysis.errors import FormulaeError
from analysis.phrases.build import index_build
from analysis.phrases.frames import phrases_frames
from analysis.phrases.index import index_load
from analysis.text.function_words import function_words


@pytest.fixture(scope="module")
def frames(ungdc, store):
    index_build(ungdc, "norm", store)
    return phrases_frames(ungdc, store=store, limit=60)


def test_frames_are_open_slots_with_content_edges(frames):
    f = frames.frame
    assert f.height == 60
    edges = function_words("en")
    for frame in f["frame"].to_list():
        words = frame.split()
        assert words[0] not in edges and words[-1] not in edges and words[0] != "*" and words[-1] != "*"
        assert 1 <= words.count("*") <= 2
    assert f.filter((pl.col("fillers") < 3) | (pl.col("top_share") > 0.8) | (pl.col("statements") < 10)).height == 0
    assert f["freq"].to_list() == sorted(f["freq"].to_list(), reverse=True)
    # "forty-fifth" is two forms at norm since hyphens separate words (issue 13): the
    # ordinal is two forms, so the session frames are "forty * session" (fifth, sixth, ...)
    assert {"forty * session", "sixty * session", "session * * assembly"} <= set(f["frame"].to_list())


def test_filler_counts_match_the_index(frames, ungdc, store):
    ix = index_load(ungdc, "norm", store)
    row = frames.frame.filter(pl.col("frame") == "forty * session").row(0, named=True)
    total = 0
    for part in row["top_fillers"].split("; "):
        filler, count = part.rsplit(" (", 1)
        found = len(ix.find(ix.forms_of(f"forty {filler} session")))
        assert found == int(count.rstrip(")")), filler
        total += found
    assert total <= row["freq"]
    pos = ix.find(ix.forms_of("forty"))
    ids = np.asarray(ix.array("ids"))
    session = ix.ids_of(["session"])[0]
    assert row["freq"] <= int((ids[np.minimum(pos + 2, len(ids) - 1)] == session).sum())


def test_frame_errors(ungdc, store):
    with pytest.raises(FormulaeError, match="--max-n"):
        phrases_frames(ungdc, store=store, max_n=2)
    with pytest.raises(FormulaeError, match="--min-fillers"):
        phrases_frames(ungdc, store=store, min_fillers=1)
