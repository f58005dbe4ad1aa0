"""Where a build's tasks run: here, in spawned worker processes, or on a Dask cluster.

Every step of a sharded build (tokenising the shards, the suffix-array pieces, the table
steps) is a list of plain-dict tasks handed to :func:`run_tasks`. A pool of worker
processes (:func:`workers`) serves every step run inside it (a build opens one for the
shards, the pieces and the tables, whose workers' allocators are set for large arrays:
:func:`_worker_start`; a worker starts once, not once a step), and every task run in a worker
is measured on its own (:func:`measured`): its wall and CPU seconds (:func:`step_times`
sums a step's), its peak resident memory (the kernel's high-water mark, reset when the
task starts) and the largest anonymous (not file-backed) part of it, sampled. The
difference is memory-mapped index files read by the task: page cache that the kernel
shares between the workers and can drop under pressure.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import threading
import time
from pathlib import Path

from ..errors import FormulaeError
from ..store import write_failure
from ..text.versions import libraries_changed, library_versions
from .index import code_sha

SCHEDULER_TIMEOUT = "20s"  # to connect to a Dask scheduler
ENV_SCHEDULER = "FORMULAE_SCHEDULER"  # the scheduler when none is given
SAMPLE_SECONDS = 0.02  # how often a task's anonymous memory is read (its peak is the largest sample)
ENV_THREADS = "POLARS_MAX_THREADS"  # a worker's polars threads (:func:`_polars_threads`)
_ACTIVE: list = []  # the pool open in this process (workers), reused by the steps run inside it
_RELEASED: list[threading.Thread] = []  # the threads shutting down a released pool (release)
_LAST_STEP: list[str | None] = [None]  # the fn of the last task measured in this process (a worker)
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4 / 1024


def scheduler_of(scheduler: str | None) -> str | None:
    """The Dask scheduler a build's steps run on: ``scheduler``, else ``$FORMULAE_SCHEDULER``.

    An address that is not one (a TCP or TLS address without its port, say) is a
    FormulaeError here, before any work, and without starting distributed's client: its
    thread could fail first on a loaded machine, after 10 s, with a message of its own."""
    scheduler = scheduler or os.environ.get(ENV_SCHEDULER) or None
    if scheduler is not None:
        try:
            from distributed.comm.addressing import parse_address, parse_host_port
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise FormulaeError(f"--scheduler {scheduler} needs the 'distributed' package: {exc}") from None
        why = None
        try:
            protocol, where = parse_address(scheduler)
            if protocol in ("tcp", "tls") and not 0 < parse_host_port(where)[1] < 65536:
                why = "its port is out of range"
        except ValueError as exc:  # no port, or a port that is not a number
            why = "missing port" if "missing port" in str(exc) else f"its port is not a number ({exc})"
        if why:
            raise FormulaeError(f"not a Dask scheduler's address: {scheduler!r} (--scheduler or ${ENV_SCHEDULER}; "
                                f"tcp://host:port): {why}")
    return scheduler


def jobs_count(jobs: int | None, n: int) -> int:
    """Worker processes for ``n`` tasks: ``jobs`` (default all cores), at most ``n``."""
    if jobs is not None and jobs < 1:
        raise FormulaeError(f"--jobs must be at least 1, got {jobs}")
    return max(1, min(jobs or os.cpu_count() or 1, n))


def peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: since it started its program, or since
    :func:`measured` last reset it).

    Not ``ru_maxrss``: Linux carries that over a fork and exec, so a worker spawned by a
    large process would report its parent's size.
    """
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def anon_mb() -> float:
    """Resident memory of this process that is not file-backed or shared, now (statm)."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
        return (int(fields[1]) - int(fields[2])) * _PAGE_MB
    except (OSError, IndexError, ValueError):  # pragma: no cover - not Linux
        return 0.0


def measured(fn, task: dict, reset: bool = True) -> dict:
    """``fn(task)`` in a worker, with ``peak_mb`` (the high-water mark of this task alone
    where the kernel lets it be reset, else of the process so far), ``anon_mb`` (the
    largest anonymous memory sampled while it ran), ``pid`` and ``task`` (its piece or
    shard) added to its answer. ``reset`` False (Dask: tasks share a worker process):
    the peak is the process's so far. A task with ``release`` (a table step), or the first
    of another step in this worker (another ``fn``: a piece after shards), first gives back
    the heap that earlier tasks left (:func:`_heap_release`)."""
    step = getattr(fn, "__qualname__", repr(fn))
    if task.get("release") or _LAST_STEP[0] not in (None, step):  # earlier tasks' heap is not this one's
        _heap_release()
    _LAST_STEP[0] = step
    if reset:
        with contextlib.suppress(OSError):  # "5": reset the peak resident set size (Linux 4.0+)
            Path("/proc/self/clear_refs").write_text("5")
    top = [anon_mb()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            top[0] = max(top[0], anon_mb())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = _clock()
    try:
        got = fn(task)
    finally:
        stop.set()
        watcher.join()
    return _answer(got, task, max(top[0], anon_mb()), start)


def _clock() -> tuple[float, float]:
    """(wall, CPU time of this process: user + system, every thread) now."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), use.ru_utime + use.ru_stime


def _answer(got: dict, task: dict, anon: float, start: tuple[float, float]) -> dict:
    """A task's answer with its measures: ``peak_mb``, ``anon_mb``, ``pid``, ``task``, and
    the ``seconds`` and ``cpu_seconds`` since ``start`` (:func:`_clock`)."""
    wall, cpu = _clock()
    return got | {"peak_mb": round(peak_mb(), 1), "anon_mb": round(anon, 1), "pid": os.getpid(),
                  "task": _label(task), "seconds": round(wall - start[0], 3), "cpu_seconds": round(cpu - start[1], 3)}


@contextlib.contextmanager
def workers(jobs: int, scheduler: str | None = None, arrays: bool = False):
    """A pool of ``jobs`` spawned worker processes for every step run inside (tokenising,
    suffix-array pieces, tables): processes start when first needed and serve all steps
    (one start, one import of the libraries each); an enclosing pool is reused. None with
    a Dask ``scheduler`` or one job (the work runs there or here). ``arrays``: the workers'
    allocators set for tasks of large numpy arrays and numba loaded (:func:`_worker_start`;
    the pieces), and every worker started at once, so that it gets ready while this process
    goes on (merging the shards' streams: ungdc, 1.6 s) instead of when the first task comes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if scheduler or jobs == 1:
        yield None
    elif _ACTIVE and _ACTIVE[-1] is not None:
        yield _ACTIVE[-1]
    else:  # spawn, not fork: polars's thread pool does not survive a fork
        with _polars_threads(jobs), ProcessPoolExecutor(
                max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start if arrays else None) as pool:
            _ACTIVE.append(pool)
            try:
                if arrays:  # a worker starts a submission at a time (while none is idle): one each
                    for _ in range(jobs):
                        pool.submit(_ready)
                yield pool
            finally:
                _ACTIVE.pop()
                while _RELEASED:  # released: its workers have exited once this returns
                    _RELEASED.pop().join()


def release() -> None:
    """The open pool has run its last task: it is shut down beside this process's work
    (a thread waits for its workers to exit), so that they exit while this process
    finishes (a build: removing its scratch and the replaced index; ungdc's workers took
    0.35 s to exit after it). The pool is joined when it closes; the steps that follow
    get a new pool if they ask for one."""
    if _ACTIVE and _ACTIVE[-1] is not None:
        closing = threading.Thread(target=_ACTIVE[-1].shutdown, name="formulae-pool-release", daemon=True)
        closing.start()
        _RELEASED.append(closing)
        _ACTIVE[-1] = None


@contextlib.contextmanager
def _polars_threads(jobs: int):
    """While a pool's workers spawn: each worker's polars thread pool sized to its share of
    the cores (``POLARS_MAX_THREADS``, read when a process first uses polars), unless the
    user set it: ``jobs`` workers of all cores' threads each would run cores x jobs threads
    on a large machine. (On this 2-core one, three paired builds of ungdc were within the
    noise either way.)"""
    if ENV_THREADS in os.environ:
        yield
        return
    os.environ[ENV_THREADS] = str(max(1, (os.cpu_count() or 1) // jobs))
    try:
        yield
    finally:
        os.environ.pop(ENV_THREADS, None)


def _ready() -> None:
    """A task that does nothing: submitted to start a worker process."""


def _worker_start() -> None:
    """A worker's allocators set for tasks that allocate and free many large arrays:
    :func:`_heap_keep`, and no transparent huge pages for numpy's arrays. A build's
    shards run there too (one pool for every step): for them neither changed the time (17
    shards of ungdc, 2 workers), and the heap kept adds 80-120 MB to a shard's peak; a
    worker's first piece gives it back (:func:`measured`). Then :func:`_numba_ready`."""
    _heap_keep()
    _no_huge_pages()
    _numba_ready()


def _numba_ready() -> None:
    """numba imported and its CPU target's registries loaded: what a process's first
    compiled kernel otherwise waits for (0.3 s and 0.37 s here; every later kernel loads
    from numba's cache in milliseconds). Best effort: the registries are numba's internals."""
    with contextlib.suppress(Exception):
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()


@functools.cache
def _libc():
    """The C library (glibc's malloc tuning), or None; loaded once a process."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:  # pragma: no cover - not a glibc system
        return None


def _heap_keep() -> None:
    """Arrays of up to 32 MB from glibc's heap, kept there once freed: the next task's
    arrays reuse its pages instead of mapping and faulting in new ones (a page fault costs
    microseconds, and a piece of 4 M suffixes allocates some hundred thousand pages). The 9
    pieces of ungdc in 2 workers (no huge pages in either): 10.7-11.7 s against 12.4-12.9 s.
    Larger arrays are mapped on their own as before. :func:`_heap_release` gives the kept pages back."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: glibc's largest; fixed (no dynamic threshold)
    libc.mallopt(-1, (1 << 31) - 1)  # M_TRIM_THRESHOLD: do not shrink the heap by itself
    libc.mallopt(-2, 64 << 20)  # M_TOP_PAD: grow it in steps of 64 MB


def _heap_release() -> None:
    """Give the heap's free pages back to the system (before a task of another kind, whose
    memory peak should not include what the earlier tasks left)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _no_huge_pages() -> None:
    """A worker's numpy arrays without transparent huge pages (numpy asks for them on
    arrays of 4 MB and more). A piece allocates a few hundred MB of new arrays, and where
    the kernel has to compact memory to find huge pages (``defrag`` ``madvise``, the common
    default), their first touch took 1.2-1.4 s against 0.7 s with ordinary pages (a piece of
    4 M suffixes, ungdc); the 9 pieces in 2 workers, four runs paired: 11.6 s against
    12.9 s on average (10.9-12.4 against 11.2-13.9).
    What numpy's ``NUMPY_MADVISE_HUGEPAGE=0`` does, set in a worker already started; a
    ``NUMPY_MADVISE_HUGEPAGE`` of the user's own is left to numpy."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    with contextlib.suppress(ImportError, AttributeError):  # numpy's switch is private: best effort
        from numpy._core import multiarray

        multiarray._set_madvise_hugepage(False)  # type: ignore[attr-defined]


def run_tasks(fn, todo: list[dict], jobs: int, scheduler: str | None, keys: list[str]) -> list[dict]:
    """``fn`` over ``todo`` (answers in its order): on the Dask ``scheduler`` (task names
    ``keys``), else in ``jobs`` worker processes (the enclosing :func:`workers` pool, else
    a pool of at most one a task), or here when ``jobs`` is 1 (``peak_mb`` then this
    process's own, ``anon_mb`` not measured: 0)."""
    if not todo:
        return []
    try:
        return _run_tasks(fn, todo, jobs, scheduler, keys)
    except Exception as exc:  # only the file system's space is turned into one line
        why = write_failure(exc)
        if why is None:
            raise
        where = next((todo[0][k] for k in ("scratch", "folder", "into", "dest") if k in todo[0]), None)
        raise FormulaeError(f"cannot write: {why}", file=Path(where).parent if where else None) from None


def _run_tasks(fn, todo: list[dict], jobs: int, scheduler: str | None, keys: list[str]) -> list[dict]:
    """:func:`run_tasks`."""
    if scheduler:
        return _run_dask(functools.partial(measured, fn, reset=False), todo, scheduler, keys)
    if jobs > 1 and _ACTIVE and _ACTIVE[-1] is not None:  # the enclosing pool, even for one task
        return _pool_map(_ACTIVE[-1], functools.partial(measured, fn), todo)
    with workers(min(jobs, len(todo)), None) as pool:
        if pool is not None:
            return _pool_map(pool, functools.partial(measured, fn), todo)
    done = []  # one job, or one task and no pool: here
    for t in todo:
        start = _clock()
        done.append(_answer(fn(t), t, 0.0, start))
    return done


def largest(done: list[dict], label: str) -> dict:
    """The largest task of a step by peak memory: ``{peak_mb, anon_mb, task}``."""
    top = max(done, key=lambda d: (d.get("peak_mb", 0.0), d.get("anon_mb", 0.0)), default={})
    return {"peak_mb": top.get("peak_mb", 0.0), "anon_mb": top.get("anon_mb", 0.0),
            "task": f"{label} {top.get('task', '')}".strip()}


def step_times(done: list[dict]) -> dict:
    """A step's tasks: how many, their summed wall and CPU seconds, and the longest
    (``seconds`` and ``cpu_seconds`` of each, :func:`measured`)."""
    top = max(done, key=lambda d: d.get("seconds", 0.0), default={})
    return {"tasks": len(done), "seconds": round(sum(d.get("seconds", 0.0) for d in done), 2),
            "cpu_seconds": round(sum(d.get("cpu_seconds", 0.0) for d in done), 2),
            "longest": {"task": top.get("task", ""), "seconds": top.get("seconds", 0.0)}}


def _label(task: dict) -> str:
    """A task's name in the measures: its piece (or table step) or its shard."""
    return str(task.get("piece", task.get("shard", "")))


def _pool_map(pool, fn, todo: list[dict]) -> list[dict]:
    """``fn`` over ``todo`` in the pool, the largest tasks (``size`` or ``chars``) first so
    that the largest is not the last one started; results in ``todo``'s order."""
    from concurrent.futures.process import BrokenProcessPool

    order = sorted(range(len(todo)), key=lambda i: -int(todo[i].get("size", todo[i].get("chars", 0))))
    try:
        done = dict(zip(order, pool.map(fn, [todo[i] for i in order]), strict=True))
        return [done[i] for i in range(len(todo))]
    except BrokenProcessPool as exc:
        raise FormulaeError(f"a worker process died ({exc}; out of memory?): try --jobs 1") from None


def _run_dask(fn, todo: list[dict], scheduler: str, keys: list[str]) -> list[dict]:
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise FormulaeError(f"--scheduler {scheduler} needs the 'distributed' package: {exc}") from None
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError, ValueError, AssertionError) as exc:
        # ValueError: not an address ("host" without a port); AssertionError: distributed's
        # client thread did not start its event loop within its 10 s (a loaded machine)
        raise FormulaeError(f"cannot reach the Dask scheduler {scheduler!r}: {str(exc) or type(exc).__name__}") from None
    with client:
        futures = client.map(fn, todo, key=keys, pure=False)
        return client.gather(futures)


def worker_check(task: dict, what: str) -> None:
    """That this process runs the client's code and library versions (a Dask worker may
    run another install); else an error naming ``what`` and the difference."""
    if task["code_sha"] != code_sha():
        raise FormulaeError(f"{what}: this worker runs other formulae code than the client "
                            "(install the same version everywhere)")
    if task["libraries"] != library_versions():
        raise FormulaeError(f"{what}: this worker has other versions of the libraries that decide "
                            f"the forms than the client ({libraries_changed(task['libraries'], library_versions())}"
                            "; install the same versions everywhere)")
