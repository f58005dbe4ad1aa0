"""Formula candidates: the recurring phrases of a corpus ranked as formulae, every
ingredient of the score a visible column.

Method (:func:`formulae_candidates`; every threshold a parameter):

1. **Pool.** The maximal recurring phrases of the corpus's phrase index (in at least
   ``min_statements`` distinct statements) are trimmed to their content core: tokens
   at either edge that are stopwords (:func:`analysis.text.analyzer.stopwords` of the
   corpus language) or have fewer than two letters are cut off, so
   ``the peaceful settlement of`` becomes ``peaceful settlement``. A core of one word is
   dropped. Distinct cores are the candidates; each takes its counts and association
   from the n-gram table of the index (phrases longer than the index's ``max_n`` are
   counted through the maximal phrase they were cut from and have no association figure).
2. **Direction.** ``g2`` is the signed G² of the weaker end split (see
   :mod:`analysis.phrases.engine`); a candidate whose weaker split occurs no more often
   than expected (``g2 <= 0``) is not a candidate.
3. **Occurrences.** Every occurrence of every candidate is enumerated (suffix-array
   slices); an occurrence lying inside an occurrence of a longer candidate is *dependent*.
   ``independent`` counts the others, so ``soviet union`` inside
   ``union of soviet socialist republics`` does not prop up the shorter phrase.
   Counts, statements, sources, periods and DP are taken from the occurrences in the
   statements kept by ``where``.
4. **Score** (documented in :data:`COLUMNS`)::

       score = log2(1 + independent_statements) * assoc * spread * length * name_weight

   with ``assoc = min(1, log10(1 + g2) / 3)`` (saturates at G² = 1000; 1 for phrases longer
   than the index's n-grams), ``spread = (1 - dp) * sqrt(period_share)``,
   ``length = log2(1 + n)`` and ``name_weight`` = ``NAME_WEIGHT`` for proper names, else 1.
   Ties: statements desc, phrase.
5. **Names.** ``name`` flags proper-name sequences. Latin script: every content word is
   capitalised in the verbatim text of the majority of up to three sampled occurrences
   that do not begin a sentence (``General Assembly``, ``Middle East``). Arabic script has
   no case: a phrase is a name when its first content word is a title, a place or an
   institution head from :data:`AR_NAME_HEADS` (``المملكة``, ``خادم``, ``الأمير``, ``وزارة``,
   ``مكة``, ``الولايات``, ``الأمم``, ``تنظيم`` ...) or when it holds a part of a personal
   name from :data:`AR_NAME_PARTS` (``بن``, ``آل``, ``عبد``: ``سلمان بن عبدالعزيز``). A
   heuristic with a short list: names without such a word are not flagged.
6. **Reference** (optional): counts of each candidate in a reference corpus's index,
   token keyness ``ref_g2`` (Rayson, signed), ``ref_p``, ``ref_sig`` and a conservative
   Log Ratio ``ref_log_ratio``: Hardie's Log Ratio, set to 0 unless ``|ref_g2|`` passes
   the Bonferroni critical value at α = .05 for m = the candidates tested (the ranked
   head, at least ``limit`` rows).
7. **Periods and trend** (rows shown): each row's occurrences, statements and rate per 10k
   tokens in every ``--by`` period (zeros included) are ``.extra["periods"]``; a period
   with fewer than ``min_tokens`` tokens is marked ``used = false`` and not used for the
   Mann-Kendall trend, Sen's slope or the change points (``changes``: the periods where
   a new regime of the rate begins, Poisson G² splits as in ``formulae timeline``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..ingest.periods import period_auto, period_keys
from ..phrases import suffix
from ..phrases.ranges import range_occurrences
from ..phrases.search import sa_range
from ..phrases.view import CorpusView, corpus_view
from ..result import Result
from ..text.function_words import function_words
from ..vocab import PERIODS, SEGMENTED_LANGUAGES, check, default_level, precision_rank
from .lexicon import lexicon_user_words

DEFAULTS: dict[str, Any] = {"min_statements": 5, "limit": 100}
NAME_WEIGHT = 0.25
MIN_WORD_CHARS = 4  # Chinese: a core of one word needs this many characters (互利共赢, 一个中国原则)
MAX_LONG = 20_000  # phrases longer than the index's n-grams counted one by one, at most

AR_NAME_HEADS = """
المملكة مملكة الملك الامير الأمير امير أمير الشيخ شيخ خادم ولي سمو صاحب معالي فخامة
مدينة محافظة منطقة امارة إمارة جامعة شركة مستشفى مطار ميناء مجلس هيئة وزارة وزير
مؤسسة مركز بنك صندوق جمعية مجمع نادي كلية معهد مكة المدينة الرياض جدة الدمام
الولايات الشرق الأمم الحرمين الاتحاد تنظيم حزب جماعة قناة صحيفة
"""
AR_NAME_PARTS = "بن ابن بنت ابو أبو آل عبد"

COLUMNS = {
    "rank": "position in the ranking (1 = best)",
    "id": "stable id (cand- + 10 hex of the SHA-256 of the phrase): formulae candidates --accept ID",
    "phrase": "the candidate (forms at the index level, joined by spaces)",
    "n": "length in tokens",
    "freq": "occurrences in the kept statements",
    "independent": "occurrences not inside an occurrence of a longer candidate",
    "statements": "statements with an occurrence (range)",
    "independent_statements": "statements with an independent occurrence",
    "sources": "distinct sources with an occurrence",
    "period_share": "share of the corpus's periods (--by) with an occurrence",
    "dp": "Gries's DP over the kept statements (0 = even, 1 = concentrated)",
    "g2": "signed G² of the weaker end split (whole corpus; null above the index's max n)",
    "pmi": "PMI of the weaker end split (whole corpus)",
    "name": "proper-name sequence (see module docstring)",
    "trend": "Mann-Kendall trend of the rate per 10k tokens over the periods (--by): rising, falling, no trend",
    "trend_p": "its two-sided p-value",
    "slope": "Sen's slope of the rate (per 10k tokens per period)",
    "changes": "change points: periods where a new regime of the rate begins (Poisson G² splits, used periods)",
    "score": "log2(1+independent_statements) * assoc * (1-dp) * sqrt(period_share) * log2(1+n) * name weight",
}


def _content(ix, language: str) -> np.ndarray:
    """Per vocabulary id: a content form (not a function word, at least two letters)."""
    vocab = ix.table("vocab").select("id", "form").collect().sort("id")["form"]
    stop = pl.Series(sorted(function_words(language)), dtype=pl.String).implode()
    return ((vocab.str.count_matches(r"\p{L}") >= 2) & ~vocab.is_in(stop)).fill_null(False).to_numpy()


def _trim(ids: np.ndarray, content: np.ndarray, pos: np.ndarray, n: np.ndarray):
    """(first content offset, core length) of each phrase; length 0 when it has no content."""
    ptok, prow = suffix.expand_runs(pos, n)
    k = ptok - pos[prow]
    c = content[ids[ptok]]
    offs = np.cumsum(n) - n
    big = np.int64(1 << 40)
    first = np.minimum.reduceat(np.where(c, k, big), offs) if len(offs) else np.zeros(0, np.int64)
    last = np.maximum.reduceat(np.where(c, k, -1), offs) if len(offs) else np.zeros(0, np.int64)
    length = np.where(last >= 0, last - first + 1, 0)
    return np.where(last >= 0, first, 0), length


def _trim_words(words: dict[str, np.ndarray], pos: np.ndarray, n: np.ndarray):
    """:func:`_trim` for text indexed a character a token, on its segmenter's words (the
    per-token flags of :meth:`analysis.phrases.view.CorpusView.word_flags`): the core begins
    where a content word begins and ends where a content word ends, so no word is cut in
    half and no function word is at an edge; a core of one word shorter than
    :data:`MIN_WORD_CHARS` tokens has length 0."""
    ptok, prow = suffix.expand_runs(pos, n)
    k = ptok - pos[prow]
    offs = np.cumsum(n) - n
    if not len(offs):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    big = np.int64(1 << 40)
    content = words["content"][ptok]
    first = np.minimum.reduceat(np.where(words["begin"][ptok] & content, k, big), offs)
    last = np.maximum.reduceat(np.where(words["finish"][ptok] & content, k, -1), offs)
    inside = (k >= first[prow]) & (k <= last[prow])
    n_words = np.bincount(prow, weights=words["begin"][ptok] & inside, minlength=len(pos))
    length = np.where(last >= first, last - first + 1, 0)
    length = np.where((n_words >= 2) | (length >= MIN_WORD_CHARS), length, 0)
    return np.where(length > 0, first, 0), length


def _word_aligned(frame: pl.DataFrame, occ: dict, words: dict[str, np.ndarray],
                  notes: list[str]) -> pl.DataFrame:
    """Rows whose edges fall on word boundaries, with a content word at each edge, in most
    of their occurrences (the segmenter's words depend on the context: ``国政府`` is cut
    from ``美国政府``)."""
    counts = occ["counts"]
    n = frame["n"].to_numpy().astype(np.int64)
    rows = frame["_row"].to_numpy().astype(np.int64)
    idx, which = suffix.expand_runs(occ["first"][rows], counts[rows])
    a = occ["pos"][idx]
    b = a + n[which] - 1
    ok = words["begin"][a] & words["finish"][b] & words["content"][a] & words["content"][b]
    share = np.bincount(which, weights=ok, minlength=len(rows)) / np.maximum(counts[rows], 1)
    keep = share > 0.5
    notes.append(f"{int((~keep).sum())} candidates left out: in most occurrences an edge cuts a word "
                 "or is a function word")
    return frame.filter(pl.Series(keep))


def candidate_pool(ix, language: str, min_statements: int, notes: list[str],
                   words: dict[str, np.ndarray] | None = None) -> pl.DataFrame:
    """Distinct content cores of the index's maximal phrases: ``n, sa_lo, freq, offset, g2, pmi``
    (occurrences: ``sa[sa_lo : sa_lo + freq] + offset``). ``words``: per-token word flags
    of a segmented language (Chinese): edges are judged on its words (:func:`_trim_words`)."""
    mx = (ix.table("maximal").filter(pl.col("distinct_statements") >= min_statements)
          .select("n", "pos", "sa_lo", "freq").collect())
    ids = np.asarray(ix.array("ids"))
    sa = np.asarray(ix.array("sa"))
    content = _content(ix, language)
    pos, n = mx["pos"].to_numpy().astype(np.int64), mx["n"].to_numpy().astype(np.int64)
    first, m = _trim(ids, content, pos, n) if words is None else _trim_words(words, pos, n)
    keep = m >= 2
    notes.append(f"{mx.height} maximal phrases in >= {min_statements} statements; "
                 f"{int((~keep).sum())} have fewer than two words once stopword edges are cut")
    start = (pos + first)[keep]
    m = m[keep]
    sa_lo_whole = mx["sa_lo"].to_numpy().astype(np.int64)[keep]
    freq_whole = mx["freq"].to_numpy().astype(np.int64)[keep]
    isa = np.empty(len(sa), np.int32)
    isa[sa] = np.arange(len(sa), dtype=np.int32)
    rank = isa[start].astype(np.int64)
    del isa
    max_n = int(ix.manifest["params"]["max_n"])
    ng = (ix.table("ngrams").filter(pl.col("n").is_between(2, max_n) & (pl.col("distinct_statements") >= min_statements))
          .select("n", "sa_lo", "freq", "g2", "pmi").collect())
    parts = []
    short = m <= max_n
    for k in range(2, max_n + 1):
        sel = np.flatnonzero(short & (m == k))
        if not len(sel):
            continue
        grams = ng.filter(pl.col("n") == k)
        lo = grams["sa_lo"].to_numpy().astype(np.int64)
        j = np.searchsorted(lo, rank[sel], side="right") - 1
        parts.append(grams[np.unique(j)])
    long_ = _long_rows(ids, start, m, first[keep], sa_lo_whole, freq_whole, max_n)
    pool = pl.concat([p.with_columns(pl.lit(0, pl.Int64).alias("offset")).select(
        "n", "sa_lo", "freq", "offset", "g2", "pmi") for p in parts] + [long_.drop("key")], how="vertical_relaxed")
    pool = pool.cast({"n": pl.UInt32, "sa_lo": pl.Int64, "freq": pl.Int64, "offset": pl.Int64,
                      "g2": pl.Float64, "pmi": pl.Float64}).sort("n", "sa_lo", "offset")
    repelled = pool.filter(pl.col("g2") <= 0).height
    if repelled:
        notes.append(f"{repelled} cores whose weaker split occurs no more often than expected (g2 <= 0) left out")
    return pool.filter(pl.col("g2").is_null() | (pl.col("g2") > 0))


def _long_rows(ids, start, m, first, sa_lo_whole, freq_whole, max_n) -> pl.DataFrame:
    """Cores longer than the index's n-grams, counted through the maximal phrase they were cut
    from (``offset`` = tokens cut at its left edge). A core cut from several phrases keeps
    the one with most occurrences: exact when the core is itself maximal or always has the
    same function words around it; a lower bound otherwise (the core then never occurs
    outside a longer content core, so it is dependent anyway)."""
    long_ = np.flatnonzero(m > max_n)
    tpos, trow = suffix.expand_runs(start[long_], m[long_])
    k = (tpos - start[long_][trow]).astype(np.uint64)
    h = np.asarray(ids[tpos], np.uint64) * np.uint64(0x9E3779B97F4A7C15) + k * np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(31)
    key = np.bincount(trow, weights=(h >> np.uint64(12)).astype(np.float64), minlength=len(long_))
    f = pl.DataFrame({"key": key, "n": m[long_].astype(np.uint32), "sa_lo": sa_lo_whole[long_],
                      "freq": freq_whole[long_], "offset": first[long_]})
    f = f.sort(["key", "n", "freq", "sa_lo"], descending=[False, False, True, False]).unique(
        ["key", "n"], keep="first", maintain_order=True)
    return f.with_columns(pl.lit(None, pl.Float64).alias("g2"), pl.lit(None, pl.Float64).alias("pmi"))


def _occurrences(ix, pool: pl.DataFrame):
    """(candidate row, start position) of every occurrence, and whether it is independent
    (:func:`analysis.phrases.ranges.range_occurrences`: not inside an occurrence of a
    longer candidate)."""
    return range_occurrences(ix.array("sa"), *(pool[c].to_numpy() for c in ("sa_lo", "freq", "offset", "n")))


def _per_candidate(keys: np.ndarray, row: np.ndarray, n_rows: int) -> np.ndarray:
    """Distinct (row, key) pairs per row."""
    g, _, _ = suffix.group_doc_counts(row, keys, int(keys.max()) + 1 if len(keys) else 1)
    return np.bincount(g, minlength=n_rows)


def _doc_table(view: CorpusView, by: str | None, where: pl.Expr | None, notes: list[str]):
    """Per doc: kept (where), source code, period key (-1: no usable date); and the unit."""
    st = view.statements.sort("doc")
    kept = (st.select(where).to_series().fill_null(False).to_numpy() if where is not None
            else np.ones(st.height, bool))
    if where is not None:
        notes.append(f"{int(kept.sum())} of {st.height} statements kept by --where")
    source = st["source"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    dated = st.filter(pl.Series(kept) & pl.col("date").is_not_null())
    if by is None:
        prec = [p for p in dated["date_precision"].unique().to_list() if p in PERIODS]
        coarse = max(prec, key=precision_rank, default=None)
        by = period_auto(dated["date"].min(), dated["date"].max(), coarse)
    check("--by", by, PERIODS)
    ok = (st["date"].is_not_null() & st["date_precision"].is_in(
        [p for p in PERIODS if precision_rank(p) <= precision_rank(by)])).fill_null(False).to_numpy()
    days = st["date"].cast(pl.Int32).fill_null(0).to_numpy()
    keys = period_keys(days, by)
    used, dense = np.unique(keys[ok], return_inverse=True)  # dense 0..P-1 (keys may be < 0)
    period = np.full(st.height, -1, np.int64)
    period[ok] = dense
    n_periods = len(np.unique(period[ok & kept]))
    return kept, source, period, by, n_periods, used


def _dp(g, d, c, kept_tokens, n_rows) -> np.ndarray:
    """Gries's DP of each row over the kept statements (shares by tokens), from the distinct
    (row ``g``, doc ``d``, count ``c``) pairs."""
    total = kept_tokens.sum()
    share = kept_tokens / total if total else kept_tokens.astype(float)
    freq = np.bincount(g, weights=c, minlength=n_rows)
    s = share[d]
    term = np.abs(c / np.maximum(freq[g], 1) - s)
    return 0.5 * (np.bincount(g, weights=term, minlength=n_rows) + 1.0
                  - np.bincount(g, weights=s, minlength=n_rows))


def _counts(ix, view, pool, by, where, notes) -> tuple[pl.DataFrame, dict]:
    """The counting ingredients of every pool row, from its occurrences in the kept statements."""
    row, pos, indep = _occurrences(ix, pool)
    n_docs = view.statements.height
    doc_tokens = np.asarray(ix.array("doc_tokens"), np.int64)
    doc = np.repeat(np.arange(len(doc_tokens), dtype=np.int32), doc_tokens)[pos]
    kept, source, period, unit, n_periods, keys = _doc_table(view, by, where, notes)
    if where is not None:
        keep = kept[doc]
        row, pos, indep, doc = row[keep], pos[keep], indep[keep], doc[keep]
    m = pool.height
    g, d, c = suffix.group_doc_counts(row, doc, n_docs)  # distinct (row, doc) pairs
    dated = period[d] >= 0
    counts = np.bincount(row, minlength=m)
    frame = pool.rename({"freq": "freq_all"}).with_columns(
        pl.Series("freq", counts, dtype=pl.UInt32),
        pl.Series("independent", np.bincount(row, weights=indep, minlength=m).astype(np.int64), dtype=pl.UInt32),
        pl.Series("statements", np.bincount(g, minlength=m), dtype=pl.UInt32),
        pl.Series("independent_statements", _per_candidate(doc[indep], row[indep], m), dtype=pl.UInt32),
        pl.Series("sources", _per_candidate(source[d], g, m), dtype=pl.UInt32),
        pl.Series("period_share", _per_candidate(period[d][dated], g[dated], m) / max(n_periods, 1)),
        pl.Series("dp", _dp(g, d, c, doc_tokens * kept, m)),
    )
    return frame, {"unit": unit, "periods": n_periods, "pos": pos, "counts": counts,
                   "first": np.cumsum(counts) - counts, "doc": doc, "period": period,
                   "tokens": doc_tokens * kept, "keys": keys}


def _names(ix, view, frame: pl.DataFrame, rows: np.ndarray, occ: dict, content: np.ndarray,
           language: str) -> np.ndarray:
    """The ``name`` flag of the frame rows ``rows`` (see the module docstring)."""
    if language == "ar":
        return _names_arabic(ix, frame[rows], content)
    ids = ix.array("ids")
    n = frame["n"].to_numpy().astype(np.int64)[rows]
    r = len(rows)
    k = np.minimum(occ["counts"][rows], 3)
    srow = np.repeat(np.arange(r), k)
    sidx = occ["first"][rows][srow] + (np.arange(len(srow)) - (np.cumsum(k) - k)[srow])
    spos = occ["pos"][sidx]
    tpos, tocc = suffix.expand_runs(spos, n[srow])
    is_content = content[np.asarray(ids[tpos], np.int64)]
    sent_starts = np.asarray(ix.array("sent_starts"), np.int64)
    at_start = sent_starts[np.minimum(np.searchsorted(sent_starts, tpos), len(sent_starts) - 1)] == tpos
    judged = is_content & ~at_start
    tpos, tocc = tpos[judged], tocc[judged]
    doc = ix.doc_of(tpos)
    need = np.unique(doc)
    texts = (view.texts().filter(pl.col("doc").is_in(pl.Series(need, dtype=pl.UInt32).implode()))
             .collect().sort("doc"))
    at = np.searchsorted(texts["doc"].to_numpy(), doc)
    start = np.asarray(ix.array("start"), np.int64)[tpos]
    ch = pl.DataFrame({"t": texts["text"].gather(at), "s": start}).select(
        pl.col("t").str.slice(pl.col("s"), 1).alias("c"))["c"]
    upper = (ch != ch.str.to_lowercase()).fill_null(False).to_numpy()
    lower_occ = np.bincount(tocc, weights=~upper, minlength=len(srow)) > 0  # a content word in lower case
    judged_occ = np.bincount(tocc, minlength=len(srow)) > 0
    name_votes = np.bincount(srow, weights=judged_occ & ~lower_occ, minlength=r)
    votes = np.bincount(srow, weights=judged_occ, minlength=r)
    return (votes > 0) & (name_votes * 2 > votes)


def _rank(ix, view, frame: pl.DataFrame, occ: dict, content, language: str, names: bool,
          limit: int | None) -> pl.DataFrame:
    """Score, name flags and order. Names only lower a score (``NAME_WEIGHT``), so they are
    judged for the best rows by the unweighted score, more rows at a time, until the first
    ``limit`` rows by the weighted score are certain (all rows when ``limit`` is None)."""
    frame = frame.with_columns(score_expr(weighted=False).alias("_s0")).sort(
        ["_s0", "statements", "n", "sa_lo"], descending=[True, True, False, False])
    order_occ = dict(occ)
    s0 = frame["_s0"].to_numpy()
    orig = frame["_row"].to_numpy()
    order_occ["counts"], order_occ["first"] = occ["counts"][orig], occ["first"][orig]
    name = np.zeros(frame.height, bool)
    done = 0
    m = frame.height if limit is None else min(frame.height, max(4 * limit, 200))
    while True:
        name[done:m] = _names(ix, view, frame, np.arange(done, m), order_occ, content, language)
        done = m
        w = np.where(name[:m], NAME_WEIGHT, 1.0) * s0[:m]
        kept = w[~name[:m]] if not names else w
        if m == frame.height or (limit is not None and len(kept) >= limit
                                 and np.sort(kept)[::-1][limit - 1] >= s0[m]):
            break
        m = min(frame.height, 2 * m)
    frame = frame.head(m).with_columns(pl.Series("name", name[:m]))
    if not names:
        frame = frame.filter(~pl.col("name"))
    return frame.with_columns(score_expr()).sort(
        ["score", "statements", "n", "sa_lo"], descending=[True, True, False, False]).drop("_s0")


def _names_arabic(ix, frame, content) -> np.ndarray:
    """Arabic: the first content word is a name head, or a word is a name part (بن, آل)."""
    from ..text.normalise import normalise

    m = frame.height
    if m == 0:
        return np.zeros(0, bool)
    n = frame["n"].to_numpy().astype(np.int64)
    pos = (np.asarray(ix.array("sa"), np.int64)[frame["sa_lo"].to_numpy().astype(np.int64)]
           + frame["offset"].to_numpy())
    tpos, trow = suffix.expand_runs(pos, n)
    tid = np.asarray(ix.array("ids")[tpos], np.int64)
    forms = ix.table("vocab").select("id", "form").collect().sort("id")["form"]
    heads = forms.is_in(pl.Series(sorted({normalise(w, "ar") for w in AR_NAME_HEADS.split()})).implode()).to_numpy()
    parts = forms.is_in(pl.Series(sorted({normalise(w, "ar") for w in AR_NAME_PARTS.split()})).implode()).to_numpy()
    k = tpos - pos[trow]
    first_content = np.minimum.reduceat(np.where(content[tid], k, 1 << 40), np.cumsum(n) - n)
    head = np.zeros(m, bool)
    head[trow[(k == first_content[trow]) & heads[tid]]] = True
    return head | (np.bincount(trow, weights=parts[tid], minlength=m) > 0)


def _periods(rows: np.ndarray, occ: dict, min_tokens: int, notes: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows' counts per period (zeros included) and their trend.

    Returns (per-period table: ``r``, ``period``, ``tokens_total``, ``used`` (the period
    has at least ``min_tokens`` tokens), ``freq``, ``statements``, ``per_10k``; trend per
    ``r``: ``trend``, ``trend_p``, ``slope`` (:func:`analysis.measures.stat_trend`, used
    periods only) and ``changes``, the periods where a new regime begins
    (:func:`analysis.measures.stat_changepoints`, used periods only))."""
    from ..ingest.periods import period_label
    from ..measures import stat_changepoints, stat_trend

    period, tokens, unit = occ["period"], occ["tokens"], occ["unit"]
    n_p, m = len(occ["keys"]), len(rows)
    dated = period >= 0
    per_tokens = np.bincount(period[dated], weights=tokens[dated], minlength=n_p)
    idx, which = suffix.expand_runs(occ["first"][rows], occ["counts"][rows])
    doc = occ["doc"][idx]
    p = period[doc]
    counts = np.bincount(which[p >= 0] * n_p + p[p >= 0], minlength=m * n_p)
    n_docs = int(doc.max(initial=0)) + 1
    pair = np.unique(which[p >= 0].astype(np.int64) * n_docs + doc[p >= 0])  # distinct (row, doc)
    st = np.bincount((pair // n_docs) * n_p + period[pair % n_docs], minlength=m * n_p)
    labels = [period_label(int(k), unit) for k in occ["keys"]]
    grid = pl.DataFrame({
        "r": np.repeat(np.arange(m), n_p), "_p": np.tile(np.arange(n_p), m),
        "period": pl.Series(labels * m, dtype=pl.String),
        "tokens_total": np.tile(per_tokens, m).astype(np.int64),
        "freq": counts.astype(np.uint32), "statements": st.astype(np.uint32),
        "per_10k": (counts.reshape(m, n_p) * 1e4 / np.maximum(per_tokens, 1)).ravel(),
    }).with_columns((pl.col("tokens_total") >= min_tokens).alias("used"),
                    # a period without a token has no rate (empty, not 0)
                    pl.when(pl.col("tokens_total") > 0).then(pl.col("per_10k")).alias("per_10k"))
    unused = int((per_tokens < min_tokens).sum())
    if unused:
        notes.append(f"{unused} periods with fewer than {min_tokens} tokens not used for the trend")
    used = grid.filter(pl.col("used"))
    trend = stat_trend(used, series="r", period="_p", min_exposure=min_tokens)
    cp = stat_changepoints(used.rename({"freq": "count", "tokens_total": "exposure"}), series="r", period="_p")
    cp = (cp.sort("r", "_p").with_columns(pl.col("_p").replace_strict(list(range(n_p)), labels, return_dtype=pl.String))
          .group_by("r", maintain_order=True).agg(pl.col("_p").alias("changes")))
    full = (pl.DataFrame({"r": np.arange(m)}).join(trend, on="r", how="left").join(cp, on="r", how="left")
            .with_columns(pl.col("changes").fill_null(pl.lit([], pl.List(pl.String)))).sort("r"))
    return (grid.select("r", "period", "tokens_total", "used", "freq", "statements", "per_10k"),
            full.select("trend", "trend_p", "slope", "changes"))


# candidates whose per-period counts and trend are computed (the first, by rank)
TREND_ROWS = 5000


def candidate_id(phrase: str) -> str:
    """The stable id of a candidate phrase: ``cand-`` + 10 hex of its SHA-256."""
    import hashlib

    return "cand-" + hashlib.sha256(phrase.encode("utf-8")).hexdigest()[:10]


def score_expr(*, weighted: bool = True) -> pl.Expr:
    """The documented score (module docstring, step 4) as an expression (``weighted``
    False: without the name weight, so no ``name`` column is needed)."""
    assoc = pl.when(pl.col("g2").is_null()).then(1.0).otherwise(
        pl.min_horizontal((pl.col("g2") + 1.0).log10() / 3.0, pl.lit(1.0)))
    spread = (1.0 - pl.col("dp")) * pl.col("period_share").sqrt()
    length = (pl.col("n").cast(pl.Float64) + 1.0).log(2)
    weight = pl.when(pl.col("name")).then(NAME_WEIGHT).otherwise(1.0) if weighted else pl.lit(1.0)
    return ((pl.col("independent_statements").cast(pl.Float64) + 1.0).log(2) * assoc * spread
            * length * weight).alias("score")


def formulae_candidates(corpus, *, store=None, level: str | None = None, where: pl.Expr | None = None,
                        by: str | None = None, names: bool = True, reference: str | None = None,
                        min_statements: int = DEFAULTS["min_statements"],
                        limit: int | None = DEFAULTS["limit"], min_tokens: int = 1000) -> Result:
    """Formula candidates of a corpus (a name or a :class:`CorpusView`), ranked by ``score``.

    ``where``: a statement filter (:func:`analysis.ingest.where.filter_parse`); ``by``:
    the period unit of ``period_share`` (default: by the corpus's date span); ``names``
    False leaves out proper-name sequences; ``reference``: a corpus whose index gives the
    keyness columns; ``min_tokens``: periods with fewer tokens are not used for the trend.
    Columns in :data:`COLUMNS`; see the module docstring for the method.
    """
    if min_statements < 2:
        raise FormulaeError(f"--min-statements must be at least 2, got {min_statements}")
    view = corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)
    level = level or default_level(view.language)
    ix = view.index(level)
    notes: list[str] = []
    content = _content(ix, view.language)
    words = None
    if view.language in SEGMENTED_LANGUAGES:
        words = view.word_flags(level, lexicon_user_words(view.language))
        notes.append("edges judged on jieba words (lexicon wordings added as user words)")
    pool = candidate_pool(ix, view.language, min_statements, notes, words)
    frame, occ = _counts(ix, view, pool, by, where, notes)
    frame = frame.with_row_index("_row").filter(pl.col("statements") >= min_statements)
    if words is not None:
        frame = _word_aligned(frame, occ, words, notes)
    total = frame.height
    frame = _rank(ix, view, frame, occ, content, view.language, names, limit)
    if not names:
        notes.append(f"{total - frame.height} proper-name sequences left out (--no-names)"
                     if limit is None else "proper-name sequences left out (--no-names)")
        total = frame.height if limit is None else total
    if reference is not None:
        frame = _reference(frame, ix, reference, store, level, notes)
    if limit is not None and total > limit:
        frame = frame.head(limit)
        notes.append(f"showing {limit} of {total} candidates (--limit)")
    per_period, trend = _periods(frame["_row"].to_numpy()[:TREND_ROWS], occ, min_tokens, notes)
    if frame.height > TREND_ROWS:  # bounded work: a per-period grid of every row of ungdc took 7 GB
        rest = frame.height - TREND_ROWS
        trend = trend.vstack(pl.DataFrame([pl.Series(c, [None] * rest, dtype=trend.schema[c]) for c in trend.columns]))
        notes.append(f"trend, slope, change points and the per-period table for the first {TREND_ROWS:,} "
                     f"candidates only (null for the other {rest:,})")
    frame = pl.concat([frame, trend], how="horizontal")
    frame = frame.with_columns(pl.Series("pos", np.asarray(ix.array("sa"), np.int64)[
        frame["sa_lo"].to_numpy().astype(np.int64)] + frame["offset"].to_numpy()))
    frame = frame.with_columns(ix.phrases(frame), pl.int_range(1, frame.height + 1, dtype=pl.UInt32).alias("rank"))
    frame = frame.with_columns(pl.Series("id", [candidate_id(p) for p in frame["phrase"].to_list()], dtype=pl.String))
    cols = [c for c in COLUMNS if c in frame.columns] + [c for c in frame.columns if c.startswith("ref_")]
    params = {"corpus": view.name, "level": level, "min_statements": min_statements, "by": occ["unit"],
              "periods": occ["periods"], "names": names, "reference": reference, "candidates": total,
              "snapshot_sha256": view.snapshot_sha256}
    head = frame.select("rank", "id", "phrase", "trend", "trend_p", "slope", "changes")
    per_period = (per_period.join(head.with_row_index("r").with_columns(pl.col("r").cast(pl.Int64)), on="r")
                  .sort("rank", "r").select("rank", "id", "phrase", pl.exclude("rank", "id", "phrase", "r")))
    return Result(frame.select(cols), params, notes, {"periods": per_period})


def _reference(frame: pl.DataFrame, ix, reference: str, store, level: str, notes: list[str]) -> pl.DataFrame:
    """Keyness of each row against a reference corpus's index (``ref_*`` columns).

    ``ref_freq``: occurrences of the same forms in the reference; ``ref_g2`` (Rayson,
    signed: negative where the candidate is relatively more frequent in the reference),
    ``ref_p``, ``ref_sig`` (Bonferroni, m = rows tested); ``ref_log_ratio``: Hardie's Log Ratio,
    conservative: 0 unless ``|ref_g2|`` passes the Bonferroni critical value (α = .05)."""
    from ..measures import g2_critical, g2_signed_expr, stat_keyness
    from ..phrases.index import index_load

    ref = index_load(reference, level, store)
    pos = (np.asarray(ix.array("sa"), np.int64)[frame["sa_lo"].to_numpy().astype(np.int64)]
           + frame["offset"].to_numpy())
    phrases = ix.phrases(frame.with_columns(pl.Series("pos", pos)))
    ids, sa, ss = ref.array("ids"), ref.array("sa"), ref.array("sent_starts")
    vocab = ref.table("vocab").select("form", "id").collect()
    lookup = dict(zip(vocab["form"].to_list(), vocab["id"].to_list(), strict=True))
    counts = []
    for phrase in phrases.to_list():  # one binary search per row (rows <= the ranked head)
        want = [lookup.get(f) for f in phrase.split(" ")]
        if any(w is None for w in want):
            counts.append(0)
            continue
        lo, hi = sa_range(ids, sa, np.array(want, np.uint32), ss)
        counts.append(hi - lo)
    size_a = float(np.asarray(ix.array("doc_tokens")).sum())
    size_b = float(ref.manifest["tokens"])
    m = frame.height
    notes.append(f"keyness against {reference!r} ({int(size_b)} tokens), Bonferroni over {m} candidates")
    out = frame.with_columns(pl.Series("ref_freq", counts, dtype=pl.UInt32))
    out = stat_keyness(out, a="freq", b="ref_freq", size_a=size_a, size_b=size_b, prefix="ref_", m=m)
    crit = g2_critical(0.05, max(m, 1))
    return out.with_columns(
        g2_signed_expr("freq", "ref_freq", size_a, size_b, cells=2).alias("ref_g2"),
        pl.when(pl.col("ref_g2").abs() >= crit).then(pl.col("ref_log_ratio")).otherwise(0.0).alias("ref_log_ratio"),
    )
