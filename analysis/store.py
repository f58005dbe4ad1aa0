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
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENV_STORE = "FORMULAE_STORE"


def store_root(store: str | Path | None = None) -> Path:
    """Resolve the store root: argument, then ``$FORMULAE_STORE``, then ``./build``."""
    if store is not None:
        return Path(store)
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(env)
    return Path.cwd() / "build"


def corpus_dir(name: str, store: str | Path | None = None) -> Path:
    return store_root(store) / name


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``target`` whole.

    On any exception the temporary folder is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary sibling of ``target`` for writing; rename it into place on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.replace(tmp, target)
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
    return json.loads(Path(path).read_text(encoding="utf-8"))


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
