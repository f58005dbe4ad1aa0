"""Phrase-engine benchmark on ungdc: the engine against three baselines, same tokens.

Subset (default 4,000 speeches, doc order), n = 1..5, statement frequency >= 2, all
counting the same tokens (the ``norm`` form stream of ``tokens_level``; nothing crosses a
sentence), each in a fresh process (wall time of the counting inside the process; peak
resident memory of the process from wait4):

- engine:   ``phrases_scan`` (suffix array + LCP; also finds the maximal phrases, DP and
            association measures), median of ``--runs`` runs before and ``--runs`` after
            the baselines (the shared machine's load drifts over minutes);
- nltk:     plain Python, ``nltk.util.ngrams`` + ``Counter`` per sentence, a set per
            statement for the statement frequency;
- sklearn:  ``CountVectorizer(ngram_range=(1, 5), min_df=2)`` on the tokens (a sentence
            separator token keeps n-grams inside sentences; n-grams containing it are
            dropped afterwards); freq = column sums, statements = column non-zeros;
- conc:     the ``conc`` package (PyPI) in its own venv (``--conc-python``, default
            ``bench/.venv/conc/bin/python``; skipped with a note if missing): each form is
            given as an opaque token ``t<id>`` and sentences are separated by ``.`` so
            ``ngram_frequencies(exclude_punctuation=True)`` stays inside sentences; its build
            (spaCy ``blank:en`` tokenisation) and its counting are timed apart, the counting
            alone is compared.

Every result is checked to hold exactly the same (n-gram, freq, statements) rows.

Full corpus: ``index_build`` of all of ungdc at ``norm`` (tokenise + forms + index + write;
peak memory), beside the floor: a plain read + lowercase + ``\\w+`` tokenise pass. Then
``formulae query`` wall time for the whole process (median of 5).

    uv run python bench/bench_phrases.py [--docs 4000] [--runs 3] [--skip-baselines]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child import ChildFailed, run_child_code

ROOT = Path(__file__).resolve().parent.parent
DATA = (ROOT / ".." / "shared" / "corpora" / "ungdc" / "ungdc_1946_2024.jsonl.gz").resolve()
DECL = ROOT / "tests" / "corpora" / "ungdc.yml"
CONC_PY = ROOT / "bench" / ".venv" / "conc" / "bin" / "python"

PREPARE = """
import polars as pl
from analysis.ingest.snapshot import corpus_ingest, corpus_load
from analysis.text.tokens import tokens_build, tokens_level
corpus_ingest({decl!r}, store={store!r})
st = corpus_load('ungdc', {store!r}).filter(pl.col('doc') < {docs})
toks = tokens_build(st, language='en', line_breaks='wrap')
stream = tokens_level(toks, 'norm').select('doc', 'sent', 'pos', 'start', 'end', 'form').collect()
stream.write_parquet({work!r} + '/subset.parquet')
vocab = stream['form'].unique().sort()
ids = stream['form'].cast(pl.Enum(vocab)).to_physical()
# conc input: opaque tokens t<id>, sentences separated by ' . ', one statement per row
(stream.with_columns(('t' + ids.cast(pl.String)).alias('tok'))
 .group_by('doc', 'sent', maintain_order=True).agg(pl.col('tok').str.join(' '))
 .group_by('doc', maintain_order=True).agg(pl.col('tok').str.join(' . ').alias('text'))
 .select('text').write_csv({work!r} + '/conc.csv'))
pl.DataFrame({{'form': vocab}}).write_parquet({work!r} + '/vocab.parquet')
print(0, stream.height)
"""

LOAD_LISTS = """
import polars as pl
st = pl.read_parquet({work!r} + '/subset.parquet')
sents = st.group_by('doc', 'sent', maintain_order=True).agg('form')
docs = sents.group_by('doc', maintain_order=True).agg('form')['form'].to_list()
"""

CHILD = {
    "floor": """
import time, polars as pl
t = time.perf_counter()
df = pl.read_ndjson({data!r}, schema={{'text': pl.String}})
n = df.select(pl.col('text').str.to_lowercase().str.extract_all(r'\\w+').list.len().sum()).item()
print(time.perf_counter() - t, n)
""",
    "engine": """
import time, numpy as np, polars as pl
from analysis.phrases.engine import phrases_scan
from analysis.phrases.strings import phrase_strings
st = pl.read_parquet({work!r} + '/subset.parquet')
nd = int(st['doc'].max()) + 1
docs = pl.DataFrame({{'doc': np.arange(nd, dtype=np.uint32), 'canon': np.arange(nd, dtype=np.uint32)}})
t = time.perf_counter()
sc = phrases_scan(st, docs, max_n=5, min_statements=2)
dt = time.perf_counter() - t
g = sc.ngrams
out = pl.DataFrame({{'ngram': phrase_strings(sc.ids, sc.vocab['form'], g['pos'].to_numpy(), g['n'].to_numpy()),
                    'freq': g['freq'].cast(pl.Int64), 'statements': g['statements'].cast(pl.Int64)}})
out.write_parquet({work!r} + '/out-engine.parquet')
print(dt, out.height)
""",
    "nltk": LOAD_LISTS + """
import time
from collections import Counter
from nltk.util import ngrams
t = time.perf_counter()
freq, df = Counter(), Counter()
for doc in docs:
    seen = set()
    for sent in doc:
        for n in range(1, 6):
            grams = list(ngrams(sent, n))
            freq.update(grams)
            seen.update(grams)
    df.update(seen)
rows = [(' '.join(g), freq[g], d) for g, d in df.items() if d >= 2]
dt = time.perf_counter() - t
pl.DataFrame(rows, schema=['ngram', 'freq', 'statements'], orient='row').write_parquet({work!r} + '/out-nltk.parquet')
print(dt, len(rows))
""",
    "sklearn": LOAD_LISTS + """
import time
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
SEP = '\\x00'
texts = [[w for i, s in enumerate(doc) for w in ([SEP] if i else []) + s] for doc in docs]
t = time.perf_counter()
cv = CountVectorizer(ngram_range=(1, 5), min_df=2, analyzer='word', tokenizer=lambda x: x,
                     preprocessor=lambda x: x, lowercase=False, token_pattern=None)
X = cv.fit_transform(texts).tocsc()
names = cv.get_feature_names_out()
freq = np.asarray(X.sum(axis=0)).ravel()
df = np.diff(X.indptr)
keep = np.array([SEP not in g for g in names])
dt = time.perf_counter() - t
pl.DataFrame({{'ngram': names[keep], 'freq': freq[keep].astype(np.int64), 'statements': df[keep].astype(np.int64)}}).write_parquet({work!r} + '/out-sklearn.parquet')
print(dt, int(keep.sum()))
""",
    "conc": """
import time, tempfile, logging
import polars as pl
import spacy.language as L
L.Language.disable_pipes = lambda self, names: None  # blank:en has no pipes to disable
from conc.corpus import Corpus
from conc.ngrams import Ngrams
logging.disable(logging.WARNING)
vocab = pl.read_parquet({work!r} + '/vocab.parquet')['form'].to_list()
t = time.perf_counter()
c = Corpus('ungdc-subset').build_from_csv({work!r} + '/conc.csv', tempfile.mkdtemp(dir={work!r}), model='blank:en')
build = time.perf_counter() - t
t = time.perf_counter()
ng = Ngrams(c)
parts = []
for n in range(1, 6):
    r = ng.ngram_frequencies(ngram_length=n, page_size=10**9, show_document_frequency=True)
    parts.append(r.df.filter(pl.col('document_frequency') >= 2).select('ngram', 'frequency', 'document_frequency'))
dt = time.perf_counter() - t
out = pl.concat(parts)
forms = pl.Series(vocab)
out = out.with_columns(pl.col('ngram').str.split(' ').list.eval(pl.element().str.slice(1).cast(pl.Int64)).alias('_ids'))
out = out.with_columns(pl.col('_ids').list.eval(pl.element().map_elements(lambda i: vocab[i], return_dtype=pl.String)).list.join(' ').alias('ngram'))
out.select('ngram', pl.col('frequency').cast(pl.Int64).alias('freq'), pl.col('document_frequency').cast(pl.Int64).alias('statements')).write_parquet({work!r} + '/out-conc.parquet')
print(dt, out.height, build)
""",
    "full": """
import time
from analysis.phrases.build import index_build
steps = []
t = time.perf_counter()
last = [t]
def say(step):
    now = time.perf_counter(); steps.append((step, now - last[0])); last[0] = now
ix = index_build('ungdc', 'norm', {store!r}, progress=say, force=True)
dt = time.perf_counter() - t
# say(step) is called as a step starts: a step's time is the gap to the next call (or the end)
gaps = [x for _, x in steps[1:]] + [time.perf_counter() - last[0]]
print(dt, ix.manifest['tokens'], ix.manifest['ngrams'], ix.manifest['maximal'], ';'.join(f'{{s.replace(" ", "_")}}={{x:.1f}}' for (s, _), x in zip(steps, gaps)))
""",
}


def run_child(kind: str, fmt: dict, python: str | None = None) -> tuple[list[str], float]:
    """(stdout fields, peak MB of the child alone) of a CHILD step, or of raw code."""
    return run_child_code(CHILD[kind].format(**fmt) if kind in CHILD else kind, kind, python)


def cli_env(store: str, cached: bool) -> dict:
    """The environment of a ``formulae`` process on ``store``: with Python's bytecode cache
    on (in a temporary prefix, ``cached``), or every import compiled from source."""
    env = {**os.environ, "FORMULAE_STORE": store}
    if cached:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(store) / ".pycache")
    return env


FORMULAE = str(Path(sys.executable).parent / "formulae")  # the CLI of this environment


def wall(cmd: list[str], env: dict, runs: int, before=None) -> tuple[float, bytes]:
    """Median wall time of ``runs`` whole processes of ``cmd`` (one unmeasured run first,
    warming the page cache and the bytecode, unless ``before`` is given: it runs before
    each measured one) and the last output."""
    if before is None:
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    times, out = [], b""
    for _ in range(runs):
        if before is not None:
            before()
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, check=True, capture_output=True).stdout
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def import_floor(env: dict, runs: int) -> float:
    """Median wall time of a process that only imports numpy and polars: the floor of every
    command but ``query`` and ``kwic`` (which import neither)."""
    return wall([sys.executable, "-c", "import numpy, polars"], env, runs)[0]


def query_wall(store: str, runs: int = 5, cached: bool = False, command: str = "query") -> float:
    """Median wall time of a whole ``formulae query`` process (or ``kwic``: ``command``),
    after one run not measured (for ``kwic``, the first after an ingest makes the texts store).

    ``cached``: with Python's bytecode cache on (in a temporary prefix), as after a normal
    install; without it every import compiles from source (PYTHONDONTWRITEBYTECODE=1).
    """
    cmd = [FORMULAE, command, "sovereignty and territorial integrity", "--corpus", "ungdc", "--level", "norm",
           "-f", "csv"]
    return wall(cmd, cli_env(store, cached), runs)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--skip-full", action="store_true", help="only the subset comparison")
    ap.add_argument("--only-full", action="store_true", help="only the full-corpus build, floor and query")
    ap.add_argument("--conc-python", default=str(CONC_PY))
    args = ap.parse_args()
    if not DATA.is_file():
        raise SystemExit(f"missing {DATA}")
    import polars as pl

    with tempfile.TemporaryDirectory(prefix="bench-phrases-") as work:
        store = str(Path(work) / "store")
        fmt = {"data": str(DATA), "decl": str(DECL), "store": store, "work": work, "docs": args.docs}
        (_, tokens), _ = run_child(PREPARE.format(**fmt), fmt)
        if args.only_full:
            return full_corpus(fmt, store)
        print(f"subset: {args.docs} speeches, {int(tokens):,} tokens (norm), n = 1..5, statements >= 2", flush=True)
        rows = []
        eng = [run_child("engine", fmt) for _ in range(args.runs)]
        print("  engine: " + ", ".join(f"{float(f[0]):.1f} s" for f, _ in eng), flush=True)
        checked = ["engine"]
        conc_build = None
        if not args.skip_baselines:
            for name in ("sklearn", "nltk"):
                try:
                    f, mem = run_child(name, fmt)
                    rows.append((name, float(f[0]), mem, int(f[1])))
                    checked.append(name)
                    print(f"  {name}: {float(f[0]):.1f} s", flush=True)
                except ChildFailed as exc:
                    print(f"  {name}: FAILED ({str(exc).splitlines()[-1]})", flush=True)
            if Path(args.conc_python).exists():
                try:
                    f, mem = run_child("conc", fmt, python=args.conc_python)
                    rows.append(("conc (counting; build apart)", float(f[0]), mem, int(f[1])))
                    checked.append("conc")
                    print(f"  conc: {float(f[0]):.1f} s counting, {float(f[2]):.1f} s build", flush=True)
                    conc_build = float(f[2])
                except ChildFailed as exc:
                    print(f"  conc: FAILED ({str(exc).splitlines()[-1]})", flush=True)
            else:
                print(f"  conc: skipped (no venv at {args.conc_python}; see the module docstring)")
        if not args.skip_baselines:  # as many engine runs again after the baselines (load drifts)
            more = [run_child("engine", fmt) for _ in range(args.runs)]
            print("  engine again: " + ", ".join(f"{float(f[0]):.1f} s" for f, _ in more), flush=True)
            eng += more
        e_time = statistics.median(float(f[0]) for f, _ in eng)
        rows.insert(0, ("engine (suffix array)", e_time, max(m for _, m in eng), int(eng[0][0][1])))
        ref = pl.read_parquet(Path(work) / "out-engine.parquet").sort("ngram")
        agree = {name: pl.read_parquet(Path(work) / f"out-{name}.parquet").sort("ngram").equals(ref)
                 for name in checked[1:]}

        print("\n| subset counting (same tokens) | median s | peak MB | n-grams (statements >= 2) |")
        print("|---|---|---|---|")
        for name, sec, mem, n in rows:
            print(f"| {name} | {sec:.2f} | {mem:,.0f} | {n:,} |")
        if conc_build is not None:
            print(f"(conc build, spaCy blank:en tokenisation, not compared: {conc_build:.1f} s)")
        base = rows[1:]
        if base:
            fastest = min(base, key=lambda r: r[1])
            print(f"\nengine vs fastest baseline ({fastest[0]}): {fastest[1] / e_time:.1f}x faster (target >= 10x)")
        print("agreement with the engine: " + (", ".join(f"{k}: {'identical' if v else 'DIFFERENT'}"
                                                         for k, v in agree.items()) or "no baselines run"))

        if not args.skip_full:
            full_corpus(fmt, store)


def full_corpus(fmt: dict, store: str) -> None:
    """The whole ungdc: floor, index_build at norm (peak memory), formulae query wall time."""
    floor, fmem = run_child("floor", fmt)
    full, mem = run_child("full", fmt)
    print(f"\nfull ungdc: floor (read + lowercase + \\w+ tokenise): {float(floor[0]):.1f} s, {fmem:,.0f} MB")
    print(f"full ungdc: index_build norm: {float(full[0]):.1f} s, peak {mem:,.0f} MB "
          f"({int(full[1]):,} tokens, {int(full[2]):,} n-grams, {int(full[3]):,} maximal phrases)")
    print(f"  steps: {full[4]}")
    print(f"formulae query (whole process, median of 5): {query_wall(store, cached=True):.2f} s with bytecode "
          f"cached, {query_wall(store):.2f} s compiling every import (PYTHONDONTWRITEBYTECODE)")


if __name__ == "__main__":
    main()
