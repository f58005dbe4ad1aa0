"""The verbatim texts of a snapshot, uncompressed and memory-mapped, for the concordance.

``formulae kwic`` shows a window of text around each match. Reading those windows from
the snapshot's Parquet file means importing polars (about 0.1 s of a process) and
decompressing every page that holds a matched statement: on ungdc, 0.10 s for the 3,279
statements with "territorial integrity", so the whole ``kwic`` process took 0.55-0.67 s
where ``query`` takes 0.27 s. This store holds the same texts as one UTF-8 file with each
statement's byte offsets and the three strings a concordance line shows (``id``,
``source``, ``date`` at its precision), read with numpy and ``json`` alone. (The
concordance's order, by date, source and id, undated last, is the snapshot's own: a
statement's number ``doc``.)

Layout, ``<store>/<corpus>/texts/``: ``text.bin`` (the texts, UTF-8, in statement order),
``text_off.npy`` (int64: statement d's bytes are ``text_off[d]:text_off[d + 1]``), ``labels.json``
(``id``, ``source``, ``date``: a list each, null where the snapshot has none) and
``texts.json``, the stamp (the snapshot's sha256, :data:`TEXTS_VERSION`, the statements
and the files' sizes), written last.

It is made from the snapshot by the first concordance that needs it after an ingest
(ungdc: about 1 s for 199 MB), under a lock, atomically; a store of another snapshot or
version is made again, and so is a damaged one (a file of another size than written),
with a note. The snapshot stays the record: this is a copy, never edited.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

from ..errors import FormulaeError
from ..store import (
    atomic_dir,
    corpus_dir,
    read_json,
    stamp_state,
    stamp_write,
    store_lock,
    write_json,
)

TEXTS_VERSION = "1"
STAMP = "texts.json"
_CHUNK = 512  # statements encoded and written at a time


class Texts:
    """A corpus's texts store (the module's docstring), opened by :func:`texts_open`."""

    def __init__(self, folder: Path, stamp: dict, repaired: str | None = None):
        self.folder, self.stamp, self.repaired = folder, stamp, repaired
        self.offsets = np.asarray(np.load(folder / "text_off.npy", mmap_mode="r"))  # (a memmap's items are slow)
        self._labels: dict | None = None
        size = (folder / "text.bin").stat().st_size
        with open(folder / "text.bin", "rb") as fh:  # an empty file cannot be mapped
            self._bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def text(self, doc: int) -> str:
        """Statement ``doc``'s text, verbatim."""
        return self.raw(doc).decode("utf-8")

    def raw(self, doc: int) -> bytes:
        """Statement ``doc``'s text as stored (UTF-8)."""
        return self._bytes[int(self.offsets[doc]):int(self.offsets[doc + 1])]

    @property
    def labels(self) -> dict[str, list]:
        """``id``, ``source``, ``date`` (text at its precision) of every statement."""
        if self._labels is None:
            self._labels = read_json(self.folder / "labels.json")
        return self._labels


def texts_dir(corpus: str, store=None) -> Path:
    return corpus_dir(corpus, store) / "texts"


def texts_open(corpus: str, snapshot_sha256: str, store=None) -> Texts:
    """The texts store of ``corpus`` for the snapshot ``snapshot_sha256``, made first
    when it is missing, of another snapshot or version, or damaged (:class:`Texts`'s
    ``repaired`` then says what was damaged)."""
    folder = texts_dir(corpus, store)
    have = _fresh(folder, snapshot_sha256)[0]
    if have is not None:
        return Texts(folder, have)
    with store_lock(folder.parent, "texts"):
        have, damage = _fresh(folder, snapshot_sha256)  # another process may have made it meanwhile
        if have is None:
            have = _texts_write(corpus, store, folder, snapshot_sha256)
        return Texts(folder, have, repaired=damage)


def _fresh(folder: Path, sha: str) -> tuple[dict | None, str | None]:
    """(the stamp of ``folder`` when it holds the texts of snapshot ``sha`` as written,
    else None; why it is damaged, if it is)."""
    have, damage = stamp_state(folder, STAMP)
    ok = (have is not None and damage is None and have.get("version") == TEXTS_VERSION
          and have.get("snapshot_sha256") == sha)
    return (have if ok else None), damage


def _texts_write(corpus: str, store, folder: Path, sha: str) -> dict:
    """Make the texts store of ``corpus`` (whose snapshot must be ``sha``) in ``folder``."""
    import polars as pl

    from .periods import date_label_expr
    from .snapshot import corpus_load, corpus_manifest

    st = (corpus_load(corpus, store).select("doc", "id", "source", "date", "date_precision", "text")
          .sort("doc").collect())
    now = corpus_manifest(corpus, store).get("snapshot_sha256")
    if now != sha:
        raise FormulaeError(f"the snapshot of corpus {corpus!r} changed while its texts were read; "
                            "run the command again")
    n = st.height
    if not st["doc"].equals(pl.Series("doc", np.arange(n), st["doc"].dtype)):  # pragma: no cover - ingest numbers them
        raise FormulaeError(f"the snapshot of corpus {corpus!r} does not number its statements 0..{n - 1}")
    texts = st["text"].fill_null("")
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(texts.str.len_bytes().to_numpy(), out=offsets[1:])
    with atomic_dir(folder) as tmp:
        with open(tmp / "text.bin", "wb") as fh:
            for lo in range(0, n, _CHUNK):
                fh.write("".join(texts.slice(lo, _CHUNK).to_list()).encode("utf-8"))
        np.save(tmp / "text_off.npy", offsets)
        write_json(tmp / "labels.json", {"id": st["id"].to_list(), "source": st["source"].to_list(),
                                         "date": st.select(date_label_expr()).to_series().to_list()})
        stamp = stamp_write(tmp, STAMP, {"version": TEXTS_VERSION, "corpus": corpus, "snapshot_sha256": sha,
                                         "statements": n, "bytes": int(offsets[-1])})
    return stamp
