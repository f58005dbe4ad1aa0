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
   counted in the suffix array and have no association figure).
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
   ``مكة`` ...) or when it holds a part of a personal name from :data:`AR_NAME_PARTS`
   (``بن``, ``آل``: ``سلمان بن عبدالعزيز``). A heuristic: names without such a word
   (``الولايات المتحدة``) are not flagged.
6. **Reference** (optional): counts of each candidate in a reference corpus's index,
   token keyness ``ref_g2`` (Rayson) and conservative Log Ratio ``ref_log_ratio``
   (the Log Ratio bound of the 1 − α/m Wilson-style interval is not used: the
   conservative value is the Log Ratio shrunk to 0 unless G² passes the Bonferroni
   critical value for m = number of candidates), ``ref_sig``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from ..errors import FormulaeError
from ..ingest.periods import period_auto, period_keys
from ..phrases import suffix
from ..phrases.view import CorpusView, corpus_view
from ..result import Result
from ..text.function_words import function_words
from ..vocab import PERIODS, check, default_level, precision_rank

DEFAULTS: dict[str, Any] = {"min_statements": 5, "limit": 100}
NAME_WEIGHT = 0.25
MAX_LONG = 20_000  # phrases longer than the index's n-grams counted one by one, at most

AR_NAME_HEADS = """
المملكة مملكة الملك الامير الأمير امير أمير الشيخ شيخ خادم ولي سمو صاحب معالي فخامة
مدينة محافظة منطقة امارة إمارة جامعة شركة مستشفى مطار ميناء مجلس هيئة وزارة وزير
مؤسسة مركز بنك صندوق جمعية مجمع نادي كلية معهد مكة المدينة الرياض جدة الدمام
"""
AR_NAME_PARTS = "بن ابن بنت ابو أبو آل"

COLUMNS = {
    "rank": "position in the ranking (1 = best)",
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


def candidate_pool(ix, language: str, min_statements: int, notes: list[str]) -> pl.DataFrame:
    """Distinct content cores of the index's maximal phrases: ``n, sa_lo, freq, g2, pmi``."""
    mx = (ix.table("maximal").filter(pl.col("distinct_statements") >= min_statements)
          .select("n", "pos", "sa_lo", "freq").collect())
    ids = np.asarray(ix.array("ids"))
    sa = np.asarray(ix.array("sa"))
    content = _content(ix, language)
    pos, n = mx["pos"].to_numpy().astype(np.int64), mx["n"].to_numpy().astype(np.int64)
    first, m = _trim(ids, content, pos, n)
    keep = m >= 2
    notes.append(f"{mx.height} maximal phrases in >= {min_statements} statements; "
                 f"{int((~keep).sum())} have fewer than two words once stopword edges are cut")
    start = (pos + first)[keep]
    m = m[keep]
    whole = (first[keep] == 0) & (m == n[keep])
    sa_lo_whole = mx["sa_lo"].to_numpy().astype(np.int64)[keep]
    freq_whole = mx["freq"].to_numpy().astype(np.int64)[keep]
    isa = np.empty(len(sa), np.int32)
    isa[sa] = np.arange(len(sa), dtype=np.int32)
    rank = isa[start].astype(np.int64)
    del isa
    max_n = int(ix.manifest["params"]["max_n"])
    ng = (ix.table("ngrams").filter(pl.col("n").is_between(2, max_n))
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
    parts.append(_long_rows(ix, ids, sa, start, m, whole, sa_lo_whole, freq_whole, max_n, notes))
    pool = pl.concat([p.select("n", "sa_lo", "freq", "g2", "pmi").cast(
        {"n": pl.UInt32, "sa_lo": pl.Int64, "freq": pl.Int64, "g2": pl.Float64, "pmi": pl.Float64})
        for p in parts])
    pool = pool.unique(["n", "sa_lo"]).sort("n", "sa_lo")
    repelled = pool.filter(pl.col("g2") <= 0).height
    if repelled:
        notes.append(f"{repelled} cores whose weaker split occurs no more often than expected (g2 <= 0) left out")
    return pool.filter(pl.col("g2").is_null() | (pl.col("g2") > 0))


def _long_rows(ix, ids, sa, start, m, whole, sa_lo_whole, freq_whole, max_n, notes) -> pl.DataFrame:
    """Cores longer than the index's n-grams: the maximal row itself, or a suffix-array search."""
    long_ = m > max_n
    rows = {"n": m[long_ & whole], "sa_lo": sa_lo_whole[long_ & whole], "freq": freq_whole[long_ & whole]}
    cut = np.flatnonzero(long_ & ~whole)
    if len(cut) > MAX_LONG:
        notes.append(f"{len(cut) - MAX_LONG} long trimmed phrases beyond the first {MAX_LONG} left out")
        cut = cut[:MAX_LONG]
    ss = np.asarray(ix.array("sent_starts"))
    extra_lo, extra_freq = [], []
    for i in cut.tolist():
        lo, hi = suffix.sa_range(ids, sa, ids[start[i]:start[i] + m[i]], ss)
        extra_lo.append(lo)
        extra_freq.append(hi - lo)
    return pl.DataFrame({
        "n": np.concatenate([rows["n"], m[cut]]).astype(np.uint32),
        "sa_lo": np.concatenate([rows["sa_lo"], np.array(extra_lo, np.int64)]),
        "freq": np.concatenate([rows["freq"], np.array(extra_freq, np.int64)]),
        "g2": pl.Series([None] * (len(rows["n"]) + len(cut)), dtype=pl.Float64),
        "pmi": pl.Series([None] * (len(rows["n"]) + len(cut)), dtype=pl.Float64),
    })


def _occurrences(ix, pool: pl.DataFrame):
    """(candidate row, start position) of every occurrence, and whether it is independent."""
    sa = ix.array("sa")
    lo = pool["sa_lo"].to_numpy().astype(np.int64)
    fr = pool["freq"].to_numpy().astype(np.int64)
    rank, row = suffix.expand_runs(lo, fr)
    pos = np.asarray(sa[rank], np.int64)
    del rank
    end = pos + pool["n"].to_numpy().astype(np.int64)[row]
    # sorted by start, longer first: an occurrence is inside a longer one iff an earlier
    # occurrence in this order ends at or after its end
    order = np.lexsort((-end, pos))
    e_sorted = end[order]
    reach = np.maximum.accumulate(e_sorted)
    inside = np.zeros(len(pos), bool)
    inside[order[1:]] = reach[:-1] >= e_sorted[1:]
    return row, pos, ~inside


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
    period = np.where(ok, period_keys(days, by), -1)
    n_periods = len(np.unique(period[ok & kept]))
    return kept, source, period, by, n_periods


def _dp(row, doc, kept_tokens, n_rows) -> np.ndarray:
    """Gries's DP of each row over the kept statements (shares by tokens)."""
    g, d, c = suffix.group_doc_counts(row, doc, len(kept_tokens))
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
    doc = ix.doc_of(pos)
    kept, source, period, unit, n_periods = _doc_table(view, by, where, notes)
    keep = kept[doc]
    row, pos, indep, doc = row[keep], pos[keep], indep[keep], doc[keep]
    m = pool.height
    tokens = np.asarray(ix.array("doc_tokens"), np.float64) * kept
    per = period[doc]
    dated = per >= 0
    frame = pool.rename({"freq": "freq_all"}).with_columns(
        pl.Series("freq", np.bincount(row, minlength=m), dtype=pl.UInt32),
        pl.Series("independent", np.bincount(row, weights=indep, minlength=m).astype(np.int64), dtype=pl.UInt32),
        pl.Series("statements", _per_candidate(doc, row, m), dtype=pl.UInt32),
        pl.Series("independent_statements", _per_candidate(doc[indep], row[indep], m), dtype=pl.UInt32),
        pl.Series("sources", _per_candidate(source[doc], row, m), dtype=pl.UInt32),
        pl.Series("period_share", _per_candidate(per[dated], row[dated], m) / max(n_periods, 1)),
        pl.Series("dp", _dp(row, doc, tokens, m)),
    )
    first = np.cumsum(np.bincount(row, minlength=m)) - np.bincount(row, minlength=m)
    return frame, {"unit": unit, "periods": n_periods, "row": row, "pos": pos, "first": first}


def _names(ix, view, frame: pl.DataFrame, occ: dict, content: np.ndarray, language: str) -> np.ndarray:
    """The ``name`` flag of each row (see the module docstring)."""
    m = frame.height
    n = frame["n"].to_numpy().astype(np.int64)
    ids = ix.array("ids")
    if language == "ar" or not len(occ["pos"]):
        return _names_arabic(ix, frame, occ, content)
    counts = np.bincount(occ["row"], minlength=m)
    k = np.minimum(counts, 3)
    srow = np.repeat(np.arange(m), k)
    sidx = occ["first"][srow] + (np.arange(len(srow)) - (np.cumsum(k) - k)[srow])
    spos = occ["pos"][sidx]
    tpos, tocc = suffix.expand_runs(spos, n[srow])
    is_content = content[np.asarray(ids[tpos], np.int64)]
    starts_sentence = np.zeros(len(ids), bool)
    starts_sentence[np.asarray(ix.array("sent_starts"), np.int64)] = True
    judged = is_content & ~starts_sentence[tpos]
    tpos, tocc = tpos[judged], tocc[judged]
    doc = ix.doc_of(tpos)
    texts = view.texts().collect().sort("doc")["text"]
    start = np.asarray(ix.array("start"), np.int64)[tpos]
    ch = pl.DataFrame({"t": texts.gather(doc), "s": start}).select(
        pl.col("t").str.slice(pl.col("s"), 1).alias("c"))["c"]
    upper = (ch != ch.str.to_lowercase()).fill_null(False).to_numpy()
    lower_occ = np.bincount(tocc, weights=~upper, minlength=len(srow)) > 0  # a content word in lower case
    judged_occ = np.bincount(tocc, minlength=len(srow)) > 0
    name_votes = np.bincount(srow, weights=judged_occ & ~lower_occ, minlength=m)
    votes = np.bincount(srow, weights=judged_occ, minlength=m)
    return (votes > 0) & (name_votes * 2 > votes)


def _names_arabic(ix, frame, occ, content) -> np.ndarray:
    """Arabic: the first content word is a name head, or a word is a name part (بن, آل)."""
    from ..text.normalise import normalise

    m = frame.height
    if m == 0:
        return np.zeros(0, bool)
    n = frame["n"].to_numpy().astype(np.int64)
    pos = np.asarray(ix.array("sa"), np.int64)[frame["sa_lo"].to_numpy().astype(np.int64)]
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


def score_expr() -> pl.Expr:
    """The documented score (module docstring, step 4) as an expression."""
    assoc = pl.when(pl.col("g2").is_null()).then(1.0).otherwise(
        pl.min_horizontal((pl.col("g2") + 1.0).log10() / 3.0, pl.lit(1.0)))
    spread = (1.0 - pl.col("dp")) * pl.col("period_share").sqrt()
    length = (pl.col("n").cast(pl.Float64) + 1.0).log(2)
    weight = pl.when(pl.col("name")).then(NAME_WEIGHT).otherwise(1.0)
    return ((pl.col("independent_statements").cast(pl.Float64) + 1.0).log(2) * assoc * spread
            * length * weight).alias("score")


def formulae_candidates(corpus, *, store=None, level: str | None = None, where: pl.Expr | None = None,
                        by: str | None = None, names: bool = True, reference: str | None = None,
                        min_statements: int = DEFAULTS["min_statements"],
                        limit: int | None = DEFAULTS["limit"]) -> Result:
    """Formula candidates of a corpus (a name or a :class:`CorpusView`), ranked by ``score``.

    ``where``: a statement filter (:func:`analysis.ingest.where.filter_parse`); ``by``:
    the period unit of ``period_share`` (default: by the corpus's date span); ``names``
    False leaves out proper-name sequences; ``reference``: a corpus whose index gives the
    keyness columns. Columns in :data:`COLUMNS`; see the module docstring for the method.
    """
    if min_statements < 2:
        raise FormulaeError(f"--min-statements must be at least 2, got {min_statements}")
    view = corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)
    level = level or default_level(view.language)
    ix = view.index(level)
    notes: list[str] = []
    content = _content(ix, view.language)
    pool = candidate_pool(ix, view.language, min_statements, notes)
    frame, occ = _counts(ix, view, pool, by, where, notes)
    frame = frame.with_columns(pl.Series("name", _names(ix, view, frame, occ, content, view.language)))
    frame = frame.filter(pl.col("statements") >= min_statements)
    if not names:
        notes.append(f"{int(frame['name'].sum())} proper-name sequences left out (--no-names)")
        frame = frame.filter(~pl.col("name"))
    frame = frame.with_columns(score_expr()).sort(
        ["score", "statements", "n", "sa_lo"], descending=[True, True, False, False])
    total = frame.height
    if reference is not None:
        frame = _reference(frame, ix, reference, store, level, notes)
    if limit is not None and total > limit:
        frame = frame.head(limit)
        notes.append(f"showing {limit} of {total} candidates (--limit)")
    frame = frame.with_columns(pl.Series("pos", np.asarray(ix.array("sa"), np.int64)[
        frame["sa_lo"].to_numpy().astype(np.int64)]))
    frame = frame.with_columns(ix.phrases(frame), pl.int_range(1, frame.height + 1, dtype=pl.UInt32).alias("rank"))
    cols = [c for c in COLUMNS if c in frame.columns] + [c for c in frame.columns if c.startswith("ref_")]
    params = {"corpus": view.name, "level": level, "min_statements": min_statements, "by": occ["unit"],
              "periods": occ["periods"], "names": names, "reference": reference, "candidates": total,
              "snapshot_sha256": view.snapshot_sha256}
    return Result(frame.select(cols), params, notes)
