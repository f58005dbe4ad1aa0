"""The store: where snapshots, indexes and results live on disk.

Layout (one folder per corpus)::

    <store>/<corpus>/snapshot/statements.parquet   the statement snapshot
    <store>/<corpus>/snapshot/manifest.json        hashes, parameters, versions
    <store>/<corpus>/snapshot/ingest_log.json      records in / kept / dropped by reason
    <store>/<corpus>/index/<level>/...             phrase index per matching level (catalog.json: its shards)
    <store>/<corpus>/shards/<kind>/<key>/...       tokenised shards the indexes are built from

The store root is, in order: the ``--store`` argument, ``$FORMULAE_STORE``, ``./build``.
Everything is written atomically: into a temporary sibling, then renamed into place,
so a failed run never leaves half-written output and the previous version survives.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import FormulaeError

ENV_STORE = "FORMULAE_STORE"
# A corpus name (the declaration's ``name``): also a folder of the store, so no '/', no '..'.
CORPUS_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
STALE_SECONDS = 24 * 3600  # a temporary of an unknown writer older than this is stale


# this machine's tag in a temporary's name (8 hex digits of its host name): a writer's pid
# means something only on its own machine (a store shared by a cluster)
HOST = hashlib.sha1(os.uname().nodename.encode()).hexdigest()[:8]


def tmp_prefix(name: str, kind: str = "tmp") -> str:
    """The name a writer's temporary starts with, ``.<name>.<kind>-<pid>@<host>-``
    (``kind``: ``tmp`` or ``old``), which :func:`stale_clean` reads back."""
    return f".{name}.{kind}-{os.getpid()}@{HOST}-"


def store_root(store: str | Path | None = None) -> Path:
    """Resolve the store root: argument, then ``$FORMULAE_STORE``, then ``./build``."""
    if store is not None:
        return Path(store)
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(env)
    return Path.cwd() / "build"


def corpus_name_check(name: str, what: str = "corpus name") -> str:
    """``name`` if it is a valid corpus name (the declaration's rule), else a FormulaeError.

    A corpus name is a folder of the store: ``../x``, ``a/b`` or ``..`` would read and
    write outside it."""
    if not isinstance(name, str) or not CORPUS_NAME_RE.fullmatch(name):  # no '/', never '.' or '..'
        raise FormulaeError(f"{what} {name!r} is not a valid corpus name "
                            "(lowercase letters, digits, '.', '_', '-'; starting with a letter or digit)")
    return name


def corpus_dir(name: str, store: str | Path | None = None) -> Path:
    """The folder of corpus ``name`` in the store (the name is validated: see
    :func:`corpus_name_check`)."""
    return store_root(store) / corpus_name_check(name)


def path_shown(path: str | Path | None, root: str | Path | None = None) -> str:
    """A path as it may appear in something shared (a report, a manifest): relative to
    ``root`` (default: the current folder) when inside it, else its file name alone, so
    that a shared page never carries the author's file system."""
    if not path:
        return ""
    p = Path(path)
    base = Path(root) if root is not None else Path.cwd()
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.name


def umask_mode(mode: int = 0o777) -> int:
    """``mode`` less the process umask (what ``mkdir``/``open`` would give).

    The umask is read from ``/proc/self/status`` where there is one: setting it to read it
    (the portable way) would briefly change it for every thread of the process."""
    try:
        status = Path("/proc/self/status").read_text()
        found = re.search(r"^Umask:\s*([0-7]+)", status, re.M)
        if found is None:
            raise AttributeError("no Umask line")
        mask = int(found.group(1), 8)
    except (OSError, AttributeError):
        mask = os.umask(0)
        os.umask(mask)
    return mode & ~mask


def write_error(path: Path, exc: OSError) -> FormulaeError:
    """An OSError while writing ``path`` as a one-line user error naming the path."""
    return FormulaeError(f"cannot write: {write_failure(exc) or exc.strerror or exc}", file=path)


_SHORT_WRITE = re.compile(r"(\d+) requested and (\d+) written")  # numpy's tofile on a full disk (no errno)


def write_failure(exc: BaseException) -> str | None:
    """What a write that raised ``exc`` ran into when it is the file system's space
    (full, over quota, a file too large), else None: an ``OSError`` with that errno,
    numpy's short write (``tofile``: no errno) or polars' ``os error 28``."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return exc.strerror or text
    if isinstance(exc, OSError) and exc.errno is None and (short := _SHORT_WRITE.fullmatch(text)):
        return f"the disk is full? (a short write: {short[1]} items asked, {short[2]} written)"
    if "(os error 28)" in text or "(os error 122)" in text:
        return "No space left on device" if "os error 28" in text else "Disk quota exceeded"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_clean(parent: Path, name: str | None = None, *, legacy: bool = False,
                sizes: list[int] | None = None) -> list[Path]:
    """Remove temporaries (``.<name>.tmp-*``, ``.<name>.old-*``; any name where ``name``
    is None) left by a killed writer.

    A temporary carries its writer's pid and machine (:func:`tmp_prefix`): it is stale
    when that process is gone from this machine; one of another machine (a store shared by
    a cluster) or without a pid when it is older than a day. ``legacy``: also
    ``.<name>-*``, the scratch folders of index builds before they carried a pid. Returns
    the removed paths (their bytes appended to ``sizes``, where given)."""
    removed = []
    stem = re.escape(name) if name is not None else r"[^/]+?"
    pattern = re.compile(rf"^\.{stem}(?:\.(?:tmp|old)-(?:(\d+)(?:@([0-9a-f]+))?-)?{'|-' if legacy else ''})")
    with contextlib.suppress(OSError):
        for p in parent.iterdir():
            m = pattern.match(p.name)
            if not m:
                continue
            pid = int(m.group(1)) if m.group(1) and m.group(2) in (None, HOST) else None  # a pid of this machine
            if pid == os.getpid():
                continue
            try:
                old = time.time() - p.lstat().st_mtime > STALE_SECONDS
            except OSError:
                continue
            if (pid is not None and not _pid_alive(pid)) or (pid is None and old):
                if sizes is not None:
                    sizes.append(_tree_bytes(p))
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def _tree_bytes(path: Path) -> int:
    """The bytes of the files in ``path`` (a file or a folder, links not followed)."""
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size if path.exists() or path.is_symlink() else 0
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += (Path(dirpath) / f).lstat().st_size
    return total


def corpus_stale_clean(name: str, store: str | Path | None = None) -> tuple[int, int]:
    """The temporaries killed writers left in a corpus's store folder, removed
    (:func:`stale_clean`): in the folder, in each folder of it (the snapshot's, the texts
    store's, the index's and its layers', the shards') and in each of the shards' kinds
    (a shard's, a merge's scratch, the kept forms'). Returns how many, and their bytes.
    A rebuild removes those of what it writes; this removes them when nothing is rebuilt."""
    root = corpus_dir(name, store)

    def folders(parent: Path) -> list[Path]:
        with contextlib.suppress(OSError):
            return sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
        return []

    sizes: list[int] = []
    for folder in [root, *folders(root), *folders(root / "shards")]:
        stale_clean(folder, sizes=sizes)
    return len(sizes), sum(sizes)


def scratch_dir(parent: Path, name: str) -> Path:
    """A new scratch folder ``.<name>.tmp-<pid>@<host>-*`` in ``parent`` (:func:`tmp_prefix`)
    for a writer that removes it itself, once the ones a killed writer left there are gone
    (:func:`stale_clean`, also the ``.<name>-*`` of builds before they carried a pid)."""
    stale_clean(parent, name, legacy=True)
    return Path(tempfile.mkdtemp(prefix=tmp_prefix(name), dir=parent))


@contextlib.contextmanager
def store_lock(folder: Path, name: str) -> Iterator[None]:
    """An exclusive lock (``fcntl.flock`` on ``<folder>/.<name>.lock``) held while the block runs.

    A second writer of the same thing waits here, then finds the first one's result."""
    import fcntl

    folder = Path(folder)
    path = folder / f".{name}.lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, umask_mode(0o666))
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``target`` whole.

    On any exception the temporary folder is removed and ``target`` is untouched.
    Temporaries a killed writer left behind are removed first (:func:`stale_clean`);
    the folder gets the permissions the umask gives (``mkdtemp`` alone would give 0700).
    A write the file system refuses (read-only, permissions, full) is a FormulaeError
    naming the path.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stale_clean(target.parent, target.name)
        tmp = Path(tempfile.mkdtemp(prefix=tmp_prefix(target.name), dir=target.parent))
        os.chmod(tmp, umask_mode(0o777))
    except OSError as exc:
        raise write_error(target, exc) from None
    try:
        yield tmp
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        why = write_failure(exc)
        if why is not None:  # no space: the folder named (a write's error names no file)
            raise FormulaeError(f"cannot write: {why}", file=target) from None
        raise
    old = None
    try:
        if target.exists():
            old = target.with_name(tmp_prefix(target.name, "old"))
            if old.exists():
                shutil.rmtree(old)
            target.rename(old)
        tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_error(target, exc) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary sibling of ``target`` for writing; rename it into place on success."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=tmp_prefix(target.name), dir=target.parent)
        os.chmod(tmp_name, umask_mode(0o666))
    except OSError as exc:
        raise write_error(target, exc) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(target, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def dumps_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, UTF-8 text kept as is, trailing newline."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2, default=str) + "\n"


def write_json(path: Path, obj: Any) -> None:
    with atomic_file(Path(path), "w") as fh:
        fh.write(dumps_json(obj))


def read_json(path: Path) -> Any:
    """The JSON in ``path``; a file that is not JSON (cut short, overwritten) is a
    FormulaeError naming it and where it stops being JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise FormulaeError(f"{path}: damaged, not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FormulaeError(f"{path}: damaged, not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def stamp_read(path: Path) -> dict | None:
    """A folder's stamp (``manifest.json``, ``shard.json``): its JSON object, or None when
    the file is missing or damaged (not a JSON object): the folder is then made again."""
    try:
        have = read_json(path)
    except (OSError, FormulaeError):
        return None
    return have if isinstance(have, dict) else None


# --- the files of a stamped folder ------------------------------------------------------
# A folder written whole (atomic_dir) is stamped last; the stamp records the size of every
# file in it (``files``), so a file cut short or lost since (a full disk, a copy or a sync
# stopped half way, a store shared by a cluster) is found when the folder is next read,
# for a stat a file. A file changed in place to the same size is not found.


def folder_files(folder: Path, stamp: str) -> dict[str, int]:
    """Every file under ``folder`` but its stamp ``stamp``: path relative to it (``/``
    between folders) -> size in bytes, sorted by path."""
    folder = Path(folder)
    found = {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    found.pop(stamp, None)
    return dict(sorted(found.items()))


def stamp_write(folder: Path, stamp: str, obj: dict) -> dict:
    """Stamp ``folder`` (written whole, its files all there): ``obj`` with the sizes of
    its files (``files``, :func:`folder_files`) as the JSON file ``stamp``, written last;
    returns what was written."""
    obj = obj | {"files": folder_files(folder, stamp)}
    write_json(Path(folder) / stamp, obj)
    return obj


def stamp_state(folder: Path, stamp: str) -> tuple[dict | None, str | None]:
    """(``folder``'s stamp ``stamp``, why the folder is not as written): ``(None, None)``
    without a stamp; ``(None, "<stamp> is damaged")`` when it is not a JSON object;
    else the stamp and :func:`folder_damage` of its ``files``."""
    if not (Path(folder) / stamp).exists():
        return None, None
    have = stamp_read(Path(folder) / stamp)
    if have is None:
        return None, f"{stamp} is damaged"
    return have, folder_damage(folder, have.get("files"))


def folder_damage(folder: Path, files: dict | None) -> str | None:
    """Why ``folder`` is not as its stamp's ``files`` (:func:`folder_files`) recorded it:
    the first file missing or of another size, named; None when each is as written or
    the stamp records none (written before stamps recorded them)."""
    for name, size in (files or {}).items():
        try:
            now = (Path(folder) / name).stat().st_size
        except OSError:
            return f"{name} is missing"
        if now != size:
            return f"{name} is {now:,} bytes, {size:,} when written"
    return None


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` the same file as ``src`` (a hard link; a copy where links are refused)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def array_sink(n: int, dtypes: dict, into: Path | None):
    """(put(name, chunk), close() -> arrays): chunks appended in order to arrays of ``n``
    items, in memory, or written to ``into``/<name>.npy (np.save's format, byte for byte)
    and opened as read-only memory maps by ``close``: arrays larger than memory, built a
    chunk at a time."""
    import numpy as np
    at = dict.fromkeys(dtypes, 0)
    arrays = {k: np.empty(n, t) for k, t in dtypes.items()} if into is None else {}
    files = {}
    if into is not None:
        for k, t in dtypes.items():
            offset = npy_create(into / f"{k}.npy", t, n)
            files[k] = open(into / f"{k}.npy", "r+b")  # noqa: SIM115 - closed by close()
            files[k].seek(offset)

    def put(name: str, chunk: np.ndarray) -> None:
        if into is None:
            arrays[name][at[name]:at[name] + len(chunk)] = chunk
        else:
            np.ascontiguousarray(chunk, dtypes[name]).tofile(files[name])
        at[name] += len(chunk)

    def close() -> dict:
        for f in files.values():
            f.close()
        if into is not None:
            arrays.update({k: np.load(into / f"{k}.npy", mmap_mode="r") for k in dtypes})
        return arrays

    return put, close


def _npy_head(path: Path) -> tuple:
    """(dtype, data offset, length) of the one-dimensional ``.npy`` file ``path``."""
    import numpy as np
    head = np.load(path, mmap_mode="r")
    return head.dtype, head.offset, len(head)


def npy_windows(path: Path):
    """(window(lo, hi), length) of the array in the ``.npy`` file ``path``: items
    ``lo..hi-1``, each window a read-only mapping of its own, so that its pages leave once
    the caller drops it (never the whole file's pages resident at once)."""
    import numpy as np
    dtype, offset, n = _npy_head(path)

    def window(lo: int, hi: int):
        return np.memmap(path, dtype, "r", offset=offset + lo * dtype.itemsize, shape=(hi - lo,))

    return window, n


def npy_create(path: Path, dtype, n: int) -> int:
    """Make the ``.npy`` file ``path`` of ``n`` items of ``dtype`` (np.save's format, its
    data not written: zeros until filled, :func:`npy_put`); returns its data's offset."""
    import numpy as np
    head = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n,))
    offset = head.offset
    head.flush()
    del head
    return offset


def npy_put(path: Path, at: int, arr) -> None:
    """Write ``arr`` into the ``.npy`` file ``path`` (made at its full size) from item
    ``at`` on: tasks fill one file side by side. A plain write at that offset, not
    through a memory map: about three times faster (32 M ids in 16 slices of 2 M: 0.04-0.05
    s, against 0.13-0.15 s through maps and 0.22 s with the maps flushed), and only these
    bytes are written, where a mapped page is written back whole (writers on two machines
    of a shared store over NFS would each write back the page their ranges share)."""
    import numpy as np
    dtype, offset, n = _npy_head(path)
    if not 0 <= at <= n - len(arr):
        raise ValueError(f"{path}: items {at}..{at + len(arr)} past its {n}")
    with open(path, "r+b") as out:
        out.seek(offset + at * dtype.itemsize)
        np.ascontiguousarray(arr, dtype=dtype).tofile(out)


PARTED = ("ngrams", "maximal")  # the tables stored in parts (table_part): a file a level


def table_part(folder: Path, which: str, part: int | str) -> Path:
    """The file of one part of a stored table (``which``: ``ngrams`` or ``maximal``): the
    rows of level ``part`` (n = 1, 2, ...: ``n001.parquet``, ...) or, for ``part`` "long",
    the maximal table's phrases longer than ``max_n``. The parts are written side by
    side, one task each (``analysis.phrases.tables``)."""
    return folder / which / (f"n{part:03d}.parquet" if isinstance(part, int) else f"{part}.parquet")


def table_files(folder: Path, which: str) -> list[Path]:
    """A stored table's files in row order: its levels by n, then its long phrases."""
    parts = sorted((folder / which).glob("n*.parquet"))
    if not parts:
        raise FormulaeError(f"index {folder}: its {which} table is missing (rebuild it with --force)")
    long = table_part(folder, which, "long")
    return parts + ([long] if long.exists() else [])
