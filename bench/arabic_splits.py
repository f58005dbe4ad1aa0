"""Why an Arabic corpus at ``clitic`` (``stem``, ``lemma``) is never indexed as a layer:
a day's articles change the clitic splits of words already indexed.

On ``../shared/corpora/saudinewsnet`` (31,030 articles, 2015-07-21 to 2015-08-11, by
day), for each of the last three days: the corpus's words counted up to the day before
(the base) and with the day (the whole), one Analyzer of each
(:meth:`analysis.text.analyzer.Analyzer.for_corpus`), and every distinct word of Arabic
letters of the base split by both (:meth:`Analyzer.parts`). A word split differently
has other forms in every statement of the base that holds it, so the base's index is not
the whole corpus's and no layer over it equals a whole build
(:func:`analysis.phrases.delta.count_free`). Prints the added articles, the base's
distinct Arabic words and how many of them split differently, with a few examples. The
same corpus at ``norm`` reads no count and is a layer. A measurement of behaviour, not
of time: no baseline.

    uv run python bench/arabic_splits.py [--store DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import polars as pl

from analysis.ingest.snapshot import corpus_ingest, corpus_load, corpus_manifest
from analysis.text.analyzer import ARABIC_WORD, Analyzer
from analysis.text.tokens import tokens_build

ROOT = Path(__file__).resolve().parent.parent
DECLARATION = ROOT / "tests" / "corpora" / "saudinewsnet.yml"


def vocab(words: pl.DataFrame) -> pl.DataFrame:
    """``norm``, ``len``: the words' counts, as the index's build gives them to the Analyzer."""
    return words.group_by("norm").agg(pl.len().cast(pl.UInt32).alias("len")).sort("norm")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="a store to ingest saudinewsnet into (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or tmp
        corpus_ingest(DECLARATION, store=store)
        manifest = corpus_manifest("saudinewsnet", store)
        st = corpus_load("saudinewsnet", store).select("doc", "text", "date").collect()
        words = (tokens_build(st.lazy().select("doc", "text"), language="ar",
                              line_breaks=manifest.get("line_breaks", "paragraph"))
                 .filter(pl.col("kind") == "word").select("doc", "norm").collect()
                 .join(st.select("doc", "date"), on="doc"))
        days = sorted(st["date"].drop_nulls().unique().to_list())
        print(f"saudinewsnet: {st.height:,} articles, {words.height:,} words, {len(days)} days")
        for day in days[-3:]:
            base, whole = words.filter(pl.col("date") < day), words.filter(pl.col("date") <= day)
            old, new = (Analyzer.for_corpus(manifest, vocab=vocab(w)) for w in (base, whole))
            arabic = vocab(base).filter(pl.col("norm").str.contains(ARABIC_WORD))["norm"].to_list()
            moved = [w for w in arabic if old.parts(w) != new.parts(w)]
            added = st.filter(pl.col("date") == day).height
            print(f"{day}: {added:,} articles added to {st.filter(pl.col('date') < day).height:,}; "
                  f"{len(moved):,} of the base's {len(arabic):,} distinct Arabic words split differently "
                  f"({len(moved) / max(len(arabic), 1):.2%}), e.g. "
                  + ", ".join(f"{w} {'+'.join(old.parts(w)[0])} -> {'+'.join(new.parts(w)[0])}" for w in moved[:3]))


if __name__ == "__main__":
    main()
