"""Each task run in a worker is measured on its own (analysis.phrases.pool.measured)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.errors import FormulaeError
from analysis.phrases.pool import jobs_count, largest, run_tasks

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


def test_in_process_tasks_and_job_counts():
    got = run_tasks(dict, [{"piece": 3, "size": 1}], 1, None, ["k"])
    assert got[0]["task"] == "3" and got[0]["peak_mb"] > 0 and got[0]["anon_mb"] == 0.0
    assert jobs_count(4, 2) == 2 and jobs_count(None, 1) == 1
    with pytest.raises(FormulaeError, match="--jobs must be at least 1, got 0"):
        jobs_count(0, 3)
    assert largest([], "tables") == {"peak_mb": 0.0, "anon_mb": 0.0, "task": "tables"}
