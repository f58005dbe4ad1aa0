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


def test_chinese_has_no_frames_and_says_why(tmp_path):
    """Chinese tokens are single characters, never a frame's content edges: the empty table
    says so and points to the word-level commands (it said only "no frames"), with its
    parameters."""
    import json

    from analysis.ingest.snapshot import corpus_ingest

    texts = ["中方坚决反对任何形式的干涉。", "中方坚决反对外部势力干涉。", "中方坚决支持和平解决。"] * 4
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"id": f"s{i}", "text": t}, ensure_ascii=False) + "\n"
                                              for i, t in enumerate(texts)), encoding="utf-8")
    (tmp_path / "zh.yml").write_text("name: zhf\nformat: jsonl\npath: c.jsonl\nlanguage: zh\n"
                                     "fields: {id: id, text: text}\n", encoding="utf-8")
    store = tmp_path / "store"
    corpus_ingest(tmp_path / "zh.yml", store=store)
    index_build("zhf", None, store)
    got = phrases_frames("zhf", store=store, min_statements=2)
    assert got.frame.height == 0
    assert got.notes == ["no frames: a frame's edges are content words of two letters or more, and the tokens of "
                         "a 'zh' corpus are single characters (its word-level discovery: formulae candidates and "
                         "formulae families)"]
    assert got.params["corpus"] == "zhf" and got.params["frames"] == 0
