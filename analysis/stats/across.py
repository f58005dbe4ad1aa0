"""Formulae across corpora: one lexicon formula as the unit of comparison between
corpora (and languages).

A lexicon formula carries patterns per language (``corpus/formulae.yml``); each corpus
is matched with the patterns of its own language at its own default level (or the
``level`` given, which every corpus must have). Rates are comparable across languages
as **shares of statements** (``share``: statements using the formula / all statements);
``per_10k`` is per 10,000 tokens of that corpus, and a Chinese token is a character, so
per-token rates of a Chinese and an English corpus are not on one scale (the notes say
so).

- :func:`stat_timeline_across`: the formula per period in each corpus (one frame, a
  ``corpus`` column), for one chart;
- :func:`stat_compare_across`: every lexicon formula in corpus A vs corpus B (or two
  filters of one corpus): shared formulae and each side's own, with G² and Log Ratio on
  statement counts.
"""

from __future__ import annotations

import polars as pl

from .. import measures as stats
from ..errors import FormulaeError
from ..formulae.lexicon import lexicon_load
from ..formulae.match import formulae_counts, formulae_find
from ..ingest.where import filter_parse
from ..result import Result
from ..vocab import CHARACTER_LANGUAGES, check_level, default_level
from .items import view_of
from .timeline import stat_timeline

TIMELINE_COLUMNS = ("corpus", "language", "level", "period", "label", "statements_total",
                    "tokens_total", "statements", "occurrences", "share", "share_lo", "share_hi",
                    "per_10k", "per_10k_lo", "per_10k_hi")


def _level(view, level: str | None) -> str:
    return check_level(level, view.language) if level else default_level(view.language)


def _unit_note(views) -> list[str]:
    langs = sorted({v.language for v in views})
    if len(langs) > 1 and any(lang in CHARACTER_LANGUAGES for lang in langs):
        return [f"languages {', '.join(langs)}: a token of {', '.join(sorted(set(langs) & set(CHARACTER_LANGUAGES)))} "
                "is a character, so per_10k is not on one scale across them; compare share (of statements)"]
    return []


def _formula(item: str, views) -> None:
    """A formula id must have patterns in every corpus's language (a phrase is taken as it is)."""
    lex = lexicon_load()
    found = [f for f in lex.formulae if f.id == item]
    if not found:
        return
    have = found[0].languages
    for v in views:
        if v.language not in have:
            raise FormulaeError(f"formula {item!r} has no pattern in {v.language!r} (corpus {v.name!r}); "
                                f"it has {', '.join(have)}", file=lex.path)


def stat_timeline_across(corpora: list[str], item: str, *, store=None, by: str = "year",
                         level: str | None = None, where: str | None = None) -> Result:
    """One lexicon formula (or phrase) per period in each of several corpora.

    Columns :data:`TIMELINE_COLUMNS` (see :func:`analysis.stats.timeline.stat_timeline`),
    rows by corpus in the order given, then period. ``where`` applies to every corpus.
    """
    if not corpora:
        raise FormulaeError("--corpus: give at least one corpus")
    dup = sorted({c for c in corpora if corpora.count(c) > 1})
    if dup:
        raise FormulaeError(f"--corpus {dup[0]!r} is given twice")
    views = [view_of(c, store) for c in corpora]
    _formula(item, views)
    frames, notes = [], _unit_note(views)
    for k, view in enumerate(views):
        lv = _level(view, level)
        try:
            res = stat_timeline(view, item, store=store, by=by, group=None, where=where, level=lv)
        except FormulaeError as exc:
            raise FormulaeError(f"corpus {view.name!r}: {exc}") from None
        notes += [f"{view.name}: {n}" for n in res.notes]
        frames.append(res.frame.with_columns(
            pl.lit(k, pl.UInt32).alias("_k"), pl.lit(view.name).alias("corpus"),
            pl.lit(view.language).alias("language"), pl.lit(lv).alias("level")))
    frame = pl.concat([f.select("_k", *TIMELINE_COLUMNS) for f in frames], how="vertical_relaxed")
    frame = frame.sort("_k", "period").drop("_k")
    params = {"corpora": list(corpora), "item": item, "by": by, "level": level, "where": where,
              "snapshot_sha256": {v.name: v.snapshot_sha256 for v in views}}
    return Result(frame, params, notes)


def _side(view, level: str, where: str | None) -> tuple[pl.DataFrame, int, int, list[str]]:
    """Per formula (statements, occurrences) in the view's statements kept by ``where``;
    total statements and tokens of those statements."""
    st = view.statements.join(view.doc_tokens(level), on="doc", how="left")
    notes = []
    if where:
        before = st.height
        st = st.filter(filter_parse(where))
        notes.append(f"{view.name}: {before - st.height} statements excluded by {where!r}")
    lex = lexicon_load().for_language(view.language)
    if lex.formulae:
        occ = formulae_counts(formulae_find(view, lexicon=lex, level=level, verbatim=False)).join(
            st.select("doc"), on="doc", how="semi")
    else:
        occ = pl.DataFrame(schema={"formula": pl.String, "doc": pl.UInt32, "occurrences": pl.UInt32})
    per = occ.group_by("formula").agg(pl.len().cast(pl.Int64).alias("statements"),
                                      pl.col("occurrences").sum().cast(pl.Int64).alias("occurrences"))
    have = pl.DataFrame({"formula": [f.id for f in lex.formulae]}, schema={"formula": pl.String})
    per = have.join(per, on="formula", how="left").fill_null(0)
    return per, st.height, int(st["tokens"].sum() or 0), notes


def stat_compare_across(corpus_a: str, corpus_b: str, *, store=None, where_a: str | None = None,
                        where_b: str | None = None, level: str | None = None) -> Result:
    """Every lexicon formula in A vs B, A and B two corpora (any languages) or two
    filters of one corpus (``where_a``/``where_b``, e.g. ``source=赵立坚``).

    Columns: ``formula``, ``label``, ``side`` (``both``: used on both sides; ``a`` / ``b``:
    only there; ``a (no b pattern)``: the lexicon has no wording in B's language, so B
    cannot use it), ``a_statements``, ``a_share``, ``a_per_10k``, the same for ``b``,
    ``log_ratio`` (log2 of A's share over B's, 0.5 smoothing) and ``g2``/``p`` on statement
    counts (statements with the formula out of all statements). Rows: ``both`` first,
    then by G² (desc), then formula id. Formulae neither side uses are left out (counted
    in the notes).
    """
    va, vb = view_of(corpus_a, store), view_of(corpus_b, store)
    la, lb = _level(va, level), _level(vb, level)
    a, na, ta, notes_a = _side(va, la, where_a)
    b, nb, tb, notes_b = _side(vb, lb, where_b)
    for name, n in (("A", na), ("B", nb)):
        if n == 0:
            raise FormulaeError(f"side {name} has no statements")
    lex = lexicon_load()
    labels = pl.DataFrame({"formula": [f.id for f in lex.formulae], "label": [f.label for f in lex.formulae]})
    frame = (a.rename({"statements": "a_statements", "occurrences": "a_occ"}).with_columns(pl.lit(True).alias("_pa"))
             .join(b.rename({"statements": "b_statements", "occurrences": "b_occ"}).with_columns(pl.lit(True).alias("_pb")),
                   on="formula", how="full", coalesce=True)
             .with_columns(pl.col("^[ab]_.*$").fill_null(0), pl.col("_pa", "_pb").fill_null(False)))
    used_a, used_b = pl.col("a_statements") > 0, pl.col("b_statements") > 0
    side = (pl.when(used_a & used_b).then(pl.lit("both"))
            .when(used_a).then(pl.when(pl.col("_pb")).then(pl.lit("a")).otherwise(pl.lit("a (no b pattern)")))
            .when(used_b).then(pl.when(pl.col("_pa")).then(pl.lit("b")).otherwise(pl.lit("b (no a pattern)")))
            .otherwise(pl.lit(None)))
    frame = frame.with_columns(side.alias("side"))
    unused = frame.filter(pl.col("side").is_null()).height
    g2 = stats.g2_expr("a_statements", "b_statements", na, nb, cells=4)
    frame = (frame.filter(pl.col("side").is_not_null()).join(labels, on="formula", how="left")
             .with_columns((pl.col("a_statements") / na).alias("a_share"), (pl.col("b_statements") / nb).alias("b_share"),
                           _per_10k("a_occ", ta).alias("a_per_10k"), _per_10k("b_occ", tb).alias("b_per_10k"),
                           stats.log_ratio_expr("a_statements", "b_statements", na, nb).alias("log_ratio"),
                           g2.alias("g2"))
             .with_columns(stats.g2_p_expr("g2").alias("p"))
             .with_columns((pl.col("side") != "both").alias("_o"))
             .sort(["_o", "g2", "formula"], descending=[False, True, False])
             .select("formula", "label", "side", "a_statements", "a_share", "a_per_10k",
                     "b_statements", "b_share", "b_per_10k", "log_ratio", "g2", "p"))
    notes = [*notes_a, *notes_b, f"A = {va.name}{f' [{where_a}]' if where_a else ''}: {na} statements, level {la}; "
             f"B = {vb.name}{f' [{where_b}]' if where_b else ''}: {nb} statements, level {lb}",
             f"{unused} lexicon formulae used on neither side, left out", *_unit_note([va, vb]),
             *[f"{side} has no token at its level: no rate per 10k" for side, t in (("A", ta), ("B", tb)) if not t]]
    params = {"a": va.name, "b": vb.name, "where_a": where_a, "where_b": where_b, "level": level,
              "a_statements": na, "b_statements": nb, "a_tokens": ta, "b_tokens": tb,
              "snapshot_sha256": {va.name: va.snapshot_sha256, vb.name: vb.snapshot_sha256}}
    return Result(frame, params, notes)


def _per_10k(occ: str, tokens: int) -> pl.Expr:
    """Occurrences per 10,000 of a side's ``tokens``; null where the side has none (no rate)."""
    return pl.col(occ) * 1e4 / tokens if tokens else pl.lit(None, pl.Float64)
