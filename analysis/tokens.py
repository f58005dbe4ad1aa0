"""Tokens: the token table and the form streams every count is made of.

:func:`tokens_build` turns the statement snapshot into one row per token (every
kind), with paragraph / sentence / token numbers and code-point offsets into the
verbatim text. The grammar is one regular expression that classifies *every* run
of the text (a token and the gap after it), so the cumulative run lengths give the
offsets (:func:`tokens_build_regex`); :mod:`analysis.scan` implements the same
grammar as a compiled scanner, which ``tokens_build`` uses on large inputs. No
Python loop over rows or characters either way.

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

import sys

import polars as pl

from .errors import FormulaeError
from .text import normalise_surface_expr

KINDS = ("word", "number", "punct", "emoji", "hashtag", "url", "mention")
KIND = pl.Enum(sorted(KINDS))  # the dtype of the token table's ``kind`` (sorts as text)
COUNTABLE = ("word", "number")
LINE_BREAKS = ("paragraph", "wrap")
LEVELS = ("exact", "norm", "clitic", "stem")

# Gap characters: white space and invisible format marks (bidi marks, BOM, ZW space).
_GAP_CHARS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"  # the Unicode White_Space set (= regex \\s)
    + "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"
    + "\u2066\u2067\u2068\u2069\u061c"
)
_GAPCH = "".join(f"\\x{{{ord(c):04X}}}" for c in _GAP_CHARS)

# The character classes of the grammar, by name. The run pattern below is composed
# from them, and ``analysis.scan`` (the compiled scanner) looks characters up in a
# table made by matching each class against every code point with this same regex
# engine, so the two implementations cannot disagree on what a class holds.
_URL_STOP = r"\s<>\"«»\[\]{}|\\^`"
CHAR_CLASSES = {
    "letter": r"[\p{L}\p{M}]",
    "wordch": r"[\p{L}\p{M}\p{Nd}]",
    "digit": r"\p{Nd}",
    "w": r"\w",
    "gap": f"[{_GAPCH}]",
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
    "sent_end": r"[.!?\x{061F};\x{061B}\x{2026}]",
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
_SENT_END = f"{_C['sent_end']}+"


def _run_pattern(line_breaks: str) -> str:
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
            word,
            _SENT_END,
            f"[^{_GAPCH}]",
        ]
    )
    return f"(?:{token})[{_GAPCH}]*|[{_GAPCH}]+"


# Classification of a token (run on distinct runs only).
_IS_URL = f"^{_URL_PREFIX}|^{_EMAIL_HEAD}"
_IS_EMOJI = f"^(?:{_C['pict']}|{_C['ri']}|{_C['keycap']}\\x{{FE0F}}?\\x{{20E3}})"
_IS_WORD = r"^[\p{L}\p{M}]"
_NEWLINE = r"\r\n|[\n\r\x{0B}\x{0C}\x{85}\x{2028}\x{2029}]"
_CLOSERS = ['"', "'", "\u201d", "\u2019", "\u00bb", "\u203a", ")", "]", "}"]
ABBREVIATIONS = (
    "Mr Mrs Ms Messrs Mme Mlle Dr Prof St Gen Sen Rep Gov Col Lt Capt Sgt Rev Hon Jr Sr "
    "No Nos Art Arts para paras Para Paras Vol vol pp cf Inc Ltd Corp Co Fig fig "
    "Jan Feb Aug Sept Sep Oct Nov Dec Ref ref Res res Add Corr viz al approx "
    "г гг т тт см им ул стр тыс млн млрд руб др пп ст"
).split()


def _check(language: str, line_breaks: str) -> None:
    from .text import LANGUAGES

    if language not in LANGUAGES:
        raise FormulaeError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    if line_breaks not in LINE_BREAKS:
        raise FormulaeError(f"line_breaks {line_breaks!r} is not one of {', '.join(LINE_BREAKS)}")


def _index_in_doc(first: pl.Expr) -> pl.Expr:
    """Row number within each document (rows grouped by doc; ``first`` marks each
    document's first row)."""
    row = pl.int_range(pl.len(), dtype=pl.UInt32)
    return row - pl.when(first).then(row).forward_fill()


def _sum_before_in_doc(value: str) -> pl.Expr:
    """Sum of UInt32 column ``value`` over the earlier rows of the same document
    (rows grouped by doc; ``_base`` is the row number of the document's first row).

    Computed in UInt32 with wrapping arithmetic: the running total may wrap on a
    corpus of more than 4 G characters, but the difference of two running totals is
    exact modulo 2**32, and every per-document value is below 2**32 by contract.
    """
    before = pl.col(value).cum_sum() - pl.col(value)
    return before - before.gather(pl.col("_base"))


# Flags (bits of ``_flags``). The first four depend on a token's surface alone and
# are computed once per distinct surface (``analysis.scan`` reads them by these
# values); the last two depend on the gap after it.
_SEND, _CLOSE, _DOT, _ABBR, _PBRK, _ADJ = 1, 2, 4, 8, 16, 32


def _flag(bit: int, shift: int = 0) -> pl.Expr:
    flags = pl.col("_flags") if shift == 0 else pl.col("_flags").shift(shift, fill_value=0)
    return (flags & bit) != 0


def _surface_table(surfaces: pl.LazyFrame, mode: str) -> pl.LazyFrame:
    """``surface kind norm _flags`` for each (distinct) token surface."""
    first = pl.col("surface").str.head(1)
    kind = (
        pl.when(pl.col("surface").str.contains(_IS_URL))
        .then(pl.lit("url"))
        .when(first.str.contains(_IS_WORD))
        .then(pl.lit("word"))
        .when(first.str.contains(r"^\p{Nd}") & ~pl.col("surface").str.contains("\u20e3"))
        .then(pl.lit("number"))
        .when(pl.col("surface").str.contains(_IS_EMOJI))
        .then(pl.lit("emoji"))
        .when(pl.col("surface").str.contains(r"^@\w"))
        .then(pl.lit("mention"))
        .when(pl.col("surface").str.contains(r"^#\w"))
        .then(pl.lit("hashtag"))
        .otherwise(pl.lit("punct"))
    )
    surface = pl.col("surface")
    abbr = (
        surface.is_in(ABBREVIATIONS)
        | (surface.str.contains(r"^\p{Lu}$") & (surface != "I"))
        | surface.str.contains(r"^\p{Lu}(?:\.\p{Lu})+$")
    )
    return (
        surfaces.select("surface")
        .with_columns(kind.alias("kind"), normalise_surface_expr(surface, mode).alias("norm"))
        .with_columns(
            # a "word" with nothing left after normalisation (a run of tatweel, stray
            # marks) is decoration, not a word
            pl.when((pl.col("norm") == "") & pl.col("kind").is_in(COUNTABLE))
            .then(pl.lit("punct"))
            .otherwise(pl.col("kind"))
            .alias("kind"),
        )
        .with_columns(
            (
                (surface.str.contains(f"^{_SENT_END}$") & (pl.col("kind") == "punct")).cast(
                    pl.UInt8
                )
                * _SEND
                | surface.is_in(_CLOSERS).cast(pl.UInt8) * _CLOSE
                | (surface == ".").cast(pl.UInt8) * _DOT
                | abbr.cast(pl.UInt8) * _ABBR
            ).alias("_flags"),
        )
    )


def _run_table(runs: pl.LazyFrame, line_breaks: str, mode: str) -> pl.LazyFrame:
    """Everything that depends on a run's text alone, computed once per distinct run
    (the regular-expression path)."""
    gap = pl.col("run").str.slice(pl.col("_tlen"))
    para_break = gap.str.count_matches(_NEWLINE) >= (1 if line_breaks == "paragraph" else 2)
    with_surface = runs.select(
        "run", pl.col("run").str.replace(f"[{_GAPCH}]+$", "").alias("surface")
    )
    return (
        pl.concat(
            [with_surface.select("run"), _surface_table(with_surface, mode)], how="horizontal"
        )
        .with_columns(
            pl.col("surface").str.len_chars().cast(pl.UInt32).alias("_tlen"),
            pl.col("run").str.len_chars().cast(pl.UInt32).alias("_rlen"),
        )
        .with_columns(
            pl.col("_flags")
            | para_break.cast(pl.UInt8) * _PBRK
            | (pl.col("_rlen") == pl.col("_tlen")).cast(pl.UInt8) * _ADJ
        )
    )


def _run_dtype() -> pl.DataType | None:
    """A fresh Categorical for the runs (None where the Categories API is missing)."""
    try:
        return pl.Categorical(pl.Categories.random())
    except AttributeError:  # pragma: no cover - older/newer polars
        return None


def _distinct_runs(runs: pl.Series, line_breaks: str, mode: str) -> tuple[pl.Series, pl.DataFrame]:
    """(code of every run, table of the distinct runs' attributes indexed by code).

    The runs arrive as a fresh Categorical (the split's lists are cast before the
    explode, so the runs are hashed once and never materialised as strings); the
    attributes are computed once per category and gathered back by physical code.
    Plain strings (no Categories API) fall back to ``unique`` + a join for the codes.
    """
    if isinstance(runs.dtype, pl.Categorical):
        codes = runs.to_physical()
        distinct = runs.dtype.categories.to_series().rename("run")  # type: ignore[attr-defined]
        if codes.len() and int(codes.max()) >= distinct.len():  # pragma: no cover
            raise FormulaeError("tokens_build: run categories out of step (polars version?)")
    else:  # pragma: no cover - older/newer polars
        distinct = runs.unique(maintain_order=True).rename("run")
        index = distinct.to_frame().with_row_index("code")
        codes = runs.to_frame("run").join(index, on="run", how="left", maintain_order="left")[
            "code"
        ]
    table = _run_table(distinct.to_frame().lazy(), line_breaks, mode).collect(engine="in-memory")
    return codes, table


def _statements(statements: pl.LazyFrame | pl.DataFrame, language: str, line_breaks: str):
    _check(language, line_breaks)
    lf = statements.lazy() if isinstance(statements, pl.DataFrame) else statements
    missing = [c for c in ("doc", "text") if c not in lf.collect_schema().names()]
    if missing:
        raise FormulaeError(
            f"tokens_build needs statement columns doc and text; missing: {', '.join(missing)}"
        )
    return lf


ENGINES = ("auto", "scan", "regex")
# Below this much text (and while the scanner is not loaded in the process)
# ``engine="auto"`` takes the regular expression: importing numba and loading the
# scanner's compiled code costs about a second once per process, which a query
# phrase or a small corpus should not pay.
SCAN_MIN_BYTES = 1_000_000  # of UTF-8 text


def tokens_build(
    statements: pl.LazyFrame | pl.DataFrame,
    *,
    language: str,
    line_breaks: str,
    mode: str = "norm",
    engine: str = "auto",
) -> pl.LazyFrame:
    """One row per token of every kind, for every statement (``doc``, ``text`` needed).

    Columns: ``doc para sent tok start end kind surface norm`` (see ARCHITECTURE.md §2).
    Rows are sorted by (``doc``, ``tok``); documents without tokens have no rows.

    Two implementations of one grammar, with identical output (``tests/test_scan.py``):
    ``regex`` (:func:`tokens_build_regex`, the definition: one regular expression)
    and ``scan`` (the compiled scanner of :mod:`analysis.scan`, 1.4-1.9× as fast
    on large corpora, ``bench/bench_tokens.py``). ``auto`` takes the scanner for inputs of at least
    :data:`SCAN_MIN_BYTES` bytes of text or once it is loaded in the process.

    The scanner walks every text once and returns, per run (a token and the gap
    after it), numbers only: offset, token length, line breaks in the gap, and the
    code of the token's surface in a table of distinct surfaces. Everything that
    depends on a surface's text (kind, normalised form, sentence-end flags) is
    computed once per distinct surface in polars and gathered back by code;
    paragraph and sentence numbers come from one more compiled pass.
    """
    if engine not in ENGINES:
        raise FormulaeError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    lf = _statements(statements, language, line_breaks)
    frame = (
        lf.select(pl.col("doc").cast(pl.UInt32), pl.col("text").fill_null(""))
        .sort("doc")
        .collect(engine="in-memory")
    )
    if engine == "auto":
        loaded = getattr(sys.modules.get("analysis.scan"), "LOADED", False)
        small = frame["text"].str.len_bytes().sum() < SCAN_MIN_BYTES
        engine = "regex" if small and not loaded else "scan"
    if engine == "regex":
        return tokens_build_regex(frame, language=language, line_breaks=line_breaks, mode=mode)
    import numpy as np

    from .scan import number, scan

    *runs, surfaces = scan(frame["text"], line_breaks == "wrap")
    table = (
        _surface_table(pl.LazyFrame({"surface": surfaces}, schema={"surface": pl.String}), mode)
        .with_columns(pl.col("kind").cast(KIND))
        .collect(engine="in-memory")
    )
    flags = np.array(table["_flags"], np.uint8)
    docs = np.array(frame["doc"], np.uint32)
    para, sent, tok = number(runs, flags, 1 if line_breaks == "paragraph" else 2, docs)
    r_doc, r_start, r_end, _, r_code = runs  # (doc ids and end offsets by now)
    numbers = pl.DataFrame(
        [
            pl.Series("doc", r_doc),
            pl.Series("para", para),
            pl.Series("sent", sent),
            pl.Series("tok", tok),
            pl.Series("start", r_start),
            pl.Series("end", r_end),
        ]
    )
    # gathered in one lazy select: several times cheaper than Series.gather here
    codes = pl.Series(r_code)
    strings = table.lazy().select(pl.col(c).gather(codes) for c in ("kind", "surface", "norm"))
    return numbers.hstack(strings.collect(engine="in-memory")).lazy()


def tokens_build_regex(
    statements: pl.LazyFrame | pl.DataFrame,
    *,
    language: str,
    line_breaks: str,
    mode: str = "norm",
) -> pl.LazyFrame:
    """:func:`tokens_build` as one regular expression (the definition; slower).

    One regular expression splits each text into runs (a token and the gap after
    it); cumulative run lengths give the offsets; everything that depends on a
    run's text is computed once per distinct run and gathered back by the run's
    Categorical code; the numbering is polars window arithmetic.
    """
    lf = _statements(statements, language, line_breaks)
    text = pl.col("text").fill_null("")
    body = text.str.strip_chars_start(_GAP_CHARS)
    split = pl.col("run").str.extract_all(_run_pattern(line_breaks))
    dtype = _run_dtype()
    if dtype is not None:
        split = split.cast(pl.List(dtype))
    # Documents with nothing but white space have no runs: dropped before the split,
    # so the split never yields an empty list (no null rows to filter after it).
    runs = (
        lf.select(
            pl.col("doc").cast(pl.UInt32),
            (text.str.len_chars() - body.str.len_chars()).alias("_lead"),
            body.alias("run"),
        )
        .filter(pl.col("run") != "")
        .sort("doc")
        .with_columns(split.alias("run"))
        .explode("run")
    )
    runs = runs.collect(engine="in-memory")
    codes, table = _distinct_runs(runs["run"], line_breaks, mode)
    # Numbers first, on a narrow numeric frame; the string columns are gathered last.
    numbers = pl.DataFrame(
        [runs["doc"], runs["_lead"]]
        + [table[c].gather(codes) for c in ("_tlen", "_rlen", "_flags")]
    )
    del runs
    numbers = _numbering(numbers.lazy()).collect(engine="in-memory")
    return (
        numbers.with_columns([table[c].gather(codes) for c in ("kind", "surface", "norm")])
        .with_columns(pl.col("kind").cast(KIND))
        .lazy()
    )


def _numbering(toks: pl.LazyFrame) -> pl.LazyFrame:
    """``doc para sent tok start end`` from per-run ``doc _lead _tlen _rlen _flags``
    (rows grouped by doc, in text order; ``_rlen``: token plus the gap after it)."""
    # Sentence ends. A run "glued" to the previous one (no gap between them, same
    # document) can cancel or move that run's sentence end: a "." after an
    # abbreviation ends nothing; a closing quote or bracket after an end takes the
    # end over. Each condition looks at most one run back or ahead.
    first = (pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
    glued = _flag(_ADJ, 1) & ~first
    end0 = _flag(_SEND) & ~(_flag(_DOT) & _flag(_ABBR, 1) & glued)
    carry = _flag(_CLOSE) & glued & end0.shift(1, fill_value=False)
    next_carry = carry.shift(-1, fill_value=False) & ~first.shift(-1, fill_value=True)
    brk = (end0 & ~next_carry) | carry | _flag(_PBRK)
    row = pl.int_range(pl.len(), dtype=pl.UInt32)
    toks = toks.with_columns(
        pl.when(first).then(row).forward_fill().alias("_base"),  # the doc's first row
        brk.cast(pl.UInt32).alias("_brk"),
        _flag(_PBRK).cast(pl.UInt32).alias("_pbrk"),
    )
    # Numbers within the document: a paragraph (sentence) starts after every run
    # with a paragraph break (sentence end) in or before its gap.
    start = _sum_before_in_doc("_rlen") + pl.col("_lead")
    return toks.select(
        "doc",
        _sum_before_in_doc("_pbrk").alias("para"),
        _sum_before_in_doc("_brk").alias("sent"),
        (row - pl.col("_base")).alias("tok"),
        start.alias("start"),
        (start + pl.col("_tlen")).alias("end"),
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
    first = (pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
    return out.with_columns(_index_in_doc(first).alias("pos")).select(
        "doc", "sent", "pos", "start", "end", "form"
    )


def tokens_explain(
    text: str,
    *,
    language: str,
    level: str | None = None,
    line_breaks: str = "paragraph",
    corpus: str | None = None,
    store=None,
) -> pl.DataFrame:
    """The token table of one text with each token's forms at ``level`` (debugging aid).

    With ``corpus``, the clitic decisions use that corpus's vocabulary and alias table
    (its manifest's ``aliases``), exactly as its index does (this tokenises the whole
    corpus once: seconds on a large one); otherwise the built-in lexicon only. Columns: ``tok para sent start end kind surface norm forms``
    (``forms``: the level's pieces joined by `` + ``; empty for tokens that are not counted).
    """
    from .arabic import Analyzer, aliases_load

    level = level or default_level(language)
    if level not in LEVELS:
        raise FormulaeError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    frame = pl.DataFrame({"doc": [0], "text": [text]}, schema={"doc": pl.UInt32, "text": pl.String})
    toks = tokens_build(frame, language=language, line_breaks=line_breaks).collect()
    if corpus is not None:
        from .corpus import corpus_load, corpus_manifest

        manifest = corpus_manifest(corpus, store)
        path = manifest.get("aliases")
        corpus_toks = tokens_build(
            corpus_load(corpus, store),
            language=manifest.get("language", language),
            line_breaks=manifest.get("line_breaks", line_breaks),
        )
        analyzer = Analyzer.from_tokens(
            corpus_toks, language, aliases=aliases_load(path, language) if path else None
        )
    else:
        analyzer = Analyzer(language, {}, line_breaks=line_breaks)
    forms = tokens_level(toks, level, analyzer=analyzer).collect()
    per_tok = (
        forms.join(
            toks.select("tok", "start", "end"),
            how="cross",
        )
        .filter((pl.col("start") >= pl.col("start_right")) & (pl.col("end") <= pl.col("end_right")))
        .group_by("tok", maintain_order=True)
        .agg(pl.col("form").str.join(" + ").alias("forms"))
    )
    return (
        toks.join(per_tok, on="tok", how="left")
        .with_columns(pl.col("forms").fill_null(""))
        .select("tok", "para", "sent", "start", "end", "kind", "surface", "norm", "forms")
        .sort("tok")
    )
