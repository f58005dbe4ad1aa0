"""Timelines, lifecycles, comparisons and statement-to-statement reuse.

All functions take a corpus name (or :class:`analysis.view.CorpusView`) and return a
small result object with ``.frame`` (a polars DataFrame with the documented columns),
``.params`` and ``.notes``.

Statement filters (``--a``, ``--b``, ``--where``) are clauses joined by ``&``:
``field OP value`` with OP one of ``= != < <= > >=``; fields ``date`` (``YYYY``,
``YYYY-MM`` or ``YYYY-MM-DD``), ``year``, ``source``, ``id``, ``language``; ``a|b`` lists
alternatives for ``=``/``!=``; ``year=1970..1979`` is an inclusive range. Examples:
``date<2024-12-08``, ``source=RUS``, ``year=1970..1979``, ``source!=was``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import polars as pl

from . import stats, suffix
from .errors import FormulaeError

PERIODS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4, "none": 9}
_FIELDS = ("date", "year", "source", "id", "language")
_CLAUSE = re.compile(r"^\s*(\w+)\s*(>=|<=|!=|=|<|>)\s*(.+?)\s*$")


@dataclass
class Result:
    frame: pl.DataFrame
    params: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------- filters


def _date_value(text: str, spec: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FormulaeError(f"filter {spec!r}: {text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")


def filter_parse(spec: str) -> pl.Expr:
    """Turn a filter like ``'year=1970..1979 & source!=USA'`` into a polars expression."""
    if not spec or not spec.strip():
        raise FormulaeError("empty statement filter")
    expr = None
    for clause in re.split(r"\s*&\s*|\s+and\s+", spec.strip()):
        m = _CLAUSE.match(clause)
        if not m:
            raise FormulaeError(f"filter {spec!r}: cannot read {clause!r} (expected FIELD OP VALUE, "
                                "e.g. date<2024-12-08, source=RUS, year=1970..1979)")
        name, op, value = m.groups()
        if name not in _FIELDS:
            raise FormulaeError(f"filter {spec!r}: unknown field {name!r} (known: {', '.join(_FIELDS)})")
        e = _clause_expr(name, op, value, spec)
        expr = e if expr is None else expr & e
    return expr


def _clause_expr(name: str, op: str, value: str, spec: str) -> pl.Expr:
    if name in ("date", "year"):
        col = pl.col("date") if name == "date" else pl.col("date").dt.year()
        conv = ((lambda v: _date_value(v, spec)) if name == "date" else (lambda v: _int(v, spec)))
        if ".." in value:
            if op not in ("=", "!="):
                raise FormulaeError(f"filter {spec!r}: a range needs = or !=")
            lo, hi = (conv(v.strip()) for v in value.split("..", 1))
            inside = col.is_between(lo, hi) if name == "year" else (col >= lo) & (col < _next(hi, value.split("..", 1)[1]))
            return inside if op == "=" else ~inside
        v = conv(value)
        if name == "date" and op in ("=", "!="):
            e = (col >= v) & (col < _next(v, value))
            return e if op == "=" else ~e
        return {"<": col < v, "<=": col <= v, ">": col > v, ">=": col >= v, "=": col == v, "!=": col != v}[op]
    if op not in ("=", "!="):
        raise FormulaeError(f"filter {spec!r}: field {name!r} takes = or != only")
    e = pl.col(name).is_in([v.strip() for v in value.split("|")])
    return e if op == "=" else ~e


def _int(text: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise FormulaeError(f"filter {spec!r}: {text!r} is not a year") from None


def _next(d: dt.date, text: str) -> dt.date:
    """First day after the period a partial date names (YYYY → next year, ...)."""
    parts = text.strip().count("-")
    if parts == 0:
        return dt.date(d.year + 1, 1, 1)
    if parts == 1:
        return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return d + dt.timedelta(days=1)


# ----------------------------------------------------------------------- item occurrences


def _view(corpus, store):
    from .view import CorpusView, corpus_view

    return corpus if isinstance(corpus, CorpusView) else corpus_view(corpus, store)


def item_occurrences(view, item: str, *, level: str | None = None, families=None) -> pl.DataFrame:
    """Occurrences (doc, pos, start, end) of a lexicon formula id, family id or literal phrase."""
    from .formulae import formulae_find, lexicon_load, sequences_find
    from .tokens import default_level

    level = level or default_level(view.language)
    if families is not None and item.startswith("fam-"):
        families.get(item)
        return families.occurrences.filter(pl.col("family") == item).select("doc", "pos", "start", "end")
    lex = lexicon_load().for_language(view.language)
    if any(f.id == item for f in lex.formulae):
        return formulae_find(view, lexicon=lex, level=level, formulae=[item]).select("doc", "pos", "start", "end")
    forms = view.analyzer.query_forms(item, level)
    if not forms:
        raise FormulaeError(f"{item!r} is neither a formula id of the lexicon nor a phrase with words")
    hits = sequences_find(view.stream(level), {0: tuple(forms)})
    return hits.select("doc", "pos", "start", "end")


# ----------------------------------------------------------------------- timeline


def _period_expr(by: str) -> pl.Expr:
    """``by`` is checked by the callers (stat_timeline)."""
    return pl.col("date").dt.truncate(PERIODS[by]).alias("period")


def period_label_expr(by: str, column: str = "period") -> pl.Expr:
    """The label of a period start, as ``formulae query --by`` writes it: ``1946``,
    ``2015-Q3``, ``2015-07``, ``2015-07-06`` (a week: its Monday), ``2015-07-09``."""
    d = pl.col(column)
    if by == "year":
        return d.dt.strftime("%Y")
    if by == "quarter":
        return pl.concat_str([d.dt.strftime("%Y"), pl.lit("-Q"), d.dt.quarter().cast(pl.String)])
    if by == "month":
        return d.dt.strftime("%Y-%m")
    return d.dt.strftime("%Y-%m-%d")


def stat_timeline(corpus, item: str, *, store=None, by: str = "year", group: str | None = "source",
                  where: str | None = None, level: str | None = None, families=None,
                  level_conf: float = 0.95) -> Result:
    """Counts and rates of one formula / family / phrase per period (and group).

    Columns: [group], ``period`` (Date, start of the period), ``label`` (the period as
    ``formulae query`` labels it: ``1946``, ``2015-Q3``, ...), ``statements_total``,
    ``tokens_total``, ``statements`` (with the item), ``occurrences``, ``share`` (of
    statements) with Wilson ``share_lo``/``share_hi``, ``per_10k`` (occurrences per 10,000
    tokens) with exact Poisson ``per_10k_lo``/``per_10k_hi``, ``peak`` (the group's highest
    ``per_10k``; ties: earliest), ``burst`` (see :func:`analysis.stats.stat_bursts`).
    ``.extra['changes']``: change points (:func:`analysis.stats.stat_changepoints`);
    ``.extra['lifecycle']``: see :func:`stat_lifecycle`.
    """
    if by not in PERIODS:
        raise FormulaeError(f"--by {by!r} is not one of {', '.join(PERIODS)}")
    view = _view(corpus, store)
    from .tokens import default_level

    level = level or default_level(view.language)
    occ = item_occurrences(view, item, level=level, families=families)
    st = view.statements.join(view.doc_tokens(level), on="doc", how="left")
    notes = []
    if where:
        before = st.height
        st = st.filter(filter_parse(where))
        notes.append(f"{before - st.height} statements excluded by --where {where!r}")
    undated = st.filter(pl.col("date").is_null()).height
    if undated:
        notes.append(f"{undated} undated statements excluded")
    st = st.filter(pl.col("date").is_not_null())
    coarse = st.select(pl.col("date_precision").replace_strict(_PRECISION_RANK, default=9).max()).item()
    if coarse is not None and _PRECISION_RANK[by] < coarse:
        raise FormulaeError(f"--by {by} is finer than the corpus's date precision; use "
                            f"{[k for k, v in _PRECISION_RANK.items() if v >= coarse][0]} or coarser")
    keys = ([group] if group else []) + ["period"]
    st = st.with_columns(_period_expr(by))
    per_doc = occ.group_by("doc").agg(pl.len().alias("occ"))
    st = st.join(per_doc, on="doc", how="left").with_columns(pl.col("occ").fill_null(0))
    frame = (st.group_by(keys).agg(
        pl.len().cast(pl.UInt32).alias("statements_total"),
        pl.col("tokens").sum().cast(pl.UInt64).alias("tokens_total"),
        (pl.col("occ") > 0).sum().cast(pl.UInt32).alias("statements"),
        pl.col("occ").sum().cast(pl.UInt32).alias("occurrences"),
    ).sort(keys))
    frame = frame.select(*keys, period_label_expr(by).alias("label"), pl.exclude(keys))
    lo, hi = stats.wilson_expr("statements", "statements_total", level=level_conf)
    frame = frame.with_columns((pl.col("statements") / pl.col("statements_total")).alias("share"),
                               lo.alias("share_lo"), hi.alias("share_hi"))
    frame = stats.stat_poisson_interval(frame, count="occurrences", level=level_conf, lo="_plo", hi="_phi")
    per = 1e4 / pl.col("tokens_total").cast(pl.Float64)
    frame = frame.with_columns((pl.col("occurrences") * per).alias("per_10k"),
                               (pl.col("_plo") * per).alias("per_10k_lo"),
                               (pl.col("_phi") * per).alias("per_10k_hi")).drop("_plo", "_phi")
    gk = [group] if group else []

    def over(e: pl.Expr) -> pl.Expr:
        return e.over(gk) if gk else e

    is_max = (pl.col("per_10k") == over(pl.col("per_10k").max())) & (pl.col("occurrences") > 0)
    frame = frame.with_columns(is_max.alias("peak")).with_columns(
        (pl.col("peak") & (over(pl.col("peak").cast(pl.UInt32).cum_sum()) == 1)).alias("peak"))
    series = gk or ["_all"]
    tmp = frame if gk else frame.with_columns(pl.lit("all").alias("_all"))
    tmp = tmp.rename({"occurrences": "count", "tokens_total": "exposure"})
    bursts = stats.stat_bursts(tmp, series=series, period="period")
    frame = frame.with_columns(bursts["burst"])
    changes = stats.stat_changepoints(tmp, series=series, period="period")
    if not gk:
        changes = changes.drop("_all")
    life = stat_lifecycle(view, occ.join(st.select("doc"), on="doc", how="semi"), item=item,
                          group=group, by=by, timeline=frame, changes=changes)
    params = {"corpus": view.name, "item": item, "by": by, "group": group, "where": where,
              "level": level, "confidence": level_conf, "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes, {"changes": changes, "lifecycle": life})


def stat_lifecycle(view, occ: pl.DataFrame, *, item: str, group: str | None, by: str,
                   timeline: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """First/last attestation, totals, peak period and change periods of one item.

    Columns: ``item``, [group], ``first_date``, ``first_id``, ``last_date``, ``last_id``,
    ``statements``, ``occurrences``, ``peak_period``, ``peak_per_10k``, ``changes`` (list of
    period starts where a new regime begins).
    """
    gk = [group] if group else []
    docs = (occ.group_by("doc").agg(pl.len().alias("occ"))
            .join(view.statements.select("doc", "id", "date", *gk), on="doc")
            .filter(pl.col("date").is_not_null()).sort("date", "id"))
    agg = [pl.col("date").first().alias("first_date"), pl.col("id").first().alias("first_id"),
           pl.col("date").last().alias("last_date"), pl.col("id").last().alias("last_id"),
           pl.len().cast(pl.UInt32).alias("statements"), pl.col("occ").sum().cast(pl.UInt32).alias("occurrences")]
    out = docs.group_by(gk, maintain_order=True).agg(agg) if gk else docs.select(agg)
    peak = timeline.filter(pl.col("peak")).select(*gk, pl.col("period").alias("peak_period"),
                                                  pl.col("per_10k").alias("peak_per_10k"))
    ch = (changes.group_by(gk).agg(pl.col("period").sort().alias("changes")) if gk
          else pl.DataFrame({"changes": [changes["period"].sort().to_list()]},
                            schema={"changes": pl.List(changes.schema["period"])}))
    if gk:
        out = out.join(peak, on=gk, how="left").join(ch, on=gk, how="left")
    else:
        out = pl.concat([out, peak.head(1), ch], how="horizontal") if out.height else out
    return out.with_columns(pl.lit(item).alias("item")).select("item", pl.exclude("item")).sort(gk or "item")


# ----------------------------------------------------------------------- compare


def _items_per_doc(view, *, level: str, lexicon: bool, families) -> pl.DataFrame:
    """(kind, item, label, doc, occurrences) for lexicon formulae and families."""
    from .formulae import formulae_counts, formulae_find, lexicon_load

    parts = []
    schema = {"kind": pl.String, "item": pl.String, "label": pl.String, "doc": pl.UInt32,
              "occurrences": pl.UInt32}
    if lexicon:
        lex = lexicon_load().for_language(view.language)
        labels = pl.DataFrame({"formula": [f.id for f in lex.formulae],
                               "label": [f.label for f in lex.formulae]})
        occ = formulae_find(view, lexicon=lex, level=level)
        parts.append(formulae_counts(occ).join(labels, on="formula", how="left").select(
            pl.lit("formula").alias("kind"), pl.col("formula").alias("item"), "label", "doc", "occurrences"))
    if families is not None:
        fo = families.occurrences.group_by("family", "doc").agg(pl.len().alias("occurrences"))
        parts.append(fo.join(families.frame.select("family", "canonical"), on="family").select(
            pl.lit("family").alias("kind"), pl.col("family").alias("item"),
            pl.col("canonical").alias("label"), "doc", "occurrences"))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.cast(schema) for p in parts])


def _occurrence_docs(view, level: str, rows: pl.DataFrame):
    """For maximal-phrase rows (sa_lo, freq): (row number, doc) of every occurrence (numpy)."""
    import numpy as np

    ix = view.index(level)
    lo = rows["sa_lo"].to_numpy().astype(np.int64)
    fr = rows["freq"].to_numpy().astype(np.int64)
    rank, row = suffix.expand_runs(lo, fr)
    doc_of_token = view.stream(level)[0]["doc"].to_numpy()
    return row, doc_of_token[np.asarray(ix.array("sa")[rank], np.int64)].astype(np.int64)


def _content_ids(view, level: str):
    """Boolean per vocabulary id of the level: a content form (not a stopword, >= 2 letters)."""
    from .arabic import stopwords

    vocab = view.stream(level)[1].sort("fid")["form"]
    stop = pl.Series(sorted(stopwords(view.language)), dtype=pl.String).implode()
    return ((vocab.str.count_matches(r"\p{L}") >= 2) & ~vocab.is_in(stop)).fill_null(False).to_numpy()


def _phrase_counts(view, level: str, in_a, in_b, min_statements: int, notes: list[str]) -> pl.DataFrame:
    """Maximal recurring phrases with a content word: occurrences / statements in A and in B."""
    import numpy as np

    ix = view.index(level)
    rows = (ix.table("maximal").filter(pl.col("distinct_statements") >= min_statements)
            .select("sa_lo", "freq", "pos", "n").collect())
    ids = np.asarray(ix.array("ids"))
    content = _content_ids(view, level)
    pos, n = rows["pos"].to_numpy().astype(np.int64), rows["n"].to_numpy().astype(np.int64)
    ptok, prow = suffix.expand_runs(pos, n)
    has_content = np.bincount(prow, weights=content[ids[ptok]], minlength=len(pos)) > 0
    notes.append(f"{rows.height} maximal recurring phrases in >= {min_statements} statements; "
                 f"{int((~has_content).sum())} of them made of stopwords only, left out")
    rows = rows.filter(pl.Series(has_content))
    n_docs = view.statements.height
    mask_a = np.zeros(n_docs, bool)
    mask_a[in_a] = True
    mask_b = np.zeros(n_docs, bool)
    mask_b[in_b] = True
    counts = np.zeros((4, rows.height))
    # in chunks of about 8 M occurrences, so memory stays bounded on large corpora
    cum = np.cumsum(rows["freq"].to_numpy().astype(np.int64))
    bounds = np.searchsorted(cum, np.arange(0, int(cum[-1]) if len(cum) else 0, 8_000_000), side="right")
    edges = sorted({0, *bounds.tolist(), rows.height})
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        row, doc = _occurrence_docs(view, level, rows.slice(lo, hi - lo))
        keep = mask_a[doc] | mask_b[doc]
        row, doc = row[keep], doc[keep]
        pairs = pl.DataFrame({"r": row.astype(np.uint32), "doc": doc.astype(np.uint32)}).unique()
        pr, pd_ = pairs["r"].to_numpy().astype(np.int64), pairs["doc"].to_numpy().astype(np.int64)
        m = hi - lo
        counts[0, lo:hi] = np.bincount(row, weights=mask_a[doc], minlength=m)
        counts[1, lo:hi] = np.bincount(pr, weights=mask_a[pd_], minlength=m)
        counts[2, lo:hi] = np.bincount(row, weights=mask_b[doc], minlength=m)
        counts[3, lo:hi] = np.bincount(pr, weights=mask_b[pd_], minlength=m)
    a_occ, a_st, b_occ, b_st = counts
    names = ix.phrases(rows)
    return pl.DataFrame({"kind": "phrase", "item": names, "label": names,
                         "a_occ": a_occ, "a_st": a_st, "b_occ": b_occ, "b_st": b_st})


def stat_compare(corpus, a: str, b: str, *, store=None, level: str | None = None,
                 lexicon: bool = True, families=None, phrases: bool = True,
                 phrase_min_statements: int = 5, bonferroni: bool = False,
                 min_count: int = 1) -> Result:
    """Compare statement sets A and B (filters, see module docstring) item by item.

    Columns: ``kind`` (formula / family / phrase), ``item``, ``label``, ``a_occ``, ``b_occ``
    (occurrences), ``a_st``, ``b_st`` (statements), ``a_per_10k``, ``b_per_10k``; token
    keyness ``g2`` (Rayson), ``p``, ``sig``, ``log_ratio`` (A relative to B; zero counts
    smoothed to 0.5); statement keyness ``df_g2`` (full 2×2 table), ``df_p``, ``df_sig``,
    ``df_log_ratio``; ``status``: ``appeared in B`` (0 in A, ≥ ``min_count`` in B),
    ``vanished in B`` (the reverse) or ``both``. Sorted by g2 desc, item.
    With ``bonferroni`` the ``sig`` labels use α/m, m = number of items compared.
    ``.params`` records the sizes (tokens, statements) of A and B.
    """
    from .tokens import default_level

    view = _view(corpus, store)
    level = level or default_level(view.language)
    st = view.statements.join(view.doc_tokens(level), on="doc", how="left")
    fa, fb = filter_parse(a), filter_parse(b)
    sa, sb = st.filter(fa), st.filter(fb)
    if sa.height == 0 or sb.height == 0:
        raise FormulaeError(f"compare: {'A' if sa.height == 0 else 'B'} has no statements "
                            f"(A={a!r}: {sa.height}, B={b!r}: {sb.height})")
    overlap = sa.join(sb, on="doc", how="semi").height
    notes = [] if not overlap else [f"{overlap} statements are in both A and B"]
    ta, tb = int(sa["tokens"].sum()), int(sb["tokens"].sum())
    items = _items_per_doc(view, level=level, lexicon=lexicon, families=families)
    in_a = items.join(sa.select("doc"), on="doc", how="semi").group_by("kind", "item", "label").agg(
        pl.col("occurrences").sum().alias("a_occ"), pl.len().alias("a_st"))
    in_b = items.join(sb.select("doc"), on="doc", how="semi").group_by("kind", "item", "label").agg(
        pl.col("occurrences").sum().alias("b_occ"), pl.len().alias("b_st"))
    frame = in_a.join(in_b, on=["kind", "item", "label"], how="full", coalesce=True)
    cols = ["kind", "item", "label", "a_occ", "a_st", "b_occ", "b_st"]
    frame = frame.select(cols)
    if phrases:
        ph = _phrase_counts(view, level, sa["doc"].to_numpy(), sb["doc"].to_numpy(),
                            max(2, phrase_min_statements), notes)
        frame = pl.concat([frame.cast({c: pl.Float64 for c in cols[3:]}), ph.select(cols)])
    frame = (frame.with_columns(pl.col("a_occ", "b_occ", "a_st", "b_st").fill_null(0).cast(pl.UInt32))
             .filter((pl.col("a_occ") + pl.col("b_occ")) >= min_count))
    m = frame.height if bonferroni else None
    frame = frame.with_columns((pl.col("a_occ") * 1e4 / ta).alias("a_per_10k"),
                               (pl.col("b_occ") * 1e4 / tb).alias("b_per_10k"))
    frame = stats.stat_keyness(frame, a="a_occ", b="b_occ", size_a=ta, size_b=tb, m=m)
    frame = stats.stat_keyness(frame, a="a_st", b="b_st", size_a=sa.height, size_b=sb.height,
                               prefix="df_", cells=4, m=m)
    frame = frame.with_columns(
        pl.when((pl.col("a_occ") == 0) & (pl.col("b_occ") >= min_count)).then(pl.lit("appeared in B"))
        .when((pl.col("b_occ") == 0) & (pl.col("a_occ") >= min_count)).then(pl.lit("vanished in B"))
        .otherwise(pl.lit("both")).alias("status")
    ).sort(["g2", "kind", "item"], descending=[True, False, False])
    params = {"corpus": view.name, "a": a, "b": b, "level": level, "a_statements": sa.height,
              "b_statements": sb.height, "a_tokens": ta, "b_tokens": tb, "bonferroni": bonferroni,
              "items": frame.height, "phrase_min_statements": phrase_min_statements,
              "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes)


# ----------------------------------------------------------------------- reuse


REUSE_MAX_DOCS = 200  # an item in more statements than this pairs none (k²/2 pairs of "common")


def stat_reuse(corpus, *, store=None, level: str | None = None, families=None,
               passage_min_len: int = 8, max_docs: int = REUSE_MAX_DOCS, where: str | None = None) -> Result:
    """Which statements share which formulae, families or long passages.

    One row per pair of statements sharing at least one item: ``doc_a`` < ``doc_b``,
    ``id_a``, ``id_b``, ``date_a``, ``date_b``, ``source_a``, ``source_b``, ``shared``
    (number of shared items), ``formulae``, ``families`` (sorted lists of ids),
    ``passages`` (shared maximal phrases of at least ``passage_min_len`` tokens) and
    ``longest`` (tokens in the longest). Items in more than ``max_docs`` statements are
    not used to pair (they would link everything; counted in the notes). The frame is
    also the edge list of a statement network (``doc_a``–``doc_b``, weight ``shared``).
    """
    import numpy as np

    from .tokens import default_level

    view = _view(corpus, store)
    level = level or default_level(view.language)
    notes: list[str] = []
    items = _items_per_doc(view, level=level, lexicon=True, families=families).select("kind", "item", "doc")
    ix = view.index(level)
    mx = ix.table("maximal").filter(pl.col("n") >= passage_min_len).select("sa_lo", "freq", "n").collect()
    if mx.height:
        row, doc = _occurrence_docs(view, level, mx)
        items = pl.concat([items, pl.DataFrame({
            "kind": "passage", "item": pl.Series(row.astype(np.int64)).cast(pl.String),
            "doc": doc.astype(np.uint32)}).unique()])
        lens = pl.DataFrame({"item": pl.Series(np.arange(mx.height)).cast(pl.String),
                             "n": mx["n"].to_numpy().astype(np.int64)})
    else:
        lens = pl.DataFrame({"item": [], "n": []}, schema={"item": pl.String, "n": pl.Int64})
    items = items.unique()
    if where:
        items = items.join(view.statements.filter(filter_parse(where)).select("doc"), on="doc", how="semi")
    width = items.group_by("kind", "item").agg(pl.len().alias("k"))
    wide = width.filter(pl.col("k") > max_docs)
    if wide.height:
        notes.append(f"{wide.height} items in more than {max_docs} statements not used for pairing")
    items = items.join(wide, on=["kind", "item"], how="anti")
    pairs = (items.join(items.rename({"doc": "doc_b"}), on=["kind", "item"])
             .filter(pl.col("doc") < pl.col("doc_b")).rename({"doc": "doc_a"})
             .join(lens, on="item", how="left"))
    agg = pairs.group_by("doc_a", "doc_b").agg(
        pl.len().cast(pl.UInt32).alias("shared"),
        pl.col("item").filter(pl.col("kind") == "formula").sort().alias("formulae"),
        pl.col("item").filter(pl.col("kind") == "family").sort().alias("families"),
        (pl.col("kind") == "passage").sum().cast(pl.UInt32).alias("passages"),
        pl.col("n").filter(pl.col("kind") == "passage").max().fill_null(0).cast(pl.UInt32).alias("longest"),
    )
    meta = view.statements.select("doc", "id", "date", "source")
    frame = (agg.join(meta.rename({c: f"{c}_a" for c in meta.columns}), on="doc_a")
             .join(meta.rename({c: f"{c}_b" for c in meta.columns}), on="doc_b")
             .select("doc_a", "doc_b", "id_a", "id_b", "date_a", "date_b", "source_a", "source_b",
                     "shared", "formulae", "families", "passages", "longest")
             .sort(["shared", "doc_a", "doc_b"], descending=[True, False, False]))
    params = {"corpus": view.name, "level": level, "passage_min_len": passage_min_len,
              "max_docs": max_docs, "where": where, "snapshot_sha256": view.snapshot_sha256}
    return Result(frame, params, notes)
