"""The analyzer's levels shard by shard (:mod:`analysis.phrases.formparts`): a ``coded``
shard's forms, made once per distinct piece, are the rows :func:`tokens_level` makes of
the same statements' tokens with the same Analyzer (statement, sentence, offsets, form),
and its surface map is :func:`surface_forms`'. Checked on texts written for the hard
cases (aliases inside clitic words and hyphen parts, diacritics that make a word's
verbatim text longer than its norm, tatweel, bound prefixes, ideographs) and on the
real mfa-ar corpus, whose alias table maps the sample's بوتن.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis.ingest.snapshot import corpus_load, corpus_manifest
from analysis.phrases.formparts import coded_vocab, form_shard, surface_forms
from analysis.phrases.index import code_sha, library_versions
from analysis.phrases.shards import shard_coded_write
from analysis.text.analyzer import Analyzer
from analysis.text.tokens import tokens_build, tokens_level

ARABIC = [
    "وبوتن يلتقي لافرف. وَالسَّلامُ عليكم وبـوتن مع بوتن ولبوتين",
    "الشريفين-يحفظه الله، وبوتن-لافرف ولافرف. للمملكة والمملكة بالمملكة فالمملكة",
    "وَالسَّلامُ والسلام لِلسَّلامِ بالسلام السلام السلام",
    "The co-operation of non-self-governing Territories: وبوتن",
    "بوتن بوتين بوتن لافرف لافروف لافرف: وبـوتن ولـافروف",
]
ENGLISH = ["The co-operation of non-self-governing Territories, re-elected.",
           "Peace, security and co-operation; the TERRITORIES' peace-keeping.", "合作、共赢 合作共赢"]
RUSSIAN = ["Стороны подтвердили приверженность суверенитету, единству и территориальной целостности Сирии.",
           "Подтвердили приверженность суверенитету и единству."]


def _both(frame: pl.DataFrame, manifest: dict, level: str, folder: Path) -> tuple:
    """(form_shard's stream and surface map, tokens_level's) of ``frame`` (``doc``, ``text``)."""
    src, out = folder / "coded", folder / "forms"
    src.mkdir()
    how = {"language": manifest["language"], "line_breaks": manifest["line_breaks"]}
    shard_coded_write(src, frame, how)
    coded_vocab([src]).write_parquet(folder / "vocab.parquet")
    lo, hi = int(frame["doc"].min()), int(frame["doc"].max()) + 1
    form_shard({"coded": str(src), "folder": str(out), "vocab": str(folder / "vocab.parquet"),
                "manifest": manifest, "level": level, "lo": lo, "hi": hi, "shard": "forms0",
                "code_sha": code_sha(), "libraries": library_versions()})
    vocab = pl.read_parquet(out / "vocab.parquet")["form"]
    doc = np.repeat(np.arange(lo, hi), np.load(out / "doc_tokens.npy"))
    got = pl.DataFrame({"doc": doc.astype(np.uint32), "sent": np.load(out / "stream_sent.npy"),
                        "start": np.load(out / "stream_start.npy"), "end": np.load(out / "stream_end.npy"),
                        "form": vocab.gather(np.load(out / "stream_fid.npy"))})
    tokens = tokens_build(frame, **how).collect()
    analyzer = Analyzer.for_corpus(manifest, tokens=tokens)
    want = tokens_level(tokens, level, analyzer=analyzer).collect()
    return (got, pl.read_parquet(out / "surface.parquet")), (want, surface_forms(tokens, want))


def _check(frame: pl.DataFrame, manifest: dict, level: str, folder: Path) -> pl.DataFrame:
    (got, got_map), (want, want_map) = _both(frame, manifest, level, folder)
    columns = ["doc", "sent", "start", "end", "form"]
    assert got.select(columns).equals(want.select(columns).cast({c: pl.UInt32 for c in columns[:4]}))
    assert got_map.equals(want_map)
    return want


@pytest.mark.parametrize("level", ["norm", "clitic", "stem"])
def test_arabic_forms_are_tokens_level(level, tmp_path, project_root):
    frame = pl.DataFrame({"doc": np.arange(3, 3 + len(ARABIC), dtype=np.uint32), "text": ARABIC})
    manifest = {"language": "ar", "line_breaks": "paragraph", "aliases": str(project_root / "corpus" / "aliases.yml")}
    want = _check(frame, manifest, level, tmp_path)
    forms = set(want["form"].to_list())
    if level == "norm":  # the alias table applied to whole words and hyphen parts, not inside a word
        assert {"بوتين", "لافروف", "وبوتن"} <= forms and not {"بوتن", "لافرف"} & forms
    if level == "clitic":  # clitics split, their pieces aliased; a split word's pieces walk its marks
        assert {"و", "بوتين", "لافروف"} <= forms and not {"بوتن", "وبوتن", "ولافروف"} & forms
        row = want.filter((pl.col("doc") == 5) & (pl.col("form") == "و")).row(0, named=True)
        assert (row["start"], row["end"]) == (0, 2)  # وَ: the letter and its fatha
        tail = want.filter(pl.col("doc") == 7).tail(2).select("start", "end", "form").rows()
        assert tail == [(43, 44, "و"), (44, 51, "لافروف")]  # ولـافروف: the tatweel is لافروف's


@pytest.mark.parametrize(("language", "texts", "level"),
                         [("en", ENGLISH, "stem"), ("ru", RUSSIAN, "lemma"), ("ru", RUSSIAN, "stem")])
def test_other_languages_forms_are_tokens_level(language, texts, level, tmp_path):
    frame = pl.DataFrame({"doc": np.arange(len(texts), dtype=np.uint32), "text": texts})
    _check(frame, {"language": language, "line_breaks": "paragraph"}, level, tmp_path)


@pytest.mark.parametrize("level", ["norm", "clitic", "stem"])
def test_mfa_ar_forms_are_tokens_level(level, mfa_ar, store, tmp_path):
    """The real corpus, with its alias table (the sample's بوتن is بوتين at every level)."""
    manifest = corpus_manifest(mfa_ar, store)
    assert manifest.get("aliases")
    frame = corpus_load(mfa_ar, store).select("doc", "text").collect()
    want = _check(frame, manifest, level, tmp_path)
    assert "بوتن" not in set(want["form"].to_list())


def test_a_worker_with_other_libraries_makes_no_forms():
    """A forms task checks its worker's code and library versions first (a Dask worker's
    install may differ from the client's): its forms would otherwise be kept under the
    client's key."""
    from analysis.errors import FormulaeError

    task = {"shard": "forms3", "level": "stem", "code_sha": code_sha(),
            "libraries": library_versions() | {"nltk": "0.1"}}
    with pytest.raises(FormulaeError, match=r"^the forms of shard 3 at level stem: this worker has other "
                                            r"versions of the libraries .*\(nltk 0\.1 -> "):
        form_shard(task)
    with pytest.raises(FormulaeError, match="^the forms of shard 3 at level stem: this worker runs other formulae code"):
        form_shard(task | {"code_sha": "0" * 16})
