"""The concordance (``formulae kwic``) on ungdc: whole processes, beside the polars path.

Each measure is the median wall time of ``--runs`` whole processes (page cache warm, the
bytecode cache on, as after an install), on full ungdc indexed at ``norm``:

- ``kwic``: ``formulae kwic PHRASE --corpus ungdc -f csv`` (numpy alone: the texts store,
  :mod:`analysis.ingest.texts`);
- baseline, the polars path: a process that imports the CLI's modules, finds the same
  matches in the same index and makes the same lines as the CLI did before the texts
  store (the statements' texts read from the snapshot's Parquet file,
  :func:`analysis.phrases.query.kwic_context`), written as the same CSV; its output is
  checked to be byte for byte the CLI's;
- ``query``: ``formulae query`` of the same phrase (the issue's "under half a second" for
  a whole process);
- the terminal's default (200 lines), and the first ``kwic`` after an ingest (the texts
  store made: its folder removed before each run).

    uv run python bench/bench_kwic.py [--store DIR] [--runs 5]

Without ``--store`` ungdc is ingested and indexed into a temporary store first.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_phrases import DECL, FORMULAE, cli_env, wall

PHRASES = ("territorial integrity", "peaceful coexistence of nations")

# the concordance as the CLI made it before the texts store (polars reads the snapshot)
POLARS_PATH = """
import sys
import numpy as np
import polars as pl
import analysis.cli.app  # noqa: F401 - the CLI's imports (typer, pydantic, rich), as the CLI paid them
from analysis.ingest.periods import date_label_expr
from analysis.ingest.snapshot import corpus_load
from analysis.phrases.index import index_open
from analysis.phrases.query import KWIC_SCHEMA, kwic_context, phrase_positions
store, phrase = sys.argv[1], sys.argv[2]
ix = index_open('ungdc', 'norm', store)
pos, last, _ = phrase_positions(ix, phrase)
hits = pl.DataFrame({'doc': ix.doc_of(pos).astype(np.uint32),
                     'start': np.asarray(ix.array('start'))[pos].astype(np.uint32),
                     'end': np.asarray(ix.array('end'))[last].astype(np.uint32)})
texts = (corpus_load('ungdc', store).filter(pl.col('doc').is_in(hits['doc'].unique().implode()))
         .select('doc', 'id', 'source', 'date', 'date_precision', 'text').collect())
out = (hits.join(texts, on='doc', how='left').with_columns(kwic_context(60))
       .sort(['date', 'source', 'id', 'start'], nulls_last=True)
       .with_columns(date_label_expr().alias('date')).select(list(KWIC_SCHEMA)))
sys.stdout.write(out.write_csv())
"""


def ungdc_args(doc: str, runs: int) -> argparse.Namespace:
    """The command line of a benchmark on ungdc: ``--store`` (ungdc ingested there) and ``--runs``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--store", help="a store with ungdc ingested (indexed at norm, or built here)")
    ap.add_argument("--runs", type=int, default=runs)
    return ap.parse_args()


def ungdc_indexed(given: str | None, work: Path) -> tuple[str, dict]:
    """(store, the CLI's environment) with ungdc indexed at norm: the ``given`` store
    (ungdc ingested there), else one in ``work``, ingested first."""
    store = given or str(work / "store")
    env = cli_env(store, cached=True)
    if not given:
        subprocess.run([FORMULAE, "ingest", str(DECL)], env=env, check=True, capture_output=True)
    subprocess.run([FORMULAE, "index", "--corpus", "ungdc", "--level", "norm"], env=env, check=True,
                   capture_output=True)
    return store, env


def main() -> None:
    args = ungdc_args(__doc__, runs=5)
    with tempfile.TemporaryDirectory(prefix="bench-kwic-") as work:
        store, env = ungdc_indexed(args.store, Path(work))
        texts = Path(store) / "ungdc" / "texts"
        for phrase in PHRASES:
            kwic = [FORMULAE, "kwic", phrase, "--corpus", "ungdc", "--level", "norm", "-f", "csv"]
            k, out = wall(kwic, env, args.runs)
            base, want = wall([sys.executable, "-c", POLARS_PATH, store, phrase], env, args.runs)
            if out != want:
                raise SystemExit(f"kwic {phrase!r}: the CLI's CSV differs from the polars path's")
            q, _ = wall([FORMULAE, "query", phrase, "--corpus", "ungdc", "--level", "norm", "-f", "csv"], env,
                        args.runs)
            table, _ = wall(kwic[:-2], env, args.runs)
            first, _ = wall(kwic, env, max(1, args.runs // 2), before=lambda: shutil.rmtree(texts, ignore_errors=True))
            lines = out.count(b"\n") - 1
            print(f"{phrase!r} ({lines:,} lines), medians of {args.runs} whole processes:", flush=True)
            print(f"  kwic -f csv                 {k:6.2f} s   (< 0.5 s: {'met' if k < 0.5 else 'not met'})")
            print(f"  polars path, same CSV       {base:6.2f} s   kwic / polars path: {k / base:.2f}")
            print(f"  query -f csv                {q:6.2f} s")
            print(f"  kwic, the terminal's lines  {table:6.2f} s   (the first 200)")
            print(f"  kwic, texts store made      {first:6.2f} s   (the first kwic after an ingest)", flush=True)
        size = sum(f.stat().st_size for f in texts.iterdir())
        snap = (Path(store) / "ungdc" / "snapshot" / "statements.parquet").stat().st_size
        print(f"texts store: {size / 1e6:,.0f} MB (the snapshot's statements: {snap / 1e6:,.0f} MB)", flush=True)


if __name__ == "__main__":
    main()
