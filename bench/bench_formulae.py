"""Formulae benchmark: variant families + a full compare on the full ungdc corpus.

Setup (timed once, reported, not part of the target): ingest tests/corpora/ungdc.yml into
a store and build its phrase index at level ``norm`` (the phrase engine's work).

Then, interleaved, each in a fresh process (wall time of the work inside the process;
peak resident memory of the process from wait4):

- baseline:  a plain pass over the same data: open the stored index, load the form stream
             (doc, sentence, position, offsets, form id for 36 M tokens) and count every
             (statement, form) pair with one polars group_by
- families:  ``families_find(ungdc, level="norm", min_statements=20)``
- subset:    the same families of the speeches from 1960 on (a ``where`` filter: counted
             afresh, the suffixes kept from the index's; not in the targets)
- compare:   ``stat_compare(ungdc, "year=1970..1979", "year=2010..2019")``: every lexicon
             formula and every maximal recurring phrase in >= 5 statements, G² + Log Ratio
             on tokens and on statements

Each child loads the corpus view itself, so families and compare include opening the index.
Prints medians, the ratio to the baseline, families + compare together (target < 30 s) and
the peak memory (target < 3 GB).

    uv run python bench/bench_formulae.py [--runs 3] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from child import ChildFailed, interleaved, print_medians, run_child_code

ROOT = Path(__file__).resolve().parent.parent
DECL = ROOT / "tests" / "corpora" / "ungdc.yml"

PRELUDE = """
import time
from analysis.phrases.view import CorpusView
t = time.perf_counter()
v = CorpusView('ungdc', {store!r}, rebuild=False)  # the index built in setup, as it is
"""
CHILD = {
    "baseline": PRELUDE + """
import polars as pl
toks, vocab = v.stream('norm')
n = toks.group_by('doc', 'fid').len().height
print(time.perf_counter() - t, n)
""",
    "families": PRELUDE + """
from analysis.formulae.families import families_find
f = families_find(v, level='norm', min_statements=20)
print(time.perf_counter() - t, f.frame.height)
""",
    "subset": PRELUDE + """
from analysis.formulae.families import families_find
from analysis.ingest.where import filter_parse
f = families_find(v, level='norm', min_statements=20, where=filter_parse('year>=1960'))
print(time.perf_counter() - t, f.frame.height)
""",
    "compare": PRELUDE + """
from analysis.stats.compare import stat_compare
c = stat_compare(v, 'year=1970..1979', 'year=2010..2019', phrase_min_statements=5)
print(time.perf_counter() - t, c.frame.height)
""",
}


def run_child(kind: str, store: str) -> tuple[float, float, int]:
    """(seconds, peak MB of the child alone, result count) of one step."""
    try:
        (seconds, count), peak = run_child_code(CHILD[kind].format(store=store), kind)
    except ChildFailed as exc:
        raise SystemExit(str(exc)) from None
    return float(seconds), peak, int(count)


SETUP = """
import time
from analysis.ingest.snapshot import corpus_ingest
from analysis.phrases.build import index_build
t = time.perf_counter()
corpus_ingest({decl!r}, store={store!r})
t1 = time.perf_counter()
ix = index_build("ungdc", "norm", store={store!r})
t2 = time.perf_counter()
print(f"setup (not in the target): ingest {{t1 - t:.1f}} s, phrase index (norm) {{t2 - t1:.1f}} s "
      f"({{ix.manifest.get('tokens', 0):,}} tokens, {{ix.manifest.get('maximal', 0):,}} maximal phrases; "
      "reused when already built)")
"""


def setup(store: str) -> None:
    """Ingest + index in a child process, so this parent stays small: a child's peak RSS
    (wait4) would otherwise include the parent's memory at fork time."""
    code = SETUP.format(decl=str(DECL), store=store)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode != 0:
        raise SystemExit(f"setup failed:\n{proc.stderr}")
    sys.stdout.write(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--store", default=None, help="store to (re)use; default: a temporary one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-formulae-") as tmp:
        store = args.store or tmp
        setup(store)
        results = interleaved(CHILD, args.runs, lambda kind: run_child(kind, store))
    print(f"ungdc formulae benchmark: {args.runs} runs each, interleaved; cpus={os.cpu_count()}")
    med = print_medians(results, width=10, digits=2, last="rows")
    both = med["families"] + med["compare"]
    peak = max(r[1] for k in ("families", "compare") for r in results[k])
    print(f"ratio families / baseline: {med['families'] / med['baseline']:.2f}x; "
          f"compare / baseline: {med['compare'] / med['baseline']:.2f}x")
    print(f"families of the speeches from 1960 on (not in the targets): {med['subset'] / med['baseline']:.2f}x")
    print(f"families + compare: {both:.1f} s  (target < 30 s: {'ok' if both < 30 else 'MISSED'})")
    print(f"peak memory: {peak:.0f} MB  (target < 3072 MB: {'ok' if peak < 3072 else 'MISSED'})")


if __name__ == "__main__":
    main()
