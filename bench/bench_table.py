"""The terminal's tables (the CLI's default format) on ungdc: ``table_text`` beside rich.

Until the twenty-third session every row of a table printed on a terminal (or into a pipe
in the table format) was laid out by rich: ``formulae query PHRASE --corpus ungdc``, whose
table has a row for each year and source (10,952 rows), took about 4.7 s against 0.27 s
in CSV. :func:`analysis.cli.output.table_text` writes the same text and lays out the rows
itself. Measured here, on full ungdc indexed at ``norm``:

- in this process, medians of ``--runs``: rich's whole table (the baseline, the old
  printer: ``table_text`` with ``fast_rows`` above the row count) and ``table_text`` of
  the same columns, the query's and a lexicon formula's timeline's (15 columns), at a pipe's width (one line a row) and a terminal's 120 and 80
  columns (folded), each output checked to be the same text;
- whole processes, medians of ``--runs``: ``formulae query`` and ``formulae timeline`` in
  the table format (into a pipe; the timeline's first 200 rows, as a user gets them, and
  every row with ``--limit 0``) beside the same commands in CSV, and a process that only
  imports numpy and polars (the floor of every command but ``query`` and ``kwic``).

    uv run python bench/bench_table.py [--store DIR] [--runs 3]

Without ``--store`` ungdc is ingested and indexed into a temporary store first.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_kwic import ungdc_args, ungdc_indexed
from bench_phrases import FORMULAE, import_floor, wall
from rich.console import Console

from analysis.cli.output import table_text

COMMANDS = {
    "query": ["query", "territorial integrity", "--corpus", "ungdc", "--level", "norm"],
    "timeline": ["timeline", "sovereignty-territorial-integrity", "--corpus", "ungdc"],
}
LIMITED = {"timeline"}  # commands whose table format prints TABLE_LIMIT rows by default


def console(width: int, terminal: bool) -> Console:
    """A console of ``width`` columns: a terminal's (colours) or a pipe's."""
    return Console(width=width, file=io.StringIO(), force_terminal=terminal,
                   color_system="truecolor" if terminal else None, _environ={})


def timed(fn, runs: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    args = ungdc_args(__doc__, runs=3)
    with tempfile.TemporaryDirectory(prefix="bench-table-") as work:
        _, env = ungdc_indexed(args.store, Path(work))
        for name, command in COMMANDS.items():
            got = subprocess.run([FORMULAE, *command, "-f", "json"], env=env, check=True, capture_output=True)
            rows = json.loads(got.stdout)
            columns = {key: [r[key] for r in rows] for key in rows[0]}
            print(f"{name} ({len(rows):,} rows, {len(columns)} columns), in this process, medians of {args.runs}:",
                  flush=True)
            for width, terminal in ((100_000, False), (120, True), (80, True)):
                def whole(w=width, t=terminal, c=columns, n=name) -> str:  # rich lays out every row
                    return table_text(console(w, t), c, n, fast_rows=len(c[next(iter(c))]) + 1)

                def text(w=width, t=terminal, c=columns, n=name) -> str:
                    return table_text(console(w, t), c, n)

                old, want = timed(whole, args.runs)
                new, out = timed(text, args.runs)
                if out != want:
                    raise SystemExit(f"{name} at width {width}: table_text differs from rich's table")
                where = "a pipe (one line a row)" if not terminal else f"a terminal of {width} columns"
                print(f"  {where:<30} rich {old:6.2f} s   table_text {new:6.3f} s   ratio {new / old:.3f}"
                      f"   same text", flush=True)
            table, shown = wall([FORMULAE, *command], env, args.runs)
            csv, _ = wall([FORMULAE, *command, "-f", "csv"], env, args.runs)
            every = ""
            if name in LIMITED:  # the table format prints its first rows (--limit), unless --limit 0
                whole_table, _ = wall([FORMULAE, *command, "--limit", "0"], env, args.runs)
                every = f"; every row (--limit 0) {whole_table:.2f} s"
            print(f"  whole process, medians of {args.runs}: table {table:.2f} s ({len(shown.splitlines()):,} lines)"
                  f"{every}, csv {csv:.2f} s (table / csv {table / csv:.2f})", flush=True)
        floor = import_floor(env, args.runs)
        print(f"a process importing numpy and polars (what any command but query and kwic loads), medians of "
              f"{args.runs}: {floor:.2f} s", flush=True)


if __name__ == "__main__":
    main()
