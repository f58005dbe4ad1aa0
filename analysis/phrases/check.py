"""Whether a corpus's folders in the store are as they were written (``formulae corpus check``).

Every folder written whole is stamped with its files' sizes (:func:`analysis.store.folder_files`):
the snapshot (``manifest.json``), each index and layer of appended statements
(``manifest.json``), each shard and each analyzer level's kept forms (``shard.json``),
the concordance's texts (``texts.json``, :mod:`analysis.ingest.texts`).
The readers and builders check a folder when they use it and make a damaged one again;
:func:`corpus_check` checks them all at once, reading only the stamps and rebuilding nothing (a
store shared by a team or a cluster, after a copy, a sync or a full disk).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FormulaeError
from ..store import corpus_dir, stamp_state

# (kind, the folders' pattern under the corpus's folder, their stamp)
STAMPED = (
    ("snapshot", "snapshot", "manifest.json"),
    ("index", "index/*", "manifest.json"),
    ("layer", "index/*.delta/*/index/*", "manifest.json"),
    ("shard", "shards/*/*", "shard.json"),
    ("texts", "texts", "texts.json"),
)


def corpus_check(corpus: str, store=None) -> list[dict]:
    """Every stamped folder of ``corpus`` in ``store``: the snapshot, the indexes, the
    layers, the shards, the texts (:data:`STAMPED`), each kind sorted by folder: ``kind``, ``folder``
    (relative to the corpus's), ``files`` and ``bytes``
    (as recorded), ``status`` (``ok``; ``damaged``, with ``why``: a file cut short or
    lost, or the stamp itself; ``unstamped``: written before the sizes were recorded).
    A build's temporaries (names starting with ``.``) are not folders of the store."""
    base = corpus_dir(corpus, store)  # (the name checked there)
    if not base.is_dir():
        raise FormulaeError(f"unknown corpus {corpus!r}: no folder {base}")
    rows = []
    for kind, pattern, stamp in STAMPED:
        for folder in sorted(base.glob(pattern)):
            if not folder.is_dir() or any(part.startswith(".") for part in folder.relative_to(base).parts):
                continue
            if kind == "index" and folder.name.endswith(".delta"):
                continue  # a layer's root: its index is checked as a layer
            if not (folder / stamp).exists():
                continue  # not a folder written whole (a scratch or lock, a level never built)
            rows.append({"kind": kind, "folder": folder.relative_to(base).as_posix()} | _status(folder, stamp))
    return rows


def _status(folder: Path, stamp: str) -> dict:
    have, why = stamp_state(folder, stamp)
    files = (have or {}).get("files")
    if have is not None and not isinstance(files, dict):
        return {"files": None, "bytes": None, "status": "unstamped", "why": None}
    return {"files": None if files is None else len(files), "bytes": None if files is None else sum(files.values()),
            "status": "damaged" if why else "ok", "why": why}
