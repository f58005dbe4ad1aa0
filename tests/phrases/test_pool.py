"""Each task run in a worker is measured on its own (analysis.phrases.pool.measured)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from analysis.errors import FormulaeError
from analysis.phrases.pool import jobs_count, largest, run_tasks, step_times

CODE = """
import json, time
import numpy as np
from analysis.phrases.pool import measured

def task(t):
    a = np.ones(t["mb"] * 2**20 // 8)  # anonymous memory, touched
    time.sleep(0.1)  # long enough for the sampler
    return {"sum": float(a.sum())}

print(json.dumps([measured(task, {"mb": 400, "piece": "big"}), measured(task, {"mb": 10, "piece": "small"}),
                  measured(task, {"mb": 10, "piece": "kept"}, reset=False)]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_each_task_has_its_own_peak():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=120)
    big, small, kept = json.loads(out.stdout)
    assert big["sum"] == 400 * 2**20 // 8 and big["task"] == "big" and small["task"] == "small"
    assert big["peak_mb"] >= 400 and big["anon_mb"] >= 390
    # the high-water mark was reset when the small task started: not the big one's
    assert small["peak_mb"] < 300 and small["anon_mb"] < 300
    assert kept["peak_mb"] == pytest.approx(small["peak_mb"], abs=50)  # not reset: the process's so far
    assert largest([small, big, kept], "piece") == {"peak_mb": big["peak_mb"], "anon_mb": big["anon_mb"],
                                                     "task": "piece big"}
    # its wall and CPU seconds: the sleep is wall time only; touching 400 MB takes CPU time
    assert all(t["seconds"] >= 0.1 for t in (big, small, kept)) and big["cpu_seconds"] > small["cpu_seconds"]
    steps = step_times([small, big, kept])
    assert steps["tasks"] == 3 and steps["seconds"] == pytest.approx(sum(t["seconds"] for t in (big, small, kept)),
                                                                     abs=0.01)
    assert steps["longest"]["seconds"] == max(t["seconds"] for t in (big, small, kept))


def test_in_process_tasks_and_job_counts():
    got = run_tasks(dict, [{"piece": 3, "size": 1}], 1, None, ["k"])
    assert got[0]["task"] == "3" and got[0]["peak_mb"] > 0 and got[0]["anon_mb"] == 0.0
    assert got[0]["seconds"] >= 0 and got[0]["cpu_seconds"] >= 0
    assert jobs_count(4, 2) == 2 and jobs_count(None, 1) == 1
    with pytest.raises(FormulaeError, match="--jobs must be at least 1, got 0"):
        jobs_count(0, 3)
    assert largest([], "tables") == {"peak_mb": 0.0, "anon_mb": 0.0, "task": "tables"}


ARRAYS = """
import json, sys
import numpy as np
from numpy._core import multiarray
from analysis.phrases import pool

if sys.argv[1] == "arrays":
    pool._worker_start()  # as a worker of workers(..., arrays=True) starts
out = {"huge": multiarray._get_madvise_hugepage(), "numba": "numba.np.arraymath" in sys.modules}
a = np.ones(30 * 2**20 // 8); base = pool.anon_mb(); del a
out["freed"] = base - pool.anon_mb()
got = pool.measured(lambda t: {"anon_at_start": pool.anon_mb()}, {"piece": "table", "release": True})
out["released"] = base - got["anon_at_start"]


def shard(t):  # a step's task: leaves 30 MB in the heap
    start = pool.anon_mb()
    a = np.ones(30 * 2**20 // 8)
    del a
    return {"anon_at_start": start}


def piece(t):  # another step's
    return {"anon_at_start": pool.anon_mb()}


first, second, other = (pool.measured(fn, {"piece": "x"}) for fn in (shard, shard, piece))
out["same_step_kept"] = second["anon_at_start"] - first["anon_at_start"]
out["next_step_released"] = second["anon_at_start"] - other["anon_at_start"]
print(json.dumps(out))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_workers_for_large_arrays_keep_their_heap_and_release_it_for_another_step():
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}

    def run(kind: str) -> dict:
        return json.loads(subprocess.run([sys.executable, "-c", ARRAYS, kind], capture_output=True, text=True,
                                         check=True, timeout=120, env=env).stdout)

    plain, arrays = run("plain"), run("arrays")
    assert plain["freed"] > 25  # a 30 MB array is mapped on its own and leaves when freed
    assert arrays["freed"] < 5  # a worker for large arrays keeps it in its heap, for the next task
    assert arrays["released"] > 25  # and a task marked "release" starts without it
    assert arrays["huge"] is False  # numpy's arrays there without transparent huge pages
    assert arrays["numba"] and not plain["numba"]  # and numba's registries loaded before the first kernel
    # one pool serves a build's steps: a task finds the heap its step's earlier tasks left,
    # the first task of the next step (another fn: a piece after shards) finds it given back
    assert arrays["same_step_kept"] > 25 and arrays["next_step_released"] > 25


def test_a_pool_for_large_arrays_starts_every_worker_at_once():
    """The pieces' pool starts its workers when it opens (they get ready while the merge of
    the streams runs); another pool starts one when a task needs it."""
    from analysis.phrases.pool import workers

    with workers(2, None, arrays=True) as pool:
        assert len(pool._processes) == 2  # before any task (ProcessPoolExecutor's own table)
    with workers(2, None) as pool:
        assert len(pool._processes) == 0


def _polars_threads(task: dict) -> dict:
    import polars as pl

    return {"threads": pl.thread_pool_size()}


def test_workers_get_their_share_of_polars_threads(monkeypatch):
    """Each worker's polars pool is its share of the cores (not every core in every
    worker), the user's POLARS_MAX_THREADS wins, and this process's environment is as it was."""
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 10)  # read in this process, where the pool is opened
    got = run_tasks(_polars_threads, [{"piece": 1}, {"piece": 2}], 2, None, ["a", "b"])
    assert [g["threads"] for g in got] == [5, 5]
    assert "POLARS_MAX_THREADS" not in os.environ
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    got = run_tasks(_polars_threads, [{"piece": 1}, {"piece": 2}], 2, None, ["a", "b"])
    assert [g["threads"] for g in got] == [3, 3] and os.environ["POLARS_MAX_THREADS"] == "3"


def test_a_released_pool_is_not_offered_again():
    """After a build's last step the pool's workers are told to exit (release): they are
    gone once the pool closes, and a step asking for workers meanwhile gets a pool of its own."""
    from analysis.phrases.pool import release, workers

    with workers(2, None, arrays=True) as pool:
        procs = list(pool._processes.values())
        release()
        with workers(2, None) as other:
            assert other is not pool and other is not None
            assert run_tasks(_polars_threads, [{"piece": 1}, {"piece": 2}], 2, None, ["a", "b"])
        with pytest.raises(RuntimeError):  # the released pool takes no more tasks
            pool.submit(int)
    assert all(not p.is_alive() for p in procs)


def test_one_task_with_more_jobs_than_tasks():
    """One task and two jobs: in the enclosing pool when there is one (a rebuild's single
    changed shard of an analyzer level's forms: the pool was asked for one worker and
    got none, and the step failed), else here; no task, no pool."""
    from analysis.phrases.pool import workers

    here = run_tasks(dict, [{"piece": 1}], 2, None, ["a"])
    assert here[0]["pid"] == os.getpid()
    with workers(2, None) as pool:
        got = run_tasks(dict, [{"piece": 1}], 2, None, ["a"])
        assert got[0]["pid"] in pool._processes and got[0]["task"] == "1"
    assert run_tasks(dict, [], 2, None, []) == []
