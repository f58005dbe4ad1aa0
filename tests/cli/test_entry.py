"""The console script's way out (:func:`analysis.cli.app.entry`): the command's status,
its output flushed and ``atexit`` run, then no interpreter teardown; where that is not
safe (another thread alive, a message for a status), the interpreter's own exit."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from conftest import cli_main

from analysis.cli.app import _exit_now


def _cli(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    """``python -m analysis.cli ARGS`` (what the ``formulae`` script runs), or ``code``."""
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "analysis.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_the_command_status_and_output_come_through(ungd, store):
    """Output and status as the in-process ``main`` gives them: a timeline's CSV (a
    formula, so polars and the index's arrays are loaded when the process ends), an
    error's one line and status 2."""
    args = ("timeline", "sovereignty-territorial-integrity", "--corpus", ungd, "--store", str(store), "-f", "csv")
    got, want = _cli(*args), cli_main(*args)
    assert got.returncode == 0 == want.returncode, got.stderr
    assert got.stdout == want.stdout and len(got.stdout.splitlines()) > 200
    bad = _cli("timeline", "no-such-formula-or-word-ever", "--corpus", "no-such-corpus", "--store", str(store))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("formulae: error: ") and len(bad.stderr.splitlines()) == 1


def test_atexit_handlers_run_after_the_output():
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('atexit ran', flush=True))\n"
            "sys.argv = ['formulae', *sys.argv[1:]]\n"
            "from analysis.cli import entry\n"
            "entry()\n"
            "print('never')\n")
    got = _cli("--version", code=code)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines()[0].startswith("formulae ") and got.stdout.splitlines()[1:] == ["atexit ran"]


def test_the_interpreter_exits_itself_where_skipping_is_not_safe():
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=True)
    worker.start()
    try:
        with pytest.raises(SystemExit) as alive:  # another thread: its work is not cut short
            _exit_now(0)
        assert alive.value.code == 0
    finally:
        stop.set()
        worker.join()
    with pytest.raises(SystemExit) as message:  # a message for a status: Python prints it
        _exit_now("formulae: stopped")
    assert message.value.code == "formulae: stopped"
