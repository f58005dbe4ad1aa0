"""Formula-candidate benchmark: ``formulae candidates`` against ``phrases --maximal --sort g2``.

For each corpus of the labelled development set (``tests/data/formulae_devset.yml``),
in the same run and on the same stored index:

- quality: precision@50 (share of the first 50 rows that are a labelled formula) and
  recall@500 (share of the labelled formulae among the first 500 rows) of
  ``formulae_candidates`` and of ``phrases_table(maximal=True, sort="g2")``. A row
  matches a formula when, with function words cut from both edges, it is the formula's
  forms at the index level (so ``the peaceful settlement of disputes`` in the g2 list
  counts for ``peaceful settlement of disputes``: the baseline is not penalised for edges);
- families: wall time and peak memory of ``families_find`` (stem index built first, not
  timed), number of families, the largest family's wordings, mean cohesion, and the
  wordings by kind (exact / permutation / insertion / substitution);
- speed: wall time of ``formulae_candidates`` (full corpus, each in a fresh process) beside
  the baseline of opening the index and reading its maximal-phrase table, and of the
  ``phrases --sort g2`` query; peak resident memory of each process.

    uv run python bench/bench_candidates.py [--store DIR] [--corpus ungdc --corpus saudinewsnet]

Without ``--store`` a temporary store is made and the corpora ingested and indexed first
(not timed).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from child import run_child_code

from analysis.formulae.lexicon import lexicon_user_words
from analysis.text.segment import words_of
from analysis.vocab import SEGMENTED_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
DECL = {"ungdc": ROOT / "tests" / "corpora" / "ungdc.yml",
        "saudinewsnet": ROOT / "tests" / "corpora" / "saudinewsnet.yml",
        "cn-mfa": ROOT / "tests" / "corpora" / "cn-mfa.yml"}

PREPARE = """
from analysis.ingest.snapshot import corpus_ingest
from analysis.phrases.build import index_build
c = corpus_ingest({decl!r}, store={store!r}).corpus
index_build(c, None, {store!r})
print(c)
"""

BASELINE = """
import time, polars as pl
t = time.perf_counter()
from analysis.phrases.index import index_load
ix = index_load({corpus!r}, None, {store!r})
ix.table("maximal").collect()
print(time.perf_counter() - t)
"""

G2 = """
import time, json
J = {j}
t = time.perf_counter()
from analysis.phrases.query import phrases_table
frame = phrases_table({corpus!r}, maximal=True, sort="g2", limit=500, store={store!r}).frame
print(time.perf_counter() - t)
print(J(frame["phrase"].to_list()))
"""

CANDIDATES = """
import time, json
J = {j}
t = time.perf_counter()
from analysis.formulae.candidates import formulae_candidates
res = formulae_candidates({corpus!r}, store={store!r}, limit=500)
print(time.perf_counter() - t)
print(J(res.frame["phrase"].to_list()))
print(J(res.frame["name"].to_list()))
"""

FAMILIES = """
import time
t = time.perf_counter()
from analysis.formulae.families import families_find
from analysis.phrases.view import CorpusView
view = CorpusView({corpus!r}, {store!r}, rebuild=False)
view.index({level!r})
if view.language == "zh":
    from analysis.formulae.lexicon import lexicon_user_words
    view.word_flags("norm", lexicon_user_words("zh"))  # jieba words, computed once, not timed
t0 = time.perf_counter()
fam = families_find(view)
kinds = dict(fam.variants.group_by("kind").len().sort("kind").iter_rows())
print(time.perf_counter() - t0, fam.frame.height, int(fam.frame["variants"].max()),
      round(float(fam.frame["cohesion"].mean()), 3), "/".join(f"{{k}}:{{v}}" for k, v in kinds.items()))
"""

PREPARE_STEM = """
from analysis.phrases.build import index_build
index_build({corpus!r}, "clitic", {store!r})
index_build({corpus!r}, "stem", {store!r})
print("ok")
"""

GOLD = """
import json, yaml
J = {j}
import polars as pl
from analysis.phrases.strings import ideographs_joined
from analysis.phrases.index import index_load
ix = index_load({corpus!r}, None, {store!r})
entries = yaml.safe_load(open({devset!r}, encoding="utf-8"))[{corpus!r}]["formulae"]
def F(e):  # forms joined as the ranked rows are (no space between two ideographs)
    return ideographs_joined(pl.Series([" ".join(ix.forms_of(e["phrase"]))]))[0]
forms = sorted({{F(e) for e in entries}})
known = sorted({{F(e) for e in entries if e["found"] == "known"}})
print(ix.snapshot.get("language", "en"), J(forms), J(known))
"""

J = "lambda x: json.dumps(x, ensure_ascii=True, separators=(',', ':')).replace(' ', '\\\\u0020')"
DEVSET = ROOT / "tests" / "data" / "formulae_devset.yml"


def trim(phrase: str, edges: frozenset[str], language: str = "en") -> str:
    """``phrase`` without function words (or tokens of fewer than two letters, as the
    candidates' content rule) at either edge. Chinese: the words are jieba's (with the
    lexicon's wordings as user words) and a content word needs one letter."""
    least = 1 if language in SEGMENTED_LANGUAGES else 2

    def cut(w: str) -> bool:
        return w in edges or sum(c.isalpha() for c in w) < least

    if language in SEGMENTED_LANGUAGES:
        words = words_of(phrase, lexicon_user_words(language))
        while words and cut(words[0]):
            words.pop(0)
        while words and cut(words[-1]):
            words.pop()
        return "".join(words)
    words = phrase.split()
    while words and cut(words[0]):
        words.pop(0)
    while words and cut(words[-1]):
        words.pop()
    return " ".join(words)


def score(ranked: list[str], gold: set[str], edges: frozenset[str], language: str = "en"
          ) -> tuple[float, float, list[str]]:
    """(precision@50, recall@500, gold formulae found in the first 500)."""
    keys = [trim(p, edges, language) for p in ranked]
    p50 = sum(k in gold for k in keys[:50]) / 50
    found = sorted(gold & set(keys[:500]))
    return p50, len(found) / len(gold), found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", default=None)
    ap.add_argument("--corpus", action="append", default=None)
    args = ap.parse_args()
    store = args.store or tempfile.mkdtemp(prefix="bench_candidates_")
    from analysis.text.function_words import function_words

    for name in args.corpus or ["ungdc", "saudinewsnet", "cn-mfa"]:
        (corpus,), _ = run_child_code(PREPARE.format(decl=str(DECL[name]), store=store), f"prepare {name}")
        (language, gold_json, known_json), _ = run_child_code(GOLD.format(corpus=corpus, store=store, devset=str(DEVSET), j=J), f"gold {name}")
        edges = function_words(language)
        forms = {trim(f, edges, language) for f in json.loads(gold_json)}
        known = {trim(f, edges, language) for f in json.loads(known_json)}
        (t_load,), mb_load = run_child_code(BASELINE.format(corpus=corpus, store=store), "baseline")
        (t_g2, g2_json), mb_g2 = run_child_code(G2.format(corpus=corpus, store=store, j=J), "g2")
        (t_c, c_json, names_json), mb_c = run_child_code(CANDIDATES.format(corpus=corpus, store=store, j=J), "candidates")
        t_load, t_g2, t_c = float(t_load), float(t_g2), float(t_c)
        g2 = score(json.loads(g2_json), forms, edges, language)
        cand = score(json.loads(c_json), forms, edges, language)
        print(f"{corpus}: {len(forms)} labelled formulae")
        print(f"  phrases --maximal --sort g2: precision@50 {g2[0]:.2f}  recall@500 {g2[1]:.2f}  "
              f"({t_g2:.1f} s, {mb_g2:.0f} MB)")
        print(f"  candidates:                  precision@50 {cand[0]:.2f}  recall@500 {cand[1]:.2f}  "
              f"({t_c:.1f} s, {mb_c:.0f} MB; names in top 50: {sum(json.loads(names_json)[:50])})")
        print(f"  baseline index load + maximal table: {t_load:.1f} s ({mb_load:.0f} MB); "
              f"candidates / baseline = {t_c / t_load:.1f}x")
        if known != forms:
            print(f"  'known' entries only ({len(known)}): recall@500 g2 {score(json.loads(g2_json), known, edges, language)[1]:.2f}, "
                  f"candidates {score(json.loads(c_json), known, edges, language)[1]:.2f}")
        missed = sorted(forms - set(cand[2]))
        print(f"  not in the first 500 candidates: {'; '.join(missed) or '-'}")
        level = "norm" if language in SEGMENTED_LANGUAGES else "stem"
        if level == "stem":
            run_child_code(PREPARE_STEM.format(corpus=corpus, store=store), "stem index")
        (t_f, n_f, big, coh, kinds), mb_f = run_child_code(FAMILIES.format(corpus=corpus, store=store, level=level),
                                                           "families")
        print(f"  families ({level} index built): {float(t_f):.1f} s, peak {mb_f:.0f} MB; {n_f} families, "
              f"largest {big} wordings, mean cohesion {coh}; wordings by kind {kinds}")


if __name__ == "__main__":
    main()
