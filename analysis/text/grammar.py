"""The token grammar: character classes and the run pattern, in one place.

A *run* is one token plus the gap after it (or a leading gap at a text's start). The
regular-expression engine (:func:`analysis.text.tokens.tokens_build_regex`) matches
:func:`run_pattern`; the compiled scanner (:mod:`analysis.text.scanner`) looks
characters up in a table made from :data:`CHAR_CLASSES` by the same regex engine, so
the two implementations cannot disagree on what a class holds. Pure strings: no
polars, no numpy.
"""

from __future__ import annotations

import re

# Gap characters: white space and invisible format marks (bidi marks, BOM, ZW space).
GAP_CHARS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"  # the Unicode White_Space set (= regex \\s)
    + "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"
    + "\u2066\u2067\u2068\u2069\u061c"
)
GAP_CLASS = "".join(f"\\x{{{ord(c):04X}}}" for c in GAP_CHARS)

# The character classes of the grammar, by name. The run pattern below is composed
# from them, and ``analysis.scan`` (the compiled scanner) looks characters up in a
# table made by matching each class against every code point with this same regex
# engine, so the two implementations cannot disagree on what a class holds.
_URL_STOP = r"\s<>\"«»\[\]{}|\\^`"
# Scripts written without spaces between words: each character is a token of its own
# (Chinese Han, Japanese kana; the iteration mark 々 and the prolonged-sound mark ー),
# so a phrase query finds a character sequence wherever it occurs in a sentence.
IDEOGRAPH = r"[\p{Han}\p{Hiragana}\p{Katakana}\x{3005}\x{30FC}]"
CHAR_CLASSES = {
    "letter": f"[[\\p{{L}}\\p{{M}}]--{IDEOGRAPH}]",
    "wordch": f"[[\\p{{L}}\\p{{M}}\\p{{Nd}}]--{IDEOGRAPH}]",
    "ideograph": IDEOGRAPH,
    "digit": r"\p{Nd}",
    "w": r"\w",
    "gap": f"[{GAP_CLASS}]",
    "url_body": f"[^{_URL_STOP}]",
    "url_end": f"[^{_URL_STOP}" r".,;:!?)'\x{060C}\x{061B}\x{061F}\x{2026}]",
    "email": r"[\w.+\-]",
    "domain": r"[\w\-]",
    "ri": r"\p{Regional_Indicator}",
    "keycap": r"[#*0-9]",
    "pict": r"\p{Extended_Pictographic}",
    "pict_mod": r"[\x{FE0E}\x{FE0F}\p{Emoji_Modifier}\x{E0020}-\x{E007F}]",
    "zwj_mod": r"[\x{FE0E}\x{FE0F}\p{Emoji_Modifier}]",
    "upper": r"\p{Lu}",
    "lower": r"\p{Ll}",
    "num_sep": r"[.,\x{066B}\x{066C}]",
    "join": r"['\x{2019}\-\x{2010}\x{2011}\x{00AD}]",
    "zw": r"[\x{200C}\x{200D}]",
    # ASCII, Arabic, and the full-width / ideographic ends 。！？；｡
    "sent_end": r"[.!?\x{061F};\x{061B}\x{2026}\x{3002}\x{FF01}\x{FF1F}\x{FF1B}\x{FF61}]",
    "newline": r"[\n\r\x{0B}\x{0C}\x{85}\x{2028}\x{2029}]",
    # the letters of the case-insensitive URL prefixes (``(?i:s)`` also matches ſ)
    "ci_h": "(?i:h)",
    "ci_t": "(?i:t)",
    "ci_p": "(?i:p)",
    "ci_s": "(?i:s)",
    "ci_w": "(?i:w)",
}
_C = CHAR_CLASSES
_LETTER = _C["letter"]
_WORDCH = _C["wordch"]
_JOIN = f"{_C['join']}|{_C['zw']}+"
_WRAP_JOIN = r"|-[ \t]*\r?\n[ \t]*"
_EMOJI = (
    f"{_C['ri']}{{2}}|{_C['keycap']}\\x{{FE0F}}?\\x{{20E3}}"
    f"|{_C['pict']}{_C['pict_mod']}*"
    f"(?:\\x{{200D}}{_C['pict']}{_C['zwj_mod']}*)*"
)
# the emoji leading a line (group 1): the ingest's ``lead_emoji`` and the raw-dump splitter
LEAD_EMOJI = rf"(?m)^[ \t]*((?:{_EMOJI})+)"
_URL_PREFIX = r"(?i:https?://|www\.)"
_EMAIL_HEAD = f"\\w{_C['email']}*@"
_URL = (
    f"{_URL_PREFIX}(?:{_C['url_body']}*{_C['url_end']})?"
    f"|{_EMAIL_HEAD}{_C['domain']}+(?:\\.{_C['domain']}+)+"
)
SENT_END = f"{_C['sent_end']}+"


def run_pattern(line_breaks: str) -> str:
    """One run = one token plus the gap after it (or a leading gap at a text's start)."""
    join = _JOIN + (_WRAP_JOIN if line_breaks == "wrap" else "")
    word = f"{_LETTER}{_WORDCH}*(?:(?:{join}){_WORDCH}+)*"
    token = "|".join(
        [
            _URL,
            r"@\w+",
            _EMOJI,
            r"#\w+",
            r"\p{Lu}(?:\.\p{Lu})+|\p{Ll}\.(?:\p{Ll}\.)+",  # acronyms / e.g.
            r"\p{Nd}+(?:[.,\x{066B}\x{066C}]\p{Nd}+)*",
            _C["ideograph"],
            word,
            SENT_END,
            f"[^{GAP_CLASS}]",
        ]
    )
    return f"(?:{token})[{GAP_CLASS}]*|[{GAP_CLASS}]+"


# Classification of a token (run on distinct runs only).
IS_URL = f"^{_URL_PREFIX}|^{_EMAIL_HEAD}"
IS_EMOJI = f"^(?:{_C['pict']}|{_C['ri']}|{_C['keycap']}\\x{{FE0F}}?\\x{{20E3}})"
IS_WORD = r"^[\p{L}\p{M}]"
NEWLINE = r"\r\n|[\n\r\x{0B}\x{0C}\x{85}\x{2028}\x{2029}]"
CLOSERS = ['"', "'", "\u201d", "\u2019", "\u00bb", "\u203a", ")", "]", "}"]
ABBREVIATIONS = (
    "Mr Mrs Ms Messrs Mme Mlle Dr Prof St Gen Sen Rep Gov Col Lt Capt Sgt Rev Hon Jr Sr "
    "No Nos Art Arts para paras Para Paras Vol vol pp cf Inc Ltd Corp Co Fig fig "
    "Jan Feb Aug Sept Sep Oct Nov Dec Ref ref Res res Add Corr viz al approx "
    "г гг т тт см им ул стр тыс млн млрд руб др пп ст"
).split()

# Flags (bits of a run's ``_flags``). The first four depend on a token's surface alone
# and are computed once per distinct surface (the scanner reads them by these values);
# the last two depend on the gap after it.
FLAG_SEND, FLAG_CLOSE, FLAG_DOT, FLAG_ABBR, FLAG_PBRK, FLAG_ADJ = 1, 2, 4, 8, 16, 32


# --- display ------------------------------------------------------------------

# Bidirectional embedding/override/isolate controls: in displayed text they reorder
# whatever follows them (a report cell showing "Title 11 ((31)trela:tpircsavaj)[x]").
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")


def display_inert(text: str) -> str:
    """``text`` for display: each bidi control (U+202A-U+202E, U+2066-U+2069) shown as a
    visible, inert mark ``⟨U+202E⟩``. Display only: the snapshot keeps the verbatim text."""
    if not text or _BIDI_RE.search(text) is None:
        return text
    return _BIDI_RE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)
