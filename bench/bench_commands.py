"""The analysts' commands on ungdc as whole processes, beside a floor and, optionally, another checkout.

Issue 14's item 5 asks queries to stay under half a second for the whole process on ungdc
(32 M tokens). This times, as whole processes (medians of ``--runs``, after a warm-up run
each), the commands an analyst types most: a lexicon formula's ``timeline`` (CSV and the
table format), ``formulae`` (every match with its wording, as CSV and as the table; one formula; the counts),
``compare --no-phrases`` and ``compare`` with the recurring phrases (the table's
200 rows of 1.6 M), ``query``, ``kwic`` and ``phrases``. In the same run, the baseline:
a process that only imports numpy and polars (the floor of every command but ``query`` and
``kwic``, which import neither).

``--before DIR --before-store STORE``: also run each command with the code of another
checkout (``git worktree add DIR <commit>``; its own store, with ungdc ingested there: its
index is its code's), the two in turns, and print before -> after with the ratio and
whether the outputs are the same bytes.

    uv run python bench/bench_commands.py [--store DIR] [--runs 5] [--before DIR --before-store STORE]

Without ``--store`` ungdc is ingested and indexed into a temporary store first.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_kwic import ungdc_indexed
from bench_phrases import cli_env, import_floor

COMMANDS = [
    ["timeline", "sovereignty-territorial-integrity", "--corpus", "ungdc", "-f", "csv"],
    ["timeline", "sovereignty-territorial-integrity", "--corpus", "ungdc"],
    ["formulae", "--corpus", "ungdc", "-f", "csv"],
    ["formulae", "--corpus", "ungdc"],  # the table: its first 200 matches (every one before the twenty-fifth session)
    ["formulae", "--corpus", "ungdc", "--formula", "sovereignty-territorial-integrity", "-f", "csv"],
    ["formulae", "--corpus", "ungdc", "--counts", "-f", "csv"],
    ["compare", "--corpus", "ungdc", "--a", "year<1990", "--b", "year>=1990", "--no-phrases", "-f", "csv"],
    ["compare", "--corpus", "ungdc", "--a", "year<1990", "--b", "year>=1990"],  # with the recurring phrases: 200 rows shown
    ["query", "territorial integrity", "--corpus", "ungdc", "-f", "csv"],
    ["kwic", "territorial integrity", "--corpus", "ungdc", "-f", "csv"],
    ["phrases", "--corpus", "ungdc", "-f", "csv"],
    ["phrases", "--corpus", "ungdc", "--by", "year", "-f", "csv"],  # the first 100 n-grams by year (twenty-sixth session)
]
# a checkout's console entry point: ``entry`` where it has one (the process ends without
# the interpreter's teardown), else ``main``, as its ``formulae`` script runs it
RUN = ("import importlib, sys; sys.argv = ['formulae', *sys.argv[1:]]\n"
       "app = importlib.import_module('analysis.cli.app')  # the module (the package's 'app' is the Typer)\n"
       "(getattr(app, 'entry', None) or app.main)()\n")


def once(checkout: Path, store: str, args: list[str], env: dict) -> tuple[float, bytes]:
    """(wall seconds, stdout) of one process of ``args`` with ``checkout``'s code on ``store``."""
    t = time.perf_counter()
    got = subprocess.run([sys.executable, "-c", RUN, *args, "--store", store], cwd=checkout, env=env,
                         capture_output=True)
    took = time.perf_counter() - t
    if got.returncode:
        raise SystemExit(f"{' '.join(args)} failed in {checkout}: {got.stderr.decode()[-1000:]}")
    return took, got.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="a store with ungdc ingested (indexed at norm, or built here)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", help="another checkout to compare with (git worktree add DIR COMMIT)")
    ap.add_argument("--before-store", help="its store, ungdc ingested there")
    args = ap.parse_args()
    if bool(args.before) != bool(args.before_store):
        raise SystemExit("--before and --before-store go together")
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as work:
        store, env = ungdc_indexed(args.store, Path(work))
        sides = {"after": (here, store)}
        if args.before:
            sides = {"before": (Path(args.before), args.before_store), **sides}
        base = import_floor(env, args.runs)
        print(f"floor: a process importing numpy and polars, median of {args.runs}: {base:.3f} s", flush=True)
        for command in COMMANDS:
            times: dict[str, list[float]] = {side: [] for side in sides}
            outs: dict[str, bytes] = {}
            for run in range(args.runs + 1):  # the first: a warm-up (page cache, bytecode)
                for side, (checkout, where) in sides.items():
                    took, outs[side] = once(checkout, where, command, cli_env(where, cached=True))
                    if run:
                        times[side].append(took)
            after = statistics.median(times["after"])
            line = f"{after:6.3f} s ({after / base:.1f}x the floor)"
            if "before" in times:
                before = statistics.median(times["before"])
                same = "same output" if outs["before"] == outs["after"] else "output differs"
                line = f"{before:6.3f} -> {line}, ratio {after / before:.2f}, {same}"
            digest = hashlib.sha256(outs["after"]).hexdigest()[:12]
            print(f"{line}   formulae {' '.join(command)}   ({len(outs['after']):,} bytes, sha256 {digest})",
                  flush=True)


if __name__ == "__main__":
    main()
