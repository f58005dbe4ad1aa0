"""Ingest benchmark: the full ungdc file (66 MB gzip, 199 M characters, 10,952 speeches).

Measured in the same run, interleaved, each in a fresh process (wall time of the work
inside the process; peak resident memory of the process from wait4):

- floor:       read the .gz file and decompress it (Python gzip) -- the figure to beat
- floor+json:  read, decompress and parse the JSON lines (polars.read_ndjson), for reference
- ingest:      formulae's corpus_ingest of tests/corpora/ungdc.yml into a temporary store
               (read, parse, map fields, dates, dedup, sort, write Parquet + manifest + log)

Prints the median of N runs of each, the ratio ingest / floor (target: within 3x) and
the peak memory (target: under 2 GB).

    uv run python bench/bench_ingest.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from child import ChildFailed, interleaved, print_medians, run_child_code

ROOT = Path(__file__).resolve().parent.parent
DATA = (ROOT / ".." / "shared" / "corpora" / "ungdc" / "ungdc_1946_2024.jsonl.gz").resolve()
DECL = ROOT / "tests" / "corpora" / "ungdc.yml"

CHILD = {
    "floor": """
import gzip, time
t = time.perf_counter()
with open({data!r}, 'rb') as fh:
    data = gzip.decompress(fh.read())
print(time.perf_counter() - t, len(data))
""",
    "floor+json": """
import time
import polars as pl
t = time.perf_counter()
df = pl.read_ndjson({data!r})
print(time.perf_counter() - t, df.height)
""",
    "ingest": """
import time
from analysis.ingest.snapshot import corpus_ingest
t = time.perf_counter()
r = corpus_ingest({decl!r}, store={store!r})
print(time.perf_counter() - t, r.log['kept'])
""",
}


def run_child_rss(kind: str, store: str) -> tuple[float, float, int]:
    """(seconds, peak MB of the child alone, result count) of one step."""
    code = CHILD[kind].format(data=str(DATA), decl=str(DECL), store=store)
    try:
        (seconds, count), peak = run_child_code(code, kind)
    except ChildFailed as exc:
        raise SystemExit(str(exc)) from None
    return float(seconds), peak, int(count)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not DATA.is_file():
        raise SystemExit(f"missing {DATA}")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as store:
        results = interleaved(CHILD, args.runs, lambda kind: run_child_rss(kind, store))
    print(f"ungdc ingest benchmark: {DATA.name} ({DATA.stat().st_size / 1e6:.1f} MB gzip), "
          f"{args.runs} runs each, interleaved; cpus={os.cpu_count()}")
    med = print_medians(results, width=12, digits=3, last="result")
    ratio = med["ingest"] / med["floor"]
    peak = max(r[1] for r in results["ingest"])
    print(f"ratio ingest / floor (read+decompress): {ratio:.2f}x  (target <= 3x: {'ok' if ratio <= 3 else 'MISSED'})")
    print(f"ratio ingest / floor+json:              {med['ingest'] / med['floor+json']:.2f}x")
    print(f"ingest peak memory: {peak:.0f} MB  (target < 2048 MB: {'ok' if peak < 2048 else 'MISSED'})")


if __name__ == "__main__":
    main()
