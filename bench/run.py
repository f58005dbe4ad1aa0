"""Run every benchmark in bench/ (bench_*.py) in turn, each in its own process.

Each benchmark measures its own baseline in the same run and prints medians and the
ratio; this runner only sequences them and tees their output to bench/results/.

    uv run python bench/run.py            # all
    uv run python bench/run.py ingest     # only bench_ingest.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        (out_dir / f"{script.stem}.txt").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            sys.stdout.write(proc.stderr)
            failed.append(script.name)
        print(f"== {script.name}: {time.perf_counter() - t0:.1f} s, exit {proc.returncode}\n", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
