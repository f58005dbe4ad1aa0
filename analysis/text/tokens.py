"""Tokens: the token table and the form streams every count is made of.

:func:`tokens_build` turns the statement snapshot into one row per token (every
kind), with paragraph / sentence / token numbers and code-point offsets into the
verbatim text. The grammar is one regular expression that classifies *every* run
of the text (a token and the gap after it), so the cumulative run lengths give the
offsets (:func:`tokens_build_regex`); :mod:`analysis.text.scanner` implements the same
grammar as a compiled scanner, which ``tokens_build`` uses on large inputs. No
Python loop over rows or characters either way.

:func:`tokens_level` turns the token table into the form stream of a level
(``exact``, ``norm``, ``clitic``, ``stem``): only countable tokens (``word``,
``number``), one row per piece, with ``pos`` consecutive within a document.

Sentence boundaries (documented choices):

* a run of ``. ! ? ؟ ; ؛ …`` or of the ideographic / full-width ``。 ！ ？ ； ｡`` ends a
  sentence; a closing quote or bracket glued to it stays in the ending sentence;
* Han, Hiragana and Katakana are one token a character (Chinese and Japanese are written
  without spaces), and in the form streams punctuation next to such a character splits
  the sentence there (:func:`_clauses`), so a phrase of characters never bridges it;
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

import re
import sys

import polars as pl

from ..errors import FormulaeError
from ..vocab import LANGUAGES, LEVELS, LINE_BREAKS, check
from .grammar import (
    ABBREVIATIONS,
    CLOSERS,
    FLAG_ABBR,
    FLAG_ADJ,
    FLAG_CLOSE,
    FLAG_DOT,
    FLAG_PBRK,
    FLAG_SEND,
    GAP_CHARS,
    GAP_CLASS,
    IDEOGRAPH,
    IS_EMOJI,
    IS_URL,
    IS_WORD,
    NEWLINE,
    SENT_END,
    run_pattern,
)
from .normalise import normalise_surface_expr

KINDS = ("word", "number", "punct", "emoji", "hashtag", "url", "mention")
KIND = pl.Enum(sorted(KINDS))  # the dtype of the token table's ``kind`` (sorts as text)
COUNTABLE = ("word", "number")
EXACT_BREAK = r"-[ \t]*\r?\n[ \t]*"  # a wrap-mode line break after a hyphen, gone from the exact form


def _check(language: str, line_breaks: str) -> None:
    check("language", language, LANGUAGES)
    check("line_breaks", line_breaks, LINE_BREAKS)


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


def _flag(bit: int, shift: int = 0) -> pl.Expr:
    flags = pl.col("_flags") if shift == 0 else pl.col("_flags").shift(shift, fill_value=0)
    return (flags & bit) != 0


def surface_table(surfaces: pl.LazyFrame, mode: str) -> pl.LazyFrame:
    """``surface kind norm _flags`` for each (distinct) token surface."""
    first = pl.col("surface").str.head(1)
    kind = (
        pl.when(pl.col("surface").str.contains(IS_URL))
        .then(pl.lit("url"))
        .when(first.str.contains(IS_WORD))
        .then(pl.lit("word"))
        .when(first.str.contains(r"^\p{Nd}") & ~pl.col("surface").str.contains("\u20e3"))
        .then(pl.lit("number"))
        .when(pl.col("surface").str.contains(IS_EMOJI))
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
                (surface.str.contains(f"^{SENT_END}$") & (pl.col("kind") == "punct")).cast(
                    pl.UInt8
                )
                * FLAG_SEND
                | surface.is_in(CLOSERS).cast(pl.UInt8) * FLAG_CLOSE
                | (surface == ".").cast(pl.UInt8) * FLAG_DOT
                | abbr.cast(pl.UInt8) * FLAG_ABBR
            ).alias("_flags"),
        )
    )


def _run_table(runs: pl.LazyFrame, line_breaks: str, mode: str) -> pl.LazyFrame:
    """Everything that depends on a run's text alone, computed once per distinct run
    (the regular-expression path)."""
    gap = pl.col("run").str.slice(pl.col("_tlen"))
    para_break = gap.str.count_matches(NEWLINE) >= (1 if line_breaks == "paragraph" else 2)
    with_surface = runs.select(
        "run", pl.col("run").str.replace(f"[{GAP_CLASS}]+$", "").alias("surface")
    )
    return (
        pl.concat(
            [with_surface.select("run"), surface_table(with_surface, mode)], how="horizontal"
        )
        .with_columns(
            pl.col("surface").str.len_chars().cast(pl.UInt32).alias("_tlen"),
            pl.col("run").str.len_chars().cast(pl.UInt32).alias("_rlen"),
        )
        .with_columns(
            pl.col("_flags")
            | para_break.cast(pl.UInt8) * FLAG_PBRK
            | (pl.col("_rlen") == pl.col("_tlen")).cast(pl.UInt8) * FLAG_ADJ
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


def statements_checked(statements: pl.LazyFrame | pl.DataFrame, language: str, line_breaks: str):
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

    Two implementations of one grammar, with identical output (``tests/text/test_scanner.py``):
    ``regex`` (:func:`tokens_build_regex`, the definition: one regular expression)
    and ``scan`` (the compiled scanner of :mod:`analysis.text.scanner`, 1.4-1.9× as fast
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
    lf = statements_checked(statements, language, line_breaks)
    frame = (
        lf.select(pl.col("doc").cast(pl.UInt32), pl.col("text").fill_null(""))
        .sort("doc")
        .collect(engine="in-memory")
    )
    if engine == "auto":
        loaded = getattr(sys.modules.get("analysis.text.scanner"), "LOADED", False)
        small = frame["text"].str.len_bytes().sum() < SCAN_MIN_BYTES
        engine = "regex" if small and not loaded else "scan"
    if engine == "regex":
        return tokens_build_regex(frame, language=language, line_breaks=line_breaks, mode=mode)
    import numpy as np

    from .scanner import number, scan

    *runs, surfaces = scan(frame["text"], line_breaks == "wrap")
    table = (
        surface_table(pl.LazyFrame({"surface": surfaces}, schema={"surface": pl.String}), mode)
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
    lf = statements_checked(statements, language, line_breaks)
    text = pl.col("text").fill_null("")
    body = text.str.strip_chars_start(GAP_CHARS)
    split = pl.col("run").str.extract_all(run_pattern(line_breaks))
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
    glued = _flag(FLAG_ADJ, 1) & ~first
    end0 = _flag(FLAG_SEND) & ~(_flag(FLAG_DOT) & _flag(FLAG_ABBR, 1) & glued)
    carry = _flag(FLAG_CLOSE) & glued & end0.shift(1, fill_value=False)
    next_carry = carry.shift(-1, fill_value=False) & ~first.shift(-1, fill_value=True)
    brk = (end0 & ~next_carry) | carry | _flag(FLAG_PBRK)
    row = pl.int_range(pl.len(), dtype=pl.UInt32)
    toks = toks.with_columns(
        pl.when(first).then(row).forward_fill().alias("_base"),  # the doc's first row
        brk.cast(pl.UInt32).alias("_brk"),
        _flag(FLAG_PBRK).cast(pl.UInt32).alias("_pbrk"),
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



def _clauses(countable: pl.LazyFrame) -> pl.LazyFrame:
    """Countable tokens with ``sent`` numbered so that a phrase of characters never
    bridges punctuation: in text written without spaces (ideographs, a character a
    token) ``合作、共赢`` is not the formula ``合作共赢``, nor ``“冷战”思维`` ``冷战思维``.

    Where a skipped token (punctuation, emoji) lies between two countable tokens of one
    sentence and either of them is an ideograph, the stream starts a new ``sent`` there
    (``sent`` + the number of such breaks before it in the document). Text without
    ideographs keeps its sentence numbers unchanged; elsewhere punctuation inside a
    sentence stays transparent as before (``peace, security`` still holds the bigram).
    """
    ideo = pl.col("surface").str.contains(f"^{IDEOGRAPH}$")
    first = (pl.col("doc") != pl.col("doc").shift(1)).fill_null(True)
    brk = (
        ~first
        & (pl.col("sent") == pl.col("sent").shift(1))
        & (pl.col("tok") - pl.col("tok").shift(1) > 1)
        & (ideo | ideo.shift(1))
    ).fill_null(False)
    n = brk.cast(pl.UInt32).cum_sum()
    before = n - pl.when(first).then(n).forward_fill()
    return countable.with_columns((pl.col("sent") + before).alias("sent"))


_HYPHEN_PART = re.compile(r"[^\s\-\u2010\u2011]+")
#: Bound prefixes whose hyphen is dropped rather than split at, in a word of two parts
#: (``co-operation`` -> ``cooperation``, ``non-aligned`` -> ``nonaligned``,
#: ``anti-terrorism``): spelt with or without the hyphen, one word. Every other hyphen
#: separates words (``non-self-governing`` -> ``non self governing``).
BOUND_PREFIXES = frozenset(
    "anti co inter intra macro micro multi neo non post pre re semi socio sub supra trans".split()
)


def hyphen_parts(surface: str, norm: str) -> list[tuple[str, str, int, int]]:
    """(norm, surface, start, end) of each part of a hyphenated word (one part: no split)."""
    norms = norm.split("-")
    spans = [(m.start(), m.end()) for m in _HYPHEN_PART.finditer(surface)]
    if len(spans) != len(norms) or not all(norms):
        return [(norm, surface, 0, len(surface))]
    parts: list[tuple[str, int, int]] = []
    for n, (a, b) in zip(norms, spans, strict=True):
        if len(norms) == 2 and parts and parts[-1][0] in BOUND_PREFIXES:
            prefix, a, _ = parts.pop()
            n = prefix + n
        parts.append((n, a, b))
    return [(n, surface[a:b], a, b) for n, a, b in parts]


def _hyphen_pieces(countable: pl.LazyFrame) -> pl.LazyFrame:
    """Words with a hyphen inside, one piece per part (levels ``norm`` and above).

    So a hyphenated compound matches its spaced phrase (``new-world-order`` ⇔ ``new world
    order``) and a dash glued between Arabic words separates them (``الشريفين-يحفظه``);
    after a bound prefix (:data:`BOUND_PREFIXES`) the hyphen joins instead
    (``co-operation`` ⇔ ``cooperation``). Every hyphen the grammar lets into a word
    (- ‐ ‑, and a wrap-mode ``-`` + line break that ``norm`` keeps: ``Secretary-\nGeneral``)
    counts; an OCR break that ``norm`` joins (``inter-\nnational``) is already gone. Each
    piece keeps its offsets into the verbatim text. Python runs once per distinct
    hyphenated surface.
    """
    hyph = (
        countable.filter((pl.col("kind") == "word") & pl.col("norm").str.contains("-", literal=True))
        .select("surface", "norm")
        .unique()
        .sort("surface", "norm")
        .collect()
    )
    if hyph.height == 0:
        return countable
    rows = [
        (surface, norm, *part)
        for surface, norm in hyph.iter_rows()
        for part in hyphen_parts(surface, norm)
    ]
    table = (
        pl.DataFrame(rows, schema={"surface": pl.String, "norm": pl.String, "_n": pl.String,
                                   "_s": pl.String, "_a": pl.UInt32, "_b": pl.UInt32}, orient="row")
        .group_by("surface", "norm", maintain_order=True)
        .agg("_n", "_s", "_a", "_b")
    )
    names = countable.collect_schema().names()
    start = pl.col("start")
    has = (pl.col("kind") == "word") & pl.col("norm").str.contains("-", literal=True)
    rows_in = countable.with_row_index("_r")
    pieces = (
        rows_in.filter(has)
        .join(table.lazy(), on=["surface", "norm"], how="inner", maintain_order="left")
        .explode(["_n", "_s", "_a", "_b"])
        .with_columns(
            pl.col("_n").alias("norm"),
            pl.col("_s").alias("surface"),
            (start + pl.col("_a")).alias("start"),
            (start + pl.col("_b")).alias("end"),
        )
        .select("_r", *names)
    )
    # only the hyphenated rows are joined and exploded; a stable sort on the row number
    # puts their pieces back in place
    return (
        pl.concat([rows_in.filter(~has).select("_r", *names), pieces])
        .sort("_r", maintain_order=True)
        .select(names)
    )


def tokens_level(tokens: pl.LazyFrame | pl.DataFrame, level: str, *, analyzer=None) -> pl.LazyFrame:
    """The form stream of ``level``: ``doc sent pos start end form`` for countable pieces.

    ``exact`` is the verbatim surface (a wrap-mode line break inside a hyphenated word
    removed); ``norm`` the normalised form with aliases applied, a hyphenated word one
    piece per part (:func:`_hyphen_pieces`); ``clitic`` splits Arabic proclitics into
    pieces of their own; ``stem`` stems every piece, ``lemma`` lemmatises it (Russian).
    Levels ``clitic``, ``stem`` and ``lemma`` need an :class:`analysis.text.analyzer.Analyzer`.
    """
    if level not in LEVELS:
        raise FormulaeError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    lf = tokens.lazy() if isinstance(tokens, pl.DataFrame) else tokens
    lf = _clauses(lf.filter(pl.col("kind").is_in(COUNTABLE)))
    if level != "exact":
        lf = _hyphen_pieces(lf)
    if level == "exact":
        form = pl.col("surface").str.replace_all(EXACT_BREAK, "-")
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
