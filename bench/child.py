"""Run benchmark code in a fresh Python process and measure that process alone.

Every benchmark times each step in its own child so that imports, caches and memory of
one step never leak into another. The child is reaped with ``os.wait4`` so that the
peak RSS reported is the child's own (``RUSAGE_CHILDREN`` would fold in every earlier
child of this process).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    """The child exited non-zero; the message ends with the tail of its stderr."""


def run_child_code(code: str, label: str, python: str | None = None) -> tuple[list[str], float]:
    """Run ``code`` with ``python -c`` in the project root; return (stdout fields, peak MB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([python or sys.executable, "-c", code], stdout=out, stderr=err,
                                cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise ChildFailed(f"{label} failed:\n{err.read().decode()[-3000:]}")
        return out.read().decode().split(), usage.ru_maxrss / 1024


def interleaved(kinds, runs: int, measure) -> dict[str, list[tuple[float, float, int]]]:
    """``measure(kind)`` -> (seconds, peak MB, count) for every kind, ``runs`` rounds,
    interleaved so that the shared machine's noise hits every kind alike."""
    results: dict[str, list[tuple[float, float, int]]] = {k: [] for k in kinds}
    for _ in range(runs):
        for kind in kinds:
            results[kind].append(measure(kind))
    return results


def print_medians(results: dict[str, list[tuple[float, float, int]]], *, width: int,
                  digits: int, last: str) -> dict[str, float]:
    """One line per kind (median, min, max seconds, peak MB, count); returns the medians."""
    print(f"{'step':<{width}} {'median s':>9} {'min s':>7} {'max s':>7} {'peak MB':>8}  {last}")
    med = {}
    for kind, rows in results.items():
        secs = [r[0] for r in rows]
        med[kind] = statistics.median(secs)
        print(f"{kind:<{width}} {med[kind]:>9.{digits}f} {min(secs):>7.{digits}f} "
              f"{max(secs):>7.{digits}f} {max(r[1] for r in rows):>8.0f}  {rows[0][2]:,}")
    return med

