"""The installed libraries whose versions decide a text's forms, read without importing them.

polars (its Unicode lowercasing and normalisation), nltk (the stemmers), pymorphy3 and its
dictionary (lemmas), stopwordsiso (the Arabic lexicon of clitic splits), and beside them
Python's Unicode database. Their versions are in the Analyzer's fingerprint, every phrase
index's stamp and every shard's key (:mod:`analysis.phrases.index`,
:mod:`analysis.phrases.shards`), so that an upgrade rebuilds what they made.
"""

from __future__ import annotations

import functools

LIBRARIES = ("polars", "nltk", "pymorphy3", "pymorphy3-dicts-ru", "stopwordsiso")


@functools.cache  # installed packages do not change under a running process
def library_versions() -> dict[str, str]:
    """``{library: version}`` of :data:`LIBRARIES` (``-`` where one is not installed) and
    ``unicode``: Python's Unicode database. Read from package metadata, so the query path
    imports none of them (1-3 ms)."""
    import unicodedata
    from importlib.metadata import PackageNotFoundError, version

    def have(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    return {name: have(name) for name in LIBRARIES} | {"unicode": unicodedata.unidata_version}


def libraries_changed(old: dict | None, new: dict) -> str:
    """What differs between two :func:`library_versions` records, for a message:
    ``nltk 3.9.1 -> 3.10.4, polars 2.0.0 -> 2.1.0`` (``none recorded``: an older stamp)."""
    if not old:
        return "none recorded"
    return ", ".join(f"{k} {old.get(k, '-')} -> {new.get(k, '-')}"
                     for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))
