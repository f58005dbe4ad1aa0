"""The form stream of a level as numbers: what a shard is tokenised into.

:func:`forms_coded` gives the rows of ``tokens_level(tokens_build(statements), level)`` at
``exact`` and at ``norm`` without an analyzer (the same statements, sentences, positions,
offsets and forms) without ever building a column of strings over the tokens. The
compiled scanner codes every token by its distinct surface
(:func:`analysis.text.scanner.scan`); whatever a surface decides (its kind, whether it is
an ideograph, its hyphen pieces, its form) is computed once per distinct surface, and
gathered back by code with numpy. A shard of 2 M tokens has some 25 k distinct surfaces:
this is most of what tokenising a shard cost in polars string columns
(``tests/text/test_coded.py`` checks the rows against :func:`tokens_level` on every real
corpus).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..errors import FormulaeError
from .grammar import IDEOGRAPH
from .tokens import COUNTABLE, EXACT_BREAK, KIND, hyphen_parts, statements_checked, surface_table

CODED_LEVELS = ("exact", "norm")


@dataclass(frozen=True)
class CodedStream:
    """``stream``: ``doc sent pos start end code`` (UInt32), one row per countable piece in
    (doc, pos) order, ``code`` a row of ``pieces``; ``pieces``: ``form`` of each code;
    ``surfaces``: every countable surface with the forms of its pieces, in order
    (``surface forms``, in the scanner's order). What the analyzer's levels make their
    forms of (:mod:`analysis.phrases.formparts`): ``parts``, the verbatim part of each
    code (the word's, or a hyphen part's); ``words``, per countable surface its
    ``norm``, ``kind``, first piece ``first``, pieces ``k`` and tokens ``count``."""

    stream: pl.DataFrame
    pieces: pl.Series
    surfaces: pl.DataFrame
    parts: pl.Series
    words: pl.DataFrame


def forms_coded(statements: pl.LazyFrame | pl.DataFrame, *, language: str, line_breaks: str,
                level: str) -> CodedStream:
    """The form stream of ``level`` (``exact`` or ``norm``) of the statements (``doc``,
    ``text``), coded (:class:`CodedStream`): the rows of :func:`tokens_level` at that level."""
    from .scanner import number, scan

    if level not in CODED_LEVELS:
        raise FormulaeError(f"forms_coded: level {level!r} is not one of {', '.join(CODED_LEVELS)}")
    frame = (statements_checked(statements, language, line_breaks)
             .select(pl.col("doc").cast(pl.UInt32), pl.col("text").fill_null("")).sort("doc")
             .collect(engine="in-memory"))
    *runs, surfaces = scan(frame["text"], line_breaks == "wrap")
    table = (surface_table(pl.LazyFrame({"surface": surfaces}, schema={"surface": pl.String}), "norm")  # as tokens_build
             .with_columns(pl.col("kind").cast(KIND)).collect(engine="in-memory"))
    para, sent, tok = number(runs, np.array(table["_flags"], np.uint8), 1 if line_breaks == "paragraph" else 2,
                             np.array(frame["doc"], np.uint32))
    keep = table["kind"].is_in(COUNTABLE).to_numpy()
    ideo = table["surface"].str.contains(f"^{IDEOGRAPH}$").to_numpy()
    pieces, first, k, split = _piece_table(table, keep, level)
    doc, sent, pos, start, end, code = rows_kept(runs, sent, tok, keep, ideo,
                                                  (k, first, split["cut"], split["a"], split["b"]))
    del runs, para
    stream = pl.DataFrame({"doc": doc, "sent": sent, "pos": pos, "start": start, "end": end, "code": code},
                          schema=dict.fromkeys(("doc", "sent", "pos", "start", "end", "code"), pl.UInt32))
    kept = pl.Series(keep)
    surface = pl.DataFrame({"surface": table["surface"].filter(kept), "forms": _lists(pieces, k)})
    # a surface's tokens: the rows of its first piece (every countable surface has one)
    rows = np.bincount(code, minlength=len(pieces))
    words = pl.DataFrame({"surface": table["surface"], "norm": table["norm"], "kind": table["kind"],
                          "first": pl.Series(first, dtype=pl.UInt32),
                          "k": pl.Series(k, dtype=pl.UInt32)}).filter(kept)
    words = words.with_columns(pl.Series("count", rows[words["first"].to_numpy()], dtype=pl.UInt32))
    return CodedStream(stream=stream, pieces=pieces, surfaces=surface, parts=split["surface"], words=words)


def _piece_table(table: pl.DataFrame, keep: np.ndarray, level: str):
    """(form of every piece, first piece of each surface code, pieces of each code,
    per piece: whether it is a part of a hyphenated word, its offsets ``a``, ``b`` in
    the word and its verbatim ``surface``) for the distinct surfaces; a surface that is
    not countable has no piece."""
    n = table.height
    if level == "exact":
        form = table["surface"].str.replace_all(EXACT_BREAK, "-")
        hyph = np.zeros(n, bool)
    else:
        form = table["norm"]
        hyph = (keep & (table["kind"] == "word").to_numpy()
                & table["norm"].str.contains("-", literal=True).fill_null(False).to_numpy())
    k = keep.astype(np.int64)
    parts: dict[int, list] = {}
    at = np.flatnonzero(hyph)
    for c, surface, norm in zip(at.tolist(), table["surface"].gather(at).to_list(), table["norm"].gather(at).to_list(),
                                strict=True):  # Python once per distinct hyphenated surface
        parts[c] = hyphen_parts(surface, norm)
        k[c] = len(parts[c])
    first = np.cumsum(k) - k
    total = int(k.sum())
    code = np.repeat(np.arange(n), k)
    forms = form.gather(code).rename("form")
    surface = table["surface"].gather(code).rename("surface")
    cut = np.zeros(total, bool)
    a = np.zeros(total, np.uint32)
    b = np.zeros(total, np.uint32)
    if parts:
        listed, verbatim = forms.to_list(), surface.to_list()
        for c, ps in parts.items():
            for j, (norm, part, lo, hi) in enumerate(ps):
                at = first[c] + j
                listed[at], verbatim[at], cut[at], a[at], b[at] = norm, part, True, lo, hi
        forms = pl.Series("form", listed, pl.String)
        surface = pl.Series("surface", verbatim, pl.String)
    return forms, first, k, {"cut": cut, "a": a, "b": b, "surface": surface}


def _lists(pieces: pl.Series, k: np.ndarray) -> pl.Series:
    """The forms of each countable surface's pieces, one list per surface (in code order)."""
    return (pl.DataFrame({"code": np.repeat(np.arange(len(k)), k), "form": pieces})
            .group_by("code", maintain_order=True).agg("form")["form"])


def _rows_loop(r_doc, r_start, r_end, r_code, sent, tok, keep, ideo, k, first, cut, a, b):  # pragma: no cover - numba
    """The countable runs' rows, their pieces expanded (see :func:`rows_kept`)."""
    n = r_doc.shape[0]
    total = 0
    m = 0
    expand = False  # some word is cut at a hyphen: every piece gets its own offsets
    for i in range(n):
        c = r_code[i]
        if keep[c]:
            m += 1
            total += k[c]
            expand = expand or k[c] != 1
    size = total if expand else m
    out = np.empty((6, size), np.uint32)  # doc sent pos start end code
    j = 0
    row0 = 0
    shift = 0
    have = False
    prev_doc = np.uint32(0)
    prev_sent = np.uint32(0)
    prev_tok = 0
    prev_ideo = False
    for i in range(n):
        c = r_code[i]
        if not keep[c]:
            continue
        d = r_doc[i]
        if not have or d != prev_doc:
            row0 = j
            shift = 0
        elif sent[i] == prev_sent and np.int64(tok[i]) - prev_tok > 1 and (ideo[c] or prev_ideo):
            shift += 1  # an ideograph next to a gap starts a clause (tokens._clauses)
        s = np.uint32(sent[i] + shift)
        kk = k[c] if expand else 1
        for t in range(kk):
            p = first[c] + t
            out[0, j], out[1, j], out[2, j], out[5, j] = d, s, j - row0, p
            if expand and cut[p]:
                out[3, j], out[4, j] = r_start[i] + a[p], r_start[i] + b[p]
            else:
                out[3, j], out[4, j] = r_start[i], r_end[i]
            j += 1
        have, prev_doc, prev_sent, prev_tok, prev_ideo = True, d, sent[i], np.int64(tok[i]), ideo[c]
    return out


def rows_kept(runs, sent, tok, keep, ideo, pieces: tuple) -> tuple[np.ndarray, ...]:
    """``doc sent pos start end code`` (uint32) of the countable runs (``keep`` of their
    surface code) in one compiled pass, as ``forms_coded`` defines them: clauses split where
    an ideograph meets a gap (``ideo`` per code), every run expanded into its surface's
    pieces (``pieces``: ``k``, ``first`` per code and ``cut``, ``a``, ``b`` per piece), each
    piece of a word cut at a hyphen with its own offsets, ``pos`` counted within the
    statement, ``code`` the piece. About a dozen numpy passes did it: 8 shards of ungdc
    tokenised in 3.1-4.1 s then, 2.2-2.8 s in one loop (alternating runs)."""
    r_doc, r_start, r_end, _, r_code = runs
    k, first, cut, a, b = pieces
    return tuple(_rows_compiled()(r_doc, r_start, r_end, r_code, sent, tok, keep, ideo, k, first, cut, a, b))


@functools.cache
def _rows_compiled():
    """:func:`_rows_loop` compiled by numba (cached on disk), on first use: importing this
    module does not import numba."""
    import numba

    return numba.njit(cache=True, nogil=True)(_rows_loop)
