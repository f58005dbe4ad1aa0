"""Normalisation: one definition, two implementations that must agree.

:func:`normalise_expr` is the polars expression applied to a corpus (token
surfaces); :func:`normalise` is the same transformation in plain Python, used for
query phrases and as the oracle in the property tests
(``tests/test_text.py`` checks that both agree and that both are idempotent).

Steps, in order (every language; the maps only touch the characters they name):

1. OCR line-break hyphenation: ``inter-\\nnational`` -> ``international`` when
   the next line starts with a lower-case Latin/Cyrillic letter; otherwise the
   hyphen stays and the line break is dropped (``Secretary-\\nGeneral`` ->
   ``Secretary-General``).
2. Unicode NFC.
3. Character map (one pass, literal): Arabic diacritics (tashkeel, superscript
   alef, Quranic marks) and tatweel deleted; alef forms أ إ آ ٱ -> ا; ى and
   Persian ی -> ي; ک -> ك; ة -> ه; Arabic-Indic and Persian digits -> ASCII;
   Arabic ، ؛ ؟ -> , ; ?; curly quotes -> ' and "; dashes and hyphens -> -;
   Ё/ё -> Е/е (Russian ``norm`` folds ё, as most Russian print does);
   invisible format marks (LRM, RLM, ZWNJ, ZWJ, BOM, soft hyphen) deleted;
   full-width Latin letters and digits (``ＷＨＯ``, ``２０２１``, common in Chinese
   and Japanese text) -> their ASCII forms (full-width punctuation stays).
   Mode ``norm+`` adds the hamza seats ؤ -> و and ئ -> ي.
4. Lower-casing (Unicode default ``lower``; the same in Python and polars).
5. NFC again (so the result is a fixed point: ``normalise(normalise(x)) == normalise(x)``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

from ..vocab import LANGUAGES, MODES, check

# --- the character map --------------------------------------------------------

_ARABIC_MARKS = (
    [chr(c) for c in range(0x064B, 0x0660)]  # fathatan .. hamza below, incl. shadda, sukun
    + ["\u0670"]  # superscript (dagger) alef
    + [chr(c) for c in range(0x0610, 0x061B)]  # Quranic honorifics
    + [chr(c) for c in range(0x06D6, 0x06DD)]  # Quranic annotation marks
    + [chr(c) for c in range(0x06DF, 0x06E5)]
    + [chr(c) for c in range(0x06E7, 0x06E9)]
    + [chr(c) for c in range(0x06EA, 0x06EE)]
    + ["\u08f0", "\u08f1", "\u08f2"]  # open tanwin forms
)
_DELETE = _ARABIC_MARKS + [
    "\u0640",  # tatweel
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",  # ZW space/joiners, LRM, RLM
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # bidi embeddings
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",  # bidi isolates
    "\u061c",  # Arabic letter mark
    "\ufeff",  # BOM / ZWNBSP
    "\u00ad",  # soft hyphen
]
_MAP: dict[str, str] = {
    # alef forms
    "\u0623": "\u0627",
    "\u0625": "\u0627",
    "\u0622": "\u0627",
    "\u0671": "\u0627",
    "\u0672": "\u0627",
    "\u0673": "\u0627",
    # alef maqsura, Persian/Urdu yeh and kaf
    "\u0649": "\u064a",
    "\u06cc": "\u064a",
    "\u06d2": "\u064a",
    "\u06a9": "\u0643",
    # ta marbuta (and its Urdu form) -> ha
    "\u0629": "\u0647",
    "\u06c3": "\u0647",
    # Arabic punctuation
    "\u060c": ",",
    "\u061b": ";",
    "\u061f": "?",
    "\u066b": ".",
    "\u066c": ",",
    # quotes
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2033": '"',
    # hyphens and dashes
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\ufe58": "-",
    "\ufe63": "-",
    "\uff0d": "-",
    # Russian yo
    "\u0401": "\u0415",
    "\u0451": "\u0435",
}
for _i in range(10):
    _MAP[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _MAP[chr(0x06F0 + _i)] = str(_i)  # Persian (extended Arabic-Indic) digits
for _i in range(26):
    _MAP[chr(0xFF21 + _i)] = chr(0x41 + _i)  # full-width A-Z
    _MAP[chr(0xFF41 + _i)] = chr(0x61 + _i)  # full-width a-z
for _i in range(10):
    _MAP[chr(0xFF10 + _i)] = str(_i)  # full-width digits
for _ch in _DELETE:
    _MAP[_ch] = ""
_MAP_PLUS = {**_MAP, "\u0624": "\u0648", "\u0626": "\u064a"}  # hamza seats ؤ ئ (norm+)

# Lower-case letters after which an OCR line-break hyphen joins the halves.
_LOWER = "a-z\u00df-\u00f6\u00f8-\u00ff\u0430-\u045f"
_HYPHEN_JOIN_PY = re.compile(r"-[ \t]*\r?\n[ \t]*(?=[" + _LOWER + "])")
_HYPHEN_KEEP_PY = re.compile(r"-[ \t]*\r?\n[ \t]*")
_HYPHEN_JOIN_PL = r"-[ \t]*\r?\n[ \t]*([" + _LOWER.replace("\u00df", "\\x{00DF}") + "])"
_HYPHEN_KEEP_PL = r"-[ \t]*\r?\n[ \t]*"


def _check(language: str, mode: str) -> None:
    check("normalisation mode", mode, MODES)
    check("language", language, LANGUAGES)


@lru_cache(maxsize=4)
def _table(mode: str) -> dict[int, str]:
    return str.maketrans(_MAP_PLUS if mode == "norm+" else _MAP)


def normalise(text: str, language: str = "ar", mode: str = "norm") -> str:
    """Normalise ``text`` (plain Python; the oracle for :func:`normalise_expr`).

    >>> normalise("الإتحادية")
    'الاتحاديه'
    >>> normalise("Inter-\\nnational “Co‑operation”", "en")
    'international "co-operation"'
    """
    _check(language, mode)
    if "\n" in text:
        text = _HYPHEN_JOIN_PY.sub("", text)
        text = _HYPHEN_KEEP_PY.sub("-", text)
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_table(mode))
    text = text.lower()
    return unicodedata.normalize("NFC", text)


def normalise_expr(expr: pl.Expr, language: str = "ar", mode: str = "norm") -> pl.Expr:
    """The polars expression for :func:`normalise` (same result on every string)."""
    _check(language, mode)
    mapping = _MAP_PLUS if mode == "norm+" else _MAP
    keys = list(mapping)
    return (
        expr.str.replace_all(_HYPHEN_JOIN_PL, "${1}")
        .str.replace_all(_HYPHEN_KEEP_PL, "-")
        .str.normalize("NFC")
        .str.replace_many(keys, [mapping[k] for k in keys])
        .str.to_lowercase()
        .str.normalize("NFC")
    )


def normalise_surface_expr(expr: pl.Expr, mode: str = "norm") -> pl.Expr:
    """Cheaper :func:`normalise_expr` for token surfaces of the tokeniser.

    Only a token of kind ``word`` can hold a line break (wrap mode joins), so the
    hyphen rules run only where a newline is present; everything else is the same.
    """
    mapping = _MAP_PLUS if mode == "norm+" else _MAP
    keys = list(mapping)
    hyph = expr.str.replace_all(_HYPHEN_JOIN_PL, "${1}").str.replace_all(_HYPHEN_KEEP_PL, "-")
    return (
        pl.when(expr.str.contains("\n", literal=True))
        .then(hyph)
        .otherwise(expr)
        .str.normalize("NFC")
        .str.replace_many(keys, [mapping[k] for k in keys])
        .str.to_lowercase()
        .str.normalize("NFC")
    )
