"""Benchmark: normalise + tokenise the full ungdc and saudinewsnet corpora.

For each corpus, in the same run and on the same texts:

* baseline: a plain Python ``str.split()`` pass over every text (the floor);
* ``tokens_build``: runs, offsets, kinds, paragraph/sentence numbers and the
  normalised form of every token (stems excluded), collected into memory, by the
  compiled scanner (the measured figure) and by the regular-expression engine (the
  definition, for comparison).

Each measurement runs ``REPEATS`` times in a fresh subprocess (so peak RSS is its
own); the medians, tokens per second, the ratio to the floor and the peak memory
above the process's baseline (after loading the texts) are printed. Wall time and
process CPU time (all threads) are both reported: the machine is shared, and CPU
time is the figure that other people's load disturbs least.

    uv run python bench/bench_tokens.py            # both corpora
    uv run python bench/bench_tokens.py ungdc      # one
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {
    # name: (file under ../shared/corpora, text field, language, line_breaks)
    "ungdc": ("ungdc/ungdc_1946_2024.jsonl.gz", "text", "en", "wrap"),
    "saudinewsnet": ("saudinewsnet/saudinewsnet_2015.jsonl.gz", "content", "ar", "paragraph"),
}
REPEATS = 3


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _child(corpus: str, method: str) -> None:
    """Measure one method once; print a JSON line (seconds, tokens, peak MB over load)."""
    import polars as pl

    sys.path.insert(0, str(ROOT))
    from analysis.text.tokens import tokens_build

    rel, field, language, line_breaks = CORPORA[corpus]
    path = (ROOT / ".." / "shared" / "corpora" / rel).resolve()
    frame = (
        pl.read_ndjson(path, infer_schema_length=None)
        .select(pl.col(field).fill_null("").alias("text"))
        .with_row_index("doc")
        .with_columns(pl.col("doc").cast(pl.UInt32))
    )
    chars = int(frame["text"].str.len_chars().sum())
    texts = frame["text"].to_list() if method == "split" else None
    warm = 0.0
    if method == "tokens":
        # The first call in a process imports numba and loads the scanner's compiled
        # code from its on-disk cache (compiles it on the very first run): a one-off
        # cost per process, reported apart from the per-token figures.
        w0 = time.perf_counter()
        tokens_build(
            frame.head(2).lazy(), language=language, line_breaks=line_breaks, engine="scan"
        ).collect()
        warm = time.perf_counter() - w0
    base = _rss_mb()
    c0 = time.process_time()
    t0 = time.perf_counter()
    if method == "split":
        tokens = sum(len(t.split()) for t in texts)
    else:  # "tokens": the compiled scanner; "regex": the regular-expression engine
        engine = "scan" if method == "tokens" else "regex"
        toks = tokens_build(
            frame.lazy(), language=language, line_breaks=line_breaks, engine=engine
        ).collect()
        tokens = toks.height
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "tokens": tokens,
                "chars": chars,
                "docs": frame.height,
                "peak_mb": _rss_mb() - base,
                "warm": warm,
            }
        )
    )


def _measure(corpus: str, method: str) -> dict:
    runs = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, __file__, "--child", corpus, method],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "tokens": runs[0]["tokens"],
        "chars": runs[0]["chars"],
        "docs": runs[0]["docs"],
        "peak_mb": max(r["peak_mb"] for r in runs),
        "all": [round(r["seconds"], 3) for r in runs],
        "warm": statistics.median(r["warm"] for r in runs),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2])
        return 0
    import polars as pl

    names = argv or list(CORPORA)
    print(f"polars {pl.__version__}; {REPEATS} runs each, medians; peak RSS above the loaded texts")
    print(f"load average at start: {_load()} (2 cores; other people's jobs inflate wall time)")
    # one untimed process first, so that a fresh checkout's compile is not measured
    subprocess.run([sys.executable, __file__, "--child", names[0], "tokens"], capture_output=True)
    for name in names:
        floor = _measure(name, "split")
        ours = _measure(name, "tokens")
        regex = _measure(name, "regex")
        f_rate = floor["tokens"] / floor["seconds"]
        o_rate = ours["tokens"] / ours["seconds"]
        f_cpu = floor["tokens"] / floor["cpu"]
        o_cpu = ours["tokens"] / ours["cpu"]
        print(f"\n{name}: {ours['docs']:,} docs, {ours['chars'] / 1e6:.1f} M chars")
        for label, m, rate, crate in (
            ("str.split", floor, f_rate, f_cpu),
            ("tokens_build", ours, o_rate, o_cpu),
        ):
            print(
                f"  {label:13s} wall {m['seconds']:7.2f} s  cpu {m['cpu']:7.2f} s  "
                f"{m['tokens']:>12,} tokens  {rate / 1e6:6.2f} M tok/s wall  "
                f"{crate / 1e6:6.2f} M tok/cpu-s  peak +{m['peak_mb']:,.0f} MB  runs {m['all']}"
            )
        print(
            f"  tokens_build(engine='regex'), the definition: cpu {regex['cpu']:.2f} s, "
            f"wall {regex['seconds']:.2f} s, peak +{regex['peak_mb']:,.0f} MB; the scanner takes "
            f"{ours['cpu'] / regex['cpu']:.2f} of its cpu time (same {regex['tokens']:,} tokens)"
        )
        print(f"  first call in a process (numba import + cached code load): {ours['warm']:.2f} s")
        print(
            f"  ratio (time per token, tokens_build / str.split): wall {f_rate / o_rate:.2f}x, "
            f"cpu {f_cpu / o_cpu:.2f}x"
        )
        print(
            f"  targets: >= 2 M tok/s ({'met' if min(o_rate, o_cpu) >= 2e6 else 'NOT met'}), "
            f"within 5x of str.split (cpu {'met' if f_cpu / o_cpu <= 5 else 'NOT met'}, "
            f"wall {'met' if f_rate / o_rate <= 5 else 'NOT met'}); load average now {_load()}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
