"""Sharded index benchmark on the full ungdc (10,952 speeches, 32 M tokens at ``norm``).

Every step runs in a fresh process (bench/child.py), the ingest before it in a process of
its own; peak memory (VmHWM: the index build's own) is reported for the main process and, apart, for
the largest worker process (shard, suffix-array piece or tables) (each worker reports
its own in the shard catalog; a shard tokenised in the main process counts there).
Baselines are measured in the same run. Under each build, its steps' wall seconds (its
progress messages, timed: plan, tokenise, streams, pieces, tables, write) and the CPU
seconds of the building process and its workers, user and system (the kernel's share:
on a virtual machine, first writes to long-free pages cost it most); the catalog
(``catalog.json``) holds each task's own seconds and CPU seconds.

0. warm-up: a small corpus (ungdc's 1946-1950 speeches) indexed, so that numba's compiled kernels are cached
   on disk before anything is timed (a fresh checkout compiles them on its first run);
1. floor: a plain read + lowercase + ``\\w+`` tokenise pass over the same file
   (bench_phrases's floor), and
2. sharded: ``index_build`` at ``norm`` from scratch (``--jobs``, default 2; default
   shard size), the issue's target: at most 3.6x the floor, no process above 1.5 GB.
   Steps 1 and 2 run in turns ``--repeat`` times (default 3): the medians, and the
   median of each pair's ratio (a shared machine's load moves both);
3. single: the same index as one shard in one process, its n-grams counted by the
   one-process engine over all tokens (``build.PIECE_SCAN`` off: the oracle), and the
   check that both stores hold byte-identical index files;
4. incremental: the store re-ingested with 1946-2023 only and indexed (not timed: its
   shards come from step 2), then re-ingested with 2024 and indexed as a layer
   (``index_update``, timed: the issue's target is at most a fifth of step 2, medians);
   query and kwic results over the layers (a hash of a few phrases' tables) must equal
   step 2's; then the index built whole from the layered state (``index_build``, timed:
   the compaction that the readers of the corpus-wide tables do first), equal to step 2
   byte for byte; a whole ``formulae timeline`` process timed over the layers (before the
   compaction) and after it (what it cost before it read layers: the compaction and the
   timeline), its output equal to step 2's; ``--repeat`` times;
5. ``formulae query`` and ``formulae kwic`` wall times for the whole process (median of 5) on the sharded index,
   and over the layers;
6. growth: synthetic ungdc repeated k times (``--growth 2,5,10``; speeches with ids,
   years and sources shifted so nothing is dropped as a duplicate and every count is k
   times the 1x count) - time and peak memory, and a whole ``formulae query`` process on
   the grown index (its occurrences k times the first copy's); sizes that do not fit are
   printed as not run.

7. with ``--level stem`` (or ``clitic``) instead: ungdc at that analyzer level, counted in
   one process (``PIECE_SCAN`` off; the shards still tokenised in ``--jobs`` workers) and
   by the pieces (:mod:`analysis.phrases.formparts`) in turns, ``--repeat`` times, and
   their index files compared.

    uv run python bench/bench_shards.py [--jobs 2] [--growth 2] [--skip-single] [--base DIR] [--level stem]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_phrases import CHILD, FORMULAE, cli_env, query_wall, wall
from child import run_child_code

ROOT = Path(__file__).resolve().parent.parent
DATA = (ROOT / ".." / "shared" / "corpora" / "ungdc" / "ungdc_1946_2024.jsonl.gz").resolve()
DECL = ROOT / "tests" / "corpora" / "ungdc.yml"

# Peak memory is VmHWM (the process's own, since it started its program): ru_maxrss and
# wait4 carry a parent's size over fork + exec, so a spawned worker would report its parent's.
INGEST = """
from analysis.ingest.snapshot import corpus_ingest
corpus_ingest({decl!r}, store={store!r})
print(0)
"""

# the build in a process of its own (after the ingest's): its peak is the build's alone
BUILD = """
import json, time
from analysis.phrases.build import index_build
from analysis.phrases.pool import peak_mb
from analysis.phrases import build as _build
_build.PIECE_SCAN = {piece_scan}
steps = []  # (step, start): the build's progress messages, timed
t = time.perf_counter()
ix = index_build('ungdc', {level!r}, {store!r}, jobs={jobs}, shard_chars={shard_chars}, force={force},
                 progress=lambda step: steps.append((step, time.perf_counter())))
dt = time.perf_counter() - t
names = {{'planning': 'plan', 'tokenising the corpus': 'tokenise-here', 'tokenising': 'tokenise',
          'merging the': 'pieces', 'merging': 'streams', 'forms at': 'forms', 'surface map': 'surface',
          'encoding': 'encode', 'suffix array': 'sa', 'n-gram': 'tables', 'writing': 'write'}}
ends = [at for _, at in steps[1:]] + [t + dt]
short = [next((v for k, v in names.items() if step.startswith(k)), None) for step, _ in steps]
profile = ','.join(f'{{name}}:{{end - at:.1f}}' for name, (_, at), end in zip(short, steps, ends) if name) or '-'
cat = json.load(open(ix.folder / 'catalog.json'))
catalog = cat['shards']
tasks = [(s.get('peak_mb', 0), s.get('anon_mb', 0), 'shard ' + str(s['shard'])) for s in catalog if not s['reused']]
merge = cat.get('suffix_merge') or {{}}
tasks.append((merge.get('peak_mb', 0), merge.get('anon_mb', 0), merge.get('task', 'merge')))
top = max(tasks)  # the largest task by peak (its own high-water mark: pool.measured)
import resource  # CPU of this process and its workers (ended: their pool is joined), user and system
own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(dt, ix.manifest['tokens'], ix.manifest['shards'], ix.manifest['shards_reused'], peak_mb(), top[0],
      ix.manifest['ngrams'], ix.manifest['maximal'], max(t[1] for t in tasks),
      own.ru_utime + kids.ru_utime, own.ru_stime + kids.ru_stime, top[2].replace(' ', '_'), profile)
"""


BASE = """
import sys, time
sys.path.insert(0, {base!r})
import analysis
assert analysis.__file__.startswith({base!r}), analysis.__file__
from analysis.ingest.snapshot import corpus_ingest
from analysis.phrases.build import index_build
corpus_ingest({decl!r}, store={store!r})
t = time.perf_counter()
ix = index_build('ungdc', 'norm', {store!r}, force=True)
hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')][0].split()[1]
print(time.perf_counter() - t, ix.manifest['tokens'], int(hwm) / 1024)
"""


# statements appended as a layer (analysis/phrases/delta.py): the ingest, then the timed
# index_update; a hash of query and kwic results over the layers (QUERIES)
LAYER = """
import time
from analysis.ingest.snapshot import corpus_ingest
from analysis.phrases.build import index_update
from analysis.phrases.pool import peak_mb
corpus_ingest({decl!r}, store={store!r})
t = time.perf_counter()
ix = index_update('ungdc', 'norm', {store!r}, jobs={jobs})
dt = time.perf_counter() - t
print(dt, type(ix).__name__, ix.manifest['tokens'], peak_mb())
"""

# query and kwic results of a few phrases (literal, pattern, absent), hashed: equal over the
# layers and over the index built whole
PHRASES = ("territorial integrity", "sustainable development goals", "climate change", "artificial intelligence",
           "the * of", "(peace|war) and security", "gaza", "zzzqqq")
QUERIES = """
import hashlib, json
from analysis.phrases.query import query_kwic, query_phrase
h = hashlib.sha256()
for p in {phrases!r}:
    for r in (query_phrase('ungdc', p, level='norm', store={store!r}, by='year'),
              query_phrase('ungdc', p, level='norm', store={store!r}, by=None, distinct=True, date_from='2020'),
              query_kwic('ungdc', p, level='norm', store={store!r})):
        h.update(r.frame.write_csv().encode() + json.dumps([r.notes, r.params], sort_keys=True).encode())
print(h.hexdigest()[:16])
"""


def queries_hash(store: Path) -> str:
    out, _ = run_child_code(QUERIES.format(phrases=PHRASES, store=str(store)), f"queries {store.name}")
    return out[0]


def timeline_run(store: Path) -> tuple[float, str]:
    """(wall seconds, sha256 of its output) of a whole ``formulae timeline`` process on
    ungdc (a lexicon formula by year and source: the corpus view's stream, which reads
    the layers; the index built whole when they are not there)."""
    env = cli_env(str(store), cached=True)
    cmd = [FORMULAE, "timeline", "sovereignty-territorial-integrity",
           "--corpus", "ungdc", "-f", "csv"]
    t = time.perf_counter()
    got = subprocess.run(cmd, env=env, capture_output=True)
    if got.returncode:
        raise SystemExit(f"formulae timeline failed ({got.returncode}): {got.stderr.decode()[-2000:]}")
    return time.perf_counter() - t, hashlib.sha256(got.stdout).hexdigest()


def build(decl: Path, store: Path, jobs: int, shard_chars: int | None = None, force: bool = False,
          piece_scan: bool = True, level: str = "norm") -> dict:
    run_child_code(INGEST.format(decl=str(decl), store=str(store)), f"ingest {store.name}")
    code = BUILD.format(store=str(store), jobs=jobs, shard_chars=shard_chars, force=force, piece_scan=piece_scan,
                        level=level)
    out, _ = run_child_code(code, f"build {store.name}")
    keys = ("seconds", "tokens", "shards", "reused", "main_mb", "worker_mb", "ngrams", "maximal", "anon_mb",
            "user_s", "system_s")
    return dict(zip(keys, map(float, out[:-2]), strict=True)) | {"largest": out[-2], "steps": out[-1]}


def index_files(store: Path, level: str = "norm") -> dict[str, str]:
    folder = store / "ungdc" / "index" / level
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.rglob("*"))
            if f.is_file() and f.name not in ("manifest.json", "catalog.json")}


def write_corpus(folder: Path, keep_year: int | None = None, copies: int = 1) -> Path:
    """A declaration like tests/corpora/ungdc.yml over a rewritten copy of the data."""
    folder.mkdir(parents=True, exist_ok=True)
    span = 2024 - 1946 + 1
    with gzip.open(folder / "data.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) as dst:
        for k in range(copies):  # line by line: this process stays small (its children inherit its peak)
            for r in map(json.loads, gzip.open(DATA, "rt", encoding="utf-8")):
                if keep_year is not None and r["year"] > keep_year:
                    continue
                if k:
                    r = r | {"id": f"{r['id']}~{k}", "year": r["year"] + k * span,
                             "country_iso3": f"{r['country_iso3']}~{k}"}
                dst.write(json.dumps(r, ensure_ascii=False) + "\n")
    decl = DECL.read_text(encoding="utf-8").replace("../../../shared/corpora/ungdc/ungdc_1946_2024.jsonl.gz",
                                                    str(folder / "data.jsonl.gz"))
    (folder / "ungdc.yml").write_text(decl, encoding="utf-8")
    return folder / "ungdc.yml"


def line(label: str, r: dict, extra: str = "") -> str:
    """A build's line (``extra`` at its end), then its steps' wall seconds."""
    return (f"{label:<28} {r['seconds']:>7.1f} s  main {r['main_mb']:>6,.0f} MB  worker {r['worker_mb']:>6,.0f} MB"
            + (f" ({r['largest'].replace('_', ' ')}; anonymous at most {r['anon_mb']:,.0f} MB)" if r["anon_mb"]
               else " (in the building process)")
            + f"  {r['tokens']:>12,.0f} tokens  {r['shards']:>3.0f} shards ({r['reused']:.0f} reused)" + extra
            + f"\n{'':<30}steps (s): {r['steps'].replace(',', ', ')}"
            + f"\n{'':<30}CPU: user {r['user_s']:.1f} s, system {r['system_s']:.1f} s "
              f"({r['system_s'] / max(r['user_s'] + r['system_s'], 1e-9):.0%} in the kernel; this process and its workers)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--growth", default="2", help="synthetic sizes to run (comma separated; 1x is step 2)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the floor, the full build and the incremental "
                    "build (medians; each full build's ratio to the floor run just before it)")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--growth-only", action="store_true", help="the floor and the growth sizes only")
    ap.add_argument("--level", help="instead of all the above: ungdc at this analyzer level (stem, clitic) "
                    "built --repeat times through the pieces, each beside the one-process path (PIECE_SCAN off) "
                    "on the same code, and their index files compared")
    ap.add_argument("--base", help="a checkout of the code before shards (e.g. `git archive cf7af3d`): "
                    "its index_build is timed in the same run")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"ungdc not found at {DATA}")
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        work = Path(tmp)
        run(work, args)


def run(work: Path, args) -> None:
    store = work / "store"
    # numba compiles the kernels on a checkout's first run and caches them on disk: a build
    # of a small corpus first, so that no timed build pays for compiling (up to 10 s)
    warm = build(write_corpus(work / "warm", keep_year=1950), work / "warm" / "store", args.jobs, force=True,
                 level=args.level or "norm")
    print(f"warm-up (ungdc 1946-1950, {warm['tokens']:,.0f} tokens)  {warm['seconds']:>7.1f} s", flush=True)
    shutil.rmtree(work / "warm", ignore_errors=True)
    if args.level:
        return level_runs(work, args)
    floors, fulls, want = [], [], {}
    for i in range(1 if args.growth_only else args.repeat):  # floor and build in turns: each ratio a pair's
        floor, fmem = run_child_code(CHILD["floor"].format(data=str(DATA)), "floor")
        floors.append(float(floor[0]))
        print(f"floor (read + lowercase + \\w+ tokenise)  {floors[-1]:>7.1f} s  peak {fmem:,.0f} MB", flush=True)
        if args.growth_only:
            return growth(work, args, None)
        fulls.append(build(DECL, store, args.jobs, force=True))
        files = index_files(store)
        want = want or files  # run 1's
        same = f"; index files {'IDENTICAL' if files == want else 'DIFFERENT'} to run 1's" if i else ""
        print(line(f"sharded, --jobs {args.jobs} (run {i + 1})", fulls[-1],
                   f"   {fulls[-1]['seconds'] / floors[-1]:.1f}x the floor{same}"), flush=True)
    floor_s, full_s = statistics.median(floors), statistics.median(r["seconds"] for r in fulls)
    full = sorted(fulls, key=lambda r: r["seconds"])[(len(fulls) - 1) // 2]  # the median run (lower of two)
    ratios = [r["seconds"] / f for r, f in zip(fulls, floors, strict=True)]
    print(f"median of {len(fulls)}: floor {floor_s:.1f} s, sharded build {full_s:.1f} s;"
          f" ratio of each pair {', '.join(f'{x:.1f}' for x in ratios)}: median {statistics.median(ratios):.1f}x"
          f" (target 3.6x); largest worker {max(r['worker_mb'] for r in fulls):,.0f} MB,"
          f" main {max(r['main_mb'] for r in fulls):,.0f} MB at most", flush=True)
    if args.base:
        out, _ = run_child_code(BASE.format(base=str(Path(args.base).resolve()), decl=str(DECL),
                                            store=str(work / "base")), "base")
        same = index_files(work / "base") == want
        print(f"{'before shards (' + Path(args.base).name + ')':<28} {float(out[0]):>7.1f} s  main "
              f"{float(out[2]):>6,.0f} MB   {float(out[0]) / floor_s:.1f}x the floor; index files "
              f"{'IDENTICAL' if same else 'DIFFERENT'} to the sharded build", flush=True)
    if not args.skip_single:
        single = build(DECL, work / "single", 1, shard_chars=1 << 40, force=True, piece_scan=False)
        same = index_files(work / "single") == want
        print(line("one process (engine oracle)", single, f"   {single['seconds'] / floor_s:.1f}x the floor;"
                   f" index files {'IDENTICAL' if same else 'DIFFERENT'} to the sharded build"), flush=True)
    old = write_corpus(work / "to2023", keep_year=2023)
    incs, layers, query_layered, timelines = [], [], None, []
    whole_hash = queries_hash(store)  # step 2's index, built whole
    timeline_run(store)  # bytecode and page cache warm
    timeline_hash = timeline_run(store)[1]
    for i in range(args.repeat):
        build(old, store, args.jobs)  # the 1946-2023 index (its shards are step 2's)
        out, _ = run_child_code(LAYER.format(decl=str(DECL), store=str(store), jobs=args.jobs), "layer")
        layers.append({"seconds": float(out[0]), "kind": out[1], "tokens": float(out[2]), "main_mb": float(out[3])})
        same = queries_hash(store) == whole_hash
        print(f"{f'layered: + 2024 session (run {i + 1})':<31} {layers[-1]['seconds']:>7.2f} s  main "
              f"{layers[-1]['main_mb']:>6,.0f} MB (the ingest's in that process too)   "
              f"{layers[-1]['tokens']:,.0f} tokens ({layers[-1]['kind']})   "
              f"{layers[-1]['seconds'] / full_s:.3f} of the median full build; query and kwic results "
              f"{'IDENTICAL' if same else 'DIFFERENT'} to the full build's", flush=True)
        if query_layered is None:
            query_layered = (query_wall(str(store), cached=True), query_wall(str(store), cached=True, command="kwic"))
        over, got = timeline_run(store)  # over the layers: no compaction
        t = time.perf_counter()
        incs.append(build(DECL, store, args.jobs))  # the layer built in whole (compaction)
        same = index_files(store) == want
        print(line(f"whole: + 2024 session (run {i + 1})", incs[-1],
                   f"   {incs[-1]['seconds'] / full_s:.2f} of the median full build;"
                   f" index files {'IDENTICAL' if same else 'DIFFERENT'} to the full build "
                   f"({time.perf_counter() - t:.1f} s with ingest and process start)"), flush=True)
        after, got_whole = timeline_run(store)
        timelines.append((over, incs[-1]["seconds"] + after))
        print(f"{f'timeline: + 2024 (run {i + 1})':<31} over the layers {over:.2f} s (whole process); the whole build"
              f" then the timeline {incs[-1]['seconds']:.1f} + {after:.2f} s; output "
              f"{'IDENTICAL' if got == got_whole == timeline_hash else 'DIFFERENT'} to the full build's", flush=True)
    lay_s, inc_s = statistics.median(r["seconds"] for r in layers), statistics.median(r["seconds"] for r in incs)
    print(f"median of {len(layers)}: layered {lay_s:.2f} s = {lay_s / full_s:.3f} of the median full build"
          " (target 0.2); whole (compaction: what the other readers build first)"
          f" {inc_s:.1f} s = {inc_s / full_s:.2f}", flush=True)
    over_s, whole_s = (statistics.median(t[k] for t in timelines) for k in (0, 1))
    print(f"median of {len(timelines)}: formulae timeline over the layers {over_s:.2f} s; the whole build and the"
          f" timeline after it {whole_s:.1f} s ({over_s / whole_s:.2f})", flush=True)
    for k, command in enumerate(("query", "kwic")):
        print(f"formulae {command} (whole process, median of 5): {query_wall(str(store), cached=True, command=command):.2f}"
              f" s; over the layers {query_layered[k]:.2f} s", flush=True)
    print(line("growth  1x", full), flush=True)
    growth(work, args, full)


def level_runs(work: Path, args) -> None:
    """ungdc at an analyzer level: counted in one process (the shards in ``--jobs`` workers)
    and by the pieces, in turns (each pair's ratio), the index files compared."""
    one, pieces = [], []
    for i in range(args.repeat):
        # the shards tokenised in --jobs workers as before, the suffix array and counting in this process
        one.append(build(DECL, work / "one", args.jobs, force=True, piece_scan=False, level=args.level))
        print(line(f"{args.level}, counted in one process (run {i + 1})", one[-1]), flush=True)
        pieces.append(build(DECL, work / "pieces", args.jobs, force=True, level=args.level))
        same = index_files(work / "pieces", args.level) == index_files(work / "one", args.level)
        print(line(f"{args.level}, pieces, --jobs {args.jobs} (run {i + 1})", pieces[-1],
                   f"   {pieces[-1]['seconds'] / one[-1]['seconds']:.2f} of the one-process build; index files "
                   f"{'IDENTICAL' if same else 'DIFFERENT'}"), flush=True)
    med = [statistics.median(r["seconds"] for r in runs) for runs in (one, pieces)]
    print(f"median of {len(one)}: one process {med[0]:.1f} s, pieces {med[1]:.1f} s = {med[1] / med[0]:.2f};"
          f" main at most {max(r['main_mb'] for r in one):,.0f} and {max(r['main_mb'] for r in pieces):,.0f} MB,"
          f" largest worker task {max(r['worker_mb'] for r in pieces):,.0f} MB", flush=True)


def growth(work: Path, args, full: dict | None) -> None:
    sizes = [int(x) for x in args.growth.split(",") if x.strip()]
    for k in sizes:
        decl = write_corpus(work / f"x{k}", copies=k)
        r = build(decl, work / f"x{k}" / "store", args.jobs, force=True)
        ok = "" if full is None else f"   tokens {'= ' if r['tokens'] == k * full['tokens'] else '!= '}{k} x 1x"
        print(line(f"growth {k:>2}x", r, ok), flush=True)
        print(f"{'':<30}{growth_query(work / f'x{k}' / 'store', k)}", flush=True)
        shutil.rmtree(work / f"x{k}", ignore_errors=True)  # the next size needs the disk
    skipped = [k for k in (2, 5, 10) if k not in sizes]
    if skipped:
        print("not run: growth " + ", ".join(f"{k}x" for k in skipped))


def growth_query(store: Path, k: int) -> str:
    """``formulae query`` on a grown store: its whole process's wall time (median of 5),
    and its occurrences, which must be ``k`` times those of the first copy's speeches
    (the rows whose source has no ``~``)."""
    cmd = [FORMULAE, "query", "sovereignty and territorial integrity", "--corpus", "ungdc", "--level", "norm",
           "-f", "csv"]
    seconds, out = wall(cmd, cli_env(str(store), cached=True), 5)  # query_wall's, with its output
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8"))))
    total = sum(int(r["occurrences"]) for r in rows)
    first = sum(int(r["occurrences"]) for r in rows if "~" not in r["source"])
    return (f"query: whole process {seconds:.2f} s (median of 5); occurrences "
            f"{total:,} {'=' if total == k * first else '!='} {k} x {first:,}")


if __name__ == "__main__":
    main()
