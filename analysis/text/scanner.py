"""Scan: the compiled run scanner behind :func:`analysis.text.tokens.tokens_build`.

The grammar of a run (one token and the gap after it) is *defined* by the regular
expression ``analysis.text.grammar.run_pattern``; this module is a second, faster
implementation of the same grammar: a hand-written matcher compiled with numba that
walks the code points of every text once, tries the pattern's alternatives in the
pattern's order with the same greedy-then-backtrack rules, and interns each token's
surface in a hash table as it goes. It returns numbers only (document, offset,
lengths, the surface's code, the line breaks in the gap), never one string per
token: that is what made the regular-expression split cost ~3 s on ``ungdc``.

Character classes come from :data:`analysis.text.grammar.CHAR_CLASSES`: a table with one
bit per class for every code point, made by matching each class with polars' own
regular-expression engine (so "letter", ``\\w`` or ``Extended_Pictographic`` mean
exactly what they mean in the pattern). The table ships as ``data/chars.npz``, keyed
by the class definitions; a stale or missing file is rebuilt in memory.
``tests/test_scan.py`` checks the shipped table against the regex engine and the
scanner against the regular expression, on generated texts and on real corpora.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numba as nb
import numpy as np
import polars as pl

from .grammar import CHAR_CLASSES, FLAG_ABBR, FLAG_CLOSE, FLAG_DOT, FLAG_SEND

TABLE_PATH = Path(__file__).parent / "data" / "chars.npz"
LOADED = False  # True once the compiled code is loaded in this process (tokens_build "auto")
_NAMES = list(CHAR_CLASSES)
_BIT = {name: 1 << i for i, name in enumerate(_NAMES)}

# numba folds module-level integers into the compiled code as constants
LETTER = _BIT["letter"]
WORDCH = _BIT["wordch"]
IDEOGRAPH = _BIT["ideograph"]
DIGIT = _BIT["digit"]
W = _BIT["w"]
GAP = _BIT["gap"]
URL_BODY = _BIT["url_body"]
URL_END = _BIT["url_end"]
EMAIL = _BIT["email"]
DOMAIN = _BIT["domain"]
RI = _BIT["ri"]
KEYCAP = _BIT["keycap"]
PICT = _BIT["pict"]
PICT_MOD = _BIT["pict_mod"]
ZWJ_MOD = _BIT["zwj_mod"]
UPPER = _BIT["upper"]
LOWER = _BIT["lower"]
NUM_SEP = _BIT["num_sep"]
JOIN = _BIT["join"]
ZW = _BIT["zw"]
SENT_END = _BIT["sent_end"]
NEWLINE = _BIT["newline"]
CI_H = _BIT["ci_h"]
CI_T = _BIT["ci_t"]
CI_P = _BIT["ci_p"]
CI_S = _BIT["ci_s"]
CI_W = _BIT["ci_w"]
assert len(_NAMES) <= 32, "the character table has 32 bits"


def table_key() -> str:
    """Hash of the class definitions the shipped table was made from."""
    return hashlib.sha256(json.dumps(CHAR_CLASSES, sort_keys=True).encode()).hexdigest()[:16]


def table_build() -> np.ndarray:
    """The class bits of every code point, by the regex engine (about a second)."""
    cps = np.r_[0:0xD800, 0xE000:0x110000].astype(np.uint32)
    chars = pl.Series("c", list(cps.astype("<u4").tobytes().decode("utf-32-le")), pl.String)
    table = np.zeros(0x110000, np.uint32)
    for name, cls in CHAR_CLASSES.items():
        hit = chars.str.contains(f"^(?:{cls})$").to_numpy()
        table[cps[hit]] |= np.uint32(_BIT[name])
    return table


def table_write(path: Path = TABLE_PATH) -> None:
    """Regenerate ``data/chars.npz`` (after changing :data:`CHAR_CLASSES`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, table=table_build(), key=np.array(table_key()))


@lru_cache(maxsize=1)
def char_table() -> np.ndarray:
    """The shipped table, or a fresh one when the file is missing or stale."""
    try:
        with np.load(TABLE_PATH) as z:
            if str(z["key"]) == table_key():
                return z["table"]
    except (OSError, KeyError, ValueError):
        pass
    return table_build()


# --- the matcher ------------------------------------------------------------------


# One flat function: numba compiles calls to helper functions (inlined or not) into
# much slower code than the same lines written out, so each alternative of the
# pattern is a block below, headed by its fragment of the regular expression.
# Numba kernels (this one and _scan_part) stay whole past the ~80-line rule: a call
# between compiled pieces of the innermost loop costs more than the split is worth, and
# each block mirrors one alternative of the grammar's run pattern, in its order.
@nb.njit(cache=True, nogil=True)
def _token_end(cps, t, i, hi, wrap):  # noqa: C901 - one block per alternative
    """End of the token at ``i`` (a non-gap character): the first alternative of the
    pattern that matches, with the pattern's greedy-then-backtrack rules."""
    c = cps[i]
    f = t[c]
    # (?i:https?://|www\.)(?:[^stop]*[^stop.,;:!?)'...])?
    if f & (CI_H | CI_W):
        j = -1
        if i + 4 <= hi and f & CI_H and t[cps[i + 1]] & CI_T and t[cps[i + 2]] & CI_T:
            if t[cps[i + 3]] & CI_P:
                p = i + 4
                if p < hi and t[cps[p]] & CI_S:
                    p += 1
                if p + 3 <= hi and cps[p] == 58 and cps[p + 1] == 47 and cps[p + 2] == 47:
                    j = p + 3
        if j < 0 and i + 4 <= hi and f & CI_W and t[cps[i + 1]] & CI_W:
            if t[cps[i + 2]] & CI_W and cps[i + 3] == 46:
                j = i + 4
        if j >= 0:
            k = j
            while k < hi and t[cps[k]] & URL_BODY:
                k += 1
            while k > j and not t[cps[k - 1]] & URL_END:
                k -= 1
            return k
    # \w[\w.+\-]*@[\w\-]+(?:\.[\w\-]+)+
    # (a word's leading run of wordch is also the start of this run, as wordch is a
    # subset of [\w.+\-]: it is scanned once and reused by the word block below)
    kw = i + 1
    while kw < hi and t[cps[kw]] & WORDCH:
        kw += 1
    if f & W:
        k = kw
        while k < hi and t[cps[k]] & EMAIL:
            k += 1
        if k + 1 < hi and cps[k] == 64 and t[cps[k + 1]] & DOMAIN:
            m = k + 2
            while m < hi and t[cps[m]] & DOMAIN:
                m += 1
            j = -1
            while m + 1 < hi and cps[m] == 46 and t[cps[m + 1]] & DOMAIN:
                m += 2
                while m < hi and t[cps[m]] & DOMAIN:
                    m += 1
                j = m
            if j >= 0:
                return j
    # \p{RI}{2} | [#*0-9]\x{FE0F}?\x{20E3} | \p{Ext_Pict}[mods]*(?:\x{200D}\p{Ext_Pict}[mods]*)*
    if f & (RI | KEYCAP | PICT):
        if f & RI and i + 1 < hi and t[cps[i + 1]] & RI:
            return i + 2
        if f & KEYCAP:
            k = i + 1
            if k < hi and cps[k] == 0xFE0F:
                k += 1
            if k < hi and cps[k] == 0x20E3:
                return k + 1
        if f & PICT:
            k = i + 1
            while k < hi and t[cps[k]] & PICT_MOD:
                k += 1
            while k + 1 < hi and cps[k] == 0x200D and t[cps[k + 1]] & PICT:
                k += 2
                while k < hi and t[cps[k]] & ZWJ_MOD:
                    k += 1
            return k
    # @\w+ | #\w+ (the mention comes before the emoji in the pattern, but no emoji
    # starts with "@", so testing it here together with the hashtag is the same)
    if (c == 64 or c == 35) and i + 1 < hi and t[cps[i + 1]] & W:
        k = i + 2
        while k < hi and t[cps[k]] & W:
            k += 1
        return k
    # \p{Lu}(?:\.\p{Lu})+ | \p{Ll}\.(?:\p{Ll}\.)+
    if f & UPPER:
        k = i + 1
        while k + 1 < hi and cps[k] == 46 and t[cps[k + 1]] & UPPER:
            k += 2
        if k > i + 1:
            return k
    if f & LOWER and i + 1 < hi and cps[i + 1] == 46:
        k = i + 2
        while k + 1 < hi and t[cps[k]] & LOWER and cps[k + 1] == 46:
            k += 2
        if k > i + 2:
            return k
    # \p{Nd}+(?:[.,\x{066B}\x{066C}]\p{Nd}+)*
    if f & DIGIT:
        k = i + 1
        while k < hi and t[cps[k]] & DIGIT:
            k += 1
        while k + 1 < hi and t[cps[k]] & NUM_SEP and t[cps[k + 1]] & DIGIT:
            k += 2
            while k < hi and t[cps[k]] & DIGIT:
                k += 1
        return k
    # ideograph: one character a token (Han, kana)
    if f & IDEOGRAPH:
        return i + 1
    # letter wordch* (?:(?:join | zw+ | -[ \t]*\r?\n[ \t]* (wrap)) wordch+)*
    if f & LETTER:
        k = kw
        while k < hi:
            c = cps[k]
            g = t[c]
            q = -1
            if g & JOIN and k + 1 < hi and t[cps[k + 1]] & WORDCH:
                q = k + 1
            elif g & ZW:
                q = k + 1
                while q < hi and t[cps[q]] & ZW:
                    q += 1
                if not (q < hi and t[cps[q]] & WORDCH):
                    q = -1
            elif wrap and c == 45:
                q = k + 1
                while q < hi and (cps[q] == 32 or cps[q] == 9):
                    q += 1
                if q + 1 < hi and cps[q] == 13 and cps[q + 1] == 10:
                    q += 2
                elif q < hi and cps[q] == 10:
                    q += 1
                else:
                    q = hi
                while q < hi and (cps[q] == 32 or cps[q] == 9):
                    q += 1
                if not (q < hi and t[cps[q]] & WORDCH):
                    q = -1
            if q < 0:
                break
            k = q + 1
            while k < hi and t[cps[k]] & WORDCH:
                k += 1
        return k
    # [.!?\x{061F};\x{061B}\x{2026}]+
    if f & SENT_END:
        k = i + 1
        while k < hi and t[cps[k]] & SENT_END:
            k += 1
        return k
    # any other single character
    return i + 1


_HASH_MUL = 0x9E3779B97F4A7C15  # Fibonacci hashing: the slot is the product's top bits


@nb.njit(cache=True, nogil=True)
def _decode(raw, cps):
    """Decode the UTF-8 bytes ``raw`` (valid, as polars holds them) into ``cps``;
    returns the number of code points."""
    i = 0
    k = 0
    size = raw.shape[0]
    while i < size:
        b = np.uint32(raw[i])
        if b < 0x80:
            cps[k] = b
            i += 1
        elif b < 0xE0:
            cps[k] = ((b & 0x1F) << 6) | (np.uint32(raw[i + 1]) & 0x3F)
            i += 2
        elif b < 0xF0:
            cps[k] = (
                ((b & 0x0F) << 12)
                | ((np.uint32(raw[i + 1]) & 0x3F) << 6)
                | (np.uint32(raw[i + 2]) & 0x3F)
            )
            i += 3
        else:
            cps[k] = (
                ((b & 0x07) << 18)
                | ((np.uint32(raw[i + 1]) & 0x3F) << 12)
                | ((np.uint32(raw[i + 2]) & 0x3F) << 6)
                | (np.uint32(raw[i + 3]) & 0x3F)
            )
            i += 4
        k += 1
    return k


@nb.njit(cache=True, nogil=True)
def _scan_part(cps, t, lo, hi, wrap, base, at, out, slots, surf):  # a numba kernel, kept whole
    """Scan from text ``at[0]`` (at code point ``at[1]``; -1: from its start) until done
    or an array is full; ``at`` is updated in place (text, position, runs, surfaces,
    arena use). Texts are numbered from ``base``. Nothing is reallocated here (the
    caller grows the arrays), which keeps the loop free of reference counting."""
    r_doc, r_start, r_len, r_gap, r_code = out
    d_meta, d_hash, arena = surf
    d, i, m, nd, used = at[0], at[1], at[2], at[3], at[4]
    cap = r_doc.shape[0]
    size = slots.shape[0]
    mask = size - 1
    shift = np.uint64(64 - _log2(size))
    while d < lo.shape[0]:
        end = hi[d]
        if i < 0:
            i = lo[d]
            while i < end and t[cps[i]] & GAP:
                i += 1
        while i < end:
            if m == cap or 4 * (nd + 1) > 3 * size or nd == d_hash.shape[0]:
                break
            e = _token_end(cps, t, i, end, wrap)
            while t[cps[e - 1]] & GAP:  # a URL may end in invisible marks: not its surface
                e -= 1
            n = e - i
            if used + n > arena.shape[0]:
                break
            g = e
            nl = 0
            while g < end and t[cps[g]] & GAP:
                c = cps[g]
                if c == 13 and g + 1 < end and cps[g + 1] == 10:
                    nl += 1
                    g += 2
                    continue
                if t[c] & NEWLINE:
                    nl += 1
                g += 1
            # intern the surface cps[i:e]: FNV-1a over its code points, linear probing;
            # a slot holds the hash's top half and code + 1 in one word, a surface's
            # arena offset and length sit side by side, and the distinct surfaces lie
            # packed in the arena: few cache misses per token
            h = np.uint64(14695981039346656037)
            for p in range(i, e):
                h = (h ^ np.uint64(cps[p])) * np.uint64(1099511628211)
            tag = h >> np.uint64(32)
            s = np.int64((h * np.uint64(_HASH_MUL)) >> shift)
            while True:
                entry = slots[s]
                if entry == 0:
                    idx = nd
                    d_meta[2 * nd] = used
                    d_meta[2 * nd + 1] = n
                    d_hash[nd] = h
                    for q in range(n):
                        arena[used + q] = cps[i + q]
                    used += n
                    nd += 1
                    slots[s] = (tag << np.uint64(32)) | np.uint64(nd)
                    break
                if entry >> np.uint64(32) == tag:
                    idx = np.int64(entry & np.uint64(0xFFFFFFFF)) - 1
                    if d_meta[2 * idx + 1] == n:
                        a = d_meta[2 * idx]
                        q = 0
                        while q < n and arena[a + q] == cps[i + q]:
                            q += 1
                        if q == n:
                            break
                s = (s + 1) & mask
            r_doc[m] = base + d
            r_start[m] = i - lo[d]
            r_len[m] = n
            r_gap[m] = 2 * min(nl, 127) + (1 if g > e else 0)
            r_code[m] = idx
            m += 1
            i = g
        else:
            d += 1
            i = -1
            continue
        break
    at[0], at[1], at[2], at[3], at[4] = d, i, m, nd, used


@nb.njit(cache=True, nogil=True)
def _log2(size):
    """``log2`` of a power of two."""
    bits = 0
    while (1 << bits) < size:
        bits += 1
    return bits


@nb.njit(cache=True, nogil=True)
def _rehash(d_hash, nd, size):
    """A hash table of ``size`` (a power of two) slots holding codes ``0 .. nd-1``."""
    mask = size - 1
    shift = np.uint64(64 - _log2(size))
    slots = np.zeros(size, np.uint64)
    for code in range(nd):
        h = d_hash[code]
        s = np.int64((h * np.uint64(_HASH_MUL)) >> shift)
        while slots[s] != 0:
            s = (s + 1) & mask
        slots[s] = ((h >> np.uint64(32)) << np.uint64(32)) | np.uint64(code + 1)
    return slots


def _grown(a: np.ndarray, n: int) -> np.ndarray:
    b = np.empty(n, a.dtype)
    b[: a.shape[0]] = a
    return b


class _Scanner:
    """The scanner's growing state across chunks of texts: runs, hash table, surfaces."""

    def __init__(self, cap: int, longest: int):
        self.longest = longest
        cap = max(cap, 16)
        self.out = tuple(
            np.empty(cap, dt) for dt in (np.uint32, np.uint32, np.uint32, np.uint8, np.uint32)
        )
        self.slots = np.zeros(1 << 16, np.uint64)  # a power of two, at most 3/4 full
        self.surf = (  # offset and length per surface, its hash, the arena
            np.empty(1 << 16, np.int64),
            np.empty(1 << 15, np.uint64),
            np.empty(1 << 20, np.uint32),
        )
        self.at = np.array([0, -1, 0, 0, 0], np.int64)  # text, position, runs, surfaces, arena

    def run(self, cps, lo, hi, wrap: bool, base: int) -> None:
        """Scan the texts ``cps[lo[d]:hi[d]]`` (numbered from ``base``)."""
        at, t = self.at, char_table()
        at[0], at[1] = 0, -1
        while True:
            _scan_part(cps, t, lo, hi, wrap, base, at, self.out, self.slots, self.surf)
            d, _, m, nd, used = at.tolist()
            if d >= len(lo):
                return
            if m == self.out[0].shape[0]:
                self.out = tuple(_grown(a, 2 * m) for a in self.out)
            if 4 * (nd + 1) > 3 * self.slots.shape[0]:
                self.slots = _rehash(self.surf[1], nd, 2 * self.slots.shape[0])
            meta, hashes, arena = self.surf
            if nd == hashes.shape[0]:
                meta, hashes = _grown(meta, 4 * nd), _grown(hashes, 2 * nd)
            if used + self.longest > arena.shape[0]:  # room for the longest possible token
                arena = _grown(arena, 2 * arena.shape[0] + self.longest)
            self.surf = (meta, hashes, arena)

    def result(self):
        """Per-run arrays and the list of distinct surfaces (see :func:`scan`)."""
        _, _, m, nd, used = self.at.tolist()
        meta, _, arena = self.surf
        text = arena[:used].tobytes().decode("utf-32-le")
        offsets, lengths = meta[0 : 2 * nd : 2].tolist(), meta[1 : 2 * nd : 2].tolist()
        surfaces = [text[a : a + n] for a, n in zip(offsets, lengths, strict=True)]
        return tuple(a[:m] for a in self.out) + (surfaces,)


@nb.njit(cache=True, nogil=True)
def _number(r_doc, r_start, r_len, r_gap, r_code, flags, para_nl, docs):
    """Paragraph, sentence and token numbers of every run (runs grouped by text);
    ``flags``: the bits of ``tokens.surface_table`` per surface code.

    A paragraph break follows a run whose gap holds at least ``para_nl`` line breaks.
    A sentence ends after a ``sent_end`` run, except a "." glued to an abbreviation;
    a closing quote or bracket glued to a sentence end takes the end over; a
    paragraph break always ends the sentence (see ``tokens.py``). In place, to
    spare fresh memory: ``r_doc`` becomes the document id (``docs[r_doc]``) and
    ``r_len`` the end offset.
    """
    n = r_doc.shape[0]
    para = np.empty(n, np.uint32)
    sent = np.empty(n, np.uint32)
    tok = np.empty(n, np.uint32)
    p = 0
    s = 0
    k = 0
    prev_doc = np.uint32(0)
    prev_end = False
    prev_abbr = False
    prev_adj = False
    for r in range(n):
        doc = docs[r_doc[r]]
        if r == 0 or doc != prev_doc:
            p = 0
            s = 0
            k = 0
            glued = False
        else:
            glued = prev_adj
        f = flags[r_code[r]]
        end0 = (f & FLAG_SEND) != 0 and not ((f & FLAG_DOT) != 0 and prev_abbr and glued)
        carry = (f & FLAG_CLOSE) != 0 and glued and prev_end
        adj = (r_gap[r] & 1) == 0
        next_carry = False
        if end0 and adj and r + 1 < n and docs[r_doc[r + 1]] == doc:
            next_carry = (flags[r_code[r + 1]] & FLAG_CLOSE) != 0
        pbrk = (r_gap[r] >> 1) >= para_nl
        para[r] = p
        sent[r] = s
        tok[r] = k
        if pbrk:
            p += 1
        if (end0 and not next_carry) or carry or pbrk:
            s += 1
        k += 1
        prev_end = end0
        prev_abbr = (f & FLAG_ABBR) != 0
        prev_adj = adj
        prev_doc = doc
        r_doc[r] = doc
        r_len[r] += r_start[r]
    return para, sent, tok


CHUNK = 1 << 24  # code points decoded at a time (a reused 64 MB buffer, no fresh pages)


def scan(texts: pl.Series, wrap: bool):
    """Scan the texts (a polars String Series without nulls), a chunk at a time.

    Returns per run: text index, start (code points from the text's start), token
    length, the gap after it (2 × its line breaks, at most 127, + 1 if it is not
    empty), the code of its surface; and the list of distinct surfaces by code
    (first seen first).
    """
    global LOADED
    chars = texts.str.len_chars().cast(pl.Int64).to_numpy()
    if chars.sum() == 0:
        return _Scanner(0, 0).result()
    hi = np.cumsum(chars)
    lo = hi - chars
    longest = int(chars.max())
    scanner = _Scanner(int(hi[-1]) // 5, longest)
    # texts whose start falls in the same CHUNK-wide window are decoded together
    window = lo // CHUNK
    cuts = np.flatnonzero(np.diff(window)) + 1
    bounds = np.concatenate([[0], cuts, [len(chars)]]).tolist()
    buffer = np.empty(min(int(hi[-1]), CHUNK) + longest, np.uint32)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        raw = texts.slice(a, b - a).str.join("").cast(pl.Binary).item()
        _decode(np.frombuffer(raw, np.uint8), buffer)
        base = lo[a]
        scanner.run(buffer, lo[a:b] - base, hi[a:b] - base, wrap, a)
    LOADED = True
    return scanner.result()


def number(runs, flags, para_nl: int, docs):
    """Paragraph, sentence and token numbers (see :func:`_number`; ``runs`` as from
    :func:`scan`, changed in place)."""
    r_doc, r_start, r_len, r_gap, r_code = runs
    return _number(r_doc, r_start, r_len, r_gap, r_code, flags, para_nl, docs)

