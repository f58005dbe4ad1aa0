"""Normalisation: examples, Python/polars agreement and idempotence (hypothesis)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import FormulaeError
from analysis.text.normalise import normalise, normalise_expr, normalise_surface_expr

# Text drawn from the scripts and marks that matter: Arabic letters, tashkeel,
# tatweel, Arabic-Indic digits, Latin with combining marks, Cyrillic incl. ё,
# quotes, dashes, emoji with variation selectors, line breaks, hyphens.
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
    st.characters(min_codepoint=0x0020, max_codepoint=0x007E),
    st.characters(min_codepoint=0x00C0, max_codepoint=0x017F),
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),
    st.characters(min_codepoint=0x0400, max_codepoint=0x045F),
    st.sampled_from(list("‘’“”«»–—‐‑\u200c\u200d\u200f\ufeff\u00ad\n\r\t-ـًٌٍَُِّْٰ☝️🤝🇸🇾#️⃣👍🏽ß İΣσς")),
)
TEXT = st.text(alphabet=_ALPHABET, max_size=60)


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("الإتحادية", "ar", "الاتحاديه"),
        ("الاتحادية", "ar", "الاتحاديه"),
        ("أَحْمَد", "ar", "احمد"),
        ("آراء إلى", "ar", "اراء الي"),
        ("تاريخاً", "ar", "تاريخا"),
        ("مـــصـــر", "ar", "مصر"),
        ("٢٠٢٥ ۱۴", "ar", "2025 14"),
        ("٣٫٥", "ar", "3.5"),
        ("مسؤول رئيس", "ar", "مسؤول رئيس"),
        ("سلام، كيف؟ نعم؛", "ar", "سلام, كيف? نعم;"),
        ("“Mutual” ‘respect’ — co‑operation", "en", "\"mutual\" 'respect' - co-operation"),
        ("inter-\nnational", "en", "international"),
        ("inter- \r\n  national", "en", "international"),
        ("Secretary-\nGeneral", "en", "secretary-general"),
        ("Ёлка ЁЖ всё", "ru", "елка еж все"),
        ("Россия–Сирия", "ru", "россия-сирия"),
    ],
)
def test_examples(raw: str, language: str, expected: str) -> None:
    assert normalise(raw, language) == expected
    got = pl.select(normalise_expr(pl.lit(raw), language)).item()
    assert got == expected


def test_norm_plus_folds_hamza_seats() -> None:
    assert normalise("مسؤول رئيس", "ar", "norm+") == "مسوول رييس"
    assert normalise("مسؤول", "ar", "norm") == "مسؤول"
    got = pl.select(normalise_expr(pl.lit("مسؤول رئيس"), "ar", "norm+")).item()
    assert got == "مسوول رييس"


def test_bad_mode_and_language_name_the_value() -> None:
    with pytest.raises(FormulaeError, match="'loose'"):
        normalise("x", "ar", "loose")
    with pytest.raises(FormulaeError, match="'xx'"):
        normalise_expr(pl.col("x"), "xx")


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=8), st.sampled_from(["norm", "norm+"]))
def test_python_and_polars_agree(texts: list[str], mode: str) -> None:
    frame = pl.DataFrame({"t": texts})
    got = frame.select(
        normalise_expr(pl.col("t"), "ar", mode).alias("a"),
        normalise_surface_expr(pl.col("t"), mode).alias("b"),
    )
    expected = [normalise(t, "ar", mode) for t in texts]
    assert got["a"].to_list() == expected
    assert got["b"].to_list() == expected


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["norm", "norm+"]), st.sampled_from(["ar", "en", "ru"]))
def test_idempotent(text: str, mode: str, language: str) -> None:
    once = normalise(text, language, mode)
    assert normalise(once, language, mode) == once
    twice = pl.select(normalise_expr(normalise_expr(pl.lit(text), language, mode), language, mode))
    assert twice.item() == once
