"""Benchmark: tokenise and index cn-mfa (Chinese, a character a token), beside a plain
read pass in the same run.

On the 5,017 answers of ``../shared/corpora/cn-mfa`` (about 1.58 M characters), in one
process, each step ``REPEATS`` times (median reported, with the spread):

* ``read``: ``polars.read_ndjson`` of the gzipped file (decompress + parse), the floor;
* ``python pass``: a plain Python pass over every character of every text
  (``str.isspace`` on each), what the simplest per-character code costs;
* ``tokens scan`` / ``tokens regex``: :func:`analysis.text.tokens.tokens_build` with the
  compiled scanner and with the regular expression (every token with offsets, kind,
  paragraph and sentence numbers and the normalised form), collected;
* ``index norm``: :func:`analysis.phrases.build.index_build` at ``norm`` on the ingested
  snapshot (tokenise, form stream, suffix array, n-grams, maximal phrases), forced;
* ``jieba words``: :func:`analysis.text.segment.word_spans`, every text segmented once by
  jieba with the lexicon's Chinese wordings as user words (dictionary loaded before);
* ``word flags``: the same plus :func:`analysis.text.segment.word_flags` on the index's
  token stream (what :meth:`CorpusView.word_flags` computes once and caches beside the
  index, for candidate edges and word-level families).

Characters per second are over the characters of the texts. Wall and process CPU time
are both printed (the machine is shared; CPU time is disturbed least by others' load).

    uv run python bench/bench_cn.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = (ROOT / ".." / "shared" / "corpora" / "cn-mfa" / "cn_mfa_2020_2022h1.jsonl.gz").resolve()
DECLARATION = ROOT / "tests" / "corpora" / "cn-mfa.yml"
REPEATS = 3


def _timed(fn, repeats: int = REPEATS) -> tuple[float, float, float, float]:
    """(median wall, min wall, max wall, median CPU) seconds of ``fn()`` over ``repeats`` runs."""
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), min(walls), max(walls), statistics.median(cpus)


def main() -> None:
    import polars as pl

    sys.path.insert(0, str(ROOT))
    from analysis.ingest.snapshot import corpus_ingest
    from analysis.phrases.build import index_build
    from analysis.text.tokens import tokens_build

    frame = pl.read_ndjson(DATA).select(pl.col("text").fill_null("")).with_row_index("doc")
    texts = frame["text"].to_list()
    chars = sum(map(len, texts))

    def python_pass() -> int:
        return sum(1 for t in texts for ch in t if not ch.isspace())

    def tokens(engine: str):
        return lambda: tokens_build(frame, language="zh", line_breaks="paragraph", engine=engine).collect()

    n_tokens = tokens("scan")().height  # also compiles / loads the scanner once
    store = Path(tempfile.mkdtemp(prefix="bench-cn-"))
    corpus = corpus_ingest(DECLARATION, store=store).corpus
    from analysis.formulae.lexicon import lexicon_user_words
    from analysis.phrases.view import CorpusView
    from analysis.text.segment import segmenter, word_flags, word_spans

    user = lexicon_user_words("zh")
    segmenter(user, store / ".cache" / "jieba")  # dictionary load, not timed
    index_build(corpus, "norm", store)
    toks, _ = CorpusView(corpus, store, rebuild=False).stream("norm")
    snap = pl.read_parquet(store / corpus / "snapshot" / "statements.parquet").sort("doc")["text"].to_list()

    def flags():
        spans = word_spans(snap, user, store / ".cache" / "jieba")
        return word_flags(spans, toks["doc"].to_numpy(), toks["start"].to_numpy(), toks["end"].to_numpy())

    steps = {
        "read": lambda: pl.read_ndjson(DATA),
        "python pass": python_pass,
        "tokens scan": tokens("scan"),
        "tokens regex": tokens("regex"),
        "index norm": lambda: index_build(corpus, "norm", store, force=True),
        "jieba words": lambda: word_spans(snap, user, store / ".cache" / "jieba"),
        "word flags": flags,
    }
    print(f"cn-mfa: {len(texts):,} answers, {chars:,} characters, {n_tokens:,} tokens "
          f"(load {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print(f"{'step':<14}{'wall s (min-max)':>24}{'cpu s':>8}{'M chars/s':>11}{'x read':>8}")
    base = None
    for name, fn in steps.items():
        wall, lo, hi, cpu = _timed(fn)
        base = base or wall
        print(f"{name:<14}{wall:>10.3f} ({lo:.3f}-{hi:.3f}){cpu:>8.3f}{chars / wall / 1e6:>11.2f}{wall / base:>8.1f}")


if __name__ == "__main__":
    main()
