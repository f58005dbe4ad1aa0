"""Tokens: the token table and the form streams every count is made of.

:func:`tokens_build` turns the statement snapshot into one row per token (every
kind), with paragraph / sentence / token numbers and code-point offsets into the
verbatim text. It is one regular expression that classifies *every* run of the
text (token or gap), so the cumulative run lengths give the offsets: no Python
loop over rows or characters.

:func:`tokens_level` turns the token table into the form stream of a level
(``exact``, ``norm``, ``clitic``, ``stem``): only countable tokens (``word``,
``number``), one row per piece, with ``pos`` consecutive within a document.

Sentence boundaries (documented choices):

* a run of ``. ! ? ؟ ; ؛ …`` ends a sentence; a closing quote or bracket glued to it
  stays in the ending sentence;
* a ``.`` glued to a known abbreviation (``Mr``, ``Dr``, ``No``, ``Art``, ``para``,
  ``г``, ...), to a single capital letter (initials ``J. F.``; not ``I``) or to an
  upper-case dotted acronym (``U.N``, ``U.S.A``) does not end a sentence - so
  ``the U.N. The`` loses that one break, a deliberate trade-off;
* decimals and thousands (``3.5``, ``1,000``, ``٣٫٥``) are single ``number`` tokens;
  lower-case dotted abbreviations (``e.g.``, ``i.e.``, ``a.m.``, ``т.е.``) are one
  ``word`` token, dots included;
* a paragraph break is a blank line, or any line break in ``paragraph`` mode; a
  paragraph break always ends the sentence. In ``wrap`` mode a single line break is
  a space, and a word hyphenated across a line break (``inter-\\nnational``) is one
  token whose offsets span the hyphen and the line break (``norm`` joins it).
"""

from __future__ import annotations

import polars as pl

from .errors import FormulaeError
from .text import normalise_surface_expr

KINDS = ("word", "number", "punct", "emoji", "hashtag", "url", "mention")
COUNTABLE = ("word", "number")
LINE_BREAKS = ("paragraph", "wrap")
LEVELS = ("exact", "norm", "clitic", "stem")

_LETTER = r"[\p{L}\p{M}]"
_WORDCH = r"[\p{L}\p{M}\p{Nd}]"
_JOIN = r"['\x{2019}\-\x{2010}\x{2011}\x{00AD}]|[\x{200C}\x{200D}]+"
_WRAP_JOIN = r"|-[ \t]*\r?\n[ \t]*"
_EMOJI = (
    r"\p{Regional_Indicator}{2}|[#*0-9]\x{FE0F}?\x{20E3}"
    r"|\p{Extended_Pictographic}[\x{FE0E}\x{FE0F}\p{Emoji_Modifier}\x{E0020}-\x{E007F}]*"
    r"(?:\x{200D}\p{Extended_Pictographic}[\x{FE0E}\x{FE0F}\p{Emoji_Modifier}]*)*"
)
_URL = (
    r"(?i:https?://|www\.)(?:[^\s<>\"«»\[\]{}|\\^`]*[^\s<>\"«»\[\]{}|\\^`.,;:!?)'\x{060C}\x{061B}\x{061F}\x{2026}])?"
    r"|\w[\w.+\-]*@[\w\-]+(?:\.[\w\-]+)+"
)
_SENT_END = r"[.!?\x{061F};\x{061B}\x{2026}]+"
_GAP = r"[\s\p{Cf}]+"


def _run_pattern(line_breaks: str) -> str:
    join = _JOIN + (_WRAP_JOIN if line_breaks == "wrap" else "")
    word = f"{_LETTER}{_WORDCH}*(?:(?:{join}){_WORDCH}+)*"
    return "|".join(
        [
            _URL,
            r"@\w+",
            _EMOJI,
            r"#\w+",
            r"\p{Lu}(?:\.\p{Lu})+|\p{Ll}\.(?:\p{Ll}\.)+",  # acronyms / e.g.
            r"\p{Nd}+(?:[.,\x{066B}\x{066C}]\p{Nd}+)*",
            word,
            _SENT_END,
            _GAP,
            r"(?s:.)",
        ]
    )


# First-character classification of a run (anchored, cheap).
_IS_URL = r"^(?i:https?://|www\.)|^\w[\w.+\-]*@"
_IS_EMOJI = r"^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\x{FE0F}?\x{20E3})"
_IS_WORD = r"^[\p{L}\p{M}]"
_NEWLINE = r"\r\n|[\n\r\x{0B}\x{0C}\x{85}\x{2028}\x{2029}]"
_CLOSERS = ['"', "'", "\u201d", "\u2019", "\u00bb", "\u203a", ")", "]", "}"]
ABBREVIATIONS = (
    "Mr Mrs Ms Messrs Mme Mlle Dr Prof St Gen Sen Rep Gov Col Lt Capt Sgt Rev Hon Jr Sr "
    "No Nos Art Arts para paras Para Paras Vol vol pp cf Inc Ltd Corp Co Fig fig "
    "Jan Feb Aug Sept Sep Oct Nov Dec Ref ref Res res Add Rev Corr viz al approx "
    "г гг т тт см им ул стр тыс млн млрд руб др пп ст"
).split()


def _check(language: str, line_breaks: str) -> None:
    from .text import LANGUAGES

    if language not in LANGUAGES:
        raise FormulaeError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    if line_breaks not in LINE_BREAKS:
        raise FormulaeError(f"line_breaks {line_breaks!r} is not one of {', '.join(LINE_BREAKS)}")


def _in_doc(expr: pl.Expr) -> pl.Expr:
    """Previous row's value within the same document (null at a document's start)."""
    return pl.when(pl.col("doc") == pl.col("doc").shift(1)).then(expr.shift(1))


def _next_in_doc(expr: pl.Expr) -> pl.Expr:
    return pl.when(pl.col("doc") == pl.col("doc").shift(-1)).then(expr.shift(-1))


def _cum_in_doc(flag: pl.Expr) -> pl.Expr:
    """Running sum of a 0/1 flag restarting at every document (rows grouped by doc)."""
    total = flag.cast(pl.UInt32).cum_sum()
    first = (pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
    base = pl.when(first).then(total - flag.cast(pl.UInt32)).forward_fill()
    return (total - base).cast(pl.UInt32)


def tokens_build(
    statements: pl.LazyFrame | pl.DataFrame,
    *,
    language: str,
    line_breaks: str,
    mode: str = "norm",
) -> pl.LazyFrame:
    """One row per token of every kind, for every statement (``doc``, ``text`` needed).

    Columns: ``doc para sent tok start end kind surface norm`` (see ARCHITECTURE.md §2).
    Rows are sorted by (``doc``, ``tok``); documents without tokens have no rows.
    """
    _check(language, line_breaks)
    lf = statements.lazy() if isinstance(statements, pl.DataFrame) else statements
    runs = (
        lf.select(pl.col("doc").cast(pl.UInt32), pl.col("text").fill_null(""))
        .sort("doc")
        .select(
            "doc",
            pl.col("text").str.extract_all(_run_pattern(line_breaks)).alias("run"),
        )
        .with_columns(
            pl.col("run")
            .list.eval(pl.element().str.len_chars().cast(pl.UInt32).cum_sum())
            .alias("end")
        )
        .explode(["run", "end"])
        .drop_nulls("run")
        .with_columns((pl.col("end") - pl.col("run").str.len_chars()).alias("start"))
    )
    first = pl.col("run").str.head(1)
    gap = first.str.contains(r"^[\s\p{Cf}]")
    nl = pl.col("run").str.count_matches(_NEWLINE)
    para_break = gap & (nl >= (1 if line_breaks == "paragraph" else 2))
    runs = runs.with_columns(
        _cum_in_doc(para_break.fill_null(False)).alias("_para"), gap.alias("_gap")
    ).filter(~pl.col("_gap"))

    kind = (
        pl.when(pl.col("run").str.contains(_IS_URL))
        .then(pl.lit("url"))
        .when(first.str.contains(_IS_WORD))
        .then(pl.lit("word"))
        .when(first.str.contains(r"^\p{Nd}") & ~pl.col("run").str.contains(r"\x{20E3}"))
        .then(pl.lit("number"))
        .when(pl.col("run").str.contains(_IS_EMOJI))
        .then(pl.lit("emoji"))
        .when(pl.col("run").str.contains(r"^@\w"))
        .then(pl.lit("mention"))
        .when(pl.col("run").str.contains(r"^#\w"))
        .then(pl.lit("hashtag"))
        .otherwise(pl.lit("punct"))
    )
    toks = runs.with_columns(kind.alias("kind")).rename({"run": "surface"})

    # Sentence ends, with abbreviation and closing-quote rules.
    prev_adjacent = _in_doc(pl.col("end")) == pl.col("start")
    prev_surface = _in_doc(pl.col("surface"))
    is_end = (pl.col("kind") == "punct") & pl.col("surface").str.contains(f"^{_SENT_END}$")
    abbrev = (
        (pl.col("surface") == ".")
        & prev_adjacent
        & (
            prev_surface.is_in(ABBREVIATIONS)
            | (prev_surface.str.contains(r"^\p{Lu}$") & (prev_surface != "I"))
            | prev_surface.str.contains(r"^\p{Lu}(?:\.\p{Lu})+$")
        )
    ).fill_null(False)
    toks = toks.with_columns((is_end & ~abbrev).alias("_end0"))
    carry = (
        (pl.col("kind") == "punct")
        & pl.col("surface").is_in(_CLOSERS)
        & prev_adjacent
        & _in_doc(pl.col("_end0"))
    ).fill_null(False)
    toks = toks.with_columns(carry.alias("_carry"))
    eff_end = (pl.col("_end0") & ~_next_in_doc(pl.col("_carry")).fill_null(False)) | pl.col(
        "_carry"
    )
    toks = toks.with_columns(eff_end.alias("_end"))
    para_changed = (_in_doc(pl.col("_para")) != pl.col("_para")).fill_null(False)
    sent_break = _in_doc(pl.col("_end")).fill_null(False) | para_changed
    toks = toks.with_columns(
        _cum_in_doc(para_changed).alias("para"),
        _cum_in_doc(sent_break).alias("sent"),
        _cum_in_doc(pl.col("doc").is_not_null()).sub(1).cast(pl.UInt32).alias("tok"),
    )
    norm = normalise_surface_expr(pl.col("surface"), mode)
    return toks.with_columns(norm.alias("norm")).select(
        "doc",
        "para",
        "sent",
        "tok",
        pl.col("start").cast(pl.UInt32),
        pl.col("end").cast(pl.UInt32),
        # a "word" with nothing left after normalisation (a run of tatweel, stray
        # marks) is decoration, not a word
        pl.when((pl.col("norm") == "") & pl.col("kind").is_in(COUNTABLE))
        .then(pl.lit("punct"))
        .otherwise(pl.col("kind"))
        .alias("kind"),
        "surface",
        "norm",
    )


def default_level(language: str) -> str:
    """``clitic`` for Arabic, ``norm`` otherwise."""
    return "clitic" if language == "ar" else "norm"


def tokens_level(tokens: pl.LazyFrame | pl.DataFrame, level: str, *, analyzer=None) -> pl.LazyFrame:
    """The form stream of ``level``: ``doc sent pos start end form`` for countable pieces.

    ``exact`` is the verbatim surface (a wrap-mode line break inside a hyphenated word
    removed); ``norm`` the normalised form with aliases applied; ``clitic`` splits
    Arabic proclitics into pieces of their own; ``stem`` stems every piece. Levels
    ``clitic`` and ``stem`` need an :class:`analysis.arabic.Analyzer`.
    """
    if level not in LEVELS:
        raise FormulaeError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    lf = tokens.lazy() if isinstance(tokens, pl.DataFrame) else tokens
    lf = lf.filter(pl.col("kind").is_in(COUNTABLE))
    if level == "exact":
        form = pl.col("surface").str.replace_all(r"-[ \t]*\r?\n[ \t]*", "-")
        out = lf.select("doc", "sent", "start", "end", form.alias("form"))
    else:
        if analyzer is None:
            if level != "norm":
                raise FormulaeError(f"level {level!r} needs an Analyzer (analysis.arabic.Analyzer)")
            out = lf.select("doc", "sent", "start", "end", pl.col("norm").alias("form"))
        else:
            out = analyzer.forms(lf, level)
    return out.with_columns(
        _cum_in_doc(pl.col("doc").is_not_null()).sub(1).cast(pl.UInt32).alias("pos")
    ).select("doc", "sent", "pos", "start", "end", "form")
